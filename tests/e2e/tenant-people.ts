/** People around a fresh tenant for browser tests: mailed links, a verified owner, members. */
import { expect } from "vitest";
import { call } from "../../scripts/lib/platform.mjs";
import { API_PORT, eventually } from "./platform";
import type { FreshTenant } from "./tenant-session";

/** The newest mailed link to `to` whose path is `path` (the mail queue delivers it shortly). */
export function mailedLink(to: string, path: string): Promise<string> {
  return eventually(async () => {
    const { body } = await call(API_PORT, {
      path: `/_dev/outbox?format=json&to=${encodeURIComponent(to)}`,
    });
    const mails = (body as { data: { text: string }[] }).data;
    for (const mail of mails) {
      const link = mail.text.match(new RegExp(`https?://\\S+/${path}\\?token=\\S+`))?.[0];
      if (link) return link;
    }
    return null;
  });
}

/** The owner proves their address, as inviting requires. */
export async function verifyOwner(t: FreshTenant) {
  const link = await mailedLink(t.email, "verify-email");
  const token = new URL(link).searchParams.get("token");
  const { status } = await t.api({
    method: "POST",
    path: "/v1/auth/verify-email",
    body: { token },
  });
  expect(status).toBe(204);
}

/** A member with `role`, invited by the owner and joined through the API: their credentials. */
export async function joinedMember(t: FreshTenant, role: string) {
  const email = `${role}-${Math.random().toString(36).slice(2, 6)}@${t.slug}.example`;
  const invited = await t.api({ method: "POST", path: "/v1/invitations", body: { email, role } });
  expect(invited.status).toBe(201);
  const token = new URL(await mailedLink(email, "accept-invitation")).searchParams.get("token");
  const password = `${role}-password-1`;
  const accepted = await call(API_PORT, {
    slug: t.slug,
    method: "POST",
    path: "/v1/invitations/accept",
    body: { token, password },
  });
  expect(accepted.status).toBe(201);
  return { url: t.url, email, password, token: accepted.body.access_token as string };
}
