// Types of pool-lib.mjs, for the TypeScript that imports it (the end-to-end tests).
export interface PoolEntry {
  binding: string;
  database_name: string;
  database_id: string;
}
export const MANIFEST: string;
export const WRANGLER: string;
export const POOL_CONFIGS: string[];
export function bindingName(n: number): string;
export function poolEntry(n: number, databaseId?: string): PoolEntry;
export function isPlaceholderId(id: string): boolean;
export function readManifest(): { databases: PoolEntry[] };
export function writeManifest(manifest: { databases: PoolEntry[] }): void;
export function renderPoolBlock(databases: PoolEntry[]): string;
export function withPoolBlock(toml: string, databases: PoolEntry[]): string;
