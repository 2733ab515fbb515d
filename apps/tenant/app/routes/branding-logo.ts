import { signedIn, signedOut } from "../../server/signed-in";
import type { Route } from "./+types/branding-logo";

/**
 * The tenant's logo, same origin (the CSP allows `img-src 'self'`), fetched through the API with
 * the user's session: the API picks the object by the host's tenant. `nosniff` and the image type
 * the API read from the bytes; cached privately, since the header's URL carries its version.
 */
export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const r = await api.GET("/v1/settings/logo", { parseAs: "stream" });
  if (r.response.status === 401) throw signedOut(args);
  if (!r.response.ok || !r.data) return new Response(null, { status: r.response.status });
  return new Response(r.data, {
    headers: {
      "content-type": r.response.headers.get("content-type") ?? "application/octet-stream",
      "x-content-type-options": "nosniff",
      "cache-control": "private, max-age=86400",
    },
  });
}
