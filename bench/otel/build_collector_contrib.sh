#!/usr/bin/env bash
# Builds the OpenTelemetry Collector that bench/bench_peers.py runs beside
# logship: the contrib filelog receiver, file and kafka exporters and the
# file_storage extension (this directory's builder-config.yaml), through the
# same steps and cache as the test Collector (tests/otel/build_collector.sh).
# A bench tool only: it is not part of the test command.
#
#   bench/otel/build_collector_contrib.sh     # prints the binary's path on stdout
#
# Cached in ${LOGSHIP_CACHE:-~/.cache/logship}/otelcol-contrib/<version>/. The
# Go build of these contrib modules is heavy (several minutes of both cores,
# ~2 GiB of RAM); OTELCOL_BUILD_FRUGAL=1 keeps it to one compile job.
#
# Why no transform processor: no release tried has all five modules on the
# module proxy (2026-12-01). At v0.165.0 (and v0.165.1) the transform
# processor needs pkg/ottl/contexts/xprofile and pkg/expohisto, which answer
# 403; at v0.161.0, where it builds, pkg/stanza (filelog) and
# pkg/kafka/configkafka + pkg/kafka/topic (kafka exporter) answer 403. So
# v0.165.0, the release the test Collector uses, without it; bench_peers.py
# adds the release attribute with the filelog receiver's own `add` operator.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export OTELCOL_VERSION=${OTELCOL_CONTRIB_VERSION:-v0.165.0}
exec "$HERE/../../tests/otel/build_collector.sh" --manifest "$HERE/builder-config.yaml" \
  --cache-name otelcol-contrib --binary otelcol-logship-bench
