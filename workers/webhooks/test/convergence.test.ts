/**
 * Convergence: a subscription lifecycle (checkout → active → plan change → renewal fails →
 * past_due → paid → cancel at period end → canceled, or a random prefix of it) whose events
 * reach the consumer in 200 seeded random orders — duplicated, dropped and redelivered later,
 * in random batches, sometimes two batches at once, with consumer crashes before and after the
 * re-sync applied. Every time, the tenant's billing state ends equal to the emulator's truth.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { effectivePlan, syncTenantBilling } from "@tenantry/core";
import { parseLookupKey } from "@tenantry/plans";
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../packages/stripe-emulator/src/random";
import { type ConsumerDeps, consumeBillingBatch } from "../src/consumer";
import type { BillingMessage } from "../src/env";
import { customerOf } from "../src/ledger";
import {
  billingAudit,
  billingRow,
  checkout,
  createTenant,
  emulatorControl,
  newCustomer,
  priceId,
  stripe,
  type TestTenant,
  wenv,
} from "./helpers";

const RUNS = 200;
const HOUR = 3600;

interface Queued {
  id: string;
  attempts: number;
  body: BillingMessage;
}

/** Stripe's events since the last call that concern `customer`, oldest first. */
function eventFeed(customer: () => string) {
  let cursor: string | undefined;
  return async (): Promise<Stripe.Event[]> => {
    const fresh: Stripe.Event[] = [];
    for (;;) {
      const page = await stripe().events.list({
        limit: 100,
        ...(cursor ? { ending_before: cursor } : {}),
      });
      if (page.data.length === 0) break;
      cursor = page.data[0]!.id;
      fresh.push(...page.data);
      if (!page.has_more) break;
    }
    return fresh.filter((e) => customerOf(e) === customer()).reverse();
  };
}

async function lifecycle(tenant: TestTenant, steps: number, afterStep: () => Promise<void>) {
  const sub = await checkout(tenant, "pro_month");
  await afterStep();
  const periodEnd = sub.items.data[0]!.current_period_end;
  const actions = [
    async () => {
      await stripe().subscriptions.update(sub.id, {
        items: [{ id: sub.items.data[0]!.id, price: await priceId("business_month") }],
        proration_behavior: "create_prorations",
      });
    },
    async () => {
      await emulatorControl(`/customers/${tenant.stripeCustomerId}/payment_outcome`, {
        outcome: "fail",
      });
      await stripe().testHelpers.testClocks.advance(tenant.clock, {
        frozen_time: periodEnd + HOUR,
      });
    },
    async () => {
      await emulatorControl(`/customers/${tenant.stripeCustomerId}/payment_outcome`, {
        outcome: "succeed",
      });
      const current = await stripe().subscriptions.retrieve(sub.id);
      await stripe().invoices.pay(current.latest_invoice as string);
    },
    async () => {
      await stripe().subscriptions.update(sub.id, { cancel_at_period_end: true });
    },
    async () => {
      const current = await stripe().subscriptions.retrieve(sub.id);
      await stripe().testHelpers.testClocks.advance(tenant.clock, {
        frozen_time: current.items.data[0]!.current_period_end + HOUR,
      });
    },
  ];
  for (const action of actions.slice(0, steps)) {
    await action();
    await afterStep();
  }
}

/** What Stripe says, in the shape the platform stores. */
async function truth(customer: string) {
  const subs = await stripe().subscriptions.list({ customer, status: "all", limit: 10 });
  const sub = [...subs.data].sort((a, b) => b.created - a.created)[0]!;
  const item = sub.items.data[0]!;
  const parsed = parseLookupKey(item.price.lookup_key ?? "");
  return {
    stripe_subscription_id: sub.id,
    status: sub.status,
    plan: parsed?.plan,
    current_period_end: item.current_period_end * 1000,
    cancel_at_period_end: sub.cancel_at_period_end ? 1 : 0,
  };
}

