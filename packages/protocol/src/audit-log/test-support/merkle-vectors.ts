import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBase64 } from "../../encoding/base64.ts";

/**
 * Loads the RFC 9162 Merkle proof vectors of transparency-dev/merkle `testdata/` (Apache-2.0; see
 * test-vectors/merkle/SOURCE and LICENSE), vendored at `<repo root>/test-vectors/merkle/testdata`.
 */

const REPO_ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));
const TESTDATA = resolve(REPO_ROOT, "test-vectors/merkle/testdata");

/** One inclusion vector: `wantErr` says whether verification must fail. */
export interface InclusionVector {
  file: string;
  desc: string;
  leafIdx: number;
  treeSize: number;
  leafHash: Uint8Array;
  proof: Uint8Array[];
  root: Uint8Array;
  wantErr: boolean;
}

/** One consistency vector: `wantErr` says whether verification must fail. */
export interface ConsistencyVector {
  file: string;
  desc: string;
  size1: number;
  size2: number;
  root1: Uint8Array;
  root2: Uint8Array;
  proof: Uint8Array[];
  wantErr: boolean;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".json"))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function bytes(value: unknown, file: string, field: string): Uint8Array {
  const decoded = typeof value === "string" ? fromBase64(value) : null;
  if (decoded === null) throw new Error(`${file}: ${field} is not base64`);
  return decoded;
}

function hashes(value: unknown, file: string): Uint8Array[] {
  // The Go generator writes a nil proof as null.
  if (value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${file}: proof is not an array`);
  return value.map((v, i) => bytes(v, file, `proof[${i}]`));
}

// uint64 fields above 2⁵³ (e.g. "leafIdx sub @1" = 2⁶⁴ − 1) parse as inexact numbers, which the
// verifiers must refuse as not safe integers.
function size(value: unknown, file: string, field: string): number {
  if (typeof value !== "number") throw new Error(`${file}: ${field} is not a number`);
  return value;
}

function load(kind: "inclusion" | "consistency"): Array<{ file: string; json: Record<string, unknown> }> {
  const dir = join(TESTDATA, kind);
  return jsonFiles(dir).map((path) => ({
    file: relative(TESTDATA, path),
    json: JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>,
  }));
}

/** All inclusion vectors, sorted by path. Throws if the directory is missing. */
export function inclusionVectors(): InclusionVector[] {
  return load("inclusion").map(({ file, json }) => ({
    file,
    desc: String(json.desc),
    leafIdx: size(json.leafIdx, file, "leafIdx"),
    treeSize: size(json.treeSize, file, "treeSize"),
    leafHash: bytes(json.leafHash, file, "leafHash"),
    proof: hashes(json.proof, file),
    root: bytes(json.root, file, "root"),
    wantErr: json.wantErr === true,
  }));
}

/** All consistency vectors, sorted by path. Throws if the directory is missing. */
export function consistencyVectors(): ConsistencyVector[] {
  return load("consistency").map(({ file, json }) => ({
    file,
    desc: String(json.desc),
    size1: size(json.size1, file, "size1"),
    size2: size(json.size2, file, "size2"),
    root1: bytes(json.root1, file, "root1"),
    root2: bytes(json.root2, file, "root2"),
    proof: hashes(json.proof, file),
    wantErr: json.wantErr === true,
  }));
}
