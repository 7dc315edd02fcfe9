import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { createSoftAuthenticator } from "../../test-support/soft-authenticator.ts";
import { createAssertionCeremony } from "./assertion-ceremony.ts";
import type { NewPasskey } from "./passkey-store.ts";
import { createRegistrationCeremony } from "./registration-ceremony.ts";
import { challengeFromResponse } from "./webauthn-challenges.ts";

const webauthn = { rpId: "localhost", rpName: "Countersign", origin: "http://localhost:8787" };
const registration = createRegistrationCeremony(webauthn);
const assertion = createAssertionCeremony(webauthn);
const newChallenge = () => randomBytes(32).toString("base64url");
const user = { id: "usr_AAAAAAAAAAAAAAAAAAAAAA", name: "alice@example.com" };

async function register(authenticator = createSoftAuthenticator(webauthn), attestation?: "none" | "packed") {
  const challenge = newChallenge();
  const options = await registration.options({ user, challenge, excludeCredentials: [] });
  const response = authenticator.register(options, attestation ? { attestation } : {});
  const result = await registration.verify(response, challenge);
  assert.ok("passkey" in result, String("error" in result ? result.error : ""));
  return { authenticator, passkey: result.passkey, response };
}

function credentialOf(passkey: NewPasskey, signCount = passkey.signCount) {
  return { credentialId: passkey.credentialId, publicKey: passkey.publicKey, signCount, userId: user.id };
}

describe("WebAuthn ceremonies with the software authenticator", () => {
  it("asks for a discoverable, user-verified credential without attestation", async () => {
    const options = await registration.options({ user, challenge: newChallenge(), excludeCredentials: [] });
    assert.deepEqual(options.authenticatorSelection, {
      residentKey: "required",
      requireResidentKey: true,
      userVerification: "required",
    });
    assert.equal(options.attestation, "none");
    assert.equal(options.rp.id, "localhost");
    assert.equal(options.user.id, Buffer.from(user.id).toString("base64url"));
  });

  it("registers with none and with packed self-attestation", async () => {
    for (const format of ["none", "packed"] as const) {
      const { passkey } = await register(undefined, format);
      assert.equal(passkey.attestationFormat, format);
      assert.equal(passkey.signCount, 0);
      assert.deepEqual(passkey.transports, ["hybrid", "internal"]);
    }
  });

  it("reads the challenge a response answers", async () => {
    const challenge = newChallenge();
    const options = await registration.options({ user, challenge, excludeCredentials: [] });
    const response = createSoftAuthenticator(webauthn).register(options);
    assert.equal(challengeFromResponse(response), challenge);
    assert.equal(challengeFromResponse({ response: { clientDataJSON: "!!" } }), null);
    assert.equal(challengeFromResponse(null), null);
  });

  it("refuses a registration without user verification, from another origin, or for another challenge", async () => {
    const challenge = newChallenge();
    const options = await registration.options({ user, challenge, excludeCredentials: [] });
    for (const overrides of [
      { userVerified: false },
      { origin: "https://evil.example" },
      { challenge: newChallenge() },
    ]) {
      const response = createSoftAuthenticator(webauthn).register(options, overrides);
      assert.ok("error" in (await registration.verify(response, challenge)), JSON.stringify(overrides));
    }
  });

  it("verifies a discoverable assertion and advances the counter", async () => {
    const { authenticator, passkey } = await register();
    const challenge = newChallenge();
    const options = await assertion.options({ challenge });
    assert.deepEqual(options.allowCredentials, []);
    assert.equal(options.userVerification, "required");
    const result = await assertion.verify(authenticator.authenticate(options), challenge, credentialOf(passkey));
    assert.deepEqual(result, { ok: true, signCount: 1, backedUp: false });
  });

  it("refuses an assertion without user verification or with another account's user handle", async () => {
    const { authenticator, passkey } = await register();
    const challenge = newChallenge();
    const options = await assertion.options({ challenge });
    const noUv = await assertion.verify(
      authenticator.authenticate(options, { userVerified: false }),
      challenge,
      credentialOf(passkey),
    );
    assert.equal(noUv.ok, false);
    const otherHandle = await assertion.verify(
      authenticator.authenticate(options, { userHandle: Buffer.from("usr_other").toString("base64url") }),
      challenge,
      credentialOf(passkey),
    );
    assert.equal(otherHandle.ok, false);
  });

  it("reports a counter that did not advance as a possible clone, after the signature verified", async () => {
    const { authenticator, passkey } = await register();
    const clone = authenticator.clone();
    const challenge = newChallenge();
    const options = await assertion.options({ challenge });
    const first = await assertion.verify(authenticator.authenticate(options), challenge, credentialOf(passkey));
    assert.equal(first.ok, true);
    // The clone still holds counter 0 → reports 1, which does not exceed the stored 1.
    const cloned = await assertion.verify(clone.authenticate(options), challenge, credentialOf(passkey, 1));
    assert.equal(cloned.ok, false);
    assert.equal(cloned.ok === false && cloned.counterRegressed, true);
    // A forged signature is not a clone signal: it never gets that far.
    const forged = authenticator.authenticate(options);
    forged.response.signature = Buffer.from(randomBytes(70)).toString("base64url");
    const bad = await assertion.verify(forged, challenge, credentialOf(passkey, 5));
    assert.equal(bad.ok === false && bad.counterRegressed, false);
  });

  it("accepts authenticators that keep the counter at zero", async () => {
    const { authenticator, passkey } = await register(
      createSoftAuthenticator({ ...webauthn, counter: "zero", backupEligible: true }),
    );
    assert.equal(passkey.backupEligible, true);
    for (let i = 0; i < 2; i += 1) {
      const challenge = newChallenge();
      const result = await assertion.verify(
        authenticator.authenticate(await assertion.options({ challenge })),
        challenge,
        credentialOf(passkey, 0),
      );
      assert.deepEqual(result, { ok: true, signCount: 0, backedUp: true });
    }
  });

  it("honours excludeCredentials like a real authenticator", async () => {
    const { authenticator, passkey } = await register();
    const options = await registration.options({
      user,
      challenge: newChallenge(),
      excludeCredentials: [{ id: passkey.credentialId, transports: [] }],
    });
    assert.throws(() => authenticator.register(options), { name: "InvalidStateError" });
  });
});
