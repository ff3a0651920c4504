-- Grant the runtime role its rights on every table the migrations created.
-- Run as appliance_owner after every `manage.py migrate`;
-- appliance-migrate.service does this through `manage.py dbshell`.
-- Override the role name with `-v app_role=NAME`.
\set ON_ERROR_STOP on
\if :{?app_role}
\else
\set app_role appliance_app
\endif

-- One transaction, so that the runtime role never has the rights on the
-- audit tables that the broad grant gives and the statements after it take
-- away again.
BEGIN;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";

-- The audit log's append-only tables: the pending events, the sequenced log
-- and the events kept from before the tamper-evident log. Their triggers
-- reject UPDATE, DELETE and TRUNCATE (audit migrations 0002 and 0005), and
-- migration 0005 revokes the same three rights from PUBLIC and from the
-- migrating role. Without them the runtime role cannot even try. SELECT stays
-- because INSERT ... RETURNING needs it. The other audit tables (data keys,
-- the sequencer's state, checkpoints, verification runs) are updated in place
-- and keep every right.
REVOKE UPDATE, DELETE, TRUNCATE
    ON TABLE audit_event, audit_log_entry, audit_legacy_event
    FROM :"app_role";
-- No code writes to the legacy table any more, and its rows are outside the
-- Merkle tree, so a row added there would look like an old one.
REVOKE INSERT ON TABLE audit_legacy_event FROM :"app_role";

COMMIT;
