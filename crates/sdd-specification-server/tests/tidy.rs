//! Tidy checks that keep docs and code honest: the README's tool tables list exactly the servers'
//! tools, and every source file says what it is for in a `//!` header.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each server's README section lists exactly the tools in its schema snapshot.
#[test]
fn readme_tool_tables_match_the_servers() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for (crate_dir, heading) in [
        ("sdd-specification-server", "## The specification server"),
        ("sdd-implementation-server", "## The implementation server"),
    ] {
        let snapshot: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(
                repo()
                    .join("crates")
                    .join(crate_dir)
                    .join("tests/snapshots/tools.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let mut tools: Vec<String> = snapshot
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        tools.sort();
        let section = readme
            .split(heading)
            .nth(1)
            .unwrap_or_else(|| panic!("README.md has no `{heading}` section"));
        let mut listed: Vec<String> = section
            .lines()
            .take_while(|l| !l.starts_with("## "))
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .map(str::to_string)
            .collect();
        listed.sort();
        assert_eq!(
            listed, tools,
            "README.md's `{heading}` tool table and the server's tools differ"
        );
    }
}

#[test]
fn every_source_file_has_a_purpose_header() {
    let mut missing = Vec::new();
    let mut stack = vec![repo().join("crates")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if !text.trim_start().starts_with("//!") {
                    missing.push(
                        path.strip_prefix(repo())
                            .unwrap_or(&path)
                            .display()
                            .to_string(),
                    );
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a `//!` header: {missing:?}"
    );
}
