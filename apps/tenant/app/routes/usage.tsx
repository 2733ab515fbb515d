import { LIMIT_DEFINITIONS, LIMITS } from "@tenantry/plans";
import { Link } from "react-router";
import { apiFailure } from "../../server/api";
import { signedIn, signedOut } from "../../server/signed-in";
import { QuotaAlert } from "../components/quota-alert";
import { type Granularity, UsageChart } from "../components/usage-chart";
import { formatCount, formatDate } from "../format";
import type { Route } from "./+types/usage";

export function meta() {
  return [{ title: "Usage" }];
}

/** How far back each granularity looks: two days of hours, thirty days of days. */
const RANGE_MS: Record<Granularity, number> = { hour: 48 * 3_600_000, day: 30 * 86_400_000 };

/** The metrics counted per period (api_calls, events); gauges like seats are not usage. */
const METRICS = LIMITS.filter((key) => LIMIT_DEFINITIONS[key].kind === "counter");

export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const granularity: Granularity =
    new URL(args.request.url).searchParams.get("granularity") === "hour" ? "hour" : "day";
  const from = new Date(Date.now() - RANGE_MS[granularity]).toISOString();
  const [entitlements, ...series] = await Promise.all([
    api.GET("/v1/entitlements"),
    ...METRICS.map((metric) =>
      api.GET("/v1/usage", { params: { query: { metric, granularity, from } } }),
    ),
  ]);
  for (const r of [entitlements, ...series]) {
    if (r.response.status === 401) throw signedOut(args);
    if (!r.data) throw apiFailure(r);
  }
  return {
    granularity,
    limits: entitlements.data?.limits ?? {},
    metrics: METRICS.flatMap((metric, i) => {
      const data = series[i]?.data;
      return data ? [{ ...data, title: LIMIT_DEFINITIONS[metric].description }] : [];
    }),
  };
}

export default function Usage({ loaderData }: Route.ComponentProps) {
  const { granularity, limits, metrics } = loaderData;
  return (
    <div className="stack">
      <h1>Usage</h1>
      <nav aria-label="Granularity" className="row">
        {(["hour", "day"] as const).map((g) => (
          <Link
            key={g}
            to={`?granularity=${g}`}
            aria-current={g === granularity ? "page" : undefined}
            className={g === granularity ? "badge current" : "badge"}
          >
            {g === "hour" ? "Hourly (48 hours)" : "Daily (30 days)"}
          </Link>
        ))}
      </nav>
      {metrics.map((series) => {
        const limit = limits[series.metric] ?? { value: null, hard: false };
        const withUsage = series.data.filter((d) => d.value > 0);
        return (
          <section
            key={series.metric}
            aria-labelledby={`usage-${series.metric}`}
            data-testid={`usage-${series.metric}`}
          >
            <h2 id={`usage-${series.metric}`}>
              {series.title[0]?.toUpperCase()}
              {series.title.slice(1)}
            </h2>
            <p className="muted">
              {formatCount(series.period.used)} of {formatCount(limit.value)} {series.metric} used
              this period ({formatDate(series.period.start)} – {formatDate(series.period.end)})
            </p>
            <QuotaAlert
              metric={series.metric}
              used={series.period.used}
              limit={limit.value}
              hard={limit.hard}
              periodEnd={series.period.end}
            />
            <UsageChart series={series} granularity={granularity} limit={limit.value} />
            <table>
              <caption>
                {series.metric} per {granularity} (periods with usage)
              </caption>
              <thead>
                <tr>
                  <th scope="col">{granularity === "hour" ? "Hour (UTC)" : "Day (UTC)"}</th>
                  <th scope="col">Usage</th>
                </tr>
              </thead>
              <tbody>
                {withUsage.length === 0 ? (
                  <tr>
                    <td colSpan={2} className="muted">
                      No usage in this range.
                    </td>
                  </tr>
                ) : (
                  withUsage.map((d) => (
                    <tr key={d.start}>
                      <td>
                        {granularity === "hour"
                          ? d.start.slice(0, 16).replace("T", " ")
                          : d.start.slice(0, 10)}
                      </td>
                      <td>{formatCount(d.value)}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </section>
        );
      })}
    </div>
  );
}
