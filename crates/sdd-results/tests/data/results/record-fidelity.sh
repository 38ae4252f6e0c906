#!/usr/bin/env bash
# Records the fidelity fixture's runs (crates/sdd-verify/tests/fixtures/fidelity) with the real
# runners, into this directory, named by tool and version. The absolute fixture path becomes
# `/fixture`. Usage: record-fidelity.sh PYTHON (an interpreter that has pytest).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixture="$(cd "$here/../../../../sdd-verify/tests/fixtures/fidelity" && pwd)"
python="${1:?usage: record-fidelity.sh PYTHON}"
pytest_version="$("$python" -c 'import pytest; print(pytest.__version__)')"
cargo_version="$(cargo --version | cut -d' ' -f2)"
nextest_version="$(cargo nextest --version | head -1 | cut -d' ' -f2)"
anonymise() { sed -e "s#$fixture#/fixture#g" -e "s#$python#python#g"; }

cd "$fixture/python"
py() { "$python" -m pytest -p no:cacheprovider "$@" 2>&1 | anonymise; }
py -v -ra > "$here/pytest-$pytest_version-fidelity-v-ra.txt"
py -v -rA > "$here/pytest-$pytest_version-fidelity-v-rA.txt"
py -ra > "$here/pytest-$pytest_version-fidelity-ra.txt"
"$python" -m pytest -p no:cacheprovider -q --junitxml="$fixture/python/junit.xml" >/dev/null 2>&1
anonymise < junit.xml > "$here/pytest-$pytest_version-fidelity-junit.xml"
rm -f junit.xml

cd "$fixture/rust"
export RUST_BACKTRACE=0
cargo test --no-fail-fast --quiet >/dev/null 2>&1 # build first: no compiler lines in the records
cargo test --no-fail-fast > "$here/cargo-$cargo_version-fidelity.stdout.txt" 2> "$here/cargo-$cargo_version-fidelity.stderr.txt"
for f in "$here/cargo-$cargo_version-fidelity".std*.txt; do anonymise < "$f" > "$f.tmp" && mv "$f.tmp" "$f"; done
cargo nextest run --no-fail-fast 2>&1 >/dev/null | anonymise > "$here/nextest-$nextest_version-fidelity.txt"
mkdir -p .config
printf '[profile.default.junit]\npath = "junit.xml"\n' > .config/nextest.toml
cargo nextest run --no-fail-fast --status-level skip 2>&1 >/dev/null | anonymise > "$here/nextest-$nextest_version-fidelity-skip.txt"
anonymise < target/nextest/default/junit.xml > "$here/nextest-$nextest_version-fidelity-junit.xml"
rm -rf .config
