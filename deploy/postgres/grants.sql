-- Grant the runtime role its rights on every table the migrations created.
-- Run as appliance_owner after every `manage.py migrate`;
-- appliance-migrate.service does this through `manage.py dbshell`.
-- Override the role name with `-v app_role=NAME`.
\set ON_ERROR_STOP on
\if :{?app_role}
\else
\set app_role appliance_app
\endif

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";

-- The audit log is append-only for the application. A trigger already rejects
-- UPDATE and DELETE on audit_auditevent. Without these rights the runtime role
-- cannot even try them, and it never gets TRUNCATE, which the trigger does not
-- cover. SELECT stays because INSERT ... RETURNING needs it.
SELECT format(
    'REVOKE UPDATE, DELETE, TRUNCATE ON TABLE %I.%I FROM %I',
    schemaname, tablename, :'app_role'
)
FROM pg_tables
WHERE schemaname = 'public' AND tablename LIKE 'audit\_%'
ORDER BY tablename
\gexec
