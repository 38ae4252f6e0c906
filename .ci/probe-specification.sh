#!/usr/bin/env bash
# Run the independent MCP client (official Python SDK) against the built specification server,
# on a scratch git copy of the task-manager example (propose_scenarios writes; impact_analysis
# needs git history). Usage: .ci/probe-specification.sh [VENV_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="${1:-$repo/.venv-mcp-probe}"
probe="$repo/../shared/tools/mcp-probe"
[ -x "$venv/bin/python" ] || "$probe/setup.sh" "$venv"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/specs"
cp "$repo"/examples/task_manager/specs/*.yaml "$scratch/specs/"
git -C "$scratch" init -q
git -C "$scratch" add .
git -C "$scratch" -c user.name=ci -c user.email=ci@example.invalid commit -q -m spec
"$venv/bin/python" "$probe/mcp_probe.py" --calls "$here/probe-specification.json" -- \
  "$repo/target/debug/sdd-specification" --project "$scratch" --specs "$scratch/specs"
