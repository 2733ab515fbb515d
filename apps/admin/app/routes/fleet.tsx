import { useEffect } from "react";
import { Form, useActionData, useLoaderData, useRevalidator } from "react-router";
import { requireOperator } from "../../server/page-auth";
import { formMutation } from "../../server/page-forms";
import { can } from "../../server/roles";
import {
  fleetOverview,
  fleetRunProgress,
  listFleetTenants,
  resumeFleetRun,
  startFleetRun,
} from "../../server/services/fleet";
import type { Route } from "./+types/fleet";

export function meta() {
  return [{ title: "Fleet · Tenantry operators" }];
}

/** While a run is running the page reloads its data this often (no script of its own: React). */
const POLL_MS = 3000;

export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "fleet:read");
  const [overview, behind] = await Promise.all([
    fleetOverview({ ctx }),
    listFleetTenants({ ctx, input: { behindOnly: true, limit: 50 } }),
  ]);
  const run = overview.last_run
    ? await fleetRunProgress({ ctx, input: { runId: overview.last_run.id } })
    : null;
  return {
    overview,
    behind,
    run,
    csrf: ctx.csrfToken,
    canMigrate: can(ctx.operator.role, "fleet:migrate"),
  };
}

export async function action(args: Route.ActionArgs) {
  const ctx = await requireOperator(args, "fleet:migrate");
  const form = await args.request.formData();
  const num = (name: string) => {
    const v = Number(form.get(name));
    return Number.isInteger(v) && v > 0 ? v : undefined;
  };
  return formMutation(form, ctx, async (reason) => {
    const progress =
      form.get("intent") === "resume"
        ? await resumeFleetRun({ ctx, input: { runId: String(form.get("run_id")), reason } })
        : await startFleetRun({
            ctx,
            input: {
              reason,
              firstWave: num("first_wave"),
              growth: num("growth"),
              maxFailurePercent: num("max_failure_percent"),
            },
          });
    return progress.run.id;
  });
}

export default function Fleet() {
  const { overview, behind, run, csrf, canMigrate } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const revalidator = useRevalidator();
  const running = run?.run.state === "running";
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      if (revalidator.state === "idle") revalidator.revalidate();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [running, revalidator]);
  const { pool } = overview;
  return (
    <main className="page">
      <h1>Fleet</h1>
      <section className="card" aria-labelledby="pool">
        <h2 id="pool">Tenant database pool</h2>
        <p className={pool.low ? "warn" : undefined} role={pool.low ? "alert" : undefined}>
          {pool.free} of {pool.size} databases free (low-water mark {pool.low_water}).
          {pool.low ? " Grow the pool (npm run pool:grow -- N) and deploy." : null}
        </p>
      </section>

      <table>
        <caption>Tenants per schema version (latest: {overview.latest_version})</caption>
        <thead>
          <tr>
            <th scope="col">Schema version</th>
            <th scope="col">Tenants</th>
          </tr>
        </thead>
        <tbody>
          {overview.versions.map((v) => (
            <tr
              key={v.version}
              className={v.version < overview.latest_version ? "mismatch" : undefined}
            >
              <td>
                {v.version}
                {v.version < overview.latest_version ? " (behind)" : ""}
              </td>
              <td>{v.tenants}</td>
            </tr>
          ))}
        </tbody>
      </table>

      {result?.error ? (
        <p className="error" role="alert">
          {result.error}
        </p>
      ) : null}

      {run ? (
        <section className="card" aria-labelledby="run">
          <h2 id="run">Migration run {run.run.id}</h2>
          <p role="status">
            {run.run.state} · to version {run.run.targetVersion} · wave {Math.max(run.run.wave, 0)}
            {run.run.wave === 0 ? " (canary)" : ""} · {run.behind} tenants still behind
            {running ? " · updating every few seconds" : ""}
          </p>
          {run.run.haltReason ? <p className="error">Halted: {run.run.haltReason}</p> : null}
          <table>
            <caption>Progress per wave</caption>
            <thead>
              <tr>
                <th scope="col">Wave</th>
                <th scope="col">Pending</th>
                <th scope="col">Done</th>
                <th scope="col">Failed</th>
              </tr>
            </thead>
            <tbody>
              {run.waves.map((w) => (
                <tr key={w.wave} className={w.failed ? "mismatch" : undefined}>
                  <td>{w.wave === 0 ? "0 (canary)" : w.wave}</td>
                  <td>{w.pending}</td>
                  <td>{w.done}</td>
                  <td>{w.failed}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {run.failures.length ? (
            <table>
              <caption>Failed tenants</caption>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Wave</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {run.failures.map((f) => (
                  <tr key={f.tenant_id}>
                    <td>{f.tenant_id}</td>
                    <td>{f.wave}</td>
                    <td>{f.error}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {canMigrate && run.run.state !== "completed" ? (
            <Form method="post">
              <input type="hidden" name="csrf" value={csrf} />
              <input type="hidden" name="intent" value="resume" />
              <input type="hidden" name="run_id" value={run.run.id} />
              <label htmlFor="resume-reason">Reason to resume</label>
              <input id="resume-reason" name="reason" required minLength={3} />{" "}
              <button type="submit">Resume run</button>
            </Form>
          ) : null}
        </section>
      ) : null}

      {canMigrate && run?.run.state !== "running" && run?.run.state !== "halted" ? (
        <Form method="post" className="card">
          <h2>Start a migration run</h2>
          <p className="muted">
            Applies pending tenant migrations: one canary tenant first, then waves growing from the
            first wave's size; any canary failure, or failures above the threshold in a wave, halt
            the run until it is resumed.
          </p>
          <input type="hidden" name="csrf" value={csrf} />
          <input type="hidden" name="intent" value="start" />
          <label htmlFor="first_wave">First wave after the canary</label>
          <input
            id="first_wave"
            name="first_wave"
            type="number"
            min={1}
            max={1000}
            defaultValue={10}
          />
          <label htmlFor="growth">Growth per wave (×)</label>
          <input id="growth" name="growth" type="number" min={1} max={10} defaultValue={2} />
          <label htmlFor="max_failure_percent">Halt above this % of a wave failing</label>
          <input
            id="max_failure_percent"
            name="max_failure_percent"
            type="number"
            min={0}
            max={100}
            defaultValue={10}
          />
          <label htmlFor="start-reason">Reason</label>
          <input id="start-reason" name="reason" required minLength={3} />{" "}
          <button type="submit" className="danger">
            Start run
          </button>
        </Form>
      ) : null}

      <table>
        <caption>Tenants behind (first {behind.data.length})</caption>
        <thead>
          <tr>
            <th scope="col">Tenant</th>
            <th scope="col">Status</th>
            <th scope="col">Schema version</th>
            <th scope="col">Database</th>
          </tr>
        </thead>
        <tbody>
          {behind.data.length === 0 ? (
            <tr>
              <td colSpan={4} className="muted">
                Every tenant is at the latest version.
              </td>
            </tr>
          ) : null}
          {behind.data.map((t) => (
            <tr key={t.id}>
              <td>
                {t.slug} <span className="muted">{t.id}</span>
              </td>
              <td>{t.status}</td>
              <td>{t.schema_version}</td>
              <td>{t.database_binding}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
