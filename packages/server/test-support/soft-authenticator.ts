import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";

/**
 * A software WebAuthn authenticator and client in one, for API-level tests (issue 4): it answers
 * the server's options the way a browser plus a platform authenticator would, with a P-256
 * (ES256) key per credential made by node:crypto. Credentials are discoverable (resident), keep a
 * signature counter, and carry UP and UV. It encodes its own CBOR and authenticator data rather
 * than borrowing the server library's helpers, so the server is tested against an independent
 * implementation of WebAuthn L3 §6.1 (authenticator data) and §6.5 (attestation).
 *
 * @example
 * ```ts
 * const authenticator = createSoftAuthenticator({ origin: config.webauthn.origin, rpId: config.webauthn.rpId });
 * const registration = authenticator.register(creationOptions);
 * const assertion = authenticator.authenticate(requestOptions);
 * ```
 */
export interface SoftAuthenticator {
  /**
   * Answers `navigator.credentials.create()` options: makes a new resident credential (replacing
   * one for the same RP and user handle, as §6.3.2 step 7 says) and returns the response JSON.
   * Throws like an authenticator would: for another RP id, no ES256 in `pubKeyCredParams`, or a
   * credential of its own in `excludeCredentials` (InvalidStateError).
   */
  register(options: PublicKeyCredentialCreationOptionsJSON, overrides?: RegisterOverrides): RegistrationResponseJSON;
  /**
   * Answers `navigator.credentials.get()` options. With `allowCredentials` empty it picks among
   * its discoverable credentials for the RP (the most recent one, unless `credentialId` names
   * another); otherwise among the listed ones it holds. Throws NotAllowedError when it has none.
   */
  authenticate(
    options: PublicKeyCredentialRequestOptionsJSON,
    overrides?: AuthenticateOverrides,
  ): AuthenticationResponseJSON;
  /** The credentials it holds, newest last. */
  credentials(): readonly SoftCredentialInfo[];
  /** An independent copy holding the same private keys and counters: a cloned authenticator. */
  clone(): SoftAuthenticator;
  /** Sets a credential's signature counter (to simulate a clone or a reset). */
  setSignCount(credentialId: string, signCount: number): void;
}

/** Options of {@link createSoftAuthenticator}. */
export interface SoftAuthenticatorOptions {
  /** The origin the "browser" reports in clientDataJSON, e.g. `http://localhost:8787`. */
  origin: string;
  /** The RP id it accepts options for, e.g. `localhost`. */
  rpId: string;
  /** `none` (the default, what browsers send when the RP asks for none) or `packed` self-attestation. */
  attestation?: "none" | "packed";
  /** 16-byte AAGUID; zeros by default, as with `none` attestation. */
  aaguid?: Uint8Array;
  /** Sets BE and BS, like a synced passkey. Default false (a device-bound credential). */
  backupEligible?: boolean;
  /** `increment` (default) adds one per assertion; `zero` always reports 0, as many synced passkeys do. */
  counter?: "increment" | "zero";
}

/** Per-call changes to a registration, to produce responses a real authenticator would not. */
export interface RegisterOverrides {
  attestation?: "none" | "packed";
  userVerified?: boolean;
  userPresent?: boolean;
  origin?: string;
  /** Signs this challenge instead of the one in the options. */
  challenge?: string;
}

/** Per-call changes to an assertion. */
export interface AuthenticateOverrides {
  /** Which credential to use (base64url id). */
  credentialId?: string;
  userVerified?: boolean;
  userPresent?: boolean;
  origin?: string;
  challenge?: string;
  /** Reports this user handle instead of the credential's (base64url), or omits it when null. */
  userHandle?: string | null;
}

/** What a test can see of a held credential. */
export interface SoftCredentialInfo {
  readonly id: string;
  readonly rpId: string;
  /** The user handle from the creation options (base64url). */
  readonly userHandle: string;
  readonly userName: string;
  readonly signCount: number;
}

interface Credential {
  id: Uint8Array;
  rpId: string;
  userHandle: string;
  userName: string;
  signCount: number;
  privateKey: KeyObject;
  cosePublicKey: Uint8Array;
  spki: Uint8Array;
}

const ES256 = -7;
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

/** Creates a software authenticator with no credentials. */
export function createSoftAuthenticator(options: SoftAuthenticatorOptions): SoftAuthenticator {
  return build(options, []);
}

