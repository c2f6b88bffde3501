-- Staff's edits of the warning texts (issue 14), as codes is for exit
-- codes; kinds not here use parser's built-in texts (parser/warnings.json).
CREATE TABLE warning_texts (
    kind       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    meaning    TEXT NOT NULL,
    action     TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
