-- 010: tell every server process when an agent's row or keys change, so that processes may cache
-- agent rows between requests and still refuse a revoked, suspended or rotated agent on its next
-- request (DESIGN §4.3, §4.12; issue 5). One SQL dialect for PostgreSQL >= 15 and embedded PGlite.
--
-- Every committed change to `agents` or `agent_keys` takes the next number of one counter and
-- sends `pg_notify('countersign_agent_changes', '<number>:<agent id>')`. The counter is a row, not
-- a sequence, so it is transactional: a rolled-back change leaves no gap, and since each change
-- holds the row's lock until it commits, changes commit — and PostgreSQL delivers their
-- notifications — in counter order. A process that has heard every number up to n knows its
-- cache reflects every change up to n; a number it skipped, or a counter ahead of what it heard
-- (src/agents/agent-row-cache.ts reads it several times a second), means notifications were lost
-- and the cache is dropped. Correctness never rests on a notification arriving.
--
-- The triggers are deferred to commit, so the counter's lock is taken last in a transaction and
-- held only while it commits: lifecycle transactions (which also lock the audit chain) cannot
-- deadlock on it. A write of `last_used_at` alone (at most once a minute per agent) is not a
-- change anything cached depends on, and sends nothing.

CREATE TABLE agent_change_counter (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq       bigint  NOT NULL CHECK (seq >= 0)
);

INSERT INTO agent_change_counter (singleton, seq) VALUES (true, 0);

CREATE FUNCTION agents_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed_agent text;
  next_seq      bigint;
BEGIN
  IF TG_TABLE_NAME = 'agents' THEN
    changed_agent := OLD.id;
  ELSE
    changed_agent := OLD.agent_id;
  END IF;
  UPDATE agent_change_counter SET seq = seq + 1 RETURNING seq INTO next_seq;
  PERFORM pg_notify('countersign_agent_changes', next_seq::text || ':' || changed_agent);
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER agents_notify_update AFTER UPDATE ON agents
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
  EXECUTE FUNCTION agents_notify_change();

CREATE CONSTRAINT TRIGGER agents_notify_delete AFTER DELETE ON agents
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  EXECUTE FUNCTION agents_notify_change();

CREATE CONSTRAINT TRIGGER agent_keys_notify_change AFTER UPDATE OR DELETE ON agent_keys
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  EXECUTE FUNCTION agents_notify_change();
