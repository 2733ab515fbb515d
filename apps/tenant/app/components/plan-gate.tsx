import type { ReactNode } from "react";
import { Link } from "react-router";
import type { FeatureGate } from "../../server/plan-gate";

/** "Business and Enterprise" */
function listed(names: string[]): string {
  return names.length < 2
    ? (names[0] ?? "a higher")
    : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/**
 * A control the plan may not include: the control itself when it does; otherwise what it is,
 * which plans unlock it and a link to billing. The API refuses the feature either way.
 */
export function PlanGate({
  gate,
  what,
  children,
}: {
  gate: FeatureGate;
  /** What the control does, as a sentence's subject: "Exporting tasks". */
  what: string;
  children: ReactNode;
}) {
  if (gate.included) return children;
  return (
    <p className="notice warn plan-gate" data-feature={gate.feature}>
      {what} is available on the {listed(gate.unlockedBy)} plan
      {gate.unlockedBy.length > 1 ? "s" : ""}. <Link to="/billing">See plans</Link>
    </p>
  );
}
