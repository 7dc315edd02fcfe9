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

/**
 * Builds a batcher around `run`, which takes the inputs gathered in one turn and returns one
 * output per input, in order. A failed `run` rejects every caller of that batch.
 */
export function createTickBatcher<I, O>(run: (inputs: readonly I[]) => Promise<readonly O[]>): TickBatcher<I, O> {
  let queue: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const batch = queue.slice(0, MAX_BATCH);
    queue = queue.slice(MAX_BATCH);
    if (queue.length > 0) schedule();
    run(batch.map((entry) => entry.input))
      .then(
        (outputs) => {
          if (outputs.length !== batch.length) throw new Error("a batch must answer every input");
          batch.forEach((entry, i) => {
            entry.resolve(outputs[i] as O);
          });
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      )
      .catch((error: unknown) => {
        for (const entry of batch) entry.reject(error);
      });
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return (input: I) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      schedule();
    });
}
