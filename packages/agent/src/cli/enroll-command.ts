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
 * id and API address in the file. For an agent created with end-to-end context it prints the
 * account key's fingerprint, for the person to compare with their app, and pins the key in the
 * file; later commands encrypt context to it. The key is never printed. The code may come from
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
  const e2e = enrolled.e2e;
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({
        agent_id: enrolled.agentId,
        key_id: enrolled.keyId,
        server: enrolled.apiBaseUrl,
        key_file: path,
        e2e: e2e === undefined ? null : { account_key_id: e2e.account_key_id, fingerprint: e2e.fingerprint },
      })}\n`,
    );
  } else {
    io.stdout.write(
      `Enrolled agent ${enrolled.agentId} (key id ${enrolled.keyId}) at ${enrolled.apiBaseUrl}.\n` +
        `The private key is in ${path} (mode 0600). Keep it secret; it never leaves this machine.\n`,
    );
    if (e2e !== undefined) {
      io.stdout.write(
        "\nContext is encrypted end to end to your account key. Its fingerprint, pinned in the key file:\n\n" +
          `    ${e2e.fingerprint}\n\n` +
          "Check that your app shows the same fingerprint beside the enrolment code. If it does not, revoke\n" +
          "the agent in the app and do not use this key file.\n",
      );
    }
  }
  return EXIT.approved;
}
