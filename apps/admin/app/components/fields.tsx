import { text } from "./format";

/** Label–value rows of a record. */
export function Rows({ rows }: { rows: [string, unknown][] }) {
  return (
    <table>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{text(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Every operator mutation states why; the audit entry keeps it. */
export function ReasonField() {
  return (
    <>
      <label>
        Reason (required, audited)
        <input name="reason" required minLength={3} maxLength={500} size={50} />
      </label>{" "}
    </>
  );
}
