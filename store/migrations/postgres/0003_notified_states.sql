-- PostgreSQL variant of ../0003_notified_states.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- The state (ok, failed, missing) each server was last announced in by the
-- state-change webhook, so that a restart neither repeats nor loses a change.
CREATE TABLE notified_states (
    server_id  BIGINT PRIMARY KEY REFERENCES servers (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    result_id  BIGINT,
    changed_at TEXT    NOT NULL
);
