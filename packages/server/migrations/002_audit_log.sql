-- 002: the tamper-evident audit log (DESIGN §4.8; threats T-5 and T-12).
-- docs/audit-log.md describes every format here byte for byte, for auditors who re-implement it.
--
-- audit_log           one row per event: the canonical entry bytes, its sequence number and its
--                     chain hash, plus query columns GENERATED from the entry (never written)
-- audit_chain_head    one row: the next sequence number and the last chain hash; its row lock
--                     serializes appends until the appending transaction ends (T-12)
-- audit_merkle_nodes  every complete perfect subtree of the RFC 9162 Merkle tree over the chain
--                     hashes, so any proof needs O(log n) rows fetched in one query
-- audit_checkpoints   signed C2SP tlog-checkpoint notes over that tree
-- audit_anchors       where the chain resumes after a retention purge removed a prefix

-- The generated columns parse the entry as UTF-8 JSON; in any other database encoding that would
-- not be byte-exact.
DO $$
BEGIN
  IF current_setting('server_encoding') <> 'UTF8' THEN
    RAISE EXCEPTION 'the Countersign database must use the UTF8 encoding, not %', current_setting('server_encoding');
  END IF;
END $$;

-- Read members of a canonical entry. convert_from is STABLE in general (it depends on the
-- database encoding); with UTF8 named explicitly and a UTF8 database (checked above) the result
-- depends only on the bytes, which is what IMMUTABLE promises and generated columns require.
CREATE FUNCTION audit_entry_path(entry bytea, VARIADIC path text[]) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN convert_from(entry, 'UTF8')::jsonb #>> path;

-- The entry's time is RFC 3339 UTC with a literal "Z" (e.g. 2026-11-21T12:00:00.000Z), which
-- reads the same under every TimeZone and DateStyle setting.
CREATE FUNCTION audit_entry_time(entry bytea) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN (convert_from(entry, 'UTF8')::jsonb ->> 'time')::timestamptz;

CREATE TABLE audit_chain_head (
  singleton boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  next_seq  bigint      NOT NULL CHECK (next_seq >= 0),
  last_hash bytea       NOT NULL CHECK (length(last_hash) = 32)
);
-- The genesis "previous hash" is 32 zero bytes.
INSERT INTO audit_chain_head (next_seq, last_hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
  seq          bigint      PRIMARY KEY CHECK (seq >= 0),
  -- UTF-8 RFC 8785 (JCS) JSON of the entry, version 1 (docs/audit-log.md "Entry format").
  entry        bytea       NOT NULL CHECK (length(entry) <= 65536),
  -- SHA-256(previous hash ‖ int8send(seq) ‖ entry); assigned by audit_log_chain, never by a client.
  hash         bytea       NOT NULL CHECK (length(hash) = 32),
  -- Query columns. GENERATED, so they cannot disagree with the hashed entry: an UPDATE cannot
  -- set them, and any change to the entry recomputes them.
  id           uuid        NOT NULL GENERATED ALWAYS AS (audit_entry_path(entry, 'id')::uuid) STORED,
  occurred_at  timestamptz NOT NULL GENERATED ALWAYS AS (audit_entry_time(entry)) STORED,
  event_type   text        NOT NULL GENERATED ALWAYS AS (audit_entry_path(entry, 'type')) STORED,
  user_id      text        GENERATED ALWAYS AS (audit_entry_path(entry, 'user')) STORED,
  subject_type text        GENERATED ALWAYS AS (audit_entry_path(entry, 'subject', 'type')) STORED,
  subject_id   text        GENERATED ALWAYS AS (audit_entry_path(entry, 'subject', 'id')) STORED
);

CREATE UNIQUE INDEX audit_log_id_idx ON audit_log (id);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, seq) WHERE user_id IS NOT NULL;
CREATE INDEX audit_log_subject_idx ON audit_log (subject_type, subject_id, seq) WHERE subject_id IS NOT NULL;
-- The retention purge looks for the first entry at or after a date.
CREATE INDEX audit_log_occurred_at_idx ON audit_log (occurred_at);

-- T-12: every insert, from any code path or role, takes the head's row lock, gets the next
-- sequence number and extends the chain in the same statement (one round trip). The lock is held
-- until the inserting transaction ends, so a second appender waits and then reads the committed
-- head: the chain cannot fork and sequence numbers have no gaps.
--
-- Appenders first queue on a transaction-scoped advisory lock ("auditchn" in ASCII), held as long
-- as the row lock. It changes nothing about correctness — the row lock alone serializes — but
-- PostgreSQL wakes only the next waiter of an advisory lock, where every waiter of a row lock
-- wakes at each commit to find it taken again: with 32 writers that stampede cost more CPU than
-- the appends themselves.
CREATE FUNCTION audit_log_chain() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  assigned_seq bigint;
  assigned_hash bytea;
