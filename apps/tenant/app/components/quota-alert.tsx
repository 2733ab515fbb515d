import { Link } from "react-router";
import { formatCount, formatDate } from "../format";

/** From this share of a quota on, the app warns (and at 100% says what happens next). */
export const QUOTA_WARN_AT = 0.8;

export interface QuotaUse {
  metric: string;
  used: number;
  /** null: unlimited, never alerts. */
  limit: number | null;
  /** Hard quotas refuse past the limit; soft ones bill the overage. */
  hard: boolean;
  periodEnd: string;
}

/**
 * A quota at 80% or more of this period's limit, and what happens at 100% (refused or billed as
 * overage); nothing below 80%. Usable on any page that has the usage (usage page, dashboard).
 */
export function QuotaAlert({ metric, used, limit, hard, periodEnd }: QuotaUse) {
  if (limit === null || limit === 0 || used < limit * QUOTA_WARN_AT) return null;
  const percent = Math.floor((used / limit) * 100);
  const full = used >= limit;
  const then = hard
    ? `further ${metric} are refused until the period resets on ${formatDate(periodEnd)}`
    : `usage above it is billed as overage at the end of the period (${formatDate(periodEnd)})`;
  return (
    <div className={`notice ${full ? "error" : "warn"}`} role="status" data-testid="quota-alert">
      <p>
        <strong>
          {full ? "Quota reached" : "Quota almost reached"}: {percent}% of {metric}
        </strong>{" "}
        ({formatCount(used)} of {formatCount(limit)} this period). {full ? "Now" : "At 100%"},{" "}
        {then}. <Link to="/billing">See plans</Link>
      </p>
    </div>
  );
}
