import type { ApprovalRow } from "../approvals/approval-row.ts";
import { openApproval } from "../approvals/approval-seal.ts";
import type { Clock } from "../clock.ts";
import type { UserDataKeys } from "../crypto/user-data-keys.ts";
import type { Database } from "../db/database.ts";
import { createTickBatcher } from "../db/tick-batcher.ts";
import type { PushMessage, PushOutcome, PushSender, PushTarget } from "./push-message.ts";
import type { PushKind, PushSubscriptionRow, PushSubscriptionStore } from "./push-subscription-store.ts";
import { createTaskQueue } from "./task-queue.ts";

/** Sends a push for each new approval request; the approvals domain calls it after commit. */
export interface PushNotifier {
  /**
   * Schedules the pushes for a request that was just created (committed). Returns at once and
   * never throws: the request's creation is never held up or failed by a notification.
   */
  approvalCreated(row: Pick<ApprovalRow, "id" | "user_id" | "action_type" | "sealed" | "expires_at">): void;
  /** Resolves once every scheduled push, and any retry already due, has finished (tests, shutdown). */
  idle(): Promise<void>;
  /** Cancels pending retries. */
  close(): void;
}

/** What one delivery came to, for metrics and tests. */
export interface PushDeliveryReport {
  readonly approvalId: string;
  readonly subscriptionId: string;
  readonly kind: PushKind;
  readonly attempt: 1 | 2;
  readonly outcome: PushOutcome;
}

/** The notifier's collaborators. */
export interface PushNotifierDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly dataKeys: UserDataKeys;
  readonly subscriptions: PushSubscriptionStore;
  /** The active channels; a subscription whose kind has no sender is skipped. */
  readonly senders: { readonly [K in PushKind]?: PushSender<Extract<PushTarget, { kind: K }>> };
  /** Pushes in flight at once. */
  readonly concurrency: number;
  /**
   * Requests waiting for their fan-out, and pushes waiting for a slot, at most each (default
   * 10,000): past that a push is dropped and reported as "push queue full", so a flood of
   * requests or a stalled push service cannot grow memory without bound.
   */
  readonly maxQueued?: number;
  /** How long to wait before the one retry of a 429, 5xx or network failure. */
  readonly retryDelayMs?: number;
  /** Every delivery's outcome (metrics, logs). */
  readonly onDelivery?: (report: PushDeliveryReport) => void;
  /** Unexpected errors (a database failure): counted, never thrown to the request. */
  readonly onError: (error: unknown) => void;
}

const DEFAULT_RETRY_DELAY_MS = 15_000;
const DEFAULT_MAX_QUEUED = 10_000;

/**
 * Builds the notifier (DESIGN §4.10, T-3). For each new request it reads, off the request path,
 * the owner's notification setting (`user_settings.notifications_enabled`, default on), the
 * agent's name and the title (opened from the sealed display payload), and the owner's
 * subscriptions, then sends each one the same {@link PushMessage}: id, title, agent name and
 * action type — never the body, the context or the number (issue 7 §3).
 *
 * Outcomes per subscription: delivered → `last_success_at`; gone (404/410, `Unregistered`,
 * `BadDeviceToken`, `UNREGISTERED`) → the subscription is deleted; retry (429, 5xx, network) →
 * one more attempt after `retryDelayMs` if the request is still open, else the failure is
 * recorded; failed → recorded.
 *
 * @example
 * ```ts
 * const push = createPushNotifier({ db, clock, dataKeys, subscriptions, senders: { webpush }, concurrency: 8, onError });
 * tx.afterCommit(() => push.approvalCreated(row));
 * ```
 */
