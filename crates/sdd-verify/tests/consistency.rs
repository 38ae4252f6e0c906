//! Consistency after load, for real on the inventory fixture's service: a service that keeps
//! answering 201 but stops storing after a few writes (`drop_after_writes`) passes every status
//! check of a load run, and only reading back what the load created, and re-running the
//! examples, shows it. The healthy service raises no alarm, and without a load run there is
//! nothing to check.
//!
//! (A second test binary beside `testrun.rs`: this one starts the fixture's service and
//! puts load on it, which the test-run tests never do.)

use sdd_verify::consistency::ConsistencyCheck;
use sdd_verify::constraints::{ConstraintVerdict, Verdict};
use sdd_verify::testing::FixtureRun;

const CONCURRENCY: &str = "inventory.performance.concurrent_users";
const RESTART: &str = "inventory.reliability.stock_survives_a_restart";

/// Start the fixture's service with `faults` and verify the constraints `ids` against it.
async fn verify_with(faults: &str, ids: &[&str]) -> (Vec<ConstraintVerdict>, ConsistencyCheck) {
    let project = sdd_verify::testing::inventory_project().unwrap();
    let root = project.path();
    sdd_verify::testing::set_service_env(root, "FAULTS", "none", faults).unwrap();
    let run = FixtureRun {
        with_load_users_and_sample: true,
        ..FixtureRun::default()
    };
    sdd_verify::testing::verify_fixture(root, ids, run).await
}

#[tokio::test]
async fn data_dropped_after_a_few_writes_is_caught_and_a_healthy_service_passes() {
    // The fixture's example adds an item and reads it back by `sku`: that is what the load
    // keeps of its writes, and how they are read back.
    let (verdicts, healthy) = verify_with("none", &[CONCURRENCY]).await;
    let created = verdicts[0].measured.as_ref().unwrap().created.as_ref();
    assert_eq!(
        created.map(|c| c.field.as_str()),
        Some("sku"),
        "{verdicts:#?}"
    );
    assert_eq!(healthy.verdict, Some(Verdict::Passing), "{healthy:#?}");
    assert!(healthy.findings.is_empty(), "{healthy:#?}");
    assert!(healthy.resources_sampled > 0, "{healthy:#?}");
    assert_eq!(healthy.resources_intact, healthy.resources_sampled);
    // "Add an item" passes before and after; "Remove more than in stock" fails before the
    // load (the fixture's planted functional bug), so it is not this check's to judge.
    assert_eq!(healthy.examples_rerun, 1, "{healthy:#?}");
    assert!(
        healthy
            .summary
            .ends_with("1 example re-run: nothing lost or changed"),
        "{}",
        healthy.summary
    );

    // Every write of the load is answered 201 either way: only reading back tells.
    let (verdicts, dropped) = verify_with("drop_after_writes", &[CONCURRENCY]).await;
    assert_eq!(
        verdicts[0].measured.as_ref().unwrap().errors.status_5xx,
        0,
        "{verdicts:#?}"
    );
    assert_eq!(dropped.verdict, Some(Verdict::Failing), "{dropped:#?}");
    let lost = dropped
        .findings
        .iter()
        .find(|f| f.request.starts_with("GET /items/load-"))
        .unwrap_or_else(|| panic!("a sampled item read back: {dropped:#?}"));
    assert!(
        lost.request.contains("created by POST /items, request ")
            && lost
                .request
                .contains(&format!("of the `{CONCURRENCY}` run")),
        "{lost:?}"
    );
    assert!(lost.problem.starts_with("answered 404"), "{lost:?}");
    assert!(dropped.resources_intact < dropped.resources_sampled);
    assert!(
        dropped.summary.contains(" sampled resources gone or changed, 1 of 1 example that passed before the load fail after it; first: GET /items/load-"),
        "{}",
        dropped.summary
    );
    // The example that passed before the load fails after it, naming its request.
    let rerun = dropped
        .findings
        .iter()
        .find(|f| {
            f.request
                .contains("(`add then read back` of `inventory.add_an_item`)")
        })
        .unwrap_or_else(|| panic!("the example re-run: {dropped:#?}"));
    assert!(rerun.request.starts_with("GET /items/add-"), "{rerun:?}");
    assert!(
        rerun
            .problem
            .starts_with("passed before the load, fails after it: status expected 200, got 404"),
        "{rerun:?}"
    );
}

#[tokio::test]
async fn without_a_load_run_there_is_nothing_to_check() {
    let (verdicts, check) = verify_with("none", &[RESTART]).await;
    assert_eq!(verdicts[0].verdict, Verdict::Unchecked);
    assert_eq!(check.verdict, None);
    assert_eq!(
        check.summary,
        "no load ran, so nothing was written under load to check"
    );
}
