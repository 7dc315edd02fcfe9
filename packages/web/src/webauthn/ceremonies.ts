import { api } from "../api/api.ts";
import { ApiError } from "../api/api-error.ts";
import { assertionJson, creationOptions, registrationJson, requestOptions } from "./webauthn-json.ts";

type Json = Record<string, unknown>;

/** Makes a passkey from creation options JSON; returns the registration JSON to send back. */
export async function createPasskey(options: Json): Promise<Json> {
  const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
  if (!(credential instanceof PublicKeyCredential)) throw new DOMException("no credential", "NotAllowedError");
  return registrationJson(credential);
}

/** Asserts with a passkey from request options JSON; returns the assertion JSON. */
export async function usePasskey(options: Json | PublicKeyCredentialRequestOptions): Promise<Json> {
  const publicKey =
    options.challenge instanceof ArrayBuffer || ArrayBuffer.isView(options.challenge)
      ? (options as PublicKeyCredentialRequestOptions)
      : requestOptions(options as Json);
  const credential = await navigator.credentials.get({ publicKey });
  if (!(credential instanceof PublicKeyCredential)) throw new DOMException("no credential", "NotAllowedError");
  return assertionJson(credential);
}

/** A fresh passkey confirmation for the next five minutes of sensitive operations. */
export async function stepUp(): Promise<void> {
  const options = await api<Json>("POST", "/v1/auth/step-up/options");
  const credential = await usePasskey(options);
  await api("POST", "/v1/auth/step-up/verify", { credential });
}

/**
 * Runs `action`; if the server asks for a fresh passkey confirmation (`step_up_required`), asks
 * for it and runs `action` once more.
 */
export async function withStepUp<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "step_up_required") throw error;
    await stepUp();
    return action();
  }
}
