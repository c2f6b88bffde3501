-- PostgreSQL variant of ../0010_exceptions_version.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- Counts the changes of the exceptions (added, edited, removed), bumped in
-- the same transaction as each change. A re-evaluation reads it with the
-- exceptions it judges by, and writes nothing once it has moved: its
-- judgments would be older than the exceptions, and could undo those of
-- a newer run or of an upload.
CREATE TABLE exceptions_version (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);
INSERT INTO exceptions_version (id, version) VALUES (1, 0);
