-- A PostgreSQL database for a QuantFleet ledger, with two roles:
--   quantfleet_coordinator  owns the database; the coordinators connect as it and migrate the schema;
--   quantfleet_reader       reads every table and view, writes nothing (for `quantfleet ledger query`,
--                           dashboards and engineers).
-- Run once as a superuser:
--   psql -v ON_ERROR_STOP=1 -v coordinator_password=... -v reader_password=... -f setup.sql
-- Then the coordinators' ledger is postgres://quantfleet_coordinator:PASSWORD@HOST/quantfleet and a
-- reader's postgres://quantfleet_reader:PASSWORD@HOST/quantfleet (add ?sslmode=verify-full across a network).

CREATE ROLE quantfleet_coordinator LOGIN PASSWORD :'coordinator_password';
CREATE ROLE quantfleet_reader LOGIN PASSWORD :'reader_password';
CREATE DATABASE quantfleet OWNER quantfleet_coordinator;

\connect quantfleet

-- Only the owner creates tables in the ledger's schema (PostgreSQL 15 already keeps PUBLIC out).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO quantfleet_reader;
-- Tables and views the coordinator's migrations create from now on can be read, not written.
ALTER DEFAULT PRIVILEGES FOR ROLE quantfleet_coordinator IN SCHEMA public GRANT SELECT ON TABLES TO quantfleet_reader;
-- And every transaction of the reader is read-only, whatever its client asks.
ALTER ROLE quantfleet_reader SET default_transaction_read_only = on;
