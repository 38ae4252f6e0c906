//! The supervisor: a tiny process between a server and every command it runs, so that no test
//! or service process outlives the server.
//!
//! The server starts the supervisor (in a process group of its own) with a pipe on its stdin.
//! The supervisor makes itself a *child subreaper* and starts the command with `sh -c` in a new
//! process group. As a subreaper, every process the command starts stays its descendant even
//! when its parent exits (a `setsid cmd &` daemon, a double fork): the kernel re-parents such
//! orphans to the supervisor instead of init, so they can all be found from `/proc` — whatever
//! session or process group they moved to — and killed.
//!
//! When its stdin reaches end-of-file — the server asked it to stop by closing the pipe, or the
//! server died, even by SIGKILL, and the kernel closed the pipe — it sends the stop signal to
//! the command's group and to every descendant, waits until none is left or the grace period is
//! over, then kills whatever remains. When the command exits on its own, whatever it left
//! behind is stopped the same way. The supervisor exits with the command's status (128 + signal
//! when killed by one), and only when no descendant is left, so nothing keeps its output pipes
//! open after it.
//!
//! The byte `K` on stdin instead kills everything at once with SIGKILL: a crash, for the
//! restart probe's "node failure" case.
//!
//! Arguments: `<signal> <grace-ms> <command> [<arg>…]`; the args become `$1`, `$2`, … of the
//! command, which is how data (a test filter) reaches the shell without being shell text.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// How often the supervisor looks at its command and its stop pipe.
const TICK: Duration = Duration::from_millis(20);
/// Rounds of SIGKILL over the descendants: a process that forks while the round runs can add
/// a new one, so the sweep repeats until `/proc` shows none.
const KILL_ROUNDS: usize = 200;

/// Written to the supervisor's stdin: SIGKILL the command and everything it started, with no
/// stop signal and no grace period.
pub const CRASH_BYTE: u8 = b'K';

/// Entry point of the supervisor mode; `args` are the arguments after the mode marker.
pub fn main(args: &[String]) -> ExitCode {
    let [signal, grace_ms, command, positional @ ..] = args else {
        eprintln!("sdd-supervise: expected <signal> <grace-ms> <command> [<arg>…]");
        return ExitCode::from(2);
    };
    let signal = parse_signal(signal).unwrap_or(Signal::SIGTERM);
    let grace = Duration::from_millis(grace_ms.parse().unwrap_or(5000));
    // Without this, an orphan goes to init and is out of reach; the run still works, it only
    // cannot promise to clean up such processes, so say so and go on.
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        eprintln!(
            "sdd-supervise: cannot become a child subreaper ({e}); processes that leave the command's process group may outlive it"
        );
    }
    let me = nix::unistd::getpid();
    let child = match Command::new("sh")
        .arg("-c")
        .arg(command)
        // `$0`, then the positional parameters.
        .arg("sh")
        .args(positional)
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
    let main_pid = Pid::from_raw(child.id() as i32);
    // Reaped with `waitpid(-1)` below (orphans are our children too), never through `child`.
    drop(child);

    // End-of-file (or anything) on stdin means: stop now. The byte `K` means: kill at once,
    // as a crash or a power loss would (the restart probe's crash).
    let (stop_tx, stop_rx) = mpsc::channel::<bool>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let crash =
            matches!(std::io::stdin().read(&mut buf), Ok(n) if buf[..n].contains(&CRASH_BYTE));
        let _ = stop_tx.send(crash);
    });

    let mut status = None;
    loop {
        reap(main_pid, &mut status);
        if status.is_some() {
            // The command is done; nothing it started may linger (the group was its own, the
            // descendants may have left it).
            stop_all(me, main_pid, signal, grace, &mut status);
            return exit_code(status);
        }
        match stop_rx.recv_timeout(TICK) {
            Ok(true) => {
                stop_all(me, main_pid, Signal::SIGKILL, Duration::ZERO, &mut status);
                return exit_code(status);
            }
            Ok(false) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    stop_all(me, main_pid, signal, grace, &mut status);
    exit_code(status)
}

/// The stop signal to the command's group and to every descendant; the grace period lasts
/// until *no descendant* is left, not just `sh`: a shell that did not `exec` its command dies
/// at once, and killing everything then would cut a service off mid-request. Then SIGKILL to
/// whatever is left, until nothing is.
fn stop_all(
    me: Pid,
    main_pid: Pid,
    signal: Signal,
    grace: Duration,
    status: &mut Option<WaitStatus>,
) {
    let _ = killpg(main_pid, signal);
    for pid in descendants(me) {
        let _ = kill(pid, signal);
    }
    let deadline = Instant::now() + grace;
    loop {
        reap(main_pid, status);
        if descendants(me).is_empty() || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(TICK);
    }
    let _ = killpg(main_pid, Signal::SIGKILL);
    for _ in 0..KILL_ROUNDS {
        reap(main_pid, status);
        let left = descendants(me);
        if left.is_empty() {
            break;
        }
        for pid in left {
            let _ = kill(pid, Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    reap(main_pid, status);
}

/// Collect every child that has exited — the command (its status is kept) and orphans
/// re-parented to us (zombies otherwise).
fn reap(main_pid: Pid, status: &mut Option<WaitStatus>) {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
            Ok(s) => {
                if s.pid() == Some(main_pid) && status.is_none() {
                    *status = Some(s);
                }
            }
            Err(Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// Every live (not zombie) process whose parent chain leads to `root`, from `/proc`.
///
/// A PID read here could in principle be reused before it is signalled; only processes whose
/// parent is one of ours can be reaped behind our back, and a PID is not reused at once, so the
/// window is tiny — and the alternative, leaving a process running, is worse.
pub fn descendants(root: Pid) -> Vec<Pid> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut children: HashMap<i32, Vec<(i32, bool)>> = HashMap::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((state, ppid)) = parse_stat(&stat) {
            children.entry(ppid).or_default().push((pid, state != 'Z'));
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root.as_raw()];
    while let Some(parent) = queue.pop() {
        for &(pid, live) in children.get(&parent).map(Vec::as_slice).unwrap_or_default() {
            // A zombie's own children were re-parented already; it needs no signal.
            if live {
                found.push(Pid::from_raw(pid));
            }
            queue.push(pid);
        }
    }
    found
}

/// State and parent PID from `/proc/<pid>/stat`: `pid (comm) state ppid …`, where `comm` may
/// hold spaces and parentheses, so the fields are read after its *last* `)`.
fn parse_stat(stat: &str) -> Option<(char, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
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

fn exit_code(status: Option<WaitStatus>) -> ExitCode {
    match status {
        Some(WaitStatus::Exited(_, code)) => ExitCode::from(code.clamp(0, 255) as u8),
        Some(WaitStatus::Signaled(_, signal, _)) => {
            ExitCode::from((128 + signal as i32).clamp(0, 255) as u8)
        }
        // Never collected (it cannot happen once no descendant is left): report a kill.
        _ => ExitCode::from(137),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_awkward_command_names() {
        assert_eq!(parse_stat("42 (a) b) (c) S 7 42 42 0 -1"), Some(('S', 7)));
        assert_eq!(parse_stat("9 (sleep) Z 1 9 9"), Some(('Z', 1)));
        assert_eq!(parse_stat("garbage"), None);
    }
}
