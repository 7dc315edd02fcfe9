import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where the CLI keeps the agent key when `--key-file` is not given: `$COUNTERSIGN_KEY_FILE`, else
 * `$XDG_CONFIG_HOME/countersign/agent-key.json`, else `~/.config/countersign/agent-key.json`.
 *
 * @example
 * ```ts
 * defaultKeyFilePath({ XDG_CONFIG_HOME: "/cfg" }); // "/cfg/countersign/agent-key.json"
 * ```
 */
export function defaultKeyFilePath(env: Readonly<Record<string, string | undefined>>, home = homedir()): string {
  if (env.COUNTERSIGN_KEY_FILE) return env.COUNTERSIGN_KEY_FILE;
  const config = env.XDG_CONFIG_HOME || join(home, ".config");
  return join(config, "countersign", "agent-key.json");
}
