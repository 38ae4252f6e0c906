//! The degradation hunter gives the same answer from either source: two weeks of synthetic
//! series a minute apart (a leak, a step, a declining hit ratio, growth that follows load, a
//! healthy series, and the load), ending an hour ago, go into a real Prometheus (Debian's
//! package, backfilled by promtool) and into the embedded store. `hunt` over both must fetch
//! the same series at the same step and reach the same verdicts, with the same figures.
//! Without `prometheus` the test fails under `CI` and is skipped loudly otherwise.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sdd_http::AllowedHosts;
use sdd_monitoring::degradation::analyze::{Thresholds, Verdict};
use sdd_monitoring::degradation::hunt::{hunt, HuntOptions};
use sdd_monitoring::degradation::synthetic::{load, series, Planted, Shape, START_MS};
use sdd_monitoring::prometheus::PrometheusApi;
use sdd_monitoring::source::{EmbeddedSource, Source};
use sdd_monitoring::testing::{free_port, prometheus_installed, RunningPrometheus};

const DAYS: f64 = 14.0;

fn data(shift: i64) -> String {
    let shape = Shape {
        days: DAYS,
        step_ms: 60_000,
        seed: 5,
    };
    let load = load(&shape, 0.01);
    let kinds = [
        (
            "memory_bytes{service=\"leaky\"}",
            Planted::Leak {
                percent_per_day: 2.0,
            },
        ),
        ("memory_bytes{service=\"steady\"}", Planted::FollowsLoad),
        (
            "queue_wait_seconds",
            Planted::Step {
                at_day: 9.0,
                percent: 30.0,
            },
        ),
        (
            "cache_hit_ratio",
            Planted::Decline {
                points_per_day: 1.0,
            },
        ),
        ("open_connections", Planted::Healthy),
    ];
    let mut text = String::new();
    let mut family = "";
    for (name, planted) in kinds {
        let metric = name.split('{').next().unwrap();
        if metric != family {
            text.push_str(&format!("# TYPE {metric} gauge\n"));
            family = metric;
        }
        for (t, v) in series(&shape, planted, &load) {
            let t = t + shift;
            text.push_str(&format!("{name} {v} {}.{:03}\n", t / 1000, t % 1000));
        }
    }
    text.push_str("# TYPE http_request_duration_seconds histogram\n");
    let mut total = 0.0;
    for (t, rate) in load {
        total += rate * 60.0;
        let t = t + shift;
        text.push_str(&format!(
            "http_request_duration_seconds_count {total} {}.{:03}\n",
            t / 1000,
            t % 1000
        ));
    }
    text.push_str("# EOF\n");
    text
}

#[tokio::test]
async fn both_sources_find_the_same_degradations() {
    if !prometheus_installed("both_sources_find_the_same_degradations") {
        return;
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Whole days back from an hour ago, so the daily phases stay where the generator put them.
    let end_ms = (now_ms - 3_600_000) / 86_400_000 * 86_400_000;
    let shift = end_ms - (START_MS + (DAYS * 86_400_000.0) as i64);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.om");
    std::fs::write(&file, data(shift)).unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    {
        let mut store = sdd_metrics::store::MetricStore::open(&project).unwrap();
        sdd_metrics::import::import_file(&mut store, &file).unwrap();
    }
    let running = RunningPrometheus::start(dir.path(), free_port(), &[], Some(&file));
    let api = PrometheusApi::new(
        &running.url,
        Duration::from_secs(60),
        AllowedHosts::loopback_only(),
    )
    .unwrap();
    let options = HuntOptions {
        start_ms: end_ms - (DAYS * 86_400_000.0) as i64,
        end_ms,
        significance: 0.01,
        thresholds: Thresholds::default(),
        thresholds_from: String::new(),
        resolution_ms: 60_000,
        only: None,
    };
    let file = sdd_spec::project::parse_project_file("{}").unwrap();
    let mut answers = Vec::new();
    for source in [
        Source::Embedded(Arc::new(EmbeddedSource::new(&project))),
        Source::Prometheus(api),
    ] {
        let found = hunt(&source, &file, &[], 1, &[], &options).await.unwrap();
        let mut rows: Vec<(String, Verdict, usize, f64)> = found
            .series
            .iter()
            .map(|h| {
                (
                    h.series.clone(),
                    h.analysis.verdict,
                    h.analysis.samples,
                    h.analysis.trend.as_ref().map_or(f64::NAN, |t| t.per_day),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        answers.push((source.describe(), found.step_ms, rows));
    }
    let (embedded, prometheus) = (&answers[0], &answers[1]);
    assert_eq!(embedded.1, prometheus.1, "the same step");
    let degrading = |rows: &[(String, Verdict, usize, f64)]| -> Vec<String> {
        rows.iter()
            .filter(|r| r.1 == Verdict::Degrading)
            .map(|r| r.0.clone())
            .collect()
    };
    assert_eq!(
        degrading(&embedded.2),
        [
            "cache_hit_ratio",
            "memory_bytes{service=\"leaky\"}",
            "queue_wait_seconds"
        ],
        "{embedded:#?}"
    );
    assert_eq!(embedded.2.len(), prometheus.2.len(), "{answers:#?}");
    for (a, b) in embedded.2.iter().zip(&prometheus.2) {
        assert_eq!((&a.0, a.1, a.2), (&b.0, b.1, b.2), "{answers:#?}");
        assert!(
            (a.3 - b.3).abs() <= 1e-9 * a.3.abs().max(1e-12),
            "{} slope {} against {}",
            a.0,
            a.3,
            b.3
        );
    }
    drop(running);
}
