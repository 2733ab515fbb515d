/** The slice of `node:fs/promises` that `state-file.ts` uses (see `node-http.d.ts` for why). */
declare module "node:fs/promises" {
  function readFile(path: string, encoding: "utf8"): Promise<string>;
  function writeFile(path: string, data: string): Promise<void>;
  function rename(from: string, to: string): Promise<void>;
  function mkdir(path: string, options: { recursive: true }): Promise<string | undefined>;
  function rm(path: string, options: { force: true }): Promise<void>;

  export { mkdir, readFile, rename, rm, writeFile };
}

declare module "node:path" {
  function dirname(path: string): string;

  export { dirname };
}
