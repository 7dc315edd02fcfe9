import { parseArgs } from "node:util";
import { createReceiptSigner } from "../approvals/receipt-signer.ts";
import type { CliCommand } from "../cli/cli-command.ts";
import { withAuditDatabase } from "../cli/with-audit-database.ts";
import { loadConfig } from "../config/load-config.ts";
import { formatReconcileReport } from "./format-reconcile-report.ts";
import { parseInstantOrDate } from "./parse-instant.ts";
import { type ActionLines, openActionLines } from "./read-action-lines.ts";
import { createReceiptVerifier } from "./receipt-verifier.ts";
import { reconcileActions } from "./reconcile-actions.ts";

const USAGE = "audit reconcile --actions FILE [--since ISO] [--until ISO] [--json]";

/**
 * `countersign audit reconcile`: checks a log of executed actions against the approvals in the
 * database (DESIGN §2 T-6, docs/reconciliation.md). Exit 0 when everything reconciles, 1 on any
 * finding, 2 for a usage, configuration, file or database error.
 */
export const auditReconcileCommand: CliCommand = {
  name: "audit reconcile",
  usage: USAGE,
  summary: "Reconcile executed actions (JSON lines, - for stdin) with approvals (exit 1 on any finding)",
  async run(args, env) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        actions: { type: "string" },
        since: { type: "string" },
        until: { type: "string" },
        json: { type: "boolean", default: false },
      },
      strict: true,
    });
    if (values.actions === undefined || values.actions === "") return usage("--actions FILE is required");
    const since = values.since === undefined ? undefined : parseInstantOrDate(values.since);
    const until = values.until === undefined ? undefined : parseInstantOrDate(values.until);
    if (values.since !== undefined && since === undefined)
      return usage("--since must be a date or an RFC 3339 date-time");
    if (values.until !== undefined && until === undefined)
      return usage("--until must be a date or an RFC 3339 date-time");
    if (since !== undefined && until !== undefined && since >= until) return usage("--since must be before --until");

    let input: ActionLines | undefined;
    try {
      input = await openActionLines(values.actions);
      const { lines } = input;
      const config = loadConfig(env);
      if (config.secrets.source === "generated") {
        // Fresh keys verify no receipt the server ever issued: every action would be "invalid".
        console.error(
          `countersign: no secrets were configured, so fresh ones were just generated in ${config.secrets.file}; ` +
            "run with the secrets the server uses (COUNTERSIGN_SECRETS_FILE or the COUNTERSIGN_* variables)",
        );
        return 2;
      }
      const verifier = createReceiptVerifier(createReceiptSigner(config.secrets.signingKeys).jwks, config.publicUrl);
      const asOf = Math.min(Date.now(), until ?? Number.POSITIVE_INFINITY);
      const report = await withAuditDatabase(config, (db) =>
        reconcileActions({ db, lines, verifier, window: { since, until }, asOf }),
      );
      const output = values.json
        ? JSON.stringify(report, null, 2)
        : formatReconcileReport(report, values.actions === "-" ? "standard input" : values.actions).join("\n");
      process.stdout.write(`${output}\n`);
      return report.ok ? 0 : 1;
    } catch (error) {
      // Exit 1 means "does not reconcile"; a run that could not check anything must not look like it.
      console.error(`countersign: audit reconcile: ${error instanceof Error ? error.message : String(error)}`);
      return 2;
    } finally {
      input?.close();
    }
  },
};

function usage(problem: string): number {
  console.error(`countersign: ${problem}\nusage: countersign ${USAGE}`);
  return 2;
}
