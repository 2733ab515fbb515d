import { redirect } from "react-router";

/** Browsers ask for /favicon.ico whatever the page links; the icon is the SVG. */
export function loader() {
  return redirect("/favicon.svg", 301);
}
