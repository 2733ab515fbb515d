import type { EmulatorState, StoredMeterEvent } from "./state.js";
import type { DispatcherSnapshot } from "./webhooks.js";

/**
 * Everything the emulator knows, as JSON: the standalone server writes it to a file so that
 * restarting `npm run dev` keeps local tenants' customers, subscriptions and plans. Bump
 * `SNAPSHOT_VERSION` when a record's shape changes; an old file is then refused, not misread.
 */
export const SNAPSHOT_VERSION = 1;

const MAPS = [
  "customers",
  "products",
  "prices",
  "subscriptions",
  "items",
  "subInternal",
  "invoices",
  "invoiceItems",
  "paymentMethods",
  "checkoutSessions",
  "portalSessions",
  "meters",
  "meterIdentifiers",
  "meterSubmissions",
  "events",
  "testClocks",
  "webhookEndpoints",
  "paymentOutcomes",
  "idempotency",
] as const satisfies readonly (keyof EmulatorState)[];

type MapKey = (typeof MAPS)[number];

export interface EmulatorSnapshot {
  version: typeof SNAPSHOT_VERSION;
  maps: Record<MapKey, [string, unknown][]>;
  meterEvents: StoredMeterEvent[];
  portalConfigurationId: string;
  clockOffsetSeconds: number;
  /** Creation order of every object (lists are newest first). */
  order: [string, number][];
  /** Deliveries still queued, so a restart neither loses nor repeats them. */
  webhooks: DispatcherSnapshot;
}

export function snapshotState(
  state: EmulatorState,
  webhooks: DispatcherSnapshot,
): EmulatorSnapshot {
  const maps = {} as EmulatorSnapshot["maps"];
  for (const key of MAPS) maps[key] = [...(state[key] as Map<string, unknown>)];
  return structuredClone({
    version: SNAPSHOT_VERSION,
    maps,
    meterEvents: state.meterEvents,
    portalConfigurationId: state.portalConfigurationId,
    clockOffsetSeconds: state.clockOffsetSeconds,
    order: state.creationOrder(),
    webhooks,
  });
}

/** Loads a snapshot into a fresh state. Throws on a snapshot of another version. */
export function restoreState(state: EmulatorState, snapshot: EmulatorSnapshot): void {
  if (snapshot.version !== SNAPSHOT_VERSION) {
    throw new Error(
      `emulator state has version ${String(snapshot.version)}, this emulator reads version ${SNAPSHOT_VERSION}`,
    );
  }
  const copy = structuredClone(snapshot);
  for (const key of MAPS) {
    const target = state[key] as Map<string, unknown>;
    target.clear();
    for (const [id, value] of copy.maps[key] ?? []) target.set(id, value);
  }
  state.meterEvents.splice(0, state.meterEvents.length, ...copy.meterEvents);
  state.portalConfigurationId = copy.portalConfigurationId;
  state.clockOffsetSeconds = copy.clockOffsetSeconds;
  state.restoreCreationOrder(copy.order);
}
