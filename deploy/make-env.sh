#!/usr/bin/env bash
# Writes the .env that docker-compose.yml reads: a fresh random secret for each variable. Never
# overwrites a file: the database keeps the passwords it was initialised with.
#   deploy/make-env.sh            # writes ./.env (the repository root)
#   deploy/make-env.sh FILE       # writes FILE
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.env}
if [[ -e "$out" ]]; then
  echo "make-env: $out exists; keeping it (delete it, and the compose volumes, for new secrets)" >&2
  exit 1
fi
secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
umask 077
cat > "$out" <<ENV
# Secrets of docker-compose.yml, made by deploy/make-env.sh on $(date -u +%Y-%m-%d). Keep this file
# private (git ignores it).
# The service's database user (pipemoe) and Grafana's read-only login (grafana_reader)
PIPEMOE_DB_PASSWORD=$(secret)
PIPEMOE_GRAFANA_DB_PASSWORD=$(secret)
# Tokens the service creates at startup: admin (token API), WORKER (the worker), METRICS (Prometheus)
PIPEMOE_ADMIN_TOKEN=$(secret)
PIPEMOE_WORKER_TOKEN=$(secret)
PIPEMOE_METRICS_TOKEN=$(secret)
# Grafana's admin user (login: admin)
PIPEMOE_GRAFANA_ADMIN_PASSWORD=$(secret)
ENV
echo "make-env: wrote $out"
