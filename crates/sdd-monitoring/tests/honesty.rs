//! A verdict never claims more than was checked: each case plants data or a spec that an
//! honest monitor must not call within limits (found by a hostile review of issue 13), and
//! checks what the library says instead. Data goes through the embedded store as `sdd metrics
//! import` would put it there.

use std::path::Path;
use std::sync::Arc;

use sdd_monitoring::headroom::{constraint_headroom, ConstraintHeadroom, Watch};
use sdd_monitoring::health::{scenario_health, Health};
use sdd_monitoring::source::{EmbeddedSource, Source};
use sdd_spec::verdict::Verdict;

const END_S: i64 = 1_780_000_000;
const HOUR_MS: i64 = 3_600_000;

/// One request-duration histogram series as OpenMetrics lines: `per_step` requests every 15 s
/// for an hour ending at END_S, each taking `latency` seconds.
fn histogram(labels: &str, per_step: u64, latency: f64) -> String {
    let bounds = [0.05, 0.1, 0.25, f64::INFINITY];
    let mut lines = String::new();
    for (i, bound) in bounds.iter().enumerate() {
        let le = if bound.is_infinite() {
            "+Inf".to_string()
        } else {
            bound.to_string()
        };
        for step in 0..=240 {
            let count = if latency <= *bound {
                per_step * step
            } else {
                0
            };
            let _ = i;
            lines.push_str(&format!(
                "http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {count} {}\n",
                END_S - (240 - step as i64) * 15
            ));
        }
    }
    for step in 0..=240 {
        lines.push_str(&format!(
            "http_request_duration_seconds_count{{{labels}}} {} {}\n",
            per_step * step,
            END_S - (240 - step as i64) * 15
        ));
    }
    lines
}

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(specs: &[(&str, &str)], sdd_yaml: &str, metrics: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("specs")).unwrap();
        for (name, text) in specs {
            std::fs::write(dir.path().join("specs").join(name), text).unwrap();
        }
        std::fs::write(dir.path().join("sdd.yaml"), sdd_yaml).unwrap();
        let file = dir.path().join("data.om");
        std::fs::write(
            &file,
            format!("# TYPE http_request_duration_seconds histogram\n{metrics}# EOF\n"),
        )
        .unwrap();
        let mut store = sdd_metrics::store::MetricStore::open(dir.path()).unwrap();
        let report = sdd_metrics::import::import_file(&mut store, &file).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems.kept());
        Case { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    async fn headroom(&self) -> Vec<ConstraintHeadroom> {
        let file = sdd_spec::project::load_project_file(self.root()).unwrap();
        let loaded = sdd_spec::load::load_dir(&self.root().join("specs")).unwrap();
        let source = Source::Embedded(Arc::new(EmbeddedSource::new(self.root())));
        let watch = Watch::new(&file, &source, END_S * 1000, HOUR_MS, 30 * 24 * HOUR_MS)
            .with_domains(loaded.spec.domains.len());
        let constraints: Vec<_> = loaded.spec.constraints.iter().map(|c| &**c).collect();
        constraint_headroom(&watch, &constraints).await.unwrap()
    }
}

fn row<'a>(rows: &'a [ConstraintHeadroom], id: &str) -> &'a ConstraintHeadroom {
    rows.iter()
        .find(|r| r.constraint.ends_with(id))
        .unwrap_or_else(|| panic!("{id} in {rows:#?}"))
}

const ONE_DOMAIN: &str = "feature: Shop\nconstraints:\n  performance:\n    - name: Reads\n      requirement: p95 latency < 100ms for all read operations\n    - name: Combined\n      requirement: p95 latency < 100ms and error rate below 0.5%\n  reliability:\n    - name: Uptime\n      requirement: 99.9% availability\n    - name: Errors\n      requirement: error rate below 0.1%\nscenarios: []\n";
const YAML: &str = "monitoring: {}\n";

