-- 009: the outbox of signed webhooks to approval requests' callback URLs (DESIGN §4.4, issue 6
-- part 6). One SQL dialect for PostgreSQL >= 15 and embedded PGlite (DESIGN §3).

-- One row per webhook, inserted in the same transaction as the state change it reports
-- (transactional outbox): a decision that commits always has its webhook, and a rolled-back one
-- never sends. A terminal state happens once per request, so there is at most one webhook per
-- approval (UNIQUE, which also indexes the ON DELETE CASCADE).
--
-- `body` holds the exact JSON bytes to send, built once, so every retry sends identical bytes
-- (and an identical Content-Digest); only the signature, made per attempt, changes. `url` is the
-- callback URL as the agent gave it (already validated); it is checked again before each attempt.
-- `user_id` and `agent_id` are copied from the request: hot tables carry the user id (DESIGN §3)
-- and neither needs a foreign key of its own, since the approval's cascade covers both.
--
-- `next_attempt_at` is when the row is next due while it is pending, and doubles as a lease: a
-- dispatcher that claims a row pushes it past the attempt's timeout, so a process that dies
-- mid-attempt leaves the row to be retried, never lost. `attempts` counts claims, so a row that
-- crashes its sender still runs out of attempts. `last_error` is a short, fixed description
-- (never a response body or a secret).
CREATE TABLE webhook_deliveries (
  id              text        PRIMARY KEY CHECK (id ~ '^whd_[A-Za-z0-9_-]{22}$'),
  approval_id     text        NOT NULL UNIQUE REFERENCES approval_requests (id) ON DELETE CASCADE,
  user_id         text        NOT NULL,
  agent_id        text        NOT NULL,
  url             text        NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
  event_type      text        NOT NULL CHECK (event_type IN ('approval.approved', 'approval.rejected',
                                                             'approval.expired', 'approval.canceled')),
  body            text        NOT NULL,
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz,
  last_status     integer     CHECK (last_status BETWEEN 100 AND 999),
  last_error      text        CHECK (char_length(last_error) <= 200),
  created_at      timestamptz NOT NULL,
  delivered_at    timestamptz,
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
  CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);

-- The dispatchers' claim: due pending rows, oldest first. Partial, so delivered and failed rows
-- (the vast majority, kept as a delivery log) cost the claim nothing.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
