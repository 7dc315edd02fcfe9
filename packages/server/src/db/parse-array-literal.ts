/**
 * Parses PostgreSQL's text output of an array (`{1,2,NULL}`, `{"a,b","c\"d"}`, `{{1,2},{3,4}}`,
 * `[0:1]={7,8}`) into nested JS arrays, passing every non-NULL element through `parseElement`.
 * Only comma-delimited arrays are supported (every built-in type except `box`).
 *
 * @example
 * ```ts
 * parseArrayLiteral('{1,NULL,"3"}', Number); // [1, null, 3]
 * ```
 */
export function parseArrayLiteral(text: string, parseElement: (text: string) => unknown): unknown[] {
  let position = 0;
  // A non-default lower bound is printed as a dimension prefix; JS arrays start at 0 regardless.
  if (text.startsWith("[")) {
    position = text.indexOf("=") + 1;
  }

  const fail = (reason: string): never => {
    throw new SyntaxError(`malformed array literal at offset ${position}: ${reason}`);
  };

  const parseQuoted = (): string => {
    position += 1; // opening quote
    let value = "";
    let runStart = position;
    for (;;) {
      const char = text[position];
      if (char === undefined) {
        return fail("unterminated quoted element");
      }
      if (char === '"') {
        value += text.slice(runStart, position);
        position += 1;
        return value;
      }
      if (char === "\\") {
        value += text.slice(runStart, position);
        position += 1;
        if (position >= text.length) {
          return fail("dangling backslash");
        }
        runStart = position;
      }
      position += 1;
    }
  };

  const parseLevel = (): unknown[] => {
    if (text[position] !== "{") {
      return fail("expected '{'");
    }
    position += 1;
    const items: unknown[] = [];
    if (text[position] === "}") {
      position += 1;
      return items;
    }
    for (;;) {
      const char = text[position];
      if (char === "{") {
        items.push(parseLevel());
      } else if (char === '"') {
        items.push(parseElement(parseQuoted()));
      } else {
        const start = position;
        while (position < text.length && text[position] !== "," && text[position] !== "}") {
          position += 1;
        }
        const raw = text.slice(start, position);
        // Only an unquoted NULL is SQL NULL; the string "NULL" is always printed quoted.
        items.push(raw === "NULL" ? null : parseElement(raw));
      }
      if (text[position] === ",") {
        position += 1;
      } else if (text[position] === "}") {
        position += 1;
        return items;
      } else {
        return fail("expected ',' or '}'");
      }
    }
  };

  const result = parseLevel();
  if (position !== text.length) {
    fail("trailing characters");
  }
  return result;
}
