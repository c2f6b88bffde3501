-- PostgreSQL variant of ../0019_results_baseline.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- Statistical warnings (issue 14): the server's normal when the upload
-- arrived (parser.Baseline), a fact of the upload like ended, so that a
-- re-evaluation warns from the history the upload saw. Written by
-- store/baseline.go as seven numbers separated by spaces; '' means none
-- (results before this migration, new servers, missing nights).
ALTER TABLE results ADD COLUMN baseline TEXT NOT NULL DEFAULT '';
