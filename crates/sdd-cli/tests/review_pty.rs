//! `sdd review` as a person uses it: in a real pseudo-terminal (util-linux `script` gives the
//! program a pty, so it sees a terminal and asks for the reviewer's name), answering approve,
//! edit (with `$EDITOR`), reject and skip at its prompts.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn a_person_reviews_in_a_terminal_approving_editing_and_rejecting() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/task_manager/specs");
    for file in ["task_management.yaml", "edge_cases.yaml"] {
        std::fs::copy(example.join(file), specs.join(file)).unwrap();
    }
    // The "editor": called as `EDITOR +LINE FILE`, it rewrites one outcome of the scenario.
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\ncase \"$1\" in +[0-9]*) ;; *) exit 3;; esac\n\
         sed -i 's/Only one completion should succeed/Exactly one completion succeeds/' \"$2\"\n",
    )
    .unwrap();
    let command = format!(
        "{} review --specs {}",
        env!("CARGO_BIN_EXE_sdd"),
        specs.display()
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("EDITOR", format!("sh {}", editor.display()))
        .env_remove("VISUAL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` (a pseudo-terminal)");
    // Name, then: edit the first proposal and approve it as edited, reject the second, skip
    // the third.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Ada Lovelace\ne\na\nr\ns\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("Your name (recorded as reviewer)"),
        "{shown}"
    );
    assert!(
        shown.contains("why: Two clients completing one task"),
        "{shown}"
    );
    assert!(
        shown.contains("Then  Exactly one completion succeeds"),
        "the edited scenario is shown again: {shown}"
    );
    assert!(shown.contains("1 approved, 1 rejected"), "{shown}");

    let spec = sdd_spec::load_dir(&specs).unwrap().spec;
    let scenario = |name: &str| {
        spec.scenario(&format!("task_management_system.{name}"))
            .unwrap()
            .clone()
    };
    let approved = scenario("handle_concurrent_task_completion");
    assert_eq!(format!("{:?}", approved.status), "Approved");
    assert!(approved
        .then
        .iter()
        .any(|t| t == "Exactly one completion succeeds"));
    let text = std::fs::read_to_string(specs.join("edge_cases.yaml")).unwrap();
    assert!(
        text.contains("Ada Lovelace"),
        "who decided is recorded: {text}"
    );
    assert_eq!(
        format!(
            "{:?}",
            scenario("prevent_sql_injection_in_task_title").status
        ),
        "Rejected"
    );
    assert_eq!(
        format!("{:?}", scenario("handle_extremely_long_task_titles").status),
        "Proposed"
    );
}
