//! One test per scenario of `specs/`, named `sdd_<scenario ID>` so SDD maps results to the
//! spec. They drive the real router (auth, rate limit, SQLite) in-process; planted faults from
//! `TASK_MANAGER_FAULTS` apply here too.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use task_manager::events::EventsConfig;
use task_manager::{jwt, unix_now, App, Config, Faults};
use tower::ServiceExt;

const SECRET: &str = "test-secret";

struct Service {
    router: Router,
    token: String,
    _dir: TempDir,
}

/// A directory removed when the test ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn service() -> Service {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "task-manager-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let config = Config {
        database: dir.join("tasks.sqlite3"),
        jwt_secret: SECRET.into(),
        rate_limit_per_minute: 100,
        faults: Faults::from_env().expect("TASK_MANAGER_FAULTS"),
        version: None,
        events: EventsConfig::default(),
    };
    Service {
        router: App::open(config).expect("open").router(),
        token: jwt::sign_hs256(SECRET, "ada", unix_now() + 600),
        _dir: TempDir(dir),
    }
}

impl Service {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn create(&self, title: &str) -> Value {
        let (status, task) = self
            .call("POST", "/tasks", Some(json!({ "title": title })))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        task
    }
}

#[tokio::test]
async fn sdd_task_management_system_create_a_simple_task() {
    let s = service();
    let task = s.create("Buy groceries").await;
    assert_eq!(task["title"], "Buy groceries");
    assert_eq!(task["status"], "pending");
    assert!(task["created_at"].is_string());
    let other = s.create("Buy groceries").await;
    assert_ne!(task["id"], other["id"], "IDs must be unique");
    let (status, read) = s.call("GET", &format!("/tasks/{}", task["id"]), None).await;
    assert_eq!((status, read), (StatusCode::OK, task));
}

#[tokio::test]
async fn sdd_task_management_system_complete_a_task() {
    let s = service();
    let task = s.create("Buy groceries").await;
    let (status, done) = s
        .call("POST", &format!("/tasks/{}/complete", task["id"]), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "completed");
    let completed_at = done["completed_at"].as_str().expect("completed_at");
    assert!(completed_at > task["created_at"].as_str().unwrap());
}

#[tokio::test]
async fn sdd_task_management_system_cannot_complete_already_completed_task() {
    let s = service();
    let task = s.create("Buy groceries").await;
    let path = format!("/tasks/{}/complete", task["id"]);
    let (_, first) = s.call("POST", &path, None).await;
    let (status, again) = s.call("POST", &path, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["error"], "Task is already completed");
    let (_, read) = s.call("GET", &format!("/tasks/{}", task["id"]), None).await;
    assert_eq!(read["status"], "completed");
    assert_eq!(read["completed_at"], first["completed_at"]);
}

#[tokio::test]
async fn sdd_task_management_system_list_tasks_filtered_by_status() {
    let s = service();
    s.create("Task 1").await;
    let two = s.create("Task 2").await;
    s.call("POST", &format!("/tasks/{}/complete", two["id"]), None)
        .await;
    s.create("Task 3").await;
    let (status, listed) = s.call("GET", "/tasks?status=pending", None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let mut titles: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(titles, ["Task 1", "Task 3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sdd_task_management_system_handle_concurrent_task_completion() {
    let s = service();
    let task = s.create("Contended").await;
    let path = format!("/tasks/{}/complete", task["id"]);
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let router = s.router.clone();
            let request = Request::builder()
                .method("POST")
                .uri(&path)
                .header("authorization", format!("Bearer {}", s.token))
                .body(Body::empty())
                .unwrap();
            tokio::spawn(async move { router.oneshot(request).await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    let succeeded = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(
        succeeded, 1,
        "exactly one completion succeeds: {statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT));
    let (_, read) = s.call("GET", &format!("/tasks/{}", task["id"]), None).await;
    assert!(read["completed_at"].is_string());
}

#[tokio::test]
async fn sdd_task_management_system_prevent_sql_injection_in_task_title() {
    let s = service();
    let title = "'; DROP TABLE tasks; --";
    let task = s.create(title).await;
    assert_eq!(task["title"], title);
    let (status, read) = s.call("GET", &format!("/tasks/{}", task["id"]), None).await;
    assert_eq!((status, &read["title"]), (StatusCode::OK, &json!(title)));
    s.create("still working").await;
}

#[tokio::test]
async fn sdd_task_management_system_handle_extremely_long_task_titles() {
    let s = service();
    let (status, body) = s
        .call(
            "POST",
            "/tasks",
            Some(json!({ "title": "x".repeat(10_000) })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "Title too long (max 255)");
    let (_, listed) = s.call("GET", "/tasks", None).await;
    assert_eq!(listed, json!([]), "no task is created");
    // The limit counts characters, not bytes.
    s.create(&"é".repeat(255)).await;
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused_but_health_is_open() {
    let s = service();
    let expired = jwt::sign_hs256(SECRET, "ada", unix_now() - 1);
    for token in ["", "not.a.token", expired.as_str()] {
        let request = Request::builder()
            .uri("/tasks/1")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let status = s.router.clone().oneshot(request).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "token {token:?}");
    }
    let health = Request::builder()
        .uri("/health")
        .body(Body::empty())
        .unwrap();
    let status = s.router.clone().oneshot(health).await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_101st_request_in_a_minute_is_refused() {
    let s = service();
    for _ in 0..100 {
        assert_eq!(
            s.call("GET", "/tasks/1", None).await.0,
            StatusCode::NOT_FOUND
        );
    }
    let (status, body) = s.call("GET", "/tasks/1", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn another_user_can_neither_see_nor_complete_my_tasks() {
    let s = service();
    let mine = s.create("mine").await;
    let other = Service {
        token: jwt::sign_hs256(SECRET, "grace", unix_now() + 600),
        router: s.router.clone(),
        _dir: TempDir(std::env::temp_dir().join("task-manager-test-unused")),
    };
    let id = mine["id"].as_i64().unwrap();
    let (status, _) = other.call("GET", &format!("/tasks/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = other
        .call("POST", &format!("/tasks/{id}/complete"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = other.call("GET", "/tasks", None).await;
    assert_eq!(listed, json!([]));
    // Still mine, still pending.
    let (status, task) = s.call("GET", &format!("/tasks/{id}"), None).await;
    assert_eq!(
        (status, task["status"].clone()),
        (StatusCode::OK, json!("pending"))
    );
}
