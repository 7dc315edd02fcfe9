import { parseArgs } from "node:util";
import { createAuditLogSigner } from "../audit/audit-log-signer.ts";
import { latestCheckpoint } from "../audit/checkpoint-store.ts";
import { createCheckpoint } from "../audit/create-checkpoint.ts";
import { loadConfig, loadDatabaseConfig } from "../config/load-config.ts";
import type { CliCommand } from "./cli-command.ts";
import { withAuditDatabase } from "./with-audit-database.ts";

/** `countersign audit checkpoint`: print the latest signed checkpoint, or sign one now with --force. */
export const auditCheckpointCommand: CliCommand = {
  name: "audit checkpoint",
  usage: "audit checkpoint [--force]",
  summary: "Print the latest signed audit checkpoint; --force signs one over every entry first",
  async run(args, env) {
    const { values } = parseArgs({
      args: [...args],
      options: { force: { type: "boolean", default: false } },
      strict: true,
    });
    if (!values.force) {
      const latest = await withAuditDatabase(loadDatabaseConfig(env), (db) => latestCheckpoint(db));
      if (latest === null) {
        console.error(
          "countersign: no checkpoint has been signed yet (`countersign audit checkpoint --force` signs one)",
        );
        return 1;
      }
      printNote(latest.note);
      return 0;
    }
    const config = loadConfig(env);
    const signer = await createAuditLogSigner(config);
    const policy = { everyEntries: config.audit.checkpointEntries, everySeconds: config.audit.checkpointSeconds };
    const latest = await withAuditDatabase(config, async (db) => {
      // A backlog is signed in several runs; go on until the tree covers everything.
      for (;;) {
        const outcome = await createCheckpoint(db, { signer, policy, force: true, wait: true });
        if (outcome.status !== "created") return outcome.status === "busy" ? null : outcome.checkpoint;
      }
    });
    if (latest === null) {
      console.error("countersign: the audit log is empty; there is nothing to sign");
      return 1;
    }
    printNote(latest.note);
    return 0;
  },
};

/** Prints the signed note byte for byte: console.log adds back the final newline it drops. */
function printNote(note: string): void {
  console.log(note.endsWith("\n") ? note.slice(0, -1) : note);
}
