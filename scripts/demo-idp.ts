// `npm run dev`'s demo identity provider, so single sign-on can be tried without an account
// anywhere: the SAML IdP stand-in of the tests (tests/saml-idp.ts, samlify signing) with a
// "Sign in as" page, and the DNS-over-HTTPS stand-in (tests/oidc-idp.ts) that proves the demo
// domain. Keys are fresh on every start; the seeding re-reads the metadata (scripts/seed-sso.mjs).
import { pathToFileURL } from "node:url";
import { createDohResolver } from "../tests/oidc-idp";
import { createSamlIdp } from "../tests/saml-idp";
import { DEMO_SSO } from "./lib/demo-sso.mjs";
import { serveStandIn } from "./lib/serve-stand-in";

/** The two stand-ins as fetch handlers, the IdP's realm set up for the demo user. */
export async function demoStandIns() {
  const idp = await createSamlIdp(`http://localhost:${DEMO_SSO.idpPort}`);
  idp.configure(DEMO_SSO.realm, { user: DEMO_SSO.user, signInForm: true });
  const doh = createDohResolver();
  return { idp: (r: Request) => idp.fetch(r), doh: (r: Request) => doh.fetch(r) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { idp, doh } = await demoStandIns();
  serveStandIn(DEMO_SSO.idpPort, idp);
  serveStandIn(DEMO_SSO.dohPort, doh);
}
