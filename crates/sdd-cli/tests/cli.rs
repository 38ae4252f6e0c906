//! The `sdd` binary as a person or a script uses it: readable validation, and review decisions
//! that name the person.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sdd(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sdd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn scratch_example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["task_management.yaml", "edge_cases.yaml"] {
        std::fs::copy(
            repo().join("examples/task_manager/specs").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    dir
}

#[test]
fn validate_shows_the_offending_line_and_fails_on_errors() {
    let specs = repo().join("crates/sdd-spec/tests/data/malformed");
    let (code, out, _) = sdd(&["validate", "--specs", specs.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(out.contains("seed_feature.yaml:2:14"), "{out}");
    assert!(
        out.contains("2 |   description: A system for creating"),
        "{out}"
    );
    assert!(
        out.contains("= help: `feature:` already has the value"),
        "{out}"
    );

    let good = repo().join("examples/task_manager/specs");
    let (code, out, _) = sdd(
        &[
            "validate",
            "--specs",
            good.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(code, 0, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["valid"], true);
}

#[test]
fn scripted_review_needs_a_name_and_records_it() {
    let dir = scratch_example();
    let specs = dir.path().to_str().unwrap();
    let id = "task_management_system.prevent_sql_injection_in_task_title";
    let (code, _, err) = sdd(&["review", "--specs", specs, "--approve", id], "");
    assert_eq!(code, 2);
    assert!(err.contains("--by NAME"), "{err}");
    let (code, _, err) = sdd(
        &["review", "--specs", specs, "--approve", id, "--by", "agent"],
        "",
    );
    assert_eq!(code, 2, "the agent cannot approve");
    assert!(err.contains("person"), "{err}");

    let (code, out, err) = sdd(
        &[
            "review",
            "--specs",
            specs,
            "--approve",
            id,
            "--by",
            "Grace Hopper",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("approved {id} (by Grace Hopper)")));
    let spec = sdd_spec_load(dir.path());
    let s = spec.scenario(id).unwrap();
    assert_eq!(format!("{:?}", s.status), "Approved");
    assert_eq!(s.reviewed_by.as_deref(), Some("Grace Hopper"));
    assert!(s.reviewed_at.as_deref().unwrap().ends_with('Z'));

    let (code, _, err) = sdd(
        &[
            "review",
            "--specs",
            specs,
            "--approve",
            id,
            "--by",
            "Grace Hopper",
        ],
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("not proposed"), "{err}");
}

#[test]
fn interactive_review_approves_rejects_and_skips() {
    let dir = scratch_example();
    let specs = dir.path().to_str().unwrap();
    let (code, out, err) = sdd(&["review", "--specs", specs, "--by", "Ada"], "a\nr\ns\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("[1/3]") && out.contains("why: Two clients completing one task"),
        "{out}"
    );
    assert!(out.contains("1 approved, 1 rejected"), "{out}");
    // The person sees the examples that approval makes executable, every step.
    assert!(
        out.contains("Example:") && out.contains("request {") && out.contains("expect  {"),
        "{out}"
    );
    let spec = sdd_spec_load(dir.path());
    let status = |name: &str| {
        format!(
            "{:?}",
            spec.scenario(&format!("task_management_system.{name}"))
                .unwrap()
                .status
        )
    };
    assert_eq!(status("handle_concurrent_task_completion"), "Approved");
    assert_eq!(status("prevent_sql_injection_in_task_title"), "Rejected");
    assert_eq!(status("handle_extremely_long_task_titles"), "Proposed");
    let (_, listed, _) = sdd(&["review", "--specs", specs, "--list"], "");
    assert!(listed.contains("1 scenario(s) waiting"), "{listed}");
}

fn sdd_spec_load(dir: &Path) -> sdd_spec::Spec {
    sdd_spec::load_dir(dir).unwrap().spec
}
