import { type Clock, systemClock } from "../clock.ts";
import type { Config } from "../config/config.ts";
import type { Database } from "../db/database.ts";
import { createAuditLogSigner } from "./audit-log-signer.ts";
import { type CheckpointOutcome, createCheckpoint } from "./create-checkpoint.ts";

/** What {@link startAuditCheckpointer} needs. */
export interface AuditCheckpointerDeps {
  readonly db: Database;
  readonly config: Pick<Config, "publicUrl" | "secrets" | "audit">;
  readonly clock?: Clock;
  /** How often to look whether a checkpoint is due; default 1 s (a cheap indexed read). */
  readonly intervalMs?: number;
  /** Receives failed runs (a run that fails changes nothing; the next one retries). */
  readonly onError?: (error: Error) => void;
}

/** A running checkpointer. */
export interface AuditCheckpointer {
  /** Runs one check now (a checkpoint if one is due) and resolves with what it did. */
  runNow(): Promise<CheckpointOutcome>;
  /** Stops the timer and waits for a run in progress. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Signs checkpoints in the background (DESIGN §4.8): every `intervalMs` it checks whether
 * `config.audit.checkpointEntries` entries or `config.audit.checkpointSeconds` seconds are
 * waiting, and if so extends the Merkle tree and signs. Every server process may run one; the
 * tree lock lets one of them work while the others skip.
 *
 * @example
 * ```ts
 * const checkpointer = await startAuditCheckpointer({ db, config, onError: (err) => log.warn({ err }) });
 * // on shutdown, before db.close():
 * await checkpointer.stop();
 * ```
 */
export async function startAuditCheckpointer(deps: AuditCheckpointerDeps): Promise<AuditCheckpointer> {
  const intervalMs = deps.intervalMs ?? 1_000;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 10) throw new RangeError("intervalMs must be an integer ≥ 10");
  const signer = await createAuditLogSigner(deps.config);
  const clock = deps.clock ?? systemClock;
  const onError = deps.onError ?? ((error: Error) => console.error(`[countersign audit] ${error.message}`));
  const policy = {
    everyEntries: deps.config.audit.checkpointEntries,
    everySeconds: deps.config.audit.checkpointSeconds,
  };
  let running: Promise<CheckpointOutcome> | undefined;
  let stopped = false;

  const runNow = (): Promise<CheckpointOutcome> => {
    // One run at a time in this process; a caller during a run shares its outcome.
    running ??= createCheckpoint(deps.db, { signer, policy, clock }).finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => {
    if (stopped || running !== undefined) return;
    runNow().catch((error: unknown) => onError(error instanceof Error ? error : new Error(String(error))));
  }, intervalMs);
  timer.unref();

  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
