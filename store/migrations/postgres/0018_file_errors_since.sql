-- PostgreSQL variant of ../0018_file_errors_since.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- Error memory (issue 14, part 5): since_night is the first night of the
-- current unbroken run of nights in which this (kind, path) failed on the
-- result's server, as a Night (YYYY-MM-DD). It is set when the file errors
-- are written (upload and re-evaluation alike, store/errmemory.go) from the
-- server's previous upload. Existing rows start their run at their own
-- night: history before this migration is not replayed.
ALTER TABLE file_errors ADD COLUMN since_night TEXT;
UPDATE file_errors SET since_night = (SELECT r.night FROM results r WHERE r.id = file_errors.result_id);
