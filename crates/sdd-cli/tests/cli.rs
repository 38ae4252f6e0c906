//! The `sdd` binary as a person or a script uses it: help and usage errors per command, shell
//! completions, readable validation, and review decisions that name the person.

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

/// Each command documents and accepts only its own flags: `--help` exits 0, a flag of another
/// command (once silently accepted) or a misspelt one is a usage error, exit 2, that names it.
#[test]
fn each_command_has_help_and_refuses_flags_that_are_not_its_own() {
    let (code, out, err) = sdd(&["verify", "--help"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("--strict"), "{out}");
    assert!(
        out.contains("exit 3") && out.contains("NO FAILURES"),
        "the headline and exit statuses are explained: {out}"
    );
    let (code, out, _) = sdd(&["--help"], "");
    assert_eq!(code, 0);
    for command in [
        "init",
        "validate",
        "review",
        "verify",
        "status",
        "incident",
        "trace",
        "report",
        "export",
        "history",
        "call",
        "completions",
    ] {
        assert!(out.contains(&format!("\n  {command} ")), "{command}: {out}");
    }
    let (code, _, err) = sdd(&["export", "k6", "--help"], "");
    assert_eq!(code, 0, "{err}");

    let (code, _, err) = sdd(&["report", "--strict"], "");
    assert_eq!(code, 2);
    assert!(err.contains("unexpected argument '--strict'"), "{err}");
    let (code, _, err) = sdd(&["validate", "--rate", "5"], "");
    assert_eq!(code, 2);
    assert!(err.contains("'--rate'"), "{err}");
    let (code, _, err) = sdd(&["validate", "--formt", "json"], "");
    assert_eq!(code, 2);
    assert!(
        err.contains("a similar argument exists: '--format'"),
        "{err}"
    );
    // No command: the help, as a usage error.
    let (code, _, err) = sdd(&[], "");
    assert_eq!(code, 2);
    assert!(err.contains("Usage: sdd <COMMAND>"), "{err}");
}

/// `sdd completions SHELL` prints a script that knows the commands and their flags; bash
/// accepts its syntax.
#[test]
fn completions_name_the_commands_and_bash_accepts_them() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = sdd(&["completions", shell], "");
        assert_eq!(code, 0, "{shell}: {err}");
        for word in [
            "validate",
            "verify",
            "export",
            "k6",
            "completions",
            "strict",
        ] {
            assert!(out.contains(word), "{shell} script lacks {word}");
        }
        if shell == "bash" {
            let dir = tempfile::tempdir().unwrap();
            let script = dir.path().join("sdd.bash");
            std::fs::write(&script, &out).unwrap();
            let check = Command::new("bash")
                .arg("-n")
                .arg(&script)
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "bash -n: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    let (code, _, err) = sdd(&["completions", "tcsh"], "");
    assert_eq!(code, 2);
    assert!(err.contains("possible values: bash, zsh, fish"), "{err}");
}

fn sdd_spec_load(dir: &Path) -> sdd_spec::Spec {
    sdd_spec::load_dir(dir).unwrap().spec
}
