/**
 * Every form this app serves posts to its own origin, so a state-changing request whose `Origin`
 * names another site (or `null`: a sandboxed or privacy-stripped context) is a cross-site
 * forgery, refused before any action runs. This covers the forms no session protects yet
 * (sign-in, sign-up, password reset, accepting an invitation: login CSRF), on top of the
 * signed-in forms' CSRF field. Browsers send `Origin` on every cross-site POST; a request
 * without one is not a browser's form and has no ambient cookie to abuse.
 */
export function crossSiteRefusal(request: Request): Response | null {
  if (request.method === "GET" || request.method === "HEAD") return null;
  const origin = request.headers.get("origin");
  if (origin === null || origin === new URL(request.url).origin) return null;
  return new Response("This form was sent from another site, so it was refused.", {
    status: 403,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

const SAML_ACS = /^\/sso\/saml\/[A-Za-z0-9_]+\/acs$/;

/**
 * The one exemption: a SAML connection's ACS (`/sso/saml/<id>/acs`) is cross-site by design, as
 * the IdP's page posts the signed response to it (the HTTP-POST binding). Its proof is what the
 * API verifies (signature, audience, recipient, InResponseTo, replay), not the Origin, and it
 * acts on no ambient session. Its Origin is dropped, so neither the refusal above nor React
 * Router's own action check (which would need every IdP's origin listed) turns it away.
 */
export function withoutAcsOrigin(request: Request): Request {
  if (request.method !== "POST" || !SAML_ACS.test(new URL(request.url).pathname)) return request;
  const headers = new Headers(request.headers);
  headers.delete("origin");
  return new Request(request, { headers });
}
