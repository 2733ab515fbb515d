import { redirect } from "react-router";
import { apiAt, apiFor, type ShownProblem, shownProblem } from "./api";
import { tenantAppRequest } from "./request";

interface Args {
  request: Request;
  context: Parameters<typeof apiFor>[0]["context"];
}

export interface SignUpFields {
  organization_name: string;
  slug: string;
  email: string;
}

/** What the sign-up form shows after a POST that did not leave the apex. */
export interface SignUpOutcome {
  fields?: SignUpFields;
  /** The email already has an account: a link that creates the organisation was mailed. */
  sent?: boolean;
  problem?: ShownProblem;
  /** The tenant exists but the hand-off failed: sign in there instead. */
  signInAt?: string;
}

/**
 * The apex's sign-up form (`POST /v1/signup` at the apex origin). Created: the new owner goes to
 * the tenant's host with a hand-off code. An email that already has an account gets a mail (202).
 */
export async function signUpAction(args: Args): Promise<Response | SignUpOutcome> {
  const form = await args.request.formData();
  const field = (name: string) => String(form.get(name) ?? "").trim();
  const fields = {
    organization_name: field("organization_name"),
    slug: field("slug").toLowerCase(),
    email: field("email"),
  };
  const result = await apiFor(args).POST("/v1/signup", {
    body: { ...fields, password: String(form.get("password") ?? "") },
  });
  if (!result.data) return { fields, problem: shownProblem(result) };
  if (!("access_token" in result.data)) return { fields, sent: true };
  return handOff(args, result.data);
}

/** The mailed confirmation's button (`POST /v1/signup/confirm`): created, then handed off. */
export async function confirmSignUpAction(args: Args): Promise<Response | SignUpOutcome> {
  const form = await args.request.formData();
  const result = await apiFor(args).POST("/v1/signup/confirm", {
    body: { token: String(form.get("token") ?? "") },
  });
  if (!result.data) return { problem: shownProblem(result) };
  return handOff(args, result.data);
}

/**
 * Cookies do not cross hosts, so the apex never keeps the new session: it asks the tenant's host
 * for a one-time code bound to that session (ADR 018) and sends the browser to redeem it there.
 */
async function handOff(
  args: Args,
  created: { tenant: { url: string }; access_token: string },
): Promise<Response | SignUpOutcome> {
  const { env } = args.context.get(tenantAppRequest);
  const minted = await apiAt(env, created.tenant.url, args.request, created.access_token).POST(
    "/v1/auth/handoff",
  );
  if (!minted.data)
    return { problem: shownProblem(minted), signInAt: `${created.tenant.url}/sign-in` };
  return redirect(
    `${created.tenant.url}/auth/handoff?code=${encodeURIComponent(minted.data.code)}`,
  );
}
