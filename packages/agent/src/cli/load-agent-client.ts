import { resolve } from "node:path";
import { type AgentClient, createAgentClient } from "../client/create-agent-client.ts";
import { defaultKeyFilePath } from "../key-file/default-key-file-path.ts";
import type { CliIo } from "./cli-io.ts";

/**
 * The options every command that calls the server shares.
 *
 * @example
 * ```ts
 * const args: ClientArguments = { "key-file": "bot.json", server: "https://api.countersign.example" };
 * ```
 */
export interface ClientArguments {
  readonly "key-file"?: string | undefined;
  readonly server?: string | undefined;
}

/**
 * The key file a command uses: `--key-file`, else `$COUNTERSIGN_KEY_FILE`, else the default under
 * `~/.config/countersign/`, resolved against the working directory.
 *
 * @example
 * ```ts
 * keyFilePath({ "key-file": "bot.json" }, io); // "/home/ci/work/bot.json"
 * ```
 */
export function keyFilePath(args: ClientArguments, io: CliIo): string {
  return resolve(io.cwd, args["key-file"] ?? defaultKeyFilePath(io.env));
}

/**
 * Creates the agent client from the key file, with `--server` (or `$COUNTERSIGN_SERVER`)
 * overriding the server the key file names.
 *
 * @example
 * ```ts
 * const client = await loadAgentClient(values, io);
 * ```
 */
export function loadAgentClient(args: ClientArguments, io: CliIo): Promise<AgentClient> {
  const server = args.server ?? io.env.COUNTERSIGN_SERVER;
  return createAgentClient({
    keyFile: keyFilePath(args, io),
    ...(server ? { server } : {}),
    ...(io.now ? { now: io.now } : {}),
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
}
