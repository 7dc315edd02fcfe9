import { utf8 } from "@countersign/protocol";
import { type Clock, systemClock } from "../../clock.ts";
import type { Config, SigningJwk } from "../../config/config.ts";
import type { Database } from "../../db/database.ts";
import { parseCallbackUrl } from "./callback-url.ts";
import type { WebhookEventType } from "./webhook-payload.ts";
import { webhookRetryDelayMs } from "./webhook-retry-delay.ts";
import { createWebhookSigner } from "./webhook-signer.ts";
import { createWebhookTransport, type WebhookAttemptResult, type WebhookTransport } from "./webhook-transport.ts";

/** Where the dispatcher reports (pino's and Fastify's loggers fit). */
export interface WebhookLogger {
  warn(details: object, message: string): void;
  debug(details: object, message: string): void;
}

/** What {@link createWebhookDispatcher} needs. */
export interface WebhookDispatcherDeps {
  readonly db: Database;
  readonly config: Pick<Config, "webhooks">;
  /** The key webhooks are signed with: `config.secrets.signingKeys[0]`. */
  readonly signingKey: SigningJwk;
  /** Decides when rows are due and what `created` signatures carry; the system clock by default. */
  readonly clock?: Clock;
  /** Sends attempts; by default over node:http(s) with the SSRF checks (`createWebhookTransport`). */
  readonly transport?: WebhookTransport;
  readonly log?: WebhookLogger;
  /** Jitter source, uniform in [0, 1); `Math.random` by default. */
  readonly random?: () => number;
  /** How often an idle dispatcher looks for due rows; 1 s by default. */
  readonly pollIntervalMs?: number;
  /** Attempts in flight at once in this process; 8 by default. */
  readonly concurrency?: number;
  /** How long `stop()` waits for attempts in flight before aborting them; the attempt timeout + 1 s by default. */
  readonly stopTimeoutMs?: number;
}

/** A webhook dispatcher: sends the outbox's due rows in the background. */
export interface WebhookDispatcher {
  /**
   * Starts polling (and sends whatever is due now); `log` replaces the logger given at creation.
   * Idempotent; a stopped dispatcher stays stopped.
   */
  start(options?: { log?: WebhookLogger }): void;
  /** Looks for due rows now instead of at the next poll: call it after an enqueue commits. */
  kick(): void;
  /**
   * Claims and sends every row due at the clock's now, waits for the outcomes, and resolves with
   * the number of attempts made. For tests and one-shot tools; independent of `start()`.
   */
  runOnce(): Promise<number>;
  /** Stops polling and waits for attempts in flight, aborting them after `stopTimeoutMs`. Idempotent. */
  stop(): Promise<void>;
}

interface ClaimedRow {
  id: string;
  url: string;
  event_type: WebhookEventType;
  body: string;
  attempts: number;
}

type Outcome =
  | { kind: "delivered"; status: number }
  | { kind: "retry"; status: number | null; error: string }
  | { kind: "failed"; status: number | null; error: string };

// A claimed row's lease: long enough for the attempt (its timeout) plus signing and recording.
// A process that dies mid-attempt leaves the row due again once the lease runs out.
const LEASE_MARGIN_MS = 30_000;
const SILENT_DEBUG = () => {};

