// EXAMPLE PRODUCT: replace with your own product's routes.
import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { PageQuerySchema, pageSchema } from "../lib/pagination";
import { tenantRoute } from "../middleware/tenant-route";
import {
  IdParamSchema,
  jsonBody,
  jsonResponse,
  security,
  serviceContext,
  tenantErrors,
} from "../routes/helpers";
import {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  projectView,
  updateProject,
} from "./projects";
import {
  createTask,
  deleteTask,
  getTask,
  listTasks,
  TASK_STATUSES,
  taskView,
  updateTask,
} from "./tasks";

const ProjectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Project");
const TaskSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    title: z.string(),
    status: z.enum(TASK_STATUSES),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Task");
const ProjectInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000).optional(),
});
const TaskInput = z.strictObject({
  title: z.string().trim().min(1).max(500),
  status: z.enum(TASK_STATUSES).optional(),
});
const TaskParams = z.object({ id: z.string().max(64), taskId: z.string().max(64) });
const tags = ["projects (example product)"];

export const productRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects",
      operationId: "listProjects",
      summary: "List projects",
      tags,
      security,
      middleware: tenantRoute("projects:read"),
      request: { query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(ProjectSchema), "Projects, newest first"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await listProjects({ ctx: serviceContext(c), page: c.req.valid("query") }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/projects",
      operationId: "createProject",
      summary: "Create a project",
      tags,
      security,
      middleware: tenantRoute("projects:write"),
      request: { body: jsonBody(ProjectInput) },
      responses: { 201: jsonResponse(ProjectSchema, "Created"), ...tenantErrors },
    }),
    async (c) =>
      c.json(
        projectView(await createProject({ ctx: serviceContext(c), input: c.req.valid("json") })),
        201,
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{id}",
      operationId: "getProject",
      summary: "Get a project",
      tags,
      security,
      middleware: tenantRoute("projects:read"),
      request: { params: IdParamSchema },
      responses: { 200: jsonResponse(ProjectSchema, "The project"), ...tenantErrors },
    }),
    async (c) =>
      c.json(
        projectView(await getProject({ ctx: serviceContext(c), id: c.req.valid("param").id })),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/projects/{id}",
      operationId: "updateProject",
      summary: "Update a project",
      tags,
      security,
      middleware: tenantRoute("projects:write"),
      request: { params: IdParamSchema, body: jsonBody(ProjectInput.partial()) },
      responses: { 200: jsonResponse(ProjectSchema, "Updated"), ...tenantErrors },
    }),
    async (c) =>
      c.json(
        projectView(
          await updateProject({
            ctx: serviceContext(c),
            id: c.req.valid("param").id,
            input: c.req.valid("json"),
          }),
        ),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/projects/{id}",
      operationId: "deleteProject",
      summary: "Delete a project and its tasks",
      tags,
      security,
      middleware: tenantRoute("projects:write"),
      request: { params: IdParamSchema },
      responses: { 204: { description: "Deleted with its tasks" }, ...tenantErrors },
    }),
    async (c) => {
      await deleteProject({ ctx: serviceContext(c), id: c.req.valid("param").id });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{id}/tasks",
      operationId: "listTasks",
      summary: "List a project's tasks",
      tags,
      security,
      middleware: tenantRoute("projects:read"),
      request: { params: IdParamSchema, query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(TaskSchema), "Tasks, newest first"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(
        await listTasks({
          ctx: serviceContext(c),
          projectId: c.req.valid("param").id,
          page: c.req.valid("query"),
        }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/projects/{id}/tasks",
      operationId: "createTask",
      summary: "Create a task in a project",
      tags,
      security,
      middleware: tenantRoute("projects:write"),
      request: { params: IdParamSchema, body: jsonBody(TaskInput) },
      responses: { 201: jsonResponse(TaskSchema, "Created"), ...tenantErrors },
    }),
    async (c) =>
      c.json(
        taskView(
          await createTask({
            ctx: serviceContext(c),
            projectId: c.req.valid("param").id,
            input: c.req.valid("json"),
          }),
        ),
        201,
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{id}/tasks/{taskId}",
      operationId: "getTask",
      summary: "Get a task",
      tags,
      security,
      middleware: tenantRoute("projects:read"),
      request: { params: TaskParams },
      responses: { 200: jsonResponse(TaskSchema, "The task"), ...tenantErrors },
    }),
    async (c) => {
      const { id, taskId } = c.req.valid("param");
      return c.json(
        taskView(await getTask({ ctx: serviceContext(c), projectId: id, id: taskId })),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/projects/{id}/tasks/{taskId}",
      operationId: "updateTask",
      summary: "Update a task",
      tags,
      security,
      middleware: tenantRoute("projects:write"),
      request: { params: TaskParams, body: jsonBody(TaskInput.partial()) },
      responses: { 200: jsonResponse(TaskSchema, "Updated"), ...tenantErrors },
    }),
    async (c) => {
      const { id, taskId } = c.req.valid("param");
      return c.json(
        taskView(
          await updateTask({
            ctx: serviceContext(c),
            projectId: id,
            id: taskId,
            input: c.req.valid("json"),
          }),
        ),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/projects/{id}/tasks/{taskId}",
      operationId: "deleteTask",
      summary: "Delete a task",
      tags,
      security,
      middleware: tenantRoute("projects:write"),
      request: { params: TaskParams },
      responses: { 204: { description: "Deleted" }, ...tenantErrors },
    }),
    async (c) => {
      const { id, taskId } = c.req.valid("param");
      await deleteTask({ ctx: serviceContext(c), projectId: id, id: taskId });
      return c.body(null, 204);
    },
  );
