#!/usr/bin/env bash
# Builds the two runnable jars and puts them in dist/, each also in its extracted form
# (dist/pipemoe-service/, dist/pipemoe-worker/: the jar and lib/, Spring Boot's
# `-Djarmode=tools extract`), which is what the Docker images ship and make their start-up cache
# for (scripts/image-aot.sh). The Dockerfile's build stage runs it; so does .ci/run (after the
# tests), which then checks the result.
#   scripts/build-dist.sh            package without tests (the image build)
#   SKIP_PACKAGE=1 scripts/build-dist.sh   only collect jars an earlier `./mvnw verify` built
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_PACKAGE:-0}" != 1 ]; then
  ./mvnw -B -q -DskipTests -pl service,worker -am package
fi
mkdir -p dist
cp service/target/pipemoe-service.jar worker/target/pipemoe-worker.jar dist/
for name in pipemoe-service pipemoe-worker; do
  rm -rf "dist/$name"
  java -Djarmode=tools -jar "dist/$name.jar" extract --destination "dist/$name" >/dev/null
done
# the worker jar carries the native runtime and its BLAS; fail here, not at run time, if not
# (grep reads all of jar's output: with -q it could stop early and pipefail would see SIGPIPE)
jar tf dist/pipemoe-worker.jar | grep 'pipemoe-native-bridge' >/dev/null \
  || { echo "dist/pipemoe-worker.jar lacks the native bridge" >&2; exit 1; }
ls -l dist/ dist/pipemoe-service dist/pipemoe-worker
