#!/usr/bin/env bash
# Builds the OpenTelemetry Collector that bench/bench_peers.py runs beside
# logship: the Collector's own builder (ocb) from the Go module proxy, with the
# contrib filelog receiver, file and kafka exporters and the file_storage
# extension (builder-config.yaml; the transform processor is left out, see
# VERSION). A bench tool only: it is
# not part of the test command.
#
#   bench/otel/build_collector_contrib.sh     # prints the binary's path on stdout
#
# The binary is cached in ${LOGSHIP_CACHE:-~/.cache/logship}/otelcol-contrib/<version>/
# with a stamp of the manifest it was built from, so a second run neither
# builds nor touches the network. Progress goes to stderr. Needs Go.
#
# The Go build of these contrib modules is heavy (several minutes of both
# cores, ~2 GiB of RAM): it runs under `nice` and, with
# OTELCOL_BUILD_FRUGAL=1, with one compile job at a time (GOMAXPROCS=1, -p 1)
# for a shared machine.
set -euo pipefail

# The builder and every component are released together: keep one version.
# No release tried has all five modules on the module proxy (2026-12-01):
# at v0.165.0 (and v0.165.1) the transform processor needs
# pkg/ottl/contexts/xprofile and pkg/expohisto, which answer 403; at v0.161.0,
# where the transform processor builds, pkg/stanza (filelog) and
# pkg/kafka/configkafka + pkg/kafka/topic (kafka exporter) answer 403. So:
# v0.165.0, the core release tests/otel/build_collector.sh uses, without the
# transform processor; bench_peers.py adds the release attribute with the
# filelog receiver's own `add` operator instead.
VERSION=${OTELCOL_CONTRIB_VERSION:-v0.165.0}
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${LOGSHIP_CACHE:-$HOME/.cache/logship}/otelcol-contrib/$VERSION
BIN=$CACHE/otelcol-logship-bench
MANIFEST=$HERE/builder-config.yaml
stamp() { { echo "$VERSION"; sha256sum "$MANIFEST" | cut -d' ' -f1; } }

mkdir -p "$CACHE"
# Two bench runs may start at once; only one of them builds.
exec 9>"$CACHE/.lock"
flock 9

if [ -x "$BIN" ] && [ "$(cat "$CACHE/.stamp" 2>/dev/null)" = "$(stamp)" ]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build_collector_contrib.sh: go is not installed" >&2; exit 1; }
NICE=(nice -n 15)
GOFLAGS_P=()
if [ "${OTELCOL_BUILD_FRUGAL:-0}" = 1 ]; then
  export GOMAXPROCS=1
  GOFLAGS_P=(-p 1)
fi
start=$(date +%s)
echo "otelcol-contrib: building $VERSION into $CACHE (first run only; many minutes) ..." >&2
rm -f "$BIN" "$CACHE/.stamp"
if [ ! -x "$CACHE/tools/builder" ]; then
  GOBIN=$CACHE/tools "${NICE[@]}" go install "go.opentelemetry.io/collector/cmd/builder@$VERSION" >&2
fi

# The builder writes its generated sources next to the binary; keep them in
# the cache too (the repository stays clean).
work=$CACHE/src
rm -rf "$work"
mkdir -p "$work"
sed -e "s|@OUTPUT@|$work|" -e "s|@VERSION@|$VERSION|g" "$MANIFEST" >"$work/manifest.yaml"
# As in tests/otel/build_collector.sh: the builder's own `go mod tidy` also
# wants the test-only dependencies of every component, and some are not on
# the module proxy. Generate only; `tidy -e` records what the build needs and
# moves past what only tests need; `go build` then checks nothing needed is
# absent. The builder's tidy failing is expected.
"${NICE[@]}" "$CACHE/tools/builder" --config "$work/manifest.yaml" --skip-compilation >"$work/builder.log" 2>&1 || true
[ -f "$work/go.mod" ] && [ -f "$work/components.go" ] || { cat "$work/builder.log" >&2; exit 1; }
(
  cd "$work"
  "${NICE[@]}" go mod tidy -e >&2
  # -trimpath, -s -w: a smaller binary; nothing here needs debug info.
  CGO_ENABLED=0 "${NICE[@]}" go build "${GOFLAGS_P[@]}" -trimpath -ldflags "-s -w" -o otelcol-logship-bench . >&2
)
mv "$work/otelcol-logship-bench" "$BIN"
rm -rf "$work"
stamp >"$CACHE/.stamp"
echo "otelcol-contrib: built $VERSION in $(( $(date +%s) - start )) s: $BIN" >&2
echo "$BIN"
