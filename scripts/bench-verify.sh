#!/usr/bin/env bash
# Benchmark of reading test results: SDD's parsers on 100,000 generated test cases (JUnit XML,
# pytest -v output) and the mapping to 10,000 scenarios, beside what a user would otherwise reach
# for to read the same JUnit file: Python's junitparser and the standard library's ElementTree.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
SDD_BENCH_DIR="$dir" cargo bench -q -p sdd-results --bench results
venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q junitparser
"$venv/bin/python" - "$dir/junit.xml" <<'PY'
import statistics, sys, time
import xml.etree.ElementTree as ET
from junitparser import JUnitXml, Failure, Skipped

path = sys.argv[1]

def junitparser_read():
    cases = []
    for suite in JUnitXml.fromfile(path):
        for case in suite:
            outcome = "passed"
            for r in case.result:
                outcome = "skipped" if isinstance(r, Skipped) else "failed"
                message = r.message
            cases.append((case.classname, case.name, outcome))
    return cases

def elementtree_read():
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, message = "failed", child.get("message")
            elif child.tag == "skipped":
                outcome = "skipped"
        cases.append((case.get("classname"), case.get("name"), outcome))
    return cases

for name, fn in [("junitparser (Python)", junitparser_read), ("xml.etree.ElementTree (C expat)", elementtree_read)]:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        n = len(fn())
        samples.append(time.perf_counter() - start)
    print(f"  peer: {name:<40} {statistics.median(samples)*1e3:8.1f} ms  ({n} cases, median of 5)")
PY
