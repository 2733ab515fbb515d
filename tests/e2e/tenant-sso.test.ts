/**
 * SSO in real Chromium against a real OpenID Provider (the `oidc-provider` package, run here on
 * its own port): an owner configures the connection and verifies a domain through a local
 * DNS-over-HTTPS stand-in, then a new person signs in through the provider's login page and lands
 * on the dashboard as a just-in-time member.
 */
import type { Server } from "node:http";
import Provider from "oidc-provider";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { grantFeature, IDP_PORT } from "./platform";
import { publishTxt, startDoh } from "./stand-in-server";
import { freshTenant, ownerPage } from "./tenant-session";

const ISSUER = `http://localhost:${IDP_PORT}`;
const CLIENT_SECRET = "browser-test-client-secret-0123456789";

let browser: Browser;
const servers: Server[] = [];

/** A real OpenID Provider with one confidential client whose redirect URI is the tenant's. */
function startProvider(clientId: string, redirectUri: string) {
  const provider = new Provider(ISSUER, {
    clients: [
      {
        client_id: clientId,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    // Email in the ID token itself (the tenant does not call userinfo).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // Any login is an account whose email is the login (the package's development login page).
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: id, email_verified: true }),
    }),
    features: { devInteractions: { enabled: true } },
  });
  servers.push(provider.listen(IDP_PORT));
}

/** The package's development login page (any login is an account), then its consent page. */
async function signInAtProvider(page: Page, email: string) {
  await page.locator('input[name="login"]').fill(email);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
  await page.locator('button[type="submit"]').click();
}

beforeAll(async () => {
  browser = await launchBrowser();
  servers.push(startDoh());
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

describe("single sign-on", () => {
  it("an owner connects an OIDC provider; a new person signs in through it as a member", async () => {
    const tenant = await freshTenant("sso");
    const me = await tenant.api({ path: "/v1/me" });
    grantFeature((me.body as { tenant: { id: string } }).tenant.id, "sso");
    const clientId = `tenantry-${tenant.slug}`;
    startProvider(clientId, `${tenant.url}/sso/callback`);
    const domain = `${tenant.slug}.corp.example`;

    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/settings/sso`);
    // The page also has the SAML form: the OIDC one is its own region.
    await page
      .getByRole("region", { name: "Add an OpenID Connect connection" })
      .getByLabel("Name")
      .fill("Local OpenID Provider");
    await page.getByLabel("Issuer URL").fill(ISSUER);
    await page.getByLabel("Client id").fill(clientId);
    await page.getByLabel("Client secret").fill(CLIENT_SECRET);
    await page.getByRole("button", { name: "Add connection" }).click();
    await page.getByText("The connection was added").waitFor();
    await page.getByText(`${tenant.url}/sso/callback`).waitFor();

    await page.getByLabel("Domain").fill(domain);
    await page.getByRole("button", { name: "Add domain" }).click();
    await page.getByText("publish its TXT record").waitFor();
    const list = await tenant.api({ path: "/v1/sso/connections" });
    const record = (
      list.body as { data: { domains: { verification: { name: string; value: string } }[] }[] }
    ).data[0]!.domains[0]!.verification;
    await publishTxt(record);
    await page.getByRole("button", { name: `Verify ${domain}` }).click();
    await page.getByText("The domain is verified").waitFor();
    // Test connection while it is still off: the provider's claims are shown, nobody signs in.
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.waitForURL(`${ISSUER}/**`);
    await signInAtProvider(page, `tester@${domain}`);
    await page.getByRole("heading", { name: "Connection test" }).waitFor();
    await page.getByText(`"email": "tester@${domain}"`).waitFor();
    await page.getByText("its owner could sign in").waitFor();
    await page.getByRole("link", { name: "Back to single sign-on" }).click();
    await page.getByRole("button", { name: "Switch on" }).click();
    await page.getByText("The connection is on").waitFor();
    // Roles from the provider: a claim and a row "value → role" (this provider sends no groups).
    await page.getByLabel("Claim").fill("groups");
    await page.getByLabel("Value of rule 1").fill("Admins");
    await page.getByLabel("Role of rule 1").selectOption("admin");
    await page.getByRole("button", { name: "Save role mapping" }).click();
    await page.getByText("The role mapping was saved").waitFor();
    expect(await page.getByLabel("Value of rule 1").inputValue()).toBe("Admins");
    await screenshot(page, "tenant-sso");
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();

    // A person of that domain, never invited: home-realm discovery sends them to the provider.
    const email = `ann@${domain}`;
    const visitor = await (await browser.newContext()).newPage();
    await visitor.goto(`${tenant.url}/sign-in`);
    await visitor.getByLabel("Email").fill(email);
    await visitor.getByRole("button", { name: "Continue with SSO" }).click();
    await visitor.waitForURL(`${ISSUER}/**`);
    await signInAtProvider(visitor, email);
    await visitor.waitForURL(`${tenant.url}/`);
    await visitor.getByRole("heading", { level: 1 }).waitFor();

    const members = await tenant.api({ path: "/v1/members" });
    expect((members.body as { data: { email: string; role: string }[] }).data).toContainEqual(
      expect.objectContaining({ email, role: "member" }),
    );
    const audit = await tenant.api({ path: "/v1/audit-log?action=sso.sign_in" });
    expect((audit.body as { data: unknown[] }).data).toHaveLength(1);
  });
});
