//! The restart probe for reliability constraints ("no data loss on restart / node failure"):
//! write data through the spec's executable examples, restart the service while a poller keeps
//! asking it something and a few requests are in flight, then read the data back.
//!
//! It reports what was lost (with the request that shows it), the error window clients saw
//! during the restart, and whether requests in flight when the stop signal came were finished.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use sdd_spec::model::Spec;

use crate::examples::{self, run_steps, write_then_read_split, ServiceClient};
use crate::probes::{Finding, ProbeEndpoint};
use sdd_http::{self as http, HttpRequest};

/// How the service is brought down before it is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The stop signal and the grace period, as a deploy or a restart does.
    Graceful,
    /// SIGKILL to everything at once, as a crash, a node failure or a power loss does.
    Crash,
}

impl Stop {
    /// What an event in a constraint ("no data loss on single node failure") asks for: a
    /// crash for failures, crashes, kills and power loss, and for any event not recognised (a
    /// crash is the stricter test); a graceful stop only for restarts, deploys, upgrades and
    /// shutdowns.
    pub fn for_event(event: &str) -> Stop {
        let event = event.to_lowercase();
        let crash = [
            "fail", "crash", "kill", "power", "outage", "panic", "abort", "oom", "hardware",
        ];
        let graceful = [
            "restart",
            "deploy",
            "upgrade",
            "shutdown",
            "shut down",
            "redeploy",
            "rollout",
            "release",
            "maintenance",
            "reboot",
        ];
        if crash.iter().any(|w| event.contains(w)) {
            Stop::Crash
        } else if graceful.iter().any(|w| event.contains(w)) {
            Stop::Graceful
        } else {
            Stop::Crash
        }
    }

    /// `a crash (SIGKILL, no grace period)` / `a graceful restart (stop signal, grace period)`.
    pub fn describe(self) -> &'static str {
        match self {
            Stop::Graceful => "a graceful restart (the stop signal, then the grace period)",
            Stop::Crash => {
                "a crash (SIGKILL to the service and everything it started, no grace period)"
            }
        }
    }
}

