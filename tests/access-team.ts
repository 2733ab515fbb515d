// A stand-in Cloudflare Access team for the vitest configs' `outboundService` (in Node): it serves
// the team's signing keys at `/cdn-cgi/access/certs` as Access does, and signs Access JWTs for
// tests through its control path `POST /_access/sign` `{ claims, key }`, with the team's key or
// with a key the team never published (`key: "other"`). The admin worker verifies them with jose
// against the served keys, exactly as in production.
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";

export const ACCESS_TEAM_HOST = "tenantry-test.cloudflareaccess.com";
export const ACCESS_TEAM_DOMAIN = `https://${ACCESS_TEAM_HOST}`;
export const ACCESS_AUD = "tenantry-admin-test-aud";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export async function createAccessTeam() {
  const team = await generateKeyPair("RS256", { extractable: true });
  const other = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = {
    ...(await exportJWK(team.publicKey)),
    kid: "team-1",
    alg: "RS256",
    use: "sig",
  };
  return {
    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      if (url.pathname === "/cdn-cgi/access/certs") return json({ keys: [publicJwk] });
      if (url.pathname === "/_access/sign" && request.method === "POST") {
        const { claims, key } = (await request.json()) as { claims: JWTPayload; key?: "other" };
        const jwt = await new SignJWT(claims)
          .setProtectedHeader({ alg: "RS256", kid: "team-1" })
          .sign(key === "other" ? other.privateKey : team.privateKey);
        return json({ jwt });
      }
      return json({ error: "not_found" }, 404);
    },
  };
}

/** Wraps a worker's `outboundService`: requests to the Access team go to the stand-in. */
export async function withAccessTeam(next: (request: Request) => Promise<Response>) {
  const team = await createAccessTeam();
  return async (request: Request): Promise<Response> =>
    new URL(request.url).hostname === ACCESS_TEAM_HOST ? team.fetch(request) : next(request);
}
