import { z } from "zod";
import { config, type Env } from "../../env";
import { ValidationError } from "../../errors";

const DiscoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
});
export type Discovery = z.infer<typeof DiscoverySchema>;

function refuse(detail: string): never {
  throw new ValidationError(detail, [{ path: "body.issuer", message: detail }]);
}

/**
 * Reads the issuer's `/.well-known/openid-configuration` once, when a connection is saved: the
 * endpoints are stored, so a sign-in costs no discovery round trip. Production accepts only https
 * issuers (a local OpenID Provider in development and tests speaks http).
 */
export async function discover(env: Env, issuer: string): Promise<Discovery> {
  const url = new URL(issuer);
  if (url.protocol !== "https:" && config(env).ENVIRONMENT === "production")
    refuse("The issuer must be an https URL.");
  const res = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, {
    headers: { accept: "application/json" },
  }).catch(() => null);
  if (!res?.ok) {
    await res?.body?.cancel();
    refuse(
      `The issuer's discovery document could not be read (${res ? res.status : "unreachable"}).`,
    );
  }
  const parsed = DiscoverySchema.safeParse(await res.json().catch(() => null));
  if (!parsed.success) refuse("The issuer's discovery document is not an OpenID configuration.");
  // OpenID Connect Discovery §4.3: the document's issuer must be the one it was fetched for.
  if (parsed.data.issuer !== issuer)
    refuse(`The discovery document names the issuer ${parsed.data.issuer}, not ${issuer}.`);
  return parsed.data;
}
