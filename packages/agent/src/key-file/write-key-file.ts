import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CountersignError } from "@countersign/protocol";
import type { AgentKeyFile } from "./agent-key-file.ts";

/**
 * Options of {@link writeKeyFile}.
 *
 * @example
 * ```ts
 * await writeKeyFile(path, enrolledKey, { replace: true });
 * ```
 */
export interface WriteKeyFileOptions {
  /** Replace an existing file (atomically). Without it an existing file is never touched. */
  readonly replace?: boolean;
}

/**
 * Writes an agent key file with mode 0600 (Node only; DESIGN §4.3). The file is created with
 * that mode from the start — never world-readable for an instant — and its directory, when it
 * has to be made, with 0700. A replacement is written to a temporary file in the same directory
 * and renamed over the old one, so a crash leaves either the old key or the new one.
 *
 * @throws CountersignError `validation_failed` when the file exists and `replace` is not set, or
 *   it cannot be written.
 *
 * @example
 * ```ts
 * await writeKeyFile("agent-key.json", { ...(await exportEd25519PrivateJwk(privateKey)), kid });
 * ```
 */
export async function writeKeyFile(path: string, key: AgentKeyFile, options: WriteKeyFileOptions = {}): Promise<void> {
  const directory = dirname(path);
  const target = options.replace ? join(directory, `.${randomBytes(6).toString("hex")}.tmp`) : path;
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const file = await open(target, "wx", 0o600);
    try {
      // The umask can only remove bits; this makes the mode exactly 0600 whatever it was.
      await file.chmod(0o600);
      await file.writeFile(`${JSON.stringify(key, null, 2)}\n`, "utf8");
      await file.sync();
    } finally {
      await file.close();
    }
    if (options.replace) {
      await rename(target, path);
      await chmod(path, 0o600);
    }
  } catch (error) {
    if (options.replace) await rm(target, { force: true });
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CountersignError("validation_failed", {
        message: `${path} already exists; choose another --key-file, or move the old key away first.`,
        cause: error,
      });
    }
    throw new CountersignError("validation_failed", {
      message: `Cannot write the agent key file ${path}.`,
      cause: error,
    });
  }
}
