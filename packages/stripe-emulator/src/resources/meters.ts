import { aggregateUsage } from "../billing/usage.js";
import { invalidParam, invalidRequest, missingParam, noSuch } from "../errors.js";
import { paginate } from "../list.js";
import { ID_PREFIX, newId, randomString } from "../random.js";
import type { Route } from "../router.js";
import { type EmulatorState, previousAttributes, type StoredMeterEvent } from "../state.js";
import type { WireMeter, WireMeterEvent, WireMeterEventSummary } from "../wire.js";

const DAY = 86_400;
/** https://docs.stripe.com/api/billing/meter-event/create#create_billing_meter_event-identifier */
const IDENTIFIER_WINDOW = DAY;

export function getMeter(state: EmulatorState, id: string, param = "id"): WireMeter {
  const meter = state.meters.get(id);
  if (!meter) throw noSuch("billing.meter", id, param, param === "id" ? 404 : 400);
  return meter;
}

function activeMeterFor(state: EmulatorState, eventName: string): WireMeter | undefined {
  return [...state.meters.values()].find(
    (m) => m.event_name === eventName && m.status === "active",
  );
}

function setStatus(
  state: EmulatorState,
  meter: WireMeter,
  status: "active" | "inactive",
): WireMeter {
  const before = structuredClone(meter);
  const at = state.now();
  if (status === "active" && activeMeterFor(state, meter.event_name)) {
    throw invalidRequest(
      `An active meter already uses the event name \`${meter.event_name}\`.`,
      "event_name",
    );
  }
  meter.status = status;
  meter.status_transitions.deactivated_at = status === "inactive" ? at : null;
  meter.updated = at;
  state.emit(
    status === "inactive" ? "billing.meter.deactivated" : "billing.meter.reactivated",
    meter,
    at,
    previousAttributes(before, meter),
  );
  return meter;
}

/** Drops identifiers older than the 24-hour uniqueness window. */
function pruneIdentifiers(state: EmulatorState, now: number): void {
  for (const [identifier, event] of state.meterIdentifiers) {
    if (event.receivedAt + IDENTIFIER_WINDOW <= now) state.meterIdentifiers.delete(identifier);
  }
}

function toWire(event: StoredMeterEvent): WireMeterEvent {
  return {
    object: "billing.meter_event",
    created: event.created,
    event_name: event.eventName,
    identifier: event.identifier,
    livemode: false,
    payload: { ...event.payload },
    timestamp: event.timestamp,
  };
}

