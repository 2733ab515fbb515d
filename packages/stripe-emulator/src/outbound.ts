import type { StripeEmulator } from "./emulator.js";
import { seededRandom } from "./random.js";

export interface OutboundOptions {
  /**
   * Share (0–1) of meter event requests that fail with a 500: half before the emulator sees
   * them, half after it stored the event (the answer is lost), as a flaky network would.
   */
  meterEventFailureRate?: number;
  seed?: number;
}

/**
 * An `outboundService` for workers under test (vitest-plugin / Miniflare): requests to
 * api.stripe.com are answered by `emulator`, running in the test's Node process;
 * `stripe-down.invalid` plays an outage (503); any other host is refused (599), since tests make
 * no other requests.
 */
export function emulatorOutbound(emulator: StripeEmulator, options: OutboundOptions = {}) {
  const random = seededRandom(options.seed ?? 1);
  const failed = () =>
    new Response(
      JSON.stringify({ error: { type: "api_error", message: "Injected failure (tests)" } }),
      { status: 500, headers: { "content-type": "application/json" } },
    );
  return async (request: Request): Promise<Response> => {
    const { hostname, pathname } = new URL(request.url);
    if (hostname === "api.stripe.com") {
      const roll =
        pathname === "/v1/billing/meter_events" && request.method === "POST" ? random() : 1;
      const rate = options.meterEventFailureRate ?? 0;
      if (roll < rate / 2) return failed();
      // Re-wrapped on both sides: Miniflare's request and response classes are not Node's.
      const body = request.method === "GET" ? undefined : await request.text();
      const res = await emulator.fetch(
        new Request(request.url, { method: request.method, headers: request.headers, body }),
      );
      const text = await res.text();
      if (roll < rate) return failed();
      return new Response(text, { status: res.status, headers: res.headers });
    }
    if (hostname === "stripe-down.invalid") {
      return new Response("upstream unavailable", { status: 503 });
    }
    return new Response(`tests make no requests to ${hostname}`, { status: 599 });
  };
}
