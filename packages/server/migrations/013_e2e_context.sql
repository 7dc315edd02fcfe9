-- 013: end-to-end encrypted context (DESIGN §4.11, issue 9 part 4). One SQL dialect for
-- PostgreSQL >= 15 and embedded PGlite.
--
-- An agent created with `e2e: true` is pinned to the account key set that was active then (a
-- rotation re-pins it to the one active at rotation). Its requests carry `context_e2e`, an HPKE
-- ciphertext to that key which the server stores (inside the sealed column, like the rest of what
-- the app shows) and never opens: it has no private key to open it with (migration 012 keeps that
-- sealed under the AUK).
--
-- No ON DELETE action: account key sets are retired, never deleted, except with their user, and
-- then the user's agents and requests go in the same statement.
ALTER TABLE agents ADD COLUMN e2e_account_key_id text REFERENCES account_keys (id);

-- The key set a request's context was encrypted to; NULL for a request with plaintext context.
ALTER TABLE approval_requests ADD COLUMN e2e_account_key_id text REFERENCES account_keys (id);

-- The server cannot hash what it cannot read (DESIGN §4.5): an end-to-end request has no display
-- payload hash until the person decides. The app computes it over the decrypted context, the
-- passkey signs it inside the decision challenge, and the decision writes it here once, so
-- receipts, webhooks and reconciliation see it like any other. A plaintext request always has one.
ALTER TABLE approval_requests ALTER COLUMN display_payload_hash DROP NOT NULL;
ALTER TABLE approval_requests ADD CONSTRAINT approval_requests_hash_unless_e2e
  CHECK (display_payload_hash IS NOT NULL OR e2e_account_key_id IS NOT NULL);
ALTER TABLE approval_requests ADD CONSTRAINT approval_requests_approved_has_hash
  CHECK (status <> 'approved' OR display_payload_hash IS NOT NULL);

-- Migration 008's guard, with the one change above allowed: an open end-to-end request's NULL
-- hash may be set by the transition that decides it (approved or rejected by the person), never
-- changed once set, and never on a plaintext request. The key set a request was encrypted to
-- never changes either.
CREATE OR REPLACE FUNCTION approval_requests_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF NEW.display_payload_hash IS DISTINCT FROM OLD.display_payload_hash AND NOT (
       OLD.display_payload_hash IS NULL AND OLD.e2e_account_key_id IS NOT NULL
       AND NEW.status IN ('approved', 'rejected') AND NEW.evidence IS NOT NULL
  ) THEN
    RAISE EXCEPTION 'approval request %: the display payload hash never changes', OLD.id
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.user_id IS DISTINCT FROM OLD.user_id
     OR NEW.agent_id IS DISTINCT FROM OLD.agent_id OR NEW.sealed IS DISTINCT FROM OLD.sealed
     OR NEW.e2e_account_key_id IS DISTINCT FROM OLD.e2e_account_key_id
     OR NEW.action_type IS DISTINCT FROM OLD.action_type OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
    RAISE EXCEPTION 'approval request %: what was asked never changes', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;
