import { generateSecretsDocument } from "../config/server-secrets.ts";
import type { CliCommand } from "./cli-command.ts";

/** `countersign secrets generate`: print a fresh secrets file for COUNTERSIGN_SECRETS_FILE. */
export const secretsGenerateCommand: CliCommand = {
  name: "secrets generate",
  usage: "secrets generate",
  summary: "Print a fresh set of secrets as JSON, for COUNTERSIGN_SECRETS_FILE",
  async run() {
    console.log(JSON.stringify(generateSecretsDocument(), null, 2));
    return 0;
  },
};
