// Development, tests and benchmarks only (never deployed): the local stand-in for the zone's
// routes (ADR 017). One entry on one port routes as production does: `admin.<host>` to the admin
// worker; on every other host (the apex, tenant hosts) the API's paths to the API worker and
// everything else to the tenant app. All are workers of the same multi-worker `wrangler dev`
// process, reached through service bindings, so Host and the whole request arrive unchanged.
// Without a TENANT binding (the benchmarks) every non-admin request goes to the API worker.
// `/__scheduled` runs the API worker's cron handler.

/** The API worker's paths, as the production routes list them (plus its development `/_dev`). */
const API_PATH =
  /^\/(?:v1(?:\/|$)|scim\/|openapi\.json$|docs(?:\/|$)|healthz(?:\/|$)|\.well-known\/|_dev\/)/;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.hostname.startsWith("admin.")) return env.ADMIN.fetch(request);
    if (url.pathname === "/__scheduled") {
      return Response.json(await env.API.scheduled({ cron: "*/5 * * * *" }));
    }
    if (env.TENANT && !API_PATH.test(url.pathname)) return env.TENANT.fetch(request);
    return env.API.fetch(request);
  },
};
