import { CopyButton } from "./copy-button";

/** A new secret (API key, SCIM token), shown once: selectable text, and a Copy button once scripts run. */
export function ShownOnce({
  title,
  secret,
  testId,
  children,
}: {
  title: string;
  secret: string;
  testId: string;
  children?: React.ReactNode;
}) {
  return (
    <section className="notice ok stack" aria-labelledby={`${testId}-title`}>
      <h2 id={`${testId}-title`}>{title}</h2>
      <p>Copy it now: it is shown only once.</p>
      <div className="row">
        <code data-testid={testId} className="secret">
          {secret}
        </code>
        <CopyButton value={secret} />
      </div>
      {children}
    </section>
  );
}
