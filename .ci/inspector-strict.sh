#!/usr/bin/env bash
# The MCP Inspector's CLI (npm, pinned) lists each server's tools in --strict mode, which
# reports every tool-schema portability problem and exits 6 on an error-severity one.
# Usage: .ci/inspector-strict.sh (the debug servers must be built; needs node and npm).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="$repo/target/inspector"
version=2.12.0
if [ ! -x "$tools/node_modules/.bin/mcp-inspector" ]; then
  mkdir -p "$tools"
  npm install --silent --prefix "$tools" "@modelcontextprotocol/inspector@$version"
fi
for server in specification implementation monitoring debugger; do
  echo "inspector --strict: sdd-$server"
  "$tools/node_modules/.bin/mcp-inspector" --cli --strict --method tools/list \
    "$repo/target/debug/sdd-$server" --project "$repo/examples/task_manager" >/dev/null
done
