import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bigNumber } from "./big-number.ts";

describe("bigNumber", () => {
  it("draws six digits five rows high, in two groups of three", () => {
    const rows = bigNumber("123456", "#").split("\n");
    assert.deepEqual(rows, [
      "  ####    ######  ######      ##  ##  ######  ######",
      "    ##        ##      ##      ##  ##  ##      ##",
      "    ##    ######  ######      ######  ######  ######",
      "    ##    ##          ##          ##      ##  ##  ##",
      "  ######  ######  ######          ##  ######  ######",
      "",
    ]);
    assert.ok(bigNumber("000000").includes("██"), "solid blocks by default");
  });

  it("refuses anything but six digits", () => {
    for (const bad of ["12345", "1234567", "12345a", ""]) assert.throws(() => bigNumber(bad), TypeError);
  });
});
