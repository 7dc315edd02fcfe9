import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isCountersignError } from "@countersign/protocol";
import { MAX_CALLBACK_URL_LENGTH, parseCallbackUrl } from "./callback-url.ts";

const production = { allowLoopbackHttp: false };
const development = { allowLoopbackHttp: true };

function refused(input: string, options = production): string {
  try {
    parseCallbackUrl(input, options);
  } catch (error) {
    assert.ok(isCountersignError(error, "validation_failed"), String(error));
    assert.deepEqual(error.details?.issues, [{ path: "/callback_url", message: error.message.slice(13, -1) }]);
    return error.message;
  }
  assert.fail(`${JSON.stringify(input)} was accepted`);
}

describe("parseCallbackUrl", () => {
  it("accepts https URLs and returns them normalized", () => {
    assert.equal(
      parseCallbackUrl("HTTPS://Hooks.Example.COM:443/cs/hook?x=1&y=%20", production),
      "https://hooks.example.com/cs/hook?x=1&y=%20",
    );
    assert.equal(parseCallbackUrl("https://hooks.example.com", production), "https://hooks.example.com/");
    assert.equal(parseCallbackUrl("https://93.184.215.14:8443/h", production), "https://93.184.215.14:8443/h");
    assert.equal(parseCallbackUrl("https://bücher.example/h", production), "https://xn--bcher-kva.example/h");
  });

  it("refuses what is not an absolute URL, or is too long", () => {
    assert.match(refused("/relative/path"), /absolute URL/);
    assert.match(refused("hooks.example.com/h"), /absolute URL/);
    assert.match(refused(""), /at most 2048/);
    const long = `https://hooks.example.com/${"a".repeat(MAX_CALLBACK_URL_LENGTH)}`;
    assert.match(refused(long), /at most 2048/);
    // Short enough as written, too long once normalized (each "é" becomes "%C3%A9").
    const growing = `https://hooks.example.com/?${"é".repeat(MAX_CALLBACK_URL_LENGTH / 2)}`;
    assert.match(refused(growing), /at most 2048/);
  });

  it("refuses schemes other than https", () => {
    for (const input of ["http://hooks.example.com/h", "ftp://hooks.example.com/", "javascript:alert(1)", "data:,x"]) {
      assert.match(refused(input), /must use https/, input);
    }
    assert.match(refused("http://hooks.example.com/h", development), /http only to a loopback host/);
  });

  it("takes http to a loopback host only when loopback http is allowed", () => {
    for (const input of [
      "http://127.0.0.1:8080/h",
      "http://[::1]:9/h",
      "http://localhost:3000/h",
      "http://a.localhost/",
    ]) {
      assert.equal(parseCallbackUrl(input, development), new URL(input).href, input);
      assert.match(refused(input), /loopback/, input);
    }
    // The WHATWG parser reads these as 127.0.0.1: refused like it in production.
    assert.match(refused("http://2130706433/h"), /loopback/);
    assert.match(refused("https://0x7f.1/h"), /loopback/);
    assert.equal(parseCallbackUrl("http://0x7f.1:1/h", development), "http://127.0.0.1:1/h");
  });

  it("refuses user info and fragments", () => {
    assert.match(refused("https://user:secret@hooks.example.com/h"), /user info/);
    assert.match(refused("https://token@hooks.example.com/h"), /user info/);
    assert.match(refused("https://hooks.example.com/h#frag"), /fragment/);
    assert.match(refused("https://hooks.example.com/h#"), /fragment/);
  });

  it("refuses spaces and control characters rather than letting the parser drop them", () => {
    assert.match(refused("https://hooks.exa\nmple.com/"), /control characters/);
    assert.match(refused(" https://hooks.example.com/"), /control characters/);
    assert.match(refused("https://hooks.example.com/a\tb"), /control characters/);
  });

  it("refuses IP-literal hosts that are not public, IPv4 and IPv6, mapped or not", () => {
    for (const input of [
      "https://10.0.0.7/h",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.1.1/",
      "https://192.168.0.1/",
      "https://0.0.0.0/",
      "https://224.0.0.1/",
      "https://[fd00::1]/",
      "https://[fe80::1]/",
      "https://[::]/",
      "https://[::ffff:10.0.0.1]/",
      "https://[::ffff:a9fe:a9fe]/",
      "https://[ff02::1]/",
    ]) {
      assert.match(refused(input, development), /private, link-local or reserved/, input);
    }
  });

  it("refuses loopback hosts over https too unless loopback is allowed", () => {
    for (const input of ["https://127.0.0.1/h", "https://[::1]/h", "https://localhost/h", "https://localhost./h"]) {
      assert.match(refused(input), /loopback/, input);
      assert.equal(parseCallbackUrl(input, development), new URL(input).href, input);
    }
  });
});
