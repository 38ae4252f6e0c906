//! A spec tree that a careless or hostile agent (or person) left behind: a FIFO named `*.yaml`,
//! links that loop, a link out of the spec root, an alias bomb. Every call must answer promptly,
//! and nothing from outside the root may be served. Before the fix the first call blocked
//! forever on the FIFO, and `get_scenarios` served the outside file's content.

use std::path::Path;
use std::time::Duration;

use rmcp::model::ReadResourceRequestParams;
use sdd_mcp::test_client::{call, structured, Client};
use serde_json::json;

async fn start(specs: &Path, project: &Path) -> Client {
    sdd_mcp::test_client::start(
        env!("CARGO_BIN_EXE_sdd-specification"),
        &[
            "--project".as_ref(),
            project.as_os_str(),
            "--specs".as_ref(),
            specs.as_os_str(),
        ],
    )
    .await
}

#[tokio::test]
async fn fifo_loops_outside_links_and_alias_bombs_neither_block_nor_leak() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        specs.join("tasks.yaml"),
        "feature: Tasks\nscenarios:\n  - name: Inside\n    when: w\n    then: t\n",
    )
    .unwrap();
    std::fs::write(
        outside.join("secret.yaml"),
        "feature: Secret\nscenarios:\n  - name: Leaked\n    when: w\n    then: t\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.join("secret.yaml"), specs.join("leak.yaml")).unwrap();
    std::os::unix::fs::symlink(".", specs.join("a")).unwrap();
    std::os::unix::fs::symlink(".", specs.join("b")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(specs.join("pipe.yaml"))
        .status()
        .unwrap();
    assert!(status.success());
    let mut bomb = String::from("feature: Bomb\nx: &a [");
    bomb.push_str(&vec!["x"; 2000].join(","));
    bomb.push_str("]\ny: [");
    bomb.push_str(&vec!["*a"; 8000].join(","));
    bomb.push_str("]\n");
    std::fs::write(specs.join("bomb.yaml"), bomb).unwrap();

    let client = start(&specs, dir.path()).await;
    let limit = Duration::from_secs(30);

    let scenarios = tokio::time::timeout(limit, call(&client, "get_scenarios", json!({})))
        .await
        .expect("get_scenarios answered");
    let text = structured(&scenarios).to_string();
    assert!(text.contains("Inside"), "{text}");
    assert!(!text.contains("Leaked"), "outside content served: {text}");

    let report = tokio::time::timeout(limit, call(&client, "validate_spec", json!({})))
        .await
        .expect("validate_spec answered");
    let text = structured(&report).to_string();
    for code in [
        "not-a-regular-file",
        "symlink-outside-root",
        "symlink-loop",
        "yaml-alias-expansion",
    ] {
        assert!(text.contains(code), "{code} missing from {text}");
    }

    // The FIFO is named in a diagnostic, so the resource is "known": reading it must still
    // answer at once, with an error.
    for uri in ["sdd://spec/file/pipe.yaml", "sdd://spec/file/leak.yaml"] {
        let read = tokio::time::timeout(
            limit,
            client.read_resource(ReadResourceRequestParams::new(uri.to_string())),
        )
        .await
        .unwrap_or_else(|_| panic!("{uri} blocked"));
        assert!(read.is_err(), "{uri}: {read:?}");
    }
    client.cancel().await.unwrap();
}
