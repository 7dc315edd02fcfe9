import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pushTopic } from "./push-topic.ts";

describe("pushTopic (RFC 8030 §5.4)", () => {
  it("uses an approval id as it is", () => {
    assert.equal(pushTopic("apr_3Jq9V1mJ0xN6R8dE2pLkWa"), "apr_3Jq9V1mJ0xN6R8dE2pLkWa");
  });

  it("hashes anything longer than 32 characters or outside base64url to 32 base64url characters", () => {
    for (const id of ["x".repeat(33), "apr.with.dots", "日本"]) {
      const topic = pushTopic(id);
      assert.match(topic, /^[A-Za-z0-9_-]{32}$/);
      assert.equal(pushTopic(id), topic);
    }
    assert.notEqual(pushTopic("x".repeat(33)), pushTopic("x".repeat(34)));
  });
});
