#!/usr/bin/env bash
# SDD's own conformance check: every tool, prompt and resource of each server, through the
# official MCP Python SDK (pinned in conformance/requirements.txt), on a scratch copy of a
# project so nothing in the repository is written:
#   specification   the task-manager example's specs in a fresh git repository
#                   (propose_scenarios writes; impact_analysis needs git history)
#   implementation  the inventory fixture (tests in Rust and Python; runs go to its .sdd/)
#   monitoring      the task-manager example's specs and sdd.yaml, its embedded metric store
#                   filled by `sdd metrics import` from conformance/data/monitoring.om (30 min
#                   of the metrics convention up to 2026-03-01T12:00:00Z, which the calls name
#                   as `at`)
#   debugger        a generated run with a planted deploy as JSON lines of the event
#                   convention (`generate_incident`, an example of the sdd-debugger crate),
#                   and the task-manager example's specs (draft_hotfix writes its proposal)
# Usage: scripts/conformance.sh [SERVER...]   (default: all four; the servers must be built:
# `cargo build` makes target/debug/sdd-specification, sdd-implementation, sdd-monitoring,
# sdd-debugger and sdd, which the monitoring case imports with).
# The first run makes .venv-conformance with python3's venv module and PyPI.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
here="$repo/conformance"
venv="${SDD_CONFORMANCE_VENV:-$repo/.venv-conformance}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import mcp, jsonschema' 2>/dev/null; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "conformance: python3 with its venv module is needed (Debian: apt-get install python3-venv)" >&2
    exit 2
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/requirements.txt" || {
    echo "conformance: could not install conformance/requirements.txt from PyPI into $venv" >&2
    exit 2
  }
fi
for server in "${@:-specification implementation monitoring debugger}"; do
  for one in $server; do
    binary="$repo/target/debug/sdd-$one"
    [ -x "$binary" ] || { echo "conformance: $binary is not built (run cargo build)" >&2; exit 2; }
    scratch="$(mktemp -d)"
    case "$one" in
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
      monitoring)
        mkdir -p "$scratch/specs"
        cp "$repo"/examples/task_manager/specs/*.yaml "$scratch/specs/"
        cp "$repo/examples/task_manager/sdd.yaml" "$scratch/"
        sdd="$repo/target/debug/sdd"
        [ -x "$sdd" ] || { echo "conformance: $sdd is not built (run cargo build)" >&2; exit 2; }
        "$sdd" metrics import --project "$scratch" "$here/data/monitoring.om" >/dev/null
        ;;
      debugger)
        # A generated run with a planted deploy (sdd-debugger's testing corpus), as JSON lines
        # of the event convention; the task-manager example's specs for draft_hotfix (which
        # writes a proposal into them) and what_if, and a spec naming the run's scenarios, so
        # incidents recorded from it have subjects and runbooks.
        mkdir -p "$scratch/logs" "$scratch/specs"
        cp "$repo"/examples/task_manager/specs/*.yaml "$scratch/specs/"
        # Two domains (the example's and Shop): the uptime what_if edits is named a histogram.
        printf 'debugger:\n  sources:\n    - {path: logs/events.jsonl}\n  business_keys: [order_id]\nmonitoring:\n  constraints:\n    task_management_system.reliability.uptime: {histogram: http_request_duration_seconds}\n' >"$scratch/sdd.yaml"
        printf 'feature: Shop\nscenarios:\n  - name: Create an order\n    when: I create an order\n    then: The order exists\n  - name: Complete an order\n    given: An order exists\n    when: I complete it\n    then: The order is completed\n  - name: List orders\n    when: I list my orders\n    then: I see them\n' >"$scratch/specs/shop.yaml"
        (cd "$repo" && cargo run -q -p sdd-debugger --features testing --example generate_incident -- deploy 1 10 240) \
          >"$scratch/logs/events.jsonl"
        ;;
      *) echo "conformance: unknown server $one (specification, implementation, monitoring or debugger)" >&2; exit 2 ;;
    esac
    echo "conformance: sdd-$one"
    status=0
    "$venv/bin/python" "$here/mcp_conformance.py" --require-coverage \
      --stderr-log "$scratch.stderr.log" \
      --calls "$here/calls-$one.json" -- "$binary" --project "$scratch" || status=$?
    if [ "$status" -ne 0 ]; then
      echo "conformance: the server's last log lines:" >&2
      tail -n 20 "$scratch.stderr.log" >&2 || true
    fi
    rm -rf "$scratch" "$scratch.stderr.log"
    [ "$status" -eq 0 ] || exit "$status"
  done
done
