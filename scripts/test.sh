#!/usr/bin/env bash
# The test command: installs what the tests need, builds with -Werror, runs
# every test (Catch2 unit tests and pytest black-box tests through CTest),
# then does the same with an ASan/UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --test

echo "== release build (-Werror) ==" >&2
scripts/build.sh build
(cd build && ctest --output-on-failure -j 2)

if [ "${LOGSHIP_SKIP_ASAN:-}" != "1" ]; then
  echo "== ASan/UBSan build ==" >&2
  scripts/build.sh build-asan -DLOGSHIP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_BENCH=OFF
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j 2)
fi
