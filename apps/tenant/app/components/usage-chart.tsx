import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ReferenceArea,
  ReferenceLine,
  XAxis,
  YAxis,
} from "recharts";
import { formatCount, formatDate } from "../format";

export type Granularity = "hour" | "day";

export interface UsageSeries {
  metric: string;
  from: string;
  to: string;
  total: number;
  data: { start: string; value: number }[];
  period: { start: string; end: string; used: number };
}

interface Point {
  start: number;
  label: string;
  value: number;
  /** Used in the quota period up to the end of this bucket; null before the period. */
  inPeriod: number | null;
}

const STEP: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000 };

function label(t: number, granularity: Granularity): string {
  const iso = new Date(t).toISOString();
  return granularity === "day" ? iso.slice(5, 10) : `${iso.slice(8, 10)} ${iso.slice(11, 16)}`;
}

/**
 * Every bucket of the range (the API lists only buckets with usage), and the running total of
 * the quota period: the meter's count for the period, less what later buckets added, so the line
 * ends at what the quota is measured against even when the period began before the range.
 */
export function usagePoints(series: UsageSeries, granularity: Granularity): Point[] {
  const step = STEP[granularity];
  const byStart = new Map(series.data.map((d) => [Date.parse(d.start), d.value]));
  const from = Date.parse(series.from);
  const to = Date.parse(series.to);
  const periodStart = Date.parse(series.period.start);
  const points: Point[] = [];
  for (let t = from; t < to; t += step) {
    points.push({
      start: t,
      label: label(t, granularity),
      value: byStart.get(t) ?? 0,
      inPeriod: null,
    });
  }
  let remaining = series.period.used;
  for (const point of points.toReversed()) {
    if (point.start + step <= periodStart) break;
    point.inPeriod = Math.max(remaining, 0);
    if (point.start >= periodStart) remaining -= point.value;
  }
  return points;
}

/**
 * One metric's usage per bucket (bars), its running total in the quota period (line) against
 * the quota (dashed line), the current period shaded. Fixed size so the server renders the SVG
 * before JavaScript loads (ADR 016); the numbers are in the table below it.
 */
export function UsageChart({
  series,
  granularity,
  limit,
}: {
  series: UsageSeries;
  granularity: Granularity;
  limit: number | null;
}) {
  const points = usagePoints(series, granularity);
  const inPeriod = points.filter((p) => p.inPeriod !== null);
  const top = Math.max(limit ?? 0, ...points.map((p) => p.inPeriod ?? 0), 1);
  const title = `${series.metric} per ${granularity}, ${formatDate(series.from)} to ${formatDate(series.to)}`;
  const desc = `${formatCount(series.total)} ${series.metric} in this range; ${formatCount(series.period.used)} of ${formatCount(limit)} used in the period ${formatDate(series.period.start)} to ${formatDate(series.period.end)}.`;
  return (
    <figure className="chart">
      <ComposedChart
        width={720}
        height={260}
        data={points}
        accessibilityLayer
        title={title}
        desc={desc}
        margin={{ top: 16, right: 16, bottom: 0, left: 8 }}
      >
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <Legend verticalAlign="top" height={24} />
        {inPeriod.length > 0 && (
          <ReferenceArea
            yAxisId="period"
            // Clipped, not dropped, where the category axis's band edge passes the plot area.
            ifOverflow="hidden"
            x1={inPeriod[0]?.label}
            x2={inPeriod.at(-1)?.label}
            fill="#0b57d0"
            fillOpacity={0.06}
            label={{ value: "Current period", position: "insideTopLeft", fill: "#59636e" }}
          />
        )}
        <XAxis dataKey="label" minTickGap={24} />
        {/* Left: the period's running total against the quota. Right: each bucket's own usage,
            on its own scale so small buckets stay visible under a large quota. */}
        <YAxis
          yAxisId="period"
          domain={[0, Math.ceil(top * 1.1)]}
          allowDecimals={false}
          width={64}
        />
        <YAxis yAxisId="bucket" orientation="right" allowDecimals={false} width={48} />
        <Bar
          yAxisId="bucket"
          dataKey="value"
          name={`${series.metric} per ${granularity}`}
          fill="#0b57d0"
          isAnimationActive={false}
        />
        <Line
          yAxisId="period"
          dataKey="inPeriod"
          name="used this period"
          stroke="#1a7f37"
          strokeWidth={2}
          dot={false}
          connectNulls={false}
          isAnimationActive={false}
        />
        {limit !== null && (
          <ReferenceLine
            yAxisId="period"
            y={limit}
            stroke="#b42318"
            strokeDasharray="6 4"
            label={{
              value: `Quota ${formatCount(limit)}`,
              position: "insideTopRight",
              fill: "#b42318",
            }}
          />
        )}
      </ComposedChart>
      <figcaption className="muted">{desc}</figcaption>
    </figure>
  );
}
