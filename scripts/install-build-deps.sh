#!/usr/bin/env bash
# What a Debian/Ubuntu machine needs to build pipemoe besides a JDK 25: the C++ toolchain for the
# native runtime (OpenBLAS comes through Maven). Used by .ci/run and by the Dockerfile's build
# stage, so the image builds the way CI does.
set -euo pipefail
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v curl >/dev/null || command -v wget >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates >/dev/null
fi
