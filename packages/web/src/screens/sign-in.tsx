import { useState } from "preact/hooks";
import { api } from "../api/api.ts";
import { ErrorMessage, ScreenTitle } from "../components/common.tsx";
import { t } from "../i18n/i18n.ts";
import { refreshSession, startDevice } from "../session.ts";
import { usePasskey } from "../webauthn/ceremonies.ts";

/** Sign-in: one button, a discoverable passkey (no username). */
export function SignIn() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const signIn = async () => {
    setBusy(true);
    setError(null);
    try {
      const options = await api<Record<string, unknown>>("POST", "/v1/auth/passkey/options");
      const credential = await usePasskey(options);
      await api("POST", "/v1/auth/passkey/verify", { credential });
      // The signed-in session moves the app off this screen at once (app.tsx); the device setup
      // below goes on meanwhile and must not navigate when it ends, or a slow one would take the
      // person back to the inbox from whatever screen they had opened since.
      const account = await refreshSession();
      // The passkey was just used, so registering this device needs no second prompt.
      if (account !== null) await startDevice(account, true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="narrow">
      <ScreenTitle>{t("signin.title")}</ScreenTitle>
      <p>{t("signin.lead")}</p>
      <button type="button" class="button primary wide" onClick={signIn} disabled={busy}>
        {t("signin.button")}
      </button>
      <ErrorMessage error={error} />
      <p class="center">
        {t("signin.new")} <a href="/signup">{t("signin.toSignup")}</a>
      </p>
      <p class="center">
        {t("signin.lost")} <a href="/recover">{t("signin.toRecover")}</a>
      </p>
    </section>
  );
}
