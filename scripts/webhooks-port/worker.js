// Development only: serves the webhooks worker on its own port (8788). `npm run dev` runs the API
// and webhooks workers in one wrangler process, so they share one local copy of the databases
// (two processes on the same SQLite files fail with SQLITE_BUSY); that process listens on the
// API's port alone. This worker forwards to the webhooks worker through a service binding, which
// wrangler resolves across dev sessions. `/__scheduled` runs the webhooks worker's cron handler.
export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/__scheduled") {
      return Response.json(await env.WEBHOOKS.scheduled({ cron: "*/5 * * * *" }));
    }
    return env.WEBHOOKS.fetch(request);
  },
};
