#!/usr/bin/env bash
# Builds an OpenTelemetry Collector with the Collector's own builder (ocb)
# from the Go module proxy. By default the one the OTLP black-box test uses
# as a real OTLP/HTTP receiver (this directory's builder-config.yaml: the
# otlp receiver and the file exporter); bench/otel/build_collector_contrib.sh
# builds the bench's contrib Collector through the same steps.
#
#   tests/otel/build_collector.sh [--manifest FILE] [--cache-name NAME] [--binary NAME]
#
# Prints the binary's path on stdout; progress goes to stderr. The binary is
# cached in ${LOGSHIP_CACHE:-~/.cache/logship}/<cache-name>/<version>/ with a
# stamp of the manifest it was built from, so a second run neither builds nor
# touches the network. Needs Go (scripts/install_deps.sh --test installs
# golang-go). The build runs under `nice`; OTELCOL_BUILD_FRUGAL=1 also keeps it
# to one compile job (GOMAXPROCS=1, -p 1) for a shared machine.
set -euo pipefail

# The builder and every component are released together: keep one version.
VERSION=${OTELCOL_VERSION:-v0.165.0}
HERE=$(cd "$(dirname "$0")" && pwd)
MANIFEST=$HERE/builder-config.yaml
CACHE_NAME=otelcol
NAME=otelcol-logship
while [ $# -gt 0 ]; do
  case "$1" in
    --manifest) MANIFEST=$2; shift 2 ;;
    --cache-name) CACHE_NAME=$2; shift 2 ;;
    --binary) NAME=$2; shift 2 ;;
    *) echo "build_collector.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
CACHE=${LOGSHIP_CACHE:-$HOME/.cache/logship}/$CACHE_NAME/$VERSION
BIN=$CACHE/$NAME
stamp() { { echo "$VERSION"; sha256sum "$MANIFEST" | cut -d' ' -f1; } }

mkdir -p "$CACHE"
# Two runs may start at once; only one of them builds.
exec 9>"$CACHE/.lock"
flock 9

if [ -x "$BIN" ] && [ "$(cat "$CACHE/.stamp" 2>/dev/null)" = "$(stamp)" ]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build_collector.sh: go is not installed" >&2; exit 1; }
NICE=(nice -n 15)
JOBS=()
if [ "${OTELCOL_BUILD_FRUGAL:-0}" = 1 ]; then
  export GOMAXPROCS=1
  JOBS=(-p 1)
fi
start=$(date +%s)
echo "$CACHE_NAME: building $VERSION into $CACHE (first run only; minutes) ..." >&2
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
# The builder only generates the sources: its own `go mod tidy` also wants
# the test-only dependencies of every component, and some of those are not
# on the module proxy. `tidy -e` records what the build needs and moves past
# what only tests need; `go build` then checks that nothing needed is absent.
# Its tidy failing is expected; go.mod and the sources exist by then.
"${NICE[@]}" "$CACHE/tools/builder" --config "$work/manifest.yaml" --skip-compilation >"$work/builder.log" 2>&1 || true
[ -f "$work/go.mod" ] && [ -f "$work/components.go" ] || { cat "$work/builder.log" >&2; exit 1; }
(
  cd "$work"
  "${NICE[@]}" go mod tidy -e >&2
  # -trimpath, -s -w: a smaller binary; nothing here needs debug info.
  CGO_ENABLED=0 "${NICE[@]}" go build "${JOBS[@]}" -trimpath -ldflags "-s -w" -o "$NAME" . >&2
)
mv "$work/$NAME" "$BIN"
rm -rf "$work"
stamp >"$CACHE/.stamp"
echo "$CACHE_NAME: built $VERSION in $(( $(date +%s) - start )) s: $BIN" >&2
echo "$BIN"
