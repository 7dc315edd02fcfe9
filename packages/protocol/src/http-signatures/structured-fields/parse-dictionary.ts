import { fromBase64 } from "../../encoding/base64.ts";
import type { BareItem, Dictionary, InnerList, Item, Parameters } from "./structured-field-types.ts";

/**
 * A strict parser for RFC 8941 Structured Field dictionaries, written for the fields we
 * authenticate (`Signature-Input`, `Signature`, `Content-Digest`).
 *
 * We do not use the `structured-headers` package here: it decodes byte sequences with `atob`
 * (which accepts missing padding and non-zero pad bits), and it accepts the RFC 9651 Date and
 * Display String types that RFC 8941 fields must refuse.
 *
 * Where RFC 8941 is lenient, this parser is stricter, on purpose, so that two parsers can never
 * read one header two ways:
 * - A repeated dictionary key or parameter key fails parsing; RFC 8941 §4.2.2 and §4.2.3.2 would
 *   let the last one win, while other implementations keep the first.
 * - A byte sequence must be canonical, padded base64; RFC 8941 §4.2.7 only says parsers SHOULD NOT
 *   fail on missing padding or non-zero pad bits, and accepting them makes signatures malleable.
 */
export function parseDictionary(input: string): Dictionary | null {
  if (typeof input !== "string" || !isAscii(input)) return null;
  const parser = new Parser(input);
  try {
    parser.skipSpaces();
    const dictionary = parser.parseDictionary();
    parser.skipSpaces();
    if (!parser.done()) return null;
    return dictionary;
  } catch (error) {
    if (error instanceof ParseFailure) return null;
    throw error;
  }
}

// RFC 8941 §4.2: the field value must convert to ASCII, or parsing fails.
function isAscii(input: string): boolean {
  for (let i = 0; i < input.length; i++) if (input.charCodeAt(i) > 0x7f) return false;
  return true;
}

class ParseFailure extends Error {}

const DIGIT = /^[0-9]$/;
const LCALPHA_OR_STAR = /^[a-z*]$/;
const KEY_CHAR = /^[a-z0-9_\-.*]$/;
const ALPHA_OR_STAR = /^[A-Za-z*]$/;
// RFC 8941 §4.2.6: tchar (RFC 9110 §5.6.2) plus ":" and "/".
const TOKEN_CHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z:/]$/;
const BASE64_CHARS = /^[A-Za-z0-9+/=]*$/;

class Parser {
  private readonly input: string;
  private pos = 0;

  constructor(input: string) {
    this.input = input;
  }

  done(): boolean {
    return this.pos >= this.input.length;
  }

  private peek(): string {
    return this.input.charAt(this.pos);
  }

  private fail(): never {
    throw new ParseFailure();
  }

  skipSpaces(): void {
    while (this.peek() === " ") this.pos++;
  }

  private skipOws(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }

  /** RFC 8941 §4.2.2 Parsing a Dictionary. */
  parseDictionary(): Dictionary {
    const dictionary = new Map<string, Item | InnerList>();
    while (!this.done()) {
      const key = this.parseKey();
      let member: Item | InnerList;
      if (this.peek() === "=") {
        this.pos++;
        member = this.parseItemOrInnerList();
      } else {
        member = { kind: "item", value: { type: "boolean", value: true }, params: this.parseParameters() };
      }
      if (dictionary.has(key)) this.fail();
      dictionary.set(key, member);
      this.skipOws();
      if (this.done()) return dictionary;
      if (this.peek() !== ",") this.fail();
      this.pos++;
      this.skipOws();
      // A trailing comma fails parsing.
      if (this.done()) this.fail();
    }
    return dictionary;
  }

  /** RFC 8941 §4.2.1.1 Parsing an Item or Inner List. */
  private parseItemOrInnerList(): Item | InnerList {
    return this.peek() === "(" ? this.parseInnerList() : this.parseItem();
  }

  /** RFC 8941 §4.2.1.2 Parsing an Inner List. */
  private parseInnerList(): InnerList {
    this.pos++; // "("
    const items: Item[] = [];
    while (!this.done()) {
      this.skipSpaces();
      if (this.peek() === ")") {
        this.pos++;
        return { kind: "inner-list", items, params: this.parseParameters() };
      }
      items.push(this.parseItem());
      const next = this.peek();
      if (next !== " " && next !== ")") this.fail();
    }
    return this.fail();
  }