/**
 * The webhook dispatcher (DESIGN §4.4, issue 6 part 6). Every server process may run one; they
 * share the `webhook_deliveries` outbox:
 *
 * 1. claim: one short transaction takes up to `concurrency` due pending rows with
 *    `FOR UPDATE SKIP LOCKED` (other dispatchers skip them instead of waiting), counts the
 *    attempt and pushes `next_attempt_at` forward as a lease, then commits;
 * 2. send, outside any transaction: re-check the URL (`parseCallbackUrl`), sign afresh, send with
 *    the SSRF-safe transport, never following redirects;
 * 3. record the outcome, guarded by the claimed attempt number so a dispatcher whose lease ran
 *    out cannot overwrite a newer claim: a 2xx is `delivered`; anything else (another status, a
 *    timeout, a refused address, a connection error) is retried after
 *    `webhookRetryDelayMs(attempts)` until `config.webhooks.maxAttempts`, then `failed`. A URL
 *    that no longer passes `parseCallbackUrl` (say, loopback http in production) fails at once.
 *
 * Delivery is at least once: a process that dies between the receiver's 2xx and the record sends
 * again after the lease. Receivers dedupe on `delivery_id` (docs/webhooks.md).
 */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const { db, config } = deps;
  const { maxAttempts, timeoutMs, allowLoopbackHttp } = config.webhooks;
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;
  const concurrency = deps.concurrency ?? 8;
  const stopTimeoutMs = deps.stopTimeoutMs ?? timeoutMs + 1_000;
  for (const [name, value, min] of [
    ["pollIntervalMs", pollIntervalMs, 10],
    ["concurrency", concurrency, 1],
    ["stopTimeoutMs", stopTimeoutMs, 0],
    ["maxAttempts", maxAttempts, 1],
    ["timeoutMs", timeoutMs, 1],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}`);
  }
  const signer = createWebhookSigner(deps.signingKey);
  const transport = deps.transport ?? createWebhookTransport({ allowLoopback: allowLoopbackHttp });
  let log: WebhookLogger = deps.log ?? {
    warn: (details, message) => console.warn(`[countersign webhooks] ${message}`, details),
    debug: SILENT_DEBUG,
  };
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let claiming: Promise<void> | undefined;
  let claimAgain = false;

  async function claim(limit: number): Promise<ClaimedRow[]> {
    const now = clock.now();
    const { rows } = await db.transaction((tx) =>
      tx.query<ClaimedRow>(
        `WITH due AS (
           SELECT id FROM webhook_deliveries
           WHERE status = 'pending' AND next_attempt_at <= $1
           ORDER BY next_attempt_at
           LIMIT $3
           FOR UPDATE SKIP LOCKED
         )
         UPDATE webhook_deliveries AS w
         SET attempts = w.attempts + 1, next_attempt_at = $2
         FROM due WHERE w.id = due.id
         RETURNING w.id, w.url, w.event_type, w.body, w.attempts`,
        [new Date(now), new Date(now + timeoutMs + LEASE_MARGIN_MS), limit],
      ),
    );
    return rows;
  }

  async function attempt(row: ClaimedRow): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await send(row);
    } catch (err) {
      // Signing or URL handling threw: not the receiver's fault, but retried all the same.
      log.warn({ err, deliveryId: row.id }, "webhook attempt failed unexpectedly");
      outcome = { kind: "retry", status: null, error: "internal error before sending" };
    }
    if (outcome.kind === "retry" && row.attempts >= maxAttempts) outcome = { ...outcome, kind: "failed" };
    try {
      await record(row, outcome);
    } catch (err) {
      // The lease runs out and another attempt follows: at least once, never lost.
      log.warn({ err, deliveryId: row.id }, "recording a webhook attempt failed");
      return;
    }
    const details = { deliveryId: row.id, attempts: row.attempts, status: outcome.status };
    if (outcome.kind === "failed") {
      // No URL in the log: callback URLs may carry the receiver's tokens.
      log.warn({ ...details, error: outcome.error }, "webhook given up");
    } else {
      log.debug(outcome.kind === "retry" ? { ...details, error: outcome.error } : details, `webhook ${outcome.kind}`);
    }
  }

  async function send(row: ClaimedRow): Promise<Outcome> {
    let url: URL;
    try {
      url = new URL(parseCallbackUrl(row.url, { allowLoopbackHttp }));
    } catch {
      return { kind: "failed", status: null, error: "callback URL refused by the current rules" };
    }
    const body = utf8(row.body);
    const headers = await signer.headers({
      url,
      body,
      deliveryId: row.id,
      eventType: row.event_type,
      created: Math.floor(clock.now() / 1000),
    });
    const result: WebhookAttemptResult = await transport({ url, headers, body, timeoutMs, signal: stopping.signal });
    if (!result.ok) return { kind: "retry", status: null, error: result.error };
    if (result.status >= 200 && result.status <= 299) return { kind: "delivered", status: result.status };
    const redirect = result.status >= 300 && result.status <= 399 ? " (redirects are not followed)" : "";
    return { kind: "retry", status: result.status, error: `HTTP ${result.status}${redirect}` };
  }

  async function record(row: ClaimedRow, outcome: Outcome): Promise<void> {
    const now = clock.now();
    const status = outcome.status !== null && outcome.status >= 100 && outcome.status <= 999 ? outcome.status : null;
    // `attempts = $2` is the claim token: if the lease ran out and another dispatcher claimed the
    // row since, this outcome is stale and changes nothing.
    if (outcome.kind === "delivered") {
      await db.query(
        `UPDATE webhook_deliveries
         SET status = 'delivered', delivered_at = $3, next_attempt_at = NULL, last_status = $4, last_error = NULL
         WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
        [row.id, row.attempts, new Date(now), status],
      );
      return;
    }
    const next = outcome.kind === "failed" ? null : new Date(now + webhookRetryDelayMs(row.attempts, random));
    await db.query(
      `UPDATE webhook_deliveries
       SET status = $3, next_attempt_at = $4, last_status = $5, last_error = $6
       WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      [
        row.id,
        row.attempts,
        outcome.kind === "failed" ? "failed" : "pending",
        next,
        status,
        outcome.error.slice(0, 200),
      ],
    );
  }

  function track(work: Promise<void>): void {
    inFlight.add(work);
    const done = () => {
      inFlight.delete(work);
      pump();
    };
    work.then(done, done);
  }

  /** Fills free slots with due rows; one claim at a time, and again if a kick came meanwhile. */
  function pump(): void {
    if (!started || stopped) return;
    if (claiming !== undefined) {
      claimAgain = true;
      return;
    }
    claiming = (async () => {
      do {
        claimAgain = false;
        const free = concurrency - inFlight.size;
        if (free <= 0) return; // a finishing attempt pumps again
        const rows = await claim(free);
        for (const row of rows) track(attempt(row));
        // A full batch suggests more are due; the next round finds out (and stops at zero slots).
        if (rows.length === free) claimAgain = true;
      } while (claimAgain && !stopped);
    })()
      .catch((err: unknown) => log.warn({ err }, "claiming webhooks failed; retrying at the next poll"))
      .finally(() => {
        claiming = undefined;
      });
  }

  return {
    start(options = {}) {
      if (started || stopped) return;
      if (options.log !== undefined) log = options.log;
      started = true;
      timer = setInterval(pump, pollIntervalMs);
      timer.unref();
      pump();
    },
    kick() {
      pump();
    },
    async runOnce() {
      let count = 0;
      for (;;) {
        const rows = await claim(concurrency);
        if (rows.length === 0) return count;
        count += rows.length;
        await Promise.all(rows.map(attempt));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await claiming;
      const settled = Promise.allSettled([...inFlight]).then(() => true);
      if (!(await Promise.race([settled, delay(stopTimeoutMs, false)]))) {
        // Abandoned attempts are recorded as aborted if the database is still there; otherwise
        // their leases run out and another process (or the next start) sends them again.
        stopping.abort();
        await Promise.race([settled, delay(1_000, false)]);
      }
    },
  };
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms, value).unref());
}
