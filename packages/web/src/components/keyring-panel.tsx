import { useRef, useState } from "preact/hooks";
import { currentDevice } from "../device/current-device.ts";
import { keyring } from "../device/keyring.ts";
import { t } from "../i18n/i18n.ts";
import { startDevice } from "../session.ts";
import { session } from "../state.ts";
import { ErrorMessage } from "./common.tsx";
import { RecoveryKit } from "./recovery-kit.tsx";
import { type UnlockMode, UnlockPanel } from "./unlock-panel.tsx";
import { UnlockWithPasskeyButton } from "./unlock-with-passkey-button.tsx";

/**
 * This device and the account's end-to-end key: the fingerprint to compare with what an agent's
 * CLI printed (shown only once unlocked: it is derived here from the opened key), and what to do when the device is not set up, the account has no key set yet
 * (accounts from before them), or the device cannot read end-to-end context.
 */
export function KeyringPanel({ unlockMode, code }: { unlockMode?: UnlockMode; code?: string }) {
  const state = keyring.value;
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const account = session.value.status === "signed-in" ? session.value.account : null;
  // Once shown, the unlock panel stays: it reports its own success (or shows a new Recovery Kit)
  // after the keyring has turned unlocked.
  const unlocking = useRef(false);
  if (state.status === "locked" && !state.needsPasskey) unlocking.current = true;

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (secret !== null && account !== null) {
    return (
      <div class="panel">
        <RecoveryKit secret={secret} email={account.email} onDone={() => setSecret(null)} />
      </div>
    );
  }

  return (
    <>
      <section class="panel" aria-labelledby="keyring-title">
        <h2 id="keyring-title">{t("keyring.title")}</h2>
        {state.status === "unlocked" && (
          <>
            <p class="label">{t("keyring.fingerprint")}</p>
            <p>
              {/* Computed here from the key this device opened, never the server's copy. */}
              <code class="fingerprint" data-testid="account-fingerprint">
                {state.fingerprint}
              </code>
            </p>
          </>
        )}
        <p data-testid="keyring-status">{t(`keyring.${state.status}`)}</p>
        {state.status === "locked" && <p class="muted small">{t("keyring.fingerprintLocked")}</p>}
        {state.status === "refused" && (
          <p class="error" role="alert" data-testid="keyring-refused" data-reason={state.reason}>
            {t(`keyring.refused.${state.reason}`)}
          </p>
        )}
        {state.status === "failed" && <ErrorMessage error={state.error} />}
        {(state.status === "unregistered" || state.status === "failed") && account !== null && (
          <button
            type="button"
            class="button primary"
            disabled={busy}
            onClick={() => run(() => startDevice(account, true))}
          >
            {t("keyring.setUp")}
          </button>
        )}
        {state.status === "no-account-key" && (
          <button
            type="button"
            class="button primary"
            disabled={busy}
            onClick={() =>
              run(async () => {
                const device = await currentDevice();
                const { establishAccountKey } = await import("../device/establish-account-key.ts");
                setSecret(await establishAccountKey(device.account, device.record, "create"));
              })
            }
          >
            {t("keyring.create")}
          </button>
        )}
        {state.status === "locked" && state.needsPasskey && (
          <>
            <p>{t("unlock.passkeyLead")}</p>
            <UnlockWithPasskeyButton />
          </>
        )}
        <ErrorMessage error={error} />
      </section>
      {unlocking.current && <UnlockPanel key={code ?? ""} mode={unlockMode ?? "choose"} code={code ?? ""} />}
    </>
  );
}
