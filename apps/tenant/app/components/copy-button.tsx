import { useEffect, useState } from "react";

/**
 * Copies `value` to the clipboard. Rendered once scripts run (without them the value beside it
 * stays selectable text), so no dead button is ever shown.
 */
export function CopyButton({ value, label = "Copy" }: { value: string; label?: string }) {
  const [scripted, setScripted] = useState(false);
  const [copied, setCopied] = useState(false);
  useEffect(() => setScripted(true), []);
  if (!scripted) return null;
  return (
    <button
      type="button"
      onClick={() => navigator.clipboard.writeText(value).then(() => setCopied(true))}
    >
      {copied ? "Copied" : label}
    </button>
  );
}
