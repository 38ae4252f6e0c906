//! Running one command under the supervisor: its own process group, a timeout that kills
//! everything it started, and output captured up to a cap (the head and the tail are kept,
//! since failures are usually reported at the end).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

/// How to start the supervisor: a program and the arguments that select supervisor mode.
#[derive(Debug, Clone)]
pub struct Supervisor {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl Supervisor {
    /// The current executable in supervisor mode (`<exe> __supervise …`): server binaries call
    /// `supervisor::main` when their first argument is [`SUPERVISE_FLAG`].
    pub fn current_exe() -> std::io::Result<Supervisor> {
        Ok(Supervisor {
            program: std::env::current_exe()?,
            args: vec![SUPERVISE_FLAG.into()],
        })
    }
}

/// First argument that turns a server binary into the supervisor.
pub const SUPERVISE_FLAG: &str = "__supervise";

#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Shell command (`sh -c`).
    pub command: String,
    /// `$1`, `$2`, … of the command: values that must reach it as data, never as shell text
    /// (a test filter from a tool call).
    pub args: Vec<String>,
    pub workdir: PathBuf,
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
    /// Bytes kept per stream (half from the start, half from the end).
    pub output_cap: usize,
    /// Signal for stopping before the kill, and how long to wait for it.
    pub stop_signal: String,
    pub grace: Duration,
}

impl RunSpec {
    pub fn new(command: impl Into<String>, workdir: impl Into<PathBuf>, timeout: Duration) -> Self {
        RunSpec {
            command: command.into(),
            args: Vec::new(),
            workdir: workdir.into(),
            env: BTreeMap::new(),
            timeout,
            output_cap: 256 * 1024,
            stop_signal: "TERM".into(),
            grace: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exit {
    /// Exited by itself with this code.
    Code { code: i32 },
    /// Killed by a signal it did not expect (128 + signal as code).
    Signal { code: i32 },
    /// Hit the timeout; its process group was stopped and killed.
    TimedOut { after_seconds: f64 },
}

/// How a process ended, as the predicate of a sentence about it: "exited with status 1", "was
/// killed by signal 9 (SIGKILL)", "was stopped at its timeout of 30 s" — for messages people
/// read, where the Debug form (`Code { code: 1 }`) says nothing to them.
impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code { code } => write!(f, "exited with status {code}"),
            Exit::Signal { code } if *code > 128 => {
                let number = code - 128;
                write!(f, "was killed by signal {number}")?;
                match nix::sys::signal::Signal::try_from(number) {
                    Ok(signal) => write!(f, " ({})", signal.as_str()),
                    Err(_) => Ok(()),
                }
            }
            Exit::Signal { code } => write!(f, "was killed by a signal (status {code})"),
            Exit::TimedOut { after_seconds } => {
                write!(f, "was stopped at its timeout of {after_seconds:.0} s")
            }
        }
    }
}

/// Captured output: the text kept, how much there was, whether the middle was dropped.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Captured {
    pub text: String,
    pub total_bytes: usize,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunOutcome {
    pub exit: Exit,
    pub duration_seconds: f64,
    pub stdout: Captured,
    pub stderr: Captured,
}

