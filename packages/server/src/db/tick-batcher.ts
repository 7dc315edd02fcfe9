/**
 * Coalesces the lookups and writes that concurrent requests make in the same turn of the event
 * loop into one database statement (the "DataLoader" pattern). Under load, one statement and one
 * commit serve many requests, which is what lets the agent pipeline stay close to the speed of
 * the bare signature check (DESIGN §4.12: batch the writes). With one request at a time it adds
 * no waiting: the batch runs as soon as the current turn ends (`setImmediate`).
 *
 * Every caller still gets its own answer, computed from a statement that ran after its request
 * arrived: batching changes how many round trips are made, not how fresh an answer is.
 */
export type TickBatcher<I, O> = (input: I) => Promise<O>;

/** Most inputs in one statement; more wait for the next. */
export const MAX_BATCH = 256;

/** How a batcher runs its batches. */
export interface TickBatcherOptions {
  /**
   * How many batches may run at once (default: no limit). With 1, inputs that arrive while a
   * batch runs wait for it and then go together, like a database's group commit: under load each
   * statement (and each commit) serves many more callers, for about one statement's latency more.
   */
  readonly maxInFlight?: number;
  /**
   * When a batch is cut. "turn" (default): at the end of the event loop's turn (`setImmediate`),
   * so requests whose I/O completes in the same turn share it. "microtasks": as soon as the
   * promise jobs running now have all run (`process.nextTick`), without waiting for the rest of
   * the turn's I/O callbacks: for callers that all ask in one synchronous fan-out, such as the
   * units of a group commit's batch asking on its transaction, whose every wait for the turn's
   * end lengthens the one transaction running at a time. (On bench/approvals under load, a
   * creation batch's insert went out 0.15 ms after its units asked instead of 0.67 ms.)
   */
  readonly gather?: "turn" | "microtasks";
}

/**
 * Builds a batcher around `run`, which takes the inputs gathered in one turn and returns one
 * output per input, in order. A failed `run` rejects every caller of that batch.
 */
export function createTickBatcher<I, O>(
  run: (inputs: readonly I[]) => Promise<readonly O[]>,
  options: TickBatcherOptions = {},
): TickBatcher<I, O> {
  const maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
  const defer = options.gather === "microtasks" ? process.nextTick : setImmediate;
  if (!(maxInFlight >= 1)) throw new RangeError("maxInFlight must be at least 1");
  let queue: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;
  let inFlight = 0;

  const settle = (batch: typeof queue, outputs: readonly O[]) => {
    if (outputs.length !== batch.length) throw new Error("a batch must answer every input");
    batch.forEach((entry, i) => {
      entry.resolve(outputs[i] as O);
    });
  };
  const flush = () => {
    scheduled = false;
    // A running batch's completion schedules the next flush.
    if (inFlight >= maxInFlight || queue.length === 0) return;
    const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH);
    queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH);
    if (queue.length > 0) schedule();
    inFlight++;
    run(batch.map((entry) => entry.input))
      .then(
        (outputs) => settle(batch, outputs),
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      )
      .catch((error: unknown) => {
        for (const entry of batch) entry.reject(error);
      })
      .finally(() => {
        inFlight--;
        if (queue.length > 0) schedule();
      });
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    defer(flush);
  };

  return (input: I) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      schedule();
    });
}

/**
 * A tick batcher per connection or transaction: the inputs asked on one `q` in one turn share a
 * `run`, and never those of another `q` (each transaction's statements must stay its own). The
 * batchers are kept only as long as their `q` is.
 *
 * @example
 * ```ts
 * const insertInTurn = createTickBatcherPer((tx: Queryable, rows: readonly Row[]) => insertAll(tx, rows));
 * await Promise.all(rows.map((row) => insertInTurn(tx, row))); // one statement
 * ```
 */
export function createTickBatcherPer<Q extends object, I, O>(
  run: (q: Q, inputs: readonly I[]) => Promise<readonly O[]>,
  options: TickBatcherOptions = {},
): (q: Q, input: I) => Promise<O> {
  const batchers = new WeakMap<Q, TickBatcher<I, O>>();
  return (q, input) => {
    let batcher = batchers.get(q);
    if (batcher === undefined) {
      batcher = createTickBatcher((inputs: readonly I[]) => run(q, inputs), options);
      batchers.set(q, batcher);
    }
    return batcher(input);
  };
}
