-- A free-text note on a customer (contract, contacts, quirks), edited on
-- the customer's management page.
ALTER TABLE customers ADD COLUMN note TEXT NOT NULL DEFAULT '';
