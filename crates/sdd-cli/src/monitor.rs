//! `sdd monitor` (scrape the service's metrics and run the scenarios as synthetic journeys,
//! into the embedded store, until stopped) and `sdd metrics import` (OpenMetrics text into the
//! same store). The rounds are `sdd_monitoring::monitor`'s; this module only keeps time and
//! prints one line per thing done.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use sdd_metrics::store::MetricStore;
use std::sync::Arc;

use sdd_monitoring::monitor::{
    keep_round, run_journeys, scrape, scrape_jobs, store_journeys, JourneyRound,
};
use sdd_spec::project::{load_project_file, ProjectFile};
use sdd_spec::SpecCache;

use crate::cli::{ImportArgs, MonitorArgs};
use crate::{sayln, shown};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn clock() -> String {
    chrono::DateTime::from_timestamp_millis(now_ms())
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default()
}

fn read_file(root: &std::path::Path) -> Result<ProjectFile, String> {
    load_project_file(root).map_err(|d| {
        format!(
            "sdd.yaml{}: {}",
            d.line.map(|l| format!(" line {l}")).unwrap_or_default(),
            d.message
        )
    })
}

/// Journeys are on: an interval, and somewhere to go.
fn journeys_on(file: &ProjectFile) -> bool {
    let journeys = &file.monitoring.journeys;
    journeys.interval_seconds > 0 && (journeys.base_url.is_some() || file.service.is_some())
}

fn say_round(round: &JourneyRound) -> bool {
    let failed: Vec<_> = round.runs.iter().filter(|r| !r.passed).collect();
    sayln!(
        "{} journeys: {} scenarios, {} passed",
        clock(),
        round.runs.len(),
        round.runs.len() - failed.len()
    );
    for run in &failed {
        sayln!(
            "    FAILED {}: {}",
            run.scenario,
            run.failure.as_deref().unwrap_or("failed")
        );
    }
    !failed.is_empty()
}

