import { ProblemError } from "@tenantry/core";
import { data, Form, Link } from "react-router";
import { requireOperator, verifyCsrf } from "../../server/page-auth";
import { can, type OperatorPermission } from "../../server/roles";
import { createOverride, expireOverride } from "../../server/services/overrides";
import { changePlan } from "../../server/services/subscription";
import { getTenantDetail } from "../../server/services/tenant-detail";
import { reactivateTenant, suspendTenant } from "../../server/services/tenants";
import { ReasonField, Rows } from "../components/fields";
import { text } from "../components/format";
import { EntitlementsSection } from "../components/tenant-entitlements";
import { AuditSection, MembersSection } from "../components/tenant-plane";
import { UsageSection } from "../components/tenant-usage";
import type { Route } from "./+types/tenants.$id";

export function meta({ loaderData }: Route.MetaArgs) {
  return [{ title: `${loaderData?.detail.tenant.name ?? "Tenant"} · Tenantry operators` }];
}

export async function loader({ request, context, params }: Route.LoaderArgs) {
  const ctx = await requireOperator({ request, context }, "tenants:read");
  const role = ctx.operator.role;
  return {
    csrf: ctx.csrfToken,
    may: {
      suspend: can(role, "tenants:suspend"),
      overrides: can(role, "overrides:write"),
      plan: can(role, "billing:write"),
    },
    detail: await getTenantDetail({ ctx, input: { id: params.id } }).catch((err) => {
      if (err instanceof ProblemError && err.status === 404) {
        throw data("No tenant has this id.", { status: 404 });
      }
      throw err;
    }),
  };
}

const INTENTS = {
  suspend: "tenants:suspend",
  reactivate: "tenants:suspend",
  override: "overrides:write",
  expire: "overrides:write",
  plan: "billing:write",
} as const satisfies Record<string, OperatorPermission>;

const field = (form: FormData, name: string) => String(form.get(name) ?? "").trim();

/** The override form's fields as the stored shape; the verb validates the result. */
function overrideFromForm(form: FormData) {
  const type = field(form, "type");
  const days = field(form, "expires_days");
  const raw = field(form, "value");
  const value =
    type === "limit"
      ? raw === "" || raw === "unlimited"
        ? null
        : Number(raw)
      : type === "rate_limit"
        ? {
            perSecond: Number(field(form, "per_second")),
            perMinute: Number(field(form, "per_minute")),
          }
        : raw === "true";
  const hard = field(form, "hard");
  return {
    type,
    key: field(form, "key"),
    value,
    ...(type === "limit" && hard ? { hard: hard === "hard" } : {}),
    reason: field(form, "reason"),
    expiresAt: days ? Date.now() + Number(days) * 86_400_000 : null,
  };
}

export async function action({ request, context, params }: Route.ActionArgs) {
  const form = await request.formData();
  const intent = field(form, "intent") as keyof typeof INTENTS;
  if (!(intent in INTENTS)) throw data("Unknown action.", { status: 400 });
  const ctx = await requireOperator({ request, context }, INTENTS[intent]);
  verifyCsrf(form, ctx);
  const id = params.id;
  const reason = field(form, "reason");
  try {
    switch (intent) {
      case "suspend":
        await suspendTenant({ ctx, input: { id, reason } });
        return { ok: "Suspended. Its API refuses requests within 30 seconds." };
      case "reactivate":
        await reactivateTenant({ ctx, input: { id, reason } });
        return { ok: "Reactivated; its API answers again at once." };
      case "override":
        await createOverride({ ctx, input: { tenantId: id, override: overrideFromForm(form) } });
        return { ok: "Override created; the tenant's meter has its new limits." };
      case "expire":
        await expireOverride({
          ctx,
          input: { tenantId: id, overrideId: field(form, "override_id"), reason },
        });
        return { ok: "Override expired." };
      case "plan": {
        const interval = field(form, "interval");
        const result = await changePlan({
          ctx,
          input: {
            tenantId: id,
            plan: field(form, "plan") as "pro",
            ...(interval ? { interval: interval as "month" } : {}),
            reason,
          },
        });
        return {
          ok: `Stripe moved the subscription to ${result.plan} (${result.interval}); the plan here follows when Stripe's webhook is processed.`,
        };
      }
    }
  } catch (err) {
    if (!(err instanceof ProblemError)) throw err;
    const errors = (err.extra.errors as { path: string; message: string }[] | undefined) ?? [];
    return data(
      { error: [err.message, ...errors.map((e) => `${e.path}: ${e.message}`)].join(" ") },
      { status: err.status },
    );
  }
}

