-- PostgreSQL variant of ../0015_results_ended.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- How an upload ended is a fact its verdict depends on (issue 11): it is
-- stored, so that every judgment (upload, re-evaluation) hands
-- parser.Judge the same facts, instead of re-reading it from the reason's
-- text. ended is parser.End: complete, interrupted, too_large, time_limit.
ALTER TABLE results ADD COLUMN ended TEXT NOT NULL DEFAULT 'complete';

-- dropped_errors counts the file errors, other than vanished files, that
-- the parser counted but did not keep (more than its 10,000): no exception
-- can cover them, so a code-23 night with any stays failed. It matters for
-- a log stored with its middle cut out, which is judged from its stored
-- rows; a whole log is parsed again and counts them itself.
ALTER TABLE results ADD COLUMN dropped_errors BIGINT NOT NULL DEFAULT 0;

-- Existing rows, once, from what was stored: the interrupted flag, and the
-- reasons server/ingest.go wrote for the two refusals.
UPDATE results SET ended = 'interrupted' WHERE interrupted = 1;
UPDATE results SET ended = 'too_large' WHERE source = 'upload' AND reason LIKE 'upload larger than %';
UPDATE results SET ended = 'time_limit' WHERE source = 'upload' AND reason LIKE 'upload took longer than %';

-- A code-23 night failed although its stored rows would pass it, with the
-- 10,000 rows the parser keeps: the failure came from dropped errors (the
-- count is not known; one is enough).
UPDATE results SET dropped_errors = 1
WHERE status = 'failed' AND code = 23 AND ended IN ('complete', 'interrupted') AND file_errors = 0 AND excepted_errors > 0
  AND file_errors + excepted_errors + vanished >= 10000;
