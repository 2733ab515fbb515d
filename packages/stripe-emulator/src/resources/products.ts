import { invalidParam, invalidRequest, noSuch } from "../errors.js";
import { matchesRange, paginate } from "../list.js";
import type { Params } from "../params.js";
import { ID_PREFIX, newId } from "../random.js";
import type { Route } from "../router.js";
import { type EmulatorState, previousAttributes } from "../state.js";
import type { WireProduct } from "../wire.js";
import { createPrice, readPriceInput } from "./prices.js";

export function getProduct(state: EmulatorState, id: string, param = "id"): WireProduct {
  const product = state.products.get(id);
  if (!product) throw noSuch("product", id, param, param === "id" ? 404 : 400);
  return product;
}

export function createProduct(
  state: EmulatorState,
  input: {
    id?: string;
    name: string;
    active?: boolean;
    description?: string | null;
    metadata?: Record<string, string>;
    unitLabel?: string | null;
    url?: string | null;
    taxCode?: string | null;
  },
): WireProduct {
  const at = state.now();
  const product: WireProduct = {
    id: input.id ?? newId(ID_PREFIX.product, 14),
    object: "product",
    active: input.active ?? true,
    created: at,
    default_price: null,
    description: input.description ?? null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: input.metadata ?? {},
    name: input.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: input.taxCode ?? null,
    tax_details: null,
    type: "service",
    unit_label: input.unitLabel ?? null,
    updated: at,
    url: input.url ?? null,
  };
  state.products.set(product.id, product);
  state.track(product.id);
  state.emit("product.created", product, at);
  return product;
}

function productFromParams(state: EmulatorState, params: Params): WireProduct {
  const id = params.str("id");
  if (id !== undefined && state.products.has(id)) {
    throw invalidRequest(`Product already exists.`, "id", "resource_already_exists");
  }
  const product = createProduct(state, {
    id,
    name: params.reqStr("name"),
    active: params.bool("active"),
    description: params.str("description"),
    metadata: params.metadata(),
    unitLabel: params.str("unit_label"),
    url: params.str("url"),
    taxCode: params.str("tax_code"),
  });
  const defaultPriceData = params.obj("default_price_data");
  if (defaultPriceData) {
    const price = createPrice(state, {
      ...readPriceInput(state, defaultPriceData),
      product: product.id,
    });
    product.default_price = price.id;
  }
  return product;
}

export const productRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/products",
    handler: ({ state, params }) => productFromParams(state, params),
  },
  {
    method: "GET",
    pattern: "/v1/products",
    handler: ({ state, params }) => {
      const active = params.bool("active");
      const ids = params.strings("ids");
      const url = params.str("url");
      const all = state
        .newestFirst(state.products.values())
        .filter(
          (p) =>
            (active === undefined || p.active === active) &&
            (ids === undefined || ids.includes(p.id)) &&
            (url === undefined || p.url === url) &&
            matchesRange(params, "created", p.created),
        );
      return paginate(all, params, "/v1/products");
    },
  },
  {
    method: "GET",
    pattern: "/v1/products/:id",
    handler: ({ state, path }) => getProduct(state, path.id ?? ""),
  },
  {
    method: "POST",
    pattern: "/v1/products/:id",
    handler: ({ state, params, path }) => {
      const product = getProduct(state, path.id ?? "");
      const before = structuredClone(product);
      const name = params.str("name");
      if (name !== undefined) {
        if (name === "")
          throw invalidParam(
            "name",
            "You passed an empty string for 'name'. We assume empty values are an attempt to unset a parameter; however 'name' cannot be unset.",
            "parameter_invalid_empty",
          );
        product.name = name;
      }
      const active = params.bool("active");
      if (active !== undefined) product.active = active;
      const description = params.nullableStr("description");
      if (description !== undefined) product.description = description;
      const unitLabel = params.nullableStr("unit_label");
      if (unitLabel !== undefined) product.unit_label = unitLabel;
      const url = params.nullableStr("url");
      if (url !== undefined) product.url = url;
      const defaultPrice = params.str("default_price");
      if (defaultPrice !== undefined) {
        const price = state.prices.get(defaultPrice);
        if (!price || price.product !== product.id)
          throw noSuch("price", defaultPrice, "default_price", 400);
        product.default_price = defaultPrice;
      }
      product.metadata = params.metadata(product.metadata);
      const prev = previousAttributes(before, product);
      if (Object.keys(prev).length > 0) {
        product.updated = state.now();
        state.emit("product.updated", product, product.updated, prev);
      }
      return product;
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/products/:id",
    handler: ({ state, path }) => {
      const product = getProduct(state, path.id ?? "");
      if ([...state.prices.values()].some((p) => p.product === product.id)) {
        throw invalidRequest(
          "This product cannot be deleted because it has one or more user-created prices.",
        );
      }
      state.products.delete(product.id);
      state.emit("product.deleted", product, state.now());
      return { id: product.id, object: "product", deleted: true };
    },
  },
];
