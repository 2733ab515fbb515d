import { CoreConfigSchema, type CoreEnv, configReader } from "@tenantry/core";
import type { z } from "zod";

export interface Env extends CoreEnv {
  ENVIRONMENT?: string;
}

export const ConfigSchema = CoreConfigSchema;
export type Config = z.infer<typeof ConfigSchema>;
export const config: (env: Env) => Config = configReader(ConfigSchema);
