import { Bar, BarChart, CartesianGrid, XAxis, YAxis } from "recharts";

/**
 * One metric's usage per UTC day as a bar chart (recharts, ADR 015). Fixed size, so the server
 * renders the same SVG the browser hydrates; the numbers stay available as a table beside it.
 */
export function UsageChart({
  metric,
  days,
}: {
  metric: string;
  days: { day: string; used: number }[];
}) {
  return (
    <figure className="chart">
      <figcaption>{metric} per day</figcaption>
      <BarChart
        width={640}
        height={160}
        data={days}
        accessibilityLayer
        title={`${metric} per UTC day`}
        margin={{ top: 8, right: 8, bottom: 0, left: 0 }}
      >
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} minTickGap={16} />
        <YAxis allowDecimals={false} width={48} />
        <Bar dataKey="used" name={metric} fill="#1d4ed8" isAnimationActive={false} />
      </BarChart>
    </figure>
  );
}
