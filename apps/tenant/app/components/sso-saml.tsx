import type { components } from "@tenantry/client";
import { Form } from "react-router";
import { CopyButton } from "./copy-button";
import { CsrfField } from "./csrf";
import { DefaultRoleField } from "./sso-role-mapping";

type Saml = NonNullable<components["schemas"]["SamlConnectionDetails"]>;

const when = (iso: string) => new Date(iso).toISOString().slice(0, 10);

/** One of our values the IdP asks for, with a Copy button. */
function SpValue({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="row">
        <code data-testid={testId}>{value}</code>
        <CopyButton value={value} />
      </dd>
    </>
  );
}

/**
 * A SAML connection's settings: our values to enter at the IdP, what its metadata said (the
 * signing certificates with fingerprint and expiry), refresh, and the IdP-initiated switch.
 */
export function SamlFacts({ id, saml, busy }: { id: string; saml: Saml; busy: boolean }) {
  return (
    <>
      <h3>Enter these at your identity provider</h3>
      <dl className="sso-facts">
        <SpValue label="Entity ID (audience)" value={saml.sp.entity_id} testId="sp-entity-id" />
        <SpValue label="ACS URL (HTTP-POST)" value={saml.sp.acs_url} testId="sp-acs-url" />
        <SpValue label="SP metadata URL" value={saml.sp.metadata_url} testId="sp-metadata-url" />
      </dl>
      <h3>From the identity provider's metadata</h3>
      <dl className="sso-facts">
        <dt>IdP entity ID</dt>
        <dd>{saml.idp_entity_id}</dd>
        <dt>Sign-in URL (HTTP-Redirect)</dt>
        <dd>{saml.idp_sso_url}</dd>
        <dt>Metadata</dt>
        <dd>
          {saml.metadata_url ? <code>{saml.metadata_url}</code> : "uploaded"}
          {saml.metadata_fetched_at && `, read ${when(saml.metadata_fetched_at)}`}
        </dd>
        <dt>Groups attribute</dt>
        <dd>{saml.groups_attribute}</dd>
      </dl>
      <table>
        <caption>Signing certificates (responses signed by any of them are accepted)</caption>
        <thead>
          <tr>
            <th scope="col">SHA-256 fingerprint</th>
            <th scope="col">Expires</th>
          </tr>
        </thead>
        <tbody>
          {saml.certificates.map((cert) => (
            <tr key={cert.sha256}>
              <td>
                <code className="fingerprint">{cert.sha256}</code>
              </td>
              <td>{when(cert.not_after)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        {saml.metadata_url && (
          <Form method="post">
            <CsrfField />
            <input type="hidden" name="intent" value="refresh-metadata" />
            <input type="hidden" name="id" value={id} />
            <button type="submit" disabled={busy}>
              Refresh metadata
            </button>
          </Form>
        )}
        <Form method="post">
          <CsrfField />
          <input
            type="hidden"
            name="intent"
            value={saml.allow_idp_initiated ? "disallow-idp-initiated" : "allow-idp-initiated"}
          />
          <input type="hidden" name="id" value={id} />
          <button type="submit" disabled={busy}>
            {saml.allow_idp_initiated
              ? "Refuse IdP-initiated sign-in"
              : "Allow IdP-initiated sign-in"}
          </button>
        </Form>
      </div>
      <p className="muted">
        IdP-initiated sign-in (from the identity provider's app launcher) is{" "}
        {saml.allow_idp_initiated
          ? "allowed: each response is still accepted only once."
          : "refused: sign-in starts here, from the sign-in page."}
      </p>
    </>
  );
}

/** Adds a SAML connection from the IdP's metadata: its URL, or the XML pasted. */
export function NewSamlConnection({ busy }: { busy: boolean }) {
  return (
    <Form method="post" className="stack">
      <CsrfField />
      <input type="hidden" name="intent" value="create-saml" />
      <label>
        Name
        <input name="name" required maxLength={100} placeholder="Entra ID" />
      </label>
      <label>
        IdP metadata URL
        <input name="metadata_url" type="url" placeholder="https://idp.example.com/metadata" />
      </label>
      <label>
        …or the IdP metadata XML
        <textarea name="metadata_xml" rows={4} placeholder="<md:EntityDescriptor …" />
      </label>
      <DefaultRoleField />
      <button type="submit" className="primary" disabled={busy}>
        Add SAML connection
      </button>
    </Form>
  );
}
