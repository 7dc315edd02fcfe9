import { rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CountersignError } from "@countersign/protocol";
import { enrollAgent } from "../client/enroll-agent.ts";
import { writeKeyFile } from "../key-file/write-key-file.ts";
import { usageError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { EXIT } from "./exit-codes.ts";
import { keyFilePath } from "./load-agent-client.ts";

/**
 * `countersign-agent enroll --server URL --code CODE [--key-file PATH] [--json]`
 *
 * Generates the agent's Ed25519 key pair here, saves it (mode 0600) before enrolling so a lost
 * answer never loses the key, enrols the public key with the one-time code, and records the agent
 * id and API address in the file. The key is never printed. The code may come from
 * `$COUNTERSIGN_ENROLLMENT_CODE` instead, to keep it out of the shell history. An existing key
 * file is never overwritten.
 *
 * @example
 * ```ts
 * await enrollCommand(["--server", "https://api.countersign.example", "--code", "cs_enr_…"], io);
 * ```
 */
export async function enrollCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: "string" },
      code: { type: "string" },
      "key-file": { type: "string" },
      json: { type: "boolean" },
    },
    strict: true,
  });
  const server = values.server ?? io.env.COUNTERSIGN_SERVER;
  const code = values.code ?? io.env.COUNTERSIGN_ENROLLMENT_CODE;
  if (server === undefined) throw usageError("--server URL is required");
  if (code === undefined) throw usageError("--code CODE is required");
  const path = keyFilePath(values, io);

  let written = false;
  let enrolled: Awaited<ReturnType<typeof enrollAgent>>;
  try {
    enrolled = await enrollAgent({
      server,
      code,
      beforeEnroll: async (key) => {
        await writeKeyFile(path, key);
        written = true;
      },
      ...(io.now ? { now: io.now } : {}),
      ...(io.fetch ? { fetch: io.fetch } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } catch (error) {
    if (written) {
      // Refused by the server: the key was never enrolled and is worth nothing. Anything else (a
      // lost answer, an interruption) may hide a success, so that key is kept.
      const refused =
        error instanceof CountersignError && error.code !== "service_unavailable" && error.code !== "internal_error";
      if (refused) await rm(path, { force: true });
      else
        io.stderr.write(
          `The new key was kept in ${path}: if the enrolment went through, countersign-agent whoami will say so.\n`,
        );
    }
    throw error;
  }
  await writeKeyFile(path, enrolled.key, { replace: true });
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ agent_id: enrolled.agentId, key_id: enrolled.keyId, server: enrolled.apiBaseUrl, key_file: path })}\n`,
    );
  } else {
    io.stdout.write(
      `Enrolled agent ${enrolled.agentId} (key id ${enrolled.keyId}) at ${enrolled.apiBaseUrl}.\n` +
        `The private key is in ${path} (mode 0600). Keep it secret; it never leaves this machine.\n`,
    );
  }
  return EXIT.approved;
}
