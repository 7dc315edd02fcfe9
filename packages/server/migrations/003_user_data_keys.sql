-- 003: per-user data keys (DESIGN §4.9, threats A-3 and T-5).
-- One SQL dialect for PostgreSQL >= 15 and embedded PGlite (DESIGN §3).

-- One random 32-byte data key per user, stored only wrapped (ChaCha20-Poly1305, AAD naming the
-- user) by the key-encryption key `kek_id` from the configured key ring. Field ciphertexts name
-- the data key by `key_id` (`v1.<key_id>.<…>`), so it has the key-id syntax and is unique.
-- Deleting a row is the erasure of that user (crypto-shredding): their ciphertexts stay and can
-- never be opened again. Users have no table yet, so `user_id` is opaque text with no foreign key.
CREATE TABLE user_data_keys (
  user_id      text        PRIMARY KEY CHECK (user_id <> ''),
  key_id       text        NOT NULL UNIQUE CHECK (key_id ~ '^[A-Za-z0-9_-]{1,32}$'),
  kek_id       text        NOT NULL CHECK (kek_id ~ '^[A-Za-z0-9_-]{1,32}$'),
  wrapped      text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz
);

-- `countersign keys rotate` walks the keys of each old KEK in user_id order, and an operator asks
-- whether any key still uses a KEK before removing it from the ring: both are range scans here.
CREATE INDEX user_data_keys_kek_id_idx ON user_data_keys (kek_id, user_id);
