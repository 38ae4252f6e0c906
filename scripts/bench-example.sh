#!/usr/bin/env bash
# The bundled example's read path as `sdd verify` measures it, beside the tools a user would
# otherwise reach for, in one run against the same service (release build, a fresh database
# seeded with 1000 tasks, the rate limit lifted so every tool measures the service):
#   (a) the read-latency constraint's own load — 1000 req/s for SECONDS on GET /tasks?limit=20 —
#       with sdd-load's open model and with `oha -q 1000 --latency-correction`;
#   (b) closed-loop maximum throughput with 50 connections: wrk, oha, sdd-load.
# Then one full `sdd verify` of the example, timed. Installs wrk (Debian) and oha (crates.io,
# into target/bench-tools) when missing.
# Usage: scripts/bench-example.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
tools="$PWD/target/bench-tools"
[ -x "$tools/bin/oha" ] || cargo install --locked --root "$tools" oha
export CARGO_TARGET_DIR="$PWD/target"
cargo build -q --release -p sdd-load -p sdd-cli
(cd examples/task_manager && cargo build -q --release)
work="$(mktemp -d)"
cleanup() {
  [ -n "${service_pid:-}" ] && kill "$service_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
PORT=18383 DATABASE="$work/tasks.sqlite3" JWT_SECRET=bench-secret RATE_LIMIT_PER_MINUTE=1000000000 \
  target/release/task-manager 2> "$work/service.log" &
service_pid=$!
python3 - "$seconds" "$tools/bin/oha" <<'PY'
import base64, hashlib, hmac, json, re, subprocess, sys, time, urllib.request

seconds, oha = int(sys.argv[1]), sys.argv[2]
BASE = "http://127.0.0.1:18383"
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "bench", "exp": int(time.time()) + 3600}).encode())
sig = b64(hmac.new(b"bench-secret", f"{head}.{body}".encode(), hashlib.sha256).digest())
AUTH = f"Authorization: Bearer {head}.{body}.{sig}"
for _ in range(100):
    try:
        urllib.request.urlopen(BASE + "/health"); break
    except Exception: time.sleep(0.1)
for i in range(1000):
    req = urllib.request.Request(BASE + "/tasks", data=json.dumps({"title": f"seed {i}"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": AUTH.split(": ", 1)[1]})
    urllib.request.urlopen(req)
URL = BASE + "/tasks?limit=20"
run = lambda cmd: subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

def sdd(args):
    return json.loads(run(["target/release/sdd-load", URL, "--header", AUTH, "--json"] + args))
def oha_run(args):
    d = json.loads(run([oha, "--no-tui", "--output-format", "json", "-H", AUTH] + args + [URL]))
    return d["summary"]["requestsPerSec"], {k: v * 1000 for k, v in d["latencyPercentiles"].items()}

print(f"(a) GET /tasks?limit=20 at 1000 req/s for {seconds} s (ms), the read constraint's load")
print(f"  {'':<34} {'p50':>7} {'p90':>7} {'p95':>7} {'p99':>7} {'req/s':>7}")
d = sdd(["--rate", "1000", "--duration", str(seconds), "--warmup", "2"])
l = d["latency_ms"]
print(f"  {'sdd-load, open model':<34} {l['p50']:>7.2f} {l['p90']:>7.2f} {l['p95']:>7.2f} {l['p99']:>7.2f} {d['achieved_rate']:>7.0f}")
rps, p = oha_run(["-q", "1000", "--latency-correction", "-c", "250", "-z", f"{seconds}s"])
print(f"  {'oha -q 1000 --latency-correction':<34} {p['p50']:>7.2f} {p['p90']:>7.2f} {p['p95']:>7.2f} {p['p99']:>7.2f} {rps:>7.0f}")

print(f"\n(b) closed loop, 50 connections, {seconds} s: requests/second")
out = run(["wrk", "-t2", "-c50", f"-d{seconds}s", "-H", AUTH, URL])
wrk_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
print(f"  {'wrk -t2':<34} {wrk_rps:>8.0f}")
rps, _ = oha_run(["-c", "50", "-z", f"{seconds}s"])
print(f"  {'oha':<34} {rps:>8.0f}")
d = sdd(["--closed", "--connections", "50", "--duration", str(seconds)])
print(f"  {'sdd-load (2 threads)':<34} {d['achieved_rate']:>8.0f}")
PY
kill "$service_pid"; wait "$service_pid" 2>/dev/null || true; service_pid=
echo
echo "(c) one full sdd verify of the example (already built):"
start=$(date +%s.%N)
target/release/sdd verify --project examples/task_manager | grep -E '^\[|VERIFIED|FAILED'
echo "  wall time: $(echo "$(date +%s.%N) - $start" | bc) s"
