// EXAMPLE PRODUCT: the product's routes in the shared route list (`routes.ts`), so the security
// suite and the bad-input suite cover them, and one of each of its resources for routes that take
// an id. A fork replaces these with its own (see workers/api/src/product/README.md).
import { api, type TestTenant } from "./helpers";
import type { RouteCase } from "./routes";

export type ProductResource = "project" | "task";

export const PRODUCT_ROUTES: RouteCase[] = [
  { method: "GET", path: "/v1/projects", permission: "projects:read" },
  {
    method: "POST",
    path: "/v1/projects",
    permission: "projects:write",
    body: () => ({ name: "p" }),
  },
  { method: "GET", path: "/v1/projects/{project}", permission: "projects:read" },
  {
    method: "PATCH",
    path: "/v1/projects/{project}",
    permission: "projects:write",
    body: () => ({ name: "q" }),
  },
  { method: "DELETE", path: "/v1/projects/{project}", permission: "projects:write" },
  { method: "GET", path: "/v1/projects/{project}/tasks", permission: "projects:read" },
  {
    method: "POST",
    path: "/v1/projects/{project}/tasks",
    permission: "projects:write",
    body: () => ({ title: "t" }),
  },
  { method: "GET", path: "/v1/projects/{project}/tasks/{task}", permission: "projects:read" },
  {
    method: "PATCH",
    path: "/v1/projects/{project}/tasks/{task}",
    permission: "projects:write",
    body: () => ({ title: "u" }),
  },
  { method: "DELETE", path: "/v1/projects/{project}/tasks/{task}", permission: "projects:write" },
];

export async function createProductResources(
  t: TestTenant,
): Promise<Record<ProductResource, string>> {
  const project = await api("POST", "/v1/projects", {
    slug: t.slug,
    token: t.owner.token,
    body: { name: "P" },
  });
  const task = await api("POST", `/v1/projects/${project.body.id}/tasks`, {
    slug: t.slug,
    token: t.owner.token,
    body: { title: "T" },
  });
  return { project: project.body.id, task: task.body.id };
}
