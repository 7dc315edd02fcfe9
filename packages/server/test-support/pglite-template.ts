import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "../src/db/migrate.ts";
import { openPgliteDatabase } from "../src/db/pglite-database.ts";
import { templateKey } from "./template-key.ts";

/** Where migrated PGlite dumps are cached between test runs. */
export const PGLITE_TEMPLATE_DIR: string = join(tmpdir(), "countersign-test-templates");

const STALE_AFTER_MS = 24 * 60 * 60 * 1000;
const inThisProcess = new Map<string, Promise<Blob>>();

/**
 * A dump of a PGlite database with every migration of `migrationsDir` applied, to load into a
 * fresh in-memory PGlite (~0.4 s) instead of running initdb and the migrations (~3 s). Built
 * once per key and cached under the OS temp dir; parallel test processes that miss the cache at
 * the same time each build it and the last atomic rename wins, all with identical content.
 */
export function pgliteTemplate(migrationsDir: string): Promise<Blob> {
  let template = inThisProcess.get(migrationsDir);
  if (template === undefined) {
    template = loadOrBuild(migrationsDir);
    inThisProcess.set(migrationsDir, template);
    // A failed build must not be remembered: the next test file in this process retries.
    template.catch(() => inThisProcess.delete(migrationsDir));
  }
  return template;
}

async function loadOrBuild(migrationsDir: string): Promise<Blob> {
  const file = join(PGLITE_TEMPLATE_DIR, `pglite-${await templateKey(migrationsDir)}.tar`);
  try {
    return new Blob([await readFile(file)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw error;
    }
  }

  const db = await openPgliteDatabase();
  let dump: Blob;
  try {
    await migrate(db, migrationsDir);
    dump = await db.dumpDataDir();
  } finally {
    await db.close();
  }
  await mkdir(PGLITE_TEMPLATE_DIR, { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, new Uint8Array(await dump.arrayBuffer()));
  await rename(temporary, file);
  await removeStale(file);
  return dump;
}

/** Deletes dumps of other keys (and abandoned temp files) untouched for a day. */
async function removeStale(current: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(PGLITE_TEMPLATE_DIR).catch(() => [])) {
    const path = join(PGLITE_TEMPLATE_DIR, name);
    if (path === current || !name.startsWith("pglite-")) {
      continue;
    }
    const info = await stat(path).catch(() => undefined);
    if (info !== undefined && now - info.mtimeMs > STALE_AFTER_MS) {
      await rm(path, { force: true });
    }
  }
}
