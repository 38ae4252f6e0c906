//! What a hostile or careless reviewer tried: a cause that shows up only after the onset,
//! windows at the edges of time, a window with no events, an attribute some events lack.
//! Each case is one the analysis once got wrong.

use sdd_debugger::event::{Event, EventKind, Nanos, Outcome, NANOS_PER_SECOND};
use sdd_debugger::incident::{analyze, Context, Corpus, Options, Report};
use sdd_debugger::testing::Rng;

const START: Nanos = 1_796_000_000 * NANOS_PER_SECOND;
const SCENARIO: &str = "shop.create_an_order";

fn decision(at: Nanos, failed: bool, attributes: &[(&str, &str)]) -> Event {
    let mut e = Event::at(at, EventKind::Log);
    e.scenario = Some(SCENARIO.into());
    e.outcome = Some(if failed {
        Outcome::Failure
    } else {
        Outcome::Success
    });
    e.service_version = Some("2.0.0".into());
    for (k, v) in attributes {
        e.attributes.insert(k.to_string(), v.to_string());
    }
    e
}

/// `seconds` of traffic at 10 requests a second; `fails(second, rng)` says whether a request
/// fails and `attributes(second, rng)` what it carries.
fn traffic(
    seconds: u64,
    mut request: impl FnMut(f64, &mut Rng) -> (bool, Vec<(&'static str, &'static str)>),
) -> Corpus {
    let mut rng = Rng::new(11);
    let mut corpus = Corpus::new(&[]);
    let mut at = START as f64;
    loop {
        at += rng.exponential(NANOS_PER_SECOND as f64 / 10.0);
        let second = (at - START as f64) / NANOS_PER_SECOND as f64;
        if second >= seconds as f64 {
            break;
        }
        let (failed, attributes) = request(second, &mut rng);
        corpus.add(&decision(at as Nanos, failed, &attributes));
    }
    corpus
}

fn causes(report: &Report) -> Vec<&str> {
    report.hypotheses.iter().map(|h| h.cause.as_str()).collect()
}

#[test]
fn an_attribute_that_begins_failing_after_the_onset_is_a_symptom_not_a_cause() {
    // Failures rise at 840 s for every request (a cause the events cannot see); from 870 s,
    // three bins later, a new region appears and its requests fail more. The region came
    // after the onset: a consequence (or a coincidence), never the cause.
    let corpus = traffic(1200, |s, rng| {
        let eu = s >= 870.0 && rng.unit() < 0.5;
        let p = if eu {
            0.9
        } else if s >= 840.0 {
            0.3
        } else {
            0.005
        };
        let region = if eu { "eu" } else { "us" };
        (rng.unit() < p, vec![("region", region)])
    });
    let report = analyze(&corpus, &Context::default(), &Options::default());
    assert!(!report.broke.is_empty(), "{}", report.headline);
    assert!(
        !causes(&report).iter().any(|c| c.contains("region = eu")),
        "ranked as a cause: {:?} (onset {:?})",
        causes(&report),
        report.windows.onset
    );
    assert!(
        report
            .symptoms
            .iter()
            .any(|s| s.what.contains("region = eu")),
        "not listed as a symptom: {:?}",
        report.symptoms
    );
}

#[test]
fn an_attribute_failing_from_the_onset_still_ranks() {
    // The same run with the region there from the start and failing from the onset: the
    // symptom rule must not hide a real locator.
    let corpus = traffic(1200, |s, rng| {
        let eu = rng.unit() < 0.3;
        let p = if eu && s >= 840.0 { 0.9 } else { 0.005 };
        (
            rng.unit() < p,
            vec![("region", if eu { "eu" } else { "us" })],
        )
    });
    let report = analyze(&corpus, &Context::default(), &Options::default());
    assert!(
        causes(&report)
            .first()
            .is_some_and(|c| c.contains("region = eu")),
        "{:?}; symptoms {:?}",
        causes(&report),
        report.symptoms
    );
}

#[test]
fn windows_at_the_edges_of_time_do_not_overflow() {
    let corpus = traffic(600, |_, rng| (rng.unit() < 0.01, Vec::new()));
    // Nanoseconds since 1970 in an i64 reach 1677 and 2262: a window across that range has a
    // length that does not fit in one.
    for (window, baseline) in [
        (
            Some((-9_000_000_000_000_000_000, 9_000_000_000_000_000_000)),
            None,
        ),
        (Some((Nanos::MIN, Nanos::MAX)), None),
        (
            Some((START, START + 600 * NANOS_PER_SECOND)),
            Some((Nanos::MIN, START)),
        ),
        (None, Some((Nanos::MIN + 1, START + 300 * NANOS_PER_SECOND))),
    ] {
        let options = Options {
            window,
            baseline,
            ..Options::default()
        };
        let report = analyze(&corpus, &Context::default(), &options);
        assert!(report.hypotheses.is_empty(), "{}", report.headline);
    }
}

