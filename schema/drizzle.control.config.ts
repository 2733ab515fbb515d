import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./schema/src/control/index.ts",
  out: process.env.DRIZZLE_OUT ?? "./schema/migrations/control",
});
