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

// Character classes as bit flags per ASCII code: every request's Signature-Input and Signature
// pass through here, and a table lookup per character costs far less than a regular expression.
const DIGIT = 1;
const LCALPHA_OR_STAR = 2;
const KEY_CHAR = 4;
const ALPHA_OR_STAR = 8;
// RFC 8941 §4.2.6: tchar (RFC 9110 §5.6.2) plus ":" and "/".
const TOKEN_CHAR = 16;
const CLASSES = buildClasses();

function buildClasses(): Uint8Array {
  const table = new Uint8Array(128);
  const mark = (chars: string, flag: number) => {
    for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = (table[chars.charCodeAt(i)] ?? 0) | flag;
  };
  const digits = "0123456789";
  const lower = "abcdefghijklmnopqrstuvwxyz";
  const upper = lower.toUpperCase();
  mark(digits, DIGIT);
  mark(`${lower}*`, LCALPHA_OR_STAR);
  mark(`${lower}${digits}_-.*`, KEY_CHAR);
  mark(`${lower}${upper}*`, ALPHA_OR_STAR);
  mark(`!#$%&'*+-.^_\`|~${digits}${lower}${upper}:/`, TOKEN_CHAR);
  return table;
}

const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

class Parser {
  private readonly input: string;
  private pos = 0;

  constructor(input: string) {
    this.input = input;
  }

  done(): boolean {
    return this.pos >= this.input.length;
  }

  /** The code of the current character; NaN past the end, which matches no class or character. */
  private peek(): number {
    return this.input.charCodeAt(this.pos);
  }

  /** Whether the current character is in class `flag` (the input is known to be ASCII). */
  private is(flag: number): boolean {
    return ((CLASSES[this.input.charCodeAt(this.pos)] ?? 0) & flag) !== 0;
  }

  private fail(): never {
    throw new ParseFailure();
  }

  skipSpaces(): void {
    while (this.peek() === SPACE) this.pos++;
  }

  private skipOws(): void {
    for (let c = this.peek(); c === SPACE || c === TAB; c = this.peek()) this.pos++;
  }

  /** RFC 8941 §4.2.2 Parsing a Dictionary. */
  parseDictionary(): Dictionary {
    const dictionary = new Map<string, Item | InnerList>();
    while (!this.done()) {
      const key = this.parseKey();
      let member: Item | InnerList;
      if (this.peek() === 0x3d /* = */) {
        this.pos++;
        member = this.parseItemOrInnerList();
      } else {
        member = { kind: "item", value: { type: "boolean", value: true }, params: this.parseParameters() };
      }
      if (dictionary.has(key)) this.fail();
      dictionary.set(key, member);
      this.skipOws();
      if (this.done()) return dictionary;
      if (this.peek() !== 0x2c /* , */) this.fail();
      this.pos++;
      this.skipOws();
      // A trailing comma fails parsing.
      if (this.done()) this.fail();
    }
    return dictionary;
  }

  /** RFC 8941 §4.2.1.1 Parsing an Item or Inner List. */
  private parseItemOrInnerList(): Item | InnerList {
    return this.peek() === 0x28 /* ( */ ? this.parseInnerList() : this.parseItem();
  }

