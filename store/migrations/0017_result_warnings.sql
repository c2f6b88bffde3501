-- Early warnings (README, "Warnings"; issue 14): a night's signs of lost
-- data, kept beside its verdict. One row per kind and result; numbers is a
-- JSON object of the figures the warning is based on. Staff acknowledge a
-- warning (who, when, why); re-evaluation rewrites the rows but keeps the
-- acknowledgement of a kind that is still present.
CREATE TABLE result_warnings (
    id INTEGER PRIMARY KEY,
    result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    numbers TEXT NOT NULL DEFAULT '{}',
    acknowledged_at TEXT,
    acknowledged_by TEXT NOT NULL DEFAULT '',
    ack_note TEXT NOT NULL DEFAULT '',
    UNIQUE (result_id, kind)
);

-- results.warnings is how many warnings the result has, so listings can
-- show and filter them without a join.
ALTER TABLE results ADD COLUMN warnings INTEGER NOT NULL DEFAULT 0;