pub async fn run(args: &MonitorArgs) -> Result<ExitCode, String> {
    let root = args.project.root()?;
    let mut file = read_file(&root)?;
    if file.monitoring.scrape.targets.is_empty() && !journeys_on(&file) {
        return Err(
            "nothing to monitor: sdd.yaml lists no monitoring.scrape.targets, and the journeys need monitoring.journeys.base_url or a `service:` (with monitoring.journeys.interval_seconds above 0)".into(),
        );
    }
    let mut store = MetricStore::open(&root).map_err(|e| e.to_string())?;
    let cache = Arc::new(SpecCache::new(&root.join(&file.specs)));
    sayln!(
        "monitoring {} into {} (Ctrl-C stops)",
        root.display(),
        shown(store.path())
    );
    let deadline = args
        .for_seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    let mut next_scrape = Instant::now();
    let mut next_journeys = Instant::now();
    let mut failures_seen = false;
    // A round of journeys runs beside the scrapes (a hanging service must not stop the
    // metrics), and is stored when it ends.
    let mut journeys: Option<tokio::task::JoinHandle<Result<JourneyRound, String>>> = None;
    let mut journeys_started = false;
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        // sdd.yaml is read every round: an edited target list is scraped from the next one.
        match read_file(&root) {
            Ok(f) => file = f,
            Err(e) => eprintln!("{} {e} (monitoring with the previous sdd.yaml)", clock()),
        }
        let now = Instant::now();
        let scrape_due = now >= next_scrape && !(args.once && journeys_started);
        if scrape_due {
            let hosts = sdd_verify::allowed_hosts(&file);
            let timeout = Duration::from_secs(file.monitoring.scrape.timeout_seconds.max(1));
            let jobs = scrape_jobs(&file.monitoring.scrape.targets);
            for (target, job) in file.monitoring.scrape.targets.iter().zip(&jobs) {
                let outcome = scrape(&mut store, target, job, &hosts, timeout, now_ms())
                    .await
                    .map_err(|e| e.to_string())?;
                match &outcome.error {
                    Some(error) => {
                        failures_seen = true;
                        sayln!("{} scrape {target}: DOWN ({error})", clock());
                    }
                    None => {
                        let problems = match outcome.problem_count {
                            0 => String::new(),
                            n => format!(
                                "; {n} lines not read, first: {}",
                                outcome.problems.join("; ")
                            ),
                        };
                        sayln!(
                            "{} scrape {target}: {} samples stored{problems}",
                            clock(),
                            outcome.stored
                        );
                    }
                }
            }
            next_scrape = now + Duration::from_secs(file.monitoring.scrape.interval_seconds.max(1));
        }
        if journeys.is_none()
            && journeys_on(&file)
            && now >= next_journeys
            && !(args.once && journeys_started)
        {
            let (cache, round_file) = (cache.clone(), file.clone());
            journeys_started = true;
            journeys = Some(tokio::spawn(async move {
                let loaded = sdd_mcp::blocking(|| cache.load()).map_err(|e| e.to_string())?;
                let errors = loaded
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == sdd_spec::Severity::Error)
                    .count();
                if errors > 0 {
                    eprintln!(
                        "{} the spec has {errors} errors: what does not load is not run (sdd validate lists them)",
                        clock()
                    );
                }
                run_journeys(&loaded.spec, &round_file, now_ms()).await
            }));
            next_journeys =
                now + Duration::from_secs(file.monitoring.journeys.interval_seconds.max(1));
        }
        if journeys.as_ref().is_some_and(|j| j.is_finished()) {
            let finished = journeys.take().expect("checked above");
            match finished.await.map_err(|e| e.to_string())? {
                Ok(round) => {
                    store_journeys(&mut store, &round).map_err(|e| e.to_string())?;
                    if let Err(e) = keep_round(&root, &round) {
                        eprintln!(
                            "{} could not keep the journeys' failure lines: {e}",
                            clock()
                        );
                    }
                    failures_seen |= say_round(&round);
                }
                Err(e) => {
                    failures_seen = true;
                    sayln!("{} journeys: not run ({e})", clock());
                }
            }
        }
        if args.once && journeys.is_none() {
            break;
        }
        let mut wake = next_scrape;
        if journeys_on(&file) && journeys.is_none() {
            wake = wake.min(next_journeys);
        }
        if journeys.is_some() {
            // Look at the round again soon.
            wake = wake.min(Instant::now() + Duration::from_millis(100));
        }
        if let Some(deadline) = deadline {
            if Instant::now() >= deadline {
                break;
            }
            wake = wake.min(deadline);
        }
        tokio::select! {
            // A stop asked for wins over a timer that is also due.
            biased;
            _ = &mut stop => {
                sayln!("{} stopped", clock());
                break;
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
    }
    if let Some(pending) = journeys {
        // A round still going when the monitor stops is dropped, not waited for.
        pending.abort();
        sayln!(
            "{} a round of journeys was still running: not recorded",
            clock()
        );
    }
    Ok(if args.once && failures_seen {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `sdd metrics import FILE`.
pub fn import(args: &ImportArgs) -> Result<ExitCode, String> {
    let root = args.project.root()?;
    let mut store = MetricStore::open(&root).map_err(|e| e.to_string())?;
    let report = sdd_metrics::import::import_file(&mut store, &args.file)
        .map_err(|e| format!("{}: {e}", shown(&args.file)))?;
    sayln!("{}", report_line(&report));
    for problem in report.problems.kept().iter().take(10) {
        sayln!("    line {}: {}", problem.line, problem.message);
    }
    if report.problems.total() > 10 {
        sayln!("    … {} more lines not read", report.problems.total() - 10);
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn report_line(r: &sdd_metrics::import::ImportReport) -> String {
    let span = match (r.first_ms, r.last_ms) {
        (Some(first), Some(last)) => format!(
            ", {} to {}",
            crate::monitor::rfc3339(first),
            crate::monitor::rfc3339(last)
        ),
        _ => String::new(),
    };
    format!(
        "imported {} samples of {} series ({} new, {} already stored; {} new series){span}{}",
        r.samples,
        r.series,
        r.inserted,
        r.duplicates,
        r.new_series,
        if r.eof {
            ""
        } else {
            "; the file has no `# EOF` line: it may be cut short"
        }
    )
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}
