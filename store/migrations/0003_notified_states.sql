-- The state (ok, failed, missing) each server was last announced in by the
-- state-change webhook, so that a restart neither repeats nor loses a change.
CREATE TABLE notified_states (
    server_id  INTEGER PRIMARY KEY REFERENCES servers (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    result_id  INTEGER,
    changed_at TEXT    NOT NULL
);
