import { Form, Link, redirect, useNavigation } from "react-router";
import { apiFailure, type ShownProblem, shownProblem } from "../../server/api";
import { signedIn, signedInForm, signedOut } from "../../server/signed-in";
import { logoUrl } from "../branding";
import { CsrfField } from "../components/csrf";
import { ProblemNotice } from "../components/problem";
import { useCan, useSignedIn } from "../signed-in";
import type { Route } from "./+types/settings";

export function meta() {
  return [{ title: "Settings" }];
}

export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const r = await api.GET("/v1/settings");
  if (r.response.status === 401) throw signedOut(args);
  if (!r.data) throw apiFailure(r);
  return { settings: r.data, saved: new URL(args.request.url).searchParams.get("saved") };
}

const INTENTS = ["rename", "accent", "logo", "remove-logo"] as const;
type Intent = (typeof INTENTS)[number];

/** One form per setting (a hidden `intent`); success redirects back (post/redirect/get). */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  const intent = String(form.get("intent")) as Intent;
  const r = await (async () => {
    switch (intent) {
      case "rename":
        return api.PATCH("/v1/settings", { body: { name: String(form.get("name") ?? "") } });
      case "accent": {
        const value = String(form.get("accent_color") ?? "").trim();
        return api.PATCH("/v1/settings", { body: { accent_color: value === "" ? null : value } });
      }
      case "logo": {
        const file = form.get("logo");
        const bytes = file instanceof File ? new Uint8Array(await file.arrayBuffer()) : null;
        // The API reads the type from the bytes; the browser's claim is not forwarded.
        return api.PUT("/v1/settings/logo", {
          body: (bytes ?? new Uint8Array()) as unknown as string,
          bodySerializer: (b: unknown) => b as BodyInit,
          headers: { "content-type": "application/octet-stream" },
        });
      }
      case "remove-logo":
        return api.DELETE("/v1/settings/logo");
      default:
        throw new Response("Unknown form.", { status: 400 });
    }
  })();
  if (r.response.status === 401) throw signedOut(args);
  if (!r.response.ok) return { intent, problem: shownProblem(r) };
  return redirect(`/settings?saved=${intent}`);
}

const SAVED: Record<string, string> = {
  rename: "The organisation was renamed.",
  accent: "The accent colour was saved.",
  logo: "The logo was uploaded.",
  "remove-logo": "The logo was removed.",
};

export default function Settings({ loaderData, actionData }: Route.ComponentProps) {
  const { settings, saved } = loaderData;
  const { me } = useSignedIn();
  const canManage = useCan("settings:manage");
  const busy = useNavigation().state === "submitting";
  const problemFor = (intent: Intent): ShownProblem | null =>
    actionData?.intent === intent ? actionData.problem : null;
  const disabled = !canManage || busy;
  return (
    <div className="stack settings">
      <h1>Settings</h1>
      {saved && SAVED[saved] && !actionData && (
        <p className="notice ok" role="status">
          {SAVED[saved]}
        </p>
      )}
      {!canManage && (
        <p className="notice warn" data-testid="read-only-reason">
          Only owners and admins can change these settings
          {me.role ? `; your role is ${me.role}` : ""}. You can see them here.
        </p>
      )}

      <section className="card stack" aria-labelledby="org-name">
        <h2 id="org-name">Organisation name</h2>
        <Form method="post" className="row">
          <CsrfField />
          <input type="hidden" name="intent" value="rename" />
          <label>
            Name
            <input
              name="name"
              defaultValue={settings.name}
              required
              maxLength={100}
              disabled={!canManage}
            />
          </label>
          <button type="submit" className="primary" disabled={disabled}>
            Rename
          </button>
        </Form>
        <ProblemNotice problem={problemFor("rename")} />
      </section>

      <section className="card stack" aria-labelledby="accent">
        <h2 id="accent">Accent colour</h2>
        <p className="muted">
          Used for buttons, links and the header line. White text must stay readable on it (contrast
          at least 4.5:1), so very light colours are refused. Leave empty for the default.
        </p>
        <Form method="post" className="row">
          <CsrfField />
          <input type="hidden" name="intent" value="accent" />
          <label>
            Colour (hex, like #0b57d0)
            <input
              name="accent_color"
              defaultValue={settings.accent_color ?? ""}
              pattern="#[0-9a-fA-F]{6}"
              placeholder="#0b57d0"
              disabled={!canManage}
            />
          </label>
          <span
            className="swatch"
            aria-hidden="true"
            style={{ background: settings.accent_color ?? "var(--accent)" }}
          />
          <button type="submit" className="primary" disabled={disabled}>
            Save colour
          </button>
        </Form>
        <ProblemNotice problem={problemFor("accent")} />
      </section>

      <section className="card stack" aria-labelledby="logo">
        <h2 id="logo">Logo</h2>
        {settings.logo ? (
          <p className="row">
            <img src={logoUrl(settings.logo.updated_at)} alt="Current logo" height={48} />
            <span className="muted">
              {settings.logo.content_type},{" "}
              {settings.logo.size < 1024
                ? `${settings.logo.size} bytes`
                : `${Math.ceil(settings.logo.size / 1024)} KB`}
            </span>
          </p>
        ) : (
          <p className="muted">No logo: the header shows the name alone.</p>
        )}
        <p className="muted">
          PNG, JPEG or WebP, at most 256 KB. SVG is refused: it can carry scripts.
        </p>
        <Form method="post" encType="multipart/form-data" className="row">
          <CsrfField />
          <input type="hidden" name="intent" value="logo" />
          <label>
            Logo file
            <input
              type="file"
              name="logo"
              accept="image/png,image/jpeg,image/webp"
              required
              disabled={!canManage}
            />
          </label>
          <button type="submit" className="primary" disabled={disabled}>
            Upload logo
          </button>
        </Form>
        {settings.logo && (
          <Form method="post">
            <CsrfField />
            <input type="hidden" name="intent" value="remove-logo" />
            <button type="submit" className="danger" disabled={disabled}>
              Remove logo
            </button>
          </Form>
        )}
        <ProblemNotice problem={problemFor("logo") ?? problemFor("remove-logo")} />
      </section>

      <section className="card stack" aria-labelledby="sso">
        <h2 id="sso">Single sign-on</h2>
        <p>
          <Link to="/settings/sso">Configure single sign-on</Link> (owners and admins).
        </p>
        <p>
          <Link to="/settings/scim">SCIM provisioning tokens</Link> (owners).
        </p>
      </section>
    </div>
  );
}
