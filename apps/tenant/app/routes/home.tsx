import { useActionData } from "react-router";
import { type ShownProblem, shownProblem } from "../../server/api";
import { isApex } from "../../server/hosts";
import { type OnboardingProgress, onboardingProgress } from "../../server/onboarding";
import { tenantAppRequest } from "../../server/request";
import { signUpAction } from "../../server/sign-up";
import { signedIn, signedInCaller, signedInForm, signedOut } from "../../server/signed-in";
import { OnboardingChecklist } from "../components/onboarding";
import { ProblemNotice } from "../components/problem";
import { SignUpForm } from "../components/sign-up-form";
import { useSignedIn } from "../signed-in";
import type { Route } from "./+types/home";

/** `/` is two pages: public sign-up on the apex, the dashboard on a tenant's host. */
export function meta({ loaderData }: Route.MetaArgs) {
  return [{ title: loaderData?.apex ? "Create your organisation" : "Dashboard" }];
}

export async function loader(args: Route.LoaderArgs) {
  const { env } = args.context.get(tenantAppRequest);
  if (isApex(args.request, env)) return { apex: true as const, baseDomain: env.BASE_DOMAIN };
  const { api } = signedIn(args);
  const { permissions } = await signedInCaller(args);
  return {
    apex: false as const,
    progress: await onboardingProgress(api, permissions, () => signedOut(args)),
  };
}

export async function action(args: Route.ActionArgs) {
  const { env } = args.context.get(tenantAppRequest);
  if (isApex(args.request, env)) {
    const signUp = await signUpAction(args);
    return signUp instanceof Response ? signUp : { signUp };
  }
  const { api, form } = await signedInForm(args);
  if (form.get("intent") !== "resend-verification")
    throw new Response("Unknown action.", { status: 400 });
  const sent = await api.POST("/v1/auth/verify-email/resend");
  return sent.response.ok ? { resent: true } : { problem: shownProblem(sent) };
}

export default function Home({ loaderData }: Route.ComponentProps) {
  const acted = useActionData<typeof action>();
  if (loaderData.apex)
    return (
      <SignUpForm
        baseDomain={loaderData.baseDomain}
        outcome={acted && "signUp" in acted ? acted.signUp : undefined}
      />
    );
  return (
    <Dashboard
      progress={loaderData.progress}
      resent={Boolean(acted && "resent" in acted)}
      problem={acted && "problem" in acted ? acted.problem : undefined}
    />
  );
}

/** The dashboard: who the user is in which tenant (the layout's `GET /v1/me`), and first steps. */
function Dashboard({
  progress,
  resent,
  problem,
}: {
  progress: OnboardingProgress;
  resent: boolean;
  problem?: ShownProblem;
}) {
  const { me } = useSignedIn();
  return (
    <>
      <h1>{me.tenant.name}</h1>
      <p>
        Signed in as <strong>{me.user?.email}</strong>
        {me.role && <span className="muted"> · {me.role}</span>}
      </p>
      <p className="muted">
        {me.tenant.slug} · plan {me.tenant.plan ?? "none"}
      </p>
      <ProblemNotice problem={problem} />
      <OnboardingChecklist progress={progress} resent={resent} />
    </>
  );
}