  /** RFC 8941 §4.2.3 Parsing an Item. */
  private parseItem(): Item {
    const value = this.parseBareItem();
    return { kind: "item", value, params: this.parseParameters() };
  }

  /** RFC 8941 §4.2.3.1 Parsing a Bare Item (RFC 9651's Date and Display String are refused). */
  private parseBareItem(): BareItem {
    const first = this.peek();
    if (first === "-" || DIGIT.test(first)) return this.parseNumber();
    if (first === '"') return this.parseString();
    if (ALPHA_OR_STAR.test(first)) return this.parseToken();
    if (first === ":") return this.parseByteSequence();
    if (first === "?") return this.parseBoolean();
    return this.fail();
  }

  /** RFC 8941 §4.2.3.2 Parsing Parameters. */
  private parseParameters(): Parameters {
    const params: Array<readonly [string, BareItem]> = [];
    while (this.peek() === ";") {
      this.pos++;
      this.skipSpaces();
      const key = this.parseKey();
      let value: BareItem = { type: "boolean", value: true };
      if (this.peek() === "=") {
        this.pos++;
        value = this.parseBareItem();
      }
      if (params.some(([existing]) => existing === key)) this.fail();
      params.push([key, value]);
    }
    return params;
  }

  /** RFC 8941 §4.2.3.3 Parsing a Key. */
  private parseKey(): string {
    if (!LCALPHA_OR_STAR.test(this.peek())) this.fail();
    const start = this.pos;
    while (KEY_CHAR.test(this.peek())) this.pos++;
    return this.input.slice(start, this.pos);
  }

  /** RFC 8941 §4.2.4 Parsing an Integer or Decimal. */
  private parseNumber(): BareItem {
    let type: "integer" | "decimal" = "integer";
    let sign = 1;
    let digits = "";
    if (this.peek() === "-") {
      this.pos++;
      sign = -1;
    }
    if (!DIGIT.test(this.peek())) this.fail();
    while (!this.done()) {
      const char = this.peek();
      if (DIGIT.test(char)) {
        digits += char;
      } else if (type === "integer" && char === ".") {
        if (digits.length > 12) this.fail();
        digits += char;
        type = "decimal";
      } else {
        break;
      }
      this.pos++;
      if (type === "integer" && digits.length > 15) this.fail();
      if (type === "decimal" && digits.length > 16) this.fail();
    }
    if (type === "integer") return { type, value: sign * Number.parseInt(digits, 10) };
    if (digits.endsWith(".")) this.fail();
    if ((digits.split(".")[1] as string).length > 3) this.fail();
    return { type, value: sign * Number.parseFloat(digits) };
  }

  /** RFC 8941 §4.2.5 Parsing a String. */
  private parseString(): BareItem {
    this.pos++; // '"'
    let value = "";
    while (!this.done()) {
      const char = this.input.charAt(this.pos++);
      if (char === "\\") {
        if (this.done()) this.fail();
        const escaped = this.input.charAt(this.pos++);
        if (escaped !== '"' && escaped !== "\\") this.fail();
        value += escaped;
      } else if (char === '"') {
        return { type: "string", value };
      } else {
        const code = char.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) this.fail();
        value += char;
      }
    }
    return this.fail();
  }

  /** RFC 8941 §4.2.6 Parsing a Token. */
  private parseToken(): BareItem {
    const start = this.pos++;
    while (TOKEN_CHAR.test(this.peek())) this.pos++;
    return { type: "token", value: this.input.slice(start, this.pos) };
  }

  /** RFC 8941 §4.2.7 Parsing a Byte Sequence (canonical padded base64 only, see above). */
  private parseByteSequence(): BareItem {
    this.pos++; // ":"
    const end = this.input.indexOf(":", this.pos);
    if (end === -1) this.fail();
    const encoded = this.input.slice(this.pos, end);
    this.pos = end + 1;
    if (!BASE64_CHARS.test(encoded)) this.fail();
    const value = fromBase64(encoded);
    if (value === null) this.fail();
    return { type: "byte-sequence", value };
  }

  /** RFC 8941 §4.2.8 Parsing a Boolean. */
  private parseBoolean(): BareItem {
    this.pos++; // "?"
    const char = this.input.charAt(this.pos++);
    if (char === "1") return { type: "boolean", value: true };
    if (char === "0") return { type: "boolean", value: false };
    return this.fail();
  }
}
