import { useRouteLoaderData } from "react-router";
import type { loader } from "./routes/app-layout";

/** The signed-in layout's data for any page inside it: the caller (`GET /v1/me`) and the CSRF secret. */
export function useSignedIn() {
  const data = useRouteLoaderData<typeof loader>("routes/app-layout");
  if (!data) throw new Error("useSignedIn outside the signed-in layout");
  return data;
}

/** Whether the caller's role grants `permission` (e.g. `members:write`), from `GET /v1/me`. */
export function useCan(permission: string): boolean {
  return useSignedIn().me.permissions.includes(permission);
}