describe("convergence under any delivery order", () => {
  it(`reaches the emulator's truth in ${RUNS} random orders with duplicates, drops and crashes`, async () => {
    let tenant = await createTenant();
    const statuses = new Map<string, number>();
    let crashes = 0;
    let duplicates = 0;
    let redelivered = 0;
    let msgSeq = 0;
    for (let run = 0; run < RUNS; run++) {
      const random = seededRandom(1000 + run);
      tenant = await newCustomer(tenant);
      const feed = eventFeed(() => tenant.stripeCustomerId);
      let pending: Stripe.Event[] = [];
      let queue: Queued[] = [];

      const deliver = (probability: number) => {
        const kept: Stripe.Event[] = [];
        for (const event of pending.sort(() => random() - 0.5)) {
          if (random() < probability) {
            queue.push({
              id: `m${++msgSeq}`,
              attempts: 1,
              body: {
                event_id: event.id,
                event_type: event.type,
                customer_id: tenant.stripeCustomerId,
                tenant_id: tenant.id,
                received_at: Date.now(),
              },
            });
          } else {
            kept.push(event); // dropped for now; Stripe redelivers it later
            redelivered++;
          }
        }
        pending = kept;
      };

      const consumeOne = async (allowCrash: boolean) => {
        if (queue.length === 0) return;
        queue.sort(() => random() - 0.5);
        const size = 1 + Math.floor(random() * Math.min(queue.length, 6));
        const taken = queue.slice(0, size);
        queue = queue.slice(size);
        const roll = random();
        const crash = allowCrash && taken.every((m) => m.attempts < 4) ? roll : 1;
        const deps: ConsumerDeps = {
          sync: async (env, t, ctx) => {
            if (crash < 0.08) throw new Error("consumer crashed before the re-sync");
            const row = await syncTenantBilling(env, t, ctx);
            if (crash < 0.16) throw new Error("consumer crashed after the re-sync applied");
            return row;
          },
        };
        if (crash < 0.16) crashes++;
        const batch = createMessageBatch<BillingMessage>(
          "tenantry-billing",
          taken.map((m) => ({ ...m, timestamp: Date.now() })),
        );
        const ctx = createExecutionContext();
        await consumeBillingBatch(wenv, batch, deps);
        const result = await getQueueResult(batch, ctx);
        const retried = new Set(result.retryMessages.map((r) => r.msgId));
        for (const m of taken) {
          if (retried.has(m.id)) queue.push({ ...m, attempts: m.attempts + 1 });
        }
      };

      const consume = async (allowCrash: boolean) => {
        // Sometimes two batches at once, as concurrent consumer invocations would.
        if (random() < 0.25) await Promise.all([consumeOne(allowCrash), consumeOne(allowCrash)]);
        else await consumeOne(allowCrash);
      };

      const afterStep = async () => {
        for (const event of await feed()) {
          pending.push(event);
          if (random() < 0.3) {
            pending.push(event);
            duplicates++;
          }
        }
        deliver(0.5);
        if (random() < 0.7) await consume(true);
      };

      const steps = random() < 0.5 ? 5 : Math.floor(random() * 5);
      await lifecycle(tenant, steps, afterStep);
      // Whatever was dropped is redelivered; the consumer drains the queue.
      while (pending.length > 0 || queue.length > 0) {
        deliver(0.7);
        await consume(true);
      }

      const expected = await truth(tenant.stripeCustomerId);
      const row = (await billingRow(tenant.id))!;
      const context = `run ${run} (seed ${1000 + run}, ${steps} steps)`;
      expect(
        {
          stripe_subscription_id: row.stripeSubscriptionId,
          status: row.status,
          plan: row.plan,
          current_period_end: row.currentPeriodEnd,
          cancel_at_period_end: Number(row.cancelAtPeriodEnd),
        },
        context,
      ).toEqual(expected);
      const effective = effectivePlan(wenv, row);
      expect(row.tenantPlan, context).toBe(effective.plan);
      const recorded = JSON.parse(row.recordedState ?? "null");
      expect(recorded, context).toEqual({
        plan: effective.plan,
        status: expected.status,
        access: effective.access,
      });
      expect((await billingAudit(tenant)).at(-1)?.after, context).toEqual(recorded);
      statuses.set(expected.status, (statuses.get(expected.status) ?? 0) + 1);
    }
    // The runs covered every end state of the lifecycle, and the chaos really happened.
    expect([...statuses.keys()].sort()).toEqual(["active", "canceled", "past_due"]);
    expect(crashes).toBeGreaterThan(20);
    expect(duplicates).toBeGreaterThan(100);
    expect(redelivered).toBeGreaterThan(100);
  }, 600_000);
});
