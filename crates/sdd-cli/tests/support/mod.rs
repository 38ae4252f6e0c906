//! What the command line's test files share: the repository, `sdd` run in a directory, and
//! the example's service built and run in its own process group.
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
