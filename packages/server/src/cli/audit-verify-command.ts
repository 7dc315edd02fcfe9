import { parseArgs } from "node:util";
import { parseVerifierKey } from "@countersign/protocol";
import { auditLogOrigin, createAuditLogSigner } from "../audit/audit-log-signer.ts";
import { formatAuditVerifyReport } from "../audit/audit-verify-report.ts";
import { verifyAuditLog } from "../audit/verify-audit-log.ts";
import { loadConfig, loadDatabaseConfig } from "../config/load-config.ts";
import type { CliCommand } from "./cli-command.ts";
import { withAuditDatabase } from "./with-audit-database.ts";

/** `countersign audit verify`: check the whole log; exit 0 when it holds, 1 naming the first bad entry. */
export const auditVerifyCommand: CliCommand = {
  name: "audit verify",
  usage: "audit verify [--key KEYTEXT] [--json]",
  summary: "Verify the audit log: chain, gaps, checkpoint signatures and consistency (exit 1 on any problem)",
  async run(args, env) {
    const { values } = parseArgs({
      args: [...args],
      options: { key: { type: "string" }, json: { type: "boolean", default: false } },
      strict: true,
    });
    // With --key (an auditor's pinned key) no server secrets are needed, and the server's own key
    // is not trusted.
    let verifier: ReturnType<typeof parseVerifierKey>;
    let origin: string;
    let config: ReturnType<typeof loadDatabaseConfig>;
    if (values.key !== undefined) {
      try {
        verifier = parseVerifierKey(values.key.trim());
      } catch (error) {
        console.error(`countersign: --key is not a verifier key: ${(error as Error).message}`);
        return 2;
      }
      origin = verifier.name;
      config = loadDatabaseConfig(env);
    } else {
      const full = loadConfig(env);
      verifier = (await createAuditLogSigner(full)).verifier;
      origin = auditLogOrigin(full.publicUrl);
      config = full;
    }
    const report = await withAuditDatabase(config, (db) => verifyAuditLog(db, { verifiers: [verifier], origin }));
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else for (const line of formatAuditVerifyReport(report)) console.log(line);
    return report.ok ? 0 : 1;
  },
};
