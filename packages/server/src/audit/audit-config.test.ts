import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTestConfig } from "../../test-support/test-app.ts";

describe("the audit log's configuration", () => {
  it("checkpoints every 1,000 entries or 60 seconds and keeps entries forever by default", () => {
    assert.deepEqual(createTestConfig().audit, {
      checkpointEntries: 1_000,
      checkpointSeconds: 60,
      retentionDays: undefined,
    });
  });

  it("reads the checkpoint interval and the retention period from the environment", () => {
    const config = createTestConfig({
      COUNTERSIGN_AUDIT_CHECKPOINT_ENTRIES: "250",
      COUNTERSIGN_AUDIT_CHECKPOINT_SECONDS: "5",
      COUNTERSIGN_AUDIT_RETENTION_DAYS: "400",
    });
    assert.deepEqual(config.audit, { checkpointEntries: 250, checkpointSeconds: 5, retentionDays: 400 });
  });

  it("refuses values out of range, naming each", () => {
    assert.throws(
      () =>
        createTestConfig({
          COUNTERSIGN_AUDIT_CHECKPOINT_ENTRIES: "0",
          COUNTERSIGN_AUDIT_CHECKPOINT_SECONDS: "1h",
          COUNTERSIGN_AUDIT_RETENTION_DAYS: "0",
        }),
      (error: Error) =>
        /COUNTERSIGN_AUDIT_CHECKPOINT_ENTRIES/.test(error.message) &&
        /COUNTERSIGN_AUDIT_CHECKPOINT_SECONDS/.test(error.message) &&
        /COUNTERSIGN_AUDIT_RETENTION_DAYS must be an integer from 1 to 36500/.test(error.message),
    );
  });
});