function build(options: SoftAuthenticatorOptions, held: Credential[]): SoftAuthenticator {
  const aaguid = options.aaguid ?? new Uint8Array(16);
  if (aaguid.length !== 16) throw new RangeError("aaguid must be 16 bytes");

  function flags(up: boolean, uv: boolean, attested: boolean): number {
    let value = (up ? FLAG_UP : 0) | (uv ? FLAG_UV : 0) | (attested ? FLAG_AT : 0);
    if (options.backupEligible === true) value |= FLAG_BE | FLAG_BS;
    return value;
  }

  return {
    register(creation, overrides = {}) {
      const rpId = creation.rp.id ?? new URL(options.origin).hostname;
      if (rpId !== options.rpId) throw domError("SecurityError", `RP id ${rpId} is not ${options.rpId}`);
      if (!creation.pubKeyCredParams.some((param) => param.alg === ES256)) {
        throw domError("NotSupportedError", "ES256 is not offered");
      }
      for (const excluded of creation.excludeCredentials ?? []) {
        if (held.some((credential) => b64u(credential.id) === excluded.id)) {
          throw domError("InvalidStateError", "a credential in excludeCredentials is on this authenticator");
        }
      }
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const jwk = publicKey.export({ format: "jwk" });
      const cosePublicKey = cbor(
        new Map<number, unknown>([
          [1, 2], // kty: EC2
          [3, ES256], // alg
          [-1, 1], // crv: P-256
          [-2, fromB64u(jwk.x as string)],
          [-3, fromB64u(jwk.y as string)],
        ]),
      );
      const credential: Credential = {
        id: new Uint8Array(randomBytes(32)),
        rpId,
        userHandle: creation.user.id,
        userName: creation.user.name,
        signCount: 0,
        privateKey,
        cosePublicKey,
        spki: new Uint8Array(createPublicKey(privateKey).export({ format: "der", type: "spki" })),
      };

      const clientDataJSON = utf8(
        JSON.stringify({
          type: "webauthn.create",
          challenge: overrides.challenge ?? creation.challenge,
          origin: overrides.origin ?? options.origin,
          crossOrigin: false,
        }),
      );
      const up = overrides.userPresent ?? true;
      const uv = overrides.userVerified ?? true;
      // §6.5.1 attested credential data: AAGUID ‖ credentialIdLength (2, BE) ‖ id ‖ COSE key.
      const idLength = new Uint8Array(2);
      new DataView(idLength.buffer).setUint16(0, credential.id.length);
      const authData = concat(
        authDataHeader(rpId, flags(up, uv, true), credential.signCount),
        aaguid,
        idLength,
        credential.id,
        cosePublicKey,
      );
      const format = overrides.attestation ?? options.attestation ?? "none";
      // §8.2 packed self attestation: sig over authData ‖ SHA-256(clientDataJSON) by the
      // credential's own key, no x5c.
      const attStmt =
        format === "packed"
          ? new Map<string, unknown>([
              ["alg", ES256],
              ["sig", signBytes(privateKey, concat(authData, sha256(clientDataJSON)))],
            ])
          : new Map<string, unknown>();
      const attestationObject = cbor(
        new Map<string, unknown>([
          ["fmt", format],
          ["attStmt", attStmt],
          ["authData", authData],
        ]),
      );

      // Replaces a resident credential for the same RP and user handle (§6.3.2 step 7).
      const existing = held.findIndex((c) => c.rpId === rpId && c.userHandle === credential.userHandle);
      if (existing >= 0) held.splice(existing, 1);
      held.push(credential);

      const id = b64u(credential.id);
      return {
        id,
        rawId: id,
        type: "public-key",
        authenticatorAttachment: "platform",
        clientExtensionResults: { credProps: { rk: true } },
        response: {
          clientDataJSON: b64u(clientDataJSON),
          attestationObject: b64u(attestationObject),
          authenticatorData: b64u(authData),
          transports: ["hybrid", "internal"],
          publicKeyAlgorithm: ES256,
          publicKey: b64u(credential.spki),
        },
      };
    },

    authenticate(request, overrides = {}) {
      const rpId = request.rpId ?? new URL(options.origin).hostname;
      if (rpId !== options.rpId) throw domError("SecurityError", `RP id ${rpId} is not ${options.rpId}`);
      const allowed = request.allowCredentials ?? [];
      let candidates = held.filter((c) => c.rpId === rpId);
      if (allowed.length > 0) candidates = candidates.filter((c) => allowed.some((a) => a.id === b64u(c.id)));
      if (overrides.credentialId !== undefined) {
        candidates = candidates.filter((c) => b64u(c.id) === overrides.credentialId);
      }
      const credential = candidates.at(-1);
      if (credential === undefined) throw domError("NotAllowedError", "no credential for this request");

      // §6.1.1: the counter goes up on each assertion, unless this authenticator keeps it at 0.
      if (options.counter !== "zero") credential.signCount += 1;
      const clientDataJSON = utf8(
        JSON.stringify({
          type: "webauthn.get",
          challenge: overrides.challenge ?? request.challenge,
          origin: overrides.origin ?? options.origin,
          crossOrigin: false,
        }),
      );
      const authData = authDataHeader(
        rpId,
        flags(overrides.userPresent ?? true, overrides.userVerified ?? true, false),
        credential.signCount,
      );
      const signature = signBytes(credential.privateKey, concat(authData, sha256(clientDataJSON)));
      const id = b64u(credential.id);
      const userHandle = overrides.userHandle === undefined ? credential.userHandle : overrides.userHandle;
      return {
        id,
        rawId: id,
        type: "public-key",
        authenticatorAttachment: "platform",
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64u(clientDataJSON),
          authenticatorData: b64u(authData),
          signature: b64u(signature),
          ...(userHandle === null ? {} : { userHandle }),
        },
      };
    },

    credentials() {
      return held.map((c) => ({
        id: b64u(c.id),
        rpId: c.rpId,
        userHandle: c.userHandle,
        userName: c.userName,
        signCount: c.signCount,
      }));
    },

    clone() {
      return build(
        options,
        held.map((c) => ({ ...c })),
      );
    },

    setSignCount(credentialId, signCount) {
      const credential = held.find((c) => b64u(c.id) === credentialId);
      if (credential === undefined) throw new Error("no such credential");
      credential.signCount = signCount;
    },
  };
}

