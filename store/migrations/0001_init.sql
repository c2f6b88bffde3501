-- The first schema. It takes over the seed's tables (see README, "Schema"):
-- csrs and tsrs became users with a role, failures is derived from results,
-- updates became notes; keys, raw_logs and the rest are new.
-- Plain SQL on purpose: it should move to PostgreSQL with few changes.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'tech', 'csr')),
    email         TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL DEFAULT '',
    notify        INTEGER NOT NULL DEFAULT 0,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (lower(username));

CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    slug       TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1,
    csr_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    tsr_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    demo       INTEGER NOT NULL DEFAULT 0,
    created_at TEXT    NOT NULL
);
CREATE UNIQUE INDEX customers_slug ON customers (lower(slug));

CREATE TABLE servers (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    name        TEXT    NOT NULL,
    retired     INTEGER NOT NULL DEFAULT 0,
    pending     INTEGER NOT NULL DEFAULT 0,   -- registered by an upload, not yet approved
    expect_days INTEGER NOT NULL DEFAULT 127, -- bit 0 Sunday .. bit 6 Saturday
    created_at  TEXT    NOT NULL
);
CREATE UNIQUE INDEX servers_name ON servers (customer_id, lower(name));

CREATE TABLE keys (
    id                  INTEGER PRIMARY KEY,
    customer_id         INTEGER NOT NULL REFERENCES customers (id),
    server_id           INTEGER REFERENCES servers (id),
    fingerprint         TEXT    NOT NULL UNIQUE,
    type                TEXT    NOT NULL,
    bits                INTEGER NOT NULL,
    public_key          TEXT    NOT NULL,
    comment             TEXT    NOT NULL DEFAULT '',
    added_at            TEXT    NOT NULL,
    added_by            TEXT    NOT NULL DEFAULT '',
    revoked_at          TEXT,
    last_used_at        TEXT,
    last_client_version TEXT    NOT NULL DEFAULT '',
    last_sig_algo       TEXT    NOT NULL DEFAULT '',
    last_kex            TEXT    NOT NULL DEFAULT '',
    last_cipher         TEXT    NOT NULL DEFAULT '',
    last_mac            TEXT    NOT NULL DEFAULT '',
    last_remote_addr    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX keys_customer ON keys (customer_id);

CREATE TABLE exceptions (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER REFERENCES customers (id), -- NULL: every customer
    server_id       INTEGER REFERENCES servers (id),   -- NULL: every server of the customer
    pattern         TEXT    NOT NULL,
    note            TEXT    NOT NULL DEFAULT '',
    added_by        TEXT    NOT NULL DEFAULT '',
    added_at        TEXT    NOT NULL,
    last_matched_at TEXT
);
CREATE INDEX exceptions_customer ON exceptions (customer_id);

CREATE TABLE results (
    id              INTEGER PRIMARY KEY,
    server_id       INTEGER NOT NULL REFERENCES servers (id),
    key_id          INTEGER REFERENCES keys (id),
    received_at     TEXT    NOT NULL,
    night           TEXT    NOT NULL,             -- YYYY-MM-DD of the evening the backup started
    source          TEXT    NOT NULL,             -- upload, missing, demo
    protocol        TEXT    NOT NULL DEFAULT '',  -- exec, sftp, scp
    status          TEXT    NOT NULL CHECK (status IN ('ok', 'failed', 'missing')),
    code            INTEGER NOT NULL,
    complete        INTEGER NOT NULL DEFAULT 0,
    interrupted     INTEGER NOT NULL DEFAULT 0,
    reason          TEXT    NOT NULL DEFAULT '',
    file_errors     INTEGER NOT NULL DEFAULT 0,   -- not excepted and not vanished
    excepted_errors INTEGER NOT NULL DEFAULT 0,
    vanished        INTEGER NOT NULL DEFAULT 0,
    rsync_version   TEXT    NOT NULL DEFAULT '',
    sent_bytes      INTEGER NOT NULL DEFAULT 0,
    received_bytes  INTEGER NOT NULL DEFAULT 0,
    total_size      INTEGER NOT NULL DEFAULT 0,
    speedup         REAL    NOT NULL DEFAULT 0,
    bytes_per_sec   REAL    NOT NULL DEFAULT 0,
    dry_run         INTEGER NOT NULL DEFAULT 0,
    lines           INTEGER NOT NULL DEFAULT 0,
    files_listed    INTEGER NOT NULL DEFAULT 0,
    deletions       INTEGER NOT NULL DEFAULT 0,
    upload_bytes    INTEGER NOT NULL DEFAULT 0,
    remote_addr     TEXT    NOT NULL DEFAULT '',
    client_version  TEXT    NOT NULL DEFAULT '',
    key_type        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX results_server_received ON results (server_id, received_at, id);
CREATE INDEX results_received ON results (received_at);
CREATE UNIQUE INDEX results_missing_night ON results (server_id, night, source)
    WHERE source = 'missing';

CREATE TABLE file_errors (
    id           INTEGER PRIMARY KEY,
    result_id    INTEGER NOT NULL REFERENCES results (id) ON DELETE CASCADE,
    line         INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    excepted     INTEGER NOT NULL DEFAULT 0,
    exception_id INTEGER REFERENCES exceptions (id) ON DELETE SET NULL
);
CREATE INDEX file_errors_result ON file_errors (result_id);

CREATE TABLE raw_logs (
    result_id      INTEGER PRIMARY KEY REFERENCES results (id) ON DELETE CASCADE,
    compression    TEXT    NOT NULL DEFAULT 'gzip',
    original_bytes INTEGER NOT NULL,
    truncated      INTEGER NOT NULL DEFAULT 0,
    data           BLOB    NOT NULL
);

-- Re-evaluation keeps the old verdict here when a new one replaces it.
CREATE TABLE verdict_changes (
    id         INTEGER PRIMARY KEY,
    result_id  INTEGER NOT NULL REFERENCES results (id) ON DELETE CASCADE,
    changed_at TEXT    NOT NULL,
    old_status TEXT    NOT NULL,
    new_status TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    changed_by TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX verdict_changes_result ON verdict_changes (result_id);

-- The seed's "updates": claims, notes and resolutions on a failing server.
CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    server_id  INTEGER NOT NULL REFERENCES servers (id),
    user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('claim', 'note', 'resolved')),
    body       TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL
);
CREATE INDEX notes_server ON notes (server_id, created_at);

-- Staff's edits of the code table; codes not here use parser.Codes().
CREATE TABLE codes (
    code       INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    meaning    TEXT NOT NULL,
    action     TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    before TEXT NOT NULL DEFAULT '',
    after  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE email_log (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    recipients TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    status     TEXT    NOT NULL,
    last_error TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL,
    sent_at    TEXT
);

-- Small facts about the data folder itself (demo marker, setup token).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
