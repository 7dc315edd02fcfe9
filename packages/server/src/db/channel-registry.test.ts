import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createChannelRegistry } from "./channel-registry.ts";

function recordingRegistry(options: { failSubscribe?: boolean } = {}) {
  const sql: string[] = [];
  const errors: Error[] = [];
  const registry = createChannelRegistry({
    async subscribe(quoted) {
      sql.push(`LISTEN ${quoted}`);
      if (options.failSubscribe) {
        throw new Error("connection refused");
      }
    },
    async unsubscribe(quoted) {
      sql.push(`UNLISTEN ${quoted}`);
    },
    onError: (error) => errors.push(error),
  });
  return { registry, sql, errors };
}

describe("createChannelRegistry", () => {
  it("LISTENs once per channel and UNLISTENs when the last subscriber leaves", async () => {
    const { registry, sql } = recordingRegistry();
    const stopA = await registry.listen('Odd "name"', () => {});
    const stopB = await registry.listen('Odd "name"', () => {});
    assert.deepEqual(sql, ['LISTEN "Odd ""name"""']);
    await stopA();
    assert.deepEqual(sql, ['LISTEN "Odd ""name"""']);
    await stopB();
    assert.deepEqual(sql, ['LISTEN "Odd ""name"""', 'UNLISTEN "Odd ""name"""']);
    assert.deepEqual(registry.quotedChannels(), []);
  });

  it("keeps calling other subscribers when one throws, and reports the error", async () => {
    const { registry, errors } = recordingRegistry();
    const seen: string[] = [];
    await registry.listen("c", () => {
      throw new Error("bad subscriber");
    });
    await registry.listen("c", (payload) => seen.push(payload));
    registry.dispatch("c", "hello");
    registry.dispatch("other", "ignored");
    assert.deepEqual(seen, ["hello"]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? "", /listener on channel "c" threw/);
    assert.equal((errors[0]?.cause as Error | undefined)?.message, "bad subscriber");
  });

  it("rejects and forgets the channel when LISTEN fails", async () => {
    const { registry } = recordingRegistry({ failSubscribe: true });
    await assert.rejects(
      registry.listen("c", () => {}),
      /cannot LISTEN on channel "c"/,
    );
    assert.deepEqual(registry.quotedChannels(), []);
  });

  it("unsubscribes each listen() call separately, even for the same function", async () => {
    const { registry } = recordingRegistry();
    const seen: string[] = [];
    const callback = (payload: string) => seen.push(payload);
    const stopFirst = await registry.listen("c", callback);
    await registry.listen("c", callback);
    await stopFirst();
    registry.dispatch("c", "x");
    assert.deepEqual(seen, ["x"]);
  });
});