impl RunOutcome {
    pub fn succeeded(&self) -> bool {
        self.exit == Exit::Code { code: 0 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("working directory `{0}` does not exist")]
    MissingWorkdir(PathBuf),
    #[error("{what} contains a NUL byte, which no process argument or environment variable can carry; remove it")]
    Nul { what: String },
    #[error("cannot start the supervisor `{program}`: {source}")]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
}

/// How long output is still read after the supervisor has exited. It exits only once every
/// process of the command is gone, so its pipes are normally closed by then; a process that got
/// hold of them some other way must not keep the run waiting.
const DRAIN: Duration = Duration::from_secs(2);
/// Ends output that was still open when reading stopped.
pub const CUT_OFF_NOTE: &str = "\n[sdd: stopped reading here: the stream was still held open after the command and everything it started had ended]\n";

/// Run `spec` to completion or timeout. The command never outlives this call: on timeout
/// everything it started is stopped, and if this future is dropped the supervisor sees its
/// stdin close and does the same.
pub async fn run(supervisor: &Supervisor, spec: &RunSpec) -> Result<RunOutcome, RunError> {
    if !spec.workdir.is_dir() {
        return Err(RunError::MissingWorkdir(spec.workdir.clone()));
    }
    let mut child = spawn(supervisor, spec, &spec.workdir)?;
    let (stop_reading, reading) = tokio::sync::watch::channel(false);
    let mut stdout = child
        .stdout
        .take()
        .map(|s| spawn_capture(s, spec.output_cap, reading.clone()));
    let mut stderr = child
        .stderr
        .take()
        .map(|s| spawn_capture(s, spec.output_cap, reading.clone()));
    // Held open until we want the command stopped: tokio's `Child::wait` would close it.
    let stop_pipe = child.stdin.take();
    let started = Instant::now();
    let exit = match tokio::time::timeout(spec.timeout, child.wait()).await {
        Ok(Ok(status)) => exit_of(status),
        Ok(Err(_)) => Exit::Signal { code: 137 },
        Err(_) => {
            // Closing the supervisor's stdin makes it stop and then kill everything.
            drop(stop_pipe);
            let bound = spec.grace + Duration::from_secs(5);
            if tokio::time::timeout(bound, child.wait()).await.is_err() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
            Exit::TimedOut {
                after_seconds: spec.timeout.as_secs_f64(),
            }
        }
    };
    let duration_seconds = started.elapsed().as_secs_f64();
    let (mut out, mut err) = (None, None);
    let drained = tokio::time::timeout(DRAIN, async {
        out = Some(join_capture(stdout.as_mut()).await);
        err = Some(join_capture(stderr.as_mut()).await);
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            command = %spec.command,
            "output pipes still open {DRAIN:?} after the command ended; stopped reading them"
        );
        let _ = stop_reading.send(true);
    }
    // A task already joined above must not be polled again.
    let stdout = match out {
        Some(captured) => captured,
        None => join_capture(stdout.as_mut()).await,
    };
    let stderr = match err {
        Some(captured) => captured,
        None => join_capture(stderr.as_mut()).await,
    };
    Ok(RunOutcome {
        exit,
        duration_seconds,
        stdout,
        stderr,
    })
}

async fn join_capture(task: Option<&mut tokio::task::JoinHandle<Captured>>) -> Captured {
    match task {
        Some(task) => task.await.unwrap_or_default(),
        None => Captured::default(),
    }
}

/// Capture `stream` in a task until it ends or `reading` turns true.
fn spawn_capture(
    stream: impl AsyncRead + Unpin + Send + 'static,
    cap: usize,
    mut reading: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Captured> {
    tokio::spawn(capture_until(stream, cap, async move {
        let _ = reading.wait_for(|stop| *stop).await;
    }))
}

/// Start a long-running command (a service) under the supervisor; the caller owns the child and
/// its pipes. Dropping the child's stdin stops the command.
pub fn spawn(supervisor: &Supervisor, spec: &RunSpec, workdir: &Path) -> Result<Child, RunError> {
    // The OS refuses these at spawn time with an error that blames the supervisor; say what
    // is wrong instead.
    let nul = |what: String| Err(RunError::Nul { what });
    if spec.command.contains('\0') {
        return nul("the command".into());
    }
    if spec.args.iter().any(|a| a.contains('\0')) {
        return nul("an argument of the command".into());
    }
    if let Some((name, _)) = spec
        .env
        .iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return nul(format!(
            "environment variable `{}`",
            name.replace('\0', "\\0")
        ));
    }
    let mut command = Command::new(&supervisor.program);
    command
        .args(&supervisor.args)
        .arg(&spec.stop_signal)
        .arg(spec.grace.as_millis().to_string())
        .arg(&spec.command)
        .args(&spec.args)
        .current_dir(workdir)
        .envs(&spec.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: a signal to the server's group (Ctrl-C) must not take the supervisor
        // down before it has cleaned up.
        .process_group(0);
    command.spawn().map_err(|source| RunError::Spawn {
        program: supervisor.program.clone(),
        source,
    })
}

pub(crate) fn exit_of(status: std::process::ExitStatus) -> Exit {
    match status.code() {
        Some(code) if code > 128 && code < 160 => Exit::Signal { code },
        Some(code) => Exit::Code { code },
        None => Exit::Signal { code: 137 },
    }
}

/// Read a stream to its end, keeping the first and last `cap / 2` bytes.
pub async fn capture(stream: impl AsyncRead + Unpin, cap: usize) -> Captured {
    capture_until(stream, cap, std::future::pending()).await
}

/// [`capture`] until the stream ends or `stop` completes, whichever is first.
async fn capture_until(
    mut stream: impl AsyncRead + Unpin,
    cap: usize,
    stop: impl std::future::Future<Output = ()>,
) -> Captured {
    tokio::pin!(stop);
    let half = (cap / 2).max(1);
    let mut head = Vec::new();
    let mut tail = std::collections::VecDeque::new();
    let mut total = 0usize;
    let mut buf = [0u8; 8192];
    let mut cut_off = false;
    loop {
        let n = tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
            () = &mut stop => {
                cut_off = true;
                break;
            }
        };
        total += n;
        let mut chunk = &buf[..n];
        if head.len() < half {
            let take = (half - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
        tail.extend(chunk.iter().copied());
        while tail.len() > half {
            tail.pop_front();
        }
    }
    let truncated = total > head.len() + tail.len();
    let mut text = String::from_utf8_lossy(&head).to_string();
    if truncated {
        text.push_str(&format!(
            "\n… [{} bytes omitted] …\n",
            total - head.len() - tail.len()
        ));
    }
    let tail: Vec<u8> = tail.into_iter().collect();
    text.push_str(&String::from_utf8_lossy(&tail));
    if cut_off {
        // Said in the output itself, where a reader of the run looks for what is missing.
        text.push_str(CUT_OFF_NOTE);
    }
    Captured {
        text,
        total_bytes: total,
        truncated,
    }
}

/// Run CPU- or disk-heavy work (parsing up to 32 MiB of results) from async code without
/// stalling the runtime's workers: on a multi-thread runtime the worker hands its other tasks
/// to a fresh one first (`block_in_place`), so `ping`, cancellation and other calls keep being
/// answered meanwhile; elsewhere (a current-thread runtime in a test) `work` simply runs.
/// Unlike `spawn_blocking`, `work` may borrow from its caller.
pub fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exits read as words in messages (a failed start once said "Code { code: 1 }").
    #[test]
    fn exits_read_as_words() {
        let cases = [
            (Exit::Code { code: 1 }, "exited with status 1"),
            (Exit::Code { code: 0 }, "exited with status 0"),
            (
                Exit::Signal { code: 137 },
                "was killed by signal 9 (SIGKILL)",
            ),
            (
                Exit::Signal { code: 143 },
                "was killed by signal 15 (SIGTERM)",
            ),
            (
                Exit::Signal { code: 139 },
                "was killed by signal 11 (SIGSEGV)",
            ),
            (
                Exit::Signal { code: 100 },
                "was killed by a signal (status 100)",
            ),
            (
                Exit::TimedOut {
                    after_seconds: 30.0,
                },
                "was stopped at its timeout of 30 s",
            ),
        ];
        for (exit, words) in cases {
            assert_eq!(exit.to_string(), words, "{exit:?}");
        }
    }
}
