import { serveStandIn } from "../../scripts/lib/serve-stand-in";
import { createDohResolver } from "../oidc-idp";
import { DOH_PORT } from "./platform";

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
