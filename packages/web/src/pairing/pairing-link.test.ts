import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { consumeLinkedPairCode, linkedPairCode, pairingLink, takePairCodeFromFragment } from "./pairing-link.ts";

/** A page's address and history, as much of them as the fragment reader touches. */
function page(href: string) {
  const url = new URL(href);
  const replaced: string[] = [];
  const win = {
    location: {
      get hash() {
        return url.hash;
      },
      get pathname() {
        return url.pathname;
      },
      get search() {
        return url.search;
      },
    },
    history: {
      state: { kept: true },
      replaceState(_state: unknown, _unused: string, next: string) {
        replaced.push(next);
        const moved = new URL(next, url);
        url.hash = moved.hash;
        url.search = moved.search;
        url.pathname = moved.pathname;
      },
    },
  } as unknown as Pick<Window, "location" | "history">;
  return { win, url, replaced };
}

describe("the pairing link", () => {
  it("carries the code in the fragment, which browsers never send to the server", () => {
    const link = new URL(pairingLink("ABCD-EFGH", "https://app.example"));
    assert.equal(link.href, "https://app.example/devices#pair=ABCDEFGH");
    assert.equal(link.search, "", "no query string: it would reach the server and its request log");
    assert.equal(link.pathname, "/devices");
  });

  it("is taken out of the address at once and handed to the pairing form once", () => {
    const { win, url, replaced } = page("https://app.example/devices#pair=ABCDEFGH");
    assert.equal(takePairCodeFromFragment(win), "ABCDEFGH");
    assert.deepEqual(replaced, ["/devices"]);
    assert.equal(url.href, "https://app.example/devices");
    assert.equal(linkedPairCode.value, "ABCDEFGH");
    assert.equal(consumeLinkedPairCode(), "ABCDEFGH");
    assert.equal(consumeLinkedPairCode(), null, "a later visit starts empty");
  });

  it("keeps the path and query of the page and leaves other fragments alone", () => {
    const kept = page("https://app.example/devices?unlock=pair#pair=abcd%20efgh");
    assert.equal(takePairCodeFromFragment(kept.win), "abcd efgh");
    assert.equal(kept.url.href, "https://app.example/devices?unlock=pair");
    consumeLinkedPairCode();

    const other = page("https://app.example/devices#main");
    assert.equal(takePairCodeFromFragment(other.win), null);
    assert.deepEqual(other.replaced, []);
    assert.equal(linkedPairCode.value, null);
  });
});
