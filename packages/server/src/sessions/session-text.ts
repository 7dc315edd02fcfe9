/** Listed user agents are cut to this many characters; the full one is in the sealed data. */
export const LISTED_USER_AGENT_CHARS = 256;

/** At most `max` code points of `text`, never cutting inside a surrogate pair. */
export function cutText(text: string, max: number): string {
  return text.length <= max ? text : Array.from(text).slice(0, max).join("");
}

/**
 * Client-supplied text (a User-Agent, an address) made safe to store and bind into AAD:
 * well-formed, trimmed, at most `max` code points; null when absent or empty.
 */
export function cleanText(value: string | undefined, max: number): string | null {
  if (typeof value !== "string") return null;
  const text = value.toWellFormed().trim();
  return text === "" ? null : cutText(text, max);
}
