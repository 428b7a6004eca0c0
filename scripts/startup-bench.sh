#!/usr/bin/env bash
# Start-up benchmark (docs/benchmarks.md, "Start-up"): min/median/max seconds from launch to
#   service: /actuator/health answers 200 (standalone profile, an existing data directory)
#   worker:  /actuator/health/readiness answers 200, i.e. registered with a running service
# over RUNS starts each, without the start-up cache (java -jar JAR, as built) and with it (the
# extracted form and its AOT cache that ./pipemoe makes, docs/worker.md "The start-up cache").
#
#   scripts/startup-bench.sh [RUNS]     (default 5; run ./pipemoe once first to make the caches)
#
# Prints the machine, the load average before and after, and one table row per case.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-5}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
SERVICE_JAR="$ROOT/service/target/pipemoe-service.jar"
WORKER_JAR="$ROOT/worker/target/pipemoe-worker.jar"
WORK=$(mktemp -d)
PORT=18480
WORKER_PORT=18481
ADMIN_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
SERVICE_PID=

for jar in "$SERVICE_JAR" "$WORKER_JAR"; do
  [[ -f "$jar" ]] || { echo "missing $jar: ./mvnw -B -q -DskipTests -pl service,worker -am package" >&2; exit 1; }
done

now() { date +%s.%N; }

# launch URL LOG ARG...: starts java ARG... in the background (pid in LAUNCHED), prints the seconds
# until URL answers 200
launch() {
  local url=$1 log=$2 t0
  shift 2
  t0=$(now)
  "$JAVA" "$@" >"$log" 2>&1 &
  LAUNCHED=$!
  until curl -sf -o /dev/null "$url"; do
    kill -0 "$LAUNCHED" 2>/dev/null || { echo "exited before $url answered; $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
    sleep 0.05
  done
  echo "$(now) - $t0" | bc
}

stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

cleanup() {
  if [[ -n "$SERVICE_PID" ]]; then stop "$SERVICE_PID"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# jar_args JAR CACHED: the java arguments that run JAR, from its extracted form and cache if CACHED
jar_args() {
  local aot
  aot="$(dirname "$1")/aot"
  if [[ "$2" == yes ]]; then
    echo "-XX:AOTCache=$aot/app.aot -jar $aot/$(basename "$1")"
  else
    echo "-jar $1"
  fi
}

stats() {  # stats LABEL < one figure a line: the table row
  sort -n | awk -v label="$1" '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "| %-30s | %4d | %6.2f | %6.2f | %6.2f |\n", label, NR, v[1], m, v[NR] }'
}

CACHES=(no)
if [[ -s "$ROOT/service/target/aot/app.aot" && -s "$ROOT/worker/target/aot/app.aot" ]]; then
  CACHES+=(yes)
else
  echo "no start-up caches under */target/aot: run ./pipemoe once to make them; measuring without only" >&2
fi

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1); $("$JAVA" -version 2>&1 | head -n 1)"
echo "date: $(date -u +%FT%TZ); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| case                           | runs |    min | median |    max |"
echo "|--------------------------------|------|--------|--------|--------|"

# the first start makes the data directory (initdb, migrations); it is not counted
PIPEMOE_ADMIN_TOKEN=$ADMIN_TOKEN PIPEMOE_DATA_DIR="$WORK/data" launch "http://localhost:$PORT/actuator/health" \
  "$WORK/service.log" -jar "$SERVICE_JAR" --spring.profiles.active=standalone --server.port=$PORT >/dev/null
stop "$LAUNCHED"

for cached in "${CACHES[@]}"; do
  for ((i = 0; i < RUNS; i++)); do
    # shellcheck disable=SC2046
    PIPEMOE_ADMIN_TOKEN=$ADMIN_TOKEN PIPEMOE_DATA_DIR="$WORK/data" launch "http://localhost:$PORT/actuator/health" \
      "$WORK/service.log" $(jar_args "$SERVICE_JAR" "$cached") --spring.profiles.active=standalone --server.port=$PORT
    stop "$LAUNCHED"
  done | stats "service healthy, cache: $cached"
done

# the workers register with one running service
# shellcheck disable=SC2046
PIPEMOE_ADMIN_TOKEN=$ADMIN_TOKEN PIPEMOE_DATA_DIR="$WORK/data" launch "http://localhost:$PORT/actuator/health" \
  "$WORK/service.log" $(jar_args "$SERVICE_JAR" "${CACHES[-1]}") --spring.profiles.active=standalone --server.port=$PORT >/dev/null
SERVICE_PID=$LAUNCHED
WORKER_TOKEN=$(curl -sS -X POST "http://localhost:$PORT/api/v1/admin/tokens" -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"owner": "startup-bench", "role": "WORKER"}' |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[[ -n "$WORKER_TOKEN" ]] || { echo "could not create a worker token" >&2; exit 1; }
for cached in "${CACHES[@]}"; do
  for ((i = 0; i < RUNS; i++)); do
    # shellcheck disable=SC2046
    PIPEMOE_WORKER_TOKEN=$WORKER_TOKEN launch "http://localhost:$WORKER_PORT/actuator/health/readiness" \
      "$WORK/worker.log" $(jar_args "$WORKER_JAR" "$cached") --pipemoe.worker.service-url="http://localhost:$PORT" \
      --server.port=$WORKER_PORT --pipemoe.worker.spool-dir="$WORK/spool"
    stop "$LAUNCHED"
  done | stats "worker ready, cache: $cached"
done

echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
