import assert from "node:assert/strict";
import { before, it } from "node:test";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { type AuditProofFile, buildProofFile, PROOF_FILE_FORMAT } from "./audit-proof-file.ts";
import { latestCheckpoint } from "./checkpoint-store.ts";
import { type AuditFixture, appendSamples, checkpointNow, createAuditFixture } from "./test-support/audit-fixtures.ts";
import { verifyProofFile } from "./verify-proof-file.ts";

describeEachDatabase("offline proof verification", (ctx) => {
  let fixture: AuditFixture;
  let saved: string; // the checkpoint an auditor saved at 12 entries
  let file: AuditProofFile;

  before(async () => {
    fixture = await createAuditFixture();
    await appendSamples(ctx.db, fixture.audit, 12);
    await checkpointNow(ctx.db, fixture);
    saved = (await latestCheckpoint(ctx.db))?.note as string;
    // The log grows after the auditor saved the checkpoint.
    await appendSamples(ctx.db, fixture.audit, 9, 12);
    await checkpointNow(ctx.db, fixture);
    file = await buildProofFile(ctx.db, 7, 12);
  });

  it("proves an entry, with its bytes, against a checkpoint saved earlier", async () => {
    assert.equal(file.format, PROOF_FILE_FORMAT);
    assert.equal(file.tree_size, 12);
    assert.equal(file.checkpoint, saved, "the log still serves the checkpoint of that size");
    const verdict = await verifyProofFile(JSON.parse(JSON.stringify(file)), saved, fixture.signer.verifierKey);
    assert.ok(verdict.ok, verdict.ok ? "" : verdict.reason);
    assert.match(
      verdict.summary,
      /^entry 7 \(approval\.decided at .+, id [0-9a-f-]{36}\) is in audit\.test's audit log of 12 entries/,
    );
    // The HTTP proof (hashes only) verifies too.
    const { entry: _entry, checkpoint: _checkpoint, format: _format, ...bare } = file;
    assert.equal((await verifyProofFile(bare, saved, fixture.signer.verifierKey)).ok, true);
  });

  it("fails a proof for another tree size, with the command that fixes it", async () => {
    const latest = await buildProofFile(ctx.db, 7);
    assert.equal(latest.tree_size, 21);
    const verdict = await verifyProofFile(latest, saved, fixture.signer.verifierKey);
    assert.deepEqual(verdict, {
      ok: false,
      reason:
        "the proof is for a tree of 21 entries but the checkpoint is for 12; ask for `countersign audit prove --index 7 --size 12`",
    });
  });

  it("fails anything altered, and checkpoints the pinned key did not sign", async () => {
    const other = await createAuditFixture();
    const altered = (change: (copy: Record<string, unknown>) => void) => {
      const copy = structuredClone(file) as unknown as Record<string, unknown>;
      change(copy);
      return copy;
    };
    const flip = (b64: string) => `${b64[0] === "A" ? "B" : "A"}${b64.slice(1)}`;
    const cases: [unknown, string, string, RegExp][] = [
      [
        altered((c) => (c.proof as string[]).splice(0, 1, flip((c.proof as string[])[0] as string))),
        saved,
        fixture.signer.verifierKey,
        /does not lead/,
      ],
      [altered((c) => (c.index = 6)), saved, fixture.signer.verifierKey, /do not give entry_hash/],
      [
        altered((c) => {
          const entry = c.entry as { canonical: string };
          entry.canonical = entry.canonical.replace("approved", "APPROVED").replace("rejected", "REJECTED");
        }),
        saved,
        fixture.signer.verifierKey,
        /do not give entry_hash/,
      ],
      [
        altered((c) => (c.entry_hash = flip(c.entry_hash as string))),
        saved,
        fixture.signer.verifierKey,
        /do not give entry_hash/,
      ],
      [file, saved.replace("\n12\n", "\n13\n"), fixture.signer.verifierKey, /not signed by this key/],
      [file, saved, other.signer.verifierKey, /not signed by this key/],
      [file, saved, "not a key", /not a signed-note verifier key/],
      [altered((c) => (c.format = "something/v9")), saved, fixture.signer.verifierKey, /unknown proof format/],
      [altered((c) => (c.proof = "x")), saved, fixture.signer.verifierKey, /array of base64/],
    ];
    for (const [proof, checkpoint, key, reason] of cases) {
      const verdict = await verifyProofFile(proof, checkpoint, key);
      assert.equal(verdict.ok, false, String(reason));
      assert.match(verdict.ok ? "" : verdict.reason, reason);
    }
  });
});
