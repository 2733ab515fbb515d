import type { EmulatorState } from "../state.js";

/** Meter aggregation (`sum`, `count`, `last`) over [start, end). */
export function aggregateUsage(
  state: EmulatorState,
  meterId: string,
  customerId: string,
  start: number,
  end: number,
): number {
  const meter = state.meters.get(meterId);
  if (!meter) return 0;
  const events = state.meterEvents
    .filter(
      (e) =>
        e.eventName === meter.event_name &&
        e.customer === customerId &&
        e.timestamp >= start &&
        e.timestamp < end,
    )
    .sort((a, b) => a.timestamp - b.timestamp);
  switch (meter.default_aggregation.formula) {
    case "count":
      return events.length;
    case "last":
      return events.at(-1)?.value ?? 0;
    default:
      return events.reduce((sum, e) => sum + e.value, 0);
  }
}
