import { streamDocument } from "@tenantry/web/entry-server";
import type { EntryContext, RouterContextProvider } from "react-router";
import { adminRequest } from "../server/request";

export default function handleRequest(
  request: Request,
  status: number,
  headers: Headers,
  routerContext: EntryContext,
  loadContext: RouterContextProvider,
) {
  const { nonce } = loadContext.get(adminRequest);
  return streamDocument(request, status, headers, routerContext, nonce);
}
