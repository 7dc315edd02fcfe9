import { parseArgs } from "node:util";
import { isCountersignError } from "@countersign/protocol";
import { buildProofFile } from "../audit/audit-proof-file.ts";
import { loadDatabaseConfig } from "../config/load-config.ts";
import type { CliCommand } from "./cli-command.ts";
import { withAuditDatabase } from "./with-audit-database.ts";

const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/** `countersign audit prove --index N [--size M]`: print an inclusion proof file (JSON). */
export const auditProveCommand: CliCommand = {
  name: "audit prove",
  usage: "audit prove --index N [--size M]",
  summary: "Print an inclusion proof of entry N (JSON, with the entry and the checkpoint of size M)",
  async run(args, env) {
    const { values } = parseArgs({
      args: [...args],
      options: { index: { type: "string" }, size: { type: "string" } },
      strict: true,
    });
    if (
      values.index === undefined ||
      !DECIMAL.test(values.index) ||
      (values.size !== undefined && !DECIMAL.test(values.size))
    ) {
      console.error("countersign: usage: countersign audit prove --index N [--size M] (non-negative integers)");
      return 2;
    }
    const index = Number(values.index);
    const size = values.size === undefined ? undefined : Number(values.size);
    try {
      const file = await withAuditDatabase(loadDatabaseConfig(env), (db) => buildProofFile(db, index, size));
      console.log(JSON.stringify(file, null, 2));
      return 0;
    } catch (error) {
      if (
        !isCountersignError(error, "audit_index_out_of_range") &&
        !(error instanceof Error && /purged/.test(error.message))
      ) {
        throw error;
      }
      const tree = isCountersignError(error) ? (error.details?.tree_size as number | undefined) : undefined;
      console.error(
        `countersign: ${error.message}${tree === undefined ? "" : ` (the signed tree has ${tree} entries)`}`,
      );
      return 1;
    }
  },
};
