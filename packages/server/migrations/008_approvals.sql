-- 008: approval requests, their decision nonces, throttle windows and the person's settings
-- (DESIGN §4.4–4.7; T-1, T-3, T-4, T-6, T-9). One SQL dialect for PostgreSQL >= 15 and PGlite.

-- A person's settings. `default_ttl_seconds` is the approval lifetime used when neither the
-- request nor the agent names one (issue 6 part 1); NULL means the built-in 300 s.
CREATE TABLE user_settings (
  user_id               text        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  default_ttl_seconds   integer     CHECK (default_ttl_seconds BETWEEN 30 AND 1800),
  notifications_enabled boolean     NOT NULL DEFAULT true,
  updated_at            timestamptz NOT NULL
);

-- An agent's default TTL becomes optional: without one, the person's setting applies.
ALTER TABLE agents ALTER COLUMN default_ttl_seconds DROP NOT NULL;

-- One approval request. Everything the app shows (the display payload: title, body, context,
-- binding message, …) and the number to type are sealed together under the owner's data key
-- (`sealed`, envelope v1, AAD = table, column and id; T-5, A-3): a database dump shows neither.
-- `display_payload_hash` (DESIGN §4.5) is public by design — the agent holds it and receipts
-- carry it. `agent_credentials_version` is the agent's version at creation: a decision on a
-- request whose agent has rotated since is refused (issue 6 part 4).
--
-- States (DESIGN §4.4): pending → delivered → approved | rejected | expired | canceled.
-- `reason` says why a request ended other than by a plain decision: number_mismatch,
-- not_requested ("I didn't ask for this"), expired, canceled_by_agent, agent_revoked,
-- credentials_rotated, agent_suspended.
CREATE TABLE approval_requests (
  id                        text        PRIMARY KEY CHECK (id ~ '^apr_[A-Za-z0-9_-]{22}$'),
  user_id                   text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  agent_id                  text        NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  agent_credentials_version integer     NOT NULL,
  auth_mode                 text        NOT NULL CHECK (auth_mode IN ('signed', 'bearer_only')),
  action_type               text        NOT NULL CHECK (action_type ~ '^[a-z0-9][a-z0-9._:-]{0,63}$'),
  status                    text        NOT NULL CHECK (status IN ('pending', 'delivered', 'approved', 'rejected', 'expired', 'canceled')),
  reason                    text        CHECK (reason IN ('number_mismatch', 'not_requested', 'expired', 'canceled_by_agent',
                                                          'agent_revoked', 'credentials_rotated', 'agent_suspended')),
  sealed                    text        NOT NULL CHECK (sealed LIKE 'v1.%'),
  display_payload_hash      text        NOT NULL CHECK (display_payload_hash ~ '^sha256:[0-9a-f]{64}$'),
  ttl_seconds               integer     NOT NULL CHECK (ttl_seconds BETWEEN 30 AND 1800),
  callback_url              text        CHECK (char_length(callback_url) <= 2048),
  number_attempts           integer     NOT NULL DEFAULT 0 CHECK (number_attempts BETWEEN 0 AND 3),
  created_at                timestamptz NOT NULL,
  expires_at                timestamptz NOT NULL,
  delivered_at              timestamptz,
  decided_at                timestamptz,
  -- The decision's proof (DESIGN §4.6, T-4): the WebAuthn assertion as received, the passkey's
  -- credential id and COSE public key copied at decision time (so the evidence outlives the
  -- passkey), the nonce and challenge. JSON text; public by nature (it proves, it grants nothing).
  evidence                  jsonb,
  -- The receipt (DESIGN §4.7), a compact JWS, set once with the approval.
  receipt                   text,
  -- When the agent last polled (issue 6 part 6): faster than `interval` gets 429 slow_down. The
  -- only column that may change after a terminal state.
  last_polled_at            timestamptz,
  CHECK (expires_at > created_at),
  CHECK ((status IN ('approved', 'rejected', 'expired', 'canceled')) = (decided_at IS NOT NULL)),
  CHECK ((status = 'approved') = (receipt IS NOT NULL)),
  CHECK (status <> 'approved' OR evidence IS NOT NULL),
  CHECK (reason IS NULL OR status IN ('rejected', 'expired', 'canceled'))
);

