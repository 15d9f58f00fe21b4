#!/usr/bin/env bash
# Configures and builds logship. Usage: scripts/build.sh [build-dir] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DLOGSHIP_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
