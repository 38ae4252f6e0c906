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
