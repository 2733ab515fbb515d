/**
 * The webhook intake: signatures verified on the raw body (nothing stored otherwise), the event
 * ledger (insert-or-ignore), and the path through the real BILLING queue to the consumer.
 */
import { describe, expect, it } from "vitest";
import {
  billingAudit,
  billingRow,
  checkout,
  createTenant,
  deliver,
  eventually,
  fakeEvent,
  ledgerRow,
  request,
  sign,
  wenv,
} from "./helpers";

async function expectRefused(body: string, signature: string | undefined, detail: RegExp) {
  const res = await deliver(body, signature);
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(res.body).toMatchObject({ status: 400, code: "invalid_signature" });
  expect(res.body.detail).toMatch(detail);
  expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
  expect(await ledgerRow(JSON.parse(body).id)).toBeNull();
}

describe("signature verification", () => {
  const body = JSON.stringify(fakeEvent({ object: "subscription", customer: "cus_sig" }));
  const now = () => Math.floor(Date.now() / 1000);

  it("refuses a missing header", async () => {
    await expectRefused(body, undefined, /missing/);
  });

  it("refuses a signature made with the wrong secret", async () => {
    await expectRefused(body, await sign(body, { secret: "whsec_wrong" }), /signature/i);
  });

  it("refuses an altered body", async () => {
    const signature = await sign(body);
    const altered = body.replace("cus_sig", "cus_evil");
    await expectRefused(altered, signature, /signature/i);
  });

  it("refuses a stale timestamp (older than 300 s)", async () => {
    await expectRefused(body, await sign(body, { timestamp: now() - 301 }), /tolerance/i);
  });

  it("refuses a timestamp too far in the future", async () => {
    await expectRefused(body, await sign(body, { timestamp: now() + 301 }), /future/i);
  });

  it("refuses a malformed header", async () => {
    await expectRefused(body, "garbage", /signature/i);
  });

  it("accepts a timestamp within the tolerance either way", async () => {
    for (const offset of [-290, 0, 290]) {
      const event = JSON.stringify(fakeEvent({ object: "subscription", customer: "cus_sig" }));
      const res = await deliver(event, await sign(event, { timestamp: now() + offset }));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  });

  it("answers 405 to other methods and 404 elsewhere, as problems", async () => {
    const get = await request("GET", "/stripe/webhook");
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const other = await request("POST", "/stripe/other");
    expect(other.status).toBe(404);
    expect(other.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("the event ledger", () => {
  it("records a verified event once; a duplicate delivery is recognised", async () => {
    const event = fakeEvent({ object: "invoice", customer: "cus_nobody_1" });
    const body = JSON.stringify(event);
    const first = await deliver(body, await sign(body));
    expect(first).toMatchObject({ status: 200, body: { received: true, outcome: "queued" } });
    const again = await deliver(body, await sign(body));
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe("duplicate");
    const rows = await wenv.CONTROL_DB.prepare(
      "SELECT COUNT(*) AS n FROM stripe_events WHERE id = ?",
    )
      .bind(event.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
  });

  it("records an event that names no customer as ignored, without enqueueing it", async () => {
    const event = fakeEvent({ object: "product", id: "prod_x" }, "product.updated");
    const body = JSON.stringify(event);
    const res = await deliver(body, await sign(body));
    expect(res.body.outcome).toBe("ignored");
    expect(await ledgerRow(event.id)).toMatchObject({
      state: "ignored",
      error: "the event names no customer",
    });
  });

  it("records events of unknown customers, not fatal: the consumer marks them ignored", async () => {
    const event = fakeEvent({ object: "subscription", customer: "cus_unknown_tenant" });
    const body = JSON.stringify(event);
    expect((await deliver(body, await sign(body))).status).toBe(200);
    const row = await eventually(async () => {
      const r = await ledgerRow(event.id);
      return r?.state === "ignored" ? r : null;
    });
    expect(row.error).toContain("no tenant has Stripe customer cus_unknown_tenant");
  });
});

describe("the development ledger summary", () => {
  it("counts ledger rows by state", async () => {
    const event = fakeEvent({ object: "product", id: "prod_y" }, "product.created");
    const body = JSON.stringify(event);
    await deliver(body, await sign(body));
    const res = await request("GET", "/_dev/ledger");
    expect(res.status).toBe(200);
    expect(res.body.states.ignored).toBeGreaterThanOrEqual(1);
  });
});

describe("from the intake through the real queue to the tenant", () => {
  it("a checkout's events reach the consumer, which re-syncs from Stripe and audits the change", async () => {
    const tenant = await createTenant();
    await checkout(tenant, "business_month");
    // Deliver what Stripe would have sent: the emulator's events for this customer.
    const events = (await (await import("./helpers")).stripe().events.list({ limit: 100 })).data
      .filter((e) => JSON.stringify(e.data.object).includes(tenant.stripeCustomerId))
      .reverse();
    expect(events.length).toBeGreaterThan(1);
    for (const event of events) {
      const body = JSON.stringify(event);
      const res = await deliver(body, await sign(body));
      expect(res.status).toBe(200);
    }
    const row = await eventually(async () => {
      const r = await billingRow(tenant.id);
      return r?.status === "active" ? r : null;
    });
    expect(row).toMatchObject({ plan: "business", tenantPlan: "business", interval: "month" });
    await eventually(async () => {
      const states = await wenv.CONTROL_DB.prepare(
        `SELECT COUNT(*) AS n FROM stripe_events WHERE customer_id = ? AND state = 'processed'`,
      )
        .bind(tenant.stripeCustomerId)
        .first<{ n: number }>();
      return states?.n === events.length;
    });
    const audit = await billingAudit(tenant);
    expect(audit).toHaveLength(1);
    // The tenant's meter (in the API worker) was told to re-read its limits.
    // Addressed as `meterFor` does; `refreshes` is the stand-in's own, not the meter contract's.
    const meters = wenv.TENANT_METER as unknown as {
      getByName(name: string): { refreshes(): Promise<number> };
    };
    expect(await meters.getByName(tenant.id).refreshes()).toBe(1);
    expect(audit[0]).toMatchObject({
      actor_type: "system",
      actor_id: "stripe",
      before: { plan: "free", status: null, access: "free_limits" },
      after: { plan: "business", status: "active", access: "full" },
    });
  });

  it("a customer whose re-sync keeps failing ends in the dead-letter queue; the ledger says why", async () => {
    const tenant = await createTenant();
    await checkout(tenant);
    // Its database is not bound to this worker: recording the change fails every time.
    await wenv.CONTROL_DB.prepare(
      "UPDATE tenants SET database_binding = 'TENANT_DB_9999' WHERE id = ?",
    )
      .bind(tenant.id)
      .run();
    const event = fakeEvent({ object: "subscription", customer: tenant.stripeCustomerId });
    const body = JSON.stringify(event);
    expect((await deliver(body, await sign(body))).status).toBe(200);
    const row = await eventually(async () => {
      const r = await ledgerRow(event.id);
      return r?.state === "failed" ? r : null;
    }, 60_000);
    expect(row.attempts).toBe(2);
    expect(row.error).toContain("TENANT_DB_9999 is not bound");
  });
});
