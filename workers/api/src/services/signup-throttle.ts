import { type Config, SIGNUP_LIMIT_DEFAULTS } from "../env";
import type { Budget } from "./throttle";

/**
 * Every sign-up takes a database from a finite pool, so sign-ups are budgeted per client address
 * and per email domain, per hour (`SIGNUP_LIMIT_PER_CLIENT`, `SIGNUP_LIMIT_PER_DOMAIN`). Every
 * attempt counts, successful or not: the budget bounds what a script can cost, not failures.
 */
export const SIGNUP_WINDOW_MS = 60 * 60_000;
/** The production defaults (`SIGNUP_LIMIT_PER_CLIENT`, `SIGNUP_LIMIT_PER_DOMAIN`). */
export const SIGNUP_LIMITS = SIGNUP_LIMIT_DEFAULTS;

/**
 * Mail providers shared by millions of unrelated people. A budget per such domain would let one
 * abuser lock everyone on gmail.com out of sign-up for the window, so these are budgeted per
 * mailbox instead (at the per-client rate); the per-client budget still bounds a script that
 * rotates addresses.
 */
export const CONSUMER_MAIL_DOMAINS = new Set([
  "aol.com",
  "fastmail.com",
  "gmail.com",
  "gmx.com",
  "gmx.de",
  "gmx.net",
  "googlemail.com",
  "hey.com",
  "hotmail.com",
  "icloud.com",
  "live.com",
  "mail.com",
  "mail.ru",
  "me.com",
  "msn.com",
  "outlook.com",
  "pm.me",
  "proton.me",
  "protonmail.com",
  "qq.com",
  "web.de",
  "yahoo.com",
  "yandex.ru",
  "zoho.com",
]);

const GMAIL = new Set(["gmail.com", "googlemail.com"]);

/**
 * The mailbox an address delivers to, so `a.b+1@gmail.com` and `ab+2@googlemail.com` share one
 * budget: sub-addresses (`+tag`) are dropped everywhere, and Gmail also ignores dots.
 */
export function mailbox(email: string): string {
  const at = email.lastIndexOf("@");
  let local = email.slice(0, at).toLowerCase();
  let domain = email.slice(at + 1).toLowerCase();
  local = local.split("+")[0] ?? local;
  if (GMAIL.has(domain)) {
    local = local.replaceAll(".", "");
    domain = "gmail.com";
  }
  return `${local}@${domain}`;
}

export function signUpBudgets(
  cfg: Pick<Config, "SIGNUP_LIMIT_PER_CLIENT" | "SIGNUP_LIMIT_PER_DOMAIN">,
  email: string,
  ip: string | null,
): Budget[] {
  const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
  const client = { max: cfg.SIGNUP_LIMIT_PER_CLIENT, windowMs: SIGNUP_WINDOW_MS };
  return [
    { key: `signup:client:${ip ?? "unknown"}`, ...client },
    CONSUMER_MAIL_DOMAINS.has(domain)
      ? { key: `signup:mailbox:${mailbox(email)}`, ...client }
      : {
          key: `signup:domain:${domain}`,
          max: cfg.SIGNUP_LIMIT_PER_DOMAIN,
          windowMs: SIGNUP_WINDOW_MS,
        },
  ];
}
