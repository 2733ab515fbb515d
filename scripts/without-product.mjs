// Proves the example product is replaceable: copies the repository (tracked files, as they are in
// the working tree) to a temporary folder, removes the product as workers/api/src/product/README.md
// says (its code, tables, id prefixes and tests, leaving empty registrations), then typechecks the
// platform and runs the API worker's own tests there. `--typecheck-only` stops after the typecheck.
// Run by `npm run product:check`; exits non-zero if the platform needs anything of the product.
import { execFileSync } from "node:child_process";
import {
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const typecheckOnly = process.argv.includes("--typecheck-only");

/** What a fork without a product of its own keeps: the registrations, empty. */
const EMPTY = {
  "workers/api/src/product/index.ts": `// No product: what a fork's product adds to the platform is declared here (see README.md).
import { newRouter } from "../app";

export const product = {
  routes: newRouter(),
  gauges: {},
};
`,
  "schema/src/tenant/product/index.ts": `// No product: its tables are exported here.
export * from "./ids";
`,
  "schema/src/tenant/product/ids.ts": `// No product: the id prefixes of its entities.
export const PRODUCT_ID_PREFIXES = {} as const;
`,
  "workers/api/test/product-routes.ts": `// No product: its routes in the shared route list, and its resources for the security suite.
import type { TestTenant } from "./helpers";
import type { RouteCase } from "./routes";

export type ProductResource = never;

export const PRODUCT_ROUTES: RouteCase[] = [];

export async function createProductResources(
  _t: TestTenant,
): Promise<Record<ProductResource, string>> {
  return {};
}
`,
};
const REMOVED = [
  "workers/api/src/product",
  "schema/src/tenant/product",
  "workers/api/test/product.test.ts",
];

const dir = mkdtempSync(join(tmpdir(), "tenantry-without-product-"));
try {
  const tracked = execFileSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: root,
      encoding: "utf8",
    },
  )
    .split("\0")
    .filter(Boolean);
  for (const file of tracked) {
    const from = join(root, file);
    // A file deleted in the working tree but not yet in the index.
    if (!lstatSync(from, { throwIfNoEntry: false })) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(from, join(dir, file), { verbatimSymlinks: true });
  }
  // Dependencies by link, except the workspace packages, which must be the copies.
  mkdirSync(join(dir, "node_modules/@tenantry"), { recursive: true });
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (name !== "@tenantry")
      symlinkSync(join(root, "node_modules", name), join(dir, "node_modules", name));
  }
  for (const name of readdirSync(join(root, "node_modules/@tenantry"))) {
    const workspace = relative(root, realpathSync(join(root, "node_modules/@tenantry", name)));
    symlinkSync(join(dir, workspace), join(dir, "node_modules/@tenantry", name));
  }

  for (const path of REMOVED) rmSync(join(dir, path), { recursive: true, force: true });
  for (const [path, text] of Object.entries(EMPTY)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }

  const run = (cmd, args) => {
    console.log(`without-product: ${cmd} ${args.join(" ")}`);
    try {
      execFileSync(cmd, args, { cwd: dir, stdio: "inherit" });
    } catch {
      console.error(`without-product: \`${cmd}\` failed: the platform still needs the product`);
      process.exitCode = 1;
      return false;
    }
    return true;
  };
  if (
    run("tsc", ["-p", "tsconfig.json", "--noEmit"]) &&
    (typecheckOnly || run("vitest", ["run", "--project", "api"]))
  ) {
    console.log(
      "without-product: the platform builds and passes its own tests without the product",
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
