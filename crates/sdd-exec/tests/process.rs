//! Running commands for real: exit codes, capped output, and timeouts that leave no process
//! behind — also when the owner of the supervisor dies.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Duration;

use sdd_exec::process::{run, Exit, RunSpec, Supervisor};

fn supervisor() -> Supervisor {
    Supervisor {
        program: PathBuf::from(env!("CARGO_BIN_EXE_sdd-supervise")),
        args: vec![],
    }
}

fn alive(pid: i32) -> bool {
    sdd_exec::testing::process_alive(&pid.to_string())
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

/// Live processes whose command line is `sleep <marker>` (a unique duration, so parallel tests
/// and other users of `sleep` are never confused with ours).
fn sleepers(marker: &str) -> Vec<i32> {
    let wanted = format!("sleep\0{marker}\0");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.ends_with(wanted.as_bytes()))
                && alive(*pid)
        })
        .collect()
}

/// Fail the test if a `sleep <marker>` is still alive after a short wait; kill it first, so a
/// failing test leaves nothing behind either.
fn assert_no_sleeper(marker: &str, what: &str) {
    let mut left = sleepers(marker);
    for _ in 0..100 {
        if left.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
        left = sleepers(marker);
    }
    for pid in &left {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    panic!("`sleep {marker}` ({left:?}) survived {what}");
}

fn marker(n: u32) -> String {
    format!("45.{}{n}", std::process::id())
}

/// A process that leaves the command's session and group (`setsid`), even one that ignores
/// the stop signal, is still found and killed when the command ends: the supervisor is a child
/// subreaper, so such orphans stay its descendants.
#[tokio::test]
async fn processes_that_leave_the_group_do_not_outlive_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, stubborn) = (marker(1), marker(2));
    let command = format!(
        "setsid sleep {plain} >/dev/null 2>&1 &
         setsid sh -c \"trap '' TERM; sleep {stubborn}\" >/dev/null 2>&1 &
         sleep 0.3; echo started"
    );
    let mut spec = RunSpec::new(command, dir.path(), Duration::from_secs(20));
    spec.grace = Duration::from_millis(300);
    let outcome = run(&supervisor(), &spec).await.unwrap();
    assert_eq!(outcome.exit, Exit::Code { code: 0 }, "{outcome:?}");
    assert_eq!(outcome.stdout.text, "started\n");
    assert_no_sleeper(&plain, "the run");
    assert_no_sleeper(&stubborn, "the run (it ignores SIGTERM)");
}

/// An orphan in its own session that holds the output pipe open: the run must still end at its
/// timeout, not when the orphan lets go of the pipe (45 s later), and the orphan must be gone.
#[tokio::test]
async fn an_orphan_holding_the_output_does_not_hold_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let orphan = marker(3);
    let command = format!("setsid sleep {orphan} & echo started; sleep 300");
    let mut spec = RunSpec::new(command, dir.path(), Duration::from_secs(3));
    spec.grace = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let outcome = run(&supervisor(), &spec).await.unwrap();
    let took = started.elapsed();
    assert!(matches!(outcome.exit, Exit::TimedOut { .. }), "{outcome:?}");
    assert_eq!(outcome.stdout.text, "started\n");
    assert_no_sleeper(&orphan, "the timed-out run");
    // Generous: the point is "not held until the orphan's 45 s sleep ends".
    assert!(took < Duration::from_secs(30), "the run took {took:?}");
}

/// The same when the owner of the supervisor is killed with SIGKILL (a crashed server).
#[test]
fn a_killed_owner_leaves_no_process_that_left_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let orphan = marker(4);
    let script = format!(
        "sleep 300 | setsid {} TERM 200 'setsid sleep {orphan} >/dev/null 2>&1 & echo $$ > {}; exec sleep 300' & wait",
        env!("CARGO_BIN_EXE_sdd-supervise"),
        pidfile.display()
    );
    let mut owner = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .process_group(0)
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if std::fs::read_to_string(&pidfile).is_ok_and(|t| t.ends_with('\n'))
            && !sleepers(&orphan).is_empty()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!sleepers(&orphan).is_empty(), "the orphan never started");
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(owner.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = owner.wait();
    assert_no_sleeper(&orphan, "its killed owner");
}

#[tokio::test]
async fn a_nul_byte_is_named_not_blamed_on_the_supervisor() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = RunSpec::new("true", dir.path(), Duration::from_secs(5));
    spec.env.insert("X".into(), "a\0b".into());
    let err = run(&supervisor(), &spec).await.unwrap_err().to_string();
    assert!(
        err.contains("environment variable `X`") && err.contains("NUL"),
        "{err}"
    );
}

/// If something the supervisor could not reach still holds the output pipes after it exited
/// (here a stand-in "supervisor" that leaves an orphan behind and exits), the run stops reading
/// after a short drain instead of waiting for the orphan.
#[tokio::test]
async fn output_held_by_an_unreachable_process_is_not_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let orphan = marker(5);
    let fake = Supervisor {
        program: PathBuf::from("sh"),
        args: vec![
            "-c".into(),
            format!("setsid sleep {orphan} & echo early; exit 0"),
        ],
    };
    let started = std::time::Instant::now();
    let outcome = run(
        &fake,
        &RunSpec::new("true", dir.path(), Duration::from_secs(60)),
    )
    .await
    .unwrap();
    let took = started.elapsed();
    for pid in sleepers(&orphan) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert_eq!(outcome.exit, Exit::Code { code: 0 });
    assert!(took < Duration::from_secs(30), "the run took {took:?}");
    assert_eq!(
        outcome.stdout.text,
        format!("early\n{}", sdd_exec::process::CUT_OFF_NOTE)
    );
}
