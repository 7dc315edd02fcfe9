import { CountersignError } from "../errors/countersign-error.ts";

/** Nesting deeper than this is refused rather than risking a stack overflow. */
const MAX_DEPTH = 256;

/**
 * Serializes a JSON value to its RFC 8785 (JCS) canonical form: no whitespace, object members
 * sorted by the UTF-16 code units of their names (§3.2.3), numbers in ECMAScript form (§3.2.2.3),
 * strings with only the mandatory escapes (§3.2.2.2).
 *
 * The input must be I-JSON as RFC 8785 §3.1 restricts it: plain objects, arrays, strings, finite
 * numbers, booleans and null. Anything else is refused rather than coerced the way
 * `JSON.stringify` would (dropping `undefined`, calling `toJSON`, writing `NaN` as `null`):
 * `undefined`, functions, symbols, bigints, non-finite numbers, class instances (Date, Map, …),
 * sparse arrays, symbol-keyed properties, cycles, strings with lone surrogates, and nesting
 * deeper than 256 levels.
 *
 * @throws CountersignError `validation_failed`, with a `cause` naming the problem and where.
 *
 * @example
 * ```ts
 * canonicalize({ b: [1e30, 4.50], a: "€" }); // '{"a":"€","b":[1e+30,4.5]}'
 * ```
 */
export function canonicalize(value: unknown): string {
  return serialize(value, [], new Set());
}

/**
 * Where the value being serialized sits, as member names and array indexes from the root: its
 * depth is the length. Made into text (`$.a[2].b`) only when a value is refused, so that the
 * common case builds no string per member. A refusal throws out of the whole call, so a step is
 * popped only on the way back from a success.
 */
type Path = (string | number)[];

function refuse(reason: string, path: Path): never {
  const where = path.map((step) => (typeof step === "number" ? `[${step}]` : `.${step}`)).join("");
  throw new CountersignError("validation_failed", {
    message: "The value is not canonicalizable JSON.",
    cause: new TypeError(`${reason} at $${where}`),
  });
}

function serialize(value: unknown, path: Path, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
      return serializeString(value, path);
    case "number":
      // §3.2.2.3: ECMAScript Number::toString, which JSON.stringify uses and which writes -0 as "0";
      // NaN and the infinities have no JSON form and are errors.
      if (!Number.isFinite(value)) refuse("non-finite number", path);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (path.length >= MAX_DEPTH) refuse("nesting too deep", path);
      if (ancestors.has(value)) refuse("cycle", path);
      ancestors.add(value);
      try {
        return Array.isArray(value) ? serializeArray(value, path, ancestors) : serializeObject(value, path, ancestors);
      } finally {
        ancestors.delete(value);
      }
    default:
      return refuse(`${typeof value} is not JSON`, path);
  }
}

function serializeArray(value: readonly unknown[], path: Path, ancestors: Set<object>): string {
  if (Object.getPrototypeOf(value) !== Array.prototype) refuse("array subclass", path);
  const parts: string[] = [];
  for (let i = 0; i < value.length; i++) {
    path.push(i);
    if (!Object.hasOwn(value, i)) refuse("sparse array", path);
    parts.push(serialize(value[i], path, ancestors));
    path.pop();
  }
  return `[${parts.join(",")}]`;
}

function serializeObject(value: object, path: Path, ancestors: Set<object>): string {
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) refuse("not a plain object", path);
  if (Object.getOwnPropertySymbols(value).length > 0) refuse("symbol-keyed property", path);
  // §3.2.3: sort by UTF-16 code units, which is what the default string comparison does.
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const members: string[] = [];
  for (const key of keys) {
    path.push(key);
    members.push(
      `${serializeString(key, path)}:${serialize((value as Record<string, unknown>)[key], path, ancestors)}`,
    );
    path.pop();
  }
  return `{${members.join(",")}}`;
}

function serializeString(value: string, path: Path): string {
  // §3.1: string data must be expressible as Unicode, so a lone surrogate has no canonical form.
  if (!value.isWellFormed()) refuse("lone surrogate in string", path);
  // §3.2.2.2: JSON.stringify escapes exactly `"`, `\` and U+0000–U+001F (with \b \t \n \f \r
  // short forms and lowercase \u00xx otherwise) and leaves everything else as is, as JCS requires.
  return JSON.stringify(value);
}
