-- PostgreSQL variant of ../0021_report_claims.sql: the same table.
-- Each scheduled failure report (kind, day in serve's --timezone) is claimed
-- here by the node that sends it, before sending, so that it goes out at
-- most once a day across nodes and restarts.
CREATE TABLE report_claims (
    kind       TEXT NOT NULL,
    day        TEXT NOT NULL,
    node       TEXT NOT NULL DEFAULT '',
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (kind, day)
);
