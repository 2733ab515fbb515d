/**
 * SAML SSO in real Chromium against a SAML IdP (samlify acting as IdP, tests/saml-idp.ts, on its
 * own port): an owner configures the connection from the IdP's metadata URL on /settings/sso and
 * verifies a domain through the DNS-over-HTTPS stand-in; a new person signs in SP-initiated from
 * the sign-in page (the IdP's page posts the response cross-site to the tenant's ACS) and lands
 * on the dashboard; allowing IdP-initiated sign-in asks the owner (now with MFA) for a code
 * first, and then the IdP's launcher signs someone in too.
 */
import type { Server } from "node:http";
import { totpCode } from "@tenantry/core/totp";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveStandIn } from "../../scripts/lib/serve-stand-in";
import { createSamlIdp } from "../saml-idp";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { grantFeature, SAML_IDP_PORT } from "./platform";
import { publishTxt, startDoh } from "./stand-in-server";
import { freshTenant, ownerPage } from "./tenant-session";

const IDP = `http://localhost:${SAML_IDP_PORT}`;

let browser: Browser;
const servers: Server[] = [];
let idp: Awaited<ReturnType<typeof createSamlIdp>>;

beforeAll(async () => {
  browser = await launchBrowser();
  idp = await createSamlIdp(IDP);
  servers.push(
    startDoh(),
    serveStandIn(SAML_IDP_PORT, (r) => idp.fetch(r)),
  );
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

describe("SAML single sign-on", () => {
  it("an owner connects a SAML IdP; people sign in SP-initiated, and IdP-initiated once allowed", async () => {
    const tenant = await freshTenant("saml");
    const me = await tenant.api({ path: "/v1/me" });
    grantFeature((me.body as { tenant: { id: string } }).tenant.id, "sso");
    const realm = tenant.slug;
    const domain = `${tenant.slug}.corp.example`;

    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/settings/sso`);
    const form = page.getByRole("region", { name: "Add a SAML 2.0 connection" });
    await form.getByLabel("Name").fill("Local SAML IdP");
    await form.getByLabel("IdP metadata URL").fill(idp.metadataUrl(realm));
    await form.getByRole("button", { name: "Add SAML connection" }).click();
    await page.getByText("The SAML connection was added").waitFor();
    const list = await tenant.api({ path: "/v1/sso/connections" });
    const id = (list.body as { data: { id: string }[] }).data[0]!.id;
    const acsUrl = `${tenant.url}/sso/saml/${id}/acs`;
    expect(await page.getByTestId("sp-entity-id").textContent()).toBe(
      `${tenant.url}/sso/saml/${id}`,
    );
    expect(await page.getByTestId("sp-acs-url").textContent()).toBe(acsUrl);
    // The SP metadata is served on the tenant's host, as the page says (read by the browser:
    // Node does not resolve *.localhost).
    const spMetadata = await page.evaluate(
      (url) => fetch(url).then((r) => r.text()),
      `${tenant.url}/sso/saml/${id}/metadata`,
    );
    expect(spMetadata).toContain(`Location="${acsUrl}"`);
    await page.getByRole("cell", { name: /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/ }).waitFor();

    await page.getByLabel("Domain").fill(domain);
    await page.getByRole("button", { name: "Add domain" }).click();
    await page.getByText("publish its TXT record").waitFor();
    const listed = await tenant.api({ path: "/v1/sso/connections" });
    await publishTxt(
      (listed.body as { data: { domains: { verification: { name: string; value: string } }[] }[] })
        .data[0]!.domains[0]!.verification,
    );
    await page.getByRole("button", { name: `Verify ${domain}` }).click();
    await page.getByText("The domain is verified").waitFor();
    await page.getByRole("button", { name: "Refresh metadata" }).click();
    await page.getByText("metadata was read again").waitFor();
    await page.getByRole("button", { name: "Switch on" }).click();
    await page.getByText("The connection is on").waitFor();
    await screenshot(page, "tenant-sso-saml");
    expect(await seriousViolations(page)).toEqual([]);

    // A person of that domain, never invited: the sign-in page sends them to the IdP, whose page
    // posts the signed response back to the ACS.
    const email = `ann@${domain}`;
    idp.configure(realm, { user: { email, groups: ["Engineering"] } });
    const visitor = await (await browser.newContext()).newPage();
    await visitor.goto(`${tenant.url}/sign-in`);
    await visitor.getByLabel("Email").fill(email);
    await visitor.getByRole("button", { name: "Continue with SSO" }).click();
    await visitor.waitForURL(`${tenant.url}/`);
    await visitor.getByRole("heading", { level: 1 }).waitFor();
    const members = await tenant.api({ path: "/v1/members" });
    expect((members.body as { data: { email: string; role: string }[] }).data).toContainEqual(
      expect.objectContaining({ email, role: "member" }),
    );

    // IdP-initiated: refused until the owner allows it on the page.
    const launcher = `${IDP}/${realm}/idp-initiated?sp=${encodeURIComponent(`${tenant.url}/sso/saml/${id}`)}`;
    const bob = `bob@${domain}`;
    idp.configure(realm, { user: { email: bob } });
    const refused = await (await browser.newContext()).newPage();
    await refused.goto(launcher);
    await refused.getByRole("heading", { name: "Single sign-on did not complete" }).waitFor();
    // Every SSO setting is a step-up action. Enrolled only now, the owner's browser session has
    // proved no code yet: the switch asks for one first, then goes through.
    const started = await tenant.api({ method: "POST", path: "/v1/me/mfa/enrol" });
    const secret = (started.body as { secret: string }).secret;
    const confirmed = await tenant.api({
      method: "POST",
      path: "/v1/me/mfa/confirm",
      body: { code: totpCode(secret) },
    });
    expect(confirmed.status).toBe(200);
    const allow = page.getByRole("button", { name: "Allow IdP-initiated sign-in" });
    await allow.click();
    const code = page.getByLabel("Confirm with your code (authenticator or recovery code)");
    await code.waitFor();
    // The next time step's code: the current one was spent on enrolment.
    await code.fill(totpCode(secret, Date.now() + 30_000));
    await page.getByRole("button", { name: "Confirm", exact: true }).click();
    await page.waitForURL(/\/settings\/sso/);
    await allow.click();
    await page.getByText("IdP-initiated sign-in is allowed").waitFor();
    const tile = await (await browser.newContext()).newPage();
    await tile.goto(launcher);
    await tile.waitForURL(`${tenant.url}/`);
    const audit = await tenant.api({ path: "/v1/audit-log?action=sso.sign_in" });
    expect((audit.body as { data: unknown[] }).data).toHaveLength(2);
    await context.close();
  });
});
