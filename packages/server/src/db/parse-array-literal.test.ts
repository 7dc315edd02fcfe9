import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseArrayLiteral } from "./parse-array-literal.ts";

const asText = (text: string) => text;

describe("parseArrayLiteral", () => {
  it("parses flat, empty and NULL-holding arrays", () => {
    assert.deepEqual(parseArrayLiteral("{1,2,3}", Number), [1, 2, 3]);
    assert.deepEqual(parseArrayLiteral("{}", Number), []);
    assert.deepEqual(parseArrayLiteral("{NULL,7}", Number), [null, 7]);
  });

  it("unescapes quoted elements and keeps a quoted NULL as the string", () => {
    assert.deepEqual(parseArrayLiteral('{"a,b","c\\"d","e\\\\f","NULL","",plain}', asText), [
      "a,b",
      'c"d',
      "e\\f",
      "NULL",
      "",
      "plain",
    ]);
  });

  it("parses nested arrays", () => {
    assert.deepEqual(parseArrayLiteral("{{1,2},{3,NULL}}", Number), [
      [1, 2],
      [3, null],
    ]);
  });

  it("ignores a dimension prefix", () => {
    assert.deepEqual(parseArrayLiteral("[0:1]={7,8}", Number), [7, 8]);
  });

  it("passes elements through the element parser", () => {
    assert.deepEqual(parseArrayLiteral('{"{\\"a\\": 1}",null}', JSON.parse), [{ a: 1 }, null]);
  });

  it("rejects malformed literals", () => {
    assert.throws(() => parseArrayLiteral("1,2", Number), /expected '\{'/);
    assert.throws(() => parseArrayLiteral('{"open', asText), /unterminated/);
    assert.throws(() => parseArrayLiteral("{1,2}x", Number), /trailing/);
    assert.throws(() => parseArrayLiteral("{1", Number), /expected ',' or '\}'/);
  });
});
