import { noSuch } from "../errors.js";
import { matchesRange, paginate } from "../list.js";
import type { Route } from "../router.js";

export const eventRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/v1/events",
    handler: ({ state, params }) => {
      const type = params.str("type");
      const types = params.strings("types");
      const deliverySuccess = params.bool("delivery_success");
      // `type` accepts `*` wildcards such as `customer.subscription.*` (https://docs.stripe.com/api/events/list).
      const pattern = type
        ? new RegExp(`^${type.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`)
        : null;
      const all = state
        .newestFirst(state.events.values())
        .filter(
          (e) =>
            (pattern === null || pattern.test(e.type)) &&
            (types === undefined || types.includes(e.type)) &&
            (deliverySuccess === undefined || (e.pending_webhooks === 0) === deliverySuccess) &&
            matchesRange(params, "created", e.created),
        );
      return paginate(all, params, "/v1/events");
    },
  },
  {
    method: "GET",
    pattern: "/v1/events/:id",
    handler: ({ state, path }) => {
      const event = state.events.get(path.id ?? "");
      if (!event) throw noSuch("event", path.id ?? "");
      return event;
    },
  },
];
