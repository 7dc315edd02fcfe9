import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { verifyProofFile } from "../audit/verify-proof-file.ts";
import type { CliCommand } from "./cli-command.ts";

/**
 * `countersign audit verify-proof`: check a proof against a checkpoint saved earlier and a pinned
 * key, offline (no configuration, no database).
 */
export const auditVerifyProofCommand: CliCommand = {
  name: "audit verify-proof",
  usage: "audit verify-proof --proof FILE --checkpoint FILE --key KEYTEXT",
  summary: "Check an inclusion proof offline against a saved checkpoint and the log's verifier key",
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: { proof: { type: "string" }, checkpoint: { type: "string" }, key: { type: "string" } },
      strict: true,
    });
    if (values.proof === undefined || values.checkpoint === undefined || values.key === undefined) {
      console.error("countersign: usage: countersign audit verify-proof --proof FILE --checkpoint FILE --key KEYTEXT");
      return 2;
    }
    let proof: unknown;
    try {
      proof = JSON.parse(await readFile(values.proof, "utf8"));
    } catch (error) {
      console.error(`countersign: cannot read the proof ${values.proof}: ${(error as Error).message}`);
      return 1;
    }
    const checkpoint = await readFile(values.checkpoint, "utf8");
    const verdict = await verifyProofFile(proof, checkpoint, values.key);
    if (!verdict.ok) {
      console.log(`FAILED: ${verdict.reason}`);
      return 1;
    }
    console.log(`OK: ${verdict.summary}.`);
    return 0;
  },
};
