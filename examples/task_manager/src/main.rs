//! `task-manager`: serve the task API until SIGTERM or Ctrl-C, then finish the requests in
//! flight and exit.
//!
//! Environment: `PORT` (8787), `DATABASE` (data/tasks.sqlite3), `JWT_SECRET` (required),
//! `RATE_LIMIT_PER_MINUTE` (100), `TASK_MANAGER_FAULTS` (none; see `Faults`),
//! `TASK_MANAGER_DROP_AFTER` (200: tasks stored before the `drop_after_writes` fault drops them),
//! `METRICS_PORT` (unset or empty: no metrics listener; else `GET /metrics` on 127.0.0.1 there),
//! `TASK_MANAGER_VERSION` (the version reported; unset: 1.4.1, or 1.4.2 under `bad_deploy`),
//! `EVENTS_LOG` and `OTLP_LOG` (unset or empty: none; else SDD's semantic events appended there,
//! as JSON lines and as OTLP JSON; their directories are created).

use std::net::SocketAddr;
use std::process::ExitCode;

use task_manager::events::EventsConfig;
use task_manager::{App, Config, Faults};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("task-manager: {message}");
            ExitCode::FAILURE
        }
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn run() -> Result<(), String> {
    let port: u16 = env_or("PORT", "8787")
        .parse()
        .map_err(|_| "PORT must be a port number".to_string())?;
    let jwt_secret = std::env::var("JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or("JWT_SECRET must be set")?;
    let rate_limit_per_minute = env_or("RATE_LIMIT_PER_MINUTE", "100")
        .parse()
        .map_err(|_| "RATE_LIMIT_PER_MINUTE must be a number".to_string())?;
    // Metrics on a port of their own, like an admin port: the spec's "Authentication required"
    // constraint lets no API endpoint but the health check answer without a token, and a
    // scraper has none. Loopback only; unset, the service has no metrics listener.
    let metrics_port: Option<u16> = match std::env::var("METRICS_PORT") {
        Ok(port) if !port.is_empty() => Some(
            port.parse()
                .map_err(|_| "METRICS_PORT must be a port number".to_string())?,
        ),
        _ => None,
    };
    let faults = Faults::from_env()?;
    let config = Config {
        database: env_or("DATABASE", "data/tasks.sqlite3").into(),
        jwt_secret,
        rate_limit_per_minute,
        faults: faults.clone(),
        version: std::env::var("TASK_MANAGER_VERSION")
            .ok()
            .filter(|v| !v.is_empty()),
        events: EventsConfig::from_env(),
    };
    let version = config.service_version().to_string();
    let app = App::open(config)?;
    let saved = app.clone();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| format!("cannot listen on {address}: {e}"))?;
        eprintln!("task-manager {version} listening on http://{address} (faults: {faults:?})");
        if let Some(port) = metrics_port {
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| format!("cannot listen on {address} for metrics: {e}"))?;
            eprintln!("task-manager metrics on http://{address}/metrics");
            let router = app.metrics_router();
            // Ends with the runtime, once the API has stopped.
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    eprintln!("task-manager: the metrics listener stopped: {e}");
                }
            });
        }
        axum::serve(listener, app.router())
            .with_graceful_shutdown(stop_requested())
            .await
            .map_err(|e| e.to_string())?;
        saved.save()?;
        if let Some(events) = saved.events() {
            events.shutdown();
        }
        eprintln!("task-manager stopped");
        Ok(())
    })
}

async fn stop_requested() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
