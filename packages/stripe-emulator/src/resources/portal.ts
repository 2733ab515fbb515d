import { ID_PREFIX, newId } from "../random.js";
import type { Route } from "../router.js";
import type { WirePortalSession } from "../wire.js";
import { getCustomer } from "./customers.js";

export const portalRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/billing_portal/sessions",
    handler: ({ state, params, origin }) => {
      const customer = params.reqStr("customer");
      getCustomer(state, customer, "customer");
      const id = newId(ID_PREFIX.portalSession);
      const session: WirePortalSession = {
        id,
        object: "billing_portal.session",
        configuration: params.str("configuration") ?? state.portalConfigurationId,
        created: state.now(),
        customer,
        customer_account: null,
        flow: null,
        livemode: false,
        locale: null,
        on_behalf_of: null,
        return_url: params.str("return_url") ?? null,
        url: `${origin}/portal/${id}`,
      };
      state.portalSessions.set(id, session);
      state.track(id);
      return session;
    },
  },
];
