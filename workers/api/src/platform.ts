// The one place the platform reads the product's registration (`./product/index.ts`); no other
// platform module names the product or its entities.
import { product } from "./product/index";

export const productRoutes = product.routes;

/**
 * The product's gauges: limit key → the tenant table counted per `tenant_id` when the meter
 * re-derives the gauge (the platform's own gauge, `seats`, counts `members`).
 */
export const productGauges = product.gauges;
