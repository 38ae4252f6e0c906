//! The service lifecycle for real: a graceful stop lets the service run its shutdown code; a
//! crash (the restart probe's "node failure") kills it with no chance to.

use std::path::PathBuf;

use sdd_exec::process::Supervisor;
use sdd_exec::service::Service;
use sdd_http::AllowedHosts;
use sdd_spec::project::ServiceConfig;

fn supervisor() -> Supervisor {
    Supervisor {
        program: PathBuf::from(env!("CARGO_BIN_EXE_sdd-supervise")),
        args: vec![],
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A service that writes `shutdown-ran` when it gets SIGTERM, and listens on `port`.
fn config(port: u16) -> ServiceConfig {
    serde_json::from_value(serde_json::json!({
        "command": format!(
            "trap 'echo yes > shutdown-ran; exit 0' TERM; python3 -m http.server {port} --bind 127.0.0.1 & wait"
        ),
        "base_url": format!("http://127.0.0.1:{port}"),
        "ready": {"tcp": port, "timeout_seconds": 30},
        "stop": {"signal": "TERM", "grace_seconds": 5},
    }))
    .unwrap()
}

#[tokio::test]
async fn a_stop_runs_the_shutdown_code_and_a_crash_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("shutdown-ran");
    let allowed = AllowedHosts::new(Vec::<String>::new());
    let supervisor = supervisor();

    let port = free_port();
    let service = Service::start(dir.path(), &config(port), &allowed, &supervisor)
        .await
        .expect("starts");
    let report = service.stop().await;
    assert!(report.graceful, "{report:?}");
    assert!(marker.exists(), "a graceful stop runs the TERM trap");
    std::fs::remove_file(&marker).unwrap();

    let port = free_port();
    let service = Service::start(dir.path(), &config(port), &allowed, &supervisor)
        .await
        .expect("starts again");
    let report = service.crash().await;
    assert!(!report.graceful, "{report:?}");
    assert_eq!(report.stop_signal, "KILL");
    assert!(
        !marker.exists(),
        "a crash gives the service no chance to run its shutdown code"
    );
    // Nothing is left listening.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// Start `command` as a service that should answer on `/health`, which it never does: the
/// failed start's message.
async fn failed_start(command: &str) -> (String, u16) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config: ServiceConfig = serde_json::from_value(serde_json::json!({
        "command": command,
        "base_url": format!("http://127.0.0.1:{port}"),
        "ready": {"http": "/health", "timeout_seconds": 30},
    }))
    .unwrap();
    let allowed = AllowedHosts::new(Vec::<String>::new());
    let Err(error) = Service::start(dir.path(), &config, &allowed, &supervisor()).await else {
        panic!("`{command}` never answers, so it cannot start");
    };
    (error.to_string(), port)
}

/// A service that exits before it is ready is reported in words, with what it printed last
/// (the message once read "exited with Code { code: 1 }", and `sdd verify` showed only that).
#[tokio::test]
async fn a_service_that_exits_before_it_is_ready_says_how_and_shows_its_output() {
    let (message, port) =
        failed_start("echo starting on the port; echo 'fatal: database is locked' >&2; exit 1")
            .await;
    assert!(
        message.starts_with("the service exited with status 1 after ")
            && message.contains(&format!(
                "s, before it answered on http://127.0.0.1:{port}/health; its last output:\n"
            )),
        "{message}"
    );
    assert!(message.contains("[out] starting on the port"), "{message}");
    assert!(
        message.contains("[err] fatal: database is locked"),
        "{message}"
    );
    assert!(!message.contains("Code {"), "{message}");

    let (message, _) = failed_start("echo about to be killed; kill -9 $$").await;
    assert!(
        message.starts_with("the service was killed by signal 9 (SIGKILL) after "),
        "{message}"
    );
    assert!(message.contains("[out] about to be killed"), "{message}");

    // Long output is cut to its end: the last lines, a few thousand characters at most.
    let (message, _) = failed_start(
        "i=0; while [ $i -lt 100 ]; do i=$((i+1)); printf 'line %s %01500d\\n' $i 0; done; exit 3",
    )
    .await;
    assert!(
        message.starts_with("the service exited with status 3 "),
        "{}",
        &message[..200]
    );
    assert!(
        message.contains("[out] line 100 000"),
        "{}",
        &message[..200]
    );
    assert!(!message.contains("[out] line 97 "), "{}", &message[..200]);
    assert!(message.len() < 5000, "{} bytes", message.len());
}
