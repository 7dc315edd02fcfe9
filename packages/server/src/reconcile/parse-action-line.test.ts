import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isBadLine, MAX_LINE_CHARS, parseActionLine } from "./parse-action-line.ts";

const HASH = `sha256:${"ab".repeat(32)}`;

describe("parseActionLine", () => {
  it("reads an action with a receipt, a request id and a hash, keeping every other field", () => {
    const text = JSON.stringify({
      receipt: "eyJ.a.b",
      request_id: "apr_x",
      action_type: "deploy.production",
      executed_at: "2026-11-21T12:03:04Z",
      display_payload_hash: HASH,
      pipeline: { run: 42 },
    });
    const action = parseActionLine(text, 7);
    assert.ok(!isBadLine(action));
    assert.equal(action.line, 7);
    assert.equal(action.receipt, "eyJ.a.b");
    assert.equal(action.requestId, "apr_x");
    assert.equal(action.actionType, "deploy.production");
    assert.equal(action.executedAt, Date.UTC(2026, 10, 21, 12, 3, 4));
    assert.equal(action.displayPayloadHash, HASH);
    assert.deepEqual(action.record.pipeline, { run: 42 });
  });

  it("reads an action that names no approval (the checks report it), null and empty meaning absent", () => {
    const action = parseActionLine(
      '{"action_type":"x","executed_at":"2026-11-21T12:03:04Z","receipt":null,"request_id":""}',
      1,
    );
    assert.ok(!isBadLine(action));
    assert.equal(action.receipt, undefined);
    assert.equal(action.requestId, undefined);
  });

  it("says why a line is not an action", () => {
    const cases: [string, string][] = [
      ["{", "not JSON"],
      ["[1]", "not a JSON object"],
      ["null", "not a JSON object"],
      ['"text"', "not a JSON object"],
      ['{"executed_at":"2026-11-21T12:03:04Z"}', "action_type must be a non-empty string"],
      ['{"action_type":"","executed_at":"2026-11-21T12:03:04Z"}', "action_type must be a non-empty string"],
      ['{"action_type":"x"}', "executed_at must be a string"],
      ['{"action_type":"x","executed_at":1763726584}', "executed_at must be a string"],
      ['{"action_type":"x","executed_at":"2026-11-21T12:03:04"}', "executed_at must be an RFC 3339 date-time"],
      ['{"action_type":"x","executed_at":"2026-11-21T12:03:04Z","receipt":5}', "receipt must be a string"],
      ['{"action_type":"x","executed_at":"2026-11-21T12:03:04Z","request_id":{}}', "request_id must be a string"],
      [
        '{"action_type":"x","executed_at":"2026-11-21T12:03:04Z","display_payload_hash":"sha256:ABC"}',
        "display_payload_hash must be sha256:",
      ],
    ];
    for (const [text, reason] of cases) {
      const result = parseActionLine(text, 1);
      assert.ok(isBadLine(result), text);
      assert.ok(result.reason.startsWith(reason), `${text}: ${result.reason}`);
    }
  });

  it("keeps the record of a JSON line and the start of any other", () => {
    const json = parseActionLine('{"action_type":"x","host":"ci-7"}', 1);
    assert.ok(isBadLine(json));
    assert.deepEqual(json.record, { action_type: "x", host: "ci-7" });
    const text = parseActionLine(`deploy ${"x".repeat(300)}`, 1);
    assert.ok(isBadLine(text));
    assert.equal(text.text?.length, 201);
    const huge = parseActionLine(`{"a":"${"x".repeat(MAX_LINE_CHARS)}"}`, 1);
    assert.ok(isBadLine(huge));
    assert.match(huge.reason, /^longer than/);
  });
});
