import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isCountersignError, randomKey32 } from "@countersign/protocol";
import { bundleAad, unwrapBundle, wrapBundle } from "./credential-bundle.ts";

const wrappingKey = () => crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);

describe("the Credential Bundle", () => {
  it("opens to the AUK it wrapped, with its own device key, account and device", async () => {
    const key = await wrappingKey();
    const auk = randomKey32();
    const bundle = await wrapBundle(key, auk, "usr_a", "dev_a");
    assert.match(bundle, /^v1\.[A-Za-z0-9_-]+$/);
    assert.ok(bundle.length <= 512, "the server takes at most 512 characters");
    assert.deepEqual(await unwrapBundle(key, bundle, "usr_a", "dev_a"), auk);
  });

  it("names the account and the device in its additional data", () => {
    assert.equal(new TextDecoder().decode(bundleAad("usr_a", "dev_b")), "countersign/credential-bundle/v1|usr_a|dev_b");
  });

  it("refuses another device's key, another device id, another account and a tampered bundle", async () => {
    const key = await wrappingKey();
    const bundle = await wrapBundle(key, randomKey32(), "usr_a", "dev_a");
    const flipped = `${bundle.slice(0, -2)}${bundle.endsWith("A") ? "B" : "A"}${bundle.slice(-1)}`;
    const attempts: [CryptoKey, string, string, string][] = [
      [await wrappingKey(), bundle, "usr_a", "dev_a"],
      [key, bundle, "usr_a", "dev_b"],
      [key, bundle, "usr_b", "dev_a"],
      [key, flipped, "usr_a", "dev_a"],
      [key, bundle.replace("v1.", "v2."), "usr_a", "dev_a"],
      [key, "v1.", "usr_a", "dev_a"],
    ];
    for (const [k, b, user, device] of attempts) {
      await assert.rejects(unwrapBundle(k, b, user, device), (error) =>
        isCountersignError(error, "e2e_decrypt_failed"),
      );
    }
  });
});
