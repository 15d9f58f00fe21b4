#!/usr/bin/env bash
# Installs what logship needs to build and test, from Debian packages (and
# pytest from PyPI when it is missing). Safe to run again: it skips what is
# already installed.
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config libsimdjson-dev librdkafka-dev libzstd-dev libdeflate-dev libboost-dev
          catch2 libssl-dev zlib1g-dev python3 openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ "${1:-}" = "--test" ]; then
  python3 -c 'import pytest' 2>/dev/null || python3 -m pip install -q pytest
  # The Kafka tests run real Apache Kafka brokers (tests/kafka/kafka.sh):
  # Java 17 to run them, Maven to fetch their jars from Maven Central.
  kafka_missing=()
  for p in openjdk-17-jre-headless maven; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || kafka_missing+=("$p")
  done
  if ((${#kafka_missing[@]})); then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${kafka_missing[@]}"
  fi
  # The HTTP sink's test receiver decodes zstd request bodies.
  python3 -c 'import zstandard' 2>/dev/null || python3 -m pip install -q zstandard
  python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q pyyaml
  # The fuzz targets (tests/fuzz/run_fuzz.sh): clang 16 (14 cannot use
  # libstdc++ 12's <expected>) and its compiler-rt, which holds libFuzzer.
  fuzz_missing=()
  for p in clang-16 libclang-rt-16-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || fuzz_missing+=("$p")
  done
  if ((${#fuzz_missing[@]})); then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${fuzz_missing[@]}"
  fi
  # kubectl (with kustomize) renders deploy/ in the tests; some images ship
  # their own kubectl, which Debian's package would conflict with.
  if ! command -v kubectl >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends kubernetes-client
  fi
  # promtool (Debian's prometheus package) checks and unit-tests
  # deploy/monitoring/alerts.yaml. Only the tool is used: where systemd
  # started the package's server, stop and disable it again.
  if ! command -v promtool >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends prometheus
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
      $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
  fi
fi
