// Development, tests and benchmarks only (never deployed): the local stand-in for the zone's
// routes. One entry on one port routes by host as production does: `admin.<host>` to the admin
// worker, every other host (the apex, tenant hosts) to the API worker. Both are workers of the
// same multi-worker `wrangler dev` process, reached through service bindings, so Host and the
// whole request arrive unchanged. `/__scheduled` runs the API worker's cron handler.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.hostname.startsWith("admin.")) return env.ADMIN.fetch(request);
    if (url.pathname === "/__scheduled") {
      return Response.json(await env.API.scheduled({ cron: "*/5 * * * *" }));
    }
    return env.API.fetch(request);
  },
};
