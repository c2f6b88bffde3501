-- PostgreSQL variant of ../0005_customer_note.sql: the same schema change, with PostgreSQL's
-- types (BIGINT for every integer, identity ids, BYTEA, DOUBLE PRECISION).
-- A free-text note on a customer (contract, contacts, quirks), edited on
-- the customer's management page.
ALTER TABLE customers ADD COLUMN note TEXT NOT NULL DEFAULT '';
