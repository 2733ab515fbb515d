import { data, Form, redirect, useActionData } from "react-router";
import { apiFailure, shownProblem } from "../../server/api";
import { signedIn, signedInCaller, signedInForm, signedOut } from "../../server/signed-in";
import { CsrfField } from "../components/csrf";
import { ProblemNotice } from "../components/problem";
import { useSignedIn } from "../signed-in";
import type { Route } from "./+types/account-security";

export function meta() {
  return [{ title: "Security" }];
}

/** The member's own MFA; for owners also the workspace's policy. */
export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const me = await signedInCaller(args);
  const r = await api.GET("/v1/me/mfa");
  if (r.response.status === 401) throw signedOut(args);
  if (!r.data) throw apiFailure(r);
  if (me.role !== "owner") return { mfa: r.data, policy: null };
  const policy = await api.GET("/v1/settings/security");
  if (!policy.data) throw apiFailure(policy);
  return { mfa: r.data, policy: policy.data };
}

/** Only a path on this host (a step-up form names the page to return to). */
function localPath(value: FormDataEntryValue | null): string {
  const path = String(value ?? "");
  return path.startsWith("/") && !path.startsWith("//") && !path.startsWith("/\\")
    ? path
    : "/account/security";
}

type Enrolment = { secret: string; otpauth_uri: string };

/**
 * `enrol` answers with the new secret and `confirm` with the recovery codes (not redirects):
 * these responses are the only time each is shown. `verify` is the step-up form other pages show
 * for `mfa_step_up_required`; it returns to the page that asked.
 */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  const intent = form.get("intent");
  const code = String(form.get("code") ?? "");
  const fail = (r: { error?: unknown; response: Response }, enrolment: Enrolment | null = null) => {
    if (r.response.status === 401) throw signedOut(args);
    return data(
      { problem: shownProblem(r), enrolment, recoveryCodes: null },
      { status: r.response.status },
    );
  };
  if (intent === "enrol") {
    const r = await api.POST("/v1/me/mfa/enrol");
    if (!r.data) return fail(r);
    return { problem: null, enrolment: r.data, recoveryCodes: null };
  }
  if (intent === "confirm") {
    const r = await api.POST("/v1/me/mfa/confirm", { body: { code } });
    const shown = {
      secret: String(form.get("secret") ?? ""),
      otpauth_uri: String(form.get("otpauth_uri") ?? ""),
    };
    if (!r.data) return fail(r, shown);
    return { problem: null, enrolment: null, recoveryCodes: r.data.recovery_codes };
  }
  if (intent === "recovery-codes") {
    // No code: a step-up made moments ago proves it (the step-up form brings the user back).
    const r = await api.POST("/v1/me/mfa/recovery-codes", { body: code ? { code } : {} });
    if (!r.data) return fail(r);
    return {
      problem: null,
      enrolment: null,
      recoveryCodes: r.data.recovery_codes,
      regenerated: true,
    };
  }
  if (intent === "policy") {
    const r = await api.PATCH("/v1/settings/security", {
      body: { require_mfa: form.get("require_mfa") === "on" },
    });
    if (!r.data) return fail(r);
    return redirect("/account/security");
  }
  if (intent === "verify") {
    const r = await api.POST("/v1/me/mfa/verify", { body: { code } });
    if (!r.data) return fail(r);
    return redirect(localPath(form.get("back")));
  }
  const r = await api.POST("/v1/me/mfa/disable", { body: { code } });
  if (r.error) return fail(r);
  return redirect("/account/security");
}

function CodeField({ label = "Code from your authenticator app" }: { label?: string }) {
  return (
    <label>
      {label}
      <input
        name="code"
        required
        autoComplete="one-time-code"
        inputMode="text"
        maxLength={20}
        spellCheck={false}
      />
    </label>
  );
}

