-- PostgreSQL variant of ../0014_key_forced_command.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- The forced command a key was imported with from the old server's
-- authorized_keys (command="cat > /reports/<customer>/<server>.out"), or
-- given with 'key add --forced'. A key with one uploads its session's input
-- to its bound server whatever command the client sends, as OpenSSH ran
-- the forced command (see README, "Forced-command keys"). '' for none: the
-- client's command is parsed strictly.
ALTER TABLE keys ADD COLUMN forced_command TEXT NOT NULL DEFAULT '';
