#!/usr/bin/env bash
# Run the independent MCP client (official Python SDK) against a built SDD server, on a scratch
# copy of a project so nothing in the repository is written:
#   specification   the task-manager example in a fresh git repository (propose_scenarios
#                   writes; impact_analysis needs git history)
#   implementation  the inventory fixture (tests in Rust and Python; runs are recorded in .sdd/)
# Usage: .ci/probe.sh SERVER [VENV_DIR]. Calls and expectations: .ci/probe-SERVER.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
server="${1:?usage: .ci/probe.sh specification|implementation [VENV_DIR]}"
venv="${2:-$repo/.venv-mcp-probe}"
probe="$repo/../shared/tools/mcp-probe"
[ -x "$venv/bin/python" ] || "$probe/setup.sh" "$venv"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
case "$server" in
  specification)
    mkdir -p "$scratch/specs"
    cp "$repo"/examples/task_manager/specs/*.yaml "$scratch/specs/"
    git -C "$scratch" init -q
    git -C "$scratch" add .
    git -C "$scratch" -c user.name=ci -c user.email=ci@example.invalid commit -q -m spec
    ;;
  implementation)
    cp -r "$repo/crates/sdd-verify/tests/fixtures/inventory/." "$scratch/"
    rm -rf "$scratch/rust/target"
    python="${SDD_PYTHON:-$repo/.venv-test/bin/python}"
    [ -x "$python" ] && sed -i "s#python3 -m pytest#$python -m pytest#" "$scratch/sdd.yaml"
    ;;
  *) echo "unknown server $server" >&2; exit 2 ;;
esac
"$venv/bin/python" "$probe/mcp_probe.py" --calls "$here/probe-$server.json" -- \
  "$repo/target/debug/sdd-$server" --project "$scratch"
