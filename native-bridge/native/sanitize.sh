#!/usr/bin/env bash
# Builds the runtime and its CTest programs with AddressSanitizer + UndefinedBehaviorSanitizer into
# their own build folder and runs them; any report fails the run. Needs the OpenBLAS the Maven build
# unpacks (./mvnw -pl native-bridge -am process-classes), or OPENBLAS_DIR set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
openblas=${OPENBLAS_DIR:-$here/../target/openblas/org/bytedeco/openblas/linux-x86_64}
build=${PM_SANITIZE_BUILD:-$here/../target/native-sanitize}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DPM_SANITIZE=ON -DOPENBLAS_DIR="$openblas" >/dev/null
cmake --build "$build" --parallel 2
# detect_leaks stays on; no suppressions are needed: OpenBLAS's thread pool is created once and
# freed at exit, and our handles are all released by the tests
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_init_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" --output-on-failure --timeout 600
