-- When a retired server (or an inactive customer's servers) came back:
-- nights before it are never counted as missing. NULL: since created_at.
ALTER TABLE servers ADD COLUMN watched_since TEXT;
