import { expect, it } from "vitest";
import { importIdpCertificate, verifySamlResponse } from "../src/index.js";
import { newIdpKey } from "./fixtures/certificate.js";
import { buildResponse, IDP_ENTITY_ID, SP } from "./fixtures/response.js";
import { signElement } from "./fixtures/sign.js";

const RUNS = 200;

// workerd's clocks only advance across I/O, so each reading follows a timer turn; the turn's
// own cost is included (and negligible over 200 runs). A measurement, not an assertion.
const clock = async () => {
  await new Promise((resolve) => setTimeout(resolve, 0));
  return performance.now();
};

it(`CPU time of verifying one signed assertion (2048-bit RSA), over ${RUNS} runs`, async () => {
  const idp = await newIdpKey();
  const idpKeys = [await importIdpCertificate(idp.certificate)];
  const response = buildResponse();
  const xml = await signElement(response.xml, response.assertionId, idp.privateKey);
  const input = {
    xml,
    idpKeys,
    idpEntityId: IDP_ENTITY_ID,
    spEntityId: SP.entityId,
    acsUrl: SP.acsUrl,
    requestId: "_request-1",
    allowIdpInitiated: false,
    seen: { remember: async () => true },
  };
  await verifySamlResponse(input); // warm up
  const start = await clock();
  for (let i = 0; i < RUNS; i++) await verifySamlResponse(input);
  const perVerification = ((await clock()) - start) / RUNS;
  console.log(
    `saml: ${perVerification.toFixed(3)} ms per verification (${RUNS} runs, ${xml.length} bytes)`,
  );
  expect(perVerification).toBeGreaterThan(0);
});
