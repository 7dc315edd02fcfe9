import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPasswordHasher } from "./password-hasher.ts";

const OWASP = { memoryKiB: 19_456, iterations: 2, parallelism: 1 };

describe("password hasher", () => {
  const hasher = createPasswordHasher(OWASP);

  it("hashes with Argon2id under the configured parameters, in PHC format", async () => {
    const phc = await hasher.hash("correct horse battery staple");
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await hasher.verify(phc, "correct horse battery staple"), true);
    assert.equal(await hasher.verify(phc, "correct horse battery stapler"), false);
  });

  it("salts every hash", async () => {
    assert.notEqual(await hasher.hash("same"), await hasher.hash("same"));
  });

  it("answers false, not an error, for a malformed or non-Argon2id hash", async () => {
    assert.equal(await hasher.verify("", "x"), false);
    assert.equal(await hasher.verify("$argon2id$v=19$m=19456,t=2,p=1$bad", "x"), false);
    assert.equal(await hasher.verify("$2b$10$abcdefghijklmnopqrstuv", "x"), false);
  });

  it("runs a dummy verify that never succeeds", async () => {
    assert.equal(await hasher.verifyDummy(""), false);
    assert.equal(await hasher.verifyDummy("anything"), false);
  });

  it("flags hashes made under other parameters for rehashing", async () => {
    const phc = await hasher.hash("pw");
    assert.equal(hasher.needsRehash(phc), false);
    const stronger = createPasswordHasher({ ...OWASP, iterations: 3 });
    assert.equal(stronger.needsRehash(phc), true);
    assert.equal(stronger.needsRehash("garbage"), true);
  });
});
