import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exportEd25519PublicKey, generateEd25519KeyPair, importEd25519Seed } from "../crypto/ed25519.ts";
import { fromBase64, toBase64 } from "../encoding/base64.ts";
import { utf8 } from "../encoding/bytes.ts";
import { formatCheckpoint, parseCheckpoint } from "./checkpoint.ts";
import { type NoteVerifier, openNote, parseVerifierKey, signNote, verifierKeyText } from "./signed-note.ts";

// golang.org/x/mod sumdb/note/note_test.go (BSD-3-Clause): keys, text and signatures.
const PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG =
  "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
const GO_NOTE = `${TEXT}\n${PETER_SIG}`;

// A real sum.golang.org checkpoint and the Go checksum database's verifier key, from
// google/trillian-examples formats/log/checkpoint_test.go (Apache-2.0), TestSumDBNoteParsing.
const SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
const SUMDB_CHECKPOINT =
  "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n" +
  "— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n";

const peter = parseVerifierKey(PETER_VKEY);
const enoch = parseVerifierKey(ENOCH_VKEY);

async function peterSigner() {
  const typedSeed = fromBase64(PETER_SKEY.split("+").slice(4).join("+")) as Uint8Array;
  assert.equal(typedSeed[0], 0x01);
  return {
    name: "PeterNeumann",
    privateKey: await importEd25519Seed(typedSeed.slice(1), peter.publicKey),
    publicKey: peter.publicKey,
  };
}

async function freshSigner(name: string) {
  const pair = await generateEd25519KeyPair();
  return { name, privateKey: pair.privateKey, publicKey: await exportEd25519PublicKey(pair.publicKey) };
}

async function refused(note: string | Uint8Array, verifiers: readonly NoteVerifier[], reason: RegExp) {
  const result = await openNote(note, verifiers);
  assert.equal(result.ok, false);
  if (!result.ok) assert.match(result.reason, reason);
}

describe("verifier keys", () => {
  it("parses the Go note package's verifier key and derives the same key ID", () => {
    assert.equal(peter.name, "PeterNeumann");
    assert.equal(peter.keyId, "c74f20a3");
    assert.equal(peter.publicKey.length, 32);
    // The key ID is recomputed as SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4] and checked.
    assert.equal(verifierKeyText(peter.name, peter.publicKey), PETER_VKEY);
    assert.equal(verifierKeyText(enoch.name, enoch.publicKey), ENOCH_VKEY);
    assert.equal(parseVerifierKey(SUMDB_VKEY).keyId, "033de0ae");
  });

  it("refuses every truncation and every single-character change of a valid key", () => {
    // The manglings of Go's TestNewVerifier.
    for (let i = 0; i <= PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if (i === 0 && j === PETER_VKEY.length) continue;
        assert.throws(() => parseVerifierKey(PETER_VKEY.slice(i, j)), TypeError, PETER_VKEY.slice(i, j));
      }
    }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const changed =
        PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1);
      assert.throws(() => parseVerifierKey(changed), TypeError, changed);
    }
    // Wrong key length and unknown algorithm, each with a matching key ID (from Go's test).
    assert.throws(() => parseVerifierKey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="));
    assert.throws(() => parseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"));
  });

  it("refuses invalid key names when formatting", () => {
    for (const name of ["", "a b", "a+b", "a\u00a0b", "a\nb", "a\u0085b", "a\u3000b"]) {
      assert.throws(() => verifierKeyText(name, peter.publicKey), TypeError, JSON.stringify(name));
    }
    assert.throws(() => verifierKeyText("ok", new Uint8Array(31)), /publicKey must be 32 bytes/);
  });
});

describe("signNote", () => {
  it("reproduces the Go note package's signed note byte for byte", async () => {
    assert.equal(await signNote(TEXT, await peterSigner()), GO_NOTE);
  });

  it("refuses text that is not a valid note text", async () => {
    const signer = await peterSigner();
    for (const text of ["no final newline", "tab\there\n", "cr\r\n", "lone \ud800\n", ""]) {
      await assert.rejects(signNote(text, signer), TypeError, JSON.stringify(text));
    }
  });

  it("refuses invalid key names and public keys", async () => {
    const signer = await peterSigner();
    await assert.rejects(signNote(TEXT, { ...signer, name: "Peter Neumann" }), TypeError);
    await assert.rejects(signNote(TEXT, { ...signer, name: "Peter+Neumann" }), TypeError);
    await assert.rejects(signNote(TEXT, { ...signer, publicKey: new Uint8Array(31) }), /publicKey must be 32 bytes/);
  });

  it("refuses a private key that does not match the public key", async () => {
    const other = await freshSigner("PeterNeumann");
    await assert.rejects(signNote(TEXT, { ...other, publicKey: peter.publicKey }), /does not match/);
  });
});

