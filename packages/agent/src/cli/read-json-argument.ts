import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { usageError } from "./cli-error.ts";

/**
 * Reads a JSON object argument given inline (`'{"commit":"a1b2c3"}'`) or from a file (`@context.json`).
 *
 * @throws CountersignError `validation_failed` when it is not a JSON object or the file cannot be read.
 *
 * @example
 * ```ts
 * const context = await readJsonArgument("@deploy.json", "--context", io.cwd);
 * ```
 */
export async function readJsonArgument(value: string, name: string, cwd: string): Promise<Record<string, unknown>> {
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = await readFile(resolve(cwd, value.slice(1)), "utf8");
    } catch {
      throw usageError(`${name}: cannot read ${value.slice(1)}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw usageError(`${name} must be JSON (or @file)`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw usageError(`${name} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
