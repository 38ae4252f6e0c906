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

use crate::health::{JOURNEY_DURATION, JOURNEY_JOB, JOURNEY_SUCCESS};

/// Where the last round of journeys is kept, for the failure lines `scenario_health` shows.
pub const LAST_JOURNEYS_FILE: &str = ".sdd/last-journeys.json";

/// The job label of scraped series (Prometheus sets `job` from its scrape config; the
/// bundled Prometheus set-up uses the same names): `sdd` for the first path, `sdd-2`, `sdd-3`, …
/// for targets with another path, so two endpoints of one host are two series each.
pub const SCRAPE_JOB: &str = "sdd";

/// Each target's job, as `scripts/prometheus.sh` names them: targets with the same path share
/// a job; each further path gets the next number.
pub fn scrape_jobs(targets: &[String]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    targets
        .iter()
        .map(|target| {
            let path = sdd_http::split_url(target)
                .map(|(_, _, path)| path)
                .unwrap_or_default();
            let index = match paths.iter().position(|p| *p == path) {
                Some(i) => i,
                None => {
                    paths.push(path);
                    paths.len() - 1
                }
            };
            if index == 0 {
                SCRAPE_JOB.to_string()
            } else {
                format!("{SCRAPE_JOB}-{}", index + 1)
            }
        })
        .collect()
}

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
fn with_target_labels(sample: &mut Sample, job: &str, instance: &str) {
    let mut pairs = split_labels(&sample.labels);
    for pair in &mut pairs {
        if pair.0 == "job" || pair.0 == "instance" {
            pair.0 = format!("exported_{}", pair.0);
        }
    }
    pairs.push(("job".into(), job.into()));
    pairs.push(("instance".into(), instance.into()));
    sample.labels = canonical_labels(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
}

/// Scrape `target` once and store what it gave, stamped `now_ms`. A target that answers
/// nothing usable still gets `up 0`, so its absence is a series too.
pub async fn scrape(
    store: &mut MetricStore,
    target: &str,
    job: &str,
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
    let answer = sdd_http::send_with_limit(&request, hosts, exposition::MAX_SCRAPE_BYTES).await;
    let (mut samples, families) = match answer {
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
            if parsed.samples.is_empty() && outcome.problem_count > 0 {
                // Nothing readable: not a metrics endpoint (HTML, binary, compressed). A scrape
                // Prometheus cannot parse counts as failed, and so does this one.
                outcome.error = Some(format!(
                    "no sample could be read ({} lines not read, first: {})",
                    outcome.problem_count,
                    outcome.problems.first().cloned().unwrap_or_default()
                ));
            }
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
        with_target_labels(sample, job, &instance);
    }
    let up = if outcome.error.is_none() { 1.0 } else { 0.0 };
    let target_labels = canonical_labels([("instance", instance.as_str()), ("job", job)]);
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

/// Run every approved scenario's examples once against the service: `monitoring.journeys.base_url`,
/// else `service.base_url`.
pub async fn run_journeys(
    spec: &Spec,
    file: &ProjectFile,
    now_ms: i64,
) -> Result<JourneyRound, String> {
    let base_url = file
        .monitoring
        .journeys
        .base_url
        .clone()
        .or_else(|| file.service.as_ref().map(|s| s.base_url.clone()))
        .ok_or(
            "the journeys need somewhere to go: set monitoring.journeys.base_url (a deployed service) or a `service:` section with its base_url",
        )?;
    let no_headers = BTreeMap::new();
    let configured = file.service.as_ref().map_or(&no_headers, |s| &s.headers);
    let headers: BTreeMap<String, String> =
        sdd_verify::auth::client_headers_as(configured, &file.auth, "journeys")
            .into_iter()
            .collect();
    let hosts = sdd_verify::allowed_hosts(file);
    let target = ServiceClient {
        base_url: &base_url,
        headers: &headers,
        allowed_hosts: &hosts,
    };
    let report: CheckReport = check_examples(spec, &[], &target).await;
    Ok(JourneyRound {
        at_ms: now_ms,
        base_url,
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
                failure: s.first_failure_line().map(|line| one_line(&line, 300)),
            })
            .collect(),
    })
}

/// `text` on one line (a body with newlines, an HTML page) and at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        flat.chars().take(max).chain(['…']).collect()
    } else {
        flat
    }
}

/// Store a round as series: `sdd_journey_success{scenario}` (1 or 0) and
/// `sdd_journey_duration_seconds{scenario}`, at the round's start.
pub fn store_journeys(store: &mut MetricStore, round: &JourneyRound) -> Result<usize, StoreError> {
    let mut samples = Vec::with_capacity(round.runs.len() * 2);
    for run in &round.runs {
        let labels = canonical_labels([("job", JOURNEY_JOB), ("scenario", run.scenario.as_str())]);
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
        with_target_labels(&mut sample, SCRAPE_JOB, "127.0.0.1:8788");
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
        let targets: Vec<String> = [
            "http://a:1/metrics",
            "http://b:1/metrics",
            "http://a:1/other",
            "http://c:1/other",
            "http://a:1/third",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        assert_eq!(
            scrape_jobs(&targets),
            ["sdd", "sdd", "sdd-2", "sdd-2", "sdd-3"]
        );
        assert_eq!(one_line("a\n  b\r\n<html>\n", 300), "a b <html>");
        assert_eq!(one_line(&"x".repeat(400), 300).chars().count(), 301);
    }
}
