import { AUDIT_COMMANDS } from "./audit-commands.ts";
import type { CliCommand } from "./cli-command.ts";
import { keysRotateCommand } from "./keys-rotate-command.ts";
import { migrateCommand } from "./migrate-command.ts";
import { secretsGenerateCommand } from "./secrets-command.ts";
import { serveCommand } from "./serve-command.ts";

/** Every `countersign` command, in the order `--help` lists them. Add one line per command. */
export const COMMANDS: readonly CliCommand[] = [
  serveCommand,
  migrateCommand,
  secretsGenerateCommand,
  keysRotateCommand,
  ...AUDIT_COMMANDS,
];
