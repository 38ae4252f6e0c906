//! The generator against the in-process target service: request counts, warm-up, count bounds,
//! the request mix, error classes, refused hosts, and coordinated-omission-correct latency on a
//! stalling target. Latency is only ever bounded from below (noise can only add to it).

use std::time::Duration;

use sdd_http::AllowedHosts;
use sdd_load::stall_server::{serve, StallServerConfig};
use sdd_load::{run, Endpoint, LoadError, LoadPlan, Model};

async fn target(config: StallServerConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, config));
    format!("http://{address}")
}

fn quick() -> StallServerConfig {
    StallServerConfig {
        delay: Duration::ZERO,
        stall: Duration::ZERO,
        stall_every: Duration::ZERO,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_sends_the_schedule_and_skips_the_warmup() {
    let url = target(quick()).await;
    let mut plan = LoadPlan::new(
        &url,
        vec![Endpoint::get("/")],
        Model::Open {
            rate: 200.0,
            stages: vec![],
        },
        Duration::from_secs(1),
    );
    plan.warmup = Duration::from_millis(500);
    plan.extra_percentiles = vec![75.0];
    let report = run(plan, AllowedHosts::loopback_only()).await.unwrap();
    assert_eq!(report.extra_percentiles.len(), 1);
    assert_eq!(report.latency_at(75.0), report.extra_percentiles[0].1);
    assert!(report.latency_at(75.0) <= report.latency_ms.p90);
    assert_eq!(report.warmup_requests, 100, "{report:#?}");
    assert_eq!(report.requests, 200, "{report:#?}");
    assert_eq!(report.ok, 200);
    assert_eq!(report.target_rate, Some(200.0));
    assert_eq!(report.status_counts.get("200"), Some(&200));
    assert_eq!(report.errors.transport(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_in_the_open_models_tail() {
    // 10 ms answers, stalled 300 ms out of every second: a user arriving during a stall waits
    // up to 300 ms, so the true p99 is above 250 ms.
    let url = target(StallServerConfig {
        delay: Duration::from_millis(10),
        stall: Duration::from_millis(300),
        stall_every: Duration::from_millis(1000),
    })
    .await;
    let plan = LoadPlan::new(
        &url,
        vec![Endpoint::get("/")],
        Model::Open {
            rate: 200.0,
            stages: vec![],
        },
        Duration::from_secs(2),
    );
    let report = run(plan, AllowedHosts::loopback_only()).await.unwrap();
    assert_eq!(report.requests, 400);
    assert!(report.latency_ms.p99 >= 250.0, "{:?}", report.latency_ms);
    assert!(report.latency_ms.p50 >= 10.0, "{:?}", report.latency_ms);
    assert!(
        report.generator.queued_requests > 0,
        "the stall must have queued requests"
    );
}

/// The p90 (ms) of a simulated run against `config`: arrivals every `gap` from time zero,
/// `connections` connections each taking the next arrival when free. `from_send` measures from
/// when a request was actually sent (the coordinated-omission mistake), otherwise from when it
/// was due.
fn simulated_p90(
    config: &StallServerConfig,
    gap: Duration,
    requests: usize,
    connections: usize,
    from_send: bool,
) -> f64 {
    let mut free = vec![Duration::ZERO; connections];
    let mut latencies: Vec<f64> = (0..requests)
        .map(|n| {
            let due = gap * n as u32;
            let (slot, at) = free
                .iter()
                .enumerate()
                .min_by_key(|(_, t)| **t)
                .map(|(i, t)| (i, *t))
                .unwrap();
            let sent = due.max(at);
            let answered = config.ready_at(sent);
            free[slot] = answered;
            (answered - if from_send { sent } else { due }).as_secs_f64() * 1000.0
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    latencies[requests * 9 / 10]
}

/// With few connections and a stall longer than the gap between requests, requests wait for a
/// connection, not at the service: a generator measuring from send time sees only the few
/// requests caught inside the stall, and its p90 stays near the service's 10 ms. Measured from
/// the intended send time, every user who arrived during the stall waits. The simulation shows
/// the threshold separates the two; the real run must land on the correct side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn few_connections_do_not_hide_a_stall() {
    let config = StallServerConfig {
        delay: Duration::from_millis(10),
        stall: Duration::from_millis(300),
        stall_every: Duration::from_millis(1000),
    };
    let gap = Duration::from_millis(5);
    let correct = simulated_p90(&config, gap, 400, 4, false);
    let from_send = simulated_p90(&config, gap, 400, 4, true);
    assert!(
        correct >= 100.0 && from_send < 50.0,
        "the threshold must tell them apart: correct {correct} ms, from send time {from_send} ms"
    );
    let url = target(config).await;
    let mut plan = LoadPlan::new(
        &url,
        vec![Endpoint::get("/")],
        Model::Open {
            rate: 200.0,
            stages: vec![],
        },
        Duration::from_secs(2),
    );
    plan.connections = Some(4);
    let report = run(plan, AllowedHosts::loopback_only()).await.unwrap();
    assert_eq!(report.requests, 400);
    // Noise only adds latency, so only a lower bound is asserted.
    assert!(
        report.latency_ms.p90 >= 100.0,
        "p90 {} ms: measured from send time? (a correct generator: about {correct} ms; from send time: about {from_send} ms) {:?}",
        report.latency_ms.p90,
        report.latency_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_counts_mix_and_statuses() {
    let url = target(quick()).await;
    let mut ok = Endpoint::get("/status/200");
    ok.weight = 3;
    let mut plan = LoadPlan::new(
        &url,
        vec![ok, Endpoint::get("/status/404")],
        Model::Closed { connections: 4 },
        Duration::from_secs(30),
    );
    plan.max_requests = Some(400);
    let report = run(plan, AllowedHosts::loopback_only()).await.unwrap();
    assert_eq!(report.requests, 400, "{report:#?}");
    let not_found = report.errors.status_4xx;
    assert!(
        (90..=110).contains(&not_found),
        "{not_found} of 400 were 404"
    );
    assert_eq!(report.ok + not_found, 400);
    assert!(report.generator.cpu_seconds > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_take_turns_and_replace_the_plans_headers() {
    let url = target(quick()).await;
    let mut plan = LoadPlan::new(
        &url,
        vec![Endpoint::get("/")],
        Model::Closed { connections: 4 },
        Duration::from_secs(30),
    );
    plan.max_requests = Some(400);
    // The target answers with the status the X-Status header names.
    plan.headers = vec![("X-Status".into(), "500".into())];
    plan.identities = vec![
        vec![("x-status".into(), "200".into())],
        vec![("x-status".into(), "404".into())],
    ];
    let report = run(plan, AllowedHosts::loopback_only()).await.unwrap();
    assert_eq!(report.errors.status_5xx, 0, "{report:#?}");
    let not_found = report.errors.status_4xx;
    assert!((180..=220).contains(&not_found), "{report:#?}");
    assert_eq!(report.ok + not_found, report.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_connections_and_server_errors() {
    let url = target(quick()).await;
    let mut plan = LoadPlan::new(
        &url,
        vec![Endpoint::get("/status/503")],
        Model::Closed { connections: 2 },
        Duration::from_secs(30),
    );
    plan.max_requests = Some(50);
    plan.reuse_connections = false;
    let report = run(plan, AllowedHosts::loopback_only()).await.unwrap();
    assert_eq!(report.errors.status_5xx, 50, "{report:#?}");
    assert!((report.error_rate() - 1.0).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_connect_errors() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut plan = LoadPlan::new(
        &format!("http://127.0.0.1:{port}"),
        vec![Endpoint::get("/")],
        Model::Closed { connections: 2 },
        Duration::from_millis(300),
    );
    plan.timeout = Duration::from_secs(1);
    let report = run(plan, AllowedHosts::loopback_only()).await.unwrap();
    assert!(report.errors.connect > 0, "{report:#?}");
    assert_eq!(report.ok, 0);
    assert!(report.first_error.unwrap().starts_with("connect"));
}

#[tokio::test]
async fn only_allowed_hosts_and_sane_plans() {
    let plan = LoadPlan::new(
        "http://10.1.2.3:80",
        vec![Endpoint::get("/")],
        Model::Closed { connections: 1 },
        Duration::from_secs(1),
    );
    let err = run(plan.clone(), AllowedHosts::loopback_only())
        .await
        .unwrap_err();
    assert!(matches!(err, LoadError::HostNotAllowed(_)), "{err}");
    let mut https = plan.clone();
    https.base_url = "https://127.0.0.1".into();
    assert!(matches!(
        run(https, AllowedHosts::loopback_only()).await,
        Err(LoadError::BadUrl(_))
    ));
    let mut empty = plan;
    empty.base_url = "http://127.0.0.1:9".into();
    empty.endpoints.clear();
    assert!(matches!(
        run(empty, AllowedHosts::loopback_only()).await,
        Err(LoadError::NoEndpoints)
    ));
}

/// A service that counts the requests it answers (each `GET` head ends in a blank line).
async fn counting_target(count: std::sync::Arc<std::sync::atomic::AtomicU64>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buffer = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    pending.extend_from_slice(&buffer[..n]);
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n";
                        if socket.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

/// Dropping a run (a cancelled `verify_constraints`) stops its load: after a second's grace
/// the service sees no more requests, where a 30-second plan once ran to its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_run_stops_its_load() {
    use std::sync::atomic::Ordering;
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let url = counting_target(count.clone()).await;
    let plan = LoadPlan::new(
        &url,
        vec![Endpoint::get("/")],
        Model::Open {
            rate: 200.0,
            stages: vec![],
        },
        Duration::from_secs(30),
    );
    let running = tokio::spawn(run(plan, AllowedHosts::loopback_only()));
    while count.load(Ordering::SeqCst) < 20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.abort();
    let _ = running.await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopped_at = count.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        count.load(Ordering::SeqCst),
        stopped_at,
        "requests kept coming after the run was dropped"
    );
}

/// With `sample_created`, the writes' 2xx answers yield a capped sample of their IDs, each
/// naming its endpoint, request and user; reads are never sampled, and without the option
/// nothing is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_yield_a_sample_of_what_they_created() {
    let url = target(quick()).await;
    let mut plan = LoadPlan::new(
        &url,
        vec![
            Endpoint {
                method: "post".into(),
                body: Some(r#"{"n": {{seq}}}"#.into()),
                ..Endpoint::get("/created")
            },
            Endpoint::get("/"),
            // A write that is refused: not sampled.
            Endpoint {
                method: "POST".into(),
                ..Endpoint::get("/status/409")
            },
        ],
        Model::Closed { connections: 4 },
        Duration::from_secs(30),
    );
    plan.max_requests = Some(300);
    plan.identities = vec![Vec::new(), Vec::new(), Vec::new()];
    let unsampled = run(plan.clone(), AllowedHosts::loopback_only())
        .await
        .unwrap();
    assert!(unsampled.created.is_none());

    plan.sample_created = Some(sdd_load::SampleSpec {
        field: "id".into(),
        cap: 20,
    });
    let report = run(plan, AllowedHosts::loopback_only()).await.unwrap();
    let created = report.created.expect("samples were asked for");
    assert_eq!(created.field, "id");
    // Every third request is a write to /created (a few more may be sent than measured).
    assert!((100..=104).contains(&created.writes), "{created:#?}");
    assert_eq!(created.without_field, 0);
    assert_eq!(created.samples.len(), 20);
    let mut ids = std::collections::BTreeSet::new();
    for s in &created.samples {
        assert_eq!(s.endpoint, "POST /created");
        assert_eq!(s.seq % 3, 0, "{s:?}");
        assert_eq!(s.user, Some((s.seq % 3) as usize));
        let id: u64 = s.value.parse().expect("a numeric id");
        // IDs 1-100 of the unsampled run came first.
        assert!(id > 100, "{s:?}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 20, "each sample is a different resource");
}

/// `sdd-load --plan FILE` runs a whole plan as JSON (what `export_load_test`'s `plan_out`
/// writes beside the k6 script), and a file that is not a plan is refused with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_runs_a_plan_file() {
    let url = target(quick()).await;
    let mut plan = LoadPlan::new(
        &url,
        vec![Endpoint::get("/a"), Endpoint::get("/b")],
        Model::Open {
            rate: 100.0,
            stages: vec![],
        },
        Duration::from_secs(1),
    );
    plan.warmup = Duration::from_millis(200);
    plan.identities = vec![vec![("Authorization".into(), "Bearer x".into())]];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    std::fs::write(&file, serde_json::to_string(&plan).unwrap()).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sdd-load"))
        .arg("--plan")
        .arg(&file)
        .arg("--json")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["requests"], 100, "{report:#}");
    assert_eq!(report["warmup_requests"], 20, "{report:#}");

    std::fs::write(&file, "{}").unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sdd-load"))
        .arg("--plan")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing field"));
}
