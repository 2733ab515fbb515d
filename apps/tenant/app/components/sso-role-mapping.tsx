import { Form } from "react-router";
import { CsrfField } from "./csrf";

export type RoleMapping = { claim: string; rules: { value: string; role: string }[] };

/** Roles SSO may give (a mapping, or the default for new members): never owner (the API refuses it too). */
export const SSO_ROLES = ["member", "viewer", "billing", "admin"] as const;
export type SsoRole = (typeof SSO_ROLES)[number];

const RoleOptions = () =>
  SSO_ROLES.map((role) => (
    <option key={role} value={role}>
      {role}
    </option>
  ));

/** The create forms' "Role of new members" (people the connection signs in for the first time). */
export function DefaultRoleField() {
  return (
    <label>
      Role of new members
      <select name="default_role" defaultValue="member">
        <RoleOptions />
      </select>
    </label>
  );
}
/** Empty rows offered beyond the saved ones: enough to add a few without scripts. */
const SPARE_ROWS = 3;

/**
 * The mapping as the form posted it: rows without a value are dropped; no claim or no rule
 * clears the mapping.
 */
export function mappingFromForm(form: FormData) {
  const claim = String(form.get("claim") ?? "").trim();
  const roles = form.getAll("rule_role").map(String);
  const rules = form
    .getAll("rule_value")
    .map((v, i) => ({ value: String(v).trim(), role: roles[i] as SsoRole }))
    .filter((r) => r.value !== "");
  return claim && rules.length > 0 ? { claim, rules } : null;
}

/** Edits a connection's role mapping: a claim name, then rows "value → role", first match wins. */
export function RoleMappingForm({
  id,
  mapping,
  busy,
}: {
  id: string;
  mapping: RoleMapping | null;
  busy: boolean;
}) {
  const rows = [
    ...(mapping?.rules ?? []),
    ...Array.from({ length: SPARE_ROWS }, () => ({ value: "", role: "member" })),
  ];
  return (
    <Form method="post" className="stack" aria-labelledby={`mapping-${id}`}>
      <h3 id={`mapping-${id}`}>Roles from the identity provider</h3>
      <p className="muted">
        At each sign-in, the first row whose value the claim holds gives the member's role; without
        a match they get the default role. Owners are never changed. Leave the claim empty to manage
        roles here instead.
      </p>
      <CsrfField />
      <input type="hidden" name="intent" value="role-mapping" />
      <input type="hidden" name="id" value={id} />
      <label>
        Claim
        <input name="claim" defaultValue={mapping?.claim ?? ""} placeholder="groups" />
      </label>
      <table>
        <thead>
          <tr>
            <th scope="col">Claim value</th>
            <th scope="col">Role</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            // Rows are positional: the form posts values and roles in this order.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above.
            <tr key={i}>
              <td>
                <input
                  name="rule_value"
                  defaultValue={r.value}
                  aria-label={`Value of rule ${i + 1}`}
                />
              </td>
              <td>
                <select name="rule_role" defaultValue={r.role} aria-label={`Role of rule ${i + 1}`}>
                  <RoleOptions />
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="submit" disabled={busy}>
        Save role mapping
      </button>
    </Form>
  );
}
