-- 001: foundation.
-- One SQL dialect for PostgreSQL >= 15 and embedded PGlite (DESIGN §3).

-- Single-use signature nonces for agent requests (DESIGN §4.1, T-8). A (key id, nonce) pair is
-- refused while its row is live; rows expire after the nonce window (600 s) and are swept.
-- The nonce is public (it travels in Signature-Input), so it is stored as sent.
CREATE TABLE agent_request_nonces (
  key_id     text        NOT NULL,
  nonce      text        NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (key_id, nonce)
);

CREATE INDEX agent_request_nonces_expires_at_idx ON agent_request_nonces (expires_at);
