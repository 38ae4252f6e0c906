//! What `sdd monitor` does each round: scrape the targets of `monitoring.scrape` into the
//! embedded store, and run the synthetic journeys — every approved scenario's executable
//! examples against the running service — recording success and duration per scenario as
//! series.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use sdd_http::{AllowedHosts, HttpRequest};
use sdd_metrics::exposition::{self, canonical_labels, split_labels, Format, Sample};
use sdd_metrics::store::{IngestReport, MetricStore, StoreError};
use sdd_spec::model::Spec;
use sdd_spec::project::ProjectFile;
use sdd_verify::examples::{check_examples, CheckReport, CheckVerdict, ServiceClient};
use serde::{Deserialize, Serialize};

use crate::health::{JOURNEY_DURATION, JOURNEY_SUCCESS};

/// Where the last round of journeys is kept, for the failure lines `scenario_health` shows.
pub const LAST_JOURNEYS_FILE: &str = ".sdd/last-journeys.json";

/// The job label of scraped series (Prometheus sets `job` from its scrape config; the
/// bundled Prometheus set-up uses the same name).
pub const SCRAPE_JOB: &str = "sdd";

/// One scrape's outcome.
#[derive(Debug, Clone)]
pub struct ScrapeOutcome {
    pub target: String,
    /// Samples stored (with `up` and `scrape_duration_seconds`).
    pub stored: usize,
    /// Lines of the exposition that could not be read (the first few), with their count.
    pub problems: Vec<String>,
    pub problem_count: usize,
    /// Why the target gave nothing (refused host, connection, timeout, HTTP status).
    pub error: Option<String>,
}

/// `host:port` of an `http://` URL, Prometheus' `instance` label.
fn instance_of(url: &str) -> String {
    match sdd_http::split_url(url) {
        Ok((host, port, _)) => format!("{host}:{port}"),
        Err(_) => url.to_string(),
    }
}

/// Add `job` and `instance` to a scraped sample as Prometheus does with `honor_labels: false`:
/// the target's own `job` / `instance` labels are kept as `exported_job` / `exported_instance`.
fn with_target_labels(sample: &mut Sample, instance: &str) {
    let mut pairs = split_labels(&sample.labels);
    for pair in &mut pairs {
        if pair.0 == "job" || pair.0 == "instance" {
            pair.0 = format!("exported_{}", pair.0);
        }
    }
    pairs.push(("job".into(), SCRAPE_JOB.into()));
    pairs.push(("instance".into(), instance.into()));
    sample.labels = canonical_labels(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
}

/// Scrape `target` once and store what it gave, stamped `now_ms`. A target that answers
/// nothing usable still gets `up 0`, so its absence is a series too.
pub async fn scrape(
    store: &mut MetricStore,
    target: &str,
    hosts: &AllowedHosts,
    timeout: Duration,
    now_ms: i64,
) -> Result<ScrapeOutcome, StoreError> {
    let instance = instance_of(target);
    let request = HttpRequest {
        method: "GET".into(),
        url: target.to_string(),
        headers: vec![(
            "Accept".into(),
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5".into(),
        )],
        body: None,
        timeout,
    };
    let started = std::time::Instant::now();
    let mut outcome = ScrapeOutcome {
        target: target.to_string(),
        stored: 0,
        problems: Vec::new(),
        problem_count: 0,
        error: None,
    };
    let (mut samples, families) = match sdd_http::send(&request, hosts).await {
        Ok(response) if response.status == 200 => {
            let format = Format::from_content_type(response.header("content-type").unwrap_or(""));
            let parsed = exposition::parse(&response.body, format, now_ms);
            outcome.problem_count = parsed.problems.total();
            outcome.problems = parsed
                .problems
                .kept()
                .iter()
                .take(5)
                .map(|p| format!("line {}: {}", p.line, p.message))
                .collect();
            (parsed.samples, parsed.families)
        }
        Ok(response) => {
            outcome.error = Some(format!("answered HTTP {}", response.status));
            (Vec::new(), Vec::new())
        }
        Err(e) => {
            outcome.error = Some(e.to_string());
            (Vec::new(), Vec::new())
        }
    };
    for sample in &mut samples {
        with_target_labels(sample, &instance);
    }
    let up = if outcome.error.is_none() { 1.0 } else { 0.0 };
    let target_labels = canonical_labels([("instance", instance.as_str()), ("job", SCRAPE_JOB)]);
    for (name, value) in [
        ("up", up),
        ("scrape_duration_seconds", started.elapsed().as_secs_f64()),
        ("scrape_samples_scraped", samples.len() as f64),
    ] {
        samples.push(Sample {
            name: name.into(),
            labels: target_labels.clone(),
            value,
            timestamp_ms: now_ms,
        });
    }
    let IngestReport { inserted, .. } = store.ingest(&samples, &families)?;
    outcome.stored = inserted;
    Ok(outcome)
}

/// One scenario's journey as last run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JourneyRun {
    pub scenario: String,
    pub passed: bool,
    pub duration_ms: f64,
    /// The first failed step, `POST /tasks/7/complete: status expected 409, got 200`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// A round of journeys as kept in [`LAST_JOURNEYS_FILE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JourneyRound {
    /// When the round started, ms since the epoch.
    pub at_ms: i64,
    pub base_url: String,
    pub runs: Vec<JourneyRun>,
}

