//! The security and durability probes, for real on the projects fixture's service: each
//! planted fault is a hole a hostile review found the probes blind to — an SQL injection
//! through a nested JSON field or an example's header, the token check skipped on `/projects/`
//! or `/Projects`, a rate limit on reads only — and each must fail its constraint. A healthy
//! service passes without a false alarm (the round trip reads back the object its payload
//! went into, or is not checked), and requests refused by a low rate limit leave a verdict
//! inconclusive, saying so, never passing or unchecked.

use std::future::Future;
use std::pin::Pin;

use sdd_verify::constraints::{ConstraintVerdict, Verdict};
use sdd_verify::reliability::{Restarter, Stop};
use sdd_verify::testing::FixtureRun;

const AUTHENTICATION: &str = "workbench.security.authentication_required";
const INJECTION: &str = "workbench.security.injection_safety";
const RATE_LIMIT: &str = "workbench.security.rate_limiting";
const DURABILITY: &str = "workbench.reliability.durability";

/// Leaves the service running: the durability verdicts these tests look at are decided before
/// or without a real restart (the fixture keeps its data in memory).
struct KeepRunning;

impl Restarter for KeepRunning {
    fn restart(&self, _how: Stop) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async { Ok(()) })
    }
}

/// Start the projects fixture's service with `faults` and a limit of `rate_limit` requests per minute
/// and user, and verify the constraint `id` against it.
async fn verify_one(id: &str, faults: &str, rate_limit: u32) -> ConstraintVerdict {
    verify_with_scenarios(id, faults, rate_limit, &[]).await
}

/// [`verify_one`] with only the scenarios `keep` (all when empty).
async fn verify_with_scenarios(
    id: &str,
    faults: &str,
    rate_limit: u32,
    keep: &[&str],
) -> ConstraintVerdict {
    let project = sdd_verify::testing::projects_project().unwrap();
    let root = project.path();
    sdd_verify::testing::set_service_env(root, "FAULTS", "none", faults).unwrap();
    sdd_verify::testing::set_service_env(
        root,
        "RATE_LIMIT",
        "\"1000\"",
        &format!("\"{rate_limit}\""),
    )
    .unwrap();
    let run = FixtureRun {
        scenarios: keep,
        restarter: Some(&KeepRunning),
        ..FixtureRun::default()
    };
    let (mut verdicts, _) = sdd_verify::testing::verify_fixture(root, &[id], run).await;
    assert_eq!(verdicts.len(), 1, "{verdicts:#?}");
    verdicts.remove(0)
}

fn has_finding(v: &ConstraintVerdict, request: &str, problem: &str) -> bool {
    v.findings
        .iter()
        .any(|f| f.request.contains(request) && f.problem.contains(problem))
}

/// A healthy service passes injection safety: every input, nested fields and the example's
/// header included, and the round trip reads back only the object its payload went into
/// (the items example's first GET after a write reads the item, not the project the payload
/// was written to: that once was a false "did not come back verbatim").
#[tokio::test]
async fn injection_on_a_healthy_service_passes_without_a_false_alarm() {
    let v = verify_one(INJECTION, "none", 1000).await;
    assert_eq!(v.verdict, Verdict::Passing, "{v:#?}");
    assert!(v.findings.is_empty(), "{v:#?}");
    assert!(
        v.summary.contains(
            "every query value, path parameter, JSON field at any depth and example header"
        ),
        "{}",
        v.summary
    );
    // The project example reads its project back, the items example its item (through
    // `GET /projects/${pid}/items/${iid}`, which once was taken for the project's read-back);
    // the listing example has no read of what its write stored, and says so.
    assert!(
        v.summary.contains("6 stored payload(s) read back verbatim"),
        "{}",
        v.summary
    );
    assert!(
        v.summary.contains(
            "round trip not checked for `example 1` of `workbench.items_of_a_project_are_listed`"
        ),
        "{}",
        v.summary
    );
}

