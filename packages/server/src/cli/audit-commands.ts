import { auditReconcileCommand } from "../reconcile/audit-reconcile-command.ts";
import { auditCheckpointCommand } from "./audit-checkpoint-command.ts";
import { auditProveCommand } from "./audit-prove-command.ts";
import { auditPurgeCommand } from "./audit-purge-command.ts";
import { auditVerifyCommand } from "./audit-verify-command.ts";
import { auditVerifyProofCommand } from "./audit-verify-proof-command.ts";
import type { CliCommand } from "./cli-command.ts";

/** The `countersign audit …` commands (DESIGN §4.8), in the order `--help` lists them. */
export const AUDIT_COMMANDS: readonly CliCommand[] = [
  auditVerifyCommand,
  auditCheckpointCommand,
  auditProveCommand,
  auditVerifyProofCommand,
  auditReconcileCommand,
  auditPurgeCommand,
];
