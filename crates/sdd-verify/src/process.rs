//! Running one command under the supervisor: its own process group, a timeout that kills the
//! whole group, and output captured up to a cap (the head and the tail are kept, since failures
//! are usually reported at the end).

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
    #[error("cannot start the supervisor `{program}`: {source}")]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
}

/// Run `spec` to completion or timeout. The command never outlives this call: on timeout its
/// group is stopped, and if this future is dropped the supervisor sees its stdin close and does
/// the same.
pub async fn run(supervisor: &Supervisor, spec: &RunSpec) -> Result<RunOutcome, RunError> {
    if !spec.workdir.is_dir() {
        return Err(RunError::MissingWorkdir(spec.workdir.clone()));
    }
    let mut child = spawn(supervisor, spec, &spec.workdir)?;
    let stdout = child
        .stdout
        .take()
        .map(|s| tokio::spawn(capture(s, spec.output_cap)));
    let stderr = child
        .stderr
        .take()
        .map(|s| tokio::spawn(capture(s, spec.output_cap)));
    // Held open until we want the command stopped: tokio's `Child::wait` would close it.
    let stop_pipe = child.stdin.take();
    let started = Instant::now();
    let exit = match tokio::time::timeout(spec.timeout, child.wait()).await {
        Ok(Ok(status)) => exit_of(status),
        Ok(Err(_)) => Exit::Signal { code: 137 },
        Err(_) => {
            // Closing the supervisor's stdin makes it stop and then kill the whole group.
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
    let stdout = match stdout {
        Some(task) => task.await.unwrap_or_default(),
        None => Captured::default(),
    };
    let stderr = match stderr {
        Some(task) => task.await.unwrap_or_default(),
        None => Captured::default(),
    };
    Ok(RunOutcome {
        exit,
        duration_seconds,
        stdout,
        stderr,
    })
}

/// Start a long-running command (a service) under the supervisor; the caller owns the child and
/// its pipes. Dropping the child's stdin stops the command.
pub fn spawn(supervisor: &Supervisor, spec: &RunSpec, workdir: &Path) -> Result<Child, RunError> {
    let mut command = Command::new(&supervisor.program);
    command
        .args(&supervisor.args)
        .arg(&spec.stop_signal)
        .arg(spec.grace.as_millis().to_string())
        .arg(&spec.command)
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
pub async fn capture(mut stream: impl AsyncRead + Unpin, cap: usize) -> Captured {
    let half = (cap / 2).max(1);
    let mut head = Vec::new();
    let mut tail = std::collections::VecDeque::new();
    let mut total = 0usize;
    let mut buf = [0u8; 8192];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
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
    Captured {
        text,
        total_bytes: total,
        truncated,
    }
}
