-- 005: accounts, passkeys, email codes, tickets, WebAuthn challenges and recovery codes
-- (DESIGN §4.9; threats A-1, A-3, A-4, A-5). docs/security.md "Accounts and passkeys" describes
-- the flows these tables serve. One SQL dialect for PostgreSQL >= 15 and embedded PGlite.
--
-- Nothing here holds an email address, a code, a ticket or a recovery code in plaintext:
-- addresses are field-cipher envelopes under the user's data key (migration 003) with a blind
-- index beside them; codes, tickets and challenges are keyed digests (HMAC-SHA-256 under a key
-- derived from the root secret); recovery codes are Argon2id hashes.

-- An account. `email` is `v1.<kid>.<…>` sealed for (users, email, id) under the user's data key;
-- `email_index` is the blind index of the normalized address, the only way a row is found by
-- address. `password_hash` exists only when the person chose to add password sign-in.
CREATE TABLE users (
  id              text        PRIMARY KEY CHECK (id ~ '^usr_[A-Za-z0-9_-]{22}$'),
  email           text        NOT NULL CHECK (email LIKE 'v1.%'),
  email_index     text        NOT NULL UNIQUE CHECK (email_index ~ '^[0-9a-f]{64}$'),
  status          text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  password_hash   text        CHECK (password_hash LIKE '$argon2id$%'),
  password_set_at timestamptz,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  CHECK ((password_hash IS NULL) = (password_set_at IS NULL))
);

-- Single-use 6-digit codes sent by mail (A-5). One live code per (purpose, subject); `subject` is
-- the address's blind index (signup, recovery) or a ticket's digest (password-2fa). `digest` is
-- HMAC(purpose, subject, code): a dump does not even allow a million-guess search without the
-- root secret. A right code is consumed with DELETE … RETURNING under a row lock; the fifth wrong
-- entry deletes the row.
CREATE TABLE email_codes (
  purpose    text        NOT NULL CHECK (purpose IN ('signup', 'recovery', 'password-2fa')),
  subject    text        NOT NULL CHECK (subject ~ '^[0-9a-f]{64}$'),
  digest     text        NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
  user_id    text        REFERENCES users (id) ON DELETE CASCADE,
  attempts   int         NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (purpose, subject)
);
CREATE INDEX email_codes_expires_at_idx ON email_codes (expires_at);

-- Short-lived bearer tickets that carry a person from one step of a flow to the next: from a
-- verified sign-up code to registering the first passkey, from a recovery to registering a new
-- one, from a password to its emailed second factor. Stored by keyed digest only.
-- For `signup`, `user_id` is the id the account will get (no row yet, hence no foreign key) and
-- `email` is the address already sealed for (users, email, user_id), moved as is into `users`.
CREATE TABLE auth_tickets (
  digest      text        PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),
  purpose     text        NOT NULL CHECK (purpose IN ('signup', 'recovery', 'password-2fa')),
  user_id     text        NOT NULL CHECK (user_id ~ '^usr_[A-Za-z0-9_-]{22}$'),
  email_index text        NOT NULL CHECK (email_index ~ '^[0-9a-f]{64}$'),
  email       text        CHECK (email LIKE 'v1.%'),
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  CHECK ((purpose = 'signup') = (email IS NOT NULL))
);
CREATE INDEX auth_tickets_expires_at_idx ON auth_tickets (expires_at);

-- WebAuthn credentials (passkeys). `credential_id` is the base64url credential id the
-- authenticator chose (public: it travels in every assertion); `public_key` its COSE_Key.
-- `name` is sealed for (passkeys, name, id) under the user's data key: people name passkeys
-- after themselves and their devices. `sign_count` follows WebAuthn L3 §6.1.1;
-- `counter_regressed_at` records a possible clone (§7.2, signCount step; docs/security.md).
-- Revoked passkeys stay, marked, so the audit trail and the credential id are never reused.
CREATE TABLE passkeys (
  id                   text        PRIMARY KEY CHECK (id ~ '^pk_[A-Za-z0-9_-]{22}$'),
  user_id              text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  credential_id        text        NOT NULL UNIQUE
                                   CHECK (credential_id ~ '^[A-Za-z0-9_-]+$' AND length(credential_id) <= 1366),
  public_key           bytea       NOT NULL CHECK (length(public_key) BETWEEN 1 AND 4096),
  sign_count           bigint      NOT NULL DEFAULT 0 CHECK (sign_count BETWEEN 0 AND 4294967295),
  transports           text[]      NOT NULL DEFAULT '{}',
  name                 text        NOT NULL CHECK (name LIKE 'v1.%'),
  aaguid               text        NOT NULL,
  attestation_format   text        NOT NULL,
  backup_eligible      boolean     NOT NULL,
  backed_up            boolean     NOT NULL,
  created_at           timestamptz NOT NULL,
  last_used_at         timestamptz,
  counter_regressed_at timestamptz,
  revoked_at           timestamptz
);
CREATE INDEX passkeys_user_id_idx ON passkeys (user_id, created_at) WHERE revoked_at IS NULL;

-- Outstanding WebAuthn challenges (A-5): single use (DELETE … RETURNING), expiring, and bound to
-- what they were issued for: a ticket or a session (`binding`, a keyed digest), and the account
-- when one is known. Stored by keyed digest of the challenge.
CREATE TABLE webauthn_challenges (
  digest     text        PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),
  purpose    text        NOT NULL CHECK (purpose IN ('sign-in', 'step-up', 'add-passkey', 'signup', 'recovery')),
  user_id    text        REFERENCES users (id) ON DELETE CASCADE,
  binding    text        CHECK (binding ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX webauthn_challenges_expires_at_idx ON webauthn_challenges (expires_at);

-- Recovery codes (issue 4 part 8): ten per account, each 100 random bits, shown once. `hash` is
-- the Argon2id PHC string; `lookup` is a keyed digest of (user id, code) so that checking a code
-- costs one Argon2id verify, the same as the dummy verify an unknown account gets (A-4). Single
-- use: `used_at` is set by a conditional UPDATE.
CREATE TABLE recovery_codes (
  user_id    text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  lookup     text        NOT NULL CHECK (lookup ~ '^[0-9a-f]{64}$'),
  hash       text        NOT NULL CHECK (hash LIKE '$argon2id$%'),
  created_at timestamptz NOT NULL,
  used_at    timestamptz,
  PRIMARY KEY (user_id, lookup)
);

-- sessions.user_id (migration 004) is meant to reference users (id). The constraint is not added
-- here yet: the session tests start sessions for user ids that have no account row. It belongs
-- in a later migration once those tests create their users first.
