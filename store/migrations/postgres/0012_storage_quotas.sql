-- PostgreSQL variant of ../0012_storage_quotas.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- Storage quotas and retention of raw logs (see README, "Storage, quotas
-- and backups").
--
-- stored_bytes is what a log takes in the database (compressed), the
-- number quotas add up; uploads set it from now on. Logs stored before
-- keep 0 and count with length(data) (store.logSize): an UPDATE would
-- rewrite every row, copying every log through the WAL (4.3 s and 169 MB
-- of WAL for 160 MB of logs; a 3.6 GB database would need 3.6 GB of free
-- disk to start), where this index reads only each row's header (0.15 s,
-- 12 KB of WAL). The index also holds the sizes next to the result's ID:
-- stored_bytes comes after the data in each row, where reading it walks
-- all of the data's overflow pages, so a customer's usage is read from
-- the index alone.
ALTER TABLE raw_logs ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
CREATE INDEX raw_logs_usage ON raw_logs (result_id, stored_bytes, length(data), original_bytes);

-- When and why (retention, quota) a result's raw log was deleted; its
-- verdict, numbers and file errors stay. NULL: never pruned.
ALTER TABLE results ADD COLUMN raw_log_pruned_at TEXT;
ALTER TABLE results ADD COLUMN raw_log_pruned_reason TEXT NOT NULL DEFAULT '';

-- Retention walks the results whose log may still be kept, oldest first;
-- missing nights and pruned results (never a log) are not in the index,
-- so each run reads only what it may delete.
CREATE INDEX results_log_kept ON results (received_at, id)
    WHERE raw_log_pruned_at IS NULL AND source <> 'missing';

-- A customer's own cap on its stored raw logs, in bytes, set by an admin.
-- NULL: serve's --customer-log-quota; 0: no cap.
ALTER TABLE customers ADD COLUMN log_quota_bytes BIGINT;
