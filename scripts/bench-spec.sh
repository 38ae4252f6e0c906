#!/usr/bin/env bash
# Benchmark of the spec core on 10,000 scenarios in 200 files, beside the tool a user would
# otherwise reach for: Python's PyYAML loading the same files (the seed's `yaml.safe_load`), which
# only parses — no positions, no model, no checks.
set -euo pipefail
cd "$(dirname "$0")/.."
tree="$(mktemp -d)/spec-tree"
SDD_BENCH_TREE="$tree" cargo bench -q -p sdd-spec --bench spec_tree
venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q pyyaml
"$venv/bin/python" - "$tree" <<'PY'
import glob, statistics, sys, time, yaml
files = sorted(glob.glob(sys.argv[1] + "/*.yaml"))
texts = [open(f).read() for f in files]
def run(loader):
    start = time.perf_counter()
    for t in texts:
        yaml.load(t, Loader=loader)
    return time.perf_counter() - start
for name, loader in [("PyYAML SafeLoader (pure Python)", yaml.SafeLoader), ("PyYAML CSafeLoader (libyaml)", getattr(yaml, "CSafeLoader", None))]:
    if loader is None:
        print(f"  {name}: not available"); continue
    samples = [run(loader) for _ in range(5)]
    print(f"  peer: {name:<34} {statistics.median(samples)*1e3:8.1f} ms  (parse only, median of 5)")
PY
rm -rf "$(dirname "$tree")"
