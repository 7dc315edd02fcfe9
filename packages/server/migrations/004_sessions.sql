-- 004: sessions and attempt limits (DESIGN §4.9, threats A-1 and A-2).
-- One SQL dialect for PostgreSQL >= 15 and embedded PGlite (DESIGN §3).

-- Browser sessions of approvers. The 256-bit session id exists only in the `__Host-cs_session`
-- cookie; the table holds its keyed digest HMAC-SHA-256(session-digest key, id), so a dump, a
-- replica or a backup gives no usable cookie. `handle` is a separate random id that names the
-- session in the API (list, revoke) and can never authenticate anyone.
--
-- `data` is ChaCha20-Poly1305 (nonce ‖ ciphertext ‖ tag) under a key derived from the session id
-- itself, with AAD binding the handle, user, method, creation time and absolute expiry: nobody
-- can read it without the cookie, and moving a row to another user, or extending it, makes it
-- fail to open. `user_agent` is a field ciphertext under the user's data key (migration 003), for
-- the session list; `ip_digest` is the keyed digest of the client network that attempt limits use
-- too, so the two can be matched without either table holding an address.
--
-- `idle_expires_at` is the effective expiry: the earlier of last use + idle timeout and the
-- absolute expiry. Users have no table yet; migration 005 adds the foreign key on user_id.
CREATE TABLE sessions (
  id_digest           bytea       PRIMARY KEY CHECK (octet_length(id_digest) = 32),
  handle              text        NOT NULL UNIQUE CHECK (handle ~ '^ses_[A-Za-z0-9_-]{22}$'),
  user_id             text        NOT NULL CHECK (user_id <> ''),
  data                bytea       NOT NULL CHECK (octet_length(data) >= 28),
  auth_method         text        NOT NULL CHECK (auth_method IN ('passkey', 'password', 'recovery')),
  created_at          timestamptz NOT NULL,
  last_seen_at        timestamptz NOT NULL,
  idle_expires_at     timestamptz NOT NULL,
  absolute_expires_at timestamptz NOT NULL,
  step_up_at          timestamptz,
  user_agent          text,
  ip_digest           bytea       CHECK (octet_length(ip_digest) = 32),
  CHECK (idle_expires_at <= absolute_expires_at)
);

-- Listing and revoking a user's sessions; sweeping expired ones.
CREATE INDEX sessions_user_id_idx ON sessions (user_id, last_seen_at);
CREATE INDEX sessions_idle_expires_at_idx ON sessions (idle_expires_at);

-- Failed authentication attempts per (scope, action, subject) for exponential back-off (A-1),
-- shared by every server process. The subject (a canonical email, an account id, a client
-- network) is stored only as HMAC-SHA-256 under the auth-subject-digest key. A row is forgotten
-- once its last failure is old enough, and deleted by a successful sign-in.
CREATE TABLE auth_attempts (
  scope           text        NOT NULL CHECK (scope IN ('account', 'ip')),
  action          text        NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.:-]{0,63}$'),
  subject_digest  bytea       NOT NULL CHECK (octet_length(subject_digest) = 32),
  failures        integer     NOT NULL CHECK (failures > 0),
  last_failure_at timestamptz NOT NULL,
  blocked_until   timestamptz,
  PRIMARY KEY (scope, action, subject_digest)
);

CREATE INDEX auth_attempts_last_failure_at_idx ON auth_attempts (last_failure_at);
