//! The supervisor: a tiny process between a server and every command it runs, so that no test
//! or service process outlives the server.
//!
//! The server starts the supervisor (in a process group of its own) with a pipe on its stdin.
//! The supervisor starts the command with `sh -c` in a new process group and waits. When its
//! stdin reaches end-of-file — the server asked it to stop by closing the pipe, or the server
//! died, even by SIGKILL, and the kernel closed the pipe — it sends the stop signal to the
//! command's whole group, waits until the group is empty or the grace period is over, then
//! kills the group. When the command exits on
//! its own, whatever it left behind in its group is killed too. The supervisor exits with the
//! command's status (128 + signal when killed by one).
//!
//! Arguments: `<signal> <grace-ms> <command>`.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// Entry point of the supervisor mode; `args` are the arguments after the mode marker.
pub fn main(args: &[String]) -> ExitCode {
    let [signal, grace_ms, command] = args else {
        eprintln!("sdd-supervise: expected <signal> <grace-ms> <command>");
        return ExitCode::from(2);
    };
    let signal = parse_signal(signal).unwrap_or(Signal::SIGTERM);
    let grace = Duration::from_millis(grace_ms.parse().unwrap_or(5000));
    let mut child = match Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("sdd-supervise: cannot start `sh -c {command}`: {e}");
            return ExitCode::from(127);
        }
    };
    let group = Pid::from_raw(child.id() as i32);

    // End-of-file (or anything) on stdin means: stop now.
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let _ = std::io::stdin().read(&mut buf);
        let _ = stop_tx.send(());
    });

    loop {
        if let Ok(Some(status)) = child.try_wait() {
            // The command is done; nothing it started may linger.
            let _ = killpg(group, Signal::SIGKILL);
            return exit_code(status);
        }
        match stop_rx.recv_timeout(Duration::from_millis(20)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    // The stop signal goes to the whole group; the grace period lasts until the *group* is
    // empty, not just `sh`: a shell that did not `exec` its command dies at once, and killing
    // the group then would cut the service off mid-request.
    let _ = killpg(group, signal);
    let deadline = Instant::now() + grace;
    let mut status = None;
    while Instant::now() < deadline {
        if status.is_none() {
            if let Ok(Some(s)) = child.try_wait() {
                status = Some(s);
            }
        }
        if status.is_some() && killpg(group, None).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = killpg(group, Signal::SIGKILL);
    match status.map(Ok).unwrap_or_else(|| child.wait()) {
        Ok(status) => exit_code(status),
        Err(_) => ExitCode::from(137),
    }
}

pub fn parse_signal(name: &str) -> Option<Signal> {
    Some(match name.trim_start_matches("SIG") {
        "TERM" => Signal::SIGTERM,
        "INT" => Signal::SIGINT,
        "QUIT" => Signal::SIGQUIT,
        "HUP" => Signal::SIGHUP,
        "KILL" => Signal::SIGKILL,
        _ => return None,
    })
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitCode::from(code.clamp(0, 255) as u8),
        (None, Some(signal)) => ExitCode::from((128 + signal).clamp(0, 255) as u8),
        _ => ExitCode::from(1),
    }
}
