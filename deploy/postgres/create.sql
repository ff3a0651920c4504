-- Create the appliance's roles and database. Run once as a superuser:
--     sudo -u postgres psql -v ON_ERROR_STOP=1 -f deploy/postgres/create.sql
-- then set both passwords with \password (see deploy/README.md).
--
-- appliance_owner owns the schema and runs the migrations.
-- appliance_app is what the web server, the workers and the audit sequencer
-- connect as. It reads and writes rows but cannot change the schema, and
-- deploy/postgres/grants.sql withholds UPDATE, DELETE and TRUNCATE on the
-- audit log's append-only tables from it.

CREATE ROLE appliance_owner LOGIN;
CREATE ROLE appliance_app LOGIN;

CREATE DATABASE appliance
    OWNER appliance_owner
    ENCODING 'UTF8'
    TEMPLATE template0;

REVOKE ALL ON DATABASE appliance FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE appliance TO appliance_app;

\connect appliance

-- pgvector. No table uses it yet, but creating it now means later migrations
-- need no superuser.
CREATE EXTENSION IF NOT EXISTS vector;

-- PostgreSQL 15 and later already keep PUBLIC from creating objects in the
-- public schema. This statement makes the same true for a database restored
-- from an older dump.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO appliance_app;
