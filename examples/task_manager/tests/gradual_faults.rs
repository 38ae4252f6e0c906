//! The planted gradual faults: nothing fails and each request is answered as it should be, but
//! something degrades as requests, tasks or minutes accumulate. `memory_leak` keeps memory for
//! every request; `missing_index` makes every list read the whole table; `cache_decay` shrinks
//! the verified-token cache as time passes. Each is shown against the healthy service, which
//! holds steady under the same traffic.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::Value;
use task_manager::events::EventsConfig;
use task_manager::token_cache::{MAX_LOST_SHARDS, SECONDS_PER_LOST_SHARD};
use task_manager::{jwt, unix_now, App, Config, Faults, LEAK_PER_REQUEST};
use tower::ServiceExt;

const SECRET: &str = "test-secret";

struct Service {
    app: App,
    api: Router,
    metrics: Router,
    database: std::path::PathBuf,
    _dir: TempDir,
}

/// A directory removed when the test ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The service with `faults`, and a rate limit no test here meets (it is not what they test).
fn service(faults: &str) -> Service {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "task-manager-gradual-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let database = dir.join("tasks.sqlite3");
    let app = App::open(Config {
        database: database.clone(),
        jwt_secret: SECRET.into(),
        rate_limit_per_minute: 1_000_000,
        faults: Faults::parse(faults).unwrap(),
        version: None,
        events: EventsConfig::default(),
    })
    .expect("open");
    Service {
        metrics: app.metrics_router(),
        api: app.clone().router(),
        app,
        database,
        _dir: TempDir(dir),
    }
}

fn token(user: &str) -> String {
    jwt::sign_hs256(SECRET, user, unix_now() + 600)
}

impl Service {
    /// `GET path` with `token`: the status and JSON body.
    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let request = Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = self.api.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 24).await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn create(&self, token: &str, title: &str) {
        let request = Request::post("/tasks")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::json!({ "title": title }).to_string(),
            ))
            .unwrap();
        let response = self.api.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    /// A gauge (or any sample without labels) of the Prometheus text exposition.
    async fn gauge(&self, name: &str) -> Option<f64> {
        let request = Request::get("/metrics").body(Body::empty()).unwrap();
        let response = self.metrics.clone().oneshot(request).await.unwrap();
        let bytes = to_bytes(response.into_body(), 1 << 24).await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let prefix = format!("{name} ");
        let line = text.lines().find(|l| l.starts_with(&prefix))?;
        Some(line[prefix.len()..].parse().unwrap())
    }

    /// Tasks of `users` users, `per_user` each, written straight into the file (the table's
    /// size is what the test is about, not how the rows got there).
    fn fill_table(&self, users: usize, per_user: usize) {
        let mut file = rusqlite::Connection::open(&self.database).unwrap();
        let insert = file.transaction().unwrap();
        for n in 0..users * per_user {
            insert
                .execute(
                    "INSERT INTO tasks (title, status, created_at, owner)
                     VALUES (?1, 'pending', '2026-12-01T00:00:00.000000Z', ?2)",
                    rusqlite::params![format!("filler {n}"), format!("filler-{}", n % users)],
                )
                .unwrap();
        }
        insert.commit().unwrap();
    }
}

#[tokio::test]
async fn memory_leak_keeps_memory_for_every_request_served_and_the_healthy_service_none() {
    let healthy = service("");
    let leaking = service("memory_leak");
    let ada = token("ada");
    for s in [&healthy, &leaking] {
        s.create(&ada, "Buy groceries").await;
    }
    let rss_before = leaking
        .gauge("process_resident_memory_bytes")
        .await
        .unwrap();
    // Every request counts: reads, writes, refusals.
    for n in 0..2_000 {
        for s in [&healthy, &leaking] {
            match n % 4 {
                0 => s.create(&ada, "Buy groceries").await,
                1 => assert_eq!(s.get("/tasks?limit=20", &ada).await.0, StatusCode::OK),
                2 => assert_eq!(s.get("/tasks/1", &ada).await.0, StatusCode::OK),
                _ => {
                    let (status, _) = s.get("/tasks", "not-a-token").await;
                    assert_eq!(status, StatusCode::UNAUTHORIZED);
                }
            }
        }
        if n == 999 {
            // By requests served, not by time or rate: half the requests, half the memory.
            assert_eq!(leaking.app.leaked_bytes(), 1_001 * LEAK_PER_REQUEST);
        }
    }
    assert_eq!(healthy.app.leaked_bytes(), 0);
    let leaked = leaking.app.leaked_bytes();
    assert_eq!(leaked, 2_001 * LEAK_PER_REQUEST);
    // The buffers are written, so the process's resident memory (as a scrape reads it) holds
    // them; other tests in this process only add to it.
    let rss_after = leaking
        .gauge("process_resident_memory_bytes")
        .await
        .unwrap();
    let grown = rss_after - rss_before;
    assert!(
        grown >= 0.8 * leaked as f64,
        "resident memory grew {grown} bytes for {leaked} leaked"
    );
}

