import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseInstant, parseInstantOrDate } from "./parse-instant.ts";

describe("parseInstant", () => {
  it("reads RFC 3339 date-times in UTC and with offsets", () => {
    assert.equal(parseInstant("2026-11-21T12:03:04Z"), Date.UTC(2026, 10, 21, 12, 3, 4));
    assert.equal(parseInstant("2026-11-21T12:03:04.5Z"), Date.UTC(2026, 10, 21, 12, 3, 4, 500));
    assert.equal(parseInstant("2026-11-21T12:03:04.123456789z"), Date.UTC(2026, 10, 21, 12, 3, 4, 123));
    assert.equal(parseInstant("2026-11-21T13:03:04+01:00"), Date.UTC(2026, 10, 21, 12, 3, 4));
    assert.equal(parseInstant("2026-11-21 07:33:04-04:30"), Date.UTC(2026, 10, 21, 12, 3, 4));
    assert.equal(parseInstant("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  });

  it("refuses a missing time zone, a bare date, impossible dates and other text", () => {
    for (const text of [
      "2026-11-21T12:03:04",
      "2026-11-21",
      "2026-02-29T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-11-21T24:00:00Z",
      "2026-11-21T12:60:00Z",
      "2026-11-21T12:00:00+24:00",
      "1969-12-31T23:59:59Z",
      "yesterday",
      "1763726584",
      " 2026-11-21T12:03:04Z",
    ]) {
      assert.equal(parseInstant(text), undefined, text);
    }
  });
});

describe("parseInstantOrDate", () => {
  it("reads a bare date as midnight UTC, and date-times like parseInstant", () => {
    assert.equal(parseInstantOrDate("2026-11-21"), Date.UTC(2026, 10, 21));
    assert.equal(parseInstantOrDate("2026-11-21T00:00:00+02:00"), Date.UTC(2026, 10, 20, 22));
    assert.equal(parseInstantOrDate("2026-13-01"), undefined);
    assert.equal(parseInstantOrDate("21/11/2026"), undefined);
  });
});
