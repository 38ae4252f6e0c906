//! `sdd-stall-server [--port P] [--delay-ms D] [--stall-ms S --every-ms E] [--threads T]`: the
//! service with a fixed delay and periodic stalls of `sdd_load::stall_server`, for benchmarks. Prints `listening on ADDR` when ready.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use sdd_load::stall_server::{serve, StallServerConfig};

fn main() -> std::process::ExitCode {
    let mut port = 0u16;
    let mut config = StallServerConfig {
        delay: Duration::ZERO,
        stall: Duration::ZERO,
        stall_every: Duration::ZERO,
    };
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<u64>().ok());
        match arg.as_str() {
            "--port" => port = value().unwrap_or(0) as u16,
            "--delay-ms" => config.delay = Duration::from_millis(value().unwrap_or(0)),
            "--stall-ms" => config.stall = Duration::from_millis(value().unwrap_or(0)),
            "--every-ms" => config.stall_every = Duration::from_millis(value().unwrap_or(0)),
            "--threads" => threads = value().unwrap_or(1).max(1) as usize,
            _ => {
                eprintln!("usage: sdd-stall-server [--port P] [--delay-ms D] [--stall-ms S --every-ms E] [--threads T]");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on port {port}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        if let Ok(address) = listener.local_addr() {
            println!("listening on {address}");
        }
        serve(listener, config).await;
        std::process::ExitCode::SUCCESS
    })
}
