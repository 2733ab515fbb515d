import type { Route } from "./+types/home";

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
