#!/usr/bin/env bash
# The test command: exactly what CI runs after installing prerequisites (.ci/run).
# Formatting, lints, every crate's unit/integration/protocol tests, then the independent MCP
# client (official Python SDK) against the built specification server.
set -euo pipefail
cd "$(dirname "$0")/.."
# A python with pytest for the generated-suite tests (.ci/run makes .venv-test).
if [ -z "${SDD_PYTHON:-}" ] && [ -x .venv-test/bin/python ]; then
  export SDD_PYTHON="$PWD/.venv-test/bin/python"
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
# The bundled example is its own Cargo workspace (as a user's project is); it shares our
# target directory so its dependencies build once.
export CARGO_TARGET_DIR="$PWD/target"
(cd examples/task_manager && cargo fmt -- --check && cargo clippy --all-targets -- -D warnings && cargo test)
.ci/probe.sh specification
.ci/probe.sh implementation
