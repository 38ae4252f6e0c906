//! The degradation hunter through the protocol, on 90 days of synthetic series a minute apart
//! (daily and weekly cycles, autocorrelated noise, spikes) imported into the embedded store:
//! each planted fault is named as what it is, growth that follows the load and pure cycles
//! are not, and the answer stays small.

use std::path::{Path, PathBuf};

use sdd_mcp::test_client::{call, error_text, structured, Client};
use sdd_monitoring::degradation::synthetic::{
    load, openmetrics, series, NamedSeries, Planted, Shape, START_MS,
};

/// A family's name, its labels and its points.
type Generated = (String, String, Vec<(i64, f64)>);
use serde_json::{json, Value};

const SERVER: &str = env!("CARGO_BIN_EXE_sdd-monitoring");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The task manager's specs, the e-commerce example's `degradation_detection` (the seed's
/// patterns), and a memory limit.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    let example = repo().join("examples/task_manager/specs");
    for entry in std::fs::read_dir(&example).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, specs.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        repo().join("examples/ecommerce_platform/specs/operations/degradation_detection.yaml"),
        specs.join("degradation_detection.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sdd.yaml"),
        "monitoring:\n  scrape: {interval_seconds: 60}\n  degradation:\n    limits:\n      - {series: 'app_memory_bytes{service=\"orders\"}', max: 1500, description: \"orders runs out of memory\"}\n",
    )
    .unwrap();
    dir
}

/// Each planted kind as a gauge family, over one load that grows 1 % a day; the load as the
/// request counter.
fn data(shape: &Shape) -> String {
    let load = load(shape, 0.01);
    let kinds: [(&str, &str, Planted); 7] = [
        (
            "app_memory_bytes",
            "{service=\"orders\"}",
            Planted::Leak {
                percent_per_day: 1.0,
            },
        ),
        (
            "app_memory_bytes",
            "{service=\"search\"}",
            Planted::FollowsLoad,
        ),
        (
            "cache_hit_ratio",
            "",
            Planted::Decline {
                points_per_day: 0.2,
            },
        ),
        (
            "query_duration_seconds",
            "",
            Planted::Creep {
                percent_per_week: 2.0,
            },
        ),
        (
            "queue_wait_seconds",
            "",
            Planted::Step {
                at_day: 60.0,
                percent: 25.0,
            },
        ),
        ("worker_busy_ratio", "", Planted::Seasonal),
        ("open_connections", "", Planted::Healthy),
    ];
    let generated: Vec<Generated> = kinds
        .iter()
        .map(|(name, labels, planted)| {
            (
                name.to_string(),
                labels.to_string(),
                series(shape, *planted, &load),
            )
        })
        .collect();
    let named: Vec<NamedSeries> = generated
        .iter()
        .map(|(n, l, p)| (n.as_str(), l.as_str(), p.as_slice()))
        .collect();
    let mut text = openmetrics(&named);
    text.truncate(text.len() - "# EOF\n".len());
    text.push_str("# TYPE http_request_duration_seconds histogram\n");
    let mut total = 0.0;
    for &(t, rate) in &load {
        total += rate * 60.0;
        text.push_str(&format!(
            "http_request_duration_seconds_count {total} {}.{:03}\n",
            t / 1000,
            t % 1000
        ));
    }
    text.push_str("# EOF\n");
    text
}

fn import(root: &Path, text: &str) {
    let file = root.join("data.om");
    std::fs::write(&file, text).unwrap();
    let mut store = sdd_metrics::store::MetricStore::open(root).unwrap();
    let report = sdd_metrics::import::import_file(&mut store, &file).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems.kept());
    std::fs::remove_file(file).unwrap();
}

