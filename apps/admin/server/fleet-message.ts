import { z } from "zod";

/** A FLEET queue message: migrate tenant X in run R, wave W (ADR 014). */
export const FleetMessageSchema = z.object({
  run_id: z.string().min(1),
  tenant_id: z.string().min(1),
  wave: z.number().int().min(0),
});
export type FleetMessage = z.infer<typeof FleetMessageSchema>;