describe("openNote", () => {
  it("verifies the Go note package's signed note", async () => {
    assert.deepEqual(await openNote(GO_NOTE, [peter]), { ok: true, text: TEXT, verifiedBy: ["PeterNeumann"] });
  });

  it("verifies the Go note package's second key's signature too", async () => {
    const note = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    assert.deepEqual(await openNote(note, [peter, enoch]), {
      ok: true,
      text: TEXT,
      verifiedBy: ["PeterNeumann", "EnochRoot"],
    });
    // An unknown signature is ignored when a known one verifies.
    assert.deepEqual(await openNote(note, [peter]), { ok: true, text: TEXT, verifiedBy: ["PeterNeumann"] });
  });

  it("verifies a real sum.golang.org checkpoint and parses it", async () => {
    const opened = await openNote(SUMDB_CHECKPOINT, [parseVerifierKey(SUMDB_VKEY)]);
    assert.ok(opened.ok);
    assert.deepEqual(opened.verifiedBy, ["sum.golang.org"]);
    const parsed = parseCheckpoint(opened.text);
    assert.ok(parsed.ok);
    assert.equal(parsed.checkpoint.origin, "go.sum database tree");
    assert.equal(parsed.checkpoint.size, 6476701);
    assert.equal(toBase64(parsed.checkpoint.rootHash), "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=");
    await refused(
      SUMDB_CHECKPOINT.replace("6476701", "6476702"),
      [parseVerifierKey(SUMDB_VKEY)],
      /verification failed/,
    );
  });

  it("accepts the note as UTF-8 bytes", async () => {
    assert.ok((await openNote(utf8(GO_NOTE), [peter])).ok);
  });

  it("refuses a note signed only by unknown keys", async () => {
    await refused(GO_NOTE, [], /no signature from a known key/);
    await refused(GO_NOTE, [enoch], /no signature from a known key/);
  });

  it("ignores signatures that share only the name, or only the key ID, with a known key", async () => {
    const impostor = await freshSigner("PeterNeumann");
    const sameName = await signNote(TEXT, impostor);
    await refused(sameName, [peter], /no signature from a known key/);
    // Peter's key ID under another name.
    await refused(`${TEXT}\n${PETER_SIG.replace("PeterNeumann", "CarmenSandiego")}`, [peter], /no signature/);
  });

  it("refuses tampered text", async () => {
    await refused(GO_NOTE.replace("cryptography", "cryptographY"), [peter], /verification failed/);
    await refused(GO_NOTE.replace("problem is.\n", "problem is!\n"), [peter], /verification failed/);
    await refused(`extra line\n${GO_NOTE}`, [peter], /verification failed/);
  });

  it("refuses a tampered signature from a known key, even next to a valid one", async () => {
    const bad = `${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`;
    await refused(`${TEXT}\n${bad}`, [peter], /verification failed/);
    await refused(`${TEXT}\n${PETER_SIG}${bad}`, [peter], /verification failed/);
    // A signature blob cut to 4-byte ID + 60 bytes is a failed verification, not a crash.
    const blob = fromBase64(PETER_SIG.slice("— PeterNeumann ".length, -1)) as Uint8Array;
    await refused(`${TEXT}\n— PeterNeumann ${toBase64(blob.slice(0, 64))}\n`, [peter], /verification failed/);
  });

  it("reports each signing key once", async () => {
    assert.deepEqual(await openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}`, [peter, peter]), {
      ok: true,
      text: TEXT,
      verifiedBy: ["PeterNeumann"],
    });
  });

  it("refuses malformed notes without throwing", async () => {
    const malformed: Array<string | Uint8Array> = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n${PETER_SIG.replace("— ", "- ")}`,
      `${TEXT}\n${PETER_SIG.replace("— ", "—")}`,
      `${TEXT}\n— PeterNeumann\n`,
      `${TEXT}\n— PeterNeumann \n`,
      `${TEXT}\n— PeterNeumann x08go/ZJ=\n`,
      `${TEXT}\n— PeterNeumann x08g\n`,
      `${TEXT}\n— Peter+Neumann ${PETER_SIG.slice("— PeterNeumann ".length)}`,
      `${TEXT}\n${PETER_SIG}\n`,
      `${TEXT.replace("\n", "\r\n")}\n${PETER_SIG}`,
      `lone \ud800\n\n${PETER_SIG}`,
      `${TEXT}\n${PETER_SIG.repeat(101)}`,
      new Uint8Array([0xff, ...utf8(GO_NOTE)]),
    ];
    for (const note of malformed) await refused(note, [peter], /malformed note/);
    for (const note of [undefined, null, 42, {}]) {
      await refused(note as unknown as string, [peter], /malformed note/);
    }
  });

  it("refuses a note whose bytes start with a byte-order mark, which was not signed", async () => {
    await refused(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(GO_NOTE)]), [peter], /malformed note|verification failed/);
  });

  it("accepts up to 100 signatures", async () => {
    assert.ok((await openNote(`${TEXT}\n${PETER_SIG.repeat(100)}`, [peter])).ok);
  });

  it("refuses verifiers that were not made by parseVerifierKey", async () => {
    await refused(GO_NOTE, [{ ...peter, keyId: "c74f20a4" }], /invalid verifier/);
    await refused(GO_NOTE, [{ ...peter, publicKey: new Uint8Array(31) }], /invalid verifier/);
    await refused(GO_NOTE, null as unknown as NoteVerifier[], /invalid verifier/);
  });

  it("separates the text at the last blank line, so the text may contain blank lines", async () => {
    const signer = await freshSigner("countersign.example/audit");
    const text = "first\n\nthird\n";
    const note = await signNote(text, signer);
    assert.deepEqual(await openNote(note, [parseVerifierKey(verifierKeyText(signer.name, signer.publicKey))]), {
      ok: true,
      text,
      verifiedBy: [signer.name],
    });
  });
});

describe("signed checkpoints", () => {
  it("round-trip through formatCheckpoint, signNote, openNote and parseCheckpoint", async () => {
    const signer = await freshSigner("countersign.example/audit");
    const verifier = parseVerifierKey(verifierKeyText(signer.name, signer.publicKey));
    const checkpoint = { origin: signer.name, size: 1234, rootHash: new Uint8Array(32).fill(7), extensions: ["v1"] };
    const note = await signNote(formatCheckpoint(checkpoint), signer);
    const opened = await openNote(note, [verifier]);
    assert.ok(opened.ok);
    assert.deepEqual(parseCheckpoint(opened.text), { ok: true, checkpoint });
    await refused(note.replace("\n1234\n", "\n1235\n"), [verifier], /verification failed/);
    await refused(note, [peter], /no signature from a known key/);
  });
});
