/** Runs tasks off the caller's path, at most `concurrency` at a time. */
export interface TaskQueue {
  /** Queues `task`; false (and nothing queued) when the queue is full. Never throws. */
  push(task: () => Promise<void>): boolean;
  /** Resolves once nothing is queued or running (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * A bounded, in-process work queue. Pushes are hints on top of the SSE stream and the inbox
 * (DESIGN §4.10): a full queue drops new work rather than grow without bound, and a process
 * that stops loses what is queued, which costs a notification, never a request.
 */
export function createTaskQueue(options: {
  concurrency: number;
  maxQueued: number;
  onError: (error: unknown) => void;
}): TaskQueue {
  const queued: (() => Promise<void>)[] = [];
  let running = 0;
  let waiters: (() => void)[] = [];

  const settle = () => {
    if (running === 0 && queued.length === 0) {
      const done = waiters;
      waiters = [];
      for (const resolve of done) resolve();
    }
  };
  const next = () => {
    while (running < options.concurrency && queued.length > 0) {
      const task = queued.shift() as () => Promise<void>;
      running++;
      // Started on a later turn, so whoever queued it (a commit hook) returns first.
      setImmediate(() => {
        task()
          .catch(options.onError)
          .finally(() => {
            running--;
            next();
            settle();
          });
      });
    }
  };

  return {
    push(task) {
      if (queued.length >= options.maxQueued) return false;
      queued.push(task);
      next();
      return true;
    },
    idle() {
      if (running === 0 && queued.length === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
