import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { fromBase64, toBase64 } from "../encoding/base64.ts";
import { type Checkpoint, formatCheckpoint, parseCheckpoint } from "./checkpoint.ts";

const ROOT = fromBase64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=") as Uint8Array;
// The note text of the example in C2SP tlog-checkpoint.
const SPEC_EXAMPLE = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

function rejects(text: string, reason: RegExp) {
  const result = parseCheckpoint(text);
  assert.equal(result.ok, false, JSON.stringify(text));
  if (!result.ok) assert.match(result.reason, reason);
}

describe("formatCheckpoint", () => {
  it("formats the C2SP tlog-checkpoint example", () => {
    assert.equal(
      formatCheckpoint({ origin: "example.com/behind-the-sofa", size: 20852163, rootHash: ROOT }),
      SPEC_EXAMPLE,
    );
  });

  it("appends extension lines after the root hash", () => {
    const text = formatCheckpoint({ origin: "o", size: 0, rootHash: ROOT, extensions: ["ext one", "ext two"] });
    assert.equal(text, `o\n0\n${toBase64(ROOT)}\next one\next two\n`);
  });

  it("refuses values that would not parse back", () => {
    const base: Checkpoint = { origin: "log.example/a", size: 1, rootHash: ROOT };
    assert.throws(() => formatCheckpoint({ ...base, origin: "" }), TypeError);
    assert.throws(() => formatCheckpoint({ ...base, origin: "a\nb" }), TypeError);
    assert.throws(() => formatCheckpoint({ ...base, origin: "a\tb" }), TypeError);
    assert.throws(() => formatCheckpoint({ ...base, origin: "a\ud800" }), TypeError);
    assert.throws(() => formatCheckpoint({ ...base, size: -1 }), TypeError);
    assert.throws(() => formatCheckpoint({ ...base, size: 1.5 }), TypeError);
    assert.throws(() => formatCheckpoint({ ...base, size: 2 ** 53 }), TypeError);
    assert.throws(() => formatCheckpoint({ ...base, rootHash: new Uint8Array(31) }), /rootHash must be 32 bytes/);
    assert.throws(() => formatCheckpoint({ ...base, extensions: [""] }), /extensions\[0\]/);
    assert.throws(() => formatCheckpoint({ ...base, extensions: ["ok", "x\ny"] }), /extensions\[1\]/);
  });
});

describe("parseCheckpoint", () => {
  it("parses the C2SP tlog-checkpoint example", () => {
    assert.deepEqual(parseCheckpoint(SPEC_EXAMPLE), {
      ok: true,
      checkpoint: { origin: "example.com/behind-the-sofa", size: 20852163, rootHash: ROOT, extensions: [] },
    });
  });

  it("round-trips anything formatCheckpoint writes", () => {
    const line = fc.string({ minLength: 1, unit: "grapheme" }).filter((s) => [...s].every((c) => c >= " "));
    fc.assert(
      fc.property(
        line,
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(line, { maxLength: 3 }),
        (origin, size, rootHash, extensions) => {
          const parsed = parseCheckpoint(formatCheckpoint({ origin, size, rootHash, extensions }));
          assert.deepEqual(parsed, { ok: true, checkpoint: { origin, size, rootHash, extensions } });
        },
      ),
    );
  });

  it("accepts size 0 and the largest exact size", () => {
    const zero = parseCheckpoint(`o\n0\n${toBase64(ROOT)}\n`);
    assert.ok(zero.ok && zero.checkpoint.size === 0);
    const max = parseCheckpoint(`o\n9007199254740991\n${toBase64(ROOT)}\n`);
    assert.ok(max.ok && max.checkpoint.size === Number.MAX_SAFE_INTEGER);
  });

  it("rejects a missing trailing newline", () => {
    rejects(SPEC_EXAMPLE.slice(0, -1), /final newline/);
  });

  it("rejects fewer than three lines", () => {
    rejects("example.com/log\n5\n", /three lines/);
    rejects("\n", /three lines/);
    rejects("", /final newline/);
  });

  it("rejects empty lines, including an empty origin or extension line", () => {
    rejects(`\n5\n${toBase64(ROOT)}\n`, /empty line/);
    rejects(`o\n5\n${toBase64(ROOT)}\n\n`, /empty line/);
    rejects(`o\n5\n${toBase64(ROOT)}\n\next\n`, /empty line/);
  });

  it("rejects sizes that are not canonical decimal", () => {
    for (const size of ["007", "00", "-1", "+5", " 5", "5 ", "0x10", "1e3", "5.0", "", "１２"]) {
      rejects(`o\n${size}\n${toBase64(ROOT)}\n`, size === "" ? /empty line/ : /canonical decimal/);
    }
  });

  it("rejects sizes above 2^53 - 1 rather than rounding them", () => {
    rejects(`o\n9007199254740992\n${toBase64(ROOT)}\n`, /2\^53/);
    rejects(`o\n18446744073709551615\n${toBase64(ROOT)}\n`, /2\^53/);
  });

  it("rejects root hashes that are not canonical base64", () => {
    const good = toBase64(ROOT);
    for (const bad of [good.slice(0, -1), `${good}=`, good.replace("/", "_"), `${good.slice(0, -2)}J=`, ` ${good}`]) {
      rejects(`o\n5\n${bad}\n`, /canonical base64/);
    }
  });

  it("rejects root hashes that are not 32 bytes", () => {
    rejects(`o\n5\n${toBase64(new Uint8Array(31))}\n`, /32 bytes/);
    rejects(`o\n5\n${toBase64(new Uint8Array(33))}\n`, /32 bytes/);
    rejects(`o\n5\n${toBase64(new Uint8Array(48))}\n`, /32 bytes/);
  });

  it("rejects control characters and carriage returns", () => {
    rejects(SPEC_EXAMPLE.replaceAll("\n", "\r\n"), /control character/);
    rejects(`o\t1\n5\n${toBase64(ROOT)}\n`, /control character/);
  });

  it("never throws on non-string or ill-formed input", () => {
    for (const bad of [undefined, null, 5, new Uint8Array(3), "o\ud800\n5\nAAAA\n"]) {
      assert.equal(parseCheckpoint(bad as string).ok, false);
    }
  });
});
