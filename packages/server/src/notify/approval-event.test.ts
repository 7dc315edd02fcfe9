import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APPROVAL_STATUSES } from "@countersign/protocol";
import { parseApprovalEvent } from "./approval-event.ts";
import { sampleApprovalEvent, testId } from "./test-support/event-fixtures.ts";

describe("parseApprovalEvent", () => {
  it("accepts a well-formed event of every type and status", () => {
    for (const type of ["approval.created", "approval.updated"] as const) {
      for (const status of APPROVAL_STATUSES) {
        const event = sampleApprovalEvent(7, { type, status });
        assert.deepEqual(parseApprovalEvent(event), event);
      }
    }
  });

  it("accepts what JSON.stringify made of an event", () => {
    const event = sampleApprovalEvent(3);
    assert.deepEqual(parseApprovalEvent(JSON.parse(JSON.stringify(event))), event);
  });

  it("returns a fresh object with the known fields only", () => {
    const input = { ...sampleApprovalEvent(1), added: "by a newer version", __proto__: { polluted: true } };
    const parsed = parseApprovalEvent(input);
    assert.notEqual(parsed, input);
    assert.deepEqual(Object.keys(parsed ?? {}).sort(), ["agentId", "approvalId", "at", "status", "type", "userId"]);
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.equal((parsed as unknown as { polluted?: unknown }).polluted, undefined);
  });

  it("refuses values that are not an object", () => {
    for (const value of [null, undefined, 1, "event", true, [sampleApprovalEvent(1)]]) {
      assert.equal(parseApprovalEvent(value), null, JSON.stringify(value));
    }
  });

  it("refuses a missing or malformed field", () => {
    const bad: [string, unknown][] = [
      ["type", undefined],
      ["type", "approval.deleted"],
      ["status", "approved "],
      ["status", "PENDING"],
      ["approvalId", testId("usr", 1)],
      ["approvalId", `${testId("apr", 1)}x`],
      ["approvalId", testId("apr", 1).slice(0, -1)],
      ["approvalId", `apr_${"a".repeat(21)}=`], // 22 characters, one outside base64url
      ["approvalId", `${testId("apr", 1)}\n`],
      ["userId", testId("agt", 1)],
      ["userId", 42],
      ["agentId", testId("apr", 1)],
      ["agentId", undefined],
      ["at", "1700000000000"],
      ["at", 1.5],
      ["at", -1],
      ["at", Number.NaN],
      ["at", Number.POSITIVE_INFINITY],
      ["at", 2 ** 53],
    ];
    for (const [field, value] of bad) {
      const event: Record<string, unknown> = { ...sampleApprovalEvent(1) };
      if (value === undefined) delete event[field];
      else event[field] = value;
      assert.equal(parseApprovalEvent(event), null, `${field} = ${String(value)}`);
    }
  });
});
