//! The service under specification: started from `sdd.yaml` under the supervisor, watched until
//! its readiness probe answers, its output kept in a bounded log (and, when the caller asks,
//! captured on disk for the debugger: `crate::capture`), stopped gracefully and then killed
//! with its whole process group.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::capture::{Capture, CaptureSink};
use tokio::process::{Child, ChildStdin};

use sdd_http::{AllowedHosts, HttpRequest};
use sdd_spec::project::{confine, ServiceConfig};

use crate::process::{spawn, Exit, RunSpec, Supervisor};

/// Lines of output kept per service (older ones are dropped and counted).
const LOG_LINES: usize = 5000;
/// Longest line kept (longer ones are cut).
const LOG_LINE_CHARS: usize = 2000;
/// Lines of output that come back with a failed start: enough for a stack trace's end or a
/// panic message, and at most `START_FAILURE_CHARS` of text, so that a service that printed
/// 2000-character lines does not make the message unreadable.
const START_FAILURE_LINES: usize = 20;
const START_FAILURE_CHARS: usize = 4000;
const PROBE_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LogLine {
    /// Position in the service's whole output (1-based), stable across calls.
    pub seq: u64,
    pub stream: Stream,
    /// Seconds since the service started.
    pub at_seconds: f64,
    pub text: String,
}

#[derive(Default)]
struct LogBuffer {
    lines: VecDeque<LogLine>,
    next_seq: u64,
    dropped: u64,
}

type SharedLog = Arc<Mutex<LogBuffer>>;

/// A service's output, readable after the service is gone (`Service::log` before stopping it):
/// what it wrote before it stopped is what an agent needs to see why.
#[derive(Clone)]
pub struct ServiceLog(SharedLog);

impl ServiceLog {
    /// The last `tail` lines that contain `filter` (case-insensitive), of one stream or both,
    /// optionally only those after sequence number `after`.
    pub fn view(
        &self,
        tail: usize,
        filter: Option<&str>,
        stream: Option<Stream>,
        after: Option<u64>,
    ) -> LogsView {
        let Ok(log) = self.0.lock() else {
            return LogsView {
                lines: Vec::new(),
                matching: 0,
                dropped_from_log: 0,
            };
        };
        let needle = filter.map(str::to_lowercase);
        let matching: Vec<&LogLine> = log
            .lines
            .iter()
            .filter(|l| stream.is_none_or(|s| l.stream == s))
            .filter(|l| after.is_none_or(|a| l.seq > a))
            .filter(|l| {
                needle
                    .as_deref()
                    .is_none_or(|n| l.text.to_lowercase().contains(n))
            })
            .collect();
        let start = matching.len().saturating_sub(tail);
        LogsView {
            matching: matching.len(),
            lines: matching[start..].iter().map(|l| (*l).clone()).collect(),
            dropped_from_log: log.dropped,
        }
    }
}

