-- Where each audited change came from: the web client's IP address
-- (as the web side trusts it; see --trusted-proxy). Empty for
-- the command line, the server's own jobs and changes from before.
ALTER TABLE audit_log ADD COLUMN remote_addr TEXT NOT NULL DEFAULT '';
