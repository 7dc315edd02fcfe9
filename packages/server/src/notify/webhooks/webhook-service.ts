import { type Clock, systemClock } from "../../clock.ts";
import type { Config, SigningJwk } from "../../config/config.ts";
import type { Queryable } from "../../db/database.ts";
import { createWebhookDispatcher, type WebhookDispatcherDeps, type WebhookLogger } from "./webhook-dispatcher.ts";
import { enqueueWebhook } from "./webhook-outbox.ts";
import type { WebhookApproval } from "./webhook-payload.ts";

/**
 * Signed webhooks to approval requests' callback URLs, as one AppServices field: the approvals
 * domain enqueues inside its state-changing transaction and kicks after the commit; the app
 * starts and stops the dispatcher with its lifecycle (`registerWebhookWorker`).
 */
export interface WebhookService {
  /** Puts the webhook for a terminal approval into the outbox, in `tx` (see `enqueueWebhook`); resolves with its `whd_…` id. */
  enqueue(tx: Queryable, approval: WebhookApproval): Promise<string>;
  /** Wakes the dispatcher now; call after the transaction that enqueued commits. */
  kick(): void;
  /** Starts the background dispatcher; `log` (the app's logger, say) replaces the one it was built with. */
  start(options?: { log?: WebhookLogger }): Promise<void>;
  /** Stops it, waiting (bounded) for attempts in flight. Call before the database closes. */
  stop(): Promise<void>;
}

/**
 * What {@link createWebhookService} needs: the dispatcher's dependencies, with the signing key
 * taken from the configuration (`config.secrets.signingKeys[0]`, DESIGN §4.7) unless given.
 */
export type WebhookServiceDeps = Omit<WebhookDispatcherDeps, "config" | "signingKey"> & {
  readonly config: Pick<Config, "webhooks" | "secrets">;
  readonly signingKey?: SigningJwk;
};

/**
 * Builds the webhook service over one dispatcher. Nothing runs until `start()`.
 *
 * @example
 * ```ts
 * const webhooks = createWebhookService({ db, clock, config });
 * await db.transaction(async (tx) => {
 *   // … change the approval's state …
 *   await webhooks.enqueue(tx, approval);
 * });
 * webhooks.kick();
 * ```
 */
export function createWebhookService(deps: WebhookServiceDeps): WebhookService {
  const clock: Clock = deps.clock ?? systemClock;
  const signingKey = deps.signingKey ?? deps.config.secrets.signingKeys[0];
  if (signingKey === undefined) throw new TypeError("webhooks need a signing key (config.secrets.signingKeys)");
  const dispatcher = createWebhookDispatcher({ ...deps, clock, signingKey });
  return {
    enqueue: (tx, approval) => enqueueWebhook(tx, approval, new Date(clock.now())),
    kick: () => dispatcher.kick(),
    start: async (options) => dispatcher.start(options),
    stop: () => dispatcher.stop(),
  };
}