// §6.1 authenticator data: rpIdHash (32) ‖ flags (1) ‖ signCount (4, big-endian).
function authDataHeader(rpId: string, flagByte: number, signCount: number): Uint8Array {
  const header = new Uint8Array(37);
  header.set(sha256(utf8(rpId)), 0);
  header[32] = flagByte;
  new DataView(header.buffer).setUint32(33, signCount);
  return header;
}

function signBytes(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  // ES256 in WebAuthn is an ASN.1 DER ECDSA signature (§6.5.5), node:crypto's default for EC keys.
  return new Uint8Array(sign("sha256", data, privateKey));
}

// ── A minimal CBOR encoder (RFC 8949): just what attestation objects and COSE keys need ──────

function cbor(value: unknown): Uint8Array {
  const out: number[] = [];
  encode(value, out);
  return new Uint8Array(out);
}

function head(major: number, length: number, out: number[]): void {
  if (length < 24) out.push((major << 5) | length);
  else if (length < 0x100) out.push((major << 5) | 24, length);
  else if (length < 0x10000) out.push((major << 5) | 25, length >> 8, length & 0xff);
  else out.push((major << 5) | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff);
}

function encode(value: unknown, out: number[]): void {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError("only integers");
    if (value >= 0) head(0, value, out);
    else head(1, -1 - value, out);
  } else if (typeof value === "string") {
    const bytes = utf8(value);
    head(3, bytes.length, out);
    out.push(...bytes);
  } else if (value instanceof Uint8Array) {
    head(2, value.length, out);
    for (const byte of value) out.push(byte);
  } else if (Array.isArray(value)) {
    head(4, value.length, out);
    for (const item of value) encode(item, out);
  } else if (value instanceof Map) {
    // Keys are written in insertion order; callers insert them in CTAP2 canonical order.
    head(5, value.size, out);
    for (const [key, item] of value) {
      encode(key, out);
      encode(item, out);
    }
  } else {
    throw new TypeError("cannot encode this value");
  }
}

// ── Bytes ──────────────────────────────────────────────────────────────────────────────────

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

function fromB64u(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64url"));
}

function domError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}
