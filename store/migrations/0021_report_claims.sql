-- Each scheduled failure report (kind, day in serve's --timezone) is claimed
-- here by the node that sends it, before sending: with several serve nodes
-- on one database (or a node restarted, or one taking over from another) a
-- report goes out at most once a day.
CREATE TABLE report_claims (
    kind       TEXT NOT NULL,
    day        TEXT NOT NULL,
    node       TEXT NOT NULL DEFAULT '',
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (kind, day)
);
