-- PostgreSQL variant of ../0008_file_errors_digest.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- A checksum of a result's file_errors rows as last judged (line, kind,
-- path, excepted, exception), so that re-evaluation reads the rows only of
-- results whose judgment changed. NULL: rows stored before it existed.
-- BIGINT: the checksum takes all 64 bits (INTEGER in SQLite, not in
-- PostgreSQL).
ALTER TABLE results ADD COLUMN file_errors_digest BIGINT;
