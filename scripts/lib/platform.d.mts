// Types of platform.mjs, for the TypeScript that imports it (the end-to-end tests).
export interface Started {
  url: string;
  child: import("node:child_process").ChildProcess;
  stop(): void;
}
export function ensureDevVars(path?: string): string | null;
export function readVars(path: string): Record<string, string>;
export function workerVars(names: string[], path: string): string;
export function applyControlMigrations(opts?: { config?: string; persistTo?: string }): void;
export const ADMIN_BUILD_CONFIG: string;
export function buildAdminApp(): void;
export const TENANT_BUILD_CONFIG: string;
export function buildTenantApp(): void;
export function controlSql(sql: string, opts?: { config?: string; persistTo?: string }): void;
export function startWorker(opts: {
  config?: string | string[];
  port: number;
  persistTo?: string;
  quiet?: boolean;
  envFile?: string;
}): Promise<Started>;
export function startStripeEmulator(opts?: {
  port?: number;
  env?: Record<string, string>;
}): Promise<Started>;
export function startDemoIdp(): Promise<Started>;
export function syncStripeCatalog(apiBase: string, secretKey: string): void;
export function call(
  port: number,
  req: { slug?: string; method?: string; path: string; body?: unknown; token?: string },
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the API, checked by the caller.
): Promise<{ status: number; body: any }>;
export function ensureTenant(
  port: number,
  tenant: { slug: string; name: string; email: string; password: string },
): Promise<string>;
export function fittedWorkerConfig(opts: {
  source: string;
  dir: string;
  pool?: { binding: string; database_name: string; database_id: string }[];
  replacements?: [RegExp, string | ((...args: string[]) => string)][];
}): string;
export function fittedAdminConfig(opts: {
  dir: string;
  name: string;
  apiName: string | null;
  pool?: { binding: string; database_name: string; database_id: string }[];
  vars?: Record<string, string>;
}): string;
export function fittedTenantConfig(opts: {
  dir: string;
  name: string;
  apiName: string;
  vars?: Record<string, string>;
}): string;
export function devRouterConfig(
  dir: string,
  name: string,
  workers: { api: string; admin: string; tenant?: string },
): string;
export function devPortConfig(dir: string, name: string, target: string): string;
export function printTable(rows: (string | number)[][]): void;
