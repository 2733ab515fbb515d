import { processDue } from "../billing/due.js";
import { invalidParam, invalidRequest, noSuch } from "../errors.js";
import { paginate } from "../list.js";
import { ID_PREFIX, newId } from "../random.js";
import type { Route } from "../router.js";
import type { EmulatorState } from "../state.js";
import type { WireTestClock } from "../wire.js";
import { expireCheckoutSession } from "./checkout.js";

const DAY = 86_400;

export function getTestClock(state: EmulatorState, id: string): WireTestClock {
  const clock = state.testClocks.get(id);
  if (!clock) throw noSuch("test_helpers.test_clock", id);
  return clock;
}

/**
 * Moves a clock forward and runs everything that falls due on the way (renewals, trial ends,
 * retries), in time order (https://docs.stripe.com/billing/testing/test-clocks).
 */
export function advanceTestClock(state: EmulatorState, clock: WireTestClock, target: number): void {
  processDue(state, clock.id, target, (id, at) => expireCheckoutSession(state, id, at));
  clock.frozen_time = target;
}

export const testClockRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/test_helpers/test_clocks",
    handler: ({ state, params }) => {
      const frozenTime = params.reqInt("frozen_time");
      const at = state.now();
      const clock: WireTestClock = {
        id: newId(ID_PREFIX.testClock),
        object: "test_helpers.test_clock",
        created: at,
        // Clocks are deleted 30 days after creation (https://docs.stripe.com/api/test_clocks/object).
        deletes_after: at + 30 * DAY,
        frozen_time: frozenTime,
        livemode: false,
        name: params.str("name") ?? null,
        status: "ready",
        status_details: {},
      };
      state.testClocks.set(clock.id, clock);
      state.track(clock.id);
      state.emit("test_helpers.test_clock.created", clock, at);
      return clock;
    },
  },
  {
    method: "GET",
    pattern: "/v1/test_helpers/test_clocks",
    handler: ({ state, params }) =>
      paginate(
        state.newestFirst(state.testClocks.values()),
        params,
        "/v1/test_helpers/test_clocks",
      ),
  },
  {
    method: "GET",
    pattern: "/v1/test_helpers/test_clocks/:id",
    handler: ({ state, path }) => getTestClock(state, path.id ?? ""),
  },
  {
    method: "POST",
    pattern: "/v1/test_helpers/test_clocks/:id/advance",
    handler: ({ state, params, path }) => {
      const clock = getTestClock(state, path.id ?? "");
      const target = params.reqInt("frozen_time");
      if (target <= clock.frozen_time) {
        throw invalidParam(
          "frozen_time",
          "The test clock can only be advanced to a time after its current frozen_time.",
        );
      }
      if (clock.status !== "ready") throw invalidRequest("The test clock is already advancing.");
      const previous = clock.frozen_time;
      const advancing: WireTestClock = {
        ...structuredClone(clock),
        status: "advancing",
        status_details: { advancing: { target_frozen_time: target } },
      };
      state.emit("test_helpers.test_clock.advancing", advancing, state.now());
      advanceTestClock(state, clock, target);
      state.emit("test_helpers.test_clock.ready", clock, state.now());
      // Stripe answers `advancing` and finishes asynchronously; the emulator finishes before
      // answering, so the next retrieve already reports `ready` at the new frozen_time.
      return { ...advancing, frozen_time: previous };
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/test_helpers/test_clocks/:id",
    handler: ({ state, path }) => {
      const clock = getTestClock(state, path.id ?? "");
      // Deleting a clock deletes the customers (and their subscriptions) attached to it.
      for (const customer of [...state.customers.values()]) {
        if (customer.test_clock !== clock.id) continue;
        for (const sub of [...state.subscriptions.values()]) {
          if (sub.customer === customer.id) state.subscriptions.delete(sub.id);
        }
        state.customers.delete(customer.id);
      }
      state.testClocks.delete(clock.id);
      state.emit("test_helpers.test_clock.deleted", clock, state.now());
      return { id: clock.id, object: "test_helpers.test_clock", deleted: true };
    },
  },
];
