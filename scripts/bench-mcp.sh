#!/usr/bin/env bash
# What one MCP call to the specification server costs, beside a bare rmcp server in the same run:
# warm read-only calls on the bundled example and on a generated tree of 10,000 scenarios in
# 200 files, the call after one file changed, and idle memory (see
# crates/sdd-specification-server/benches/calls.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
tree="$(mktemp -d)/spec-tree"
trap 'rm -rf "$(dirname "$tree")"' EXIT
# The spec core's benchmark writes the tree (and prints its own phases).
SDD_BENCH_TREE="$tree" cargo bench -q -p sdd-spec --bench spec_tree >/dev/null
SDD_BENCH_TREE="$tree" cargo bench -q -p sdd-specification-server --bench calls
