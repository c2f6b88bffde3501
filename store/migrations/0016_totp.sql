-- A second factor for staff logins (README, "Second factor for staff").
--
-- totp_secret is the user's TOTP secret (base32, RFC 6238); empty means no
-- second factor. It must be readable to check a code, so it is stored as
-- it is, like the database's other secrets that are not passwords.
-- totp_last_step is the last 30-second step whose code was accepted: a
-- code is taken only for a later step, so a code seen over a shoulder or
-- in a proxy log cannot be used again.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- One-time recovery codes, stored as SHA-256 hashes (the codes are random
-- and long enough that a fast hash is enough); used_at is set when a code
-- is used, and a used code never works again.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id, code_hash);
