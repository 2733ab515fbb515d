// EXAMPLE PRODUCT: one project and its tasks; replace with your product's pages (apps/tenant/README.md).
import type { components, TenantryClient } from "@tenantry/client";
import { Form, Link, redirect, useActionData, useLocation } from "react-router";
import { apiFailure, shownProblem } from "../../server/api";
import { featureGates } from "../../server/plan-gate";
import { signedIn, signedInForm, signedOut } from "../../server/signed-in";
import { CsrfField } from "../components/csrf";
import { ExampleProduct } from "../components/example-product";
import { Pager, pageQuery } from "../components/pager";
import { PlanGate } from "../components/plan-gate";
import { ProblemNotice } from "../components/problem";
import { NewTask, TaskList } from "../components/project-tasks";
import { useCan, useSignedIn } from "../signed-in";
import type { Route } from "./+types/projects-detail";

export function meta({ loaderData }: Route.MetaArgs) {
  return [{ title: loaderData ? `${loaderData.project.name} · Projects` : "Project" }];
}

export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const id = args.params.id;
  const { limit, cursor } = pageQuery(new URL(args.request.url));
  const [project, tasks, gated] = await Promise.all([
    api.GET("/v1/projects/{id}", { params: { path: { id } } }),
    api.GET("/v1/projects/{id}/tasks", {
      params: { path: { id }, query: { limit, ...(cursor && { cursor }) } },
    }),
    featureGates(api, ["audit_export"]),
  ]);
  if (project.response.status === 401) throw signedOut(args);
  if (!project.data) throw apiFailure(project);
  if (!tasks.data) throw apiFailure(tasks);
  if ("failed" in gated) throw apiFailure(gated.failed);
  return { project: project.data, tasks: tasks.data, exportGate: gated.gates.audit_export };
}

type Status = components["schemas"]["Task"]["status"];

/** The API call a form's `intent` stands for; null for an intent this page does not send. */
function change(api: TenantryClient, id: string, form: FormData) {
  const field = (name: string) => String(form.get(name) ?? "");
  const task = { path: { id, taskId: field("taskId") } };
  switch (field("intent")) {
    case "rename":
      return api.PATCH("/v1/projects/{id}", {
        params: { path: { id } },
        body: { name: field("name"), description: field("description") },
      });
    case "delete":
      return api.DELETE("/v1/projects/{id}", { params: { path: { id } } });
    case "task-create":
      return api.POST("/v1/projects/{id}/tasks", {
        params: { path: { id } },
        body: { title: field("title") },
      });
    case "task-update":
      // The API validates the status; a forged one comes back as its 400 problem.
      return api.PATCH("/v1/projects/{id}/tasks/{taskId}", {
        params: task,
        body: { title: field("title"), status: field("status") as Status },
      });
    case "task-delete":
      return api.DELETE("/v1/projects/{id}/tasks/{taskId}", { params: task });
    default:
      return null;
  }
}

/** Every change on the page, told apart by the form's `intent`; post/redirect/get on success. */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  const intent = String(form.get("intent"));
  const r = await change(api, args.params.id, form);
  if (!r) throw new Response(`Unknown intent ${intent}`, { status: 400 });
  if (!r.response.ok) {
    return { intent, title: String(form.get("title") ?? ""), problem: shownProblem(r) };
  }
  if (intent === "delete") return redirect("/projects");
  // Back to the same page of tasks; the path is rebuilt because a fetch submission's URL is
  // React Router's data URL, not the page's.
  const from = new URL(args.request.url).searchParams;
  const keep = new URLSearchParams();
  for (const name of ["limit", "cursor", "trail"]) {
    const value = from.get(name);
    if (value) keep.set(name, value);
  }
  const query = keep.toString();
  return redirect(`/projects/${encodeURIComponent(args.params.id)}${query ? `?${query}` : ""}`);
}

export default function Project({ loaderData }: Route.ComponentProps) {
  const { project, tasks, exportGate } = loaderData;
  const failed = useActionData<typeof action>();
  const location = useLocation();
  const confirming = new URLSearchParams(location.search).get("confirm") === "delete";
  const canWrite = useCan("projects:write");
  const { me } = useSignedIn();
  return (
    <div className="stack">
      <p>
        <Link to="/projects">← Projects</Link>
      </p>
      <h1>{project.name}</h1>
      <ExampleProduct />
      {project.description && <p>{project.description}</p>}
      <ProblemNotice problem={failed?.problem} />
      {canWrite ? (
        <>
          <Form method="post" className="stack card" key={project.updated_at}>
            <CsrfField />
            <input type="hidden" name="intent" value="rename" />
            <label>
              Name
              <input name="name" required maxLength={200} defaultValue={project.name} />
            </label>
            <label>
              Description
              <textarea name="description" maxLength={5000} defaultValue={project.description} />
            </label>
            <div>
              <button type="submit">Save project</button>
            </div>
          </Form>
          {confirming ? (
            <Form method="post" className="notice warn stack">
              <CsrfField />
              <input type="hidden" name="intent" value="delete" />
              <p>Delete “{project.name}” and all its tasks? This cannot be undone.</p>
              <div className="row">
                <button type="submit" className="danger">
                  Yes, delete project
                </button>
                <Link to={location.pathname}>Cancel</Link>
              </div>
            </Form>
          ) : (
            <p>
              <Link to="?confirm=delete" className="button danger">
                Delete project…
              </Link>
            </p>
          )}
        </>
      ) : (
        <p className="muted">
          Your role ({me.role ?? "none"}) can view this project but not change it or its tasks.
        </p>
      )}
      <h2>Tasks</h2>
      {canWrite && (
        <NewTask
          key={tasks.data[0]?.id ?? "none"}
          title={failed?.intent === "task-create" ? failed.title : undefined}
        />
      )}
      <TaskList tasks={tasks.data} canWrite={canWrite} />
      <Pager
        href={location.pathname + location.search}
        nextCursor={tasks.next_cursor}
        label="Task pages"
      />
      <PlanGate gate={exportGate} what="Exporting tasks">
        <p>
          <a href={`/projects/${project.id}/tasks.csv`} download>
            Export tasks (CSV)
          </a>
        </p>
      </PlanGate>
    </div>
  );
}
