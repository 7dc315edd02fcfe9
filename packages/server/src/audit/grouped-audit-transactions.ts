import type { Database, Transaction } from "../db/database.ts";
import type { AuditEvent } from "./audit-event.ts";
import type { AuditLog } from "./audit-log.ts";

/**
 * One unit of audited work: it changes rows through `tx` and returns the audit events that
 * record the change, which are appended for it at the end of the transaction.
 *
 * `last`, when given, runs after the work of every unit in the batch, just before the append:
 * the place for statements that lock rows many concurrent units share (a person's throttle
 * counters). Taken there, those locks are held only across the append and the commit, which
 * serialize batches anyway (the chain's lock), instead of across every later unit's work, which
 * would serialize whole batches behind one another. A batch's late steps start together, in the
 * units' order, so steps that batch per turn share a statement. It may throw to fail its own unit.
 *
 * A unit may instead be all late step (`{ late }`): it does its whole work there and returns its
 * value and events from it, so that every statement it makes can share one with the same
 * statement of the batch's other units (a decision's state change, say, as well as its passkey).
 */
export type AuditedWork<T> = (tx: Transaction) => Promise<EarlyUnit<T> | LateUnit<T>>;

/** A unit whose work ran at once; `last` (see {@link AuditedWork}) may follow. */
export interface EarlyUnit<T> {
  readonly value: T;
  readonly events: readonly AuditEvent[];
  readonly last?: (tx: Transaction) => Promise<void>;
}

/** A unit whose work all runs as a late step (see {@link AuditedWork}). */
export interface LateUnit<T> {
  readonly late: (tx: Transaction) => Promise<{ readonly value: T; readonly events: readonly AuditEvent[] }>;
}

/** What a late step gives back: a late unit's value and events; nothing for an early unit's `last`. */
type LateOutcome = { readonly value: unknown; readonly events: readonly AuditEvent[] } | undefined;

/** Both kinds of unit as one: what is known now, and the late step, if any. */
function asEarly(result: EarlyUnit<unknown> | LateUnit<unknown>): {
  value: unknown;
  events: readonly AuditEvent[];
  last: ((tx: Transaction) => Promise<LateOutcome>) | undefined;
} {
  if ("late" in result) return { value: undefined, events: [], last: result.late };
  const { last } = result;
  return { value: result.value, events: result.events, last: last && (async (tx) => void (await last(tx))) };
}

/** Runs audited work, grouping concurrent units into shared transactions (group commit). */
export interface GroupedAuditTransactions {
  /**
   * Runs `work` in a transaction, possibly shared with other units that arrived at the same
   * time, and appends its events. Resolves once the transaction committed; rejects with the
   * unit's own error (its changes rolled back, the other units unaffected), or with the
   * transaction's error if the shared commit failed (then nothing of any unit was written).
   */
  run<T>(work: AuditedWork<T>, options?: GroupedRunOptions): Promise<T>;
}

/** How a unit is placed in its batch. */
export interface GroupedRunOptions {
  /** Units of a batch run in this key's order (see below); default "". */
  readonly orderKey?: string;
  /**
   * The person whose data key the unit seals under (its rows and its audit events): a batch
   * reads all its units' keys with one statement, alongside its BEGIN, before any unit runs.
   */
  readonly sealsFor?: string;
}

/**
 * A committed transaction of the group commit, for metrics: with one running at a time, the
 * time they take bounds how fast audited writes go (bench/approvals.ts prints them).
 */
export interface GroupCommitReport {
  /** Units it carried (the batch's size; a guarded run counts its failed units too). */
  readonly units: number;
  /** From asking for its connection to its commit, in milliseconds. */
  readonly ms: number;
}

/** How a unit of a batch ended, told to its caller once the batch's transaction is over. */
interface Settled {
  readonly unit: Unit;
  readonly ok: boolean;
  value: unknown;
}

