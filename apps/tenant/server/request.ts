import { newNonce } from "@tenantry/core/page-headers";
import { newId } from "@tenantry/schema/ids";
import { createContext } from "react-router";
import type { TenantAppEnv } from "./env";

/** What the worker entry hands every loader and action (React Router's context). */
export interface TenantAppRequest {
  env: TenantAppEnv;
  requestId: string;
  /** The CSP nonce of this page: only scripts carrying it run. */
  nonce: string;
}

export const tenantAppRequest = createContext<TenantAppRequest>();

export function newTenantAppRequest(env: TenantAppEnv): TenantAppRequest {
  return { env, requestId: newId("request"), nonce: newNonce() };
}
