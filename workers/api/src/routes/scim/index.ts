import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { newRouter } from "../../app";
import type { AppEnv } from "../../context";
import { config } from "../../env";
import { requireFeature } from "../../middleware/entitlements";
import { resolveTenant } from "../../middleware/tenant";
import { tenantUrl } from "../../services/registry";
import {
  changeScimGroup,
  createScimGroup,
  deleteScimGroup,
  getScimGroup,
  listScimGroups,
  parseGroupFilter,
  scimGroupView,
} from "../../services/scim-groups";
import {
  applyGroupPatch,
  applyPatch,
  parseGroupBody,
  parseUserBody,
} from "../../services/scim-patch";
import { authenticateScimRequest } from "../../services/scim-tokens";
import {
  changeScimUser,
  createScimUser,
  deleteScimUser,
  getScimUser,
  listScimUsers,
  parseFilter,
  ScimError,
  type ScimUserRow,
  scimUserView,
} from "../../services/scim-users";
import { serviceContext, tenantRequestContext } from "../helpers";
import {
  groupResourceType,
  groupSchema,
  listResponse,
  serviceProviderConfig,
  userResourceType,
  userSchema,
} from "./discovery";

const SCIM_JSON = "application/scim+json";
const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

/**
 * Every answer under /scim is SCIM's: problems raised anywhere (the tenant gate, the token, the
 * verbs, 404 and 405) are rewritten as SCIM error bodies (RFC 7644 §3.12) after the shared mapper
 * ran, so there is still one error mapper and the request id survives in a header.
 */
const scimErrors = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!c.res.headers.get("content-type")?.startsWith("application/problem+json")) return;
  const problem = (await c.res.clone().json()) as {
    status: number;
    detail?: string;
    title?: string;
    scim_type?: string | null;
  };
  const headers = new Headers(c.res.headers);
  headers.set("content-type", SCIM_JSON);
  const body = {
    schemas: [ERROR_SCHEMA],
    status: String(problem.status),
    ...(problem.scim_type ? { scimType: problem.scim_type } : {}),
    detail: problem.detail ?? problem.title,
  };
  c.res = new Response(JSON.stringify(body), { status: c.res.status, headers });
});

/** A SCIM request authenticates only with a SCIM token of the host's tenant. */
const requireScimToken = createMiddleware<AppEnv>(async (c, next) => {
  const credential = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  c.set(
    "actor",
    await authenticateScimRequest({ ctx: tenantRequestContext(c), input: { credential } }),
  );
  await next();
});

function scim(c: Context<AppEnv>, body: unknown, status: 200 | 201 = 200, etag?: string) {
  return c.body(JSON.stringify(body), status, {
    "content-type": SCIM_JSON,
    ...(etag ? { etag } : {}),
  });
}

const base = (c: Context<AppEnv>) => tenantUrl(config(c.env), c.get("tenant").slug);

function userResponse(c: Context<AppEnv>, row: ScimUserRow, status: 200 | 201 = 200) {
  const view = scimUserView(row, base(c));
  return scim(c, view, status, view.meta.version);
}

async function jsonOf(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new ScimError(400, "invalidSyntax", "The body is not JSON.");
  }
}

function groupResponse(
  c: Context<AppEnv>,
  g: { row: Parameters<typeof scimGroupView>[0]; memberIds: string[] },
  status: 200 | 201 = 200,
) {
  const view = scimGroupView(g.row, g.memberIds, base(c));
  return scim(c, view, status, view.meta.version);
}

/** RFC 7644 §3.4.2.4: 1-based startIndex (values below 1 mean 1), count ≥ 0, capped at 100. */
function paging(c: Context<AppEnv>) {
  return {
    startIndex: Math.max(1, positiveInt(c.req.query("startIndex"), 1, 1_000_000)),
    count: positiveInt(c.req.query("count"), 100, 100),
  };
}

function positiveInt(value: string | undefined, fallback: number, max: number) {
  const n = value === undefined ? fallback : Number.parseInt(value, 10);
  return Number.isFinite(n) ? Math.min(Math.max(n, 0), max) : fallback;
}

