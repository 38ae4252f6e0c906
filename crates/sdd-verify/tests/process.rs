//! Running commands for real: exit codes, capped output, and timeouts that leave no process
//! behind — also when the owner of the supervisor dies.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Duration;

use sdd_verify::process::{run, Exit, RunSpec, Supervisor};

fn supervisor() -> Supervisor {
    Supervisor {
        program: PathBuf::from(env!("CARGO_BIN_EXE_sdd-supervise")),
        args: vec![],
    }
}

fn alive(pid: i32) -> bool {
    sdd_verify::testing::process_alive(&pid.to_string())
}

fn wait_gone(pid: i32) -> bool {
    for _ in 0..200 {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[tokio::test]
async fn exit_codes_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = run(
        &supervisor(),
        &RunSpec::new(
            "echo out; echo err >&2; exit 3",
            dir.path(),
            Duration::from_secs(20),
        ),
    )
    .await
    .unwrap();
    assert_eq!(outcome.exit, Exit::Code { code: 3 });
    assert_eq!(outcome.stdout.text, "out\n");
    assert_eq!(outcome.stderr.text, "err\n");
}

#[tokio::test]
async fn output_is_capped_keeping_head_and_tail() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = RunSpec::new(
        "echo START; seq 1 100000; echo END",
        dir.path(),
        Duration::from_secs(20),
    );
    spec.output_cap = 1000;
    let outcome = run(&supervisor(), &spec).await.unwrap();
    assert!(outcome.stdout.truncated);
    assert!(outcome.stdout.text.starts_with("START\n"));
    assert!(outcome.stdout.text.ends_with("100000\nEND\n"));
    assert!(outcome.stdout.text.len() < 1100);
    assert!(outcome.stdout.total_bytes > 500_000);
}

#[tokio::test]
async fn timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    // A grandchild in the background that ignores TERM, and a foreground sleep.
    let command = format!(
        "(trap '' TERM; sleep 300) & echo $! > {}; sleep 300",
        pidfile.display()
    );
    let mut spec = RunSpec::new(command, dir.path(), Duration::from_millis(500));
    spec.grace = Duration::from_millis(200);
    let outcome = run(&supervisor(), &spec).await.unwrap();
    assert!(
        matches!(outcome.exit, Exit::TimedOut { .. }),
        "{:?}",
        outcome.exit
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        wait_gone(pid),
        "background process {pid} survived the timeout"
    );
}

// Several threads: the aborted task must be dropped while this test waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_run_stops_its_command() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let command = format!("echo $$ > {}; exec sleep 300", pidfile.display());
    let spec = RunSpec::new(command, dir.path(), Duration::from_secs(300));
    let sup = supervisor();
    let handle = tokio::spawn(async move { run(&sup, &spec).await });
    let mut pid = None;
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(&pidfile) {
            if let Ok(p) = text.trim().parse::<i32>() {
                pid = Some(p);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = pid.expect("command started");
    handle.abort();
    assert!(wait_gone(pid), "command {pid} outlived the dropped run");
}

#[test]
fn killing_the_owner_with_sigkill_leaves_no_orphan() {
    // The owner here is a shell that starts the supervisor with a pipe on its stdin and is then
    // killed with SIGKILL: the kernel closes the pipe and the supervisor must clean up.
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let script = format!(
        "sleep 300 | setsid {} TERM 200 'echo $$ > {}; exec sleep 300' & wait",
        env!("CARGO_BIN_EXE_sdd-supervise"),
        pidfile.display()
    );
    let mut owner = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .process_group(0)
        .spawn()
        .unwrap();
    let mut pid = None;
    for _ in 0..200 {
        if let Some(p) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
        {
            pid = Some(p);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = pid.expect("command started");
    // `setsid` gives the supervisor its own group, as the server's spawn does. Kill the owner's
    // whole group (the shell and the `sleep` feeding the pipe): the pipe closes.
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(owner.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = owner.wait();
    assert!(wait_gone(pid), "command {pid} outlived its killed owner");
}
