import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTickBatcher, createTickBatcherPer, MAX_BATCH } from "./tick-batcher.ts";

describe("the tick batcher", () => {
  it("runs the inputs of one turn together and answers each caller in order", async () => {
    const batches: number[][] = [];
    const double = createTickBatcher<number, number>(async (inputs) => {
      batches.push([...inputs]);
      return inputs.map((n) => n * 2);
    });
    assert.deepEqual(await Promise.all([1, 2, 3].map(double)), [2, 4, 6]);
    assert.deepEqual(await double(5), 10);
    assert.deepEqual(batches, [[1, 2, 3], [5]]);
  });

  it("splits more than MAX_BATCH inputs, and rejects every caller of a failed batch", async () => {
    const sizes: number[] = [];
    const echo = createTickBatcher<number, number>(async (inputs) => {
      sizes.push(inputs.length);
      return inputs;
    });
    await Promise.all(Array.from({ length: MAX_BATCH + 3 }, (_, i) => echo(i)));
    assert.deepEqual(sizes, [MAX_BATCH, 3]);

    const failing = createTickBatcher<number, number>(async () => {
      throw new Error("database went away");
    });
    const results = await Promise.allSettled([failing(1), failing(2)]);
    assert.ok(results.every((r) => r.status === "rejected"));
    const short = createTickBatcher<number, number>(async () => [1]);
    await assert.rejects(Promise.all([short(1), short(2)]), /every input/);
  });
});

describe("the tick batcher gathering microtasks", () => {
  it("cuts the batch once the promise jobs have run, before the turn's other callbacks", async () => {
    const order: string[] = [];
    const batches: number[][] = [];
    const echo = createTickBatcher<number, number>(
      async (inputs) => {
        order.push("batch");
        batches.push([...inputs]);
        return inputs;
      },
      { gather: "microtasks" },
    );
    // An immediate queued first would run before a "turn" batch; this batch must not wait for it.
    const immediate = new Promise<void>((resolve) =>
      setImmediate(() => {
        order.push("immediate");
        resolve();
      }),
    );
    // One synchronous fan-out, and callers a few promise jobs later: all in one batch.
    const late = async (n: number) => {
      await Promise.resolve();
      await Promise.resolve();
      return echo(n);
    };
    const answers = await Promise.all([echo(1), echo(2), late(3), late(4)]);
    await immediate;
    assert.deepEqual(answers, [1, 2, 3, 4]);
    assert.deepEqual(batches, [[1, 2, 3, 4]]);
    assert.deepEqual(order, ["batch", "immediate"]);
  });
});

describe("the tick batcher with maxInFlight", () => {
  it("holds inputs while a batch runs, then sends everything that arrived in one batch", async () => {
    const batches: number[][] = [];
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const echo = createTickBatcher<number, number>(
      async (inputs) => {
        batches.push([...inputs]);
        if (batches.length === 1) await gate;
        return inputs;
      },
      { maxInFlight: 1 },
    );
    const first = echo(1);
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = [2, 3, 4].map(echo);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(batches, [[1]], "nothing else runs while the first batch does");
    release();
    assert.deepEqual(await Promise.all([first, ...waiting]), [1, 2, 3, 4]);
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
  });

  it("refuses a limit below one", () => {
    assert.throws(() => createTickBatcher(async (inputs) => inputs, { maxInFlight: 0 }), RangeError);
  });

  it("keeps one batcher per connection or transaction, so two never share a batch", async () => {
    const runs: string[] = [];
    const label = createTickBatcherPer(async (q: { name: string }, inputs: readonly number[]) => {
      runs.push(`${q.name}: ${inputs.join(",")}`);
      return inputs.map((n) => `${q.name}${n}`);
    });
    const [a, b] = [{ name: "a" }, { name: "b" }];
    assert.deepEqual(await Promise.all([label(a, 1), label(b, 2), label(a, 3)]), ["a1", "b2", "a3"]);
    assert.deepEqual(runs, ["a: 1,3", "b: 2"]);
  });
});
