import { readFileSync } from "node:fs";
import { fromHex } from "@countersign/protocol";

/**
 * Loads Wycheproof vector files from `test-vectors/wycheproof/` at the repository root
 * (vendored with their license, so the suite runs on any clone).
 */

const REPO_ROOT = new URL("../../../../../", import.meta.url);
const WYCHEPROOF_DIR = new URL("test-vectors/wycheproof/", REPO_ROOT);

/** The parts of a Wycheproof file every schema shares. */
export interface WycheproofFile<Group> {
  algorithm: string;
  numberOfTests: number;
  testGroups: Group[];
}

/** A test of `aead_test_schema_v1` (chacha20_poly1305_test.json). */
export interface AeadTest {
  tcId: number;
  comment: string;
  flags: string[];
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: "valid" | "invalid" | "acceptable";
}

/** A test of `hkdf_test_schema_v1` (hkdf_sha256_test.json). */
export interface HkdfTest {
  tcId: number;
  comment: string;
  flags: string[];
  ikm: string;
  salt: string;
  info: string;
  size: number;
  okm: string;
  result: "valid" | "invalid" | "acceptable";
}

/** Reads and parses `test-vectors/wycheproof/<name>`. */
export function loadWycheproof<Test>(name: string): WycheproofFile<{ tests: Test[] }> {
  return JSON.parse(readFileSync(new URL(name, WYCHEPROOF_DIR), "utf8")) as WycheproofFile<{ tests: Test[] }>;
}

/** Decodes hex from a vector file, throwing on malformed input so a bad vector cannot pass. */
export function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === null) throw new Error(`not hex: ${text}`);
  return bytes;
}
