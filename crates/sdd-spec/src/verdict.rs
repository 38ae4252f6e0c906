//! Judging measured facts against a constraint: the one place that decides whether a
//! latency, throughput, error-rate or concurrency constraint is passing, failing or not
//! decided, and says why in one line.
//!
//! Pure: the facts come from whoever measured them — the load generator during `sdd verify`,
//! later a metrics backend in production — so the verifier and the monitoring server judge
//! alike. A verdict is only as strong as its evidence: a run that mostly measured refusals, or
//! whose measuring side could not keep up, is `inconclusive`, never `passing`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Errors above this share make a latency or throughput verdict fail: fast failures are not
/// fast answers.
pub const MAX_ERROR_SHARE: f64 = 0.01;
/// Refusals (4xx) above this share make a run inconclusive: it measured the refusal path.
pub const MAX_REFUSED_SHARE: f64 = 0.05;
/// A run reaching this share of the asked rate ran at the rate asked for.
pub const FULL_RATE_SHARE: f64 = 0.95;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passing,
    Failing,
    /// The run could not decide (the generator was the limit, or the load could not be run
    /// as written).
    Inconclusive,
    /// Nothing was run for it; `summary` says why.
    Unchecked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passing => "passing",
            Verdict::Failing => "failing",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Unchecked => "unchecked",
        }
    }
}

/// Where a whole verification stands. The one definition the CLI's headline and exit code,
/// the report and the servers' run summaries share: a headline is never stronger than the
/// weakest evidence behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    /// Everything asked for was checked and passed.
    Verified,
    /// Nothing failed, but something was not verified (inconclusive, unchecked, without a
    /// test): the headline names it.
    NoFailures,
    /// Something failed.
    Failed,
}

impl Overall {
    /// `failed` things failed and `not_verified` were not verified.
    pub fn of(failed: usize, not_verified: usize) -> Overall {
        if failed > 0 {
            Overall::Failed
        } else if not_verified > 0 {
            Overall::NoFailures
        } else {
            Overall::Verified
        }
    }

    /// Of a set of verdicts: failing is failed, inconclusive and unchecked are not verified.
    pub fn of_verdicts(verdicts: impl IntoIterator<Item = Verdict>) -> Overall {
        let (mut failed, mut not_verified) = (0, 0);
        for verdict in verdicts {
            match verdict {
                Verdict::Passing => {}
                Verdict::Failing => failed += 1,
                Verdict::Inconclusive | Verdict::Unchecked => not_verified += 1,
            }
        }
        Overall::of(failed, not_verified)
    }

    /// Nothing failed: a run that is `ok` in the history, exit status 0.
    pub fn nothing_failed(self) -> bool {
        self != Overall::Failed
    }

    /// `VERIFIED`, `NO FAILURES`, `FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Overall::Verified => "VERIFIED",
            Overall::NoFailures => "NO FAILURES",
            Overall::Failed => "FAILED",
        }
    }
}

/// Something a verification did not verify, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotVerified {
    pub subject: String,
    pub why: String,
}

/// How many of a kind of subject were verified: `6 of 11 constraints verified`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally<'a> {
    pub kind: &'a str,
    pub verified: usize,
    pub total: usize,
}

/// The one-line headline: `VERIFIED`, or `NO FAILURES — 6 of 11 constraints verified; not
/// verified: a (why), b (why)`, or `FAILED — …` with the same counts. At most `listed`
/// subjects are named; the rest are counted.
pub fn headline(
    overall: Overall,
    tallies: &[Tally],
    not_verified: &[NotVerified],
    listed: usize,
) -> String {
    if overall == Overall::Verified {
        return overall.as_str().to_string();
    }
    let counts: Vec<String> = tallies
        .iter()
        .filter(|t| t.total > 0)
        .map(|t| format!("{} of {} {} verified", t.verified, t.total, t.kind))
        .collect();
    let mut line = format!("{} — {}", overall.as_str(), counts.join(", "));
    if !not_verified.is_empty() {
        let named: Vec<String> = not_verified
            .iter()
            .take(listed)
            .map(|n| format!("{} ({})", n.subject, n.why))
            .collect();
        line.push_str(&format!("; not verified: {}", named.join(", ")));
        if not_verified.len() > listed {
            line.push_str(&format!(" and {} more", not_verified.len() - listed));
        }
    }
    line
}

