import { Link } from "react-router";
import { formatDate } from "../format";

interface BillingAccess {
  access: "full" | "read_only" | "free_limits";
  grace_ends_at: string | null;
}

/**
 * The banner every member sees while billing limits the workspace (from `GET /v1/me`): a failed
 * payment still within grace, or read-only once grace has passed.
 */
export function BillingBanner({ tenant }: { tenant: BillingAccess }) {
  if (tenant.access === "read_only") {
    return (
      <div className="notice error banner" role="alert" data-testid="billing-banner">
        <p>
          <strong>This workspace is read-only.</strong> Payment is overdue past the grace period:
          you can read everything, but changes are refused until billing is settled.{" "}
          <Link to="/billing">Open billing</Link>
        </p>
      </div>
    );
  }
  if (tenant.grace_ends_at) {
    return (
      <div className="notice warn banner" role="status" data-testid="billing-banner">
        <p>
          <strong>Payment failed</strong> — update your card by {formatDate(tenant.grace_ends_at)}{" "}
          to keep full access; after that the workspace becomes read-only.{" "}
          <Link to="/billing">Update billing</Link>
        </p>
      </div>
    );
  }
  return null;
}
