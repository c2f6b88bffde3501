-- Big raw logs are written in pieces while the upload goes on, so that no
-- upload holds its whole compressed log in memory (issue 10). An upload
-- being received has a row in log_uploads; its pieces point to it. The
-- transaction that stores the result links the pieces to the raw log
-- (result_id) and deletes the log_uploads row, so that nothing of an
-- upload is visible before its commit. Pieces of an upload that never
-- committed (an error, a crash) are deleted with their log_uploads row:
-- at once on an error, when serve starts after a crash.
CREATE TABLE log_uploads (
    id         INTEGER PRIMARY KEY,
    started_at TEXT    NOT NULL
);

-- The compressed log of a result with raw_logs.chunks > 0 is its pieces
-- in seq order, then raw_logs.data.
CREATE TABLE log_chunks (
    id        INTEGER PRIMARY KEY,
    upload_id INTEGER REFERENCES log_uploads (id) ON DELETE CASCADE,
    result_id INTEGER REFERENCES raw_logs (result_id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      BLOB    NOT NULL
);
CREATE INDEX log_chunks_upload ON log_chunks (upload_id);
CREATE UNIQUE INDEX log_chunks_result ON log_chunks (result_id, seq);

ALTER TABLE raw_logs ADD COLUMN chunks INTEGER NOT NULL DEFAULT 0;