/// What one measurement of the service saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    /// Requests measured (warm-up excluded).
    pub requests: u64,
    /// Requests that got no response at all (connect, timeout, connection errors).
    pub transport_errors: u64,
    /// 4xx responses: refusals.
    pub status_4xx: u64,
    /// 5xx responses.
    pub status_5xx: u64,
    /// Responses by status, for the explanation of a refused run.
    pub status_counts: BTreeMap<String, u64>,
    /// Requests per second that were actually sent.
    pub achieved_rate: f64,
    /// Requests per second asked for (open model), if any.
    pub asked_rate: Option<f64>,
    /// The measuring side could not keep up: what it measured may not be the service's own.
    pub measurer_limited: bool,
    /// How late the measuring side sent requests at its p99 (ms).
    pub measurer_lag_p99_ms: f64,
}

impl Measured {
    /// Share of measured requests that failed (transport errors and 5xx).
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        (self.transport_errors + self.status_5xx) as f64 / self.requests as f64
    }

    fn refused_share(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        self.status_4xx as f64 / self.requests as f64
    }

    fn at_full_rate(&self) -> bool {
        self.asked_rate
            .is_some_and(|asked| self.achieved_rate >= FULL_RATE_SHARE * asked)
    }
}

/// A verdict and the one line that explains it.
pub type Judgement = (Verdict, String);

/// What overrides any measured value: nothing got through, the measuring side was the limit,
/// the service mostly refused, or too many requests failed.
pub fn guard(m: &Measured) -> Option<Judgement> {
    if let Some(judgement) = refusal_guard(m) {
        return Some(judgement);
    }
    if m.error_rate() > MAX_ERROR_SHARE {
        return Some((
            Verdict::Failing,
            format!(
                "{:.1} % of {} requests failed ({} transport errors, {} 5xx)",
                m.error_rate() * 100.0,
                m.requests,
                m.transport_errors,
                m.status_5xx
            ),
        ));
    }
    None
}

/// What leaves nothing to judge: no request got through, the measuring side was the limit,
/// or the service mostly refused (a run of 401s or 429s measured the refusals, not the
/// operation). Every verdict starts here, the error rate's included.
pub fn refusal_guard(m: &Measured) -> Option<Judgement> {
    if m.requests == 0 {
        return Some((Verdict::Failing, "no request got through".into()));
    }
    if m.measurer_limited {
        return Some((
            Verdict::Inconclusive,
            "the load generator could not keep up, so the measurement may not be the service's own; see notes".into(),
        ));
    }
    let refused = m.refused_share();
    if refused > MAX_REFUSED_SHARE {
        return Some((
            Verdict::Inconclusive,
            format!(
                "the service refused {:.0} % of the requests (statuses {:?}), so the run measured refusals, not the operation; check the credentials (service.headers), rate limits and the requests in load.endpoints",
                refused * 100.0,
                m.status_counts
            ),
        ));
    }
    None
}

/// A request rate with the digits it needs: `1000`, `42.5`, `0.317` (production traffic can be
/// well under one request a second, which `{:.0}` would print as 0).
pub fn format_rate(rate: f64) -> String {
    if rate >= 100.0 {
        format!("{rate:.0}")
    } else if rate >= 1.0 {
        format!("{rate:.1}")
    } else {
        format!("{rate:.3}")
    }
}

/// `p95`, `p99.9`.
pub fn format_percentile(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("p{p:.0}")
    } else {
        format!("p{p}")
    }
}

