import { useEffect, useState } from "react";

/**
 * A new secret (API key, SCIM token), shown once: selectable text, and a Copy button once scripts
 * run.
 */
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
  const [scripted, setScripted] = useState(false);
  const [copied, setCopied] = useState(false);
  useEffect(() => setScripted(true), []);
  return (
    <section className="notice ok stack" aria-labelledby={`${testId}-title`}>
      <h2 id={`${testId}-title`}>{title}</h2>
      <p>Copy it now: it is shown only once.</p>
      <div className="row">
        <code data-testid={testId} className="secret">
          {secret}
        </code>
        {scripted && (
          <button
            type="button"
            onClick={() => navigator.clipboard.writeText(secret).then(() => setCopied(true))}
          >
            {copied ? "Copied" : "Copy"}
          </button>
        )}
      </div>
      {children}
    </section>
  );
}
