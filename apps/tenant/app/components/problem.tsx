import { Form, Link, useLocation } from "react-router";
import type { ShownProblem } from "../../server/api";
import { CsrfField } from "./csrf";

/** What a limit means for the person who hit it, and what to do about it. */
const EXPLAINED: Record<string, { why: string; upgrade: boolean }> = {
  plan_limit_reached: {
    why: "Your plan's limit is reached. Remove something or move to a plan with more room.",
    upgrade: true,
  },
  quota_exceeded: {
    why: "This period's quota is used up. It resets with the next period, or a larger plan raises it.",
    upgrade: true,
  },
  feature_not_in_plan: {
    why: "Your plan does not include this feature.",
    upgrade: true,
  },
  billing_read_only: {
    why: "Payment is overdue past the grace period, so the workspace is read-only until billing is fixed.",
    upgrade: false,
  },
};

/**
 * A failed call beside the form that made it: the API's problem with its request id, and for the
 * limits a plan sets, what they mean and a way out (the billing page).
 */
export function ProblemNotice({ problem }: { problem?: ShownProblem | null }) {
  if (!problem) return null;
  if (problem.code === "mfa_step_up_required") return <StepUp problem={problem} />;
  if (problem.code === "sso_step_up_required") return <SsoStepUp problem={problem} />;
  const explained = problem.code ? EXPLAINED[problem.code] : undefined;
  return (
    <div className="notice error" role="alert">
      <p>{problem.message}</p>
      {explained && (
        <p>
          {explained.why}{" "}
          <Link to="/billing">{explained.upgrade ? "See plans" : "Open billing"}</Link>
        </p>
      )}
    </div>
  );
}

/**
 * A sensitive action (API keys, owner changes, SSO settings) refused for want of a recent second factor: the
 * code is confirmed on the security page, which brings the user back here to submit again.
 */
function StepUp({ problem }: { problem: ShownProblem }) {
  const back = useLocation().pathname;
  return (
    <div className="notice warn stack" role="alert">
      <p>{problem.message}</p>
      <Form method="post" action="/account/security" className="stack">
        <CsrfField />
        <input type="hidden" name="intent" value="verify" />
        <input type="hidden" name="back" value={back} />
        <label>
          Confirm with your code (authenticator or recovery code)
          <input name="code" required autoComplete="one-time-code" maxLength={20} />
        </label>
        <button type="submit" className="primary">
          Confirm
        </button>
      </Form>
    </div>
  );
}

/**
 * The same refusal for a member who signed in through SSO and has no authenticator here: the
 * proof is a new SSO sign-in, so the way on is to sign out and in again.
 */
function SsoStepUp({ problem }: { problem: ShownProblem }) {
  return (
    <div className="notice warn stack" role="alert">
      <p>{problem.message}</p>
      <Form method="post" action="/sign-out">
        <CsrfField />
        <button type="submit" className="primary">
          Sign out to sign in again
        </button>
      </Form>
    </div>
  );
}
