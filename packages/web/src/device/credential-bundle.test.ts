import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isCountersignError, randomKey32 } from "@countersign/protocol";
import { bundleAad, unwrapBundle, wrapBundle } from "./credential-bundle.ts";

const wrappingKey = () => crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);

describe("the Credential Bundle", () => {
  it("opens to the AUK it wrapped, with its own device key, account and device", async () => {
    const key = await wrappingKey();
    const auk = randomKey32();
    const bundle = await wrapBundle(key, auk, "usr_a", "dev_a", "ak_a");
    assert.match(bundle, /^v1\.[A-Za-z0-9_-]+$/);
    assert.ok(bundle.length <= 512, "the server takes at most 512 characters");
    assert.deepEqual(await unwrapBundle(key, bundle, "usr_a", "dev_a", "ak_a"), auk);
  });

  it("names the account, the device and the account key set in its additional data", () => {
    assert.equal(
      new TextDecoder().decode(bundleAad("usr_a", "dev_b", "ak_c")),
      "countersign/credential-bundle/v1|usr_a|dev_b|ak_c",
    );
    assert.throws(() => bundleAad("usr_a", "dev_b|x", "ak_c"), TypeError);
  });

  it("refuses another device's key, another device id, another account, another key set and a tampered bundle", async () => {
    const key = await wrappingKey();
    const bundle = await wrapBundle(key, randomKey32(), "usr_a", "dev_a", "ak_a");
    const flipped = `${bundle.slice(0, -2)}${bundle.endsWith("A") ? "B" : "A"}${bundle.slice(-1)}`;
    const attempts: [CryptoKey, string, string, string, string][] = [
      [await wrappingKey(), bundle, "usr_a", "dev_a", "ak_a"],
      [key, bundle, "usr_a", "dev_b", "ak_a"],
      [key, bundle, "usr_b", "dev_a", "ak_a"],
      // A bundle of one key set served as another's (a retired key set relabelled as the new one).
      [key, bundle, "usr_a", "dev_a", "ak_b"],
      [key, bundle, "usr_a", "dev_a", "ak_a|"],
      [key, flipped, "usr_a", "dev_a", "ak_a"],
      [key, bundle.replace("v1.", "v2."), "usr_a", "dev_a", "ak_a"],
      [key, "v1.", "usr_a", "dev_a", "ak_a"],
    ];
    for (const [k, b, user, device, keySet] of attempts) {
      await assert.rejects(unwrapBundle(k, b, user, device, keySet), (error) =>
        isCountersignError(error, "e2e_decrypt_failed"),
      );
    }
  });
});
