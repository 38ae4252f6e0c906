#!/usr/bin/env bash
# Claude Code's own health check (`claude mcp list`, npm, pinned) against the `.mcp.json` that
# `sdd init` writes: every server must say "✔ Connected", and nothing else may be printed (a
# schema Claude Code cannot read shows up as warning lines here, one per field).
# Usage: .ci/claude-mcp-list.sh (the debug binaries must be built; needs node and npm).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="$repo/target/claude-code"
version=2.1.197
if [ ! -x "$tools/node_modules/.bin/claude" ]; then
  mkdir -p "$tools"
  npm install --silent --prefix "$tools" "@anthropic-ai/claude-code@$version"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$repo/examples/task_manager" "$work/project"
"$repo/target/debug/sdd" init --project "$work/project" >/dev/null
# A home of its own: no login needed to list, and the project's servers pre-approved (as a
# person answering Claude Code's trust prompt would).
mkdir -p "$work/home/.claude"
echo '{"enableAllProjectMcpServers": true}' >"$work/home/.claude/settings.json"
out="$(cd "$work/project" && HOME="$work/home" DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 timeout 180 "$tools/node_modules/.bin/claude" mcp list 2>&1)"
echo "$out"
status=0
for server in sdd-specification sdd-implementation sdd-monitoring sdd-debugger; do
  if ! grep -q "^$server: .* - ✔ Connected$" <<<"$out"; then
    echo "claude mcp list: $server did not connect" >&2
    status=1
  fi
done
unexpected="$(grep -v -e '^$' -e '^Checking MCP server health' -e ' - ✔ Connected$' <<<"$out" || true)"
if [ -n "$unexpected" ]; then
  echo "claude mcp list printed lines other than its servers' health:" >&2
  echo "$unexpected" >&2
  status=1
fi
exit $status
