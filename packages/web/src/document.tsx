import type { ReactNode } from "react";
import { Links, Meta, Scripts, ScrollRestoration } from "react-router";

/** Both apps' HTML document; `nonce` is the request's CSP nonce (absent on an error render). */
export function Document({ nonce, children }: { nonce: string | undefined; children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

/** Both apps' root error boundary page: what went wrong, in the words the app chose. */
export function ErrorPage({ status, detail }: { status: number; detail: string }) {
  return (
    <main className="page">
      <h1>{status === 404 ? "Not found" : "Something went wrong"}</h1>
      <p>{detail}</p>
    </main>
  );
}