/// Run every approved scenario's examples once against the service `sdd.yaml` describes.
pub async fn run_journeys(
    spec: &Spec,
    file: &ProjectFile,
    now_ms: i64,
) -> Result<JourneyRound, String> {
    let service = file.service.as_ref().ok_or(
        "sdd.yaml has no `service:` section: the journeys need its base_url (and headers) to reach the service",
    )?;
    let headers: BTreeMap<String, String> =
        sdd_verify::auth::client_headers_as(service, &file.auth, "journeys")
            .into_iter()
            .collect();
    let hosts = sdd_verify::allowed_hosts(file);
    let target = ServiceClient {
        base_url: &service.base_url,
        headers: &headers,
        allowed_hosts: &hosts,
    };
    let report: CheckReport = check_examples(spec, &[], &target).await;
    Ok(JourneyRound {
        at_ms: now_ms,
        base_url: service.base_url.clone(),
        runs: report
            .scenarios
            .iter()
            .map(|s| JourneyRun {
                scenario: s.scenario_id.clone(),
                passed: s.verdict == CheckVerdict::Passing,
                duration_ms: s
                    .examples
                    .iter()
                    .flat_map(|e| &e.steps)
                    .map(|step| step.elapsed_ms)
                    .sum(),
                failure: s.first_failure_line(),
            })
            .collect(),
    })
}

/// Store a round as series: `sdd_journey_success{scenario}` (1 or 0) and
/// `sdd_journey_duration_seconds{scenario}`, at the round's start.
pub fn store_journeys(store: &mut MetricStore, round: &JourneyRound) -> Result<usize, StoreError> {
    let mut samples = Vec::with_capacity(round.runs.len() * 2);
    for run in &round.runs {
        let labels = canonical_labels([("scenario", run.scenario.as_str())]);
        samples.push(Sample {
            name: JOURNEY_SUCCESS.into(),
            labels: labels.clone(),
            value: if run.passed { 1.0 } else { 0.0 },
            timestamp_ms: round.at_ms,
        });
        samples.push(Sample {
            name: JOURNEY_DURATION.into(),
            labels,
            value: run.duration_ms / 1000.0,
            timestamp_ms: round.at_ms,
        });
    }
    Ok(store.ingest(&samples, &[])?.inserted)
}

/// Keep the round for `scenario_health`'s failure lines (written beside, then renamed, so a
/// reader never sees half a file).
pub fn keep_round(project_root: &Path, round: &JourneyRound) -> std::io::Result<()> {
    let path = project_root.join(LAST_JOURNEYS_FILE);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_vec_pretty(round).map_err(std::io::Error::other)?;
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, &path)
}

/// The last round kept, if any and readable.
pub fn last_round(project_root: &Path) -> Option<JourneyRound> {
    let text = std::fs::read(project_root.join(LAST_JOURNEYS_FILE)).ok()?;
    serde_json::from_slice(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_labels_as_prometheus_adds_them() {
        let mut sample = Sample {
            name: "x".into(),
            labels: canonical_labels([("instance", "mine"), ("route", "/a")]),
            value: 1.0,
            timestamp_ms: 0,
        };
        with_target_labels(&mut sample, "127.0.0.1:8788");
        assert_eq!(
            split_labels(&sample.labels),
            vec![
                ("exported_instance".to_string(), "mine".to_string()),
                ("instance".into(), "127.0.0.1:8788".into()),
                ("job".into(), SCRAPE_JOB.into()),
                ("route".into(), "/a".into()),
            ]
        );
        assert_eq!(
            instance_of("http://127.0.0.1:8788/metrics"),
            "127.0.0.1:8788"
        );
        assert_eq!(instance_of("http://localhost/metrics"), "localhost:80");
    }
}
