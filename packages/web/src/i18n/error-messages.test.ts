import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ERROR_CODES } from "@countersign/protocol";
import { ERROR_MESSAGES } from "./error-messages.ts";

describe("the app's error messages", () => {
  it("has its own message for every coded error, in English, Korean and Japanese", () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !(code in ERROR_MESSAGES));
    assert.deepEqual(missing, [], "add these codes to packages/web/src/i18n/error-messages.ts");
    for (const [code, message] of Object.entries(ERROR_MESSAGES)) {
      for (const lang of ["en", "ko", "ja"] as const) assert.ok(message?.[lang]?.trim(), `${code}.${lang}`);
    }
  });

  it("names no code the registry does not have", () => {
    for (const code of Object.keys(ERROR_MESSAGES)) assert.ok(Object.hasOwn(ERROR_CODES, code), code);
  });
});
