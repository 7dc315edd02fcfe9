import { useEffect, useRef, useState } from "preact/hooks";
import { currentDevice } from "../device/current-device.ts";
import { t } from "../i18n/i18n.ts";
import { session } from "../state.ts";
import { ErrorMessage } from "./common.tsx";
import { RecoveryKit } from "./recovery-kit.tsx";

/** Which way of unlocking is open. */
export type UnlockMode = "choose" | "pair" | "recover" | "no-secret";

/**
 * For a device that cannot read end-to-end context yet (spec §4): pair with an enrolled device
 * (type its code), or use the Recovery Kit's secret; without the secret, say that old end-to-end
 * context stays unreadable and offer a new account key, whose new Recovery Kit is shown at once.
 */
export function UnlockPanel({ mode: initialMode = "choose", code = "" }: { mode?: UnlockMode; code?: string }) {
  const [mode, setMode] = useState<UnlockMode>(initialMode);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [newSecret, setNewSecret] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [typedCode, setTypedCode] = useState(code);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

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
  const fieldValue = (event: Event, name: string) =>
    ((event.currentTarget as HTMLFormElement).elements.namedItem(name) as HTMLInputElement).value;

  const email = session.value.status === "signed-in" ? session.value.account.email : "";

  if (newSecret !== null && !done) {
    return (
      <div class="panel">
        <p role="status">{t("unlock.newKey")}</p>
        <RecoveryKit
          secret={newSecret}
          email={email}
          onDone={() => {
            setNewSecret(null);
            setDone(true);
          }}
        />
      </div>
    );
  }
  if (done) {
    return (
      <p class="panel" role="status">
        {t("unlock.done")}
      </p>
    );
  }

  return (
    <section class="panel" aria-labelledby="unlock-title">
      <h2 id="unlock-title">{t("unlock.title")}</h2>
      {mode === "choose" && (
        <>
          <p>{t("unlock.lead")}</p>
          <div class="row wrap">
            <button type="button" class="button" onClick={() => setMode("pair")}>
              {t("unlock.pair")}
            </button>
            <button type="button" class="button" onClick={() => setMode("recover")}>
              {t("unlock.recover")}
            </button>
          </div>
        </>
      )}

      {mode === "pair" && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const typed = typedCode;
            void run(async () => {
              const { account, record } = await currentDevice();
              abort.current = new AbortController();
              const { joinPairing } = await import("../pairing/pairing-responder.ts");
              await joinPairing(account, record, typed, abort.current.signal);
              setDone(true);
            });
          }}
        >
          <p>{t("unlock.pairLead")}</p>
          <label for="pairing-code">{t("unlock.code")}</label>
          <input
            id="pairing-code"
            name="pairing-code"
            value={typedCode}
            onInput={(e) => setTypedCode((e.currentTarget as HTMLInputElement).value)}
            required
            autoComplete="off"
            autoCapitalize="characters"
            spellcheck={false}
            maxLength={12}
            class="code-input"
          />
          <button type="submit" class="button primary wide" disabled={busy}>
            {t("unlock.pairButton")}
          </button>
          {busy && (
            <p class="muted" role="status">
              {t("unlock.pairWaiting")}
            </p>
          )}
        </form>
      )}

      {mode === "recover" && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const typed = fieldValue(event, "recovery-secret");
            void run(async () => {
              const { account, record } = await currentDevice();
              const { recoverWithSecret } = await import("../device/recover-with-secret.ts");
              await recoverWithSecret(account, record, typed);
              setDone(true);
            });
          }}
        >
          <p>{t("unlock.recoverLead")}</p>
          <label for="recovery-secret">{t("unlock.secret")}</label>
          <input
            id="recovery-secret"
            name="recovery-secret"
            required
            autoComplete="off"
            autoCapitalize="characters"
            spellcheck={false}
            class="code-input"
          />
          <button type="submit" class="button primary wide" disabled={busy}>
            {t("unlock.recoverButton")}
          </button>
          <button type="button" class="button wide" onClick={() => setMode("no-secret")}>
            {t("unlock.noSecret")}
          </button>
        </form>
      )}

      {mode === "no-secret" && (
        <div>
          <p class="warning">{t("unlock.noSecretLead")}</p>
          <button
            type="button"
            class="button danger wide"
            disabled={busy}
            onClick={() =>
              run(async () => {
                const { account, record } = await currentDevice();
                const { establishAccountKey } = await import("../device/establish-account-key.ts");
                setNewSecret(await establishAccountKey(account, record, "reset"));
              })
            }
          >
            {t("unlock.reset")}
          </button>
        </div>
      )}

      {mode !== "choose" && (
        <button
          type="button"
          class="button small"
          disabled={busy && mode !== "pair"}
          onClick={() => {
            abort.current?.abort();
            setError(null);
            setMode("choose");
          }}
        >
          {t("unlock.back")}
        </button>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}
