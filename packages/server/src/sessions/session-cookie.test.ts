import assert from "node:assert/strict";
import { createHmac, createSecretKey } from "node:crypto";
import { describe, it } from "node:test";
import { fromBase64Url, toBase64Url } from "@countersign/protocol";
import {
  clearSessionSetCookie,
  readSessionCookie,
  SESSION_COOKIE_NAME,
  sessionCookieValue,
  sessionSetCookie,
  verifySessionCookieValue,
} from "./session-cookie.ts";

const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const key = createSecretKey(keyBytes);
const id = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

describe("the session cookie", () => {
  it("is <base64url id>.<base64url HMAC-SHA-256(key, id)>", () => {
    const value = sessionCookieValue(key, id);
    const [idPart, macPart] = value.split(".");
    assert.equal(idPart, toBase64Url(id));
    assert.equal(macPart, createHmac("sha256", keyBytes).update(id).digest("base64url"));
    assert.match(value, /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(verifySessionCookieValue(key, value), id);
  });

  it("refuses a value whose MAC, id or key was changed", () => {
    const value = sessionCookieValue(key, id);
    const [idPart = "", macPart = ""] = value.split(".");
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
    assert.equal(verifySessionCookieValue(key, `${idPart}.${flip(macPart, 5)}`), null, "MAC changed");
    assert.equal(verifySessionCookieValue(key, `${flip(idPart, 5)}.${macPart}`), null, "id changed");
    const otherKey = createSecretKey(Uint8Array.from(keyBytes, (b) => b ^ 1));
    assert.equal(verifySessionCookieValue(otherKey, value), null, "another server's key");
  });

  it("refuses malformed and non-canonical values", () => {
    const value = sessionCookieValue(key, id);
    const [idPart = "", macPart = ""] = value.split(".");
    // 43 base64url characters carry 258 bits for 256: the last one has 2 unused bits, so a
    // character differing only there decodes to the same bytes, and must still be refused.
    const last = macPart.at(-1) ?? "";
    const bytes = fromBase64Url(macPart);
    assert.ok(bytes);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] ?? "";
    for (const bad of [
      "",
      idPart,
      `${idPart}.`,
      `${idPart}.${macPart}.x`,
      `${idPart}=.${macPart}`,
      `${idPart}.${macPart.slice(0, -1)}${sibling}`,
      `${idPart.slice(1)}.${macPart}`,
      ` ${value}`,
    ]) {
      assert.equal(verifySessionCookieValue(key, bad), null, JSON.stringify(bad));
    }
  });

  it("is set with Secure, HttpOnly, SameSite=Strict, Path=/, no Domain (RFC 6265bis __Host- prefix)", () => {
    const header = sessionSetCookie(sessionCookieValue(key, id), 43_200);
    assert.ok(header.startsWith(`${SESSION_COOKIE_NAME}=`));
    const attributes = header.split("; ").slice(1);
    assert.deepEqual(
      new Set(attributes),
      new Set(["Path=/", "Secure", "HttpOnly", "SameSite=Strict", "Max-Age=43200"]),
    );
    assert.doesNotMatch(header, /domain=/i);
  });

  it("is cleared with Max-Age=0 and the same attributes", () => {
    assert.equal(clearSessionSetCookie(), "__Host-cs_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
  });

  it("is read from a Cookie header among others, and not when it appears twice", () => {
    assert.equal(readSessionCookie(undefined), null);
    assert.equal(readSessionCookie("a=1; b=2"), null);
    assert.equal(readSessionCookie("a=1; __Host-cs_session=abc.def; b=2"), "abc.def");
    assert.equal(readSessionCookie("__Host-cs_session=abc.def"), "abc.def");
    assert.equal(readSessionCookie("__Host-cs_session=abc.def; __Host-cs_session=ghi.jkl"), null);
    assert.equal(readSessionCookie("cs_session=abc.def; __host-cs_session=x"), null, "the name is case-sensitive");
  });
});
