import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n/i18n.ts";
import {
  currentPushSubscription,
  pushSupported,
  subscribeThisDevice,
  unsubscribeThisDevice,
} from "../live/push-subscription.ts";
import { ErrorMessage } from "./common.tsx";

/** Turns Web Push on or off for this device (the account-wide switch is the settings' checkbox). */
export function PushToggle() {
  const [subscribed, setSubscribed] = useState<boolean | null>(null);
  const [denied, setDenied] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const supported = pushSupported();

  useEffect(() => {
    if (!supported) return;
    setDenied(Notification.permission === "denied");
    currentPushSubscription()
      .then((subscription) => setSubscribed(subscription !== null))
      .catch(() => setSubscribed(false));
  }, []);

  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      if (subscribed) {
        await unsubscribeThisDevice();
        setSubscribed(false);
      } else {
        const ok = await subscribeThisDevice();
        setSubscribed(ok);
        setDenied(!ok && Notification.permission === "denied");
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="panel">
      <h2>{t("settings.push")}</h2>
      {!supported ? (
        <p class="muted">{t("settings.pushUnsupported")}</p>
      ) : (
        <>
          {subscribed && <p>{t("settings.pushActive")}</p>}
          {denied && <p class="muted">{t("settings.pushDenied")}</p>}
          <button type="button" class="button" disabled={busy || subscribed === null || denied} onClick={toggle}>
            {subscribed ? t("settings.pushOff") : t("settings.pushOn")}
          </button>
        </>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}