/// A latency limit: `percentile` of the latency (`latency_ms`, measured from each request's
/// intended send time) at most `max_ms`. `rate_capped`: the rate asked for could not be run
/// here, so a pass does not verify the constraint as written.
pub fn judge_latency(
    m: &Measured,
    percentile: f64,
    latency_ms: f64,
    max_ms: f64,
    scope: &str,
    rate_capped: bool,
) -> Judgement {
    let p = format_percentile(percentile);
    let headroom = (max_ms - latency_ms) / max_ms * 100.0;
    let margin = if headroom >= 0.0 {
        format!("{headroom:.0} % headroom")
    } else {
        format!("{:.0} % over the limit", -headroom)
    };
    let summary = format!(
        "{p} = {latency_ms:.1} ms, limit {max_ms} ms, {margin} at {} req/s achieved ({scope}, {} requests)",
        format_rate(m.achieved_rate),
        m.requests
    );
    // Generator lag only adds to latency measured from intended send times: a run that passes
    // anyway, at the rate asked for, is a pass.
    let lag_only = m.measurer_limited && m.at_full_rate() && latency_ms <= max_ms;
    // Nor can a late generator add more than its lateness: a run over the limit by more than
    // the generator's p99 wake lag, at the rate asked for, is a failure of the service.
    let lag = m.measurer_lag_p99_ms;
    let over_despite_lag = m.measurer_limited && m.at_full_rate() && latency_ms - lag > max_ms;
    match guard(m) {
        Some((Verdict::Inconclusive, _)) if lag_only && !rate_capped => (Verdict::Passing, summary),
        Some((Verdict::Inconclusive, _)) if over_despite_lag && !rate_capped => (
            Verdict::Failing,
            format!("{summary}; the generator ran up to {lag:.1} ms late (p99), which cannot account for it"),
        ),
        Some((v, why)) => (v, format!("{why}; {summary}")),
        None if latency_ms > max_ms => (Verdict::Failing, summary),
        None if rate_capped => (Verdict::Inconclusive, summary),
        None => (Verdict::Passing, summary),
    }
}

/// A throughput floor: `asked` requests per second sustained. `p99_ms` goes into the line.
pub fn judge_throughput(m: &Measured, asked: f64, p99_ms: f64, rate_capped: bool) -> Judgement {
    let summary = format!(
        "{:.0} req/s achieved of {asked:.0} asked, p99 = {p99_ms:.1} ms, {:.2} % errors",
        m.achieved_rate,
        m.error_rate() * 100.0
    );
    match guard(m) {
        Some((v, why)) => (v, format!("{why}; {summary}")),
        None if rate_capped => (Verdict::Inconclusive, summary),
        None if m.achieved_rate < FULL_RATE_SHARE * asked => (Verdict::Failing, summary),
        None => (Verdict::Passing, summary),
    }
}

