//! For tests of this crate and of the command line (feature `testing`): a real Prometheus
//! (Debian's package) started by `scripts/prometheus.sh` on loopback, stopped with its whole
//! process group when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Is `prometheus` (and promtool) installed? Under `CI` it must be: fail. Elsewhere: say
/// loudly that the test is skipped.
pub fn prometheus_installed(test: &str) -> bool {
    let works = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if works("prometheus") && works("promtool") {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: prometheus/promtool not found, and CI must run this test: .ci/run installs Debian's `prometheus` package"
    );
    // Straight to stderr: the test harness captures `eprintln!`, which would hide the skip.
    let _ = writeln!(
        std::io::stderr(),
        "\n################################################################################\n\
         SKIPPED {test}: prometheus is not installed (apt-get install prometheus).\n\
         Under CI this test fails instead; .ci/run installs it.\n\
         ################################################################################\n"
    );
    false
}

/// Deterministic noise in [0, 1) for generated test data (a 64-bit LCG, Knuth's constants).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn draw(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A Prometheus started by scripts/prometheus.sh in its own process group; dropping it stops
/// the whole group (even when the test failed), and `--exit-with-parent` stops it if this test
/// process is killed outright.
pub struct RunningPrometheus {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl RunningPrometheus {
    /// Prometheus on `127.0.0.1:port`, its files under `dir`, scraping each of `targets`
    /// (`host:port/path`) every second, loaded first with `backfill` (OpenMetrics text).
    pub fn start(
        dir: &Path,
        port: u16,
        targets: &[String],
        backfill: Option<&Path>,
    ) -> RunningPrometheus {
        use std::os::unix::process::CommandExt;
        let log = dir.join("prometheus.log");
        let mut command = Command::new(repo().join("scripts/prometheus.sh"));
        command
            .arg("--dir")
            .arg(dir.join("prometheus"))
            .args(["--port", &port.to_string()])
            .args(["--interval", "1s"]);
        for target in targets {
            command.args(["--target", target]);
        }
        if let Some(backfill) = backfill {
            command.arg("--backfill").arg(backfill);
        }
        let mut child = command
            .arg("--exit-with-parent")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .process_group(0)
            .spawn()
            .expect("scripts/prometheus.sh");
        let mut line = String::new();
        // The script prints the URL once /-/ready answers; it stops Prometheus and closes
        // stdout itself if it is not ready within a minute.
        let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        let mut prometheus = RunningPrometheus {
            child,
            url: line.trim().to_string(),
            log,
        };
        if prometheus.url != format!("http://127.0.0.1:{port}") {
            let log = prometheus.log_text();
            prometheus.stop();
            panic!("Prometheus did not start; its log:\n{log}");
        }
        prometheus
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn group(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGTERM to the group, SIGKILL after 10 s; returns when no process of the group is left.
    pub fn stop(&mut self) {
        let group = format!("-{}", self.group());
        let signal = |name: &str| {
            let _ = Command::new("kill")
                .args([name, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        signal("-KILL");
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !live_in_group(self.group()).is_empty() && Instant::now() < deadline {
            signal("-KILL");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RunningPrometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Processes (not zombies) of process group `group`, from /proc.
pub fn live_in_group(group: i32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == group.to_string() && fields[0] != "Z" {
            found.push(head.to_string() + ")");
        }
    }
    found
}
