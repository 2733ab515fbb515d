import { formatMoney, isMetered, unitAmount } from "./billing/prices.js";
import { cancelSubscription } from "./billing/subscription-status.js";
import { StripeApiError } from "./errors.js";
import { parseForm } from "./form.js";
import { Params } from "./params.js";
import { subscriptionItems } from "./render.js";
import { checkoutLineItems, completeCheckoutSession } from "./resources/checkout.js";
import { updateSubscriptionFromParams } from "./resources/subscriptions.js";
import type { EmulatorState } from "./state.js";
import { formatDate } from "./time.js";
import type { WirePrice } from "./wire.js";

/**
 * The emulator's stand-ins for Stripe-hosted Checkout and the customer portal: plain HTML
 * forms (no JavaScript), so browsers, curl and tests can complete them.
 */

function esc(value: unknown): string {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function page(title: string, body: string, status = 200): Response {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Stripe emulator</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}
table{width:100%;border-collapse:collapse;margin:1rem 0}td,th{padding:.4rem;border-bottom:1px solid #e3e8ee;text-align:left}
.error{background:#fde8e8;color:#9b1c1c;padding:.6rem;border-radius:4px}.note{color:#697386;font-size:.9rem}
button{padding:.5rem 1rem;margin:.25rem .25rem .25rem 0}label{display:block;margin:.5rem 0}
section{border:1px solid #e3e8ee;border-radius:6px;padding:1rem;margin:1rem 0}
</style>
</head>
<body>
<p class="note">Stripe emulator · test mode</p>
${body}
</body>
</html>`;
  return new Response(html, { status, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { Location: location } });
}

function priceLabel(state: EmulatorState, price: WirePrice): string {
  const product = typeof price.product === "string" ? state.products.get(price.product) : undefined;
  const interval = price.recurring
    ? ` / ${price.recurring.interval_count > 1 ? `${price.recurring.interval_count} ` : ""}${price.recurring.interval}`
    : "";
  const amount = formatMoney(unitAmount(price), price.currency);
  return `${product?.name ?? price.nickname ?? price.id} — ${isMetered(price) ? `${amount} per unit` : amount}${interval}`;
}

// ---------------------------------------------------------------------------------------------
// Checkout: GET /checkout/:id shows the session, POST action=pay|decline

function checkoutPage(state: EmulatorState, id: string): Response {
  const record = state.checkoutSessions.get(id);
  if (!record) return page("Not found", "<h1>Checkout session not found</h1>", 404);
  const session = record.session;
  if (session.status === "complete") {
    const link = session.success_url?.replaceAll("{CHECKOUT_SESSION_ID}", session.id);
    const done =
      session.mode === "subscription"
        ? `<h1>Payment complete</h1><p>Subscription <code>${esc(session.subscription)}</code> is active.</p>`
        : session.mode === "setup"
          ? "<h1>Card saved</h1>"
          : "<h1>Payment complete</h1>";
    return page("Complete", `${done}${link ? `<p><a href="${esc(link)}">Continue</a></p>` : ""}`);
  }
  if (session.status === "expired") {
    return page("Expired", "<h1>This checkout session has expired</h1>", 410);
  }
  const rows = checkoutLineItems(state, record)
    .map(
      (line) =>
        `<tr><td>${esc(line.description)}</td><td>${esc(line.quantity)}</td><td>${esc(line.price ? priceLabel(state, line.price as WirePrice) : "")}</td></tr>`,
    )
    .join("");
  const trial = record.subscriptionData.trialPeriodDays;
  const customer =
    typeof session.customer === "string" ? state.customers.get(session.customer) : undefined;
  const email = customer?.email ?? session.customer_email ?? "";
  const emailField = customer
    ? `<p>Paying as <strong>${esc(customer.email ?? customer.id)}</strong></p>`
    : `<label>Email <input type="email" name="email" value="${esc(email)}" required></label>
<label>Name <input type="text" name="name"></label>`;
  const cancel = session.cancel_url
    ? `<p><a href="${esc(session.cancel_url)}">Cancel and return</a></p>`
    : "";
  return page(
    "Checkout",
    `<h1>${session.mode === "subscription" ? "Subscribe" : session.mode === "setup" ? "Save a card" : "Pay"}</h1>
${record.declineMessage ? `<p class="error" role="alert">${esc(record.declineMessage)}</p>` : ""}
<table><thead><tr><th>Product</th><th>Qty</th><th>Price</th></tr></thead><tbody>${rows}</tbody></table>
<p>Total due today: <strong>${esc(formatMoney(session.amount_total ?? 0, session.currency ?? "usd"))}</strong>${trial ? ` (${esc(trial)}-day trial)` : ""}</p>
<form method="post" action="/checkout/${esc(session.id)}">
${emailField}
<p class="note">Card: 4242 4242 4242 4242 (test). Pay succeeds; Decline simulates a declined card.</p>
<button type="submit" name="action" value="pay">Pay</button>
<button type="submit" name="action" value="decline">Decline</button>
</form>
${cancel}`,
  );
}

async function checkoutAction(
  state: EmulatorState,
  id: string,
  request: Request,
): Promise<Response> {
  const record = state.checkoutSessions.get(id);
  if (!record) return page("Not found", "<h1>Checkout session not found</h1>", 404);
  const form = new Params(parseForm(await request.text()));
  const action = form.str("action");
  if (record.session.status !== "open") return redirect(`/checkout/${id}`);
  if (action === "decline") {
    record.declineMessage = "Your card was declined.";
    return redirect(`/checkout/${id}`);
  }
  if (action !== "pay") return page("Bad request", "<h1>Unknown action</h1>", 400);
  const email = form.str("email")?.trim();
  if (typeof record.session.customer !== "string" && !email && !record.session.customer_email) {
    record.declineMessage = "Enter an email address.";
    return redirect(`/checkout/${id}`);
  }
  record.declineMessage = null;
  try {
    const target = completeCheckoutSession(state, id, { email, name: form.str("name")?.trim() });
    return redirect(target ?? `/checkout/${id}`);
  } catch (error) {
    // A payment-mode charge that `setPaymentOutcome` made fail: the page shows the decline.
    if (!(error instanceof StripeApiError) || error.status !== 402) throw error;
    record.declineMessage = error.message;
    return redirect(`/checkout/${id}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Portal: GET /portal/:id lists subscriptions, POST action=switch|cancel|renew|cancel_now

function portalPrices(state: EmulatorState): WirePrice[] {
  return [...state.prices.values()].filter(
    (p) =>
      p.active &&
      p.type === "recurring" &&
      !isMetered(p) &&
      typeof p.product === "string" &&
      state.products.get(p.product)?.active !== false,
  );
}

function portalPage(state: EmulatorState, id: string, url: URL): Response {
  const session = state.portalSessions.get(id);
  if (!session) return page("Not found", "<h1>Portal session not found</h1>", 404);
  const subs = state
    .newestFirst(state.subscriptions.values())
    .filter(
      (s) =>
        s.customer === session.customer && !["canceled", "incomplete_expired"].includes(s.status),
    );
  const prices = portalPrices(state);
  const sections = subs
    .map((sub) => {
      const items = subscriptionItems(state, sub.id);
      const licensed = items.find((i) => {
        const p = state.prices.get(i.price);
        return p && !isMetered(p);
      });
      const names = items
        .map((i) => {
          const price = state.prices.get(i.price);
          return price ? esc(priceLabel(state, price)) : "";
        })
        .join("<br>");
      const end = items[0]?.current_period_end;
      const options = prices
        .map(
          (p) =>
            `<option value="${esc(p.id)}"${p.id === licensed?.price ? " selected" : ""}>${esc(priceLabel(state, p))}</option>`,
        )
        .join("");
      const switchForm = licensed
        ? `<form method="post" action="/portal/${esc(id)}">
<input type="hidden" name="subscription" value="${esc(sub.id)}">
<input type="hidden" name="item" value="${esc(licensed.id)}">
<label>Plan <select name="price">${options}</select></label>
<button type="submit" name="action" value="switch">Update plan</button>
</form>`
        : "";
      const cancelForm = `<form method="post" action="/portal/${esc(id)}">
<input type="hidden" name="subscription" value="${esc(sub.id)}">
${
  sub.cancel_at_period_end
    ? `<p>Cancels on ${esc(formatDate(sub.cancel_at ?? end ?? 0))}.</p><button type="submit" name="action" value="renew">Renew plan</button>`
    : `<button type="submit" name="action" value="cancel">Cancel plan</button>`
}
</form>`;
      return `<section><h2>${names}</h2><p>Status: <strong>${esc(sub.status)}</strong>${end ? ` · renews ${esc(formatDate(end))}` : ""}</p>${switchForm}${cancelForm}</section>`;
    })
    .join("");
  const done = url.searchParams.get("done");
  const customer = state.customers.get(session.customer);
  return page(
    "Billing",
    `<h1>Billing for ${esc(customer?.email ?? customer?.name ?? session.customer)}</h1>
${done ? `<p class="note" role="status">Done: ${esc(done)}</p>` : ""}
${sections || "<p>No active subscriptions.</p>"}
${session.return_url ? `<p><a href="${esc(session.return_url)}">Return</a></p>` : ""}`,
  );
}

async function portalAction(state: EmulatorState, id: string, request: Request): Promise<Response> {
  const session = state.portalSessions.get(id);
  if (!session) return page("Not found", "<h1>Portal session not found</h1>", 404);
  const form = new Params(parseForm(await request.text()));
  const sub = state.subscriptions.get(form.str("subscription") ?? "");
  if (!sub || sub.customer !== session.customer)
    return page("Not found", "<h1>Subscription not found</h1>", 404);
  const action = form.str("action");
  const { prorationBehavior, cancelMode } = state.config.portal;
  try {
    if (action === "switch") {
      const price = form.str("price") ?? "";
      const item = form.str("item") ?? "";
      if (!portalPrices(state).some((p) => p.id === price)) {
        return page("Bad request", "<h1>That plan is not available</h1>", 400);
      }
      const current = subscriptionItems(state, sub.id).find((i) => i.id === item);
      if (current && current.price !== price) {
        updateSubscriptionFromParams(
          state,
          sub,
          new Params({ items: [{ id: item, price }], proration_behavior: prorationBehavior }),
        );
      }
    } else if (action === "cancel") {
      if (cancelMode === "immediately") {
        const at = state.nowFor(session.customer);
        sub.canceled_at = at;
        cancelSubscription(state, sub, at, "cancellation_requested");
      } else {
        updateSubscriptionFromParams(state, sub, new Params({ cancel_at_period_end: "true" }));
      }
    } else if (action === "renew") {
      updateSubscriptionFromParams(state, sub, new Params({ cancel_at_period_end: "false" }));
    } else {
      return page("Bad request", "<h1>Unknown action</h1>", 400);
    }
  } catch (error) {
    if (error instanceof StripeApiError)
      return page("Error", `<p class="error">${esc(error.message)}</p>`, error.status);
    throw error;
  }
  return redirect(`/portal/${id}?done=${encodeURIComponent(action)}`);
}

export async function handleHosted(
  state: EmulatorState,
  request: Request,
  url: URL,
): Promise<Response> {
  const match = /^\/(checkout|portal)\/([^/]+)$/.exec(url.pathname);
  if (!match) return page("Not found", "<h1>Not found</h1>", 404);
  const [, kind, id = ""] = match;
  if (request.method === "GET")
    return kind === "checkout" ? checkoutPage(state, id) : portalPage(state, id, url);
  if (request.method === "POST") {
    return kind === "checkout"
      ? checkoutAction(state, id, request)
      : portalAction(state, id, request);
  }
  return page("Method not allowed", "<h1>Method not allowed</h1>", 405);
}
