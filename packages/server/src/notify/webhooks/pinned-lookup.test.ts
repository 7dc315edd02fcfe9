import assert from "node:assert/strict";
import type { LookupAddress } from "node:dns";
import { describe, it } from "node:test";
import { pinnedLookup } from "./pinned-lookup.ts";

function ask(lookup: ReturnType<typeof pinnedLookup>, options: object) {
  return new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>(
    (resolve) => lookup("anything.example", options, (err, address, family) => resolve({ err, address, family })),
  );
}

describe("pinnedLookup", () => {
  const addresses = [
    { address: "2606:4700::1", family: 6 as const },
    { address: "93.184.215.14", family: 4 as const },
  ];

  it("answers any name with the first vetted address, or all of them when asked", async () => {
    const lookup = pinnedLookup(addresses);
    assert.deepEqual(await ask(lookup, {}), { err: null, address: "2606:4700::1", family: 6 });
    assert.deepEqual(await ask(lookup, { all: true }), { err: null, address: addresses, family: undefined });
  });

  it("honours a requested family, and fails rather than answer outside the vetted set", async () => {
    const lookup = pinnedLookup(addresses);
    assert.deepEqual(await ask(lookup, { family: 4 }), { err: null, address: "93.184.215.14", family: 4 });
    const only4 = pinnedLookup([addresses[1] as (typeof addresses)[number]]);
    const answer = await ask(only4, { family: 6 });
    assert.equal(answer.err?.code, "ENOTFOUND");
    assert.throws(() => pinnedLookup([]), RangeError);
  });
});
