import { Form, Link } from "react-router";
import type { OnboardingProgress } from "../../server/onboarding";
import { useCan, useSignedIn } from "../signed-in";
import { CsrfField } from "./csrf";

interface Step {
  key: string;
  done: boolean;
  label: string;
  to?: string;
}

/**
 * The first-run checklist: what a new organisation does first, ticked from the API's state. Steps
 * the caller's role cannot read are left out; the list hides once every shown step is done.
 */
export function OnboardingChecklist({
  progress,
  resent,
}: {
  progress: OnboardingProgress;
  resent: boolean;
}) {
  const { me } = useSignedIn();
  const emailVerified = me.user?.email_verified ?? true;
  // Free needs no choice: the step is done once a paid plan is the tenant's (billing sync).
  const plan = useCan("billing:read") ? Boolean(me.tenant.plan && me.tenant.plan !== "free") : null;
  const steps: Step[] = [
    { key: "verify", done: emailVerified, label: "Verify your email address" },
    { key: "project", done: progress.project, label: "Create a first project", to: "/projects" },
    { key: "teammate", done: progress.teammate, label: "Invite a teammate", to: "/members" },
    { key: "plan", done: plan, label: "Choose a plan", to: "/billing" },
  ].filter((s): s is Step => s.done !== null);
  const doneCount = steps.filter((s) => s.done).length;
  if (doneCount === steps.length) return null;
  return (
    <section className="card onboarding" aria-labelledby="onboarding-title">
      <h2 id="onboarding-title">Get started</h2>
      <p className="muted">
        {doneCount} of {steps.length} done
      </p>
      <ol>
        {steps.map((step) => (
          <li key={step.key} data-step={step.key} data-done={step.done}>
            <span aria-hidden="true">{step.done ? "✓" : "○"}</span>{" "}
            {step.done ? (
              <span>
                {step.label} <span className="visually-hidden">(done)</span>
              </span>
            ) : step.to ? (
              <Link to={step.to}>{step.label}</Link>
            ) : (
              <span>{step.label}</span>
            )}
            {step.key === "verify" && !step.done && (
              <Form method="post" className="inline">
                <CsrfField />
                <input type="hidden" name="intent" value="resend-verification" />
                <span className="muted">Follow the link we mailed you. </span>
                <button type="submit" className="link">
                  Resend the mail
                </button>
                {resent && (
                  <span role="status" className="muted">
                    {" "}
                    Sent.
                  </span>
                )}
              </Form>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
