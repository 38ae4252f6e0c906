#!/usr/bin/env bash
# Records the fidelity fixture's Go, Jest and Vitest runs (crates/sdd-verify/tests/fixtures/
# fidelity/{go,js}) with the real runners, into this directory, named by tool and version. The
# absolute fixture path becomes `/fixture`. Needs `go` (Debian `golang-go`) and Node with npm;
# installs jest and vitest into the fixture's node_modules (git-ignored) when missing.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixture="$(cd "$here/../../../../sdd-verify/tests/fixtures/fidelity" && pwd)"
anonymise() { sed -e "s#$fixture#/fixture#g"; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$fixture/go"
go_version="$(go env GOVERSION)"
# Each run from a clean test cache: a cached package prints `(cached)` instead of its time.
go clean -testcache && go test -json ./... 2>&1 | anonymise > "$here/$go_version-fidelity-test-json.jsonl"
go clean -testcache && go test ./... 2>&1 | anonymise > "$here/$go_version-fidelity-test.txt"
go clean -testcache && go test -v ./... 2>&1 | anonymise > "$here/$go_version-fidelity-test-v.txt"
# The `broken` tag brings in ./broken, whose test does not compile; Go < 1.24 reports the
# compiler's errors on stderr, so stdout and stderr are kept apart.
go clean -testcache
go test -json -tags broken ./... > "$tmp/out" 2> "$tmp/err"
anonymise < "$tmp/out" > "$here/$go_version-fidelity-build-failed-test-json.jsonl"
anonymise < "$tmp/err" > "$here/$go_version-fidelity-build-failed-test-json.stderr.txt"

cd "$fixture/js"
[ -d node_modules ] || npm install --no-audit --no-fund >/dev/null
jest_version="$(npx jest --version)"
vitest_version="$(npx vitest --version | sed -n 's#^vitest/\([^ ]*\).*#\1#p')"
npx jest --json --outputFile="$tmp/jest.json" >/dev/null 2>&1
anonymise < "$tmp/jest.json" > "$here/jest-$jest_version-fidelity.json"
npx vitest run --globals --reporter=json --outputFile="$tmp/vitest.json" >/dev/null 2>&1
anonymise < "$tmp/vitest.json" > "$here/vitest-$vitest_version-fidelity.json"
