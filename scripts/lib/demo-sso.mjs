/**
 * Single sign-on to try locally: `npm run dev` serves a demo SAML IdP (scripts/demo-idp.ts) and a
 * DNS-over-HTTPS stand-in, and connects the demo tenant to them (scripts/seed-sso.mjs).
 */
export const DEMO_SSO = {
  tenant: "globex",
  domain: "globex.example",
  /** Who the IdP's "Sign in as" form suggests; Engineering maps to member. */
  user: { email: "ada@globex.example", groups: ["Engineering"] },
  roleMapping: {
    claim: "groups",
    rules: [
      { value: "Admins", role: "admin" },
      { value: "Engineering", role: "member" },
    ],
  },
  connectionName: "Demo SAML IdP",
  idpPort: 8790,
  /** `.dev.vars.example` points SSO_DNS_RESOLVER here. */
  dohPort: 8791,
  /** The IdP's realm (tests/saml-idp.ts): its entity id is `http://localhost:8790/demo`. */
  realm: "demo",
};

export const DEMO_IDP_URL = `http://localhost:${DEMO_SSO.idpPort}/${DEMO_SSO.realm}`;
