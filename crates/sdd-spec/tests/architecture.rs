//! The workspace's dependency rules (ARCHITECTURE.md, "Invariants"), checked on the real
//! dependency graph: `cargo tree` per package, so each crate is judged with exactly the
//! features it asks for, not the union the whole workspace builds with.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every package `package` pulls in at build time for its own code (normal edges only).
fn dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace())
        .args([
            "tree", "-q", "-e", "normal", "--prefix", "none", "-f", "{p}", "-p", package,
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// (crate, what it must never depend on, why)
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "sdd-spec",
        &["tokio", "rmcp", "hyper", "rusqlite", "sdd-exec", "sdd-http"],
        "the spec core is plain Rust: no runtime, no network, no processes",
    ),
    (
        "sdd-spec",
        &["icu_segmenter"],
        "gherkin needs only textwrap's dedent: Cargo.lock pins textwrap 0.16.1, without the ICU line breaker",
    ),
    (
        "sdd-results",
        &["tokio", "rmcp", "rusqlite"],
        "result parsing is pure",
    ),
    (
        "sdd-history",
        &["tokio", "rmcp", "hyper", "sdd-exec", "sdd-spec"],
        "the history is a store, readable by any server",
    ),
    (
        "sdd-http",
        &["sdd-spec", "rmcp", "rusqlite"],
        "the HTTP client knows nothing of specs",
    ),
    (
        "sdd-exec",
        &["hyper", "rusqlite", "rmcp", "sdd-spec"],
        "running commands and git needs no HTTP, SQL or spec (the `service` feature adds them)",
    ),
    (
        "sdd-load",
        &["sdd-spec", "rmcp", "rusqlite"],
        "the load generator depends only on the allowed-hosts type",
    ),
    (
        "sdd-metrics",
        &["tokio", "rmcp", "hyper", "sdd-exec", "sdd-spec", "sdd-http"],
        "metric data is plain Rust: text in, SQLite, numbers out; scraping and judging live elsewhere",
    ),
    ("sdd-verify", &["rmcp"], "no library crate knows MCP"),
    (
        "sdd-monitoring",
        &["rmcp", "sdd-mcp"],
        "the monitoring library answers in its own types; only its server speaks MCP",
    ),
    (
        "sdd-debugger",
        &["rmcp", "sdd-mcp"],
        "the debugger library answers in its own types; only its server speaks MCP",
    ),
    (
        "sdd-specification-server",
        &["rusqlite", "hyper", "sdd-load", "sdd-verify", "sdd-history"],
        "the specification server reads specs and runs git, nothing more",
    ),
];

#[test]
fn crates_depend_only_on_what_their_job_needs() {
    let mut broken = Vec::new();
    for (package, forbidden, why) in RULES {
        let deps = dependencies(package);
        assert!(deps.iter().any(|d| d == package), "{package}: {deps:?}");
        for name in *forbidden {
            if deps.iter().any(|d| d == name) {
                broken.push(format!("{package} depends on {name}: {why}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// Every dependency's version (and default features) is stated once, in the root manifest's
/// `[workspace.dependencies]`; crate manifests only name what they use.
#[test]
fn dependency_versions_live_in_the_workspace_manifest() {
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let mut in_dependencies = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_dependencies = line.ends_with("dependencies]");
                continue;
            }
            if in_dependencies
                && !line.is_empty()
                && !line.starts_with('#')
                && !line.contains("workspace = true")
                && !line.contains("path = \".\"")
            {
                offenders.push(format!("{}: {line}", manifest.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}
