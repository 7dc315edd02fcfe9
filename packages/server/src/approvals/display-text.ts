import { CountersignError } from "@countersign/protocol";

// Characters that change how text is displayed without being visible: C0/C1 controls (except
// tab and newline, where allowed), bidirectional overrides and isolates (the "Trojan Source"
// trick, CVE-2021-42574), and zero-width joiners/spaces. A request whose title reads one way and
// renders another defeats T-9 before any hash is computed, so such text is refused outright.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;
const LINE_BREAK = /[\n\t]/;

/**
 * Refuses display text that could render differently from what it says (T-9): title, body,
 * binding message, and every key and string in the context.
 *
 * @throws CountersignError `validation_failed` naming the field.
 */
export function assertDisplayText(field: string, value: string, options: { multiline: boolean }): void {
  if (INVISIBLE.test(value) || (!options.multiline && LINE_BREAK.test(value))) {
    throw new CountersignError("validation_failed", {
      message: `${field} contains control, bidirectional or invisible characters.`,
      details: { issues: [{ path: `/${field}`, message: "must be plain, visible text" }] },
    });
  }
}

/** {@link assertDisplayText} over every key and string of a JSON context object. */
export function assertDisplayContext(value: unknown, path = "context"): void {
  if (typeof value === "string") {
    assertDisplayText(path, value, { multiline: true });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      assertDisplayContext(item, `${path}/${index}`);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      assertDisplayText(`${path} key`, key, { multiline: false });
      assertDisplayContext(item, `${path}/${key}`);
    }
  }
}
