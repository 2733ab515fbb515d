import { createServer, type Server } from "node:http";
import { createDohResolver } from "../oidc-idp";
import { DOH_PORT } from "./platform";

/** Serves a fetch-style stand-in (tests/oidc-idp.ts, tests/saml-idp.ts) on a local port. */
export function serveStandIn(
  port: number,
  handler: (request: Request) => Promise<Response>,
): Server {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const answer = await handler(
      new Request(`http://localhost:${port}${req.url}`, {
        method: req.method,
        ...(req.method === "POST" && { body: Buffer.concat(chunks) }),
      }),
    );
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(await answer.text());
  });
  return server.listen(port);
}

/** The resolver stand-in behind the API's SSO_DNS_RESOLVER (platform.ts points it here). */
export const startDoh = () => {
  const doh = createDohResolver();
  return serveStandIn(DOH_PORT, (r) => doh.fetch(r));
};

/** Publishes a TXT record at the resolver stand-in (the domain verification's proof). */
export async function publishTxt(record: { name: string; value: string }) {
  await fetch(`http://localhost:${DOH_PORT}/_dns/txt`, {
    method: "POST",
    body: JSON.stringify({ name: record.name, values: [record.value] }),
  });
}
