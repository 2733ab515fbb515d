/**
 * The tenant app calls the API through a service binding on a person's behalf: the API's
 * per-client budgets must see that person's address, not one shared "unknown" client. Two
 * clients open invitation links that do not exist on the tenant's host: one spends its budget,
 * the other is still answered.
 */
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { API_PORT } from "./platform";
import { freshTenant } from "./tenant-session";

/** `LINK_TOKEN_LIMIT.max` (workers/api/src/services/throttle.ts). */
const PREVIEW_BUDGET = 30;

/** The status of the acceptance page for `token`, opened from `ip`. */
function acceptPage(slug: string, token: string, ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: API_PORT,
        path: `/accept-invitation?token=${token}`,
        headers: { host: `${slug}.localhost:${API_PORT}`, "cf-connecting-ip": ip },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("the tenant app forwards the browser's address to the API", () => {
  it("one client spending its invitation-link budget leaves another client's alone", async () => {
    const t = await freshTenant("ip");
    const a = "198.51.100.71";
    const b = "198.51.100.72";
    for (let i = 0; i < PREVIEW_BUDGET; i++) {
      expect(await acceptPage(t.slug, `guess-a-${i}`, a)).toBe(400);
    }
    expect(await acceptPage(t.slug, "guess-a-last", a)).toBe(429);
    expect(await acceptPage(t.slug, "guess-b", b)).toBe(400);
  });
});