/// Brings the service down (`how`) and starts it again, returning when it is ready.
pub trait Restarter: Sync {
    fn restart(&self, how: Stop) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

const POLL_EVERY: Duration = Duration::from_millis(25);
const IN_FLIGHT: usize = 4;

pub struct RestartOutcome {
    pub findings: Vec<Finding>,
    pub summary: String,
    /// No example writes and then reads back: the probe could not judge durability.
    pub nothing_to_check: bool,
    /// Requests refused before they showed anything (`POST /tasks answered 429`, a write of
    /// the examples or a read-back): what they would have checked is not known.
    pub refused: Vec<String>,
    /// Examples whose write part failed as written, so they were not restarted and read back.
    pub not_written: Vec<String>,
    /// Whether the service was brought down and started again.
    pub restarted: bool,
}

/// Run the restart probe. `poll` is the read the poller and the in-flight requests use, with
/// how long it takes to answer: requests are in flight when the stop signal comes half that
/// time after they were sent (a read faster than 20 ms cannot be caught in flight). The
/// poller sends `poll_headers` (its own user, so that its many requests spend no one else's
/// allowance). Requests in flight are only judged on a graceful stop: a crash cuts them off.
pub async fn restart_probe(
    spec: &Spec,
    target: &ServiceClient<'_>,
    poll: Option<(&ProbeEndpoint, Duration)>,
    poll_headers: &[(String, String)],
    restarter: &dyn Restarter,
    how: Stop,
) -> RestartOutcome {
    let in_flight_count = match poll {
        Some((_, took)) if took >= Duration::from_millis(20) && how == Stop::Graceful => IN_FLIGHT,
        _ => 0,
    };
    let in_flight_delay = poll.map_or(Duration::ZERO, |(_, took)| took / 2);
    let poll = poll.map(|(e, _)| e);
    let mut findings = Vec::new();
    // 1. Write: the first part of every write-then-read example.
    let mut pending = Vec::new();
    let mut refused = Vec::new();
    let mut not_written = Vec::new();
    let mut candidates = 0;
    // Approved and keeping its ID: a duplicate's examples would be told under the
    // first's ID.
    for scenario in spec.approved_scenarios() {
        for (n, example) in scenario.examples.iter().enumerate() {
            let Some(split) = write_then_read_split(example) else {
                continue;
            };
            candidates += 1;
            let mut vars = examples::fresh_vars();
            let written = run_steps(&example.steps[..split], &mut vars, target).await;
            let name = format!(
                "`{}` of `{}`",
                examples::example_name(example, n + 1),
                scenario.id
            );
            match written.iter().find(|s| !s.ok) {
                None => pending.push((scenario, n, example, split, vars)),
                // The limit, or the probe user's own valid token refused: shows nothing.
                Some(bad) if matches!(bad.status, Some(401 | 403 | 429)) => refused.push(format!(
                    "{} answered {} (writing {name})",
                    bad.request,
                    bad.status.unwrap_or_default()
                )),
                Some(bad) => not_written.push(format!(
                    "{name}: {}: {}",
                    bad.request,
                    bad.problem().unwrap_or_else(|| "failed".into())
                )),
            }
        }
    }
    if candidates == 0 {
        return RestartOutcome {
            findings,
            summary: "no approved scenario has an executable example that writes and then reads back by a captured value (e.g. POST then GET /items/${id}); add one to check durability".into(),
            nothing_to_check: true,
            refused,
            not_written,
            restarted: false,
        };
    }
    if pending.is_empty() {
        let summary = match refused.first() {
            Some(first) => format!(
                "nothing was written to read back: {} write(s) of the examples were refused before they showed anything (first: {first}), so the service was not restarted",
                refused.len()
            ),
            None => format!(
                "nothing was written to read back: the write part of every example that writes and then reads back failed as written (first: {}), so the service was not restarted",
                not_written.first().map(String::as_str).unwrap_or("?")
            ),
        };
        return RestartOutcome {
            findings,
            summary,
            nothing_to_check: false,
            refused,
            not_written,
            restarted: false,
        };
    }

    // 2. Restart, with a poller and requests in flight.
    let headers: Vec<(String, String)> = poll_headers
        .iter()
        .map(|(k, v)| (k.clone(), examples::expand_env(v)))
        .collect();
    let request = poll.map(|e| HttpRequest {
        method: e.method.clone(),
        url: format!("{}{}", target.base_url.trim_end_matches('/'), e.path),
        headers: headers.clone(),
        body: e.body.clone().map(String::into_bytes),
        timeout: Duration::from_secs(5),
    });
    let in_flight: Vec<_> = request
        .iter()
        .flat_map(|r| std::iter::repeat_n(r.clone(), in_flight_count))
        .map(|r| {
            let allowed = target.allowed_hosts.clone();
            tokio::spawn(async move { http::send(&r, &allowed).await })
        })
        .collect();
    tokio::time::sleep(in_flight_delay).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = request.clone().map(|r| {
        let allowed = target.allowed_hosts.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut failures: Vec<Instant> = Vec::new();
            let mut polls = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                polls += 1;
                match http::send(&r, &allowed).await {
                    Ok(resp) if resp.status < 500 => {}
                    _ => failures.push(Instant::now()),
                }
                tokio::time::sleep(POLL_EVERY).await;
            }
            (failures, polls)
        })
    });
    let restart_started = Instant::now();
    let restarted = restarter.restart(how).await;
    let restart_took = restart_started.elapsed();
    // Keep polling a moment after ready, then stop the poller.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (failures, polls) = match poller {
        Some(handle) => handle.await.unwrap_or_default(),
        None => (Vec::new(), 0),
    };
    if let Err(e) = restarted {
        findings.push(Finding {
            request: "restarting the service".into(),
            problem: format!("it did not come back: {e}"),
        });
        return RestartOutcome {
            summary: format!("the service did not come back after a restart: {e}"),
            findings,
            nothing_to_check: false,
            refused,
            not_written,
            restarted: true,
        };
    }
    let mut finished = 0;
    for handle in in_flight {
        match handle.await {
            Ok(Ok(r)) if r.status < 500 => finished += 1,
            Ok(Ok(r)) => findings.push(Finding {
                request: format!(
                    "{} in flight when the stop signal came",
                    poll.map(|e| format!("{} {}", e.method, e.path))
                        .unwrap_or_default()
                ),
                problem: format!("answered {} instead of being finished", r.status),
            }),
            Ok(Err(e)) => findings.push(Finding {
                request: format!(
                    "{} in flight when the stop signal came",
                    poll.map(|e| format!("{} {}", e.method, e.path))
                        .unwrap_or_default()
                ),
                problem: format!("was not finished: {e}"),
            }),
            Err(_) => {}
        }
    }

    // 3. Read back.
    let mut lost = 0;
    let mut unread = 0;
    for (scenario, n, example, split, vars) in &mut pending {
        let read = run_steps(&example.steps[*split..], vars, target).await;
        if let Some(bad) = read.iter().find(|s| !s.ok) {
            if bad.status == Some(429) {
                // Rate limited: whether the data is there is not known.
                unread += 1;
                refused.push(format!(
                    "{} answered 429 (reading back `{}` of `{}` after the service came back)",
                    bad.request,
                    examples::example_name(example, *n + 1),
                    scenario.id
                ));
                continue;
            }
            lost += 1;
            let why = bad.problem().unwrap_or_else(|| "failed".into());
            findings.push(Finding {
                request: format!(
                    "{} after {} ({} of `{}`)",
                    bad.request,
                    match how {
                        Stop::Crash => "a crash",
                        Stop::Graceful => "a restart",
                    },
                    examples::example_name(example, *n + 1),
                    scenario.id
                ),
                problem: format!(
                    "data acknowledged before the service went down is gone or changed: {why}"
                ),
            });
        }
    }
    let window = match (failures.first(), failures.last()) {
        (Some(first), Some(last)) => last.duration_since(*first) + POLL_EVERY,
        _ => Duration::ZERO,
    };
    let in_flight_account = if how == Stop::Crash {
        "requests in flight are not judged after a crash".to_string()
    } else if in_flight_count == 0 {
        "no read is slow enough to catch requests in flight".to_string()
    } else {
        format!("{finished} of {in_flight_count} in-flight requests finished")
    };
    let mut summary = format!(
        "{} of {} written record(s) read back after the service came back (it took {:.1} s); clients saw errors for {:.2} s ({} failed polls of {}); {in_flight_account}",
        pending.len() - lost - unread,
        pending.len(),
        restart_took.as_secs_f64(),
        window.as_secs_f64(),
        failures.len(),
        polls,
    );
    if !refused.is_empty() {
        summary.push_str(&format!(
            "; {} request(s) refused before they showed anything (first: {})",
            refused.len(),
            refused[0]
        ));
    }
    if !not_written.is_empty() {
        summary.push_str(&format!(
            "; {} example(s) not written, their write part failing as written (first: {})",
            not_written.len(),
            not_written[0]
        ));
    }
    RestartOutcome {
        findings,
        summary,
        nothing_to_check: false,
        refused,
        not_written,
        restarted: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_choose_a_crash_or_a_graceful_stop() {
        let cases = [
            ("single node failure", Stop::Crash),
            ("node failure", Stop::Crash),
            ("a crash", Stop::Crash),
            ("power loss", Stop::Crash),
            ("process kill", Stop::Crash),
            ("restart", Stop::Graceful),
            ("deploy", Stop::Graceful),
            ("a rolling upgrade", Stop::Graceful),
            ("restart after a crash", Stop::Crash),
            ("the heat death of the universe", Stop::Crash),
        ];
        for (event, expected) in cases {
            assert_eq!(Stop::for_event(event), expected, "{event}");
        }
    }
}
