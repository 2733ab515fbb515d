import { invalidParam, missingParam, noSuch } from "../errors.js";
import { paginate } from "../list.js";
import { ID_PREFIX, newId, randomString } from "../random.js";
import type { Route } from "../router.js";
import { DEFAULT_API_VERSION, type EmulatorState, type WebhookEndpointRecord } from "../state.js";
import type { WireWebhookEndpoint } from "../wire.js";

export function getEndpoint(state: EmulatorState, id: string): WebhookEndpointRecord {
  const record = state.webhookEndpoints.get(id);
  if (!record) throw noSuch("webhook_endpoint", id);
  return record;
}

function assertUrl(url: string): void {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
  } catch {
    throw invalidParam("url", `Invalid URL: ${url}`, "url_invalid");
  }
}

export function addEndpoint(
  state: EmulatorState,
  input: {
    url: string;
    enabledEvents?: string[];
    secret?: string;
    description?: string | null;
    metadata?: Record<string, string>;
    apiVersion?: string | null;
  },
): WebhookEndpointRecord {
  assertUrl(input.url);
  const secret = input.secret ?? `${ID_PREFIX.webhookSecret}${randomString(32)}`;
  const endpoint: WireWebhookEndpoint = {
    id: newId(ID_PREFIX.webhookEndpoint),
    object: "webhook_endpoint",
    api_version: input.apiVersion ?? DEFAULT_API_VERSION,
    application: null,
    created: state.now(),
    description: input.description ?? null,
    enabled_events: input.enabledEvents ?? ["*"],
    livemode: false,
    metadata: input.metadata ?? {},
    status: "enabled",
    url: input.url,
  };
  const record = { endpoint, secret };
  state.webhookEndpoints.set(endpoint.id, record);
  state.track(endpoint.id);
  return record;
}

export const webhookEndpointRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/webhook_endpoints",
    handler: ({ state, params }) => {
      const url = params.reqStr("url");
      const enabledEvents = params.strings("enabled_events");
      if (!enabledEvents || enabledEvents.length === 0) throw missingParam("enabled_events");
      const record = addEndpoint(state, {
        url,
        enabledEvents,
        description: params.str("description") ?? null,
        metadata: params.metadata(),
        apiVersion: params.str("api_version") ?? null,
      });
      // The secret is only returned on creation (https://docs.stripe.com/api/webhook_endpoints/object#webhook_endpoint_object-secret).
      return { ...structuredClone(record.endpoint), secret: record.secret };
    },
  },
  {
    method: "GET",
    pattern: "/v1/webhook_endpoints",
    handler: ({ state, params }) =>
      paginate(
        state.newestFirst([...state.webhookEndpoints.values()].map((r) => r.endpoint)),
        params,
        "/v1/webhook_endpoints",
      ),
  },
  {
    method: "GET",
    pattern: "/v1/webhook_endpoints/:id",
    handler: ({ state, path }) => getEndpoint(state, path.id ?? "").endpoint,
  },
  {
    method: "POST",
    pattern: "/v1/webhook_endpoints/:id",
    handler: ({ state, params, path }) => {
      const { endpoint } = getEndpoint(state, path.id ?? "");
      const url = params.str("url");
      if (url !== undefined) {
        assertUrl(url);
        endpoint.url = url;
      }
      const enabledEvents = params.strings("enabled_events");
      if (enabledEvents && enabledEvents.length > 0) endpoint.enabled_events = enabledEvents;
      const disabled = params.bool("disabled");
      if (disabled !== undefined) endpoint.status = disabled ? "disabled" : "enabled";
      const description = params.nullableStr("description");
      if (description !== undefined) endpoint.description = description;
      endpoint.metadata = params.metadata(endpoint.metadata);
      return endpoint;
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/webhook_endpoints/:id",
    handler: ({ state, path }) => {
      const { endpoint } = getEndpoint(state, path.id ?? "");
      state.webhookEndpoints.delete(endpoint.id);
      return { id: endpoint.id, object: "webhook_endpoint", deleted: true };
    },
  },
];