#[test]
fn a_window_without_events_is_said_not_analysed() {
    let corpus = traffic(600, |_, rng| (rng.unit() < 0.01, Vec::new()));
    let year = 365 * 24 * 3600 * NANOS_PER_SECOND;
    let options = Options {
        window: Some((START - 2 * year, START - year)),
        ..Options::default()
    };
    let report = analyze(&corpus, &Context::default(), &options);
    // "Nothing above noise" would be a verdict on no evidence at all.
    assert!(
        report.headline.starts_with("NOTHING TO ANALYSE"),
        "{}",
        report.headline
    );
    assert!(
        report.headline.contains("incident window"),
        "{}",
        report.headline
    );
}

#[test]
fn an_attribute_share_names_the_failures_it_was_counted_over() {
    // Half the events come from a logger that does not record the region: the share among
    // failures is over those that carry one, and the claim must say so.
    let corpus = traffic(1200, |s, rng| {
        let logged = rng.unit() < 0.5;
        let ap = rng.unit() < 0.3;
        let p = if ap && s >= 840.0 { 0.9 } else { 0.005 };
        let attributes = if logged {
            vec![("region", if ap { "ap" } else { "us" })]
        } else {
            Vec::new()
        };
        (rng.unit() < p, attributes)
    });
    let report = analyze(&corpus, &Context::default(), &Options::default());
    let h = report
        .hypotheses
        .iter()
        .find(|h| h.cause.contains("region = ap"))
        .unwrap_or_else(|| panic!("{:?}", causes(&report)));
    let claim = &h.evidence_for[0].claim;
    assert!(
        claim.contains("of the failures with a region"),
        "the share is over the failures that carry a region: {claim}"
    );
}

#[test]
fn a_deploy_inside_the_onset_bin_is_not_said_to_precede_it() {
    // The onset is the start of a bin; a version first seen later in that bin is ranked (the
    // order within a bin cannot be told), but it was not "0 s before the onset".
    let generated =
        sdd_debugger::testing::incident(sdd_debugger::testing::Planted::Deploy, 1, 60.0, 600);
    let mut corpus = Corpus::new(&["order_id".to_string()]);
    for e in &generated.events {
        corpus.add(e);
    }
    // Bins of 9 s: the planted deploy (at 420 s) falls 6 s into the bin that holds the onset.
    let options = Options {
        bin: Some(9_000_000_000),
        ..Options::default()
    };
    let report = analyze(&corpus, &Context::default(), &options);
    let deploy = report
        .hypotheses
        .iter()
        .find(|h| h.kind == "deploy")
        .unwrap_or_else(|| panic!("{:?}", causes(&report)));
    let first_seen = &deploy.evidence_for[0];
    let before = first_seen.figures["seconds_before_onset"];
    assert!(before < 0.0, "planted after the bin start: {first_seen:?}");
    assert!(
        !first_seen.claim.contains("before the onset") && first_seen.claim.contains("after"),
        "{}",
        first_seen.claim
    );
}

#[test]
fn with_no_success_left_the_baseline_is_the_reference_and_says_so() {
    // From 300 s on, only client 7.1.0 still calls, and every call fails: the incident window
    // has no success to compare with, so the share among failures is read against the
    // successes before the onset (7.1.0 was one call in five there).
    let corpus = traffic(400, |second, rng| {
        if second < 300.0 {
            let client = if rng.below(5) == 0 { "7.1.0" } else { "7.0.3" };
            (rng.unit() < 0.002, vec![("client_version", client)])
        } else {
            (true, vec![("client_version", "7.1.0")])
        }
    });
    let report = analyze(&corpus, &Context::default(), &Options::default());
    let h = report
        .hypotheses
        .iter()
        .find(|h| h.cause.contains("client_version = 7.1.0"))
        .unwrap_or_else(|| panic!("{:?}", causes(&report)));
    let claim = &h.evidence_for[0].claim;
    assert!(
        claim.contains("of the successes before the onset"),
        "{claim}"
    );
}
