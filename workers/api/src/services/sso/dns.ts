import { z } from "zod";
import { config, type Env } from "../../env";

const DohAnswerSchema = z.object({
  Status: z.number(),
  Answer: z.array(z.object({ type: z.number(), data: z.string() })).optional(),
});

const TXT = 16;

/**
 * The resolver seam: TXT records over DNS-over-HTTPS (the JSON API), at SSO_DNS_RESOLVER
 * (Cloudflare's in production; tests answer it with a stand-in). An unreachable resolver reads as
 * "no record", so verification simply stays pending.
 */
export async function resolveTxt(env: Env, name: string): Promise<string[]> {
  const url = new URL(config(env).SSO_DNS_RESOLVER);
  url.searchParams.set("name", name);
  url.searchParams.set("type", "TXT");
  const res = await fetch(url, { headers: { accept: "application/dns-json" } }).catch(() => null);
  if (!res?.ok) {
    await res?.body?.cancel();
    return [];
  }
  const parsed = DohAnswerSchema.safeParse(await res.json().catch(() => null));
  if (!parsed.success || parsed.data.Status !== 0) return [];
  // TXT data comes quoted, long records split in quoted chunks: join them back.
  return (parsed.data.Answer ?? [])
    .filter((a) => a.type === TXT)
    .map((a) => a.data.replace(/^"|"$/g, "").replace(/"\s*"/g, ""));
}