fn at(shape: &Shape) -> String {
    let end = START_MS + (shape.days * 86_400_000.0) as i64;
    chrono::DateTime::from_timestamp_millis(end)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn start(project: &Path) -> Client {
    sdd_mcp::test_client::start(SERVER, &["--project".as_ref(), project.as_os_str()]).await
}

fn verdicts(answer: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in answer["findings"].as_array().unwrap() {
        out.push((
            f["series"].as_str().unwrap().to_string(),
            f["pattern"].as_str().unwrap_or("").to_string(),
        ));
    }
    out.sort();
    out
}

#[tokio::test]
async fn ninety_days_a_minute_apart_planted_faults_are_named_and_healthy_series_are_not() {
    let shape = Shape::ninety_days(42);
    let dir = project();
    import(dir.path(), &data(&shape));
    let client = start(dir.path()).await;
    let answer = structured(
        &call(
            &client,
            "detect_degradation",
            json!({"window": "90d", "at": at(&shape)}),
        )
        .await,
    );
    let found = verdicts(&answer);
    assert_eq!(
        found,
        [
            (
                "app_memory_bytes{service=\"orders\"}".to_string(),
                "rising".to_string()
            ),
            ("cache_hit_ratio".into(), "declining".into()),
            ("query_duration_seconds".into(), "rising".into()),
            ("queue_wait_seconds".into(), "step".into()),
        ],
        "{}",
        serde_json::to_string_pretty(&answer["findings"]).unwrap()
    );
    assert!(
        answer["headline"]
            .as_str()
            .unwrap()
            .starts_with("DEGRADING — 4 of "),
        "{}",
        answer["headline"]
    );
    // The search service's memory grows with its load: said, not raised.
    let follows: Vec<&str> = answer["follows_driver"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["series"].as_str().unwrap())
        .collect();
    assert_eq!(
        follows,
        ["app_memory_bytes{service=\"search\"}"],
        "{answer:#}"
    );
    // The leak: its method, sample count, effect and significance; the spec's pattern; the
    // time until the limit, at 7/30/90 days.
    let leak = &answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["series"] == "app_memory_bytes{service=\"orders\"}")
        .unwrap();
    // 90 days fetched an hour apart (the store holds a point a minute).
    assert_eq!(leak["samples"], 2161);
    assert_eq!(answer["step"], "1h");
    assert!(leak["trend"]["method"]
        .as_str()
        .unwrap()
        .contains("Hamed–Rao"));
    assert!(leak["q"].as_f64().unwrap() < 1e-6, "{leak:#}");
    assert_eq!(
        leak["spec_pattern"],
        "Memory growth without corresponding load increase"
    );
    let ttv = &leak["time_to_violation"];
    assert!(
        ttv["bound"]
            .as_str()
            .unwrap()
            .contains("orders runs out of memory"),
        "{ttv:#}"
    );
    assert_eq!(ttv["horizons"].as_array().unwrap().len(), 3);
    // The threshold is the spec's: ">1% per week".
    assert!(
        answer["thresholds"]
            .as_str()
            .unwrap()
            .contains("Query time increasing by >1% per week"),
        "{}",
        answer["thresholds"]
    );
    // The cycles are named where they were taken out.
    let cycles = answer["no_trend"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["series"] == "worker_busy_ratio");
    assert!(cycles.is_some(), "{answer:#}");
    let wire = serde_json::to_string(&answer).unwrap().len();
    assert!(wire < 40_000, "{wire} bytes");

    // One series in full, and a series that is not there.
    let one = structured(
        &call(
            &client,
            "detect_degradation",
            json!({"window": "90d", "at": at(&shape), "series": "worker_busy_ratio"}),
        )
        .await,
    );
    let seasons: Vec<&str> = one["findings"][0]["seasonality"]
        .as_array()
        .map(|a| a.iter().map(|s| s["period"].as_str().unwrap()).collect())
        .unwrap_or_default();
    assert!(
        one["headline"].as_str().unwrap().starts_with("ONE SERIES"),
        "{one:#}"
    );
    assert_eq!(seasons, ["1d", "7d"], "{one:#}");
    let missing = error_text(
        &call(
            &client,
            "detect_degradation",
            json!({"window": "90d", "at": at(&shape), "series": "app_memory_bytes{service=\"nope\"}"}),
        )
        .await,
    );
    assert!(
        missing.contains("app_memory_bytes{service=\"orders\"}"),
        "{missing}"
    );
    client.cancel().await.unwrap();
}
