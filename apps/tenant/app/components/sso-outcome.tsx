import { Link } from "react-router";
import type { ShownProblem } from "../../server/api";
import { ProblemNotice } from "./problem";

export interface SsoOutcomeData {
  test: { claims: Record<string, unknown>; domain_served: boolean } | null;
  idpError: string | null;
  problem: ShownProblem | null;
}

/**
 * What the browser sees when an SSO sign-in ends here instead of on the dashboard, for both
 * protocols (OIDC's callback, SAML's ACS): a test connection's claims, or the refusal.
 */
export function SsoOutcome({ test, idpError, problem }: SsoOutcomeData) {
  if (test)
    return (
      <main className="page narrow stack">
        <h1>Connection test</h1>
        <p className={`notice ${test.domain_served ? "ok" : "warn"}`} role="status">
          The provider's answer checked out.{" "}
          {test.domain_served
            ? "This email is on a verified domain of the connection: its owner could sign in."
            : "This email is not on a verified domain of the connection: its owner would be refused."}
        </p>
        <h2>Claims</h2>
        <pre>{JSON.stringify(test.claims, null, 2)}</pre>
        <p>
          <Link to="/settings/sso">Back to single sign-on</Link>
        </p>
      </main>
    );
  return (
    <main className="page narrow">
      <h1>Single sign-on did not complete</h1>
      {idpError && (
        <p className="notice error" role="alert">
          Your identity provider answered: {idpError}
        </p>
      )}
      <ProblemNotice problem={problem} />
      <p>
        <Link to="/sign-in">Back to sign-in</Link>
      </p>
    </main>
  );
}
