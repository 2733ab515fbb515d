// EXAMPLE PRODUCT: the projects list; replace with your product's pages (apps/tenant/README.md).
import { Form, Link, redirect, useActionData, useLocation, useNavigation } from "react-router";
import { apiFailure, shownProblem } from "../../server/api";
import { signedIn, signedInForm, signedOut } from "../../server/signed-in";
import { CsrfField } from "../components/csrf";
import { ExampleProduct } from "../components/example-product";
import { Pager, pageQuery } from "../components/pager";
import { ProblemNotice } from "../components/problem";
import { useCan, useSignedIn } from "../signed-in";
import type { Route } from "./+types/projects";

export function meta() {
  return [{ title: "Projects" }];
}

export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const { limit, cursor } = pageQuery(new URL(args.request.url));
  const r = await api.GET("/v1/projects", {
    params: { query: { limit, ...(cursor && { cursor }) } },
  });
  if (r.response.status === 401) throw signedOut(args);
  if (!r.data) throw apiFailure(r);
  return r.data;
}

/** Creates a project and opens it (post/redirect/get); a refusal is shown beside the form. */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  const name = String(form.get("name") ?? "");
  const description = String(form.get("description") ?? "");
  const r = await api.POST("/v1/projects", { body: { name, description } });
  if (!r.data) return { name, description, problem: shownProblem(r) };
  return redirect(`/projects/${r.data.id}`);
}

export default function Projects({ loaderData }: Route.ComponentProps) {
  const failed = useActionData<typeof action>();
  const href = useLocation();
  const busy = useNavigation().state === "submitting";
  const canWrite = useCan("projects:write");
  const { me } = useSignedIn();
  return (
    <div className="stack">
      <h1>Projects</h1>
      <ExampleProduct />
      {loaderData.data.length === 0 ? (
        <p className="muted">No projects yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {loaderData.data.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link to={`/projects/${p.id}`}>{p.name}</Link>
                </td>
                <td>{p.description}</td>
                <td>
                  <time dateTime={p.created_at}>{p.created_at.slice(0, 10)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        href={href.pathname + href.search}
        nextCursor={loaderData.next_cursor}
        label="Projects pages"
      />
      <h2>New project</h2>
      {canWrite ? (
        <Form method="post" className="stack card">
          <CsrfField />
          <ProblemNotice problem={failed?.problem} />
          <label>
            Name
            <input name="name" required maxLength={200} defaultValue={failed?.name} />
          </label>
          <label>
            Description
            <textarea name="description" maxLength={5000} defaultValue={failed?.description} />
          </label>
          <div>
            <button type="submit" className="primary" disabled={busy}>
              Create project
            </button>
          </div>
        </Form>
      ) : (
        <p className="muted">
          Your role ({me.role ?? "none"}) can view projects but not create or change them; ask an
          owner or admin.
        </p>
      )}
    </div>
  );
}