/// An error-rate ceiling in percent.
pub fn judge_error_rate(m: &Measured, max_percent: f64, counted_4xx: &[u16]) -> Judgement {
    // The 4xx the constraint counts are errors, not refusals: a run of them fails, while the
    // others (401, 429, …) still make the run say nothing.
    let counted: u64 = m
        .status_counts
        .iter()
        .filter(|(status, _)| {
            status
                .parse::<u16>()
                .is_ok_and(|code| counted_4xx.contains(&code))
        })
        .map(|(_, n)| n)
        .sum();
    let mut refusals = m.clone();
    refusals.status_4xx = m.status_4xx.saturating_sub(counted);
    let errors = m.transport_errors + m.status_5xx + counted;
    let measured = if m.requests == 0 {
        0.0
    } else {
        errors as f64 / m.requests as f64 * 100.0
    };
    let counting = match counted_4xx.len() {
        0 => String::new(),
        100 => " (4xx counted)".to_string(),
        _ => format!(
            " ({} counted)",
            counted_4xx
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let summary = format!(
        "{measured:.2} % of {} requests failed{counting}, limit {max_percent} % at {} req/s",
        m.requests,
        format_rate(m.achieved_rate)
    );
    // Not `guard`: its fixed error share would pre-empt the constraint's own limit.
    if let Some((verdict, why)) = refusal_guard(&refusals) {
        return (verdict, format!("{why}; {summary}"));
    }
    let verdict = if measured > max_percent {
        Verdict::Failing
    } else {
        Verdict::Passing
    };
    (verdict, summary)
}

/// An availability floor in percent: the share of requests answered without a failure
/// (transport errors and 5xx) must stay at or above `min_percent`. Refusals (4xx) are the
/// client's doing and count as answered, except when they are most of the requests, which
/// leaves nothing to judge (`refusal_guard`).
pub fn judge_availability(m: &Measured, min_percent: f64) -> Judgement {
    let measured = 100.0 - m.error_rate() * 100.0;
    let summary = format!(
        "{measured:.3} % of {} requests answered without a failure ({} transport errors, {} 5xx), floor {min_percent} %",
        m.requests, m.transport_errors, m.status_5xx
    );
    if let Some((verdict, why)) = refusal_guard(m) {
        return (verdict, format!("{why}; {summary}"));
    }
    let verdict = if measured < min_percent {
        Verdict::Failing
    } else {
        Verdict::Passing
    };
    (verdict, summary)
}

/// Concurrent users served: `connections` were run (fewer than `users` when the machine
/// cannot open that many, which leaves the constraint undecided).
pub fn judge_concurrency(m: &Measured, users: u64, connections: usize, p99_ms: f64) -> Judgement {
    let summary = format!(
        "{connections} concurrent connections: {:.0} req/s, p99 = {p99_ms:.1} ms, {:.2} % errors",
        m.achieved_rate,
        m.error_rate() * 100.0
    );
    let scaled_down = (connections as u64) < users;
    match guard(m) {
        Some((v, why)) => (v, format!("{why}; {summary}")),
        None if scaled_down => (Verdict::Inconclusive, summary),
        None => (Verdict::Passing, summary),
    }
}

/// Other processes' CPU share above which a measurement is the machine's, not the service's.
pub const MAX_OTHERS_CPU_SHARE: f64 = 0.25;
/// Other processes' disk writes (bytes per second) above which the same holds.
pub const MAX_OTHERS_DISK_BYTES_PER_SECOND: f64 = 20.0 * 1024.0 * 1024.0;

/// Work other processes did on the machine while a run was measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OthersLoad {
    /// Share of the machine's CPU, 0–1.
    pub cpu_share: f64,
    pub disk_bytes_per_second: f64,
}

/// A failing measurement taken while other processes kept the machine busy says more about
/// the machine than the service: it becomes inconclusive, saying so. Passing verdicts stand
/// (interference only adds latency), and so do verdicts with nothing measured.
pub fn discount_interference(judgement: Judgement, others: Option<OthersLoad>) -> Judgement {
    let (verdict, summary) = judgement;
    let Some(others) = others else {
        return (verdict, summary);
    };
    if verdict != Verdict::Failing {
        return (verdict, summary);
    }
    let mut busy = Vec::new();
    if others.cpu_share > MAX_OTHERS_CPU_SHARE {
        busy.push(format!("{:.0} % of its CPU", others.cpu_share * 100.0));
    }
    if others.disk_bytes_per_second > MAX_OTHERS_DISK_BYTES_PER_SECOND {
        busy.push(format!(
            "{:.0} MB/s of disk writes",
            others.disk_bytes_per_second / 1e6
        ));
    }
    if busy.is_empty() {
        return (verdict, summary);
    }
    (
        Verdict::Inconclusive,
        format!(
            "other processes used {} while this was measured, so a failure may be the machine's, not the service's; run it again on a quiet machine; {summary}",
            busy.join(" and ")
        ),
    )
}

/// What a probe (authentication, injection, size, ownership, durability) sent and saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbeFacts {
    /// Requests that show the constraint is not met.
    pub findings: usize,
    /// The first finding, in words.
    pub first_finding: Option<String>,
    /// Requests that counted (answered in a way that shows something).
    pub probed: usize,
    /// Requests refused before they could show anything — a 429 from the rate limit, a 401
    /// to the probe's own valid token — with the first named.
    pub refused: usize,
    pub first_refusal: Option<String>,
    /// Routes the constraint covers that no request reached, with the first named.
    pub unreached: usize,
    pub first_unreached: Option<String>,
}

