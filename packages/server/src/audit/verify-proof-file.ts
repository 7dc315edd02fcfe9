import {
  leafHash,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  sha256,
  utf8,
  verifyInclusion,
} from "@countersign/protocol";
import { decodeAuditEntry } from "./audit-entry.ts";
import { parseProofFile } from "./audit-proof-file.ts";
import { chainHash, equalBytes } from "./chain-hash.ts";

/** The outcome of {@link verifyProofFile}. */
export type ProofVerdict =
  | {
      readonly ok: true;
      readonly index: number;
      readonly treeSize: number;
      readonly origin: string;
      readonly summary: string;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks an inclusion proof offline against a checkpoint the auditor saved earlier and the log
 * key they pinned — no database, no trust in the server:
 *
 * 1. the checkpoint is a signed note verified by `keyText` (C2SP signed-note) whose text is a
 *    C2SP tlog-checkpoint with the key's name as origin;
 * 2. the proof is for the checkpoint's tree size;
 * 3. when the proof carries the entry, its chain hash SHA-256(prev ‖ int64be(index) ‖ entry) is
 *    the proven leaf data (so the proof is about these exact bytes);
 * 4. the RFC 9162 §2.1.3.2 audit path from SHA-256(0x00 ‖ entry_hash) reaches the signed root.
 */
export async function verifyProofFile(
  proofJson: unknown,
  checkpointNote: string,
  keyText: string,
): Promise<ProofVerdict> {
  let verifier: ReturnType<typeof parseVerifierKey>;
  try {
    verifier = parseVerifierKey(keyText.trim());
  } catch (error) {
    return { ok: false, reason: `the key is not a signed-note verifier key: ${(error as Error).message}` };
  }
  const opened = await openNote(checkpointNote, [verifier]);
  if (!opened.ok) return { ok: false, reason: `the checkpoint is not signed by this key (${opened.reason})` };
  const parsedCheckpoint = parseCheckpoint(opened.text);
  if (!parsedCheckpoint.ok) return { ok: false, reason: `the checkpoint is malformed (${parsedCheckpoint.reason})` };
  const { checkpoint } = parsedCheckpoint;
  if (checkpoint.origin !== verifier.name) {
    return { ok: false, reason: `the checkpoint's origin ${JSON.stringify(checkpoint.origin)} is not the key's name` };
  }

  const parsed = parseProofFile(proofJson);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const { file } = parsed;
  if (file.treeSize !== checkpoint.size) {
    return {
      ok: false,
      reason: `the proof is for a tree of ${file.treeSize} entries but the checkpoint is for ${checkpoint.size}; ask for \`countersign audit prove --index ${file.index} --size ${checkpoint.size}\``,
    };
  }
  let summary = `entry ${file.index}`;
  if (file.entry !== null) {
    const bytes = utf8(file.entry.canonical);
    if (!equalBytes(chainHash(file.entry.prevHash, file.index, bytes), file.entryHash)) {
      return { ok: false, reason: "the entry and prev_hash do not give entry_hash" };
    }
    try {
      const entry = decodeAuditEntry(bytes);
      summary = `entry ${file.index} (${entry.type} at ${entry.time}, id ${entry.id})`;
    } catch (error) {
      return { ok: false, reason: `the entry is not a valid audit entry: ${(error as Error).message}` };
    }
  }
  const leaf = leafHash(file.entryHash, sha256);
  if (!verifyInclusion(leaf, file.index, file.treeSize, file.proof, checkpoint.rootHash, sha256)) {
    return { ok: false, reason: "the inclusion proof does not lead to the checkpoint's root" };
  }
  return {
    ok: true,
    index: file.index,
    treeSize: checkpoint.size,
    origin: checkpoint.origin,
    summary: `${summary} is in ${checkpoint.origin}'s audit log of ${checkpoint.size} entries, as signed in the checkpoint`,
  };
}
