import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { browserLang } from "./browser-lang.ts";

describe("the language the app starts in", () => {
  it("follows the first of the browser's languages it speaks", () => {
    assert.equal(browserLang(["ko-KR", "en-US"]), "ko");
    assert.equal(browserLang(["fr-FR", "ja", "en"]), "ja");
    assert.equal(browserLang(["EN-gb"]), "en");
  });

  it("falls back to English", () => {
    assert.equal(browserLang(["fr", "de-CH"]), "en");
    assert.equal(browserLang([]), "en");
  });
});
