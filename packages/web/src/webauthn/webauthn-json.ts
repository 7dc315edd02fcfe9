import { fromBase64Url, toBase64Url } from "@countersign/protocol";

/**
 * WebAuthn options arrive as JSON (base64url for every binary member, WebAuthn L3 §5.4/§5.5) and
 * credentials go back the same way (§5.1.8/§5.1.9). Written out here rather than relying on
 * `PublicKeyCredential.parse*FromJSON`, which older phones lack.
 */

type Json = Record<string, unknown>;

const bytes = (value: unknown): ArrayBuffer => {
  const decoded = fromBase64Url(String(value));
  if (decoded === null) throw new DOMException("malformed WebAuthn options", "DataError");
  return decoded.buffer.slice(decoded.byteOffset, decoded.byteOffset + decoded.byteLength) as ArrayBuffer;
};
const b64 = (buffer: ArrayBuffer | null | undefined): string | null =>
  buffer === null || buffer === undefined ? null : toBase64Url(new Uint8Array(buffer));

const descriptors = (list: unknown): PublicKeyCredentialDescriptor[] | undefined =>
  Array.isArray(list)
    ? list.map((item: Json) => ({
        type: "public-key",
        id: bytes(item.id),
        ...(Array.isArray(item.transports) ? { transports: item.transports as AuthenticatorTransport[] } : {}),
      }))
    : undefined;

/** Creation options JSON → what `navigator.credentials.create` takes. */
export function creationOptions(json: Json): PublicKeyCredentialCreationOptions {
  const user = json.user as Json;
  const excluded = descriptors(json.excludeCredentials);
  return {
    ...(json as unknown as PublicKeyCredentialCreationOptions),
    challenge: bytes(json.challenge),
    user: { id: bytes(user.id), name: String(user.name), displayName: String(user.displayName ?? user.name) },
    ...(excluded === undefined ? {} : { excludeCredentials: excluded }),
  };
}

/** Request options JSON → what `navigator.credentials.get` takes. */
export function requestOptions(json: Json): PublicKeyCredentialRequestOptions {
  const allowed = descriptors(json.allowCredentials);
  return {
    ...(json as unknown as PublicKeyCredentialRequestOptions),
    challenge: bytes(json.challenge),
    ...(allowed === undefined ? {} : { allowCredentials: allowed }),
  };
}

/** A new credential as registration JSON. */
export function registrationJson(credential: PublicKeyCredential): Json {
  const response = credential.response as AuthenticatorAttestationResponse;
  return {
    id: credential.id,
    rawId: b64(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: b64(response.clientDataJSON),
      attestationObject: b64(response.attestationObject),
      transports: typeof response.getTransports === "function" ? response.getTransports() : [],
      ...(typeof response.getPublicKeyAlgorithm === "function"
        ? { publicKeyAlgorithm: response.getPublicKeyAlgorithm() }
        : {}),
      ...(typeof response.getPublicKey === "function" && response.getPublicKey() !== null
        ? { publicKey: b64(response.getPublicKey()) }
        : {}),
      ...(typeof response.getAuthenticatorData === "function"
        ? { authenticatorData: b64(response.getAuthenticatorData()) }
        : {}),
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
  };
}

/** An assertion as authentication JSON. */
export function assertionJson(credential: PublicKeyCredential): Json {
  const response = credential.response as AuthenticatorAssertionResponse;
  return {
    id: credential.id,
    rawId: b64(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: b64(response.clientDataJSON),
      authenticatorData: b64(response.authenticatorData),
      signature: b64(response.signature),
      userHandle: b64(response.userHandle),
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
  };
}
