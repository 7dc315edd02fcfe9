import { useState } from "preact/hooks";
import { api } from "../api/api.ts";
import { CopyButton, ErrorMessage, ScreenTitle } from "../components/common.tsx";
import { RecoveryKit } from "../components/recovery-kit.tsx";
import { PasskeyNameFields, registerTicketPasskey } from "../components/ticket-passkey-form.tsx";
import { formField, useFormAction } from "../components/use-form-action.ts";
import { currentDevice } from "../device/current-device.ts";
import { t } from "../i18n/i18n.ts";
import { navigate } from "../router.ts";
import { refreshSession } from "../session.ts";

type Step =
  | { name: "email" }
  | { name: "code"; email: string }
  | { name: "passkey"; ticket: string; email: string }
  | { name: "keys"; codes: string[]; email: string }
  | { name: "kit"; codes: string[]; email: string; secret: string }
  | { name: "recovery"; codes: string[] };

/** Registers this device and creates the account key set on it; returns the recovery secret. */
async function createKeys(): Promise<string> {
  const account = await refreshSession();
  if (account === null) throw new Error("not signed in");
  const [{ setUpDevice }, { establishAccountKey }] = await Promise.all([
    import("../device/device-setup.ts"),
    import("../device/establish-account-key.ts"),
  ]);
  await setUpDevice(account, { interactive: true });
  const device = await currentDevice();
  return establishAccountKey(device.account, device.record, "create");
}

/**
 * Sign-up (DESIGN §4.9, §4.11): email → emailed code → passkey → this device registered and the
 * account key set made on it → the Recovery Kit ("I have saved it") → the recovery codes, shown
 * once, with an "I saved them" step before the app opens.
 */
export function SignUp() {
  const [step, setStep] = useState<Step>({ name: "email" });
  const [saved, setSaved] = useState(false);

  const { error, busy, run } = useFormAction();

  const stepNumber = { email: 1, code: 2, passkey: 3, keys: 4, kit: 4, recovery: 5 }[step.name];
  const title =
    // The kit names itself (its own heading, printed with it).
    step.name === "recovery" ? t("signup.recoveryTitle") : t("signup.title");

  return (
    <section class="narrow">
      <ScreenTitle>{title}</ScreenTitle>
      <p class="muted">{t("signup.step", { n: stepNumber })}</p>

      {step.name === "keys" && (
        <div>
          <p role="status">{busy ? t("signup.keysWorking") : t("signup.keysLead")}</p>
          {!busy && (
            <button
              type="button"
              class="button primary wide"
              onClick={run(async () => {
                setStep({ ...step, name: "kit", secret: await createKeys() });
              })}
            >
              {t("common.retry")}
            </button>
          )}
        </div>
      )}

      {step.name === "kit" && (
        <RecoveryKit
          secret={step.secret}
          email={step.email}
          onDone={() => setStep({ name: "recovery", codes: step.codes })}
        />
      )}

      {step.name === "email" && (
        <form
          onSubmit={run(async (form) => {
            const email = formField(form, "email");
            await api("POST", "/v1/auth/signup/start", { email });
            setStep({ name: "code", email });
          })}
        >
          <label for="email">{t("signup.email")}</label>
          <input id="email" name="email" type="email" autoComplete="email" required />
          <button type="submit" class="button primary wide" disabled={busy}>
            {t("signup.sendCode")}
          </button>
        </form>
      )}

      {step.name === "code" && (
        <form
          onSubmit={run(async (form) => {
            const code = formField(form, "code");
            const res = await api<{ ticket: string }>("POST", "/v1/auth/signup/verify", { email: step.email, code });
            setStep({ name: "passkey", ticket: res.ticket, email: step.email });
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
          <button type="submit" class="button primary wide" disabled={busy}>
            {t("signup.verify")}
          </button>
          <button
            type="button"
            class="button wide"
            disabled={busy}
            onClick={run(async () => {
              await api("POST", "/v1/auth/signup/start", { email: step.email });
            })}
          >
            {t("signup.resend")}
          </button>
        </form>
      )}

      {step.name === "passkey" && (
        <form
          onSubmit={run(async (form) => {
            const res = await registerTicketPasskey<{ recovery_codes: string[] }>("signup", step.ticket, form);
            // The ticket is spent: from here a failure retries the keys step, not the passkey.
            const keys = { codes: res.recovery_codes, email: step.email };
            setStep({ name: "keys", ...keys });
            setStep({ name: "kit", ...keys, secret: await createKeys() });
          })}
        >
          <PasskeyNameFields lead={t("signup.passkeyLead")} busy={busy} />
        </form>
      )}

      {step.name === "recovery" && (
        <div>
          <p>{t("signup.recoveryLead")}</p>
          <ol class="codes" aria-label={t("signup.recoveryTitle")}>
            {step.codes.map((code) => (
              <li key={code}>
                <code>{code}</code>
              </li>
            ))}
          </ol>
          <CopyButton text={step.codes.join("\n")} />
          <p class="check">
            <input
              id="saved"
              type="checkbox"
              checked={saved}
              onChange={(e) => setSaved((e.currentTarget as HTMLInputElement).checked)}
            />
            <label for="saved">{t("signup.savedCheck")}</label>
          </p>
          <button
            type="button"
            class="button primary wide"
            disabled={!saved || busy}
            onClick={run(async () => {
              await refreshSession();
              navigate("/", { replace: true });
            })}
          >
            {t("signup.finish")}
          </button>
        </div>
      )}

      <ErrorMessage error={error} />
      {(step.name === "email" || step.name === "code" || step.name === "passkey") && (
        <p class="center">
          {t("signup.have")} <a href="/signin">{t("signup.toSignin")}</a>
        </p>
      )}
    </section>
  );
}
