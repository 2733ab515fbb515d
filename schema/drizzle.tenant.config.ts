import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./schema/src/tenant/index.ts",
  out: process.env.DRIZZLE_OUT ?? "./schema/migrations/tenant",
});