fn push_line(log: &SharedLog, stream: Stream, started: Instant, mut text: String) {
    if text.len() > LOG_LINE_CHARS {
        let mut cut = LOG_LINE_CHARS;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    let Ok(mut log) = log.lock() else { return };
    log.next_seq += 1;
    let seq = log.next_seq;
    log.lines.push_back(LogLine {
        seq,
        stream,
        at_seconds: started.elapsed().as_secs_f64(),
        text,
    });
    if log.lines.len() > LOG_LINES {
        log.lines.pop_front();
        log.dropped += 1;
    }
}

async fn pump(
    stream: impl AsyncRead + Unpin,
    kind: Stream,
    log: SharedLog,
    started: Instant,
    capture: Option<CaptureSink>,
) {
    let mut reader = BufReader::new(stream);
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        match reader.read_until(b'\n', &mut bytes).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let mut line = bytes.as_slice();
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        // Lossy: a line that is not UTF-8 once ended the pump (`lines()` fails on it), and the
        // service then blocked on a full pipe.
        let line = String::from_utf8_lossy(line).into_owned();
        if let Some(capture) = &capture {
            capture.send(kind, &line);
        }
        push_line(&log, kind, started, line);
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ServiceState {
    /// Running and its readiness probe answered.
    Running,
    /// The process ended by itself.
    Exited { exit: Exit },
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ServiceStatus {
    #[serde(flatten)]
    pub state: ServiceState,
    pub pid: Option<u32>,
    pub command: String,
    pub base_url: String,
    pub started_at: String,
    pub uptime_seconds: f64,
    /// Seconds it took to become ready.
    pub ready_after_seconds: f64,
    pub log_lines: u64,
    /// What in `sdd.yaml`'s service section could not be resolved, e.g. an `${env:NAME}` that
    /// SDD's environment does not set (the service got it empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LogsView {
    pub lines: Vec<LogLine>,
    /// Lines matching the request before `tail` was applied.
    pub matching: usize,
    /// Lines dropped from the start of the log because it is bounded.
    pub dropped_from_log: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StopReport {
    pub exit: Exit,
    /// It ended within the grace period after the stop signal (not killed).
    pub graceful: bool,
    pub stop_signal: String,
    pub stopped_in_seconds: f64,
    pub uptime_seconds: f64,
    /// The last lines it wrote.
    pub last_lines: Vec<LogLine>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("something already answers at {0}; stop it first (a service left running outside SDD?), or change base_url in sdd.yaml")]
    AlreadyAnswering(String),
    #[error(transparent)]
    Spawn(#[from] crate::process::RunError),
    #[error("the service {exit} after {after_seconds:.1} s, before it {ready}; its last output:\n{last_lines}")]
    Exited {
        exit: Exit,
        after_seconds: f64,
        /// What readiness it never reached: `answered on http://127.0.0.1:8080/health`.
        ready: String,
        last_lines: String,
    },
    #[error("the service was not ready after {waited_seconds} s (ready.timeout_seconds in sdd.yaml); it was stopped. Last probe: {last_probe}. Its last output:\n{last_lines}")]
    NeverReady {
        waited_seconds: u64,
        last_probe: String,
        last_lines: String,
    },
}

/// A running service. Dropping it stops the service (the supervisor sees its pipe close).
pub struct Service {
    child: Child,
    stop_pipe: Option<ChildStdin>,
    log: SharedLog,
    started: Instant,
    started_at: String,
    ready_after: Duration,
    config: ServiceConfig,
    /// From expanding `${env:…}` in the configuration.
    warnings: Vec<String>,
    exit: Option<Exit>,
    /// The tasks copying stdout and stderr into the log; they end at end-of-file.
    pumps: Vec<tokio::task::JoinHandle<()>>,
    /// The thread writing the capture file, and the file (`Service::start_capturing`).
    capture: Option<(std::thread::JoinHandle<()>, PathBuf)>,
    /// The capture file once its writer has ended.
    capture_path: Option<PathBuf>,
}

impl Service {
    /// Start the service and wait until its readiness probe answers. Its output is kept in
    /// memory only; see [`Service::start_capturing`].
    pub async fn start(
        root: &Path,
        config: &ServiceConfig,
        allowed: &AllowedHosts,
        supervisor: &Supervisor,
    ) -> Result<Service, StartError> {
        Service::start_capturing(root, config, allowed, supervisor, None).await
    }

    /// [`Service::start`], and with `capture` its output is also written to a new file in
    /// `capture.dir` (`Capture::for_project(root)`: `.sdd/service-logs`, where the debugger
    /// reads it). A capture that cannot be written is logged and left out; the start goes on.
    pub async fn start_capturing(
        root: &Path,
        config: &ServiceConfig,
        allowed: &AllowedHosts,
        supervisor: &Supervisor,
        capture: Option<Capture>,
    ) -> Result<Service, StartError> {
        // `${env:NAME}` in env, headers and the command, read from SDD's own environment.
        let (config, warnings) = config.with_env_expanded(&|name| std::env::var(name).ok());
        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        let config = &config;
        let workdir = confine(root, &config.workdir).ok_or_else(|| {
            StartError::Config(format!(
                "service.workdir `{}` is outside the project",
                config.workdir
            ))
        })?;
        let (host, _, _) = sdd_http::split_url(&config.base_url)
            .map_err(|e| StartError::Config(format!("service.base_url: {e}")))?;
        if !allowed.allows(&host) {
            return Err(StartError::Config(format!(
                "service.base_url host `{host}` is not loopback and not in targets.allowed_hosts"
            )));
        }
        if probe(config, allowed).await.is_ok() {
            return Err(StartError::AlreadyAnswering(config.base_url.clone()));
        }
        let mut spec = RunSpec::new(config.command.clone(), workdir.clone(), Duration::MAX);
        spec.env = config.env.clone();
        spec.stop_signal = config.stop.signal.clone();
        spec.grace = Duration::from_secs(config.stop.grace_seconds);
        let mut child = spawn(supervisor, &spec, &workdir)?;
        let started = Instant::now();
        let capture = capture.and_then(|capture| {
            crate::capture::start(
                &capture,
                std::time::SystemTime::now(),
                child.id().unwrap_or(0),
            )
        });
        let sink = capture.as_ref().map(|c| c.sink.clone());
        let log: SharedLog = Arc::default();
        let mut pumps = Vec::new();
        if let Some(out) = child.stdout.take() {
            pumps.push(tokio::spawn(pump(
                out,
                Stream::Stdout,
                log.clone(),
                started,
                sink.clone(),
            )));
        }
        if let Some(err) = child.stderr.take() {
            pumps.push(tokio::spawn(pump(
                err,
                Stream::Stderr,
                log.clone(),
                started,
                sink,
            )));
        }
        // From here the pumps hold the only senders: the writer ends when both have ended.
        let capture = capture.map(|c| (c.writer, c.path));
        let stop_pipe = child.stdin.take();
        let mut service = Service {
            child,
            stop_pipe,
            log,
            started,
            started_at: sdd_spec::review::now_rfc3339(),
            ready_after: Duration::ZERO,
            config: config.clone(),
            warnings,
            exit: None,
            pumps,
            capture,
            capture_path: None,
        };
        let deadline = started + Duration::from_secs(config.ready.timeout_seconds.max(1));
        loop {
            if let Some(exit) = service.poll_exit() {
                service.drain_output().await;
                return Err(StartError::Exited {
                    exit,
                    after_seconds: started.elapsed().as_secs_f64(),
                    ready: readiness(config),
                    last_lines: service.last_lines_text(START_FAILURE_LINES),
                });
            }
            let last_probe = match probe(config, allowed).await {
                Ok(()) => {
                    service.ready_after = started.elapsed();
                    return Ok(service);
                }
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                let last_lines = service.last_lines_text(START_FAILURE_LINES);
                service.stop().await;
                return Err(StartError::NeverReady {
                    waited_seconds: config.ready.timeout_seconds,
                    last_probe,
                    last_lines,
                });
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    }

    /// Wait (briefly) until the log, and the capture file, have everything the exited service
    /// wrote.
    async fn drain_output(&mut self) {
        for pump in self.pumps.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), pump).await;
        }
        if let Some((writer, path)) = self.capture.take() {
            // The writer ends once the pumps have; it only has the queue's last lines to write.
            let joined = tokio::task::spawn_blocking(move || writer.join());
            if tokio::time::timeout(Duration::from_secs(2), joined)
                .await
                .is_err()
            {
                tracing::warn!(
                    "the capture of the service's output in {} was still being written",
                    path.display()
                );
            }
            self.capture_path = Some(path);
        }
    }

    /// The file its output is captured in, if it is.
    pub fn capture_file(&self) -> Option<&Path> {
        self.capture
            .as_ref()
            .map(|(_, path)| path.as_path())
            .or(self.capture_path.as_deref())
    }

    fn poll_exit(&mut self) -> Option<Exit> {
        if self.exit.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit = Some(crate::process::exit_of(status));
            }
        }
        self.exit.clone()
    }

    pub fn status(&mut self) -> ServiceStatus {
        let state = match self.poll_exit() {
            Some(exit) => ServiceState::Exited { exit },
            None => ServiceState::Running,
        };
        let log_lines = self.log.lock().map(|l| l.next_seq).unwrap_or(0);
        ServiceStatus {
            pid: self.exit.is_none().then(|| self.child.id()).flatten(),
            state,
            command: self.config.command.clone(),
            base_url: self.config.base_url.clone(),
            started_at: self.started_at.clone(),
            uptime_seconds: self.started.elapsed().as_secs_f64(),
            ready_after_seconds: self.ready_after.as_secs_f64(),
            log_lines,
            warnings: self.warnings.clone(),
        }
    }

    /// The last `tail` lines that contain `filter` (case-insensitive), of one stream or both,
    /// optionally only those after sequence number `after`.
    pub fn logs(
        &self,
        tail: usize,
        filter: Option<&str>,
        stream: Option<Stream>,
        after: Option<u64>,
    ) -> LogsView {
        self.log().view(tail, filter, stream, after)
    }

    /// Its output, to keep reading after it is stopped.
    pub fn log(&self) -> ServiceLog {
        ServiceLog(self.log.clone())
    }

    /// The last `n` lines of both streams, each marked `[out]` or `[err]`, the oldest dropped
    /// (and the first kept cut at its start) past `START_FAILURE_CHARS`: the end is what says
    /// why it failed.
    fn last_lines_text(&self, n: usize) -> String {
        let lines = self.logs(n, None, None, None).lines;
        if lines.is_empty() {
            return "(no output)".into();
        }
        let mut kept: Vec<String> = Vec::new();
        let mut size = 0;
        for line in lines.iter().rev() {
            let stream = match line.stream {
                Stream::Stdout => "out",
                Stream::Stderr => "err",
            };
            let text = format!("[{stream}] {}", line.text);
            let room = START_FAILURE_CHARS.saturating_sub(size);
            let chars = text.chars().count();
            if chars > room {
                if kept.is_empty() {
                    let tail: String = text.chars().skip(chars - room).collect();
                    kept.push(format!("…{tail}"));
                }
                break;
            }
            size += chars + 1;
            kept.push(text);
        }
        let dropped = lines.len() - kept.len();
        kept.reverse();
        let mut text = kept.join("\n");
        if dropped > 0 {
            text = format!("({dropped} earlier lines not shown)\n{text}");
        }
        text
    }

    /// Stop: the stop signal to the whole group, the grace period, then SIGKILL to the group
    /// (the supervisor does this when its pipe closes).
    pub async fn stop(self) -> StopReport {
        self.end(false).await
    }

    /// Crash: SIGKILL to the service and everything it started, at once — no stop signal, no
    /// grace period, as a node failure or a power loss would end it.
    pub async fn crash(self) -> StopReport {
        self.end(true).await
    }

    async fn end(mut self, crash: bool) -> StopReport {
        use tokio::io::AsyncWriteExt;
        let asked = Instant::now();
        if let Some(mut pipe) = self.stop_pipe.take() {
            if crash {
                // If the write fails the supervisor is gone, and the pipe's end stops it anyway.
                let _ = pipe.write_all(&[crate::supervisor::CRASH_BYTE]).await;
                let _ = pipe.flush().await;
            }
            drop(pipe);
        }
        let grace = Duration::from_secs(self.config.stop.grace_seconds);
        let exit = match self.poll_exit() {
            Some(exit) => exit,
            None => match tokio::time::timeout(grace + Duration::from_secs(5), self.child.wait())
                .await
            {
                Ok(Ok(status)) => crate::process::exit_of(status),
                _ => {
                    let _ = self.child.start_kill();
                    let _ = self.child.wait().await;
                    Exit::Signal { code: 137 }
                }
            },
        };
        let stopped_in = asked.elapsed();
        self.drain_output().await;
        StopReport {
            graceful: !crash && exit != (Exit::Signal { code: 137 }),
            exit,
            stop_signal: if crash {
                "KILL".into()
            } else {
                self.config.stop.signal.clone()
            },
            stopped_in_seconds: stopped_in.as_secs_f64(),
            uptime_seconds: self.started.elapsed().as_secs_f64(),
            last_lines: self.logs(20, None, None, None).lines,
        }
    }
}

/// What the readiness probe waits for, as the end of "before it …": `answered on
/// http://127.0.0.1:8080/health`, or `accepted connections on 127.0.0.1:8080`.
fn readiness(config: &ServiceConfig) -> String {
    if let Some(path) = &config.ready.http {
        return format!(
            "answered on {}{path}",
            config.base_url.trim_end_matches('/')
        );
    }
    match sdd_http::split_url(&config.base_url) {
        Ok((host, port, _)) => format!(
            "accepted connections on {host}:{}",
            config.ready.tcp.unwrap_or(port)
        ),
        Err(_) => format!("answered on {}", config.base_url),
    }
}

/// One readiness probe: `Ok` when the service answers as configured.
pub async fn probe(config: &ServiceConfig, allowed: &AllowedHosts) -> Result<(), String> {
    let (host, port, _) = sdd_http::split_url(&config.base_url).map_err(|e| e.to_string())?;
    // Checked here, before either kind of probe: tools call `probe` directly (service_status,
    // a service run by hand), not only through `Service::start`, and a TCP connect to any host
    // is as much traffic as an HTTP request.
    if !allowed.allows(&host) {
        return Err(sdd_http::HttpError::HostNotAllowed(host).to_string());
    }
    if let Some(path) = &config.ready.http {
        let url = format!("{}{}", config.base_url.trim_end_matches('/'), path);
        let request = HttpRequest {
            method: "GET".into(),
            url: url.clone(),
            headers: Vec::new(),
            body: None,
            timeout: Duration::from_secs(2),
        };
        let response = sdd_http::send(&request, allowed)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if (200..300).contains(&response.status) {
            Ok(())
        } else {
            Err(format!("GET {url} answered {}", response.status))
        }
    } else {
        let port = config.ready.tcp.unwrap_or(port);
        let address = format!(
            "{}:{port}",
            host.trim_start_matches('[').trim_end_matches(']')
        );
        tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(&address),
        )
        .await
        .map_err(|_| format!("connect to {address}: timed out"))?
        .map(|_| ())
        .map_err(|e| format!("connect to {address}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base_url: &str, ready: &str) -> ServiceConfig {
        serde_json::from_value(serde_json::json!({
            "command": "true",
            "base_url": base_url,
            "ready": serde_json::from_str::<serde_json::Value>(ready).unwrap(),
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn the_tcp_probe_only_goes_to_allowed_hosts() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let loopback = config(
            &format!("http://127.0.0.1:{port}"),
            &format!(r#"{{"tcp": {port}}}"#),
        );
        assert_eq!(
            probe(&loopback, &AllowedHosts::loopback_only()).await,
            Ok(())
        );

        // `.invalid` never resolves: without the check the probe would try, and fail with a
        // lookup error rather than refuse.
        for ready in [
            format!(r#"{{"tcp": {port}}}"#),
            r#"{"http": "/health"}"#.into(),
        ] {
            let remote = config("http://sdd-probe.invalid:80", &ready);
            let err = probe(&remote, &AllowedHosts::loopback_only())
                .await
                .unwrap_err();
            assert!(
                err.contains("host `sdd-probe.invalid` is not allowed")
                    && err.contains("targets.allowed_hosts"),
                "{ready}: {err}"
            );
            let allowed = AllowedHosts::new(["sdd-probe.invalid".to_string()]);
            let err = probe(&remote, &allowed).await.unwrap_err();
            assert!(!err.contains("not allowed"), "{ready}: {err}");
        }
    }
}
