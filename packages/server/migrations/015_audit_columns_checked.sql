-- 015: audit_log's query columns are written with the entry and checked against it by a CHECK
-- constraint, instead of being GENERATED columns that each parsed the entry again. One SQL
-- dialect for PostgreSQL >= 15 and embedded PGlite.
--
-- Why: each of the six generated columns converted the entry to text and parsed it as jsonb on
-- its own: six parses of an entry that is mostly ciphertext (1–3 kB for an approval), inside
-- the append that every audited write waits for (the chain's lock). The appender knows every
-- column already (it wrote the entry); the constraint parses the entry once to check them.
-- Measured on PostgreSQL 15, INSERTs of 20 approval-sized entries (2 kB of context) in one
-- statement, alternating between the schemas over 6 rounds of 300 statements: 6.3–9.4 ms with
-- generated columns, 3.5–5.5 ms with the columns supplied and checked.
--
-- What holds as before: the columns cannot disagree with the hashed entry. A CHECK constraint,
-- unlike a trigger, binds every role in every session (session_replication_role does not switch
-- it off), on INSERT and on UPDATE. A superuser could drop it; `audit verify` reports it missing
-- or not validated, and validating it again reads every row.

ALTER TABLE audit_log
  ALTER COLUMN id DROP EXPRESSION,
  ALTER COLUMN occurred_at DROP EXPRESSION,
  ALTER COLUMN event_type DROP EXPRESSION,
  ALTER COLUMN user_id DROP EXPRESSION,
  ALTER COLUMN subject_type DROP EXPRESSION,
  ALTER COLUMN subject_id DROP EXPRESSION;

-- The query columns, in table order.
CREATE TYPE audit_query_columns AS (
  id           uuid,
  occurred_at  timestamptz,
  event_type   text,
  user_id      text,
  subject_type text,
  subject_id   text
);

-- What each query column says, from one parse of the entry: the same reads as migration 002's
-- audit_entry_path and audit_entry_time. IMMUTABLE for the reason given there: UTF8 is named,
-- and the database is UTF8.
CREATE FUNCTION audit_query_columns_of(entry bytea) RETURNS audit_query_columns
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  e jsonb := convert_from(entry, 'UTF8')::jsonb;
BEGIN
  RETURN ROW(
    (e ->> 'id')::uuid,
    (e ->> 'time')::timestamptz,
    e ->> 'type',
    e ->> 'user',
    e #>> '{subject,type}',
    e #>> '{subject,id}'
  )::audit_query_columns;
END $$;

-- Every row written so far had generated columns, so this holds; VALIDATE reads each row once to
-- prove it. The migration is one transaction and the ALTERs above lock the table, so appends wait
-- meanwhile: 12.6 s for 1,000,000 entries of 400 bytes on a 2-core test machine (PostgreSQL 15).
ALTER TABLE audit_log ADD CONSTRAINT audit_log_query_columns
  CHECK (ROW(id, occurred_at, event_type, user_id, subject_type, subject_id)::audit_query_columns
         IS NOT DISTINCT FROM audit_query_columns_of(entry)) NOT VALID;
ALTER TABLE audit_log VALIDATE CONSTRAINT audit_log_query_columns;

-- As in 002 (T-12), and: an INSERT that names only the entry (a raw one, by hand) gets its
-- columns read from it here; the constraint judges any columns a client supplies.
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  assigned_seq bigint;
  assigned_hash bytea;
  columns audit_query_columns;
BEGIN
  IF NEW.seq IS NOT NULL OR NEW.hash IS NOT NULL THEN
    RAISE EXCEPTION 'audit_log.seq and audit_log.hash are assigned by the chain; insert only the entry'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.id IS NULL AND NEW.occurred_at IS NULL AND NEW.event_type IS NULL
     AND NEW.user_id IS NULL AND NEW.subject_type IS NULL AND NEW.subject_id IS NULL THEN
    columns := audit_query_columns_of(NEW.entry);
    NEW.id := columns.id;
    NEW.occurred_at := columns.occurred_at;
    NEW.event_type := columns.event_type;
    NEW.user_id := columns.user_id;
    NEW.subject_type := columns.subject_type;
    NEW.subject_id := columns.subject_id;
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
