import { readFile, stat } from "node:fs/promises";
import { CountersignError } from "@countersign/protocol";
import { type AgentKeyFile, parseAgentKeyFile } from "./agent-key-file.ts";

/**
 * Reads an agent key file (Node only). Like OpenSSH with private keys, it refuses a file that
 * other users can read or write, since anyone who can read it can act as the agent (T-2).
 *
 * @throws CountersignError `unknown_agent` when there is no file (enrol first), `validation_failed`
 *   when it is readable by others or malformed. The messages never include the key.
 *
 * @example
 * ```ts
 * const key = await readKeyFile("/home/ci/.config/countersign/agent-key.json");
 * ```
 */
export async function readKeyFile(path: string): Promise<AgentKeyFile> {
  let text: string;
  try {
    const info = await stat(path);
    if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
      throw new CountersignError("validation_failed", {
        message: `The agent key file ${path} is accessible by other users; run: chmod 600 ${path}`,
      });
    }
    text = await readFile(path, "utf8");
  } catch (error) {
    if (error instanceof CountersignError) throw error;
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CountersignError("unknown_agent", {
        message: `No agent key file at ${path}. Enrol first: countersign-agent enroll --server URL --code CODE`,
        cause: error,
      });
    }
    throw new CountersignError("validation_failed", {
      message: `Cannot read the agent key file ${path}.`,
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message may quote the file's contents, so it is not kept as the cause.
    throw new CountersignError("validation_failed", { message: `The agent key file ${path} is not JSON.` });
  }
  return parseAgentKeyFile(json);
}