export const scimRoutes = newRouter()
  .use("/scim/*", scimErrors, resolveTenant, requireScimToken, requireFeature("sso"))
  .get("/scim/v2/ServiceProviderConfig", (c) => scim(c, serviceProviderConfig(base(c))))
  .get("/scim/v2/ResourceTypes", (c) =>
    scim(c, listResponse([userResourceType(base(c)), groupResourceType(base(c))], 2, 1)),
  )
  .get("/scim/v2/ResourceTypes/Group", (c) => scim(c, groupResourceType(base(c))))
  .get("/scim/v2/ResourceTypes/User", (c) => scim(c, userResourceType(base(c))))
  .get("/scim/v2/Schemas", (c) =>
    scim(c, listResponse([userSchema(base(c)), groupSchema(base(c))], 2, 1)),
  )
  .get("/scim/v2/Schemas/:id", (c) => {
    const schema = [userSchema(base(c)), groupSchema(base(c))].find(
      (s) => s.id === c.req.param("id"),
    );
    if (!schema) throw new ScimError(404, null, "Unknown schema.");
    return scim(c, schema);
  })
  .get("/scim/v2/Users", async (c) => {
    const { startIndex, count } = paging(c);
    const filter = parseFilter(c.req.query("filter"));
    const { rows, total } = await listScimUsers({
      ctx: serviceContext(c),
      input: { filter, startIndex, count },
    });
    return scim(
      c,
      listResponse(
        rows.map((r) => scimUserView(r, base(c))),
        total,
        startIndex,
      ),
    );
  })
  .post("/scim/v2/Users", async (c) => {
    const input = parseUserBody(await jsonOf(c));
    return userResponse(c, await createScimUser({ ctx: serviceContext(c), input }), 201);
  })
  .get("/scim/v2/Users/:id", async (c) =>
    userResponse(
      c,
      await getScimUser({ ctx: serviceContext(c), input: { id: c.req.param("id") } }),
    ),
  )
  .put("/scim/v2/Users/:id", async (c) => {
    const desired = parseUserBody(await jsonOf(c));
    const row = await changeScimUser({
      ctx: serviceContext(c),
      input: { id: c.req.param("id"), ifMatch: c.req.header("if-match"), change: () => desired },
    });
    return userResponse(c, row);
  })
  .patch("/scim/v2/Users/:id", async (c) => {
    const body = await jsonOf(c);
    const row = await changeScimUser({
      ctx: serviceContext(c),
      input: {
        id: c.req.param("id"),
        ifMatch: c.req.header("if-match"),
        change: (current) => applyPatch(body, current),
      },
    });
    return userResponse(c, row);
  })
  .delete("/scim/v2/Users/:id", async (c) => {
    await deleteScimUser({
      ctx: serviceContext(c),
      input: { id: c.req.param("id"), ifMatch: c.req.header("if-match") },
    });
    return c.body(null, 204);
  })
  .get("/scim/v2/Groups", async (c) => {
    const { startIndex, count } = paging(c);
    const displayName = parseGroupFilter(c.req.query("filter"));
    const { groups, total } = await listScimGroups({
      ctx: serviceContext(c),
      input: { displayName, startIndex, count },
    });
    const views = groups.map((g) => scimGroupView(g.row, g.memberIds, base(c)));
    return scim(c, listResponse(views, total, startIndex));
  })
  .post("/scim/v2/Groups", async (c) => {
    const input = parseGroupBody(await jsonOf(c));
    return groupResponse(c, await createScimGroup({ ctx: serviceContext(c), input }), 201);
  })
  .get("/scim/v2/Groups/:id", async (c) =>
    groupResponse(
      c,
      await getScimGroup({ ctx: serviceContext(c), input: { id: c.req.param("id") } }),
    ),
  )
  .put("/scim/v2/Groups/:id", async (c) => {
    const desired = parseGroupBody(await jsonOf(c));
    const g = await changeScimGroup({
      ctx: serviceContext(c),
      input: { id: c.req.param("id"), ifMatch: c.req.header("if-match"), change: () => desired },
    });
    return groupResponse(c, g);
  })
  .patch("/scim/v2/Groups/:id", async (c) => {
    const body = await jsonOf(c);
    const g = await changeScimGroup({
      ctx: serviceContext(c),
      input: {
        id: c.req.param("id"),
        ifMatch: c.req.header("if-match"),
        change: (current) => applyGroupPatch(body, current),
      },
    });
    return groupResponse(c, g);
  })
  .delete("/scim/v2/Groups/:id", async (c) => {
    await deleteScimGroup({ ctx: serviceContext(c), input: { id: c.req.param("id") } });
    return c.body(null, 204);
  });
