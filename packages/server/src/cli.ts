import packageJson from "../package.json" with { type: "json" };
import type { CliCommand } from "./cli/cli-command.ts";
import { COMMANDS } from "./cli/commands.ts";
import { ConfigError } from "./config/config-error.ts";

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length)) + 2;
  const lines = COMMANDS.map((c) => `  ${c.usage.padEnd(width)} ${c.summary}`);
  return `countersign ${packageJson.version} — approve what your agents do, from your phone

Usage: countersign <command> [options]

Commands:
${lines.join("\n")}

  countersign --help | --version

Configuration comes from environment variables; see the README's configuration table.`;
}

/** Finds the command named by the first one or two words; the longest name wins. */
function findCommand(argv: readonly string[]): { command: CliCommand; args: readonly string[] } | undefined {
  const matches = COMMANDS.filter((c) => {
    const words = c.name.split(" ");
    return words.every((word, i) => argv[i] === word);
  }).sort((a, b) => b.name.length - a.name.length);
  const command = matches[0];
  return command && { command, args: argv.slice(command.name.split(" ").length) };
}

/** Exit codes: 0 done, 1 failure, 2 usage error. */
async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "--version" || argv[0] === "-v") {
    console.log(packageJson.version);
    return 0;
  }
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    console.log(help());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    console.error(`countersign: unknown command '${argv.join(" ")}'\n\n${help()}`);
    return 2;
  }
  return found.command.run(found.args, process.env);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(`countersign: ${error.message}`);
    else if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`countersign: ${(error as Error).message}`);
      process.exitCode = 2;
      return;
    } else console.error("countersign:", error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
