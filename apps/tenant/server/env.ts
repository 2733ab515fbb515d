/** The tenant app's bindings (apps/tenant/wrangler.toml). */
export interface TenantAppEnv {
  ENVIRONMENT?: string;
  /** The apex host (`example.com`; `localhost:8787` in development): it serves sign-up. */
  BASE_DOMAIN: string;
  /** "https" in production: the session cookie is then `Secure` and `__Host-` prefixed. */
  PUBLIC_SCHEME?: string;
  /** The API worker (service binding): every page's data comes through it. */
  API: Fetcher;
}
