#!/usr/bin/env bash
# Where the start-up goes (docs/benchmarks.md, "Start-up"): starts the service (standalone
# profile, a fresh data directory made first and not counted) or a worker (against no service)
# once with Spring's step recording (-Dpipemoe.startup-steps=true, BufferingApplicationStartup),
# reads /actuator/startup after the health answer, and prints the longest steps and beans.
#
#   scripts/startup-steps.sh service|worker [aot]
#
# aot: from the extracted form and AOT cache that ./pipemoe made (*/target/aot), else java -jar.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
name=${1:?usage: $0 service|worker [aot]}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
jar="$ROOT/$name/target/pipemoe-$name.jar"
[[ -f "$jar" ]] || { echo "missing $jar: ./mvnw -B -q -DskipTests -pl service,worker -am package" >&2; exit 1; }
run=(-jar "$jar")
if [[ "${2:-}" == aot ]]; then
  run=(-XX:AOTCache="$ROOT/$name/target/aot/app.aot" -jar "$ROOT/$name/target/aot/pipemoe-$name.jar")
fi
WORK=$(mktemp -d)
PORT=18490
PID=
cleanup() {
  if [[ -n "$PID" ]]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export PIPEMOE_ADMIN_TOKEN
PIPEMOE_ADMIN_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
health="http://localhost:$PORT/actuator/health"

start() {  # start ARG...: java in the background (PID) until its health answers; seconds in SECONDS_TO_HEALTH
  local t0
  t0=$(date +%s.%N)
  "$JAVA" "$@" >>"$WORK/$name.log" 2>&1 &
  PID=$!
  until curl -sf -o /dev/null "$health"; do
    kill -0 "$PID" 2>/dev/null || { tail -n 30 "$WORK/$name.log" >&2; exit 1; }
    sleep 0.05
  done
  SECONDS_TO_HEALTH=$(echo "$(date +%s.%N) - $t0" | bc)
}

if [[ "$name" == service ]]; then
  export PIPEMOE_DATA_DIR="$WORK/data"
  args=(--spring.profiles.active=standalone)
  start "${run[@]}" "${args[@]}" --server.port=$PORT  # initdb and migrations: not counted
  kill -TERM "$PID"; wait "$PID" || true
else
  health="$health/liveness"
  export PIPEMOE_WORKER_TOKEN=startup-steps
  args=(--pipemoe.worker.service-url=http://127.0.0.1:9 --pipemoe.worker.spool-dir="$WORK/spool")
fi
start -Dpipemoe.startup-steps=true "${run[@]}" "${args[@]}" --server.port=$PORT \
  --management.endpoints.web.exposure.include=health,startup
curl -sf -H "Authorization: Bearer $PIPEMOE_ADMIN_TOKEN" "http://localhost:$PORT/actuator/startup" >"$WORK/steps.json"
echo "$name ($*): launch to health $SECONDS_TO_HEALTH s; $(grep -o 'Started [A-Za-z]* in [0-9.]* seconds (process running for [0-9.]*)' "$WORK/$name.log" | tail -n 1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/steps.json" <<'PY'
import json, sys
from datetime import datetime

def t(s):  # ISO instant to seconds
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

events = json.load(open(sys.argv[1]))["timeline"]["events"]
steps = {}
for e in events:
    s = e["startupStep"]
    steps[s["id"]] = dict(name=s["name"], parent=s.get("parentId"),
                          tags={x["key"]: x["value"] for x in s.get("tags", [])},
                          dur=t(e["endTime"]) - t(e["startTime"]))
for s in steps.values():
    s["self"] = s["dur"]
for s in steps.values():
    if s["parent"] in steps:
        steps[s["parent"]]["self"] -= s["dur"]

def label(s):
    tag = s["tags"].get("beanName") or s["tags"].get("beanType") or s["tags"].get("postProcessor") or ""
    return (s["name"] + " " + tag)[:90]

print("\nSteps without a parent (what the start is made of), seconds:")
for s in sorted((s for s in steps.values() if s["parent"] not in steps), key=lambda s: -s["dur"])[:8]:
    print(f"  {s['dur']:6.2f}  {label(s)}")
print("\nLongest single steps by their own time (children taken out), seconds:")
for s in sorted(steps.values(), key=lambda s: -s["self"])[:25]:
    print(f"  {s['self']:6.2f}  {label(s)}")
PY
