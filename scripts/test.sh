#!/usr/bin/env bash
# The test command: installs what the tests need, builds with -Werror, runs
# every test (Catch2 unit tests and pytest black-box tests through CTest),
# then does the same with an ASan/UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --test

# A real Apache Kafka broker (KRaft, loopback, free ports) for the Kafka sink's
# black-box tests, shared by both builds' test runs. Maven fetches the jars on
# the first run and caches them (~/.cache/logship). The trap stops it however
# this script ends (failure, Ctrl-C, SIGTERM); the 3-broker test starts and
# stops a cluster of its own.
kafka_dir=$(mktemp -d "${TMPDIR:-/tmp}/logship-kafka.XXXXXX")
stop_kafka() {
  if [ -n "${kafka_dir:-}" ]; then
    tests/kafka/kafka.sh stop --dir "$kafka_dir" --rm >/dev/null 2>&1 || rm -rf "$kafka_dir"
    kafka_dir=""
  fi
}
trap stop_kafka EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "== Kafka test broker ==" >&2
kafka_env=$(tests/kafka/kafka.sh start --dir "$kafka_dir")
eval "$kafka_env"
export KAFKA_BROKERS KAFKA_DIR

# A real OpenTelemetry Collector (otlp receiver, file exporter) for the HTTP
# sink's OTLP test, built once with the Collector's builder from the Go
# module proxy and cached (~/.cache/logship/otelcol); later runs are offline.
echo "== OpenTelemetry Collector for the OTLP test ==" >&2
LOGSHIP_OTELCOL=$(tests/otel/build_collector.sh)
export LOGSHIP_OTELCOL

# Helm for the chart's tests (helm lint --strict, helm template), built once
# from the Go module proxy and cached (~/.cache/logship/helm; about 3 minutes
# on the first run, later runs are offline).
echo "== Helm for the chart tests ==" >&2
LOGSHIP_HELM=$(tests/helm/build_helm.sh)
export LOGSHIP_HELM

echo "== release build (-Werror) ==" >&2
scripts/build.sh build
(cd build && ctest --output-on-failure -j 2)

# libFuzzer targets (tests/fuzz), built with clang in build-fuzz: the
# checked-in inputs replayed, then each target fuzzed for a bounded time.
echo "== fuzzing (${LOGSHIP_FUZZ_SECONDS:-30} s per target) ==" >&2
# A finding fails the run, but only after the ASan/UBSan stage below ran.
fuzz_status=0
tests/fuzz/run_fuzz.sh || fuzz_status=$?

if [ "${LOGSHIP_SKIP_ASAN:-}" != "1" ]; then
  echo "== ASan/UBSan build ==" >&2
  scripts/build.sh build-asan -DLOGSHIP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_BENCH=OFF
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j 2)
fi

if [ "$fuzz_status" != 0 ]; then
  echo "fuzzing failed (see above; findings are saved in tests/fuzz/corpus/)" >&2
  exit 1
fi