#[tokio::test]
async fn missing_index_makes_every_list_scan_the_whole_table_and_the_indexes_spare_it() {
    for (faults, scans) in [("", false), ("missing_index", true)] {
        let s = service(faults);
        let ada = token("ada");
        for n in 0..25 {
            s.create(&ada, &format!("task {n}")).await;
        }
        let mut scanned_per_list = Vec::new();
        for (users, per_user) in [(100, 10), (1_000, 9)] {
            // Tables of 1,025 then 10,025 tasks, ada's 25 among them.
            s.fill_table(users, per_user);
            for path in ["/tasks?limit=20", "/tasks?status=pending&limit=20"] {
                let before = s.app.list_rows_scanned();
                let (status, tasks) = s.get(path, &ada).await;
                assert_eq!(status, StatusCode::OK, "{faults}");
                // The same answer either way: ada's 20 newest.
                let titles: Vec<&str> = tasks
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["title"].as_str().unwrap())
                    .collect();
                let newest: Vec<String> = (5..25).rev().map(|n| format!("task {n}")).collect();
                assert_eq!(titles, newest, "{faults} {path}");
                scanned_per_list.push(s.app.list_rows_scanned() - before);
            }
        }
        if scans {
            // SQLite steps through every row (it counts the steps from one to the next: one
            // fewer than the rows): the work follows the table, not the answer.
            assert_eq!(scanned_per_list, [1_024, 1_024, 10_024, 10_024], "{faults}");
        } else {
            assert_eq!(scanned_per_list, [0, 0, 0, 0], "{faults}");
        }
    }
}

#[tokio::test]
async fn cache_decay_lowers_the_hit_ratio_steadily_and_the_healthy_ratio_holds() {
    let tokens: Vec<String> = (0..250).map(|n| token(&format!("user-{n}"))).collect();
    for (faults, decays) in [("", false), ("cache_decay", true)] {
        let s = service(faults);
        assert_eq!(s.gauge("task_manager_cache_hit_ratio").await, None);
        // Each user's first request verifies the token; the cache keeps it.
        for token in &tokens {
            assert_eq!(s.get("/tasks?limit=1", token).await.0, StatusCode::OK);
        }
        let mut ratios = Vec::new();
        for _step in 0..6 {
            // 1,000 lookups, the window the ratio is over, then 45 s more of the fault's clock
            // (6 shards of 64 lost a step).
            for token in tokens.iter().cycle().take(1_000) {
                let (status, _) = s.get("/tasks?limit=1", token).await;
                assert_eq!(status, StatusCode::OK, "{faults}: a miss is only slower");
            }
            ratios.push(s.gauge("task_manager_cache_hit_ratio").await.unwrap());
            s.app.token_cache().pretend_elapsed(Duration::from_secs(45));
        }
        if decays {
            assert!(ratios[0] > 0.95, "{ratios:?}");
            assert!(ratios.windows(2).all(|w| w[1] < w[0]), "{ratios:?}");
            // 225 s: 30 of 64 shards lost, so about half the tokens miss.
            let lost = (225.0 / SECONDS_PER_LOST_SHARD) as usize;
            assert!(lost < MAX_LOST_SHARDS);
            assert!((0.4..0.65).contains(&ratios[5]), "{ratios:?}");
        } else {
            assert!(ratios.iter().all(|r| *r == 1.0), "{ratios:?}");
        }
    }
}

#[tokio::test]
async fn a_cached_token_is_still_refused_once_it_expires() {
    let s = service("");
    let short_lived = jwt::sign_hs256(SECRET, "ada", unix_now() + 2);
    assert_eq!(s.get("/tasks", &short_lived).await.0, StatusCode::OK);
    assert_eq!(s.get("/tasks", &short_lived).await.0, StatusCode::OK);
    assert_eq!(s.app.token_cache().stats().hits, 1);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (status, body) = s.get("/tasks", &short_lived).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "Unauthorized: token expired");
}
