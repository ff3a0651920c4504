#!/bin/sh
# Run once by the postgres image when the data volume is empty: create the
# appliance's roles, database and pgvector (deploy/postgres/create.sql), then
# set the two role passwords from their secret files.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -f /appliance/create.sql

owner_password=$(cat /run/secrets/db_owner_password)
app_password=$(cat /run/secrets/db_app_password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$owner_password" -v app_password="$app_password" <<'SQL'
ALTER ROLE appliance_owner PASSWORD :'owner_password';
ALTER ROLE appliance_app PASSWORD :'app_password';
SQL
