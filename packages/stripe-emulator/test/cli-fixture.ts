import type { StripeEmulator } from "../src/index.js";

/**
 * Replays a Stripe CLI trigger fixture (`pkg/fixtures/triggers/*.json` in stripe/stripe-cli)
 * on the wire the way `stripe trigger --api-base …` sends it: Bearer key, the CLI's pinned
 * `Stripe-Version`, form bodies in which arrays of objects are indexed (`items[0][price]`) and
 * arrays of scalars are `key[]=v`, params of GET/DELETE in the query, and `${name:path}`
 * references into earlier responses. A step may expect a Stripe error type (the CLI's
 * `expected_error_type`); any other failure fails the replay.
 */
export interface FixtureStep {
  name: string;
  path: string;
  method: "get" | "post" | "delete";
  params?: Record<string, unknown>;
  expected_error_type?: string;
}

export const CLI_STRIPE_VERSION = "2026-07-29.dahlia";

type Responses = Record<string, unknown>;

function lookup(responses: Responses, reference: string): string {
  const [name = "", path = ""] = reference.split(":");
  let node: unknown = responses[name];
  for (const key of path.split(".")) node = (node as Record<string, unknown> | undefined)?.[key];
  if (node === undefined || node === null)
    throw new Error(`fixture reference ${reference} is empty`);
  return String(node);
}

function substitute(value: string, responses: Responses): string {
  return value.replace(/\$\{([^}]+)\}/g, (_, ref: string) => lookup(responses, ref));
}

function encode(value: unknown, key: string, responses: Responses, out: [string, string][]): void {
  if (Array.isArray(value)) {
    let index = 0;
    for (const entry of value) {
      if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
        for (const [k, v] of Object.entries(entry))
          encode(v, `${key}[${index}][${k}]`, responses, out);
        index++;
      } else encode(entry, `${key}[]`, responses, out);
    }
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) encode(v, `${key}[${k}]`, responses, out);
  } else if (typeof value === "string") out.push([key, substitute(value, responses)]);
  else out.push([key, String(value)]);
}

export interface Replay {
  responses: Responses;
  /** Status of each step, by name. */
  statuses: Record<string, number>;
}

export async function replayFixture(
  emulator: StripeEmulator,
  steps: FixtureStep[],
  apiBase = "http://127.0.0.1:12111",
): Promise<Replay> {
  const responses: Responses = {};
  const statuses: Record<string, number> = {};
  for (const step of steps) {
    const pairs: [string, string][] = [];
    for (const [k, v] of Object.entries(step.params ?? {})) encode(v, k, responses, pairs);
    const body = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    const url = new URL(substitute(step.path, responses), apiBase);
    const method = step.method.toUpperCase();
    if (method !== "POST" && body.length > 0) url.search = body.join("&");
    const response = await emulator.fetch(url.toString(), {
      method,
      headers: {
        Authorization: "Bearer sk_test_cli",
        "Stripe-Version": CLI_STRIPE_VERSION,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: method === "POST" ? body.join("&") : undefined,
    });
    const json = (await response.json()) as { error?: { type?: string } };
    statuses[step.name] = response.status;
    if (response.status >= 300) {
      if (step.expected_error_type && json.error?.type === step.expected_error_type) {
        responses[step.name] = {};
        continue;
      }
      throw new Error(`fixture step ${step.name} failed: ${JSON.stringify(json)}`);
    }
    responses[step.name] = json;
  }
  return { responses, statuses };
}
