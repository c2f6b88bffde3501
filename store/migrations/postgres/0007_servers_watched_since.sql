-- PostgreSQL variant of ../0007_servers_watched_since.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- When a retired server (or an inactive customer's servers) came back:
-- nights before it are never counted as missing. NULL: since created_at.
ALTER TABLE servers ADD COLUMN watched_since TEXT;
