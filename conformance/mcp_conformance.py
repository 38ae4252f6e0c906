#!/usr/bin/env python3
"""SDD's own conformance client: an MCP stdio server as the official MCP Python SDK sees it.

Connects with the official MCP Python SDK (`mcp` on PyPI, pinned in requirements.txt beside
this file), lists tools, prompts, resources and resource templates, checks every tool's
inputSchema/outputSchema is a valid JSON Schema (jsonschema's check_schema), runs scripted
calls (the SDK itself validates each structured result against the tool's output schema),
and with --require-coverage checks that the calls exercise every tool, prompt, resource and
resource template the server lists. Prints the failed checks (the whole JSON report with
--report FILE or --verbose) and a final line "N passed, N failed".

Usage:
  mcp_probe.py [options] -- COMMAND [ARG ...]

Calls file (JSON list); every key but the target is optional:
  {"tool": "name", "args": {...}, "expect_error": false|true|"tool"|"protocol",
   "expect_contains": ["text", ...], "expect_progress": 1, "max_chars": 100000,
   "timeout": 60}
  {"prompt": "name", "args": {"k": "v"}, ...same expect_* keys}
  {"resource": "uri", ...same expect_* keys}
expect_error true accepts a tool error (isError) or a JSON-RPC error; "tool" or
"protocol" demand that one. expect_contains is matched against the text content,
the JSON of structuredContent, and (for protocol errors) the error message.

Exit status: 0 all checks passed, 1 a check failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.validators import Draft202012Validator, validator_for

from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp import types as mt

# SEP-986 tool-name rule (MCP 2025-11-25+): 1-128 chars of [A-Za-z0-9_.-].
TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
# Claude Code warns above 10k tokens and truncates at MAX_MCP_OUTPUT_TOKENS (25k default);
# ~4 chars a token is the usual rough estimate.
DEFAULT_WARN_CHARS = 40_000


class Report:
    """Collects pass/fail checks and non-fatal warnings."""

    def __init__(self) -> None:
        self.checks: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.server: dict[str, Any] = {}
        self.inventory: dict[str, Any] = {}
        self.calls: list[dict[str, Any]] = []

    def check(self, name: str, ok: bool, detail: Any = None) -> bool:
        entry: dict[str, Any] = {"check": name, "ok": bool(ok)}
        if detail is not None:
            entry["detail"] = detail
        self.checks.append(entry)
        return ok

    def counts(self) -> tuple[int, int]:
        passed = sum(1 for c in self.checks if c["ok"])
        return passed, len(self.checks) - passed

    def to_json(self) -> dict[str, Any]:
        passed, failed = self.counts()
        return {
            "server": self.server,
            "inventory": self.inventory,
            "calls": self.calls,
            "checks": self.checks,
            "warnings": self.warnings,
            "summary": {"passed": passed, "failed": failed},
        }


def check_schema(schema: Any) -> str | None:
    """Return None when `schema` is a valid JSON Schema under its declared (default 2020-12) draft."""
    if not isinstance(schema, dict):
        return f"schema is {type(schema).__name__}, not an object"
    try:
        cls = validator_for(schema, default=Draft202012Validator)
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return f"{exc.message} at {'/'.join(map(str, exc.absolute_path)) or '<root>'}"
    except Exception as exc:  # unknown $schema, unresolvable refs, ...
        return f"{type(exc).__name__}: {exc}"
    return None


def schema_warnings(tool: str, schema: dict[str, Any]) -> list[str]:
    """Constructs real clients are known to reject or mishandle (reported, not failed)."""
    out = []
    for key in ("oneOf", "anyOf", "allOf", "not"):
        if key in schema:
            out.append(f"tool {tool}: inputSchema has top-level '{key}' (the Anthropic API rejects this)")

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("type"), list):
                out.append(f"tool {tool}: {path or '<root>'} has a type union {node['type']} (Gemini-style clients reject)")
            if "nullable" in node:
                out.append(f"tool {tool}: {path or '<root>'} uses OpenAPI 'nullable' (not JSON Schema)")
            for key, value in node.items():
                if key not in ("enum", "const", "default", "examples", "required"):
                    walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(schema, "")
    return out


def dump(model: Any) -> Any:
    """Pydantic model -> wire-shaped JSON (camelCase, no Nones)."""
    if hasattr(model, "model_dump"):
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return model


def content_text(blocks: list[Any]) -> str:
    parts = []
    for block in blocks or []:
        kind = getattr(block, "type", None)
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            res = block.resource
            parts.append(getattr(res, "text", None) or f"<blob {getattr(res, 'uri', '')}>")
        elif kind == "resource_link":
            parts.append(f"<link {block.uri}>")
        else:
            parts.append(f"<{kind}>")
    return "\n".join(parts)


async def list_all(fetch, attr: str) -> list[Any]:
    """Follow nextCursor until the listing is complete."""
    items: list[Any] = []
    cursor = None
    for _ in range(1000):
        page = await fetch(cursor=cursor)
        items.extend(getattr(page, attr))
        cursor = page.next_cursor
        if not cursor:
            return items
    raise RuntimeError(f"{attr}: more than 1000 pages")


async def optional_listing(fetch, attr: str, declared: bool, assume_all: bool) -> list[Any] | None:
    """List a category the server declared; when capabilities are unknown, a -32601 means 'not offered'."""
    if not (declared or assume_all):
        return None
    try:
        return await list_all(fetch, attr)
    except MCPError as exc:
        if not declared and exc.code == -32601:
            return None
        raise


async def probe_inventory(client: Client, report: Report, assume_all: bool = False) -> dict[str, mt.Tool]:
    caps = client.server_capabilities
    tools: dict[str, mt.Tool] = {}
    listed = await optional_listing(client.list_tools, "tools", caps.tools is not None, assume_all)
    if listed is not None:
        report.check("tools/list", True, f"{len(listed)} tools")
        for tool in listed:
            tools[tool.name] = tool
            report.check(f"tool {tool.name}: name matches [A-Za-z0-9_.-]{{1,128}}", bool(TOOL_NAME_RE.match(tool.name)))
            err = check_schema(tool.input_schema)
            report.check(f"tool {tool.name}: inputSchema is valid JSON Schema", err is None, err)
            report.check(
                f"tool {tool.name}: inputSchema root type is object",
                tool.input_schema.get("type") == "object",
                tool.input_schema.get("type"),
            )
            report.warnings.extend(schema_warnings(tool.name, tool.input_schema))
            if tool.output_schema is not None:
                err = check_schema(tool.output_schema)
                report.check(f"tool {tool.name}: outputSchema is valid JSON Schema", err is None, err)
            if not (tool.description or "").strip():
                report.warnings.append(f"tool {tool.name}: no description")
        report.check("tool names are unique", len(tools) == len(listed))
    prompts = await optional_listing(client.list_prompts, "prompts", caps.prompts is not None, assume_all)
    if prompts is not None:
        report.check("prompts/list", True, f"{len(prompts)} prompts")
        report.inventory["prompts"] = [dump(p) for p in prompts]
    resources = await optional_listing(client.list_resources, "resources", caps.resources is not None, assume_all)
    if resources is not None:
        report.check("resources/list", True, f"{len(resources)} resources")
        report.inventory["resources"] = [dump(r) for r in resources]
        templates = await list_all(client.list_resource_templates, "resource_templates")
        report.check("resources/templates/list", True, f"{len(templates)} templates")
        report.inventory["resource_templates"] = [dump(t) for t in templates]
    report.inventory["tools"] = [dump(t) for t in tools.values()]
    return tools


def expectation_checks(report: Report, label: str, spec: dict[str, Any], outcome: dict[str, Any]) -> None:
    want_error = spec.get("expect_error", False)
    kind = outcome.get("error_kind")  # None | "tool" | "protocol"
    if want_error is True:
        report.check(f"{label}: expected an error", kind is not None, kind or "succeeded")
    elif want_error in ("tool", "protocol"):
        report.check(f"{label}: expected a {want_error} error", kind == want_error, kind or "succeeded")
    else:
        report.check(f"{label}: expected success", kind is None, outcome.get("text", "")[:500] if kind else None)
    haystack = outcome.get("text", "") + "\n" + json.dumps(outcome.get("structured"), ensure_ascii=False)
    for needle in spec.get("expect_contains", []):
        report.check(f"{label}: contains {needle!r}", needle in haystack)
    if "expect_progress" in spec:
        got = outcome.get("progress", 0)
        report.check(f"{label}: >= {spec['expect_progress']} progress notifications", got >= spec["expect_progress"], got)
    limit = spec.get("max_chars")
    if limit is not None:
        report.check(f"{label}: output <= {limit} chars", outcome["chars"] <= limit, outcome["chars"])
    elif outcome["chars"] > DEFAULT_WARN_CHARS:
        report.warnings.append(f"{label}: output is {outcome['chars']} chars (~{outcome['chars'] // 4} tokens)")


async def run_tool(client: Client, tools: dict[str, mt.Tool], spec: dict[str, Any], report: Report) -> dict[str, Any]:
    name = spec["tool"]
    progress: list[dict[str, Any]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append({"progress": value, "total": total, "message": message})

    outcome: dict[str, Any] = {"progress": 0}
    try:
        result = await client.call_tool(
            name, spec.get("args", {}), read_timeout_seconds=spec.get("timeout"), progress_callback=on_progress
        )
        outcome["text"] = content_text(result.content)
        outcome["structured"] = result.structured_content
        outcome["error_kind"] = "tool" if result.is_error else None
        tool = tools.get(name)
        if tool is not None and tool.output_schema is not None and not result.is_error:
            ok = result.structured_content is not None
            detail = None if ok else "no structuredContent although the tool declares outputSchema"
            if ok:
                try:
                    jsonschema.validate(result.structured_content, tool.output_schema)
                except jsonschema.ValidationError as exc:
                    ok, detail = False, exc.message
            report.check(f"tool {name}: structuredContent matches outputSchema", ok, detail)
        if result.structured_content is not None and not result.content:
            report.warnings.append(f"tool {name}: structuredContent without a text block (older clients see nothing)")
    except MCPError as exc:
        outcome.update(text=f"[{exc.code}] {exc.message}", structured=exc.data, error_kind="protocol")
    outcome["progress"] = len(progress)
    if progress:
        outcome["progress_events"] = progress[:5]
    return outcome


async def run_prompt(client: Client, spec: dict[str, Any]) -> dict[str, Any]:
    try:
        result = await client.get_prompt(spec["prompt"], spec.get("args"))
        text = "\n".join(f"{m.role}: {content_text([m.content])}" for m in result.messages)
        return {"text": text, "structured": None, "error_kind": None}
    except MCPError as exc:
        return {"text": f"[{exc.code}] {exc.message}", "structured": exc.data, "error_kind": "protocol"}


async def run_resource(client: Client, spec: dict[str, Any]) -> dict[str, Any]:
    try:
        result = await client.read_resource(spec["resource"])
        text = "\n".join(getattr(c, "text", None) or f"<blob {len(c.blob)} b64 chars>" for c in result.contents)
        return {"text": text, "structured": None, "error_kind": None}
    except MCPError as exc:
        return {"text": f"[{exc.code}] {exc.message}", "structured": exc.data, "error_kind": "protocol"}


async def run_calls(client: Client, tools: dict[str, mt.Tool], calls: list[dict[str, Any]], report: Report) -> None:
    for index, spec in enumerate(calls):
        if "tool" in spec:
            label = f"call#{index} tool {spec['tool']}"
        elif "prompt" in spec:
            label = f"call#{index} prompt {spec['prompt']}"
        elif "resource" in spec:
            label = f"call#{index} resource {spec['resource']}"
        else:
            report.check(f"call#{index}: has a tool/prompt/resource key", False, spec)
            continue
        started = time.perf_counter()
        try:
            if "tool" in spec:
                outcome = await run_tool(client, tools, spec, report)
            elif "prompt" in spec:
                outcome = await run_prompt(client, spec)
            else:
                outcome = await run_resource(client, spec)
        except Exception as exc:  # timeouts, transport death
            report.check(f"{label}: completed", False, f"{type(exc).__name__}: {exc}")
            continue
        outcome["ms"] = round((time.perf_counter() - started) * 1000, 1)
        outcome["chars"] = len(outcome.get("text", "")) + len(json.dumps(outcome.get("structured")))
        expectation_checks(report, label, spec, outcome)
        shown = dict(outcome)
        if len(shown.get("text", "")) > 2000:
            shown["text"] = shown["text"][:2000] + "…"
        report.calls.append({"call": label, "spec": spec, **shown})


def coverage_checks(report: Report, tools: dict[str, mt.Tool], calls: list[dict[str, Any]]) -> None:
    """Every tool, prompt, listed resource and resource template has at least one call."""
    called_tools = {c["tool"] for c in calls if "tool" in c}
    called_prompts = {c["prompt"] for c in calls if "prompt" in c}
    read = [c["resource"] for c in calls if "resource" in c]
    for name in sorted(tools):
        report.check(f"coverage: tool {name} is called", name in called_tools)
    for prompt in report.inventory.get("prompts", []):
        name = prompt.get("name")
        report.check(f"coverage: prompt {name} is called", name in called_prompts)
    # Listed resources by kind (the URI up to its last `/`): one spec file read covers them all.
    kinds = sorted({str(r.get("uri")).rsplit("/", 1)[0] + "/" for r in report.inventory.get("resources", [])})
    for kind in kinds:
        report.check(f"coverage: a resource {kind}… is read", any(uri.startswith(kind) for uri in read))
    for template in report.inventory.get("resource_templates", []):
        pattern = str(template.get("uriTemplate") or template.get("uri_template"))
        prefix = pattern.split("{", 1)[0]
        report.check(
            f"coverage: resource template {pattern} is read",
            any(uri.startswith(prefix) and uri != prefix for uri in read),
        )


async def probe(args: argparse.Namespace, report: Report) -> None:
    env = dict(kv.split("=", 1) for kv in args.env)
    params = StdioServerParameters(command=args.command[0], args=args.command[1:], env=env or None, cwd=args.cwd)
    stream_faults: list[str] = []
    logs: list[dict[str, Any]] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            stream_faults.append(f"{type(message).__name__}: {str(message)[:300]}")

    async def on_log(params: mt.LoggingMessageNotificationParams) -> None:
        logs.append({"level": params.level, "logger": params.logger, "data": params.data})

    errlog = open(args.stderr_log, "w") if args.stderr_log else sys.stderr
    try:
        # A Transport instance (here stdio_client with our errlog) is used as-is by Client.
        client = Client(
            stdio_client(params, errlog=errlog),
            mode=args.mode,
            read_timeout_seconds=args.timeout,
            message_handler=on_message,
            logging_callback=on_log,
            log_level="debug" if args.mode not in ("legacy", "auto") else None,
        )
        started = time.perf_counter()
        async with client:
            report.server = {
                "protocol_version": client.protocol_version,
                "server_info": dump(client.server_info),
                "capabilities": dump(client.server_capabilities),
                "instructions": client.instructions,
                "connect_ms": round((time.perf_counter() - started) * 1000, 1),
                "mode": args.mode,
            }
            report.check("connect", True, f"protocol {client.protocol_version}")
            # A version pin skips the handshake and synthesizes empty capabilities, so list everything.
            tools = await probe_inventory(client, report, assume_all=args.mode not in ("legacy", "auto"))
            if args.calls:
                calls = json.loads(Path(args.calls).read_text())
                await run_calls(client, tools, calls, report)
                if args.require_coverage:
                    coverage_checks(report, tools, calls)
    finally:
        if errlog is not sys.stderr:
            errlog.close()
    report.server["log_notifications"] = logs[:20]
    report.check("stdout carries only JSON-RPC (no parse faults)", not stream_faults, stream_faults[:5] or None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", help="JSON file with a list of calls to run")
    parser.add_argument(
        "--mode",
        default="legacy",
        help="lifecycle: legacy (initialize handshake, what deployed clients use), auto (server/discover "
        "probe, then fallback), or a modern version pin such as 2026-07-28 (default: legacy)",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request read timeout in seconds")
    parser.add_argument("--cwd", help="working directory for the server")
    parser.add_argument("--env", action="append", default=[], metavar="K=V", help="extra server environment")
    parser.add_argument("--stderr-log", help="write the server's stderr here instead of passing it through")
    parser.add_argument("--report", help="also write the JSON report to this file")
    parser.add_argument("--verbose", action="store_true", help="print the whole JSON report")
    parser.add_argument(
        "--require-coverage",
        action="store_true",
        help="fail unless the calls exercise every listed tool, prompt, resource and template",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- server command line")
    args = parser.parse_args()
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if not args.command:
        parser.error("missing server command (put it after --)")

    report = Report()
    try:
        asyncio.run(probe(args, report))
    except BaseException as exc:  # noqa: BLE001 - ExceptionGroup from anyio included
        if isinstance(exc, KeyboardInterrupt):
            raise
        detail = repr(exc)
        if hasattr(exc, "exceptions"):
            detail = "; ".join(repr(e) for e in exc.exceptions)
        report.check("session completed without a transport/protocol fault", False, detail[:2000])
    text = json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str)
    if args.verbose:
        print(text)
    else:
        for check in report.checks:
            if not check["ok"]:
                print(json.dumps(check, ensure_ascii=False, default=str)[:2000])
    if args.report:
        Path(args.report).write_text(text + "\n")
    passed, failed = report.counts()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
