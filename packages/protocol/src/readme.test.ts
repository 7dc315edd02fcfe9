import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import * as protocol from "./index.ts";

describe("the package README", () => {
  it("names only functions and constants the package exports", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    // Every `identifier` in backticks, bar the platform's own types.
    const named = [...readme.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((match) => match[1] as string);
    const missing = named.filter((name) => name !== "Uint8Array" && !(name in protocol));
    assert.ok(named.length >= 10, "the README names the package's functions");
    assert.deepEqual(missing, []);
  });
});
