-- 006: agents, their keys, enrolment codes and idempotency records (DESIGN §4.1–4.3; T-2, T-7,
-- T-8, T-10). One SQL dialect for PostgreSQL >= 15 and embedded PGlite (DESIGN §3).

-- An agent belongs to one person (`user_id`). `auth_mode` is fixed at creation and is the only
-- place the server learns how an agent authenticates (T-10): a trigger below refuses to change
-- it. `credentials_version` goes up by one on every rotation; a key enrolled under an older
-- version is refused at once. `ip_allowlist` holds normalized addresses and CIDR ranges (empty:
-- any address; bearer agents must have one). Bearer agents carry the keyed digest of their token
-- (HMAC-SHA-256, never the token) and its expiry (DESIGN §4.2).
-- Deleting a user deletes their agents, keys and codes; their audit entries stay (DESIGN §4.8).
CREATE TABLE agents (
  id                  text        PRIMARY KEY CHECK (id ~ '^agt_[A-Za-z0-9_-]{22}$'),
  user_id             text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name                text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
  auth_mode           text        NOT NULL CHECK (auth_mode IN ('signed', 'bearer_only')),
  status              text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'revoked')),
  allowed_actions     text[]      NOT NULL CHECK (cardinality(allowed_actions) BETWEEN 1 AND 64),
  ip_allowlist        text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(ip_allowlist) <= 32),
  default_ttl_seconds integer     NOT NULL CHECK (default_ttl_seconds BETWEEN 30 AND 1800),
  credentials_version integer     NOT NULL DEFAULT 1 CHECK (credentials_version >= 1),
  bearer_token_digest text        UNIQUE CHECK (bearer_token_digest ~ '^[0-9a-f]{64}$'),
  bearer_expires_at   timestamptz,
  created_at          timestamptz NOT NULL,
  enrolled_at         timestamptz,
  last_used_at        timestamptz,
  status_changed_at   timestamptz,
  CONSTRAINT agents_bearer_expiry CHECK ((auth_mode = 'bearer_only') = (bearer_expires_at IS NOT NULL)),
  CONSTRAINT agents_bearer_token CHECK (auth_mode = 'bearer_only' OR bearer_token_digest IS NULL),
  CONSTRAINT agents_bearer_allowlist CHECK (auth_mode <> 'bearer_only' OR cardinality(ip_allowlist) > 0)
);

CREATE INDEX agents_user_id_idx ON agents (user_id, created_at);

-- T-10 in the database too: no statement, from any code path, turns a signed agent into a bearer
-- one. Revocation is final. A bearer agent's token is only ever replaced, never added to a
-- signed agent (the CHECK above).
CREATE FUNCTION agents_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.auth_mode IS DISTINCT FROM OLD.auth_mode THEN
    RAISE EXCEPTION 'agents.auth_mode cannot change' USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.status = 'revoked' AND NEW.status IS DISTINCT FROM 'revoked' THEN
    RAISE EXCEPTION 'a revoked agent stays revoked' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.credentials_version < OLD.credentials_version THEN
    RAISE EXCEPTION 'agents.credentials_version never goes down' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER agents_guard_update BEFORE UPDATE ON agents FOR EACH ROW EXECUTE FUNCTION agents_guard_update();

-- Public keys of signed agents (Ed25519, 32 raw bytes, RFC 8032 §5.1.5). The key id is the key's
-- RFC 7638 JWK thumbprint, so it is a function of the key: a row never changes, which is what
-- lets servers cache the imported key by key id while reading the agent row fresh per request.
-- A public key is enrolled once, ever (the primary key), so a rotation needs a new key pair.
CREATE TABLE agent_keys (
  key_id              text        PRIMARY KEY CHECK (key_id ~ '^[A-Za-z0-9_-]{43}$'),
  agent_id            text        NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  public_key          bytea       NOT NULL CHECK (octet_length(public_key) = 32),
  credentials_version integer     NOT NULL CHECK (credentials_version >= 1),
  created_at          timestamptz NOT NULL,
  UNIQUE (agent_id, credentials_version)
);

-- The one open enrolment code of an agent (DESIGN §4.3): stored as a keyed digest, 10 minutes,
-- consumed by DELETE … RETURNING so that of two concurrent enrolments exactly one gets the row
-- (A-5). A rotation replaces the row; a revocation deletes it.
CREATE TABLE agent_enrollment_codes (
  agent_id            text        PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
  code_digest         text        NOT NULL UNIQUE CHECK (code_digest ~ '^[0-9a-f]{64}$'),
  credentials_version integer     NOT NULL,
  expires_at          timestamptz NOT NULL
);

CREATE INDEX agent_enrollment_codes_expires_at_idx ON agent_enrollment_codes (expires_at);

-- Idempotency-Key records of agent POSTs (T-8): one per (agent, key) for 24 hours. `request_hash`
-- is SHA-256 over method, path, query and body; the stored response is replayed for the same
-- request and a different request with the same key is refused. `in_progress` rows belong to a
-- request still running; one left behind by a crashed process may be taken over after a lease.
-- `agent_id` has no foreign key so that this store serves any agent-authenticated route.
CREATE TABLE agent_idempotency_keys (
  agent_id        text        NOT NULL,
  idempotency_key text        NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
  request_hash    text        NOT NULL,
  state           text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
  response_status integer,
  response_type   text,
  response_body   text,
  started_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (agent_id, idempotency_key),
  CHECK ((state = 'completed') = (response_status IS NOT NULL))
);

CREATE INDEX agent_idempotency_keys_expires_at_idx ON agent_idempotency_keys (expires_at);
