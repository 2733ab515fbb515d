import { Form, useNavigation } from "react-router";
import type { SignUpOutcome } from "../../server/sign-up";
import { ProblemNotice } from "./problem";

/** The apex's public sign-up page: an organisation, its address, and its owner's account. */
export function SignUpForm({
  baseDomain,
  outcome,
}: {
  baseDomain: string;
  outcome?: SignUpOutcome;
}) {
  const busy = useNavigation().state !== "idle";
  if (outcome?.sent)
    return (
      <main className="page narrow">
        <h1>Check your mail</h1>
        <div className="notice ok" role="status">
          <p>
            <strong>{outcome.fields?.email}</strong> already has a Tenantry account. We mailed it a
            link that creates <strong>{outcome.fields?.organization_name}</strong>; follow it within
            an hour.
          </p>
        </div>
      </main>
    );
  const fields = outcome?.fields;
  return (
    <main className="page narrow">
      <h1>Create your organisation</h1>
      <ProblemNotice problem={outcome?.problem} />
      {outcome?.signInAt && (
        <p>
          Your organisation exists: <a href={outcome.signInAt}>sign in to it</a>.
        </p>
      )}
      <Form method="post" className="stack">
        <label>
          Organisation name
          <input
            name="organization_name"
            required
            maxLength={100}
            autoComplete="organization"
            defaultValue={fields?.organization_name}
          />
        </label>
        <label>
          Address
          <span className="row">
            <input
              name="slug"
              required
              minLength={3}
              maxLength={40}
              pattern="[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?"
              aria-describedby="slug-hint"
              autoCapitalize="none"
              defaultValue={fields?.slug}
            />
            <span className="muted">.{baseDomain}</span>
          </span>
        </label>
        <p id="slug-hint" className="muted">
          3–40 lowercase letters, digits and inner hyphens: your workspace's own address.
        </p>
        <label>
          Email
          <input
            name="email"
            type="email"
            autoComplete="email"
            required
            defaultValue={fields?.email}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            required
            minLength={10}
            aria-describedby="password-hint"
          />
        </label>
        <p id="password-hint" className="muted">
          At least 10 characters.
        </p>
        <button type="submit" className="primary" disabled={busy}>
          Create organisation
        </button>
      </Form>
    </main>
  );
}
