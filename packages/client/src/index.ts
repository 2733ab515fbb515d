import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.gen";

export type { components, operations, paths } from "./schema.gen";

/** An RFC 9457 problem, as every API error answers (`application/problem+json`). */
export type Problem = components["schemas"]["Problem"];

/** A typed openapi-fetch client: `client.GET("/v1/projects", { params: { query } })`. */
export type TenantryClient = Client<paths>;

/** The bearer credential (access token or API key), or a function giving the current one. */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

export interface TenantryClientOptions {
  /**
   * The tenant's host (`https://acme.example.com`), or the apex for sign-up. Through a service
   * binding any URL works as long as its host is the tenant's: the API finds the tenant by host.
   */
  baseUrl: string;
  /** Defaults to the global fetch; inside a worker, `(request) => env.API.fetch(request)`. */
  fetch?: (request: Request) => Promise<Response>;
  /** Sent as `Authorization: Bearer …` unless a request sets its own `authorization` header. */
  token?: TokenSource;
}

export function createTenantryClient({
  baseUrl,
  fetch,
  token,
}: TenantryClientOptions): TenantryClient {
  const client = createClient<paths>({ baseUrl, ...(fetch && { fetch }) });
  if (token !== undefined) client.use(bearer(token));
  return client;
}

function bearer(token: TokenSource): Middleware {
  return {
    async onRequest({ request }) {
      if (request.headers.has("authorization")) return;
      const value = typeof token === "function" ? await token() : token;
      if (value) request.headers.set("authorization", `Bearer ${value}`);
    },
  };
}

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && "title" in value && "status" in value;
}

/**
 * One line for a person from a failed call's result: the problem's title and detail and its
 * request id (the id support asks for), e.g. `Unauthorized: Missing bearer token. (request
 * req_01…)`. Answers that are not problems (a proxy's 502) fall back to the status and the
 * `x-request-id` header.
 */
export function problemMessage({ error, response }: { error?: unknown; response: Response }) {
  const problem = isProblem(error) ? error : undefined;
  const what = problem
    ? problem.detail && problem.detail !== problem.title
      ? `${problem.title}: ${problem.detail}`
      : problem.title
    : `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  const requestId = problem?.request_id ?? response.headers.get("x-request-id");
  return requestId ? `${what} (request ${requestId})` : what;
}
