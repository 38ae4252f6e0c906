#!/usr/bin/env bash
# Benchmark of the degradation hunter (crates/sdd-monitoring/benches/degradation.rs): 1,000
# series × 10,000 points with seven planted kinds, the analysis alone and through the embedded
# store, beside `predict_linear` through a real Prometheus (Debian package `prometheus`) on the
# same data, with which planted kinds each flags. The peer's backfill of 10 M samples takes
# minutes; SDD_BENCH_NO_PEER=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v prometheus >/dev/null || echo "prometheus not found: the peer is skipped (apt-get install prometheus)"
cargo bench -q -p sdd-monitoring --bench degradation
