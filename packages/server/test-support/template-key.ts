import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Bump to invalidate every cached template after a change in how templates are built.
const TEMPLATE_FORMAT = "1";

// The migration runner creates countersign_migrations: a change to it changes the template.
const RUNNER_FILES = ["migrate.ts", "read-migration-files.ts"].map((name) =>
  fileURLToPath(new URL(`../src/db/${name}`, import.meta.url)),
);

/**
 * A short hex key for "this set of migrations, applied by this runner, on this PGlite": the
 * cache key of the PGlite dump and the name suffix of the PostgreSQL template database.
 */
export async function templateKey(migrationsDir: string): Promise<string> {
  const hash = createHash("sha256").update(`countersign-test-template:${TEMPLATE_FORMAT}\n`);
  hash.update(`pglite:${await pgliteVersion()}\n`);
  for (const file of RUNNER_FILES) {
    hash.update(`runner:${await readFile(file)}\n`);
  }
  const names = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
  for (const name of names) {
    const digest = createHash("sha256")
      .update(await readFile(join(migrationsDir, name)))
      .digest("hex");
    hash.update(`file:${name}:${digest}\n`);
  }
  return hash.digest("hex").slice(0, 24);
}

let cachedVersion: Promise<string> | undefined;

function pgliteVersion(): Promise<string> {
  cachedVersion ??= (async () => {
    // The package does not export its package.json; find it above the resolved entry point.
    let dir = dirname(fileURLToPath(import.meta.resolve("@electric-sql/pglite")));
    for (;;) {
      try {
        const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
          name?: string;
          version?: string;
        };
        if (manifest.name === "@electric-sql/pglite" && manifest.version !== undefined) {
          return manifest.version;
        }
      } catch {
        // no package.json at this level
      }
      const parent = dirname(dir);
      if (parent === dir) {
        throw new Error("cannot find the @electric-sql/pglite package.json");
      }
      dir = parent;
    }
  })();
  return cachedVersion;
}
