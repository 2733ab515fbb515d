/**
 * Requests that came in through the `TenantApp` entrypoint: the tenant app's service binding
 * names it (apps/tenant/wrangler.toml), and no route on the internet reaches it, so the mark
 * cannot be forged by a client (ADR 022). Per isolate, keyed by the request object itself.
 */
const fromTenantApp = new WeakSet<Request>();

export function markFromTenantApp(request: Request): void {
  fromTenantApp.add(request);
}

export function isFromTenantApp(request: Request): boolean {
  return fromTenantApp.has(request);
}
