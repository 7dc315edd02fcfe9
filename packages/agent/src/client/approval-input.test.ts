import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CountersignError } from "@countersign/protocol";
import { approvalRequestBody } from "./approval-input.ts";

function issues(input: Parameters<typeof approvalRequestBody>[0]): string[] {
  try {
    approvalRequestBody(input);
  } catch (error) {
    assert.ok(error instanceof CountersignError && error.code === "validation_failed");
    return ((error.details?.issues ?? []) as Array<{ path: string }>).map((issue) => issue.path);
  }
  assert.fail("expected validation_failed");
}

describe("approvalRequestBody", () => {
  it("maps the input to the wire names and leaves out what is not given", () => {
    assert.deepEqual(
      approvalRequestBody({
        actionType: "deploy.production",
        title: "Deploy",
        context: { a: 1 },
        ttlSeconds: 60,
        bindingMessage: "blue",
        callbackUrl: new URL("https://hooks.example.com/x"),
      }),
      {
        action_type: "deploy.production",
        title: "Deploy",
        context: { a: 1 },
        binding_message: "blue",
        ttl_seconds: 60,
        callback_url: "https://hooks.example.com/x",
      },
    );
  });

  it("refuses what the server would refuse, naming every field", () => {
    assert.deepEqual(issues({ actionType: "Deploy", title: "" }), ["/action_type", "/title"]);
    assert.deepEqual(issues({ actionType: "a", title: "t", body: "x".repeat(2001) }), ["/body"]);
    assert.deepEqual(issues({ actionType: "a", title: "t", context: { big: "x".repeat(16 * 1024) } }), ["/context"]);
    assert.deepEqual(issues({ actionType: "a", title: "t", context: [] as unknown as Record<string, unknown> }), [
      "/context",
    ]);
    assert.deepEqual(issues({ actionType: "a", title: "t", ttlSeconds: 29 }), ["/ttl_seconds"]);
    assert.deepEqual(issues({ actionType: "a", title: "t", ttlSeconds: 60.5 }), ["/ttl_seconds"]);
    assert.deepEqual(issues({ actionType: "a", title: "t", bindingMessage: "x".repeat(65) }), ["/binding_message"]);
  });

  it("measures the context in UTF-8 bytes, as the server does", () => {
    // `{"k":""}` is 8 bytes; 5,459 three-byte characters make 16,385, one over the limit; 5,458 fit.
    assert.deepEqual(issues({ actionType: "a", title: "t", context: { k: "€".repeat(5_459) } }), ["/context"]);
    approvalRequestBody({ actionType: "a", title: "t", context: { k: "€".repeat(5_458) } });
  });
});