/// A probe's verdict: a finding fails it whatever else happened; then anything refused or not
/// reached leaves it inconclusive (never a pass on refusals or on part of the routes); nothing
/// probed is unchecked; otherwise it passes. `account` says what was sent.
pub fn judge_probe(facts: &ProbeFacts, account: &str) -> Judgement {
    if facts.findings > 0 {
        return (
            Verdict::Failing,
            format!(
                "{} finding(s): {}; {account}",
                facts.findings,
                facts.first_finding.as_deref().unwrap_or("see findings")
            ),
        );
    }
    if facts.refused > 0 {
        return (
            Verdict::Inconclusive,
            format!(
                "{} probe request(s) were refused before they could show anything (first: {}), so they neither pass nor fail it; {account}",
                facts.refused,
                facts.first_refusal.as_deref().unwrap_or("?")
            ),
        );
    }
    if facts.unreached > 0 {
        return (
            Verdict::Inconclusive,
            format!(
                "{} route(s) not reached (first: {}); {account}",
                facts.unreached,
                facts.first_unreached.as_deref().unwrap_or("?")
            ),
        );
    }
    if facts.probed == 0 {
        return (
            Verdict::Unchecked,
            format!("nothing could be probed; {account}"),
        );
    }
    (Verdict::Passing, account.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1000 requests at 100 req/s asked and achieved, no errors, the generator keeping up.
    fn healthy() -> Measured {
        Measured {
            requests: 1000,
            achieved_rate: 100.0,
            asked_rate: Some(100.0),
            ..Measured::default()
        }
    }

    #[test]
    fn interference_table() {
        let failing: Judgement = (Verdict::Failing, "p95 = 900 ms".into());
        let quiet = OthersLoad {
            cpu_share: 0.05,
            disk_bytes_per_second: 1e5,
        };
        let cases = [
            (
                "not measured",
                failing.clone(),
                None,
                Verdict::Failing,
                "p95 = 900 ms",
            ),
            (
                "a quiet machine",
                failing.clone(),
                Some(quiet),
                Verdict::Failing,
                "p95",
            ),
            (
                "another build on the cores",
                failing.clone(),
                Some(OthersLoad {
                    cpu_share: 0.6,
                    ..quiet
                }),
                Verdict::Inconclusive,
                "other processes used 60 % of its CPU",
            ),
            (
                "a disk flush",
                failing.clone(),
                Some(OthersLoad {
                    disk_bytes_per_second: 80e6,
                    ..quiet
                }),
                Verdict::Inconclusive,
                "80 MB/s of disk writes",
            ),
            (
                "a pass stands",
                (Verdict::Passing, "p95 = 9 ms".into()),
                Some(OthersLoad {
                    cpu_share: 0.9,
                    ..quiet
                }),
                Verdict::Passing,
                "p95 = 9 ms",
            ),
        ];
        for (name, judgement, others, verdict, says) in cases {
            let (got, summary) = discount_interference(judgement, others);
            assert_eq!(got, verdict, "{name}");
            assert!(summary.contains(says), "{name}: {summary}");
        }
    }

    #[test]
    fn probe_table() {
        let probed = ProbeFacts {
            probed: 10,
            ..ProbeFacts::default()
        };
        let cases: Vec<(&str, ProbeFacts, Verdict, &str)> = vec![
            (
                "all probed, nothing found",
                probed.clone(),
                Verdict::Passing,
                "sent",
            ),
            (
                "a finding fails even with refusals and gaps",
                ProbeFacts {
                    findings: 1,
                    first_finding: Some("GET /x answered 200".into()),
                    refused: 3,
                    unreached: 2,
                    ..probed.clone()
                },
                Verdict::Failing,
                "1 finding(s): GET /x answered 200",
            ),
            (
                "a 429 is never a pass",
                ProbeFacts {
                    refused: 1,
                    first_refusal: Some("POST /tasks answered 429".into()),
                    ..probed.clone()
                },
                Verdict::Inconclusive,
                "refused before they could show anything (first: POST /tasks answered 429)",
            ),
            (
                "part of the routes is not all of them",
                ProbeFacts {
                    unreached: 1,
                    first_unreached: Some("GET /tasks/{id}".into()),
                    ..probed.clone()
                },
                Verdict::Inconclusive,
                "1 route(s) not reached (first: GET /tasks/{id})",
            ),
            (
                "nothing probed",
                ProbeFacts::default(),
                Verdict::Unchecked,
                "nothing could be probed",
            ),
            (
                "refused and nothing else",
                ProbeFacts {
                    refused: 4,
                    ..ProbeFacts::default()
                },
                Verdict::Inconclusive,
                "4 probe request(s) were refused",
            ),
        ];
        for (name, facts, verdict, text) in cases {
            let (got, line) = judge_probe(&facts, "sent");
            assert_eq!(got, verdict, "{name}");
            assert!(line.contains(text), "{name}: {line}");
        }
    }

    #[test]
    fn guard_table() {
        let cases: &[(&str, Measured, Option<Verdict>)] = &[
            ("healthy", healthy(), None),
            (
                "nothing got through",
                Measured::default(),
                Some(Verdict::Failing),
            ),
            (
                "generator limited",
                Measured {
                    measurer_limited: true,
                    ..healthy()
                },
                Some(Verdict::Inconclusive),
            ),
            (
                "6 % refused",
                Measured {
                    status_4xx: 60,
                    ..healthy()
                },
                Some(Verdict::Inconclusive),
            ),
            (
                "5 % refused is still a measurement",
                Measured {
                    status_4xx: 50,
                    ..healthy()
                },
                None,
            ),
            (
                "2 % 5xx",
                Measured {
                    status_5xx: 20,
                    ..healthy()
                },
                Some(Verdict::Failing),
            ),
            (
                "2 % transport errors",
                Measured {
                    transport_errors: 20,
                    ..healthy()
                },
                Some(Verdict::Failing),
            ),
            (
                "1 % errors",
                Measured {
                    status_5xx: 10,
                    ..healthy()
                },
                None,
            ),
        ];
        for (name, measured, expected) in cases {
            assert_eq!(guard(measured).map(|(v, _)| v), *expected, "{name}");
        }
    }

    #[test]
    fn latency_table() {
        use Verdict::*;
        let limited = |lag| Measured {
            measurer_limited: true,
            measurer_lag_p99_ms: lag,
            ..healthy()
        };
        // (name, facts, measured p95, rate capped, expected)
        let cases: &[(&str, Measured, f64, bool, Verdict)] = &[
            ("under the limit", healthy(), 41.0, false, Passing),
            ("over the limit", healthy(), 141.0, false, Failing),
            (
                "under, but the rate was capped",
                healthy(),
                41.0,
                true,
                Inconclusive,
            ),
            (
                "over, rate capped: still over",
                healthy(),
                141.0,
                true,
                Failing,
            ),
            (
                "generator late but under anyway",
                limited(30.0),
                41.0,
                false,
                Passing,
            ),
            (
                "over by more than the lag",
                limited(30.0),
                141.0,
                false,
                Failing,
            ),
            (
                "over by less than the lag",
                limited(60.0),
                141.0,
                false,
                Inconclusive,
            ),
            (
                "late and short of the rate",
                Measured {
                    achieved_rate: 50.0,
                    ..limited(1.0)
                },
                41.0,
                false,
                Inconclusive,
            ),
            (
                "refused",
                Measured {
                    status_4xx: 600,
                    ..healthy()
                },
                1.0,
                false,
                Inconclusive,
            ),
            (
                "errors",
                Measured {
                    status_5xx: 600,
                    ..healthy()
                },
                1.0,
                false,
                Failing,
            ),
        ];
        for (name, measured, p95, capped, expected) in cases {
            let (verdict, line) = judge_latency(measured, 95.0, *p95, 100.0, "reads", *capped);
            assert_eq!(verdict, *expected, "{name}: {line}");
            assert!(line.contains("limit 100 ms"), "{name}: {line}");
        }
        let (_, line) = judge_latency(&healthy(), 95.0, 41.0, 100.0, "reads", false);
        assert_eq!(
            line,
            "p95 = 41.0 ms, limit 100 ms, 59 % headroom at 100 req/s achieved (reads, 1000 requests)"
        );
        let (_, line) = judge_latency(&healthy(), 99.9, 150.0, 100.0, "all", false);
        assert!(
            line.starts_with("p99.9 = 150.0 ms") && line.contains("50 % over the limit"),
            "{line}"
        );
    }

    #[test]
    fn overall_table() {
        use Overall::*;
        use Verdict::*;
        let cases: &[(&[Verdict], Overall)] = &[
            (&[], Verified),
            (&[Passing, Passing], Verified),
            (&[Passing, Unchecked], NoFailures),
            (&[Passing, Inconclusive], NoFailures),
            (&[Inconclusive, Failing], Failed),
            (&[Failing], Failed),
        ];
        for (verdicts, overall) in cases {
            assert_eq!(
                Overall::of_verdicts(verdicts.iter().copied()),
                *overall,
                "{verdicts:?}"
            );
        }
        assert!(NoFailures.nothing_failed() && Verified.nothing_failed());
        assert!(!Failed.nothing_failed());
    }

    /// The headline never says VERIFIED while anything is unverified, and names what was not.
    #[test]
    fn headline_table() {
        let tallies = [
            Tally {
                kind: "approved scenarios",
                verified: 4,
                total: 4,
            },
            Tally {
                kind: "constraints",
                verified: 6,
                total: 11,
            },
            Tally {
                kind: "nothing",
                verified: 0,
                total: 0,
            },
        ];
        let not = |subject: &str, why: &str| NotVerified {
            subject: subject.into(),
            why: why.into(),
        };
        let missing = [
            not("perf.concurrency", "inconclusive"),
            not("scale.nodes", "unchecked"),
            not("uptime", "unchecked"),
        ];
        assert_eq!(headline(Overall::Verified, &tallies, &[], 5), "VERIFIED");
        assert_eq!(
            headline(Overall::NoFailures, &tallies, &missing, 2),
            "NO FAILURES — 4 of 4 approved scenarios verified, 6 of 11 constraints verified; not verified: perf.concurrency (inconclusive), scale.nodes (unchecked) and 1 more"
        );
        assert_eq!(
            headline(Overall::Failed, &tallies[..1], &[], 5),
            "FAILED — 4 of 4 approved scenarios verified"
        );
    }

    /// The error rate is judged on responses the operation gave, never on refusals: a run of
    /// 401s (no error by the 5xx count) once passed "error rate below 0.1 %".
    #[test]
    fn error_rate_table() {
        use Verdict::*;
        let with = |status_4xx: u64, status_5xx: u64, status: &str| Measured {
            status_4xx,
            status_5xx,
            status_counts: [(status.to_string(), status_4xx.max(status_5xx))].into(),
            ..healthy()
        };
        let all_4xx: Vec<u16> = (400..500).collect();
        // Name, facts, limit, counted 4xx, verdict, words of the summary.
        type Case<'a> = (&'a str, Measured, f64, &'a [u16], Verdict, &'a str);
        let cases: &[Case] = &[
            ("healthy", healthy(), 0.1, &[], Passing, "0.00 % of 1000"),
            (
                "every response a 401",
                with(1000, 0, "401"),
                0.1,
                &[],
                Inconclusive,
                "refused 100 %",
            ),
            (
                "rate-limited: 6 % 429",
                with(60, 0, "429"),
                0.1,
                &[],
                Inconclusive,
                "refused 6 %",
            ),
            (
                "a few refusals are not errors",
                with(40, 0, "404"),
                0.1,
                &[],
                Passing,
                "0.00 %",
            ),
            (
                "5xx over the limit",
                with(0, 5, "500"),
                0.1,
                &[],
                Failing,
                "0.50 %",
            ),
            // The constraint's limit decides, not the guards' fixed 1 % error share.
            (
                "3 % 5xx under a 5 % limit",
                with(0, 30, "500"),
                5.0,
                &[],
                Passing,
                "3.00 %",
            ),
            (
                "nothing got through",
                Measured::default(),
                0.1,
                &[],
                Failing,
                "no request got through",
            ),
            // Counted 4xx are errors, not refusals: a run of 409s fails.
            (
                "409s counted by the constraint",
                with(60, 0, "409"),
                1.0,
                &[409],
                Failing,
                "6.00 % of 1000 requests failed (409 counted)",
            ),
            (
                "every 4xx counted, and there are none",
                healthy(),
                1.0,
                &all_4xx,
                Passing,
                "(4xx counted)",
            ),
            // A 401 is still a refusal when only 409 counts.
            (
                "401s when only 409 counts",
                with(1000, 0, "401"),
                1.0,
                &[409],
                Inconclusive,
                "refused 100 %",
            ),
            (
                "generator limited",
                Measured {
                    measurer_limited: true,
                    ..healthy()
                },
                0.1,
                &[],
                Inconclusive,
                "could not keep up",
            ),
        ];
        for (name, measured, limit, counted, verdict, says) in cases {
            let (got, summary) = judge_error_rate(measured, *limit, counted);
            assert_eq!(got, *verdict, "{name}: {summary}");
            assert!(summary.contains(says), "{name}: {summary}");
        }
    }

    #[test]
    fn availability_table() {
        use Verdict::*;
        let with_5xx = |requests: u64, failed: u64| Measured {
            requests,
            status_5xx: failed,
            ..healthy()
        };
        let cases = [
            (
                "all answered",
                healthy(),
                99.9,
                Passing,
                "100.000 % of 1000",
            ),
            (
                "one in a thousand at 99.9",
                with_5xx(1000, 1),
                99.9,
                Passing,
                "99.900 %",
            ),
            (
                "two in a thousand at 99.9",
                with_5xx(1000, 2),
                99.9,
                Failing,
                "99.800 %",
            ),
            (
                "transport errors count",
                Measured {
                    transport_errors: 10,
                    ..healthy()
                },
                99.9,
                Failing,
                "10 transport errors",
            ),
            (
                "refusals are answers",
                Measured {
                    status_4xx: 30,
                    ..healthy()
                },
                99.9,
                Passing,
                "100.000 %",
            ),
            (
                "mostly refused",
                Measured {
                    status_4xx: 900,
                    ..healthy()
                },
                99.9,
                Inconclusive,
                "refused 90 %",
            ),
            (
                "nothing measured",
                Measured::default(),
                99.9,
                Failing,
                "no request",
            ),
        ];
        for (name, measured, floor, verdict, says) in cases {
            let (got, summary) = judge_availability(&measured, floor);
            assert_eq!(got, verdict, "{name}: {summary}");
            assert!(summary.contains(says), "{name}: {summary}");
        }
    }

    #[test]
    fn throughput_error_rate_and_concurrency_tables() {
        use Verdict::*;
        let short = Measured {
            achieved_rate: 90.0,
            ..healthy()
        };
        assert_eq!(judge_throughput(&healthy(), 100.0, 5.0, false).0, Passing);
        assert_eq!(judge_throughput(&short, 100.0, 5.0, false).0, Failing);
        assert_eq!(
            judge_throughput(&healthy(), 100.0, 5.0, true).0,
            Inconclusive
        );

        assert_eq!(judge_error_rate(&healthy(), 0.1, &[]).0, Passing);
        let failing = Measured {
            status_5xx: 5,
            ..healthy()
        };
        assert_eq!(judge_error_rate(&failing, 0.1, &[]).0, Failing);
        assert_eq!(judge_error_rate(&Measured::default(), 0.1, &[]).0, Failing);
        let limited = Measured {
            measurer_limited: true,
            ..healthy()
        };
        assert_eq!(judge_error_rate(&limited, 0.1, &[]).0, Inconclusive);

        assert_eq!(judge_concurrency(&healthy(), 100, 100, 5.0).0, Passing);
        assert_eq!(
            judge_concurrency(&healthy(), 5000, 1000, 5.0).0,
            Inconclusive
        );
        let errors = Measured {
            transport_errors: 100,
            ..healthy()
        };
        assert_eq!(judge_concurrency(&errors, 100, 100, 5.0).0, Failing);
    }
}
