import { fromBase64Url } from "@countersign/protocol";
import { api } from "../api/api.ts";

/** Whether this browser can take Web Push at all. */
export function pushSupported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in globalThis && "Notification" in globalThis;
}

/** This device's Web Push subscription, if it has one. */
export async function currentPushSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null;
  const registration = await navigator.serviceWorker.getRegistration("/");
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/**
 * Subscribes this device to Web Push with the server's VAPID key and hands the subscription to
 * the server (`POST /v1/me/push/subscriptions`). Returns false when the person refused.
 */
export async function subscribeThisDevice(): Promise<boolean> {
  if ((await Notification.requestPermission()) !== "granted") return false;
  const { public_key } = await api<{ public_key: string }>("GET", "/v1/me/push/vapid-public-key");
  const key = fromBase64Url(public_key);
  if (key === null) throw new Error("the server's VAPID key is not base64url");
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: key as Uint8Array<ArrayBuffer>,
  });
  await postSubscription(subscription);
  return true;
}

/** Hands a subscription to the server; it records the device of the session that sends it. */
async function postSubscription(subscription: PushSubscription): Promise<void> {
  const json = subscription.toJSON();
  await api("POST", "/v1/me/push/subscriptions", {
    endpoint: json.endpoint,
    expirationTime: json.expirationTime ?? null,
    keys: { p256dh: json.keys?.p256dh, auth: json.keys?.auth },
  });
}

/**
 * Hands this browser's existing subscription to the server again, once the session is bound to
 * this browser's device (attached or registered): the server then records the device on it, and
 * revoking the device removes it. A subscription made before the device existed would otherwise
 * keep getting pushes after the device is revoked.
 *
 * @returns whether there was a subscription to send.
 */
export async function resendPushSubscription(): Promise<boolean> {
  const subscription = await currentPushSubscription();
  if (subscription === null) return false;
  await postSubscription(subscription);
  return true;
}

/** Stops Web Push on this device, in the browser and on the server. */
export async function unsubscribeThisDevice(): Promise<void> {
  const subscription = await currentPushSubscription();
  if (subscription === null) return;
  const endpoint = subscription.endpoint;
  await subscription.unsubscribe();
  await api("DELETE", "/v1/me/push/subscriptions", { endpoint }).catch(() => undefined);
}