export function createPushNotifier(deps: PushNotifierDeps): PushNotifier {
  const { db, clock, dataKeys, subscriptions, senders, onError } = deps;
  const retryDelayMs = deps.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const maxQueued = deps.maxQueued ?? DEFAULT_MAX_QUEUED;
  const queue = createTaskQueue({ concurrency: deps.concurrency, maxQueued, onError });
  // Each scheduled retry: its timer and what resolves its entry in `pendingRetries`.
  const retries = new Map<NodeJS.Timeout, () => void>();
  const pendingRetries = new Set<Promise<void>>();
  const active = Object.values(senders).some((sender) => sender !== undefined);
  // The owners' subscriptions are read outside the delivery queue, for every request whose
  // fan-out starts while no such read is running, with one statement: a group commit's
  // requests, or all those that came during the last read. Inside the queue, its concurrency
  // cut the reads into statements of a few requests each, one of the most frequent statements
  // under load (bench/approvals.ts).
  const notifiableOf = createTickBatcher<string, PushSubscriptionRow[]>(
    async (userIds) => {
      const byUser = await subscriptions.listNotifiable(db, [...new Set(userIds)]);
      return userIds.map((userId) => byUser.get(userId) ?? []);
    },
    { maxInFlight: 1 },
  );
  // Fan-outs reading subscriptions or opening their request: bounded like the queue.
  const fanningOut = new Set<Promise<void>>();

  const isOpen = async (approvalId: string) => {
    const { rows } = await db.query<{ status: string; expires_at: Date }>(
      "SELECT status, expires_at FROM approval_requests WHERE id = $1",
      [approvalId],
    );
    const row = rows[0];
    return (
      row !== undefined &&
      (row.status === "pending" || row.status === "delivered") &&
      row.expires_at.getTime() > clock.now()
    );
  };

  const deliver = async (subscription: PushSubscriptionRow, message: PushMessage, attempt: 1 | 2): Promise<void> => {
    const { target } = subscription;
    const outcome =
      target.kind === "webpush"
        ? await (senders.webpush as PushSender<typeof target>)(target, message)
        : await (senders[target.kind] as PushSender<typeof target>)(target, message);
    deps.onDelivery?.({
      approvalId: message.approvalId,
      subscriptionId: subscription.id,
      kind: target.kind,
      attempt,
      outcome,
    });
    switch (outcome.kind) {
      case "delivered":
        return subscriptions.recordSuccess(db, subscription.id);
      case "gone":
        return subscriptions.remove(db, subscription.id);
      case "failed":
        return subscriptions.recordFailure(db, subscription.id, outcome.reason);
      case "retry":
        if (attempt === 2 || message.expiresAt - clock.now() <= retryDelayMs) {
          return subscriptions.recordFailure(db, subscription.id, outcome.reason);
        }
        scheduleRetry(subscription, message);
    }
  };

  const scheduleRetry = (subscription: PushSubscriptionRow, message: PushMessage) => {
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const finish = () => {
      pendingRetries.delete(done);
      resolveDone();
    };
    pendingRetries.add(done);
    const timer = setTimeout(() => {
      retries.delete(timer);
      const queued = queue.push(async () => {
        try {
          // A request decided or expired meanwhile needs no notification any more.
          if (await isOpen(message.approvalId)) await deliver(subscription, message, 2);
        } finally {
          finish();
        }
      });
      if (!queued) finish();
    }, retryDelayMs);
    // A pending retry never keeps the process alive.
    timer.unref();
    retries.set(timer, finish);
  };

  const fanOut = async (row: Parameters<PushNotifier["approvalCreated"]>[0]) => {
    if (row.expires_at.getTime() <= clock.now()) return;
    // Nothing when the person turned notifications off (user_settings), in the same statement.
    const targets = (await notifiableOf(row.user_id)).filter((s) => senders[s.target.kind] !== undefined);
    if (targets.length === 0) return;
    const sealed = await openApproval(dataKeys, db, row);
    // The owner's data key was erased (the account is being deleted): nothing to say.
    if (sealed === null) return;
    const message: PushMessage = {
      approvalId: row.id,
      expiresAt: row.expires_at.getTime(),
      payload: {
        type: "approval.created",
        approval_id: row.id,
        title: sealed.display.title,
        // The name as the request shows it (the display payload's snapshot), not a later rename.
        agent_name: sealed.display.agent_name,
        action_type: row.action_type,
      },
    };
    for (const subscription of targets) {
      if (!queue.push(() => deliver(subscription, message, 1))) onError(new Error("push queue full"));
    }
  };

  return {
    approvalCreated(row) {
      if (!active) return;
      if (fanningOut.size >= maxQueued) {
        onError(new Error("push queue full"));
        return;
      }
      // Its first statement waits for the next turn (the batcher), so the commit hook returns first.
      const fanning: Promise<void> = fanOut(row)
        .catch(onError)
        .finally(() => fanningOut.delete(fanning));
      fanningOut.add(fanning);
    },
    async idle() {
      while (fanningOut.size > 0) await Promise.all([...fanningOut]);
      await queue.idle();
      while (pendingRetries.size > 0) {
        await Promise.all([...pendingRetries]);
        await queue.idle();
      }
    },
    close() {
      for (const [timer, finish] of retries) {
        clearTimeout(timer);
        finish();
      }
      retries.clear();
    },
  };
}