export default function AccountSecurity({ loaderData }: Route.ComponentProps) {
  const { mfa, policy } = loaderData;
  const result = useActionData<typeof action>();
  const { me } = useSignedIn();
  const regenerated = result !== undefined && "regenerated" in result;
  return (
    <div className="stack">
      <h1>Security</h1>
      {me.mfa_enrolment_required && (
        <p className="notice warn">
          This workspace requires two-factor authentication. Set it up to continue.
        </p>
      )}
      <ProblemNotice problem={result?.problem} />
      {result?.recoveryCodes && (
        <section className="card stack notice ok" aria-labelledby="codes">
          <h2 id="codes">
            {regenerated ? "New recovery codes" : "Two-factor authentication is on"}
          </h2>
          <p>
            Save these recovery codes somewhere safe. Each works once, in place of a code, if you
            lose your authenticator. They are not shown again
            {regenerated ? "; your earlier codes no longer work." : "."}
          </p>
          <ul className="recovery-codes">
            {result.recoveryCodes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="card stack" aria-labelledby="mfa">
        <h2 id="mfa">Two-factor authentication</h2>
        {mfa.enabled ? (
          <>
            <p>
              <span className="badge">on</span> since{" "}
              <time dateTime={mfa.enabled_at ?? ""}>{mfa.enabled_at?.slice(0, 10)}</time>;{" "}
              {mfa.recovery_codes_left} recovery codes left.
            </p>
            <Form method="post" className="stack" aria-labelledby="regenerate">
              <h3 id="regenerate">Recovery codes</h3>
              <p className="muted">
                A new set replaces the old one, whose codes then stop working.
              </p>
              <CsrfField />
              <input type="hidden" name="intent" value="recovery-codes" />
              <label>
                Current code (or leave empty if you confirmed a code in the last minutes)
                <input name="code" autoComplete="one-time-code" maxLength={20} spellCheck={false} />
              </label>
              <button type="submit">Generate new recovery codes</button>
            </Form>
            <Form method="post" className="stack" aria-labelledby="disable">
              <h3 id="disable">Turn off</h3>
              <CsrfField />
              <input type="hidden" name="intent" value="disable" />
              <CodeField label="A current code or a recovery code" />
              <button type="submit" className="danger">
                Turn off two-factor authentication
              </button>
            </Form>
          </>
        ) : result?.enrolment ? (
          <Form method="post" className="stack">
            <CsrfField />
            <input type="hidden" name="intent" value="confirm" />
            <input type="hidden" name="secret" value={result.enrolment.secret} />
            <input type="hidden" name="otpauth_uri" value={result.enrolment.otpauth_uri} />
            <p>Add this key to your authenticator app (or open the link on your phone):</p>
            <p>
              <code data-testid="totp-secret">{result.enrolment.secret}</code>
            </p>
            <p>
              <a href={result.enrolment.otpauth_uri}>Open in an authenticator app</a>
            </p>
            <CodeField />
            <button type="submit" className="primary">
              Confirm and turn on
            </button>
          </Form>
        ) : (
          <Form method="post" className="stack">
            <p className="muted">
              Sign-in then asks for a code from an authenticator app, and so do sensitive actions
              (API keys, changes of owners).
            </p>
            <CsrfField />
            <input type="hidden" name="intent" value="enrol" />
            <button type="submit" className="primary">
              Set up two-factor authentication
            </button>
          </Form>
        )}
      </section>
      {policy && (
        <section className="card stack" aria-labelledby="policy">
          <h2 id="policy">Workspace policy</h2>
          <Form method="post" className="stack">
            <CsrfField />
            <input type="hidden" name="intent" value="policy" />
            <label className="check">
              <input type="checkbox" name="require_mfa" defaultChecked={policy.require_mfa} />{" "}
              Require two-factor authentication for every member
            </label>
            <p className="muted">
              Members without it are sent to set it up after signing in. Members who sign in with
              single sign-on satisfy it through their identity provider.
            </p>
            <button type="submit">Save policy</button>
          </Form>
        </section>
      )}
    </div>
  );
}
