#!/usr/bin/env bash
# Benchmark of SDD's load generator beside wrk and oha, in one run against the same loopback
# targets (see ARCHITECTURE.md, "Performance"):
#   (a) closed-loop maximum throughput against nginx with one worker;
#   (b) a fixed rate (300 req/s) against a target that answers after 20 ms and stalls for 200 ms
#       every 2 s: coordinated-omission-correct p95/p99 vs the true values computed from the
#       target's definition, vs `oha --latency-correction`, vs closed-loop wrk;
#   (c) CPU time per request of each generator (from (a)).
# Installs wrk and nginx (Debian) and oha (crates.io, into target/bench-tools) when missing.
# Usage: scripts/bench-load.sh [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
seconds="${2:-10}"
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -q && apt-get install -y -q wrk nginx-light
fi
tools="$PWD/target/bench-tools"
[ -x "$tools/bin/oha" ] || cargo install --locked --root "$tools" oha
cargo build -q --release -p sdd-load
work="$(mktemp -d)"
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -n "${target_pid:-}" ] && kill "$target_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon on;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  server { listen 127.0.0.1:18282; location / { return 200 "ok\n"; } }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"
target/release/sdd-stall-server --port 18181 --delay-ms 20 --stall-ms 200 --every-ms 2000 --threads 1 > "$work/target.log" &
target_pid=$!
sleep 0.5
python3 - "$rounds" "$seconds" "$tools/bin/oha" <<'PY'
import json, re, resource, statistics, subprocess, sys

rounds, seconds, oha = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
NGINX, STALL = "http://127.0.0.1:18282/", "http://127.0.0.1:18181/"

def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, cpu

def wrk(url, connections, secs, latency=False):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{secs}s"] + (["--latency"] if latency else []) + [url]
    out, cpu = timed(cmd)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    pct = {}
    for p, v, unit in re.findall(r"\s(50|75|90|99)%\s+([\d.]+)(us|ms|s)", out):
        pct[p] = float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, total, cpu, pct

def oha_run(args):
    out, cpu = timed([oha, "--no-tui", "--output-format", "json"] + args)
    d = json.loads(out)
    s = d["summary"]
    total = sum(d.get("statusCodeDistribution", {}).values())
    pct = {k: v * 1000 for k, v in d["latencyPercentiles"].items()}
    return s["requestsPerSec"], total, cpu, pct

def sdd(args):
    out, cpu = timed(["target/release/sdd-load"] + args + ["--json"])
    d = json.loads(out)
    return d["achieved_rate"], d["requests"] + d["warmup_requests"], cpu, d

print(f"(a) closed-loop throughput against nginx (1 worker), 50 connections, {seconds} s x {rounds} rounds")
rows = {"wrk 4.1.0 (-t2)": [], "oha 1.16.0": [], "sdd-load (2 threads)": []}
cpu = {k: [] for k in rows}
for r in range(rounds):
    rps, n, c, _ = wrk(NGINX, 50, seconds); rows["wrk 4.1.0 (-t2)"].append(rps); cpu["wrk 4.1.0 (-t2)"].append(c / n * 1e6)
    rps, n, c, _ = oha_run(["-c", "50", "-z", f"{seconds}s", NGINX]); rows["oha 1.16.0"].append(rps); cpu["oha 1.16.0"].append(c / n * 1e6)
    rps, n, c, _ = sdd([NGINX, "--closed", "--connections", "50", "--duration", str(seconds)]); rows["sdd-load (2 threads)"].append(rps); cpu["sdd-load (2 threads)"].append(c / n * 1e6)
best = max(max(v) for v in rows.values())
print(f"  {'tool':<22} {'median req/s':>13} {'best req/s':>11} {'of fastest':>10} {'CPU µs/req':>11}")
for k, v in rows.items():
    print(f"  {k:<22} {statistics.median(v):>13.0f} {max(v):>11.0f} {max(v)/best*100:>9.1f}% {statistics.median(cpu[k]):>11.1f}")

# (b) The true distribution, from the target's own definition (sdd_load::stall_server::StallServerConfig).
def ready(t):
    def unstalled(x):
        into = x % 2000.0
        return x + (200.0 - into) if into < 200.0 else x
    return unstalled(unstalled(t) + 20.0)
lat = sorted(ready(i * 2000.0 / 60000) - i * 2000.0 / 60000 for i in range(60000))
true = {p: lat[int(p / 100 * len(lat)) - 1] for p in (50, 90, 95, 99)}
secs_b = max(20, 2 * seconds)
print(f"\n(b) 300 req/s for {secs_b} s against a 20 ms target stalling 200 ms every 2 s (ms)")
print(f"  {'':<36} {'p50':>7} {'p90':>7} {'p95':>7} {'p99':>7}")
print(f"  {'true (from the target definition)':<36} " + " ".join(f"{true[p]:>7.1f}" for p in (50, 90, 95, 99)))
_, _, _, d = sdd([STALL, "--rate", "300", "--duration", str(secs_b), "--warmup", "2", "--connections", "100"])
l = d["latency_ms"]
print(f"  {'sdd-load, open model':<36} {l['p50']:>7.1f} {l['p90']:>7.1f} {l['p95']:>7.1f} {l['p99']:>7.1f}   (achieved {d['achieved_rate']:.0f} req/s)")
_, _, _, p = oha_run(["-q", "300", "--latency-correction", "-c", "100", "-z", f"{secs_b}s", STALL])
print(f"  {'oha -q 300 --latency-correction':<36} {p['p50']:>7.1f} {p['p90']:>7.1f} {p['p95']:>7.1f} {p['p99']:>7.1f}")
_, _, _, w = wrk(STALL, 6, secs_b, latency=True)
print(f"  {'wrk -c6 (closed loop)':<36} {w.get('50', 0):>7.1f} {w.get('90', 0):>7.1f} {'—':>7} {w.get('99', 0):>7.1f}")
for q in (95, 99):
    print(f"  sdd-load p{q} vs true: {(l[f'p{q}'] / true[q] - 1) * 100:+.1f} %; vs oha: {(l[f'p{q}'] / p[f'p{q}'] - 1) * 100:+.1f} %")
PY
