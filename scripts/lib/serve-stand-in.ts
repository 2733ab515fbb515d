import { createServer, type Server } from "node:http";

/**
 * Serves a fetch-style stand-in (tests/oidc-idp.ts, tests/saml-idp.ts) on a local port: for the
 * browser tests (tests/e2e/stand-in-server.ts) and `npm run dev`'s demo IdP (demo-idp.ts).
 */
export function serveStandIn(
  port: number,
  handler: (request: Request) => Promise<Response>,
): Server {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    // A request the stand-in cannot read answers 500 rather than ending the process.
    const answer = await handler(
      new Request(`http://localhost:${port}${req.url}`, {
        method: req.method,
        ...(req.method === "POST" && { body: Buffer.concat(chunks) }),
      }),
    ).catch((err: unknown) => new Response(String(err), { status: 500 }));
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(await answer.text());
  });
  return server.listen(port);
}
