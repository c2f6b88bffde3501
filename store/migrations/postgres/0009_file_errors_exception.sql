-- PostgreSQL variant of ../0009_file_errors_exception.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- Deleting an exception clears file_errors.exception_id (ON DELETE SET
-- NULL): without an index that scanned every file error, holding the write
-- lock for seconds on a large database. Only excepted rows are indexed.
CREATE INDEX file_errors_exception ON file_errors (exception_id) WHERE exception_id IS NOT NULL;
