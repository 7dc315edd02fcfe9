import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** One migration file, read and checksummed. */
export interface MigrationFile {
  version: number;
  /** The snake_case part of the file name. */
  name: string;
  fileName: string;
  sql: string;
  /** SHA-256 of the file's bytes, lower-case hex. */
  checksum: string;
}

/** The migrations of a directory in version order, and what is wrong with it. */
export interface MigrationFiles {
  migrations: MigrationFile[];
  /** Malformed names, duplicate versions, an unreadable directory. Empty when usable. */
  problems: string[];
}

const FILE_NAME = /^(\d{3,})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;

/**
 * Reads `NNN_snake_name.sql` files (NNN a zero-padded version, at least three digits, from 1).
 * Every `.sql` file must follow the pattern, so a misnamed migration is reported instead of
 * silently skipped; other files (a README) are ignored.
 */
export async function readMigrationFiles(dir: string): Promise<MigrationFiles> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
  } catch (error) {
    return { migrations: [], problems: [`cannot read the migrations directory ${dir}: ${(error as Error).message}`] };
  }

  const problems: string[] = [];
  const byVersion = new Map<number, MigrationFile>();
  for (const fileName of entries.sort()) {
    if (!fileName.toLowerCase().endsWith(".sql")) {
      continue;
    }
    const match = FILE_NAME.exec(fileName);
    const version = match ? Number(match[1]) : 0;
    // The version column is an int4.
    if (match === null || version < 1 || version > 2_147_483_647) {
      problems.push(
        `malformed migration file name "${fileName}": expected NNN_snake_name.sql with NNN from 001 to 2147483647`,
      );
      continue;
    }
    const bytes = await readFile(join(dir, fileName));
    const migration: MigrationFile = {
      version,
      name: match[2] ?? "",
      fileName,
      sql: bytes.toString("utf8"),
      checksum: createHash("sha256").update(bytes).digest("hex"),
    };
    const clash = byVersion.get(version);
    if (clash !== undefined) {
      problems.push(`duplicate migration version ${version}: "${clash.fileName}" and "${fileName}"`);
      continue;
    }
    byVersion.set(version, migration);
  }
  const migrations = [...byVersion.values()].sort((a, b) => a.version - b.version);
  return { migrations, problems };
}
