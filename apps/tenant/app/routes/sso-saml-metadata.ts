import { apiFailure, apiFor } from "../../server/api";
import type { Route } from "./+types/sso-saml-metadata";

/**
 * A SAML connection's SP metadata at the URL given to the IdP (on the tenant's host, beside the
 * entity ID and ACS): the API's public route answers, this passes it on.
 */
export async function loader(args: Route.LoaderArgs) {
  const r = await apiFor(args).GET("/v1/auth/sso/saml/{id}/metadata", {
    params: { path: { id: args.params.id } },
    parseAs: "text",
  });
  if (r.data === undefined) throw apiFailure(r);
  return new Response(r.data, {
    headers: { "content-type": "application/samlmetadata+xml; charset=utf-8" },
  });
}
