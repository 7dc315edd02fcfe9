import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { actionAllowed, isActionType, isAllowedActionPattern } from "./action-types.ts";

describe("action types and allowlist patterns", () => {
  it("accepts action types of the documented alphabet and length only", () => {
    for (const ok of ["deploy", "deploy.production", "db:migrate", "a", "0-day_fix", "x".repeat(64)]) {
      assert.equal(isActionType(ok), true, ok);
    }
    for (const bad of ["", "Deploy", ".deploy", "-x", "x".repeat(65), "deploy prod", "déploy", "deploy.*", "a/b"]) {
      assert.equal(isActionType(bad), false, bad);
    }
  });

  it("accepts exact names and prefix.* patterns, nothing else", () => {
    for (const ok of ["deploy", "deploy.*", "db:migrate", "a.*", `${"x".repeat(62)}.*`]) {
      assert.equal(isAllowedActionPattern(ok), true, ok);
    }
    for (const bad of ["*", ".*", "deploy*", "deploy.**", "*.deploy", "de*ploy", `${"x".repeat(63)}.*`, "Deploy.*"]) {
      assert.equal(isAllowedActionPattern(bad), false, bad);
    }
  });

  it("matches exact names exactly and prefixes only below the dot", () => {
    const patterns = ["deploy.*", "db:migrate"];
    assert.equal(actionAllowed(patterns, "deploy.web"), true);
    assert.equal(actionAllowed(patterns, "deploy.web.eu"), true);
    assert.equal(actionAllowed(patterns, "db:migrate"), true);
    for (const refused of ["deploy", "deploy.", "deployment.web", "db:migrate.x", "db:migrat", "DEPLOY.web", ""]) {
      assert.equal(actionAllowed(patterns, refused), false, refused);
    }
    assert.equal(actionAllowed([], "deploy.web"), false);
  });

  it("never allows an action type that no pattern names (property)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9._:-]{0,20}$/), (action) => {
        assert.equal(actionAllowed([action], action), true);
        assert.equal(actionAllowed([`${action}.*`], action), false);
        assert.equal(actionAllowed([`${action}.*`], `${action}.x`), isActionType(`${action}.x`));
      }),
    );
  });
});