#[tokio::test(flavor = "multi_thread")]
async fn failures_under_promhttps_code_label_are_failures() {
    // promhttp's `code`, not the convention's `status`: half the requests are 500s.
    let metrics = histogram("method=\"GET\",route=\"/a\",code=\"200\"", 10, 0.01)
        + &histogram("method=\"GET\",route=\"/a\",code=\"500\"", 10, 0.01);
    let case = Case::new(&[("shop.yaml", ONE_DOMAIN)], YAML, &metrics);
    let rows = case.headroom().await;
    assert_eq!(row(&rows, "uptime").status, Verdict::Failing, "{rows:#?}");
    assert_eq!(row(&rows, "errors").status, Verdict::Failing);
    // More than 1 % failures: no latency pass either (fast failures are no fast answers).
    assert_eq!(row(&rows, "reads").status, Verdict::Failing);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_any_status_label_nothing_about_failures_passes() {
    let metrics = histogram("method=\"GET\",route=\"/a\"", 10, 0.01);
    let case = Case::new(&[("shop.yaml", ONE_DOMAIN)], YAML, &metrics);
    let rows = case.headroom().await;
    for id in ["uptime", "errors"] {
        let r = row(&rows, id);
        assert_eq!(r.status, Verdict::Unchecked, "{r:#?}");
        assert!(
            r.summary.contains("neither a `status` nor a `code`"),
            "{r:#?}"
        );
    }
    let reads = row(&rows, "reads");
    assert_eq!(reads.status, Verdict::Inconclusive, "{reads:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_check_of_a_constraint_is_judged_and_budgets_are_the_allowed_share() {
    // 0.8 % 5xx, all fast: latency passes, the error-rate bound of 0.5 % does not.
    let metrics = histogram("method=\"GET\",route=\"/a\",status=\"200\"", 124, 0.01)
        + &histogram("method=\"GET\",route=\"/a\",status=\"500\"", 1, 0.01);
    let case = Case::new(&[("shop.yaml", ONE_DOMAIN)], YAML, &metrics);
    let rows = case.headroom().await;
    let combined = row(&rows, "combined");
    assert_eq!(combined.status, Verdict::Failing, "{combined:#?}");
    assert_eq!(
        combined.measured_by.len(),
        4,
        "both checks' queries: {combined:#?}"
    );
    // Error rate 0.8 % against 0.1 %: the budget (0.1 % of requests) is spent eight times.
    let errors = row(&rows, "errors");
    assert_eq!(errors.status, Verdict::Failing);
    let spent = errors.error_budget.as_ref().unwrap().spent_percent.unwrap();
    assert!((spent - 800.0).abs() < 1.0, "{errors:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_failure_guard_is_not_undone_by_a_limit_inside_a_bucket() {
    // 4.8 % 5xx; the 80 ms limit lies inside the (50 ms, 100 ms] bucket.
    let spec = "feature: Shop\nconstraints:\n  performance:\n    - name: Reads\n      requirement: p95 latency < 80ms for all read operations\nscenarios: []\n";
    let metrics = histogram("method=\"GET\",route=\"/a\",status=\"200\"", 20, 0.07)
        + &histogram("method=\"GET\",route=\"/a\",status=\"500\"", 1, 0.07);
    let case = Case::new(&[("shop.yaml", spec)], YAML, &metrics);
    let rows = case.headroom().await;
    let reads = row(&rows, "reads");
    assert_eq!(reads.status, Verdict::Failing, "{reads:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_constraint_of_one_domain_of_several_is_not_judged_on_the_whole_service() {
    let tasks = "feature: Tasks\nconstraints:\n  performance:\n    - name: Task reads\n      requirement: p95 latency < 100ms for all read operations\nscenarios: []\n";
    let payments = "feature: Payments\nconstraints:\n  performance:\n    - name: Payment reads\n      requirement: p95 latency < 100ms for all read operations\nscenarios: []\n";
    let metrics = histogram("method=\"GET\",route=\"/tasks\",status=\"200\"", 10, 0.01)
        + &histogram("method=\"GET\",route=\"/payments\",status=\"200\"", 10, 0.3);
    let case = Case::new(
        &[("tasks.yaml", tasks), ("payments.yaml", payments)],
        YAML,
        &metrics,
    );
    let rows = case.headroom().await;
    for id in ["task_reads", "payment_reads"] {
        let r = row(&rows, id);
        assert_eq!(r.status, Verdict::Unchecked, "{r:#?}");
        assert!(r.summary.contains("monitoring.constraints"), "{r:#?}");
    }
    // Named: judged on its own routes.
    let yaml = "monitoring:\n  constraints:\n    payments.performance.payment_reads: {histogram: 'http_request_duration_seconds{route=\"/payments\"}'}\n";
    let case = Case::new(
        &[("tasks.yaml", tasks), ("payments.yaml", payments)],
        yaml,
        &metrics,
    );
    let rows = case.headroom().await;
    assert_eq!(
        row(&rows, "payment_reads").status,
        Verdict::Failing,
        "{rows:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_down_in_the_window_leaves_no_pass_standing() {
    let mut metrics = histogram("method=\"GET\",route=\"/a\",status=\"200\"", 10, 0.01);
    metrics.push_str("# TYPE up gauge\n");
    for step in 0..=240 {
        let up = if step > 200 { 0 } else { 1 };
        metrics.push_str(&format!(
            "up{{instance=\"127.0.0.1:9\",job=\"sdd\"}} {up} {}\n",
            END_S - (240 - step) * 15
        ));
    }
    let case = Case::new(&[("shop.yaml", ONE_DOMAIN)], YAML, &metrics);
    let rows = case.headroom().await;
    let reads = row(&rows, "reads");
    assert_eq!(reads.status, Verdict::Inconclusive, "{reads:#?}");
    assert!(
        reads.summary.contains("127.0.0.1:9 (sdd) was down"),
        "{reads:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn availability_from_old_traffic_says_nothing_about_now() {
    // The traffic ended two hours before the window.
    let metrics = histogram("method=\"GET\",route=\"/a\",status=\"200\"", 10, 0.01);
    let case = Case::new(&[("shop.yaml", ONE_DOMAIN)], YAML, &metrics);
    let file = sdd_spec::project::load_project_file(case.root()).unwrap();
    let loaded = sdd_spec::load::load_dir(&case.root().join("specs")).unwrap();
    let source = Source::Embedded(Arc::new(EmbeddedSource::new(case.root())));
    let later = (END_S + 3 * 3600) * 1000;
    let watch = Watch::new(&file, &source, later, HOUR_MS, 30 * 24 * HOUR_MS);
    let constraints: Vec<_> = loaded.spec.constraints.iter().map(|c| &**c).collect();
    let rows = constraint_headroom(&watch, &constraints).await.unwrap();
    let uptime = row(&rows, "uptime");
    assert_eq!(uptime.status, Verdict::Unchecked, "{uptime:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scraped_target_cannot_report_journeys() {
    let spec =
        "feature: Shop\nscenarios:\n  - name: Buy\n    when: I buy\n    then: [It is bought]\n";
    let mut metrics = String::from("# TYPE sdd_journey_success gauge\n");
    for step in 0..=60 {
        // What a service could expose (and a scrape would store with job="sdd").
        metrics.push_str(&format!(
            "sdd_journey_success{{job=\"sdd\",scenario=\"shop.buy\"}} 1 {}\n",
            END_S - (60 - step) * 60
        ));
    }
    let case = Case::new(&[("shop.yaml", spec)], YAML, &metrics);
    let file = sdd_spec::project::load_project_file(case.root()).unwrap();
    let loaded = sdd_spec::load::load_dir(&case.root().join("specs")).unwrap();
    let scenarios: Vec<_> = loaded.spec.approved_scenarios().collect();
    assert_eq!(scenarios.len(), 1);
    let source = Source::Embedded(Arc::new(EmbeddedSource::new(case.root())));
    let watch = Watch::new(&file, &source, END_S * 1000, HOUR_MS, 30 * 24 * HOUR_MS);
    let report = scenario_health(&watch, &source, None, &scenarios)
        .await
        .unwrap();
    assert_eq!(report.rows[0].status, Health::NoData, "{:#?}", report.rows);
    assert!(report.rows[0].journeys.is_none());
}
