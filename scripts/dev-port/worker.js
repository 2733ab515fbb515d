// Development and benchmarks only: serves one worker of a multi-worker `wrangler dev` process on
// a port of its own. Such a process (one process, so the workers share one local copy of the
// databases; two processes on the same SQLite files fail with SQLITE_BUSY) listens on its first
// worker's port alone. This worker forwards every request to the worker bound as TARGET, through
// a service binding that wrangler resolves across dev sessions; `/__scheduled` runs the target's
// cron handler.
export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/__scheduled") {
      return Response.json(await env.TARGET.scheduled({ cron: "*/5 * * * *" }));
    }
    return env.TARGET.fetch(request);
  },
};
