//! What the command line's test files share: the repository, `sdd` run in a directory, the
//! example's service built and run in its own process group, traffic for it that varies over
//! time, and the report rendered in headless Chromium.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    repo.canonicalize().unwrap_or(repo)
}

/// The built `sdd` with `args`, in `dir`: its exit code, standard output and standard error.
pub fn sdd_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sdd"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The example's service, built as `verify_example` builds it (its own target directory).
pub fn service_binary() -> PathBuf {
    let example = repo().join("examples/task_manager");
    let target = repo().join("target/example-under-test");
    let status = Command::new("cargo")
        .args(["build", "--release", "--quiet"])
        .current_dir(&example)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(status.success(), "cargo build --release in the example");
    target.join("release/task-manager")
}

/// The service in its own process group, killed with it on drop.
pub struct Service(pub Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

impl Service {
    /// Stop gracefully (SIGTERM to the group, as a deploy would), waiting up to 20 s so the
    /// service finishes what it writes; then whatever is left is killed on drop.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub fn wait_for(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (host, rest) = url.trim_start_matches("http://").split_once('/').unwrap();
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(host) {
            use std::io::{Read, Write};
            let _ = stream.write_all(format!("GET /{rest} HTTP/1.0\r\n\r\n").as_bytes());
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{url} did not answer 200 within a minute");
}

/// `auth.jwt.secret` of the example's `sdd.yaml`.
pub const EXAMPLE_JWT_SECRET: &str = "task-manager-demo-secret";

/// Traffic for the example that varies over time, as a day's does, for the gradual faults:
/// the arrival rate swings linearly between `low_rate` and `high_rate` and back every `period`
/// (an open model through `sdd-load`: requests arrive on schedule whatever the service does);
/// half the requests create a task (`POST /tasks`), the other half list the user's newest
/// (`GET /tasks?limit=20`, and with `status=pending`), each signed as one of `users` users.
///
/// A resource that follows the load swings with it; one that degrades climbs through the
/// swings. Spread over 301 users, 60 requests a second is 12 a minute for each, far from the
/// example's 100; the user count is odd so that every user both creates and lists (a request's
/// user and its kind both come from its number).
#[derive(Debug, Clone)]
pub struct VaryingLoad {
    /// `http://127.0.0.1:PORT`: the service's API.
    pub base_url: String,
    /// The trough and the peak of the arrival rate, requests a second.
    pub low_rate: f64,
    pub high_rate: f64,
    /// One swing, trough to peak and back.
    pub period: Duration,
    pub users: usize,
    /// The HS256 secret the users' tokens are signed with.
    pub secret: String,
}

impl VaryingLoad {
    /// 15 to 60 requests a second and back every minute (37.5 a second on average, about 19
    /// tasks created a second) over 301 users, signed as the example's `sdd.yaml` signs.
    pub fn for_example(base_url: &str) -> VaryingLoad {
        VaryingLoad {
            base_url: base_url.to_string(),
            low_rate: 15.0,
            high_rate: 60.0,
            period: Duration::from_secs(60),
            users: 301,
            secret: EXAMPLE_JWT_SECRET.to_string(),
        }
    }

    /// The arrival rate's ramps for `duration`: up half a period, down half a period, from the
    /// trough; the last ramp cut where the duration ends, at the rate it has reached there.
    pub fn stages(&self, duration: Duration) -> Vec<sdd_load::Stage> {
        let half = self.period.as_secs_f64() / 2.0;
        let mut stages = Vec::new();
        let (mut left, mut rising) = (duration.as_secs_f64(), true);
        while left > 1e-9 {
            let (from, to) = if rising {
                (self.low_rate, self.high_rate)
            } else {
                (self.high_rate, self.low_rate)
            };
            let seconds = left.min(half);
            stages.push(sdd_load::Stage {
                seconds,
                from_rate: from,
                to_rate: from + (to - from) * seconds / half,
            });
            left -= seconds;
            rising = !rising;
        }
        stages
    }

    /// The `sdd-load` plan for `duration`.
    pub fn plan(&self, duration: Duration) -> sdd_load::LoadPlan {
        let json = vec![("Content-Type".to_string(), "application/json".to_string())];
        let endpoints = vec![
            sdd_load::Endpoint {
                method: "POST".into(),
                path: "/tasks".into(),
                headers: json,
                body: Some(r#"{"title": "varying load task {{seq}}"}"#.into()),
                weight: 2,
            },
            sdd_load::Endpoint::get("/tasks?limit=20"),
            sdd_load::Endpoint::get("/tasks?status=pending&limit=20"),
        ];
        let model = sdd_load::Model::Open {
            rate: self.low_rate,
            stages: self.stages(duration),
        };
        let mut plan = sdd_load::LoadPlan::new(&self.base_url, endpoints, model, duration);
        // Valid for the run and an hour after it, so no token expires while a test reads on.
        let expires = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + duration.as_secs()
            + 3600;
        plan.identities = (0..self.users)
            .map(|n| {
                let claims =
                    serde_json::json!({"sub": format!("varying-load-{n}"), "exp": expires});
                let token = sdd_http::auth::sign_hs256(&self.secret, claims.as_object().unwrap());
                vec![("Authorization".to_string(), format!("Bearer {token}"))]
            })
            .collect();
        // One generator thread is plenty for 60 requests a second, and leaves the machine's
        // cores to the service and to `sdd monitor` beside it.
        plan.threads = Some(1);
        plan
    }

    /// Send the traffic for `duration` (blocking), then the load generator's report. Every
    /// request must have been answered (a 4xx or 5xx is the service's business, not the
    /// generator's: the report counts them).
    pub fn run(&self, duration: Duration) -> sdd_load::LoadReport {
        let report = sdd_load::run_blocking(
            &self.plan(duration),
            &sdd_http::AllowedHosts::loopback_only(),
        )
        .expect("the varying load runs");
        assert_eq!(
            report.errors.transport(),
            0,
            "requests went unanswered: {:?}",
            report.first_error
        );
        report
    }

    /// [`VaryingLoad::run`] on a thread of its own, so that a test can watch meanwhile.
    pub fn spawn(self, duration: Duration) -> std::thread::JoinHandle<sdd_load::LoadReport> {
        std::thread::spawn(move || self.run(duration))
    }
}

/// Debian's chromium (or `SDD_CHROMIUM`), headless, with its profile under `profile` and no
/// network of its own.
pub fn chromium(profile: &Path) -> Command {
    let mut command = Command::new(std::env::var("SDD_CHROMIUM").unwrap_or("chromium".into()));
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]);
    command.arg(format!(
        "--user-data-dir={}",
        profile.join("chromium").display()
    ));
    command
}

/// The DOM after the browser parsed and laid out the page.
pub fn render_in_chromium(page: &Path, scratch: &Path) -> String {
    let out = chromium(scratch)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Debian's chromium (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A screenshot of `page` into `png`, 1200 px wide.
pub fn screenshot(page: &Path, scratch: &Path, png: &Path) {
    // `target/` is not there when the build's target directory is elsewhere.
    if let Some(dir) = png.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let out = chromium(scratch)
        .arg("--window-size=1200,3000")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(png).unwrap().len() > 10_000);
}

/// `from` (a file or a directory, recursively) copied to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}
