import { requireOperator } from "../../server/page-auth";
import type { Route } from "./+types/home";

export async function loader(args: Route.LoaderArgs) {
  await requireOperator(args, "tenants:read");
  return null;
}

export function meta(_: Route.MetaArgs) {
  return [{ title: "Tenantry operators" }];
}

export default function Home() {
  return (
    <main className="page">
      <h1>Tenantry operators</h1>
    </main>
  );
}
