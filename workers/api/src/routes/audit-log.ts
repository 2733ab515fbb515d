import { createRoute, z } from "@hono/zod-openapi";
import { auditPublicKeys } from "@tenantry/core";
import { newRouter } from "../app";
import { config } from "../env";
import { PageQuerySchema, pageSchema } from "../lib/pagination";
import { tenantRoute } from "../middleware/tenant-route";
import { exportAuditLog, listAuditLog } from "../services/audit-log";
import { jsonResponse, security, serviceContext, tenantErrors } from "./helpers";

const AuditEntrySchema = z
  .object({
    id: z.string(),
    actor: z.object({ type: z.string(), id: z.string() }),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string() }),
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
    request_id: z.string().nullable(),
    ip: z.string().nullable(),
    created_at: z.string(),
    support: z
      .object({
        operator: z.object({ id: z.string(), email: z.string() }),
        mode: z.string(),
      })
      .nullable()
      .openapi({
        description:
          "Set on entries written under an operator's support access (actor type `support`): who the operator was and the mode (`read`, `write`)",
      }),
  })
  .openapi("AuditEntry");

const AuditQuerySchema = PageQuerySchema.extend({
  action: z
    .string()
    .regex(/^[a-z_]+\.[a-z_]+$/, "must be an action like member.update")
    .optional()
    .openapi({ example: "member.update" }),
  actor_type: z.enum(["user", "api_key", "support", "system", "scim_token"]).optional(),
  actor_id: z.string().max(64).optional(),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: "Entries at or after this time" }),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: "Entries before this time" }),
});

const CheckpointSchema = z
  .object({
    scope: z.string().openapi({ description: "The tenant id" }),
    seq: z.number().int(),
    head_hash: z.string(),
    signed_at: z.number().int().openapi({ description: "Epoch milliseconds" }),
    key_id: z.string().openapi({ description: "`kid` of the key in /.well-known/audit-keys" }),
    signature: z.string().openapi({ description: "ES256 (raw r‖s, base64url)" }),
  })
  .openapi("AuditCheckpoint");

const AuditExportSchema = z
  .object({
    format: z.literal("tenantry-audit-export/v1"),
    tenant_id: z.string(),
    prev_hash: z.string().nullable(),
    entries: z.array(
      z.object({
        seq: z.number().int(),
        chain_hash: z.string(),
        entry: z
          .record(z.string(), z.unknown())
          .nullable()
          .openapi({ description: "Every column as stored (SQL names); null: the entry is gone" }),
      }),
    ),
    next_after_seq: z.number().int().nullable(),
    checkpoint: CheckpointSchema.nullable(),
    unsealed: z.number().int(),
  })
  .openapi("AuditExport");

const ExportQuerySchema = z.strictObject({
  after_seq: z.coerce.number().int().min(0).default(0).openapi({ example: 0 }),
  limit: z.coerce.number().int().min(1).max(1000).default(1000).openapi({ example: 1000 }),
});

const AuditKeysSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal("EC"),
        crv: z.literal("P-256"),
        x: z.string(),
        y: z.string(),
        kid: z.string(),
        alg: z.literal("ES256"),
        use: z.literal("sig"),
      }),
    ),
  })
  .openapi("AuditKeys");

const EXPORT_DESCRIPTION = `The tenant's audit log as a hash chain with its signed checkpoint (ADR 012), in pages of
\`limit\` entries after \`after_seq\`. Pending entries are sealed first, so the checkpoint covers everything
written before the request. To check it:

1. For each entry in order: \`chain_hash = hex(SHA-256(prev + "\\n" + seq + "\\n" + canonical(entry)))\`, where
   \`prev\` is the previous entry's \`chain_hash\` (\`prev_hash\` for the first), and \`canonical(entry)\` is
   \`JSON.stringify\` of the entry's non-null columns with keys sorted. Seqs have no gaps.
2. The checkpoint's \`signature\` is ES256 over the UTF-8 bytes of
   \`tenantry-audit-checkpoint/v1\\n{scope}\\n{seq}\\n{head_hash}\\n{signed_at}\`, by the key \`key_id\` of
   \`GET /.well-known/audit-keys\`.
3. The \`chain_hash\` at the checkpoint's \`seq\` equals its \`head_hash\`.`;

export const auditLogRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/audit-log",
      operationId: "listAuditLog",
      tags: ["audit"],
      summary: "The tenant's audit log, newest first, optionally filtered",
      description:
        "Filters combine (AND): an exact `action`, the actor (`actor_type`, `actor_id`) and a time range (`from` inclusive, `to` exclusive). The cursor pages within the same filters.",
      security,
      middleware: tenantRoute("audit:read"),
      request: { query: AuditQuerySchema },
      responses: { 200: jsonResponse(pageSchema(AuditEntrySchema), "Entries"), ...tenantErrors },
    }),
    async (c) => {
      const { from, to, ...query } = c.req.valid("query");
      const input = {
        ...query,
        from: from === undefined ? undefined : Date.parse(from),
        to: to === undefined ? undefined : Date.parse(to),
      };
      return c.json(await listAuditLog({ ctx: serviceContext(c), input }), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/audit-log/export",
      operationId: "exportAuditLog",
      tags: ["audit"],
      summary: "Download the audit log with its tamper-evidence proof",
      description: EXPORT_DESCRIPTION,
      security,
      // Seals and reads the whole page: the plan's expensive budget.
      middleware: tenantRoute("audit:read", { expensive: true }),
      request: { query: ExportQuerySchema },
      responses: {
        200: jsonResponse(AuditExportSchema, "The chain and its proof"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await exportAuditLog({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/.well-known/audit-keys",
      operationId: "auditKeys",
      tags: ["audit"],
      summary: "Public keys that sign audit checkpoints (a JWK Set)",
      security: [],
      responses: { 200: jsonResponse(AuditKeysSchema, "The audit signing keys") },
    }),
    async (c) => {
      c.header("cache-control", "public, max-age=300");
      return c.json(await auditPublicKeys(config(c.env).AUDIT_SIGNING_KEY), 200);
    },
  );
