import { readFile, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";

/** A held lock on an embedded data directory. */
export interface DataDirLock {
  /** Removes the lock file. Idempotent. */
  release(): Promise<void>;
}

const heldInThisProcess = new Set<string>();

/**
 * Takes the lock file that keeps two PGlite instances off one data directory. PGlite opens a
 * directory that is already open without complaint, and two copies of PostgreSQL writing the
 * same files corrupt them, so a second `countersign serve` on the same data dir must refuse.
 * The file holds the owner's pid; a lock whose process is gone is taken over.
 */
export async function acquireDataDirLock(lockPath: string): Promise<DataDirLock> {
  const path = resolve(lockPath);
  if (heldInThisProcess.has(path)) {
    throw new Error(`the embedded database locked by ${path} is already open in this process`);
  }
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      heldInThisProcess.add(path);
      return {
        async release() {
          if (heldInThisProcess.delete(path)) {
            await rm(path, { force: true });
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new Error(`cannot create the lock file ${path}`, { cause: error });
      }
    }
    const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    // Our own pid in the file means a previous run of a process that got the same pid (pid 1
    // in a restarted container), not a live owner: this process does not hold the lock.
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isProcessAlive(owner)) {
      throw new Error(
        `the embedded database is in use by process ${owner} (lock file ${path}); stop that process first, or delete the lock file if no Countersign process uses this data directory`,
      );
    }
    await rm(path, { force: true });
  }
  throw new Error(`cannot take the lock ${path}: another process keeps recreating it`);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
