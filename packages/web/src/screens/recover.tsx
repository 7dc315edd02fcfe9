import { useRef, useState } from "preact/hooks";
import { api } from "../api/api.ts";
import { ErrorMessage, ScreenTitle } from "../components/common.tsx";
import { PasskeyNameFields, registerTicketPasskey } from "../components/ticket-passkey-form.tsx";
import { UnlockPanel } from "../components/unlock-panel.tsx";
import { formField, useFormAction } from "../components/use-form-action.ts";
import { keyring } from "../device/keyring.ts";
import { t } from "../i18n/i18n.ts";
import { refreshSession, startDevice } from "../session.ts";

type Step =
  | { name: "email" }
  | { name: "codes"; email: string }
  | { name: "passkey"; ticket: string }
  | { name: "keys" };

/**
 * Account recovery (D-3): an emailed code and one recovery code give a new passkey on this
 * device; then the Recovery Kit's secret restores reading end-to-end context. Without the secret
 * the account is back but old end-to-end context stays unreadable, and the app says so.
 */
export function Recover() {
  const [step, setStep] = useState<Step>({ name: "email" });

  const { error, busy, run } = useFormAction();

  // Sticky, as on the devices screen: the panel reports its own outcome once unlocked.
  const unlocking = useRef(false);
  const state = keyring.value;
  if (state.status === "locked" && !state.needsPasskey) unlocking.current = true;

  return (
    <section class="narrow">
      <ScreenTitle>{t("recover.title")}</ScreenTitle>

      {step.name === "email" && (
        <form
          onSubmit={run(async (form) => {
            const email = formField(form, "email");
            await api("POST", "/v1/auth/recovery/start", { email });
            setStep({ name: "codes", email });
          })}
        >
          <p>{t("recover.lead")}</p>
          <label for="email">{t("signup.email")}</label>
          <input id="email" name="email" type="email" autoComplete="email" required />
          <button type="submit" class="button primary wide" disabled={busy}>
            {t("signup.sendCode")}
          </button>
        </form>
      )}

      {step.name === "codes" && (
        <form
          onSubmit={run(async (form) => {
            const res = await api<{ ticket: string }>("POST", "/v1/auth/recovery/verify", {
              email: step.email,
              code: formField(form, "code"),
              recovery_code: formField(form, "recovery-code"),
            });
            setStep({ name: "passkey", ticket: res.ticket });
          })}
        >
          <p>{t("signup.codeSent", { email: step.email })}</p>
          <label for="code">{t("signup.code")}</label>
          <input
            id="code"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            maxLength={6}
            required
          />
          <label for="recovery-code">{t("recover.recoveryCode")}</label>
          <input
            id="recovery-code"
            name="recovery-code"
            autoComplete="off"
            spellcheck={false}
            required
            maxLength={64}
          />
          <button type="submit" class="button primary wide" disabled={busy}>
            {t("signup.verify")}
          </button>
        </form>
      )}

      {step.name === "passkey" && (
        <form
          onSubmit={run(async (form) => {
            await registerTicketPasskey("recovery", step.ticket, form);
            const account = await refreshSession();
            if (account !== null) await startDevice(account, true);
            setStep({ name: "keys" });
          })}
        >
          <PasskeyNameFields lead={t("recover.passkeyLead")} busy={busy} />
        </form>
      )}

      {step.name === "keys" && (
        <>
          <p role="status">{t("recover.back")}</p>
          {unlocking.current && <UnlockPanel mode="recover" />}
          <p>
            <a class="button wide" href="/">
              {t("signup.finish")}
            </a>
          </p>
        </>
      )}

      <ErrorMessage error={error} />
      {step.name !== "keys" && (
        <p class="center">
          <a href="/signin">{t("signup.toSignin")}</a>
        </p>
      )}
    </section>
  );
}
