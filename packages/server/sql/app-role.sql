-- The application's least-privilege database role (DESIGN §4.8, docs/audit-log.md "The
-- application role"). Run it as the database owner — the role that runs `countersign migrate` —
-- after migrating, and again after every upgrade (it is idempotent):
--
--   psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -f packages/server/sql/app-role.sql
--   psql "$OWNER_DATABASE_URL" -c "ALTER ROLE countersign_app PASSWORD '…'"
--
-- Then run the server with DATABASE_URL naming countersign_app. Keep the owner's URL for
-- `countersign migrate` and `countersign audit purge` only.
--
-- The audit tables are write-once in three layers: no code path updates or deletes them (except
-- the purge), a trigger refuses UPDATE, DELETE and TRUNCATE, and this role cannot even ask:
-- it holds INSERT and SELECT on them and nothing else.

-- Roles are cluster-wide; creating one that exists (or that a concurrent run is creating) is fine.
DO $$
BEGIN
  CREATE ROLE countersign_app LOGIN;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

GRANT USAGE ON SCHEMA public TO countersign_app;

-- Every other table: ordinary reads and writes (TRUNCATE never).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO countersign_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO countersign_app;

-- The migrations record: readable for /readyz, never writable.
REVOKE ALL ON countersign_migrations FROM countersign_app;
GRANT SELECT ON countersign_migrations TO countersign_app;

-- The audit log (migration 002).
REVOKE ALL ON audit_log, audit_chain_head, audit_merkle_nodes, audit_checkpoints, audit_anchors FROM countersign_app;
-- Appends: INSERT into the log; its trigger (running as this role) advances the head, which
-- needs UPDATE there — the head's own trigger lets it move forward by one, from that trigger only.
GRANT SELECT, INSERT ON audit_log TO countersign_app;
GRANT SELECT, UPDATE ON audit_chain_head TO countersign_app;
-- The checkpointer stores Merkle nodes and signed checkpoints.
GRANT SELECT, INSERT ON audit_merkle_nodes, audit_checkpoints TO countersign_app;
-- Anchors are written only by the purge, which runs as the owner.
GRANT SELECT ON audit_anchors TO countersign_app;
