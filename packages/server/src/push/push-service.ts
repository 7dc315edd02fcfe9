import type { Clock } from "../clock.ts";
import type { Config } from "../config/config.ts";
import type { UserDataKeys } from "../crypto/user-data-keys.ts";
import type { Database } from "../db/database.ts";
import type { MetricsRegistry } from "../metrics/metrics-registry.ts";
import { type ApnsSender, createApnsSender } from "./apns-sender.ts";
import { createFcmSender } from "./fcm-sender.ts";
import { createPushNotifier, type PushNotifier, type PushNotifierDeps } from "./push-notifier.ts";
import { createPushSubscriptionStore, type PushKind, type PushSubscriptionStore } from "./push-subscription-store.ts";
import { createWebPushSender } from "./web-push-sender.ts";

/** Push notifications (DESIGN §4.10): subscriptions, the channels configured, the notifier. */
export interface PushService {
  /** The VAPID public key browsers subscribe with; undefined when Web Push is off. */
  readonly vapidPublicKey: string | undefined;
  /** The kinds of subscription this server can send to. */
  readonly kinds: ReadonlySet<PushKind>;
  readonly subscriptions: PushSubscriptionStore;
  /** Called by the approvals domain after a request commits. */
  readonly notifier: PushNotifier;
  /** Stops retries and closes the APNs connection. */
  close(): void;
}

/** What the push service is built from. */
export interface PushServiceDeps {
  readonly config: Config;
  readonly db: Database;
  readonly clock: Clock;
  readonly dataKeys: UserDataKeys;
  readonly metrics: MetricsRegistry;
  /** Extra trusted CA (PEM) for every channel; tests with local stubs only. */
  readonly ca?: string;
  /** Overrides the notifier's retry delay (tests). */
  readonly retryDelayMs?: number;
}

/**
 * Builds the push service from the configuration: one sender per configured channel (Web Push
 * when a VAPID key exists, APNs and FCM when their settings are present), and a notifier over
 * them that counts every outcome in `countersign_push_deliveries_total{kind,outcome}`.
 */
export function createPushService(deps: PushServiceDeps): PushService {
  const { config, db, clock, dataKeys, metrics } = deps;
  const { push } = config;
  const now = () => clock.now();
  const ca = deps.ca === undefined ? {} : { ca: deps.ca };
  const subscriptions = createPushSubscriptionStore({ dataKeys, clock, masterKey: config.secrets.masterKey });
  let apns: ApnsSender | undefined;
  if (push.apns !== undefined) apns = createApnsSender({ ...push.apns, now, timeoutMs: push.timeoutMs, ...ca });
  const senders: PushNotifierDeps["senders"] = {
    ...(push.webPush === undefined
      ? {}
      : {
          webpush: createWebPushSender({
            vapid: push.webPush,
            now,
            timeoutMs: push.timeoutMs,
            allowLoopback: push.allowLoopback,
            ...ca,
          }),
        }),
    ...(apns === undefined ? {} : { apns: apns.send }),
    ...(push.fcm === undefined ? {} : { fcm: createFcmSender({ ...push.fcm, now, timeoutMs: push.timeoutMs, ...ca }) }),
  };
  const deliveries = metrics.counter(
    "countersign_push_deliveries_total",
    "Push notification attempts by channel and outcome (delivered, gone, retry, failed).",
    ["kind", "outcome"],
  );
  const errors = metrics.counter(
    "countersign_push_errors_total",
    "Push notifications not attempted because of an unexpected error or a full queue.",
    [],
  );
  const notifier = createPushNotifier({
    db,
    clock,
    dataKeys,
    subscriptions,
    senders,
    concurrency: push.concurrency,
    ...(deps.retryDelayMs === undefined ? {} : { retryDelayMs: deps.retryDelayMs }),
    onDelivery: (report) => deliveries.inc({ kind: report.kind, outcome: report.outcome.kind }),
    onError: () => errors.inc({}),
  });
  return {
    vapidPublicKey: push.webPush?.publicKey,
    kinds: new Set(Object.keys(senders) as PushKind[]),
    subscriptions,
    notifier,
    close() {
      notifier.close();
      apns?.close();
    },
  };
}