  /** RFC 8941 §4.2.1.2 Parsing an Inner List. */
  private parseInnerList(): InnerList {
    this.pos++; // "("
    const items: Item[] = [];
    while (!this.done()) {
      this.skipSpaces();
      if (this.peek() === 0x29 /* ) */) {
        this.pos++;
        return { kind: "inner-list", items, params: this.parseParameters() };
      }
      items.push(this.parseItem());
      const next = this.peek();
      if (next !== SPACE && next !== 0x29) this.fail();
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
    if (first === 0x2d /* - */ || this.is(DIGIT)) return this.parseNumber();
    if (first === QUOTE) return this.parseString();
    if (this.is(ALPHA_OR_STAR)) return this.parseToken();
    if (first === 0x3a /* : */) return this.parseByteSequence();
    if (first === 0x3f /* ? */) return this.parseBoolean();
    return this.fail();
  }

  /** RFC 8941 §4.2.3.2 Parsing Parameters. */
  private parseParameters(): Parameters {
    const params: Array<readonly [string, BareItem]> = [];
    while (this.peek() === 0x3b /* ; */) {
      this.pos++;
      this.skipSpaces();
      const key = this.parseKey();
      let value: BareItem = { type: "boolean", value: true };
      if (this.peek() === 0x3d /* = */) {
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
    if (!this.is(LCALPHA_OR_STAR)) this.fail();
    const start = this.pos;
    while (this.is(KEY_CHAR)) this.pos++;
    return this.input.slice(start, this.pos);
  }

  /**
   * RFC 8941 §4.2.4 Parsing an Integer or Decimal. The digits (and the one dot) are contiguous,
   * so `input_number` is a slice of the input rather than built character by character.
   */
  private parseNumber(): BareItem {
    let sign = 1;
    if (this.peek() === 0x2d /* - */) {
      this.pos++;
      sign = -1;
    }
    if (!this.is(DIGIT)) this.fail();
    const start = this.pos;
    let dot = -1;
    while (!this.done()) {
      if (this.is(DIGIT)) {
        this.pos++;
      } else if (dot === -1 && this.peek() === 0x2e /* . */) {
        if (this.pos - start > 12) this.fail();
        dot = this.pos++;
      } else {
        break;
      }
      const length = this.pos - start;
      if (dot === -1 && length > 15) this.fail();
      if (dot !== -1 && length > 16) this.fail();
    }
    const digits = this.input.slice(start, this.pos);
    if (dot === -1) return { type: "integer", value: sign * Number.parseInt(digits, 10) };
    const fraction = this.pos - dot - 1;
    if (fraction === 0 || fraction > 3) this.fail();
    return { type: "decimal", value: sign * Number.parseFloat(digits) };
  }

  /** RFC 8941 §4.2.5 Parsing a String: runs without escapes are copied as slices. */
  private parseString(): BareItem {
    this.pos++; // '"'
    let value = "";
    let run = this.pos;
    while (!this.done()) {
      const code = this.input.charCodeAt(this.pos);
      if (code === BACKSLASH) {
        value += this.input.slice(run, this.pos);
        this.pos++;
        if (this.done()) this.fail();
        const escaped = this.input.charCodeAt(this.pos++);
        if (escaped !== QUOTE && escaped !== BACKSLASH) this.fail();
        value += String.fromCharCode(escaped);
        run = this.pos;
      } else if (code === QUOTE) {
        value += this.input.slice(run, this.pos++);
        return { type: "string", value };
      } else {
        if (code < 0x20 || code > 0x7e) this.fail();
        this.pos++;
      }
    }
    return this.fail();
  }

  /** RFC 8941 §4.2.6 Parsing a Token. */
  private parseToken(): BareItem {
    const start = this.pos++;
    while (this.is(TOKEN_CHAR)) this.pos++;
    return { type: "token", value: this.input.slice(start, this.pos) };
  }

  /**
   * RFC 8941 §4.2.7 Parsing a Byte Sequence (canonical padded base64 only, see above).
   * `fromBase64` refuses any character outside the base64 alphabet and any misplaced "=".
   */
  private parseByteSequence(): BareItem {
    this.pos++; // ":"
    const end = this.input.indexOf(":", this.pos);
    if (end === -1) this.fail();
    const encoded = this.input.slice(this.pos, end);
    this.pos = end + 1;
    const value = fromBase64(encoded);
    if (value === null) this.fail();
    return { type: "byte-sequence", value };
  }

  /** RFC 8941 §4.2.8 Parsing a Boolean. */
  private parseBoolean(): BareItem {
    this.pos++; // "?"
    const char = this.input.charCodeAt(this.pos++);
    if (char === 0x31 /* 1 */) return { type: "boolean", value: true };
    if (char === 0x30 /* 0 */) return { type: "boolean", value: false };
    return this.fail();
  }
}
