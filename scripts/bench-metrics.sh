#!/usr/bin/env bash
# Benchmark of the metric store (crates/sdd-metrics/benches/store.rs): ingest, a summary over
# 1 M samples of one series, the import of a generated OpenMetrics file beside promtool's
# backfill of the same file (`promtool tsdb create-blocks-from openmetrics`, Debian package
# `prometheus`, when installed), and the storage layouts the store was chosen from.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v promtool >/dev/null || echo "promtool not found: the peer figure is skipped (apt-get install prometheus)"
cargo bench -q -p sdd-metrics --bench store
# The monitoring tools' queries on the same data from the embedded store and a real Prometheus.
cargo bench -q -p sdd-monitoring --bench sources
