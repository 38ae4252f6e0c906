#!/usr/bin/env bash
# Benchmark of the log template miner (crates/sdd-debugger/benches/drain.rs) beside Drain3 on
# the same file: the bench writes its 1 M-line corpus with planted templates, Drain3 (PyPI,
# pinned below; in a venv under the target directory, or $SDD_PYTHON with drain3 installed)
# mines it with the same settings (scripts/bench_drain3.py), and one table compares lines/s,
# templates found and grouping accuracy against the planted templates.
set -euo pipefail
cd "$(dirname "$0")/.."

DRAIN3_VERSION="0.9.11"
target="${CARGO_TARGET_DIR:-target}"
work="$target/bench-drain"
corpus="$work/corpus.log"
mkdir -p "$work"

cargo build --release -q -p sdd-debugger --benches
cargo bench -q -p sdd-debugger --bench drain -- "$corpus" | tee "$work/sdd.txt"

if [[ -n "${SDD_PYTHON:-}" ]]; then
    python="$SDD_PYTHON"
else
    venv="$target/venv-drain3"
    if [[ ! -x "$venv/bin/python" ]]; then
        python3 -m venv "$venv" || {
            echo "python3's venv module is missing (Debian: apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    python="$venv/bin/python"
    if ! "$python" -c "import drain3, importlib.metadata as m; assert m.version('drain3') == '$DRAIN3_VERSION'" 2>/dev/null; then
        "$python" -m pip install -q "drain3==$DRAIN3_VERSION"
    fi
fi

echo
echo "Drain3 $DRAIN3_VERSION on the same file ($corpus)..."
"$python" scripts/bench_drain3.py "$corpus" > "$work/drain3.txt"

echo
echo "same 1 M lines, default settings (depth 4, similarity 0.4, 100 children, masking), one core"
printf '%-14s %12s %10s %10s %9s\n' "tool" "lines/s" "MB/s" "templates" "accuracy"
grep '^sdd-debugger ' "$work/sdd.txt"
cat "$work/drain3.txt"
