#!/usr/bin/env bash
# The main job: build everything, then run the whole loop — `sdd verify` — on the bundled
# example service (examples/task_manager): validate the spec, run its tests and trace them to
# scenarios, start the service, run the executable examples, verify the constraints under real
# load and probes, stop it; then write the HTML report. Exit status: verify's (0 = nothing failed; the headline says whether everything was verified).
#
# Plant a fault to watch it turn red for the right reason:
#   TASK_MANAGER_FAULTS=slow_reads scripts/run-example.sh
#   (or open_route, no_rate_limit, lose_writes, unimplemented_rule)
set -euo pipefail
cd "$(dirname "$0")/.."
# The example is its own Cargo workspace; sharing our target directory builds its
# dependencies once.
export CARGO_TARGET_DIR="$PWD/target"
project=examples/task_manager
echo "building SDD and the example service (the first build takes a few minutes)…" >&2
cargo build --release -q --workspace
(cd "$project" && cargo build --release -q && cargo test --no-run -q)
status=0
target/release/sdd verify --project "$project" || status=$?
target/release/sdd report --project "$project"
exit "$status"
