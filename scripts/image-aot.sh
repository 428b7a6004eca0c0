#!/usr/bin/env bash
# The Docker images' start-up cache (docs/deploy.md, "The images' start-up cache"), made at image
# build by a training run in the runtime image itself: the cache is only valid for the JVM and the
# jar paths it was made with.
#
#   scripts/image-aot.sh service|worker [DIR]
#
# DIR (default /app) holds the jar's extracted form (scripts/build-dist.sh: dist/pipemoe-NAME/);
# the cache goes to DIR/aot/app.aot, which the image's ENTRYPOINT names with -XX:AOTCache. The
# training run starts the jar up to its health answer and stops it, with nothing outside it:
#   service: the standalone profile (its embedded PostgreSQL, a throwaway data directory), run as
#            the image's unprivileged user, since initdb refuses root;
#   worker:  against no service (it starts, stays unregistered, and is stopped).
# Everything the run writes lives in a temporary directory removed afterwards (java.io.tmpdir
# too, where PostgreSQL's and the native runtime's binaries are unpacked), so the image carries
# only the cache. A failed training leaves no cache and does not fail the build: the images then
# start without one, slower, and the JVM says so at every start ("[aot] An error has occurred
# while processing the AOT cache"). Port: PIPEMOE_TRAINING_PORT (default 18080).
set -euo pipefail

name=${1:?usage: $0 service|worker [DIR]}
dir=${2:-/app}
port=${PIPEMOE_TRAINING_PORT:-18080}
jar="$dir/pipemoe-$name.jar"
[[ -f "$jar" && -d "$dir/lib" ]] || { echo "image-aot: $dir lacks pipemoe-$name.jar and lib/ (the extracted form)" >&2; exit 1; }
mkdir -p "$dir/aot"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url="http://127.0.0.1:$port/actuator/health"

case "$name" in
  service)
    args=(--spring.profiles.active=standalone --server.port="$port")
    export PIPEMOE_DATA_DIR="$work/data" PIPEMOE_ADMIN_TOKEN
    PIPEMOE_ADMIN_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    ;;
  worker)
    url="$url/liveness"
    args=(--pipemoe.worker.service-url=http://127.0.0.1:9 --server.port="$port"
      --pipemoe.worker.spool-dir="$work/spool")
    export PIPEMOE_WORKER_TOKEN=training
    ;;
  *) echo "image-aot: service or worker, not $name" >&2; exit 2 ;;
esac

echo "image-aot: $name: training run for the AOT cache (about a minute)"
if "$(dirname "$0")/aot-train.sh" "$dir/aot/app.aot" "$url" "$work/training.log" \
    -Djava.io.tmpdir="$work" -jar "$jar" "${args[@]}"; then
  ls -l "$dir/aot/app.aot"
else
  echo "image-aot: $name: WARNING: the training run made no AOT cache; the image starts without one (slower). Its log:" >&2
  tail -n 40 "$work/training.log" >&2
fi
