// A recording stand-in for the mail provider's HTTP API (Resend, ADR 006), for the vitest configs'
// `outboundService` (in Node). It keeps every request as it arrived, answers as Resend documents
// (`POST /emails` → 200 `{ id }`, the same answer again for a repeated `Idempotency-Key`, 401 and
// 422 for a missing key or a malformed mail), and can be told to fail a recipient's next requests.
// Tests reach it from workerd through its control paths under `/_recorder/`.

export const MAIL_API_HOST = "api.resend.com";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

interface Script {
  /** Statuses to answer, in order, before the recipient's requests succeed again. */
  statuses: number[];
  /** Answer this status to every request for the recipient, forever. */
  always?: number;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function recipients(body: unknown): string[] {
  const to = (body as { to?: unknown } | null)?.to;
  return (Array.isArray(to) ? to : [to]).filter((t): t is string => typeof t === "string");
}

/** What Resend would refuse with 422; null when the mail is well formed. */
function invalid(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return "the body is not a JSON object";
  const mail = body as Record<string, unknown>;
  if (typeof mail.from !== "string" || !mail.from) return "`from` is missing";
  if (recipients(mail).length === 0) return "`to` is missing";
  if (typeof mail.subject !== "string" || !mail.subject) return "`subject` is missing";
  if (typeof mail.text !== "string" && typeof mail.html !== "string") return "no `text` or `html`";
  return null;
}

export function createMailRecorder() {
  const requests: RecordedRequest[] = [];
  const scripts = new Map<string, Script>();
  /** Idempotency key → the id of the mail it sent (Resend replays the first answer). */
  const sent = new Map<string, string>();
  let nextId = 1;

  async function emails(request: Request, path: string): Promise<Response> {
    const text = await request.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    requests.push({
      method: request.method,
      path,
      headers: Object.fromEntries(request.headers),
      body,
    });
    if (request.method !== "POST") return json({ name: "method_not_allowed" }, 405);
    if (!/^Bearer re_\S+$/.test(request.headers.get("authorization") ?? "")) {
      return json({ name: "missing_api_key", message: "Missing API key" }, 401);
    }
    for (const to of recipients(body)) {
      const script = scripts.get(to);
      const status = script?.always ?? script?.statuses.shift();
      if (status) return json({ name: "injected_failure", message: `Injected ${status}` }, status);
    }
    const problem = invalid(body);
    if (problem || !request.headers.get("content-type")?.startsWith("application/json")) {
      return json({ name: "validation_error", message: problem ?? "not JSON" }, 422);
    }
    const key = request.headers.get("idempotency-key");
    const id = (key && sent.get(key)) ?? `re_msg_${nextId++}`;
    if (key) sent.set(key, id);
    return json({ id });
  }

  async function control(request: Request, url: URL): Promise<Response> {
    if (url.pathname === "/_recorder/requests") {
      const key = url.searchParams.get("idempotency_key");
      const to = url.searchParams.get("to");
      return json(
        requests.filter(
          (r) =>
            (!key || r.headers["idempotency-key"] === key) &&
            (!to || recipients(r.body).includes(to)),
        ),
      );
    }
    if (url.pathname === "/_recorder/fail" && request.method === "POST") {
      const { to, statuses = [], always } = (await request.json()) as Script & { to: string };
      scripts.set(to, { statuses, always });
      return json({ ok: true });
    }
    return json({ name: "not_found" }, 404);
  }

  return {
    /** Answers a request to the provider's host: the API itself, or the recorder's control paths. */
    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      if (url.pathname.startsWith("/_recorder/")) return control(request, url);
      if (url.pathname === "/emails") return emails(request, url.pathname);
      return json({ name: "not_found" }, 404);
    },
  };
}

/**
 * Wraps a worker's `outboundService`: requests to the mail provider go to a recorder, the rest to
 * `next` (the Stripe emulator).
 */
export function withMailRecorder(next: (request: Request) => Promise<Response>) {
  const recorder = createMailRecorder();
  return async (request: Request): Promise<Response> =>
    new URL(request.url).hostname === MAIL_API_HOST ? recorder.fetch(request) : next(request);
}
