-- PostgreSQL variant of ../0011_ssh_bans.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- Source addresses banned from the SSH endpoint after too many failed
-- logins (server.Defender decides; this table only keeps its decisions).
-- One row per address: an IPv4 address ("203.0.113.7") or an IPv6 /64
-- ("2001:db8:1:2::/64"). A row outlives its ban by the defender's repeat
-- memory, so that a second offence bans for longer (level + 1). Lifting a
-- ban deletes its row.
CREATE TABLE ssh_bans (
    address TEXT    PRIMARY KEY,
    since   TEXT    NOT NULL,
    until   TEXT    NOT NULL,
    level   BIGINT NOT NULL,
    score   BIGINT NOT NULL,
    reason  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX ssh_bans_until ON ssh_bans (until);
