import { api } from "../api/api.ts";
import { t } from "../i18n/i18n.ts";
import { createPasskey } from "../webauthn/ceremonies.ts";
import { formField } from "./use-form-action.ts";

/**
 * Registers a passkey with a sign-up or recovery ticket (`/v1/auth/{flow}/passkey/options`, then
 * `…/verify`), named from the form's `passkey-name` field, and returns the verify answer.
 */
export async function registerTicketPasskey<T>(
  flow: "signup" | "recovery",
  ticket: string,
  form: HTMLFormElement | null,
): Promise<T> {
  const name = formField(form, "passkey-name") || t("signup.passkeyDefault");
  const options = await api<Record<string, unknown>>("POST", `/v1/auth/${flow}/passkey/options`, { ticket });
  const credential = await createPasskey(options);
  return api<T>("POST", `/v1/auth/${flow}/passkey/verify`, { ticket, credential, name });
}

/** The passkey step's form body: a lead, the optional name field and the submit button. */
export function PasskeyNameFields({ lead, busy }: { lead: string; busy: boolean }) {
  return (
    <>
      <p>{lead}</p>
      <label for="passkey-name">{t("signup.passkeyName")}</label>
      <input id="passkey-name" name="passkey-name" maxLength={64} placeholder={t("signup.passkeyDefault")} />
      <button type="submit" class="button primary wide" disabled={busy}>
        {t("signup.createPasskey")}
      </button>
    </>
  );
}
