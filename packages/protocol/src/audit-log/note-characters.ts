/**
 * Character rules shared by signed notes and checkpoints (C2SP signed-note "Format"): notes are
 * well-formed UTF-8 with no ASCII control characters (below U+0020) other than newline.
 */

/**
 * Whether `text` contains a character below U+0020, other than newline when `allowNewline`.
 * A loop rather than a regular expression with control-character ranges, which linters flag.
 * @internal
 */
export function hasControlCharacter(text: string, allowNewline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return true;
  }
  return false;
}

// Key names MUST NOT contain Unicode spaces or '+'. JavaScript's \s covers Unicode White_Space
// except U+0085, added here.
const SPACE_OR_PLUS = /[\s\u0085+]/u;

/** Whether `name` is a valid note key name (C2SP signed-note "Format"). @internal */
export function isKeyName(name: unknown): name is string {
  return (
    typeof name === "string" &&
    name !== "" &&
    name.isWellFormed() &&
    !SPACE_OR_PLUS.test(name) &&
    !hasControlCharacter(name, false)
  );
}
