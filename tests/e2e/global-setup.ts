import type { TestProject } from "vitest/node";
import { startPlatform } from "./platform";

declare module "vitest" {
  export interface ProvidedContext {
    /** The e2e tenant owner's access token. */
    e2eToken: string;
  }
}

/** One platform for every e2e and browser test file (they run one after another). */
export default async function setup(project: TestProject) {
  const platform = await startPlatform();
  project.provide("e2eToken", platform.token);
  return () => platform.stop();
}
