#!/usr/bin/env bash
# Builds the OpenTelemetry Collector that the OTLP black-box test uses as a
# real OTLP/HTTP receiver: the Collector's own builder (ocb) from the Go
# module proxy, with only the otlp receiver and the file exporter.
#
#   tests/otel/build_collector.sh     # prints the binary's path on stdout
#
# The binary is cached in ${LOGSHIP_CACHE:-~/.cache/logship}/otelcol/<version>/
# together with a stamp of the manifest it was built from, so a second run
# neither builds nor touches the network. Progress goes to stderr. Needs Go
# (scripts/install_deps.sh --test installs golang-go).
set -euo pipefail

VERSION=v0.165.0  # builder and components are released together: keep one version
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${LOGSHIP_CACHE:-$HOME/.cache/logship}/otelcol/$VERSION
BIN=$CACHE/otelcol-logship
MANIFEST=$HERE/builder-config.yaml
stamp() { { echo "$VERSION"; sha256sum "$MANIFEST" | cut -d' ' -f1; } }

mkdir -p "$CACHE"
# Two test runs may start at once; only one of them builds.
exec 9>"$CACHE/.lock"
flock 9

if [ -x "$BIN" ] && [ "$(cat "$CACHE/.stamp" 2>/dev/null)" = "$(stamp)" ]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build_collector.sh: go is not installed" >&2; exit 1; }
start=$(date +%s)
echo "otelcol: building $VERSION into $CACHE (first run only; a few minutes) ..." >&2
rm -f "$BIN" "$CACHE/.stamp"
GOBIN=$CACHE/tools go install "go.opentelemetry.io/collector/cmd/builder@$VERSION" >&2

# The builder writes its generated sources next to the binary; keep them in
# the cache too (the repository stays clean).
work=$CACHE/src
rm -rf "$work"
mkdir -p "$work"
sed "s|@OUTPUT@|$work|" "$MANIFEST" >"$work/manifest.yaml"
# The builder only generates the sources: its own `go mod tidy` also wants
# the test-only dependencies of every component, and some of those are not
# on the module proxy. `tidy -e` records what the build needs and moves past
# what only tests need; `go build` then checks that nothing needed is absent.
# Its tidy failing is expected; go.mod and the sources exist by then.
"$CACHE/tools/builder" --config "$work/manifest.yaml" --skip-compilation >"$work/builder.log" 2>&1 || true
[ -f "$work/go.mod" ] && [ -f "$work/components.go" ] || { cat "$work/builder.log" >&2; exit 1; }
(
  cd "$work"
  go mod tidy -e >&2
  # -trimpath, -s -w: a smaller binary; nothing here needs debug info.
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o otelcol-logship . >&2
)
mv "$work/otelcol-logship" "$BIN"
rm -rf "$work"
stamp >"$CACHE/.stamp"
echo "otelcol: built in $(( $(date +%s) - start )) s: $BIN" >&2
echo "$BIN"
