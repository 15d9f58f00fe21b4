#!/usr/bin/env bash
# The demo: installs what is needed, builds logship, generates a small
# kubelet-like tree of CRI logs in a temp dir and ships it to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh build >&2
demo=$(mktemp -d /tmp/logship-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
python3 bench/loggen.py --out "$demo/logs" --bytes 20000 --files 2 --format cri --layout kubelet --seed 7
echo "--- shipping $demo/logs/containers/*.log to stdout (logship's own logs on stderr) ---" >&2
LOGSHIP_INPUT_PATHS="$demo/logs/containers/*.log" \
LOGSHIP_STATE_DIR="$demo/state" \
LOGSHIP_RELEASE="demo-1.0.0" \
LOGSHIP_LISTEN=off \
  build/logship --oneshot