BEGIN
  IF NEW.seq IS NOT NULL OR NEW.hash IS NOT NULL THEN
    RAISE EXCEPTION 'audit_log.seq and audit_log.hash are assigned by the chain; insert only the entry'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_advisory_xact_lock(7022629598041172078);
  UPDATE audit_chain_head
     SET next_seq = next_seq + 1,
         last_hash = sha256(last_hash || int8send(next_seq) || NEW.entry)
  RETURNING next_seq - 1, last_hash INTO assigned_seq, assigned_hash;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the audit chain head row is missing';
  END IF;
  NEW.seq := assigned_seq;
  NEW.hash := assigned_hash;
  RETURN NEW;
END $$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- The head only ever moves forward by one, from inside audit_log_chain (a trigger, hence depth
-- 2 here: a client's own UPDATE runs this at depth 1 and is refused, so a role that may append
-- still cannot move the head by itself). It is never deleted, purge or not.
CREATE FUNCTION audit_chain_head_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 AND NEW.singleton AND NEW.next_seq = OLD.next_seq + 1 THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% on audit_chain_head refused: the head only advances by inserting into audit_log', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_chain_head_guard BEFORE UPDATE OR DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
CREATE TRIGGER audit_chain_head_guard_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard();

CREATE TABLE audit_merkle_nodes (
  -- The perfect subtree over leaves [idx·2^level, (idx+1)·2^level); level 0 holds the leaf
  -- hashes SHA-256(0x00 ‖ chain hash) (RFC 9162 §2.1.1).
  level smallint NOT NULL CHECK (level BETWEEN 0 AND 62),
  idx   bigint   NOT NULL CHECK (idx >= 0),
  hash  bytea    NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);

CREATE TABLE audit_checkpoints (
  tree_size  bigint      PRIMARY KEY CHECK (tree_size > 0),
  root_hash  bytea       NOT NULL CHECK (length(root_hash) = 32),
  -- The whole signed note (C2SP signed-note over a C2SP tlog-checkpoint), as served.
  note       text        NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE audit_anchors (
  -- The first sequence number kept by a purge.
  seq           bigint      PRIMARY KEY CHECK (seq > 0),
  -- The chain hash of entry seq - 1, which entry seq's hash builds on.
  prev_hash     bytea       NOT NULL CHECK (length(prev_hash) = 32),
  -- The Merkle tree of the first seq leaves as its perfect subtrees, largest first, 32 bytes
  -- each (RFC 9162 §2.1.1 split; one per set bit of seq).
  frontier      bytea       NOT NULL CHECK (length(frontier) % 32 = 0),
  purged_before timestamptz NOT NULL,
  created_at    timestamptz NOT NULL
);

-- Write-once (DESIGN §4.8): rows are never updated, and removed only by the retention purge,
-- which runs in a transaction that set countersign.allow_audit_purge = on (SET LOCAL). UPDATE is
-- refused even then: no purge ever needs it.
CREATE FUNCTION audit_write_once() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('countersign.allow_audit_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% on % refused: the audit log is write-once', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Only `countersign audit purge` removes entries, in a transaction with countersign.allow_audit_purge = on.';
END $$;

CREATE TRIGGER audit_log_write_once BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_write_once();
CREATE TRIGGER audit_log_write_once_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_write_once();
CREATE TRIGGER audit_merkle_nodes_write_once BEFORE UPDATE OR DELETE ON audit_merkle_nodes
  FOR EACH ROW EXECUTE FUNCTION audit_write_once();
CREATE TRIGGER audit_merkle_nodes_write_once_truncate BEFORE TRUNCATE ON audit_merkle_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION audit_write_once();
CREATE TRIGGER audit_checkpoints_write_once BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_write_once();
CREATE TRIGGER audit_checkpoints_write_once_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_write_once();
CREATE TRIGGER audit_anchors_write_once BEFORE UPDATE OR DELETE ON audit_anchors
  FOR EACH ROW EXECUTE FUNCTION audit_write_once();
CREATE TRIGGER audit_anchors_write_once_truncate BEFORE TRUNCATE ON audit_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION audit_write_once();
