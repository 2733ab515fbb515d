// Renders the README's catalog table from the catalog, so the README test catches any drift.
import {
  type Catalog,
  FEATURES,
  LIMIT_DEFINITIONS,
  LIMITS,
  METERED_METRICS,
  PLAN_IDS,
} from "../src/index";

const number = (n: number) => n.toLocaleString("en-US");
const dollars = (cents: number) =>
  `$${(cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2 })}`;

/** The catalog as one Markdown table, plans as columns. */
export function catalogTable(catalog: Catalog): string {
  const plans = PLAN_IDS.map((id) => catalog.plans[id]);
  const row = (label: string, cells: string[]) => `| ${label} | ${cells.join(" | ")} |`;
  const rows = [
    row(
      "",
      plans.map((p) => `**${p.name}** (\`${p.id}\`)`),
    ),
    row(
      "---",
      plans.map(() => "---"),
    ),
    row(
      "monthly",
      plans.map((p) => (p.prices ? `${dollars(p.prices.month)} (\`${p.id}_month\`)` : "—")),
    ),
    row(
      "yearly",
      plans.map((p) => (p.prices ? `${dollars(p.prices.year)} (\`${p.id}_year\`)` : "—")),
    ),
    row(
      "checkout",
      plans.map((p) => (p.prices === null ? "—" : p.contactSales ? "contact sales" : "self-serve")),
    ),
    ...FEATURES.map((f) =>
      row(
        `\`${f}\``,
        plans.map((p) => (p.features[f] ? "✓" : "—")),
      ),
    ),
    ...LIMITS.map((l) =>
      row(
        `\`${l}\`${LIMIT_DEFINITIONS[l].period ? " / month" : ""}`,
        plans.map((p) => {
          const { value, hard } = p.limits[l];
          return value === null ? "unlimited" : `${number(value)} (${hard ? "hard" : "soft"})`;
        }),
      ),
    ),
    ...METERED_METRICS.map((m) =>
      row(
        `\`${m}\` above included`,
        plans.map((p) => {
          const price = p.metered[m];
          return price
            ? `${dollars(price.amount)} per ${number(price.per)} (\`${p.id}_${m}_month\`, \`_year\`)`
            : "—";
        }),
      ),
    ),
    ...(["tenant", "apiKey", "expensive"] as const).map((scope) =>
      row(
        `rate: ${scope}`,
        plans.map(
          (p) =>
            `${number(p.rateLimits[scope].perSecond)}/s, ${number(p.rateLimits[scope].perMinute)}/min`,
        ),
      ),
    ),
  ];
  return rows.join("\n");
}
