#!/usr/bin/env bash
# A JDK AOT cache made by a training run (docs/worker.md, "The start-up cache"):
#
#   scripts/aot-train.sh CACHE URL LOG ARG...
#
# runs `${JAVA:-java} -XX:AOTCacheOutput=CACHE.tmp ARG...` (output to LOG) until URL answers 200
# (at most ${AOT_TRAINING_TIMEOUT:-180} s), stops it with SIGTERM, and the JVM writes the cache as
# it exits; it is then renamed CACHE. Exits 0 with a cache, 1 without: a failed or interrupted run
# leaves none. ./pipemoe and scripts/image-aot.sh (the Docker images) both make their caches here.
set -uo pipefail

[[ $# -ge 4 ]] || { echo "usage: $0 CACHE URL LOG ARG..." >&2; exit 2; }
cache=$1 url=$2 log=$3
shift 3
JAVA=${JAVA:-java}
TIMEOUT=${AOT_TRAINING_TIMEOUT:-180}
rm -f "$cache.tmp"

"$JAVA" -XX:AOTCacheOutput="$cache.tmp" "$@" >"$log" 2>&1 &
pid=$!
# stopped from outside (Ctrl-C in ./pipemoe): no half-written cache, no training JVM left behind
trap 'kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$cache.tmp"; exit 1' INT TERM

answered=
for ((i = 0; i < TIMEOUT * 4; i++)); do
  if curl -sf -o /dev/null "$url"; then
    answered=1
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.25
done
if [[ -n "$answered" ]]; then
  kill -TERM "$pid" 2>/dev/null
else
  echo "aot-train: $url did not answer (the run exited or took over $TIMEOUT s); no cache" >>"$log"
  kill -KILL "$pid" 2>/dev/null
fi
wait "$pid" 2>/dev/null
if [[ -n "$answered" && -s "$cache.tmp" ]] && mv -f "$cache.tmp" "$cache"; then
  exit 0
fi
rm -f "$cache.tmp"
exit 1
