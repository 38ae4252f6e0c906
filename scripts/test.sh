#!/usr/bin/env bash
# The test command: exactly what CI runs after installing prerequisites (.ci/run).
# Formatting, lints, and every crate's unit/integration/protocol tests (those spawn the built
# servers and call them with rmcp's client). Needs nothing outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
# A python with pytest for the generated-suite tests (.ci/run makes .venv-test).
if [ -z "${SDD_PYTHON:-}" ] && [ -x .venv-test/bin/python ]; then
  export SDD_PYTHON="$PWD/.venv-test/bin/python"
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
# Every tool, prompt and resource of the four servers through the official MCP Python SDK
# (pinned in conformance/requirements.txt; the first run installs it into .venv-conformance).
scripts/conformance.sh specification implementation monitoring debugger
# The bundled example is its own Cargo workspace (as a user's project is); it shares our
# target directory so its dependencies build once.
export CARGO_TARGET_DIR="$PWD/target"
(cd examples/task_manager && cargo fmt -- --check && cargo clippy --all-targets -- -D warnings && cargo test)
