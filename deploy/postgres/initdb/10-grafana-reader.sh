#!/bin/sh
# postgres:17's entrypoint runs this once, on an empty data volume, as POSTGRES_USER (the service's
# database user): Grafana's read-only login, its password from the compose secret.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set=password="$(cat /run/secrets/grafana_db_password)" \
  --file=/etc/pipemoe/grafana-reader.sql
