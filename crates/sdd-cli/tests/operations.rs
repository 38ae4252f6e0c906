//! The operations commands on scratch projects whose events are generated with a known planted
//! cause (`sdd_debugger::testing`: a shop of three scenarios under steady traffic, the cause
//! planted at 70 % of the run), so every answer is known: `sdd incident` names the planted
//! cause first, `sdd trace` prints a known transaction's steps in order, and `sdd report`'s
//! operations section renders in headless Chromium saying what there is — and, on a project
//! without sources, incidents or metrics, saying that there is none.

mod support;

use std::path::Path;

use sdd_debugger::testing::{incident, json_lines, Generated, Planted, SHOP_SPEC};
use serde_json::Value;
use support::sdd_in as sdd;

const SDD_YAML: &str = "\
specs: specs
debugger:
  sources:
    - {path: logs/events.jsonl, format: json_lines}
  business_keys: [order_id]
";

/// A project whose events are a generated run with `planted` at 70 % of it.
fn project(planted: Planted) -> (tempfile::TempDir, Generated) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::create_dir_all(root.join("logs")).unwrap();
    std::fs::write(root.join("specs/shop.yaml"), SHOP_SPEC).unwrap();
    std::fs::write(root.join("sdd.yaml"), SDD_YAML).unwrap();
    let generated = incident(planted, 3, 20.0, 300);
    std::fs::write(root.join("logs/events.jsonl"), json_lines(&generated)).unwrap();
    (dir, generated)
}

fn run(root: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = args.to_vec();
    let root = root.display().to_string();
    all.extend(["--project", &root]);
    sdd(Path::new("/"), &all)
}

/// The planted cause is the first hypothesis, in the text and in the JSON; the text shows its
/// evidence with the lines behind it and the sources read.
#[test]
fn incident_names_the_planted_cause_first() {
    for planted in [Planted::Deploy, Planted::Attribute] {
        let (dir, _) = project(planted);
        let (code, out, err) = run(dir.path(), &["incident"]);
        assert_eq!(code, 0, "{planted:?}: {out}{err}");
        let expected = planted.expected_word().unwrap();
        assert!(out.starts_with("INCIDENT: "), "{planted:?}: {out}");
        let hypotheses = out.find("\nhypotheses (").expect(&out);
        let first = out[hypotheses..]
            .lines()
            .find(|l| l.trim_start().starts_with("1. "))
            .expect(&out);
        assert!(first.contains(expected), "{planted:?}: {first}\n{out}");
        assert!(
            first.contains(&format!("[{}, score ", planted.expected_kind().unwrap())),
            "{first}"
        );
        for section in [
            "\nwindows (",
            "\nwhat broke (",
            "\nnot reached\n",
            "\nsources read\n",
        ] {
            assert!(
                out.contains(section),
                "{planted:?} lacks {section:?}: {out}"
            );
        }
        assert!(
            out.contains("logs/events.jsonl:"),
            "evidence names its lines: {out}"
        );
        assert!(
            out.contains("git: the project is not a git repository"),
            "{out}"
        );

        let (code, json, err) = run(dir.path(), &["incident", "--format", "json", "--max", "1"]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&json).expect("--format json prints JSON");
        assert_eq!(v["hypotheses"].as_array().unwrap().len(), 1, "{json}");
        assert_eq!(v["hypotheses"][0]["kind"], planted.expected_kind().unwrap());
        assert!(v["hypotheses"][0]["cause"]
            .as_str()
            .unwrap()
            .contains(expected));
    }
}

/// A healthy run claims nothing, and a window given is the window analysed.
#[test]
fn incident_on_a_healthy_run_claims_nothing() {
    let (dir, generated) = project(Planted::Healthy);
    let (code, out, err) = run(dir.path(), &["incident"]);
    assert_eq!(code, 0, "analysed, nothing broke: {err}");
    assert!(out.starts_with("NOTHING ABOVE NOISE"), "{out}");
    assert!(
        out.contains("\nhypotheses: none above noise — nothing is claimed\n"),
        "{out}"
    );
    let t = sdd_debugger::incident::rfc3339;
    let start = t(generated.onset);
    let end = t(generated.end);
    let (code, out, _) = run(dir.path(), &["incident", "--start", &start, "--end", &end]);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("  incident  {start} → ")), "{out}");
}

