#!/usr/bin/env bash
# The main job: build the specification server and ask it, through its tools, about a bundled
# example spec (default: the task manager). Each section is one tool call, printed as the JSON an
# MCP client would receive.
set -euo pipefail
cd "$(dirname "$0")/.."
specs="${1:-examples/task_manager/specs}"
cargo build --release -q -p sdd-specification-server
server=(target/release/sdd-specification --specs "$specs")
section() { printf '\n=== %s ===\n' "$1"; }
section "validate_spec ($specs)"
"${server[@]}" call validate_spec '{"limit": 20}'
section "list_domains"
"${server[@]}" call list_domains
section "analyze_coverage"
"${server[@]}" call analyze_coverage '{"limit": 5}'
section "dependency_graph"
"${server[@]}" call dependency_graph
section "get_constraints (machine readings)"
"${server[@]}" call get_constraints '{"limit": 20}'
section "generate_test_suite (pytest)"
"${server[@]}" call generate_test_suite '{"framework": "pytest"}'
