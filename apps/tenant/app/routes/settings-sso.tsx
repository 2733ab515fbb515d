import { useEffect } from "react";
import { Form, Link, redirect, useNavigation } from "react-router";
import { apiFailure, type ShownProblem, shownProblem } from "../../server/api";
import { featureGates } from "../../server/plan-gate";
import { signedIn, signedInCaller, signedInForm, signedOut } from "../../server/signed-in";
import { CsrfField } from "../components/csrf";
import { PlanGate } from "../components/plan-gate";
import { ProblemNotice } from "../components/problem";
import {
  DefaultRoleField,
  mappingFromForm,
  RoleMappingForm,
  type SsoRole,
} from "../components/sso-role-mapping";
import { NewSamlConnection, SamlFacts } from "../components/sso-saml";
import type { Route } from "./+types/settings-sso";

export function meta() {
  return [{ title: "Single sign-on" }];
}

/** Owners and admins (`settings:manage`) on a plan with `sso`; anyone else is told why. */
export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const me = await signedInCaller(args);
  const saved = new URL(args.request.url).searchParams.get("saved");
  if (!me.permissions.includes("settings:manage"))
    return { allowed: false as const, role: me.role, gate: null, connections: [], saved };
  const gated = await featureGates(api, ["sso"]);
  if ("failed" in gated) throw apiFailure(gated.failed);
  const gate = gated.gates.sso;
  if (!gate.included)
    return { allowed: true as const, role: me.role, gate, connections: [], saved };
  const r = await api.GET("/v1/sso/connections");
  if (r.response.status === 401) throw signedOut(args);
  if (!r.data) throw apiFailure(r);
  return { allowed: true as const, role: me.role, gate, connections: r.data.data, saved };
}

/** One form per change (a hidden `intent`); success redirects back (post/redirect/get). */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  const intent = String(form.get("intent"));
  const field = (name: string) => String(form.get(name) ?? "").trim();
  const id = field("id");
  const domain = field("domain");
  const path = { params: { path: { id } } };
  const domainPath = { params: { path: { id, domain } } };
  if (intent === "test") {
    // The provider's URL comes back as data (the CSP's form-action stops off-site redirects).
    const started = await api.POST("/v1/sso/connections/{id}/test", path);
    if (started.response.status === 401) throw signedOut(args);
    if (!started.data) return { intent, id, problem: shownProblem(started), to: null };
    return { intent, id, problem: null, to: started.data.authorization_url };
  }
  const r = await (() => {
    switch (intent) {
      case "create":
        return api.POST("/v1/sso/connections", {
          body: {
            name: field("name"),
            issuer: field("issuer"),
            client_id: field("client_id"),
            client_secret: field("client_secret"),
            default_role: field("default_role") as SsoRole,
          },
        });
      case "create-saml": {
        // One source: the URL if given, else the pasted XML (the API says if neither is usable).
        const url = field("metadata_url");
        return api.POST("/v1/sso/connections/saml", {
          body: {
            name: field("name"),
            ...(url ? { metadata_url: url } : { metadata_xml: field("metadata_xml") }),
            default_role: field("default_role") as SsoRole,
          },
        });
      }
      case "refresh-metadata":
        return api.POST("/v1/sso/connections/{id}/metadata/refresh", path);
      case "allow-idp-initiated":
      case "disallow-idp-initiated":
        return api.PATCH("/v1/sso/connections/{id}", {
          ...path,
          body: { allow_idp_initiated: intent === "allow-idp-initiated" },
        });
      case "enable":
      case "disable":
        return api.PATCH("/v1/sso/connections/{id}", {
          ...path,
          body: { enabled: intent === "enable" },
        });
      case "enforce":
      case "unenforce":
        return api.PATCH("/v1/sso/connections/{id}", {
          ...path,
          body: { enforced: intent === "enforce" },
        });
      case "role-mapping":
        return api.PATCH("/v1/sso/connections/{id}", {
          ...path,
          body: { role_mapping: mappingFromForm(form) },
        });
      case "delete":
        return api.DELETE("/v1/sso/connections/{id}", path);
      case "add-domain":
        return api.POST("/v1/sso/connections/{id}/domains", { ...path, body: { domain } });
      case "verify-domain":
        return api.POST("/v1/sso/connections/{id}/domains/{domain}/verify", domainPath);
      case "remove-domain":
        return api.DELETE("/v1/sso/connections/{id}/domains/{domain}", domainPath);
      default:
        throw new Response("Unknown form.", { status: 400 });
    }
  })();
  if (r.response.status === 401) throw signedOut(args);
  if (!r.response.ok) return { intent, id, problem: shownProblem(r), to: null };
  return redirect(`/settings/sso?saved=${intent}`);
}

