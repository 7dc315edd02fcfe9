-- 011: push subscriptions (DESIGN §4.10, T-3, issue 7 parts 3–4). One SQL dialect for
-- PostgreSQL >= 15 and embedded PGlite (DESIGN §3).
--
-- One row per place a person's new approval requests are pushed to: a browser's Web Push
-- subscription, or a native app's APNs or FCM device token. Devices proper come later (DESIGN
-- §4.11); until then a subscription stands alone, keyed by what it points at.
--
-- `target` is the endpoint URL (webpush) or the device token (apns, fcm) and `keys` the Web Push
-- subscription's p256dh and auth (JSON; NULL for native tokens), both sealed under the owner's
-- data key with field-cipher.ts (A-3): an endpoint or token is a capability to reach the person's
-- device. `target_digest` is a keyed digest of the kind and target (HMAC under a key derived from
-- the master key), so the same subscription posted twice updates one row and DELETE by endpoint
-- finds it, without the database ever seeing the endpoint. Unique across all users: a browser
-- that signs in to another account moves its subscription there.
--
-- `last_success_at` is the last accepted push; `failure_count` and `last_failure` (a short, fixed
-- description, never a response body) record trouble since then. A push service's "gone" answer
-- deletes the row instead.
CREATE TABLE push_subscriptions (
  id              text        PRIMARY KEY CHECK (id ~ '^psub_[A-Za-z0-9_-]{22}$'),
  user_id         text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind            text        NOT NULL CHECK (kind IN ('webpush', 'apns', 'fcm')),
  target_digest   text        NOT NULL UNIQUE CHECK (target_digest ~ '^[0-9a-f]{64}$'),
  target          text        NOT NULL,
  keys            text,
  created_at      timestamptz NOT NULL,
  last_success_at timestamptz,
  failure_count   integer     NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
  last_failure_at timestamptz,
  last_failure    text        CHECK (char_length(last_failure) <= 200),
  CHECK ((kind = 'webpush') = (keys IS NOT NULL))
);

-- The notifier's read: every subscription of the request's owner.
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, created_at);