interface Unit {
  readonly work: AuditedWork<unknown>;
  readonly orderKey: string;
  readonly sealsFor: string | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for the audit log. Every append takes the chain's lock and holds it until its
 * transaction commits (T-12), so one request per transaction caps audited writes at one commit
 * at a time — about 1,200/s here (DESIGN §4.12). Under load this runs several units in one
 * transaction instead, then appends all their events with one `appendAll` and commits once: the
 * lock is taken once per batch. A batch first runs without savepoints; should a unit fail, the
 * batch is rolled back and run again with each unit inside its own SAVEPOINT, so that one unit's
 * failure rolls back only that unit. With little load a unit runs alone at once, with no added latency;
 * batches only form while `maxConcurrent` transactions are already running.
 *
 * One at a time by default, on PostgreSQL too: the chain's lock lets only one of them append and
 * commit at once anyway, and a second transaction running meanwhile only waits on it (and on the
 * rows its batch locked late) while holding a connection and a core. Measured with
 * bench/approvals.ts, after the late steps: with 4 at once, 1,377 and 1,543 creations/s, 1,082
 * and 1,289 decisions/s, creation → event p99 40 and 28 ms at 500/s; with 1, 1,900 and 2,045
 * creations/s, 1,393 and 1,383 decisions/s, p99 18 and 21 ms.
 *
 * A unit's `tx.afterCommit` callbacks run only if the unit succeeded and the shared transaction
 * committed. A unit may run more than once (a failed neighbour, a deadlock): it must do all its
 * work through `tx` and compute nothing it cannot compute again.
 *
 * Locks: units of one batch run in the order of their `orderKey`, so two batches that lock rows
 * of the same people take those locks in the same order and cannot deadlock on them; give units
 * that lock per-person rows (throttle counters, passkeys) the person's id as key. Should a
 * deadlock or serialization failure still abort a shared transaction, the batch is run again
 * (its changes were rolled back), up to three times.
 *
 * @example
 * ```ts
 * const grouped = createGroupedAuditTransactions({ db, audit });
 * const row = await grouped.run(async (tx) => {
 *   const row = await insertThing(tx);
 *   return { value: row, events: [{ type: "thing.created", actor, subject: { type: "thing", id: row.id } }] };
 * });
 * ```
 */
export function createGroupedAuditTransactions(deps: {
  db: Database;
  audit: Pick<AuditLog, "appendAll">;
  /**
   * Starts reading the data keys of these people before a batch's transaction begins, and puts
   * them into its memory once it has (`UserDataKeys.prefetchFor`): the read overlaps the BEGIN.
   */
  prefetchDataKeys?: (userIds: readonly string[]) => (tx: Transaction) => Promise<void>;
  /** Units per shared transaction at most. */
  maxBatch?: number;
  /** Transactions in flight at once before units queue up into batches (default 1). */
  maxConcurrent?: number;
  /** Told of every transaction that committed: how many units it carried, and how long it took. */
  onCommitted?: (report: GroupCommitReport) => void;
}): GroupedAuditTransactions {
  const { db, audit } = deps;
  const maxBatch = deps.maxBatch ?? 32;
  const maxConcurrent = deps.maxConcurrent ?? 1;
  const queue: Unit[] = [];
  let running = 0;

  const pump = (): void => {
    while (running < maxConcurrent && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      running += 1;
      void runBatch(batch).finally(() => {
        running -= 1;
        pump();
      });
    }
  };

  async function runBatch(batch: Unit[], attempt = 1, mode: "optimistic" | "guarded" = "optimistic"): Promise<void> {
    if (batch.length === 1) {
      const unit = batch[0] as Unit;
      // Alone too, the unit's key is read alongside the BEGIN (see below).
      const keys = unit.sealsFor === undefined ? undefined : deps.prefetchDataKeys?.([unit.sealsFor]);
      const started = performance.now();
      try {
        const value = await db.transaction(async (tx) => {
          await keys?.(tx);
          const { value, events, last } = asEarly(await unit.work(tx));
          const late = last === undefined ? undefined : await last(tx);
          const all = late === undefined ? events : [...events, ...late.events];
          if (all.length > 0) await audit.appendAll(tx, all);
          return late === undefined ? value : late.value;
        });
        unit.resolve(value);
        deps.onCommitted?.({ units: 1, ms: performance.now() - started });
      } catch (error) {
        unit.reject(error);
      }
      return;
    }

    batch.sort((a, b) => (a.orderKey < b.orderKey ? -1 : a.orderKey > b.orderKey ? 1 : 0));
    // Optimistic first: no SAVEPOINT around each unit, because units rarely fail (a throttle, a
    // bad input) and the two statements per unit cost more than the rare re-run. If one does
    // fail, the whole transaction is rolled back and the batch runs again with a savepoint per
    // unit, so the failure stays that unit's own. Units must be safe to run again anyway: a
    // deadlock re-runs a batch too.
    const guarded = mode === "guarded";
    const settled: Settled[] = [];
    // Read alongside the BEGIN rather than after it: a round trip less in the batch, and batches
    // run one at a time, so their round trips set the pace of every audited write (DESIGN §4.12).
    const sealsFor = guarded ? [] : batch.flatMap((unit) => (unit.sealsFor === undefined ? [] : [unit.sealsFor]));
    const keys = sealsFor.length > 0 ? deps.prefetchDataKeys?.(sealsFor) : undefined;
    const started = performance.now();
    try {
      await db.transaction(async (tx) => {
        const events: AuditEvent[] = [];
        if (!guarded) {
          // All or nothing: a failing unit rolls the whole batch back, so every unit may work
          // on `tx` itself, and share what it memoizes per transaction (data keys) with the
          // others and with the append; its afterCommit callbacks run only if all committed.
          const lasts: { readonly settles: Settled; readonly last: (tx: Transaction) => Promise<LateOutcome> }[] = [];
          try {
            await keys?.(tx);
            for (const unit of batch) {
              const result = asEarly(await unit.work(tx));
              events.push(...result.events);
              const settles: Settled = { unit, ok: true, value: result.value };
              settled.push(settles);
              if (result.last !== undefined) lasts.push({ settles, last: result.last });
            }
            // Started in the units' order, so each takes its first lock in that order, and
            // together, so steps that batch per turn (throttle counting) share one statement.
            // Every step settles before the transaction goes on or rolls back.
            const outcomes = await Promise.allSettled(lasts.map(({ last }) => last(tx)));
            for (const [i, outcome] of outcomes.entries()) {
              if (outcome.status === "rejected") throw outcome.reason;
              const late = outcome.value;
              if (late === undefined) continue;
              events.push(...late.events);
              (lasts[i] as (typeof lasts)[number]).settles.value = late.value;
            }
          } catch (error) {
            throw new UnitFailed(error);
          }
        } else {
          const callbacks: (() => void)[] = [];
          for (const unit of batch) {
            // Each unit in a savepoint of its own, with its own afterCommit list and its own
            // view of the transaction (nothing memoized is shared with a unit rolled back).
            const own: (() => void)[] = [];
            const unitTx: Transaction = {
              query: (sql, params) => tx.query(sql, params),
              exec: (sql) => tx.exec(sql),
              afterCommit: (fn) => {
                own.push(fn);
              },
            };
            await tx.query("SAVEPOINT grouped_unit");
            try {
              const result = asEarly(await unit.work(unitTx));
              // Guarded runs are the rare path (a unit failed): its late step runs right away,
              // inside its savepoint, so a refusal there stays its own.
              const late = result.last === undefined ? undefined : await result.last(unitTx);
              await tx.query("RELEASE SAVEPOINT grouped_unit");
              events.push(...result.events, ...(late?.events ?? []));
              callbacks.push(...own);
              settled.push({ unit, ok: true, value: late === undefined ? result.value : late.value });
            } catch (error) {
              await tx.query("ROLLBACK TO SAVEPOINT grouped_unit");
              await tx.query("RELEASE SAVEPOINT grouped_unit");
              settled.push({ unit, ok: false, value: error });
            }
          }
          for (const fn of callbacks) tx.afterCommit(fn);
        }
        if (events.length > 0) await audit.appendAll(tx, events);
      });
    } catch (error) {
      // A unit failed without a savepoint: nothing was written; run the batch guarded. So too
      // when a unit swallowed a statement's error and left the transaction aborted (25P02), which
      // only shows at the append or the commit: guarded, that unit alone fails.
      if (error instanceof UnitFailed || (!guarded && sqlState(error) === "25P02")) {
        return runBatch(batch, attempt, "guarded");
      }
      // The shared transaction failed (the append or the commit): nothing was written.
      if (attempt < 3 && isRetryable(error)) return runBatch(batch, attempt + 1, mode);
      for (const unit of batch) unit.reject(error);
      return;
    }
    const ms = performance.now() - started;
    for (const { unit, ok, value } of settled) {
      if (ok) unit.resolve(value);
      else unit.reject(value);
    }
    deps.onCommitted?.({ units: batch.length, ms });
  }

  return Object.freeze({
    run<T>(work: AuditedWork<T>, options: GroupedRunOptions = {}): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({
          work: work as AuditedWork<unknown>,
          orderKey: options.orderKey ?? "",
          sealsFor: options.sealsFor,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
        pump();
      });
    },
  });
}

/** A unit of an optimistic batch threw: the batch is rolled back and run again guarded. */
class UnitFailed extends Error {
  constructor(cause: unknown) {
    super("a unit of an optimistic batch failed", { cause });
  }
}

/** Deadlock detected (40P01) or serialization failure (40001): the transaction may simply be run again. */
function isRetryable(error: unknown): boolean {
  const code = sqlState(error);
  return code === "40P01" || code === "40001";
}

function sqlState(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}