const SAVED: Record<string, string> = {
  create: "The connection was added. Name its email domains, verify them, then switch it on.",
  "create-saml":
    "The SAML connection was added. Enter its entity ID and ACS URL at your identity provider, name and verify its email domains, then switch it on.",
  "refresh-metadata": "The identity provider's metadata was read again.",
  "allow-idp-initiated": "IdP-initiated sign-in is allowed.",
  "disallow-idp-initiated": "IdP-initiated sign-in is refused.",
  enable: "The connection is on: people of its verified domains can sign in with SSO.",
  disable: "The connection is off.",
  enforce:
    "SSO is enforced: people of its verified domains can no longer use a password here (owners still can).",
  unenforce: "SSO is no longer enforced: passwords work again.",
  "role-mapping": "The role mapping was saved: it applies from each member's next sign-in.",
  delete: "The connection was removed.",
  "add-domain": "The domain was added: publish its TXT record, then verify it.",
  "verify-domain": "The domain is verified.",
  "remove-domain": "The domain was removed.",
};

export default function SsoSettings({ loaderData, actionData }: Route.ComponentProps) {
  const { allowed, role, gate, connections, saved } = loaderData;
  const busy = useNavigation().state === "submitting";
  const to = actionData?.to;
  useEffect(() => {
    if (to) window.location.assign(to);
  }, [to]);
  const problemFor = (intent: string, id = ""): ShownProblem | null =>
    actionData?.intent === intent && actionData.id === id ? actionData.problem : null;
  return (
    <div className="stack settings">
      <h1>Single sign-on</h1>
      <p>
        People of your verified email domains sign in through your identity provider (OpenID Connect
        or SAML 2.0). <Link to="/settings">Back to settings</Link>
      </p>
      {to && (
        <p className="notice ok" role="status">
          Continuing to your identity provider… <a href={to}>Continue</a>
        </p>
      )}
      {saved && SAVED[saved] && !actionData && (
        <p className="notice ok" role="status">
          {SAVED[saved]}
        </p>
      )}
      {!allowed && (
        <p className="notice warn" data-testid="read-only-reason">
          Only owners and admins can configure single sign-on; your role is {role}.
        </p>
      )}
      {gate && (
        <PlanGate gate={gate} what="Single sign-on">
          {connections.map((c) => (
            <section key={c.id} className="card stack" aria-labelledby={`c-${c.id}`}>
              <h2 id={`c-${c.id}`}>
                {c.name} <span className="badge">{c.enabled ? "on" : "off"}</span>
              </h2>
              {c.saml && <SamlFacts id={c.id} saml={c.saml} busy={busy} />}
              <ProblemNotice problem={problemFor("refresh-metadata", c.id)} />
              <ProblemNotice problem={problemFor("allow-idp-initiated", c.id)} />
              <ProblemNotice problem={problemFor("disallow-idp-initiated", c.id)} />
              <dl className="sso-facts">
                <dt>Protocol</dt>
                <dd>{c.protocol === "saml" ? "SAML 2.0" : "OpenID Connect"}</dd>
                {c.protocol === "oidc" && (
                  <>
                    <dt>Issuer</dt>
                    <dd>{c.issuer}</dd>
                    <dt>Client id</dt>
                    <dd>{c.client_id}</dd>
                    <dt>Redirect URI (register it at the provider)</dt>
                    <dd>
                      <code>{c.redirect_uri}</code>
                    </dd>
                  </>
                )}
                <dt>New members get the role</dt>
                <dd>{c.default_role}</dd>
                <dt>Enforced</dt>
                <dd>
                  {c.enforced
                    ? "Yes: passwords are refused for its verified domains; owners keep theirs (break-glass)."
                    : "No: people may still sign in with a password."}
                </dd>
              </dl>
              <RoleMappingForm id={c.id} mapping={c.role_mapping} busy={busy} />
              <ProblemNotice problem={problemFor("role-mapping", c.id)} />
              <h3>Email domains</h3>
              {c.domains.length === 0 && <p className="muted">No domains yet.</p>}
              <ul className="stack">
                {c.domains.map((d) => (
                  <li key={d.domain} className="stack">
                    <span>
                      {d.domain}{" "}
                      <span className="badge">{d.verified ? "verified" : "not verified"}</span>
                    </span>
                    {!d.verified && (
                      <span className="muted">
                        Publish a TXT record <code>{d.verification.name}</code> with the value{" "}
                        <code>{d.verification.value}</code>, then verify.
                      </span>
                    )}
                    <span className="row">
                      {!d.verified && (
                        <Form method="post">
                          <CsrfField />
                          <input type="hidden" name="intent" value="verify-domain" />
                          <input type="hidden" name="id" value={c.id} />
                          <input type="hidden" name="domain" value={d.domain} />
                          <button type="submit" disabled={busy}>
                            Verify {d.domain}
                          </button>
                        </Form>
                      )}
                      <Form method="post">
                        <CsrfField />
                        <input type="hidden" name="intent" value="remove-domain" />
                        <input type="hidden" name="id" value={c.id} />
                        <input type="hidden" name="domain" value={d.domain} />
                        <button type="submit" className="danger" disabled={busy}>
                          Remove {d.domain}
                        </button>
                      </Form>
                    </span>
                  </li>
                ))}
              </ul>
              <ProblemNotice problem={problemFor("verify-domain", c.id)} />
              <ProblemNotice problem={problemFor("remove-domain", c.id)} />
              <Form method="post" className="row">
                <CsrfField />
                <input type="hidden" name="intent" value="add-domain" />
                <input type="hidden" name="id" value={c.id} />
                <label>
                  Domain
                  <input name="domain" required placeholder="example.com" />
                </label>
                <button type="submit" disabled={busy}>
                  Add domain
                </button>
              </Form>
              <ProblemNotice problem={problemFor("add-domain", c.id)} />
              <div className="row">
                <Form method="post">
                  <CsrfField />
                  <input type="hidden" name="intent" value={c.enabled ? "disable" : "enable"} />
                  <input type="hidden" name="id" value={c.id} />
                  <button type="submit" className="primary" disabled={busy}>
                    {c.enabled ? "Switch off" : "Switch on"}
                  </button>
                </Form>
                <Form method="post">
                  <CsrfField />
                  <input type="hidden" name="intent" value={c.enforced ? "unenforce" : "enforce"} />
                  <input type="hidden" name="id" value={c.id} />
                  <button type="submit" disabled={busy}>
                    {c.enforced ? "Stop enforcing SSO" : "Enforce SSO"}
                  </button>
                </Form>
                <Form method="post">
                  <CsrfField />
                  <input type="hidden" name="intent" value="test" />
                  <input type="hidden" name="id" value={c.id} />
                  <button type="submit" disabled={busy}>
                    Test connection
                  </button>
                </Form>
                <Form method="post">
                  <CsrfField />
                  <input type="hidden" name="intent" value="delete" />
                  <input type="hidden" name="id" value={c.id} />
                  <button type="submit" className="danger" disabled={busy}>
                    Remove connection
                  </button>
                </Form>
              </div>
              {/* A switch posts either intent: a refusal of either is shown. */}
              <ProblemNotice problem={problemFor(c.enabled ? "disable" : "enable", c.id)} />
              <ProblemNotice problem={problemFor(c.enforced ? "unenforce" : "enforce", c.id)} />
              <ProblemNotice problem={problemFor("test", c.id)} />
              <ProblemNotice problem={problemFor("delete", c.id)} />
            </section>
          ))}
          <section className="card stack" aria-labelledby="new-connection">
            <h2 id="new-connection">Add an OpenID Connect connection</h2>
            <p className="muted">
              The issuer's discovery document is read when you save. The client secret is stored
              encrypted and never shown again.
            </p>
            <Form method="post" className="stack">
              <CsrfField />
              <input type="hidden" name="intent" value="create" />
              <label>
                Name
                <input name="name" required maxLength={100} placeholder="Okta" />
              </label>
              <label>
                Issuer URL
                <input name="issuer" type="url" required placeholder="https://example.okta.com" />
              </label>
              <label>
                Client id
                <input name="client_id" required autoComplete="off" />
              </label>
              <label>
                Client secret
                <input name="client_secret" type="password" required autoComplete="off" />
              </label>
              <DefaultRoleField />
              <button type="submit" className="primary" disabled={busy}>
                Add connection
              </button>
            </Form>
            <ProblemNotice problem={problemFor("create")} />
          </section>
          <section className="card stack" aria-labelledby="new-saml-connection">
            <h2 id="new-saml-connection">Add a SAML 2.0 connection</h2>
            <p className="muted">
              Give the identity provider's metadata URL (it can be read again later, for certificate
              rollover) or paste its metadata XML. Our entity ID, ACS URL and metadata URL are shown
              once the connection exists.
            </p>
            <NewSamlConnection busy={busy} />
            <ProblemNotice problem={problemFor("create-saml")} />
          </section>
        </PlanGate>
      )}
    </div>
  );
}