-- The person's inbox and history, newest first (keyset pagination on (created_at, id)).
CREATE INDEX approval_requests_user_idx ON approval_requests (user_id, created_at DESC, id DESC);
-- Cancel-on-revoke and the agent's own listing.
CREATE INDEX approval_requests_agent_idx ON approval_requests (agent_id, status);
-- The expiry sweeper.
CREATE INDEX approval_requests_open_expiry_idx ON approval_requests (expires_at) WHERE status IN ('pending', 'delivered');
-- Cool-down lookups: the latest rejection of a (user, agent, action type).
CREATE INDEX approval_requests_rejections_idx ON approval_requests (user_id, agent_id, action_type, decided_at DESC)
  WHERE status = 'rejected';

-- In-flight suppression (T-1), race-free: at most one open request per (user, agent, action
-- type). Creation is INSERT … ON CONFLICT DO NOTHING against this index; of 100 concurrent
-- identical requests exactly one inserts, the others read the winner.
CREATE UNIQUE INDEX approval_requests_in_flight_idx ON approval_requests (user_id, agent_id, action_type)
  WHERE status IN ('pending', 'delivered');

-- Terminal states never change (DESIGN §4.4), whatever the code path: a trigger refuses any
-- UPDATE of a decided row except the poll bookkeeping, and any transition the lifecycle does not
-- have. Deleting rows (the owner's account, the agent) stays possible; the audit log keeps the
-- history.
CREATE FUNCTION approval_requests_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status IN ('approved', 'rejected', 'expired', 'canceled') THEN
    IF (to_jsonb(NEW) - 'last_polled_at') IS DISTINCT FROM (to_jsonb(OLD) - 'last_polled_at') THEN
      RAISE EXCEPTION 'approval request % is %: terminal states never change', OLD.id, OLD.status
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'pending' AND NEW.status IN ('delivered', 'approved', 'rejected', 'expired', 'canceled'))
    OR (OLD.status = 'delivered' AND NEW.status IN ('approved', 'rejected', 'expired', 'canceled'))
  ) THEN
    RAISE EXCEPTION 'approval request %: % → % is not a transition', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.user_id IS DISTINCT FROM OLD.user_id
     OR NEW.agent_id IS DISTINCT FROM OLD.agent_id OR NEW.sealed IS DISTINCT FROM OLD.sealed
     OR NEW.display_payload_hash IS DISTINCT FROM OLD.display_payload_hash
     OR NEW.action_type IS DISTINCT FROM OLD.action_type OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
    RAISE EXCEPTION 'approval request %: what was asked never changes', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER approval_requests_guard_update BEFORE UPDATE ON approval_requests
  FOR EACH ROW EXECUTE FUNCTION approval_requests_guard_update();

-- Single-use decision nonces (DESIGN §4.6 step 1, A-5): handed out with the request, stored as a
-- keyed digest, consumed with DELETE … RETURNING by the decision that quotes it. Several may be
-- open for one request (two open tabs); each lives 5 minutes.
CREATE TABLE approval_decision_nonces (
  digest      text        PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),
  request_id  text        NOT NULL REFERENCES approval_requests (id) ON DELETE CASCADE,
  user_id     text        NOT NULL,
  expires_at  timestamptz NOT NULL
);

CREATE INDEX approval_decision_nonces_request_idx ON approval_decision_nonces (request_id);
CREATE INDEX approval_decision_nonces_expires_at_idx ON approval_decision_nonces (expires_at);

-- Fixed one-minute windows of approval creations per agent and per person (T-1 throttles), in
-- the database so that every server process counts against the same limit.
CREATE TABLE approval_throttle_windows (
  scope        text        NOT NULL,
  window_start timestamptz NOT NULL,
  count        integer     NOT NULL,
  PRIMARY KEY (scope, window_start)
);
