import { z } from "zod";
import { config, type Env } from "../../env";
import { ServiceUnavailableError } from "../../errors";

const DohAnswerSchema = z.object({
  Status: z.number(),
  Answer: z.array(z.object({ type: z.number(), data: z.string() })).optional(),
});

const TXT = 16;

/** DNS response codes the answer can be trusted for: NOERROR, and NXDOMAIN (no such name). */
const ANSWERED = [0, 3];

/**
 * The resolver seam: TXT records over DNS-over-HTTPS (the JSON API), at SSO_DNS_RESOLVER
 * (Cloudflare's in production; tests answer it with a stand-in). No record is an empty list;
 * a resolver that cannot be reached or answers SERVFAIL is a 503, so an owner is never told
 * their record is missing when it could not be looked up.
 */
export async function resolveTxt(env: Env, name: string): Promise<string[]> {
  const url = new URL(config(env).SSO_DNS_RESOLVER);
  url.searchParams.set("name", name);
  url.searchParams.set("type", "TXT");
  const unavailable = new ServiceUnavailableError(
    "dns_unavailable",
    "The DNS resolver could not be asked for the verification record. Retry in a minute.",
    30,
  );
  const res = await fetch(url, { headers: { accept: "application/dns-json" } }).catch(() => null);
  if (!res?.ok) {
    await res?.body?.cancel();
    throw unavailable;
  }
  const parsed = DohAnswerSchema.safeParse(await res.json().catch(() => null));
  if (!parsed.success || !ANSWERED.includes(parsed.data.Status)) throw unavailable;
  // TXT data comes quoted, long records split in quoted chunks: join them back.
  return (parsed.data.Answer ?? [])
    .filter((a) => a.type === TXT)
    .map((a) => a.data.replace(/^"|"$/g, "").replace(/"\s*"/g, ""));
}
