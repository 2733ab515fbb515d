#!/usr/bin/env node
/**
 * First-load JavaScript per route, against each app's budget (`js-budget.json` beside its
 * package.json): what a browser downloads to hydrate a page it opens directly — the client entry,
 * every route module from the root down to the page, and their imports, each counted once,
 * gzip-compressed. Reads the build React Router leaves in `<app>/build/client` (run after
 * `npm run build`; `npm run verify` runs it after the deploy dry run, which builds both apps).
 *
 *   node scripts/js-budget.mjs apps/tenant apps/admin
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

function manifestOf(app) {
  const assets = join(app, "build/client/assets");
  const file = readdirSync(assets).find((f) => /^manifest-.*\.js$/.test(f));
  if (!file) throw new Error(`${app}: no build (run npm run build -w <app> first)`);
  const text = readFileSync(join(assets, file), "utf8");
  return JSON.parse(text.slice(text.indexOf("=") + 1).replace(/;\s*$/, ""));
}

/** Gzip bytes of every script a direct visit to `routeId` loads. */
function firstLoadBytes(app, manifest, routeId) {
  const files = new Set([manifest.entry.module, ...manifest.entry.imports]);
  for (let id = routeId; id; id = manifest.routes[id].parentId) {
    const route = manifest.routes[id];
    for (const f of [route.module, ...(route.imports ?? [])]) files.add(f);
  }
  let bytes = 0;
  for (const f of files) bytes += gzipSync(readFileSync(join(app, "build/client", f))).length;
  return bytes;
}

let over = 0;
for (const app of process.argv.slice(2)) {
  const budget = JSON.parse(readFileSync(join(app, "js-budget.json"), "utf8"));
  const manifest = manifestOf(app);
  console.log(`${app}: first-load JavaScript per route (gzip KiB, budget)`);
  for (const [id, route] of Object.entries(manifest.routes)) {
    if (!route.hasDefaultExport) continue; // resource routes (actions, redirects) draw no page
    const kib = firstLoadBytes(app, manifest, id) / 1024;
    const limit = budget.routes?.[id] ?? budget.default;
    const ok = kib <= limit;
    if (!ok) over++;
    console.log(
      `  ${ok ? "ok  " : "OVER"} ${id.padEnd(34)} ${kib.toFixed(1).padStart(6)} / ${limit}`,
    );
  }
}
if (over) {
  console.error(`${over} route(s) over budget: shrink them, or raise the budget with a reason.`);
  process.exit(1);
}
