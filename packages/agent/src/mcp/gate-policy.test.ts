import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CountersignError } from "@countersign/protocol";
import { fillTemplate, parseGatePolicy } from "./gate-policy.ts";

const invalid = (pattern: RegExp) => (e: unknown) =>
  e instanceof CountersignError && e.code === "validation_failed" && pattern.test(e.message);

describe("parseGatePolicy", () => {
  const policy = parseGatePolicy({
    tools: {
      deploy: { action_type: "mcp.deploy", title: "Deploy {service}", ttl_seconds: 300 },
      "delete_*": { action_type: "mcp.delete" },
      "delete_all*": { action_type: "mcp.delete-all" },
      "*": { action_type: "mcp.any" },
    },
  });

  it("matches an exact name first, then the longest prefix", () => {
    assert.deepEqual(policy.ruleFor("deploy"), {
      actionType: "mcp.deploy",
      title: "Deploy {service}",
      ttlSeconds: 300,
    });
    assert.equal(policy.ruleFor("delete_file")?.actionType, "mcp.delete");
    assert.equal(policy.ruleFor("delete_all_files")?.actionType, "mcp.delete-all");
    assert.equal(policy.ruleFor("read_file")?.actionType, "mcp.any");
  });

  it("passes through tools no rule names", () => {
    assert.equal(parseGatePolicy({ tools: { deploy: { action_type: "mcp.deploy" } } }).ruleFor("echo"), null);
  });

  it("refuses what would silently gate nothing or ask the server for something invalid", () => {
    assert.throws(() => parseGatePolicy([]), invalid(/JSON object/));
    assert.throws(() => parseGatePolicy({ tools: {} }), invalid(/at least one tool/));
    assert.throws(() => parseGatePolicy({ tool: {} }), invalid(/unknown field tool/));
    assert.throws(
      () => parseGatePolicy({ tools: { deploy: { actiontype: "x" } } }),
      invalid(/unknown field actiontype/),
    );
    assert.throws(() => parseGatePolicy({ tools: { deploy: { action_type: "Deploy!" } } }), invalid(/action_type/));
    assert.throws(() => parseGatePolicy({ tools: { "de*ploy": { action_type: "x" } } }), invalid(/prefix ending in/));
    assert.throws(
      () => parseGatePolicy({ tools: { d: { action_type: "x", ttl_seconds: 10 } } }),
      invalid(/ttl_seconds/),
    );
  });
});

describe("fillTemplate", () => {
  it("fills the tool and arguments, keeps unknown placeholders, and cuts to the limit", () => {
    const args = { service: "api", replicas: 3, tags: ["a"] };
    assert.equal(
      fillTemplate("{tool}: {service} ×{replicas} {tags} {missing} {{literal}}", "deploy", args, 120),
      'deploy: api ×3 ["a"] {missing} {literal}',
    );
    assert.equal(
      fillTemplate("Deploy {service}", "deploy", { service: "x".repeat(200) }, 20),
      `Deploy ${"x".repeat(12)}…`,
    );
    assert.equal(fillTemplate("{constructor}", "t", {}, 50), "{constructor}", "only own arguments");
  });
});
