/**
 * Fields of a log line. A tenant's id is never one of them: lines about a tenant go through
 * `log.forTenant(id)`, which makes the id a required argument, so such a line cannot leave it
 * out (logs carry the tenant id: DESIGN, isolation rule 5).
 */
export type LogFields = Record<string, unknown> & { tenant_id?: never };

type Level = "info" | "warn" | "error";

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

function write(level: Level, msg: string, base: object, fields: LogFields | undefined): void {
  const line = JSON.stringify({ level, msg, ...base, ...fields });
  // Each level on its own console method, so Workers Logs filters by level. Looked up at each
  // call, not bound once: tests replace `console.error` to read what was logged.
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

function logger(base: object): Logger {
  return {
    info: (msg, fields) => write("info", msg, base, fields),
    warn: (msg, fields) => write("warn", msg, base, fields),
    error: (msg, fields) => write("error", msg, base, fields),
  };
}

/**
 * The structured logger: one JSON line per call, `{ level, msg, ...fields }`.
 * `log.forTenant(id)` is the same with `tenant_id` first among the fields; `null` says the line
 * concerns a tenant that is not known (a platform mail, a Stripe event of an unknown customer).
 */
export const log: Logger & { forTenant(tenantId: string | null): Logger } = {
  ...logger({}),
  forTenant: (tenantId) => logger({ tenant_id: tenantId }),
};