/// Payloads go into a JSON field inside an object (`meta.tag`) and into the value of a header
/// an example sends (`X-Team-Tag`): both spliced into SQL answer 500.
#[tokio::test]
async fn injection_through_a_nested_field_or_an_example_header_fails() {
    let cases = [
        (
            "sql_nested",
            "POST /projects/",
            "with sql payload in `meta.tag`",
        ),
        (
            "sql_header",
            "GET /projects",
            "with sql payload in header `X-Team-Tag`",
        ),
    ];
    for (fault, request, payload) in cases {
        let v = verify_one(INJECTION, fault, 1000).await;
        assert_eq!(v.verdict, Verdict::Failing, "{fault}: {v:#?}");
        assert!(
            v.findings.iter().any(|f| f.request.starts_with(request)
                && f.request.contains(payload)
                && f.problem.starts_with("answered 500")),
            "{fault}: no 500 on {request} {payload}: {:#?}",
            v.findings
        );
    }
}

/// Under a rate limit that refuses the probe's requests, the injection verdict is
/// inconclusive and its account says they were refused, not "N requests on 0 routes".
#[tokio::test]
async fn injection_refused_by_a_rate_limit_is_inconclusive_and_says_so() {
    let v = verify_one(INJECTION, "none", 3).await;
    assert_eq!(v.verdict, Verdict::Inconclusive, "{v:#?}");
    assert!(
        v.summary.contains("refused") && v.summary.contains(" answered on "),
        "{}",
        v.summary
    );
    assert!(
        v.refused.iter().any(|r| r.ends_with("answered 429")),
        "{v:#?}"
    );
}

/// `/projects/` and `/Projects` must refuse a request without a token like `/projects` does.
#[tokio::test]
async fn authentication_skipped_on_a_path_variant_fails() {
    let healthy = verify_one(AUTHENTICATION, "none", 1000).await;
    assert_eq!(healthy.verdict, Verdict::Passing, "{healthy:#?}");
    assert!(
        healthy.summary.contains("trailing slash") && healthy.summary.contains("case"),
        "{}",
        healthy.summary
    );
    let cases = [
        (
            "trailing_slash",
            "GET /projects/ (a trailing slash added) without a token",
        ),
        ("case_path", "GET /Projects (another case) without a token"),
    ];
    for (fault, request) in cases {
        let v = verify_one(AUTHENTICATION, fault, 1000).await;
        assert_eq!(v.verdict, Verdict::Failing, "{fault}: {v:#?}");
        assert!(
            has_finding(&v, request, "answered 200"),
            "{fault}: no finding on {request}: {:#?}",
            v.findings
        );
    }
}

/// A limit on reads only: the writes' burst goes through and the constraint fails. The
/// healthy service passes, and the account names both bursts.
#[tokio::test]
async fn a_rate_limit_on_reads_only_fails() {
    let healthy = verify_one(RATE_LIMIT, "none", 20).await;
    assert_eq!(healthy.verdict, Verdict::Passing, "{healthy:#?}");
    assert!(
        healthy.summary.contains("GET /projects") && healthy.summary.contains("POST /projects"),
        "{}",
        healthy.summary
    );
    let v = verify_one(RATE_LIMIT, "rate_get_only", 20).await;
    assert_eq!(v.verdict, Verdict::Failing, "{v:#?}");
    assert!(
        has_finding(&v, "POST /projects", "beyond the limit of 20 were accepted"),
        "{:#?}",
        v.findings
    );
}

/// Without a write to burst, a limit on "requests" is not shown to be met by reads alone:
/// inconclusive, saying writes were not burst — not a pass.
#[tokio::test]
async fn a_rate_limit_with_no_write_to_burst_is_inconclusive() {
    let v = verify_with_scenarios(
        RATE_LIMIT,
        "rate_get_only",
        20,
        &["workbench.list_my_projects"],
    )
    .await;
    assert_eq!(v.verdict, Verdict::Inconclusive, "{v:#?}");
    assert!(
        v.summary
            .starts_with("writes not burst: no example or load endpoint sends a write"),
        "{}",
        v.summary
    );
}

/// The durability probe's writes refused by the rate limit: not "no example writes and reads
/// back" (unchecked), but inconclusive, naming the refused request.
#[tokio::test]
async fn durability_with_its_writes_refused_is_inconclusive() {
    let v = verify_one(DURABILITY, "none", 3).await;
    assert_eq!(v.verdict, Verdict::Inconclusive, "{v:#?}");
    assert!(
        v.summary.contains("answered 429") && v.summary.contains("POST /projects"),
        "{}",
        v.summary
    );
    assert!(!v.refused.is_empty(), "{v:#?}");
}
