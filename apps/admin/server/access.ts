import { controlDb, ProblemError } from "@tenantry/core";
import { sha256Hex } from "@tenantry/core/crypto";
import { operators } from "@tenantry/schema/control";
import { and, eq } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { z } from "zod";
import type { Operator } from "./context";
import { type AdminEnv, adminConfig } from "./env";

/** The header Cloudflare Access adds to every request it lets through to the admin host. */
export const ACCESS_JWT_HEADER = "cf-access-jwt-assertion";

/** One key set per team: jose caches the keys and refetches on an unknown `kid` (an optimisation). */
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function teamKeys(teamDomain: string) {
  let keys = keySets.get(teamDomain);
  if (!keys) {
    keys = createRemoteJWKSet(new URL("/cdn-cgi/access/certs", teamDomain));
    keySets.set(teamDomain, keys);
  }
  return keys;
}

const AccessClaimsSchema = z.object({ email: z.email() });

function noEntry(detail: string): ProblemError {
  return new ProblemError(403, "access_denied", "Forbidden", detail);
}

/** Whether Cloudflare Access guards this deployment (then it is the only way in). */
export function accessEnabled(env: AdminEnv): boolean {
  return adminConfig(env).ACCESS_AUD !== undefined;
}

/**
 * The operator Cloudflare Access vouches for: the `Cf-Access-Jwt-Assertion` JWT verified against
 * the team's keys (RS256, issuer = the team domain, audience = this application's AUD), its email
 * mapped to an active operator. Anything else is 403: no valid Access token, no entry.
 * Access has already done the sign-in and its second factor; the role comes from our record.
 */
export async function operatorFromAccess(env: AdminEnv, request: Request): Promise<Operator> {
  const { ACCESS_TEAM_DOMAIN: team, ACCESS_AUD: aud } = adminConfig(env);
  if (!team || !aud) throw new Error("operatorFromAccess needs ACCESS_TEAM_DOMAIN and ACCESS_AUD");
  const jwt = request.headers.get(ACCESS_JWT_HEADER);
  if (!jwt)
    throw noEntry("This host is behind Cloudflare Access; no Access token came with the request.");
  let email: string;
  try {
    const { payload } = await jwtVerify(jwt, teamKeys(team), {
      issuer: team,
      audience: aud,
      algorithms: ["RS256"],
    });
    email = AccessClaimsSchema.parse(payload).email.toLowerCase();
  } catch {
    throw noEntry("The Cloudflare Access token is not valid for this application.");
  }
  const op = await controlDb(env)
    .select({
      id: operators.id,
      email: operators.email,
      name: operators.name,
      role: operators.role,
    })
    .from(operators)
    .where(and(eq(operators.email, email), eq(operators.status, "active")))
    .get();
  if (!op) throw noEntry(`${email} is not an active operator.`);
  return { ...op, via: { type: "access", id: email } };
}

/**
 * A page request's Access identity: the operator, and a CSRF token derived from the Access JWT,
 * which a cross-site page can neither read nor choose, so it serves as the synchronizer token
 * without a session row. Throws the 403 problem when the JWT is not valid.
 */
export async function pageAccess(env: AdminEnv, request: Request) {
  return {
    operator: await operatorFromAccess(env, request),
    csrfToken: await sha256Hex(`csrf:${request.headers.get(ACCESS_JWT_HEADER) ?? ""}`),
  };
}

/**
 * The admin API's outer gate (before any route, the health route included): behind Access every
 * request needs a valid Access JWT; the operator token then says who acts and with which role.
 * It also reads the configuration on every request, so a misconfigured deployment refuses all.
 */
export const accessGate = createMiddleware<{ Bindings: AdminEnv }>(async (c, next) => {
  if (accessEnabled(c.env)) await operatorFromAccess(c.env, c.req.raw);
  await next();
});
