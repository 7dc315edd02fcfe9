-- 012: devices, account key sets, credential bundles and the pairing relay (DESIGN §4.11,
-- issue 9; D-1, D-2, D-3). One SQL dialect for PostgreSQL >= 15 and embedded PGlite.
--
-- Nothing here lets the server read end-to-end context: the account's X25519 private key is
-- stored only sealed under the Account Unlock Key (AUK), the AUK only sealed under a device's
-- non-extractable WebCrypto key (a credential bundle), under the person's recovery secret, or,
-- for a moment during pairing, under a key derived from the CPace session key. None of those
-- keys ever reaches the server.

-- An account key set: the X25519 public key agents encrypt context to (HPKE, RFC 9180), and the
-- private key sealed under the AUK with AAD `countersign/account-private-key/v1` ‖ user ‖ id. The
-- client picks the id because the AADs it seals with name it. `fingerprint` is
-- accountKeyFingerprint(public_key), stored so agent views need not recompute it.
-- `recovery_wrapped_auk` is the AUK sealed under a key derived from the printed recovery secret.
-- A reset retires the set (old end-to-end context stays unreadable without the old AUK); at most
-- one set per account is active.
CREATE TABLE account_keys (
  id                    text        PRIMARY KEY CHECK (id ~ '^ak_[A-Za-z0-9_-]{22}$'),
  user_id               text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key            bytea       NOT NULL CHECK (octet_length(public_key) = 32),
  fingerprint           text        NOT NULL CHECK (fingerprint ~ '^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$'),
  encrypted_private_key text        NOT NULL CHECK (encrypted_private_key LIKE 'v1.%' AND char_length(encrypted_private_key) <= 512),
  recovery_wrapped_auk  text        CHECK (recovery_wrapped_auk LIKE 'v1.%' AND char_length(recovery_wrapped_auk) <= 512),
  created_at            timestamptz NOT NULL,
  retired_at            timestamptz
);
CREATE UNIQUE INDEX account_keys_one_active ON account_keys (user_id) WHERE retired_at IS NULL;

-- A browser (or app) of a person. `signing_public_key` is the SPKI (DER) of the device's
-- non-extractable ECDSA P-256 key, which proves the device when a session attaches to it.
-- `name` and `platform` are sealed for (devices, column, id) under the user's data key, like
-- passkey names: people name devices after themselves (platform is at most 64 characters before
-- sealing). `bundle` is the AUK sealed by the device's AES-GCM wrapping key for the account key
-- set `bundle_account_key_id`; the server cannot open it. Revoked devices stay, marked, for the
-- audit trail; revoking drops the bundle.
CREATE TABLE devices (
  id                    text        PRIMARY KEY CHECK (id ~ '^dev_[A-Za-z0-9_-]{22}$'),
  user_id               text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name                  text        NOT NULL CHECK (name LIKE 'v1.%'),
  platform              text        NOT NULL CHECK (platform LIKE 'v1.%'),
  signing_public_key    bytea       NOT NULL CHECK (octet_length(signing_public_key) BETWEEN 1 AND 200),
  bundle                text        CHECK (bundle LIKE 'v1.%' AND char_length(bundle) <= 512),
  bundle_account_key_id text        REFERENCES account_keys (id) ON DELETE SET NULL,
  created_at            timestamptz NOT NULL,
  last_seen_at          timestamptz NOT NULL,
  revoked_at            timestamptz,
  CHECK (revoked_at IS NULL OR bundle IS NULL),
  CHECK (bundle IS NULL OR bundle_account_key_id IS NOT NULL)
);
CREATE INDEX devices_user_id_idx ON devices (user_id, created_at) WHERE revoked_at IS NULL;

-- The device a session is bound to (register or attach after sign-in). Deleting a device row
-- (only with its user) leaves the session unbound; revoking a device deletes its sessions.
ALTER TABLE sessions ADD COLUMN device_id text REFERENCES devices (id) ON DELETE SET NULL;
CREATE INDEX sessions_device_id_idx ON sessions (device_id) WHERE device_id IS NOT NULL;

-- The device a push subscription was made from, so revoking the device removes it.
ALTER TABLE push_subscriptions ADD COLUMN device_id text REFERENCES devices (id) ON DELETE CASCADE;
CREATE INDEX push_subscriptions_device_id_idx ON push_subscriptions (device_id) WHERE device_id IS NOT NULL;

-- The pairing relay (D-2): two devices of one account run CPace (draft-irtf-cfrg-cpace) through
-- the server, which sees only the protocol messages, the confirmation tags and the AUK sealed
-- under a key derived from the CPace session key. `sid` is the session id the server chose.
-- One guess per pairing: a pairing accepts exactly one join; a failed confirmation ends it.
--   waiting → joined → confirmed → completed
--   waiting | joined | confirmed → failed | canceled | expired
-- Completing clears the tags and the sealed AUK. Rows are kept (counted by the hourly limit).
CREATE TABLE pairing_sessions (
  id                  text        PRIMARY KEY CHECK (id ~ '^pair_[A-Za-z0-9_-]{22}$'),
  user_id             text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  sid                 bytea       NOT NULL CHECK (octet_length(sid) = 16),
  initiator_device_id text        NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  responder_device_id text        REFERENCES devices (id) ON DELETE CASCADE,
  initiator_message   bytea       NOT NULL CHECK (octet_length(initiator_message) BETWEEN 1 AND 1024),
  responder_message   bytea       CHECK (octet_length(responder_message) BETWEEN 1 AND 1024),
  responder_tag       bytea       CHECK (octet_length(responder_tag) BETWEEN 1 AND 64),
  initiator_tag       bytea       CHECK (octet_length(initiator_tag) BETWEEN 1 AND 64),
  sealed_auk          text        CHECK (sealed_auk LIKE 'v1.%' AND char_length(sealed_auk) <= 512),
  state               text        NOT NULL
                                  CHECK (state IN ('waiting', 'joined', 'confirmed', 'completed', 'failed', 'expired', 'canceled')),
  created_at          timestamptz NOT NULL,
  expires_at          timestamptz NOT NULL,
  CHECK (expires_at > created_at)
);
CREATE INDEX pairing_sessions_user_idx ON pairing_sessions (user_id, created_at);
