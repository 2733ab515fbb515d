import { useSignedIn } from "../signed-in";

export function meta() {
  return [{ title: "Dashboard" }];
}

/** The dashboard: who the user is in which tenant (the layout's `GET /v1/me`). */
export default function Home() {
  const { me } = useSignedIn();
  return (
    <>
      <h1>{me.tenant.name}</h1>
      <p>
        Signed in as <strong>{me.user?.email}</strong>
        {me.role && <span className="muted"> · {me.role}</span>}
      </p>
      <p className="muted">
        {me.tenant.slug} · plan {me.tenant.plan ?? "none"}
      </p>
    </>
  );
}
