import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256 } from "../crypto/sha2.ts";
import { fromBase64Url, toBase64Url } from "../encoding/base64.ts";
import { concatBytes, utf8 } from "../encoding/bytes.ts";
import { isCountersignError } from "../errors/countersign-error.ts";
import { canonicalize } from "../jcs/canonicalize.ts";
import { generateAccountKeyPair } from "./account-key-pair.ts";
import { type E2eBinding, e2eInfo } from "./e2e-info.ts";
import { hpkeOpenBase } from "./hpke-base.ts";
import { openContext } from "./open-context.ts";
import { type SealedContext, sealContext } from "./seal-context.ts";

const isDecryptFailure = (error: unknown) => isCountersignError(error, "e2e_decrypt_failed");

const binding: E2eBinding = {
  agent_id: "agt_abc",
  action_type: "deploy.production",
  title: "Deploy v2",
  body: "Roll out the new build",
  binding_message: "blue-fox",
};
const context = { repo: "acme/api", commit: "0f3a", files: [1, 2, { x: "ü" }], empty: null };

describe("e2eInfo", () => {
  it("is the label followed by SHA-256 of the binding's JCS", () => {
    const expected = concatBytes(utf8("countersign/e2e-context/v1"), sha256(utf8(canonicalize(binding))));
    assert.deepEqual(e2eInfo(binding), expected);
  });

  it("ignores extra properties and absent optional fields, but not present ones", () => {
    const minimal = { agent_id: "a", action_type: "b", title: "c" };
    assert.deepEqual(e2eInfo({ ...minimal, body: undefined, binding_message: undefined }), e2eInfo(minimal));
    assert.deepEqual(e2eInfo({ ...minimal, extra: "x" } as E2eBinding), e2eInfo(minimal));
    assert.notDeepEqual(e2eInfo({ ...minimal, body: "x" }), e2eInfo(minimal));
    assert.notDeepEqual(e2eInfo({ ...minimal, binding_message: "x" }), e2eInfo(minimal));
  });

  it("reads an empty body and a null binding message as absent, as the display payload writes them", () => {
    const minimal = { agent_id: "a", action_type: "b", title: "c" };
    assert.deepEqual(e2eInfo({ ...minimal, body: "", binding_message: null }), e2eInfo(minimal));
  });
});

describe("sealContext / openContext", () => {
  it("round-trips a context, whose plaintext is its JCS UTF-8", async () => {
    const keys = generateAccountKeyPair();
    const sealed = await sealContext({ publicKey: keys.publicKey, kid: "ak_1", context, binding });
    assert.equal(sealed.v, 1);
    assert.equal(sealed.kid, "ak_1");
    assert.equal(fromBase64Url(sealed.enc)?.length, 32);
    assert.deepEqual(await openContext({ privateKey: keys.privateKey, sealed, binding }), context);

    const enc = fromBase64Url(sealed.enc);
    const ct = fromBase64Url(sealed.ct);
    assert.ok(enc && ct);
    const plaintext = await hpkeOpenBase(keys.privateKey, enc, e2eInfo(binding), utf8("ak_1"), ct);
    assert.equal(new TextDecoder().decode(plaintext), canonicalize(context));
  });

  it("refuses a different binding in every field (the info)", async () => {
    const keys = generateAccountKeyPair();
    const sealed = await sealContext({ publicKey: keys.publicKey, kid: "ak_1", context, binding });
    const others: E2eBinding[] = [
      { ...binding, agent_id: "agt_other" },
      { ...binding, action_type: "deploy.staging" },
      { ...binding, title: "Deploy v3" },
      { ...binding, body: "Roll back" },
      { ...binding, body: undefined },
      { ...binding, binding_message: "red-fox" },
    ];
    for (const other of others) {
      await assert.rejects(openContext({ privateKey: keys.privateKey, sealed, binding: other }), isDecryptFailure);
    }
  });

  it("refuses the wrong private key, another kid and tampering", async () => {
    const keys = generateAccountKeyPair();
    const sealed = await sealContext({ publicKey: keys.publicKey, kid: "ak_1", context, binding });
    const privateKey = keys.privateKey;
    await assert.rejects(
      openContext({ privateKey: generateAccountKeyPair().privateKey, sealed, binding }),
      isDecryptFailure,
    );
    await assert.rejects(openContext({ privateKey, sealed: { ...sealed, kid: "ak_2" }, binding }), isDecryptFailure);

    const ct = fromBase64Url(sealed.ct);
    const enc = fromBase64Url(sealed.enc);
    assert.ok(ct && enc);
    for (const at of [0, ct.length - 1]) {
      const tampered = ct.slice();
      tampered[at] = (tampered[at] as number) ^ 0x80;
      await assert.rejects(
        openContext({ privateKey, sealed: { ...sealed, ct: toBase64Url(tampered) }, binding }),
        isDecryptFailure,
      );
    }
    const otherEnc = enc.slice();
    otherEnc[0] = (otherEnc[0] as number) ^ 1;
    await assert.rejects(
      openContext({ privateKey, sealed: { ...sealed, enc: toBase64Url(otherEnc) }, binding }),
      isDecryptFailure,
    );
  });

  it("refuses malformed envelopes with e2e_decrypt_failed", async () => {
    const keys = generateAccountKeyPair();
    const sealed = await sealContext({ publicKey: keys.publicKey, kid: "ak_1", context, binding });
    const malformed: unknown[] = [
      null,
      "x",
      { ...sealed, v: 2 },
      { ...sealed, enc: sealed.enc.slice(0, 20) },
      { ...sealed, enc: `${sealed.enc}=` },
      { ...sealed, ct: "" },
      { ...sealed, ct: "!!!" },
      { ...sealed, kid: 7 },
    ];
    for (const bad of malformed) {
      await assert.rejects(
        openContext({ privateKey: keys.privateKey, sealed: bad as SealedContext, binding }),
        isDecryptFailure,
      );
    }
  });

  it("refuses a decrypted plaintext that is not a JSON object", async () => {
    const keys = generateAccountKeyPair();
    const { hpkeSealBase } = await import("./hpke-base.ts");
    for (const text of ["[1,2]", "null", "42", "not json"]) {
      const { enc, ct } = await hpkeSealBase(keys.publicKey, e2eInfo(binding), utf8("ak_1"), utf8(text));
      const sealed: SealedContext = { v: 1, kid: "ak_1", enc: toBase64Url(enc), ct: toBase64Url(ct) };
      await assert.rejects(openContext({ privateKey: keys.privateKey, sealed, binding }), isDecryptFailure, text);
    }
  });

  it("refuses a context that is not I-JSON before sealing", async () => {
    const keys = generateAccountKeyPair();
    await assert.rejects(
      sealContext({ publicKey: keys.publicKey, kid: "ak_1", context: { when: new Date(0) }, binding }),
      (error: unknown) => isCountersignError(error, "validation_failed"),
    );
    await assert.rejects(sealContext({ publicKey: new Uint8Array(31), kid: "ak_1", context, binding }), TypeError);
  });
});