export const meterRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/billing/meters",
    handler: ({ state, params }) => {
      const displayName = params.reqStr("display_name");
      const eventName = params.reqStr("event_name");
      const aggregation = params.obj("default_aggregation");
      if (!aggregation) throw missingParam("default_aggregation");
      const formula = aggregation.enumOf("formula", ["count", "last", "sum"] as const);
      if (!formula) throw missingParam("default_aggregation[formula]");
      // An event name belongs to one meter (https://docs.stripe.com/billing/subscriptions/usage-based/meters/configure).
      if (activeMeterFor(state, eventName)) {
        throw invalidParam(
          "event_name",
          `An active meter already uses the event name \`${eventName}\`.`,
        );
      }
      const mapping = params.obj("customer_mapping");
      const valueSettings = params.obj("value_settings");
      const at = state.now();
      const meter: WireMeter = {
        id: newId(ID_PREFIX.meter),
        object: "billing.meter",
        created: at,
        customer_mapping: {
          event_payload_key: mapping?.str("event_payload_key") ?? "stripe_customer_id",
          type: "by_id",
        },
        default_aggregation: { formula },
        display_name: displayName,
        event_name: eventName,
        event_time_window: params.enumOf("event_time_window", ["day", "hour"] as const) ?? null,
        livemode: false,
        status: "active",
        status_transitions: { deactivated_at: null },
        updated: at,
        value_settings: { event_payload_key: valueSettings?.str("event_payload_key") ?? "value" },
      };
      state.meters.set(meter.id, meter);
      state.track(meter.id);
      state.emit("billing.meter.created", meter, at);
      return meter;
    },
  },
  {
    method: "GET",
    pattern: "/v1/billing/meters",
    handler: ({ state, params }) => {
      const status = params.enumOf("status", ["active", "inactive"] as const);
      // `event_name` is an emulator extension: Stripe's list has no such filter.
      const eventName = params.str("event_name");
      const all = state
        .newestFirst(state.meters.values())
        .filter(
          (m) =>
            (status === undefined || m.status === status) &&
            (eventName === undefined || m.event_name === eventName),
        );
      return paginate(all, params, "/v1/billing/meters");
    },
  },
  {
    method: "GET",
    pattern: "/v1/billing/meters/:id",
    handler: ({ state, path }) => getMeter(state, path.id ?? ""),
  },
  {
    method: "POST",
    pattern: "/v1/billing/meters/:id",
    handler: ({ state, params, path }) => {
      const meter = getMeter(state, path.id ?? "");
      const before = structuredClone(meter);
      const displayName = params.str("display_name");
      if (displayName) meter.display_name = displayName;
      const prev = previousAttributes(before, meter);
      if (Object.keys(prev).length > 0) {
        meter.updated = state.now();
        state.emit("billing.meter.updated", meter, meter.updated, prev);
      }
      return meter;
    },
  },
  {
    method: "POST",
    pattern: "/v1/billing/meters/:id/deactivate",
    handler: ({ state, path }) => setStatus(state, getMeter(state, path.id ?? ""), "inactive"),
  },
  {
    method: "POST",
    pattern: "/v1/billing/meters/:id/reactivate",
    handler: ({ state, path }) => setStatus(state, getMeter(state, path.id ?? ""), "active"),
  },
  {
    method: "GET",
    pattern: "/v1/billing/meters/:id/event_summaries",
    handler: ({ state, params, path }) => {
      const meter = getMeter(state, path.id ?? "");
      const customer = params.reqStr("customer");
      const start = params.reqInt("start_time");
      const end = params.reqInt("end_time");
      const window = params.enumOf("value_grouping_window", ["day", "hour"] as const);
      const step = window === "day" ? DAY : window === "hour" ? 3600 : 60;
      // Boundaries must align to minutes, or to the grouping window
      // (https://docs.stripe.com/api/billing/meter-event-summary/list).
      for (const [name, value] of [
        ["start_time", start],
        ["end_time", end],
      ] as const) {
        if (value % step !== 0) {
          throw invalidParam(
            name,
            `${name} must be aligned with ${window ?? "minute"} boundaries.`,
          );
        }
      }
      if (start >= end) throw invalidParam("start_time", "start_time must be before end_time.");
      const windows: [number, number][] = [];
      if (window)
        for (let t = start; t < end; t += step) windows.push([t, Math.min(t + step, end)]);
      else windows.push([start, end]);
      const summaries: WireMeterEventSummary[] = windows.map(([s, e]) => ({
        id: `${ID_PREFIX.meterEventSummary}${meter.id.slice(ID_PREFIX.meter.length, ID_PREFIX.meter.length + 10)}${s.toString(36)}${e.toString(36)}`,
        object: "billing.meter_event_summary",
        aggregated_value: aggregateUsage(state, meter.id, customer, s, e),
        end_time: e,
        livemode: false,
        meter: meter.id,
        start_time: s,
      }));
      return paginate(summaries, params, `/v1/billing/meters/${meter.id}/event_summaries`);
    },
  },
  {
    method: "POST",
    pattern: "/v1/billing/meter_events",
    handler: ({ state, params }) => {
      const eventName = params.reqStr("event_name");
      const payloadParams = params.obj("payload");
      if (!payloadParams) throw missingParam("payload");
      const payload: Record<string, string> = {};
      for (const key of Object.keys(payloadParams.raw)) payload[key] = payloadParams.reqStr(key);
      const meter = activeMeterFor(state, eventName);
      const customerKey = meter?.customer_mapping.event_payload_key ?? "stripe_customer_id";
      const valueKey = meter?.value_settings.event_payload_key ?? "value";
      const customer = payload[customerKey];
      if (!customer) throw missingParam(`payload[${customerKey}]`);
      const rawValue =
        payload[valueKey] ?? (meter?.default_aggregation.formula === "count" ? "1" : undefined);
      if (rawValue === undefined) throw missingParam(`payload[${valueKey}]`);
      const value = Number(rawValue);
      if (!Number.isFinite(value) || rawValue.trim() === "") {
        throw invalidParam(`payload[${valueKey}]`, `Invalid value: ${rawValue} is not a number.`);
      }
      const now = state.nowFor(state.customers.has(customer) ? customer : null);
      const timestamp = params.int("timestamp") ?? now;
      // https://docs.stripe.com/api/billing/meter-event/create#create_billing_meter_event-timestamp
      if (timestamp < now - 35 * DAY || timestamp > now + 300) {
        throw invalidParam(
          "timestamp",
          "The timestamp must be within the past 35 calendar days or up to 5 minutes in the future.",
        );
      }
      const identifier = params.str("identifier") ?? `emu_${randomString(24)}`;
      state.meterSubmissions.set(identifier, (state.meterSubmissions.get(identifier) ?? 0) + 1);
      const received = state.now();
      pruneIdentifiers(state, received);
      // Stripe enforces identifier uniqueness for at least 24 hours and rejects the repeat with a
      // 400 that must not be retried (observed: "An event already exists with identifier …",
      // stripe-should-retry: false — https://github.com/langfuse/langfuse/pull/16292).
      if (state.meterIdentifiers.has(identifier)) {
        const error = invalidParam(
          "identifier",
          `An event already exists with identifier ${identifier}.`,
        );
        error.headers["Stripe-Should-Retry"] = "false";
        throw error;
      }
      const event: StoredMeterEvent = {
        identifier,
        eventName,
        customer,
        value,
        timestamp,
        created: now,
        receivedAt: received,
        payload,
      };
      state.meterEvents.push(event);
      state.meterIdentifiers.set(identifier, event);
      return toWire(event);
    },
  },
];
