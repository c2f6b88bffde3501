-- PostgreSQL variant of ../0022_shared_limits.sql: the same tables.
-- What several serve nodes on one database must share beyond bans and
-- sessions (and what one node keeps across a restart).
--
-- limit_counts: the failures the SSH ban score and the web login throttle
-- count, one row per scope, subject (an address, a username and address),
-- node (host:pid) and second. Each node writes its own counts every few
-- seconds and reads the others'; rows older than the longest window go.
CREATE TABLE limit_counts (
    scope   TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    node    TEXT    NOT NULL,
    bucket  BIGINT  NOT NULL,
    n       BIGINT  NOT NULL,
    PRIMARY KEY (scope, subject, node, bucket)
);
CREATE INDEX limit_counts_bucket ON limit_counts (bucket);

-- login_challenges: web logins whose password was right and whose second
-- factor is due, so that the code may be typed on any node.
CREATE TABLE login_challenges (
    token_hash TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    next       TEXT    NOT NULL DEFAULT '',
    tries      INTEGER NOT NULL DEFAULT 0,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX login_challenges_created ON login_challenges (created_at);
