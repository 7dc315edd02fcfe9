import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256, toHex, utf8 } from "@countersign/protocol";
import { type AuditEntryV1, decodeAuditEntry, encodeAuditEntry } from "./audit-entry.ts";
import { chainHash, GENESIS_HASH } from "./chain-hash.ts";

const ENTRY: AuditEntryV1 = {
  v: 1,
  id: "6f1c8a1e-9d52-4c1e-a7f5-2f0e5f4bb0a1",
  time: "2026-11-21T12:00:00.000Z",
  type: "approval.decided",
  actor: { type: "user", id: "user-1" },
  subject: { type: "approval", id: "apr-1" },
  user: "user-1",
  request: "req-1",
  details: { decision: "approved", n: 1e21, é: "€" },
  context: null,
};

// The exact bytes documented in docs/audit-log.md ("A worked example").
const CANONICAL =
  '{"actor":{"id":"user-1","type":"user"},"context":null,"details":{"decision":"approved","n":1e+21,"é":"€"},' +
  '"id":"6f1c8a1e-9d52-4c1e-a7f5-2f0e5f4bb0a1","request":"req-1","subject":{"id":"apr-1","type":"approval"},' +
  '"time":"2026-11-21T12:00:00.000Z","type":"approval.decided","user":"user-1","v":1}';

describe("the version-1 entry encoding", () => {
  it("is RFC 8785 JCS of every member, as documented", () => {
    assert.equal(new TextDecoder().decode(encodeAuditEntry(ENTRY)), CANONICAL);
  });

  it("decodes what it encodes and refuses anything else", () => {
    assert.deepEqual(decodeAuditEntry(utf8(CANONICAL)), ENTRY);
    const refused: [string, RegExp][] = [
      [CANONICAL.replace('"v":1', '"v":2'), /unknown entry version 2/],
      [CANONICAL.replace('{"actor"', '{ "actor"'), /canonical/],
      [CANONICAL.replace('"context":null,', ""), /exactly the members/],
      [CANONICAL.replace('"time":"2026-11-21T12:00:00.000Z"', '"time":"2026-11-21T12:00:00Z"'), /wrong type/],
      [CANONICAL.replace('"user":"user-1"', '"user":1'), /wrong type/],
      ["[1]", /not a JSON object/],
      ["{", /not UTF-8 JSON/],
    ];
    for (const [text, reason] of refused) assert.throws(() => decodeAuditEntry(utf8(text)), reason, text);
    assert.throws(() => decodeAuditEntry(new Uint8Array([0x7b, 0xff, 0x7d])), /not UTF-8 JSON/);
  });

  it("refuses entries larger than the column allows", () => {
    assert.throws(() => encodeAuditEntry({ ...ENTRY, details: { big: "x".repeat(70_000) } }), RangeError);
  });
});

describe("the chain hash", () => {
  it("is SHA-256(prev ‖ int64be(seq) ‖ entry), with the documented known answer", () => {
    // Known answer computed independently (Python hashlib) and printed in docs/audit-log.md.
    assert.equal(
      toHex(chainHash(GENESIS_HASH, 0, utf8(CANONICAL))),
      "eced04ff16cae6972daf54a49d05e87225525543b8e472a1e6a0904727779e66",
    );
    // The sequence number is 8 bytes big-endian, as PostgreSQL's int8send writes it.
    const input = new Uint8Array(32 + 8 + 3);
    input.set([0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05], 32);
    input.set(utf8("abc"), 40);
    assert.equal(toHex(chainHash(GENESIS_HASH, 0x0102030405, utf8("abc"))), toHex(sha256(input)));
    // Past 2^32 the high word matters too.
    input.set([0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 32);
    assert.equal(toHex(chainHash(GENESIS_HASH, 2 ** 53 - 1, utf8("abc"))), toHex(sha256(input)));
  });

  it("refuses a previous hash of the wrong length and unsafe sequence numbers", () => {
    assert.throws(() => chainHash(new Uint8Array(31), 0, utf8("x")), /32 bytes/);
    assert.throws(() => chainHash(GENESIS_HASH, -1, utf8("x")), /non-negative/);
    assert.throws(() => chainHash(GENESIS_HASH, 2 ** 53, utf8("x")), /non-negative/);
    assert.throws(() => chainHash(GENESIS_HASH, 1.5, utf8("x")), /non-negative/);
  });
});
