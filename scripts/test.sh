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
.ci/probe.sh specification
.ci/probe.sh implementation
