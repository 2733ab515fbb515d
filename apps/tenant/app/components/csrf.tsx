import { useSignedIn } from "../signed-in";

/** The hidden field every signed-in form carries; `signedInForm` refuses a form without it. */
export function CsrfField() {
  return <input type="hidden" name="csrf" value={useSignedIn().csrf} />;
}
