#!/usr/bin/env bash
# Builds Helm, which the chart's black-box tests (tests/blackbox/test_helm.py)
# use for `helm lint --strict` and `helm template`: `go install` of Helm's own
# command from the Go module proxy, nothing else.
#
#   tests/helm/build_helm.sh     # prints the binary's path on stdout
#
# The binary is cached in ${LOGSHIP_CACHE:-~/.cache/logship}/helm/<version>/
# with a stamp of the version, so a second run neither builds nor touches the
# network. Progress goes to stderr. Needs Go (scripts/install_deps.sh --test
# installs golang-go).
set -euo pipefail

VERSION=v3.19.5
CACHE=${LOGSHIP_CACHE:-$HOME/.cache/logship}/helm/$VERSION
BIN=$CACHE/helm

mkdir -p "$CACHE"
# Two test runs may start at once; only one of them builds.
exec 9>"$CACHE/.lock"
flock 9

if [ -x "$BIN" ] && [ "$(cat "$CACHE/.stamp" 2>/dev/null)" = "$VERSION" ]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build_helm.sh: go is not installed" >&2; exit 1; }
start=$(date +%s)
echo "helm: building $VERSION into $CACHE (first run only; a few minutes) ..." >&2
rm -f "$BIN" "$CACHE/.stamp"
# -mod=mod: resolve from the module's own go.mod whatever the caller's
# GOFLAGS say; -trimpath and -s -w: a smaller binary, no debug info needed.
# CGO off: a static binary that needs no C toolchain.
GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN=$CACHE \
  go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$VERSION" >&2
"$BIN" version --short >&2
echo "$VERSION" >"$CACHE/.stamp"
echo "helm: built in $(( $(date +%s) - start )) s: $BIN" >&2
echo "$BIN"
