import { useEffect, useRef, useState } from "preact/hooks";
import { currentDevice } from "../device/current-device.ts";
import { t } from "../i18n/i18n.ts";
import type { StartedPairing } from "../pairing/pairing-initiator.ts";
import { pairingLink } from "../pairing/pairing-link.ts";
import { Countdown, ErrorMessage } from "./common.tsx";
import { QrCode } from "./qr-code.tsx";

/**
 * "Add a device" on an unlocked device (spec §4): shows the code and its QR code, waits for the
 * new device, checks it, sends it the AUK, and says when it is done. Leaving cancels the pairing.
 */
export function AddDevice({ onPaired }: { onPaired: () => void }) {
  const [started, setStarted] = useState<StartedPairing | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const live = useRef<StartedPairing | null>(null);
  const shownRef = useRef<HTMLDivElement>(null);
  // The code appears below the button: bring it into view and move the focus there.
  useEffect(() => {
    if (started !== null) shownRef.current?.focus();
  }, [started]);

  const cancel = () => {
    abort.current?.abort();
    const open = live.current;
    live.current = null;
    if (open !== null) {
      import("../pairing/pairing-initiator.ts")
        .then(({ failPairing }) => failPairing(open.id, "canceled"))
        .catch(() => undefined);
    }
  };
  useEffect(() => cancel, []);

  const start = async () => {
    cancel();
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      const { account, record } = await currentDevice();
      const { startPairing, finishPairing } = await import("../pairing/pairing-initiator.ts");
      const pairing = await startPairing(account, record);
      const controller = new AbortController();
      abort.current = controller;
      live.current = pairing;
      setStarted(pairing);
      await finishPairing(account, record, pairing, controller.signal);
      live.current = null;
      setDone(true);
      onPaired();
    } catch (caught) {
      live.current = null;
      if (!abort.current?.signal.aborted) setError(caught);
    } finally {
      setStarted(null);
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="add-device-title">
      <h2 id="add-device-title">{t("pair.title")}</h2>
      {started === null ? (
        <>
          <p>{t("pair.lead")}</p>
          <button type="button" class="button primary wide" disabled={busy} onClick={start}>
            {t("pair.start")}
          </button>
        </>
      ) : (
        <div class="pairing" ref={shownRef} tabIndex={-1}>
          <p>{t("pair.showLead")}</p>
          <p class="label">{t("pair.codeLabel")}</p>
          <p class="pairing-code" data-testid="pairing-code">
            <code>{started.code}</code>
          </p>
          <QrCode text={pairingLink(started.code)} label={t("pair.qrLabel", { code: started.code })} />
          <p class="muted" role="status">
            {t("pair.waiting")}
          </p>
          <p>
            <Countdown expiresAt={started.expiresAt} />
          </p>
          <button
            type="button"
            class="button wide"
            onClick={() => {
              cancel();
              setStarted(null);
            }}
          >
            {t("common.cancel")}
          </button>
        </div>
      )}
      {done && (
        <p class="success" role="status">
          {t("pair.done")}
        </p>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}