export default function TenantDetail({ loaderData, actionData }: Route.ComponentProps) {
  const { csrf, may, detail } = loaderData;
  const { tenant, billing, entitlements, overrides, members, audit, usage } = detail;
  const sub = billing.subscription;
  return (
    <main className="page">
      <p>
        <Link to="/tenants">← Tenants</Link>
      </p>
      <h1>
        {tenant.name} <span className="muted">({tenant.slug})</span>
      </h1>
      {actionData && "error" in actionData ? <p className="error">{actionData.error}</p> : null}
      {actionData && "ok" in actionData ? <p>{actionData.ok}</p> : null}

      <section className="card">
        <h2>Registry</h2>
        <Rows
          rows={[
            ["id", tenant.id],
            ["status", tenant.status],
            ["plan (registry)", tenant.plan],
            ["owner", tenant.owner_email],
            ["database binding", tenant.database_binding],
            ["schema version", tenant.schema_version],
            ["region", tenant.region],
            ["Stripe customer", tenant.stripe_customer_id],
            ["provisioning", tenant.provisioning_error ?? tenant.provisioning_step],
            ["created", tenant.created_at],
          ]}
        />
        {may.suspend ? (
          <Form method="post">
            <input type="hidden" name="csrf" value={csrf} />
            <input
              type="hidden"
              name="intent"
              value={tenant.status === "suspended" ? "reactivate" : "suspend"}
            />
            <ReasonField />
            <button type="submit" className={tenant.status === "suspended" ? undefined : "danger"}>
              {tenant.status === "suspended" ? "Reactivate" : "Suspend"}
            </button>
            <p className="muted">
              A suspended tenant's API answers 403 <code>tenant_suspended</code> within 30 seconds
              (the API worker caches registry rows for REGISTRY_CACHE_TTL_SECONDS, at most 30).
              Reactivation takes effect at once.
            </p>
          </Form>
        ) : null}
      </section>

      <section className="card">
        <h2>Billing</h2>
        <Rows
          rows={[
            ["access now", billing.access],
            ["plan in effect", billing.effective_plan],
            ["grace ends", billing.grace_ends_at],
            ["subscription", sub?.id],
            ["Stripe status", sub?.status],
            ["subscribed plan", sub ? `${sub.plan} (${text(sub.interval)})` : null],
            ["period ends", sub?.current_period_end],
            ["cancels at period end", sub ? String(sub.cancel_at_period_end) : null],
            ["past due since", sub?.past_due_since],
            ["synced from Stripe", sub?.synced_at],
          ]}
        />
        {may.plan ? (
          <Form method="post">
            <input type="hidden" name="csrf" value={csrf} />
            <input type="hidden" name="intent" value="plan" />
            <label>
              Change plan in Stripe{" "}
              <select name="plan" defaultValue="pro">
                <option value="pro">pro</option>
                <option value="business">business</option>
                <option value="enterprise">enterprise</option>
              </select>
            </label>{" "}
            <select name="interval" defaultValue="" aria-label="Interval">
              <option value="">keep interval</option>
              <option value="month">monthly</option>
              <option value="year">yearly</option>
            </select>{" "}
            <ReasonField />
            <button type="submit">Update subscription</button>
            <p className="muted">
              Stripe stays the authority: this updates the subscription, and the plan here follows
              when its webhook arrives. To give more without billing, add an override with an expiry
              (a comp).
            </p>
          </Form>
        ) : null}
      </section>

      <EntitlementsSection
        entitlements={entitlements}
        overrides={overrides}
        csrf={csrf}
        may={may.overrides}
      />
      <UsageSection usage={usage} />
      <MembersSection members={members} />
      <AuditSection audit={audit} />
    </main>
  );
}
