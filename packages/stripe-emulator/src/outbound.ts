import type { StripeEmulator } from "./emulator.js";

/**
 * An `outboundService` for workers under test (vitest-plugin / Miniflare): requests to
 * api.stripe.com are answered by `emulator`, running in the test's Node process;
 * `stripe-down.invalid` plays an outage (503); any other host is refused (599), since tests make
 * no other requests.
 */
export function emulatorOutbound(emulator: StripeEmulator) {
  return async (request: Request): Promise<Response> => {
    const { hostname } = new URL(request.url);
    if (hostname === "api.stripe.com") {
      // Re-wrapped on both sides: Miniflare's request and response classes are not Node's.
      const body = request.method === "GET" ? undefined : await request.text();
      const res = await emulator.fetch(
        new Request(request.url, { method: request.method, headers: request.headers, body }),
      );
      return new Response(await res.text(), { status: res.status, headers: res.headers });
    }
    if (hostname === "stripe-down.invalid") {
      return new Response("upstream unavailable", { status: 503 });
    }
    return new Response(`tests make no requests to ${hostname}`, { status: 599 });
  };
}
