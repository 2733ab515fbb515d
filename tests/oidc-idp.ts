// A stand-in OpenID Provider and DNS-over-HTTPS resolver for the vitest configs' `outboundService`
// (in Node), for the workerd tests of SSO. The provider speaks the authorization code flow as a
// real one does (discovery, JWKS, PKCE S256 checked at the token endpoint, one-use codes,
// client_secret_basic), and lets a test bend the next ID token for one email through
// `POST /_idp/script` (wrong issuer, audience, nonce, expired, `alg: none`, a key it never
// published), so each refusal can be shown. The browser test runs the real `oidc-provider`.
// The resolver answers TXT queries from records tests publish with `POST /_dns/txt`.
import { createHash, randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { createSamlIdp, SAML_IDP_HOST } from "./saml-idp.js";

export const IDP_HOST = "idp.tenantry-test.example";
export const IDP_ISSUER = `https://${IDP_HOST}`;
export const IDP_CLIENT_SECRET = "idp-client-secret";
export const DOH_HOST = "cloudflare-dns.com";

export interface Tweaks {
  claims?: JWTPayload;
  alg?: "none";
  key?: "other";
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

interface Grant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string;
  email: string;
}

export async function createIdp() {
  const signing = await generateKeyPair("RS256", { extractable: true });
  const other = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(signing.publicKey)), kid: "idp-1", alg: "RS256", use: "sig" };
  const grants = new Map<string, Grant>();
  const scripts = new Map<string, Tweaks>();

  async function idToken(grant: Grant) {
    const tweaks = scripts.get(grant.email) ?? {};
    scripts.delete(grant.email);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: IDP_ISSUER,
      aud: grant.clientId,
      sub: `sub-${grant.email}`,
      email: grant.email,
      email_verified: true,
      nonce: grant.nonce,
      iat: now,
      exp: now + 300,
      ...tweaks.claims,
    };
    if (tweaks.alg === "none") {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
      return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
    }
    // A key it never published signs under a kid the JWKS does not list.
    const rogue = tweaks.key === "other";
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: rogue ? "idp-rogue" : "idp-1" })
      .sign(rogue ? other.privateKey : signing.privateKey);
  }

  async function token(request: Request) {
    const form = new URLSearchParams(await request.text());
    const [id, secret] = Buffer.from(
      (request.headers.get("authorization") ?? "").replace(/^Basic /, ""),
      "base64",
    )
      .toString()
      .split(":")
      .map(decodeURIComponent);
    const grant = grants.get(form.get("code") ?? "");
    grants.delete(form.get("code") ?? "");
    if (secret !== IDP_CLIENT_SECRET || !grant || grant.clientId !== id)
      return json({ error: "invalid_client" }, 401);
    const verifier = form.get("code_verifier") ?? "";
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    if (form.get("redirect_uri") !== grant.redirectUri || challenge !== grant.challenge)
      return json({ error: "invalid_grant" }, 400);
    return json({
      access_token: randomUUID(),
      token_type: "Bearer",
      id_token: await idToken(grant),
    });
  }

  return {
    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      switch (url.pathname) {
        case "/.well-known/openid-configuration":
          return json({
            issuer: IDP_ISSUER,
            authorization_endpoint: `${IDP_ISSUER}/authorize`,
            token_endpoint: `${IDP_ISSUER}/token`,
            jwks_uri: `${IDP_ISSUER}/jwks`,
          });
        case "/jwks":
          return json({ keys: [jwk] });
        case "/authorize": {
          // The user "signs in" as the login hint at once: a redirect back with a code.
          const q = url.searchParams;
          if (q.get("code_challenge_method") !== "S256") return json({ error: "pkce" }, 400);
          const code = randomUUID();
          grants.set(code, {
            clientId: q.get("client_id") ?? "",
            redirectUri: q.get("redirect_uri") ?? "",
            challenge: q.get("code_challenge") ?? "",
            nonce: q.get("nonce") ?? "",
            email: q.get("login_hint") ?? "",
          });
          const back = new URL(q.get("redirect_uri") ?? "");
          back.searchParams.set("code", code);
          back.searchParams.set("state", q.get("state") ?? "");
          return new Response(null, { status: 302, headers: { location: back.toString() } });
        }
        case "/token":
          return token(request);
        case "/_idp/script": {
          const { email, ...tweaks } = (await request.json()) as Tweaks & { email: string };
          scripts.set(email, tweaks);
          return json({ ok: true });
        }
        default:
          return json({ error: "not_found" }, 404);
      }
    },
  };
}

export function createDohResolver() {
  const records = new Map<string, string[]>();
  return {
    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      if (url.pathname === "/_dns/txt" && request.method === "POST") {
        const { name, values } = (await request.json()) as { name: string; values: string[] };
        records.set(name, values);
        return json({ ok: true });
      }
      const name = url.searchParams.get("name") ?? "";
      const values = records.get(name) ?? [];
      return json({
        Status: values.length ? 0 : 3,
        Answer: values.map((v) => ({ name, type: 16, TTL: 60, data: `"${v}"` })),
      });
    },
  };
}

/**
 * Wraps a worker's `outboundService`: the stand-in OpenID Provider, SAML IdP (tests/saml-idp.ts)
 * and resolver answer their hosts.
 */
export async function withIdentityStandIns(next: (request: Request) => Promise<Response>) {
  const idp = await createIdp();
  const saml = await createSamlIdp(`https://${SAML_IDP_HOST}`);
  const doh = createDohResolver();
  const hosts: Record<string, (request: Request) => Promise<Response>> = {
    [IDP_HOST]: (r) => idp.fetch(r),
    [SAML_IDP_HOST]: (r) => saml.fetch(r),
    [DOH_HOST]: (r) => doh.fetch(r),
  };
  return async (request: Request): Promise<Response> =>
    (hosts[new URL(request.url).hostname] ?? next)(request);
}
