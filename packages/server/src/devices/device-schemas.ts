import { Type } from "typebox";

/**
 * The JSON shapes of the device, account-key and pairing routes (spec §2 of issue 9). Binary
 * values travel as base64url without padding; sealed values as `v1.` + base64url.
 */

export const ErrorRef = { $ref: "ErrorBody#" };
export const SESSION_SECURITY = [{ sessionCookie: [] }];
const Timestamp = Type.String({ format: "date-time" });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** base64url without padding, at most `maxBytes` decoded bytes (every byte input has a bound). */
export const B64u = (maxBytes: number, description: string) =>
  Type.String({ pattern: "^[A-Za-z0-9_-]+$", minLength: 1, maxLength: Math.ceil((maxBytes * 4) / 3), description });

/** A value sealed by a client under a key the server never has. */
export const Sealed = (description: string) =>
  Type.String({ pattern: "^v1\\.[A-Za-z0-9_-]+$", minLength: 4, maxLength: 512, description });

export const DeviceId = Type.String({ pattern: "^dev_[A-Za-z0-9_-]{22}$", description: "A device's id." });
export const AccountKeyId = Type.String({
  pattern: "^ak_[A-Za-z0-9_-]{22}$",
  description: "An account key set's id, `ak_` and 22 base64url characters, chosen by the client.",
});
export const PairingId = Type.String({ pattern: "^pair_[A-Za-z0-9_-]{22}$", description: "A pairing's id." });

/** A device as the devices list shows it. */
export const DeviceView = Type.Object(
  {
    id: DeviceId,
    name: Nullable(Type.String({ description: "Null after the account's data key was erased." })),
    platform: Nullable(Type.String()),
    created_at: Timestamp,
    last_seen_at: Timestamp,
    current: Type.Boolean({ description: "Whether the session making the request is bound to this device." }),
    has_bundle: Type.Boolean({ description: "Whether it holds an unlock key for the active account key set." }),
    has_push: Type.Boolean({
      description: "Whether new requests are pushed to it (a push subscription made from it).",
    }),
  },
  { additionalProperties: false },
);

export const DeviceBody = Type.Object({ device: DeviceView }, { additionalProperties: false });

export const RegisterDeviceInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    platform: Type.String({ minLength: 0, maxLength: 64 }),
    public_key: B64u(200, "The device's ECDSA P-256 public signing key, SPKI (DER)."),
  },
  { additionalProperties: false },
);

export const AttachDeviceInput = Type.Object(
  {
    signature: B64u(
      64,
      'ECDSA P-256/SHA-256, raw r‖s, over the UTF-8 of JCS({v:1, purpose:"countersign/device-attach", session, device_id}).',
    ),
  },
  { additionalProperties: false },
);

export const DeviceList = Type.Object(
  {
    devices: Type.Array(DeviceView),
    session_handle: Type.String({ description: "The handle a device signs to attach this session." }),
    current_device_id: Type.Union([DeviceId, Type.Null()]),
  },
  { additionalProperties: false },
);

/** An account key set's public part. */
export const AccountKeyView = Type.Object(
  {
    id: AccountKeyId,
    public_key: B64u(32, "Raw X25519 public key."),
    fingerprint: Type.String({ description: "accountKeyFingerprint(public_key), 8 groups of 4." }),
    created_at: Timestamp,
    has_recovery: Type.Boolean({ description: "Whether a recovery secret wraps the AUK." }),
  },
  { additionalProperties: false },
);

export const AccountKeyBody = Type.Object(
  { account_key: Type.Union([AccountKeyView, Type.Null()]) },
  { additionalProperties: false },
);

export const AccountKeyInput = Type.Object(
  {
    id: AccountKeyId,
    public_key: B64u(32, "Raw X25519 public key, 32 bytes."),
    encrypted_private_key: Sealed("The X25519 private key sealed under the AUK."),
    recovery_wrapped_auk: Type.Optional(Sealed("The AUK sealed under the recovery secret's key.")),
    bundle: Sealed("This device's credential bundle: the AUK sealed by its wrapping key."),
  },
  { additionalProperties: false },
);

export const StoreBundleInput = Type.Object(
  { bundle: Sealed("The AUK sealed by this device's wrapping key."), account_key_id: AccountKeyId },
  { additionalProperties: false },
);

export const BundleBody = Type.Object(
  {
    bundle: Type.String(),
    account_key: Type.Object(
      {
        id: AccountKeyId,
        public_key: Type.String(),
        fingerprint: Type.String(),
        encrypted_private_key: Type.String(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const RecoveryBody = Type.Object(
  {
    account_key_id: AccountKeyId,
    recovery_wrapped_auk: Type.String(),
    encrypted_private_key: Type.String(),
    public_key: Type.String(),
  },
  { additionalProperties: false },
);

const PairingState = Type.Union([
  Type.Literal("waiting"),
  Type.Literal("joined"),
  Type.Literal("confirmed"),
  Type.Literal("completed"),
  Type.Literal("failed"),
  Type.Literal("expired"),
  Type.Literal("canceled"),
]);
const CpaceMessage = B64u(1024, "A CPace message (MSGa or MSGb) as the draft encodes it.");
const CpaceTag = Type.String({
  pattern: "^[A-Za-z0-9_-]+$",
  minLength: 22,
  maxLength: 86,
  description: "A CPace key-confirmation tag (16 to 64 bytes).",
});

export const StartPairingInput = Type.Object(
  {
    sid: Type.String({
      pattern: "^[A-Za-z0-9_-]{22}$",
      description: "CPace's session id, 16 random bytes drawn by the initiator (its generator needs it before MSGa).",
    }),
    message: CpaceMessage,
  },
  { additionalProperties: false },
);
export const JoinPairingInput = Type.Object({ message: CpaceMessage, tag: CpaceTag }, { additionalProperties: false });
export const ConfirmPairingInput = Type.Object(
  { tag: CpaceTag, sealed_auk: Sealed("The AUK sealed under the key derived from the CPace ISK.") },
  { additionalProperties: false },
);
export const FailPairingInput = Type.Object(
  { reason: Type.Union([Type.Literal("confirmation_failed"), Type.Literal("canceled")]) },
  { additionalProperties: false },
);

export const StartedPairingBody = Type.Object(
  {
    pairing: Type.Object(
      { id: PairingId, sid: Type.String(), state: PairingState, expires_at: Timestamp },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const OpenPairingBody = Type.Object(
  {
    pairing: Type.Object(
      {
        id: PairingId,
        sid: Type.String(),
        initiator_device_id: DeviceId,
        initiator_message: Type.String(),
        expires_at: Timestamp,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const NullableText = Nullable(Type.String());
export const PairingView = Type.Object(
  {
    id: PairingId,
    state: PairingState,
    sid: Type.String(),
    initiator_device_id: DeviceId,
    responder_device_id: Type.Union([DeviceId, Type.Null()]),
    initiator_message: Type.String(),
    responder_message: NullableText,
    responder_tag: NullableText,
    initiator_tag: NullableText,
    sealed_auk: NullableText,
    expires_at: Timestamp,
  },
  { additionalProperties: false },
);

export const PairingBody = Type.Object({ pairing: PairingView }, { additionalProperties: false });

export const PairingIdParams = Type.Object({ id: PairingId }, { additionalProperties: false });
export const DeviceIdParams = Type.Object({ id: DeviceId }, { additionalProperties: false });