#[test]
fn incident_refuses_bad_times_as_usage_and_says_why() {
    let (dir, _) = project(Planted::Healthy);
    for args in [
        &["incident", "--since", "yesterday"][..],
        &["incident", "--start", "2026-13-45"],
    ] {
        let (code, out, err) = run(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("is neither a duration back from now (30m, 6h, 7d) nor an RFC 3339 time"),
            "{err}"
        );
    }
    let (code, _, err) = run(dir.path(), &["incident", "--end", "1h"]);
    assert_eq!(code, 2);
    assert!(err.contains("--start <WHEN>"), "{err}");
    let (code, _, err) = run(dir.path(), &["incident", "--max", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--max takes 1 to 10 hypotheses, not `0`"),
        "{err}"
    );
    // A window the tool cannot take (its end before its start) is the tool's refusal: exit 1.
    let (code, out, err) = run(
        dir.path(),
        &[
            "incident",
            "--start",
            "2026-12-01T03:00:00Z",
            "--end",
            "2026-12-01T02:00:00Z",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("is not after the start"), "{err}");
}

#[test]
fn incident_without_sources_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(dir.path(), &["incident"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("NOTHING TO ANALYSE"), "{out}");
    assert!(
        out.contains("no events were read, so nothing was analysed"),
        "{out}"
    );
    assert!(
        out.contains("no event or log source: set debugger.sources in sdd.yaml"),
        "{out}"
    );
    assert!(out.contains("sources read: none"), "{out}");
    // A source outside the project is refused by the tool: exit 1, its words on stderr.
    std::fs::write(
        dir.path().join("sdd.yaml"),
        "debugger:\n  sources:\n    - {path: ../outside.jsonl}\n",
    )
    .unwrap();
    let (code, out, err) = run(dir.path(), &["incident"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("leaves the project"), "{err}");
}

/// The steps of one generated request, in the order they happened, indented by depth.
#[test]
fn trace_prints_a_known_transaction_step_by_step() {
    let (dir, generated) = project(Planted::Deploy);
    // Request 5 of seed 3: its trace, as `testing::incident` names it.
    let trace = format!("{:016x}{:016x}", 3, 5);
    let mut mine: Vec<_> = generated
        .events
        .iter()
        .filter(|e| e.trace_id.as_deref() == Some(trace.as_str()))
        .collect();
    mine.sort_by_key(|e| e.at);
    assert!(mine.len() >= 4);
    let (code, out, err) = run(dir.path(), &["trace", "order_id=5"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("order_id = 5: "), "{out}");
    assert!(out.contains(&format!("traces: {trace}")), "{out}");
    let header = out
        .lines()
        .find(|l| l.trim_start().starts_with("offset"))
        .expect(&out);
    let step_column = header.find("step").unwrap();
    let rows: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("offset"))
        .skip(2)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(rows.len(), mine.len(), "{out}");
    for (row, event) in rows.iter().zip(&mine) {
        let name = event.name.as_deref().unwrap();
        // The request span is the root; its steps and decision sit one deeper.
        let indent = if name == "request" { "" } else { "  " };
        assert!(
            row[step_column..].starts_with(&format!("{indent}{name}")),
            "{name} out of order or not at its depth: {out}"
        );
    }
    assert!(rows[0].contains("+0.000 ms"), "{out}");
    assert!(
        rows.iter()
            .any(|r| r.contains("success") || r.contains("failure")),
        "{out}"
    );
    assert!(
        rows.iter().all(|r| r.contains("logs/events.jsonl:")),
        "{out}"
    );

    // The same transaction by its trace ID, and as JSON.
    let (code, json, _) = run(dir.path(), &["trace", &trace, "--format", "json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["steps_total"], mine.len());
    let (code, out, _) = run(dir.path(), &["trace", "order_id=no-such-order"]);
    assert_eq!(code, 1, "nothing found: {out}");
    assert!(
        out.contains("nothing found for order_id = no-such-order"),
        "{out}"
    );
    let (code, _, err) = run(dir.path(), &["trace", "order_id=5", "--limit", "501"]);
    assert_eq!(code, 2);
    assert!(err.contains("--limit takes 1 to 500 steps"), "{err}");
}

/// The last verification `sdd report` needs, as `sdd verify` writes it (nothing verified).
fn write_last_verify(root: &Path) {
    std::fs::create_dir_all(root.join(".sdd")).unwrap();
    std::fs::write(
        root.join(".sdd/last-verify.json"),
        r#"{"project": "shop", "started_at": "t", "duration_seconds": 1.0, "ok": true, "steps": [], "scenarios": [], "constraints": []}"#,
    )
    .unwrap();
}

/// `sdd report` (with `args`), then the page and the DOM Chromium made of it.
fn report(root: &Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["report"];
    all.extend(args);
    let (code, out, err) = run(root, &all);
    assert_eq!(code, 0, "{out}{err}");
    let page = root.join(".sdd/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for forbidden in [
        "<script", "<link", "<img", "src=", "href=", "url(", "@import",
    ] {
        assert!(!html.contains(forbidden), "not self-contained: {forbidden}");
    }
    let dom = support::render_in_chromium(&page, root);
    (html, dom)
}

/// The part of the DOM from `heading` to the next `<h2>` (or the end).
fn section<'a>(dom: &'a str, heading: &str) -> &'a str {
    let start = dom
        .find(heading)
        .unwrap_or_else(|| panic!("{heading}: {dom}"));
    let rest = &dom[start + heading.len()..];
    let end = rest.find("<h2>").unwrap_or(rest.len());
    &dom[start..start + heading.len() + end]
}

/// An incident recorded with the analysis `sdd incident` gives, as an agent would record it,
/// and the learnings proposed from it.
fn record_incident(root: &Path) -> Value {
    let (code, json, err) = run(root, &["incident", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let analysis: Value = serde_json::from_str(&json).unwrap();
    let mut history = sdd_history::History::open(root).unwrap();
    let incident = sdd_history::incidents::NewIncident {
        title: "Completing orders fails after the 2.1.0 deploy".into(),
        started_at: analysis["windows"]["onset"].as_str().unwrap().into(),
        subjects: vec!["shop.complete_an_order".into()],
        cause: Some("2.1.0 broke completion".into()),
        resolution: Some("rolled back to 2.0.0".into()),
        analysis: Some(analysis.clone()),
        recorded_by: "Ada Lovelace".into(),
        ..Default::default()
    };
    let record = history
        .record_incident(&incident, "2026-12-01T04:00:00Z")
        .unwrap();
    history
        .set_learnings(
            record.id,
            &[sdd_history::incidents::Learning {
                kind: sdd_history::incidents::LearningKind::AlertRule,
                key: "ShopCompleteAnOrderFailing".into(),
                draft: serde_json::json!({"expr": "…"}),
            }],
            "2026-12-01T05:00:00Z",
        )
        .unwrap();
    analysis
}

#[test]
fn the_operations_part_shows_the_incident_and_its_transaction_in_chromium() {
    let (dir, _) = project(Planted::Deploy);
    let root = dir.path();
    write_last_verify(root);
    let analysis = record_incident(root);
    let cited = analysis["hypotheses"][0]["evidence_for"][0]["examples"][0]
        .as_str()
        .unwrap()
        .to_string();

    let (_, dom) = report(root, &[]);
    let operations = &dom[dom.find("<h1>Operations</h1>").expect(&dom)..];
    // Without a metric store, the board and the console say so.
    assert!(section(operations, "<h2>Scenario health</h2>").contains("no monitoring data"));
    assert!(section(operations, "<h2>Constraint console</h2>").contains("no monitoring data"));
    let incidents = section(operations, "<h2>Incidents</h2>");
    for part in [
        "1 of 1 recorded in .sdd/history.sqlite3",
        "#1 Completing orders fails after the 2.1.0 deploy",
        "broke shop.complete_an_order",
        "2.1.0 broke completion",
        "rolled back to 2.0.0",
        "<b>the deploy of version 2.1.0</b>",
        "[deploy, score 1.00]",
        "alert_rule: <code>ShopCompleteAnOrderFailing</code>",
    ] {
        assert!(incidents.contains(part), "{part}: {incidents}");
    }
    // The transaction behind the top hypothesis: the event its evidence cites first.
    let transaction = section(operations, "<h2>Transaction</h2>");
    assert!(
        transaction.contains(&format!(
            "the transaction of the event at {cited}, the first the top hypothesis of incident #1 (the deploy of version 2.1.0) cites"
        )),
        "{transaction}"
    );
    assert!(transaction.contains("steps in 1 traces"), "{transaction}");
    let svg = &transaction[transaction
        .find("<svg class=\"plot waterfall\"")
        .expect(transaction)..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    let rows = transaction.matches("<tr>").count() - 1;
    assert!(rows >= 2, "{transaction}");
    assert_eq!(svg.matches("<g class=\"step\">").count(), rows, "{svg}");
    // Every span a bar, and the request (the root) spans the whole transaction.
    assert!(svg.contains("width=\"520.0\""), "{svg}");

    // A screenshot for people (and the notes): target/sdd-operations.png.
    support::screenshot(
        &root.join(".sdd/report.html"),
        root,
        &support::repo().join("target/sdd-operations.png"),
    );

    // --trace chooses another one.
    let (_, dom) = report(root, &["--trace", "order_id=5"]);
    let transaction = section(&dom, "<h2>Transaction</h2>");
    assert!(
        transaction.contains("order_id=5 — chosen with --trace"),
        "{transaction}"
    );
    assert!(
        transaction.contains("shop.create_an_order.2_store"),
        "{transaction}"
    );
}

#[test]
fn the_operations_part_without_data_says_there_is_none_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_last_verify(root);
    let (_, dom) = report(root, &[]);
    let operations = &dom[dom.find("<h1>Operations</h1>").expect(&dom)..];
    assert!(section(operations, "<h2>Scenario health</h2>").contains("no monitoring data"));
    assert!(section(operations, "<h2>Incidents</h2>").contains("No incidents recorded"));
    let transaction = section(operations, "<h2>Transaction</h2>");
    assert!(
        transaction.contains("No transaction chosen: no incident is recorded. Choose one with"),
        "{transaction}"
    );
    assert!(!operations.contains("<svg class=\"plot waterfall\""));
    // A key that names nothing is said, not drawn.
    let (_, dom) = report(root, &["--trace", "task_id=42"]);
    let transaction = section(&dom, "<h2>Transaction</h2>");
    assert!(
        transaction.contains("nothing found for task_id = 42"),
        "{transaction}"
    );
    assert!(!transaction.contains("<svg"), "{transaction}");
}

/// `sdd runbook ID` writes the runbook the debugger server generates, citing the incident
/// recorded for it; a second run replaces its own file; an unknown ID and a path it may not
/// write are refused with exit 1, a hand-written file left as it was.
#[test]
fn runbook_writes_the_subjects_runbook_citing_its_incidents() {
    let (dir, _) = project(Planted::Deploy);
    record_incident(dir.path());
    let (code, out, err) = run(dir.path(), &["runbook", "shop.complete_an_order"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(
            "Wrote the runbook \"Complete an order failing\" to runbooks/shop_complete_an_order.md"
        ),
        "{out}"
    );
    let written =
        std::fs::read_to_string(dir.path().join("runbooks/shop_complete_an_order.md")).unwrap();
    assert!(
        written.contains("# Runbook: Complete an order failing"),
        "{written}"
    );
    assert!(written.contains("2.1.0 broke completion"), "{written}");
    assert!(
        written.contains("rolled back to 2.0.0 [incident #1]"),
        "{written}"
    );
    let (code, _, err) = run(dir.path(), &["runbook", "shop.complete_an_order"]);
    assert_eq!(code, 0, "{err}");

    std::fs::write(dir.path().join("mine.md"), "mine\n").unwrap();
    for (args, says) in [
        (vec!["runbook", "shop.nope"], "no scenario or constraint"),
        (
            vec!["runbook", "shop.complete_an_order", "--out", "mine.md"],
            "was not written by generate_runbook",
        ),
        (
            vec!["runbook", "shop.complete_an_order", "--out", "../x.md"],
            "outside",
        ),
    ] {
        let (code, out, err) = run(dir.path(), &args);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine.md")).unwrap(),
        "mine\n"
    );
}
