-- PostgreSQL variant of ../0006_results_received_cover.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- The historical report reads every result of a date range. A covering
-- index in received_at order lets it read the index alone, in order,
-- instead of one table page per result (4.4 s for 10,000 servers over
-- 30 nights before). It replaces results_received, its prefix.
CREATE INDEX results_received_cover ON results (received_at, server_id, night, status, excepted_errors, id);
DROP INDEX results_received;
