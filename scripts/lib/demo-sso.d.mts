// Types of demo-sso.mjs, for scripts/demo-idp.ts.
export const DEMO_SSO: {
  tenant: string;
  domain: string;
  user: { email: string; groups: string[] };
  roleMapping: { claim: string; rules: { value: string; role: string }[] };
  connectionName: string;
  idpPort: number;
  dohPort: number;
  realm: string;
};
export const DEMO_IDP_URL: string;
