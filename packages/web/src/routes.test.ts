import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { screenFor } from "./routes.ts";

describe("the app's screens by path", () => {
  it("maps each path the server answers with index.html to its screen", () => {
    assert.deepEqual(screenFor("/"), { name: "inbox" });
    for (const name of ["signin", "signup", "recover", "history", "agents", "devices", "settings"]) {
      assert.deepEqual(screenFor(`/${name}`), { name });
    }
    assert.deepEqual(screenFor("/requests/apr_0123456789abcdefghijAB"), {
      name: "request",
      id: "apr_0123456789abcdefghijAB",
    });
  });

  it("opens no request for a malformed id", () => {
    for (const path of ["/requests/", "/requests/apr_short", "/requests/apr_0123456789abcdefghijAB/x", "/v1/me"]) {
      assert.deepEqual(screenFor(path), { name: "not-found" }, path);
    }
  });
});
