//! The generated rule file and dashboard against Prometheus' own tool, `promtool` (Debian's
//! `prometheus` package; skipped with a message when absent, failed under `CI`): the rules of
//! the bundled example's spec and sdd.yaml (with two resource limits added) pass `promtool
//! check rules`, and `promtool test rules` on synthetic series shows each alert fires when it
//! should and not when it should not — every burn-rate alert at slightly above its rate for
//! long enough, none just below it or before its long window has seen the burn; the latency
//! alert above the limit and not below; an exhaustion warning on a climb toward a limit and
//! not on a flat series. The dashboard's PromQL goes through `promtool check rules` too.
//!
//! Alerts are compared with their labels; annotations are left out of the file under test
//! (promtool compares them verbatim, and they hold templates of the alert's value). The full
//! file, annotations and all, is what `check rules` reads.

use std::path::Path;
use std::process::Command;

use sdd_monitoring::dashboard::dashboard;
use sdd_monitoring::rules::{
    alert_rules, burn_fires_after_ms, scenario_success_rules, AlertRules, BurnRate, Rule,
    RuleGroup, RuleKind, Setting, BURN_RATES,
};
use sdd_monitoring::testing::{prometheus_installed, repo};
use sdd_monitoring::window::format_duration;
use sdd_spec::model::Spec;
use sdd_spec::project::{ProjectFile, ResourceLimit};
use serde_json::{json, Value};

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

const UPTIME: &str = "task_management_system.reliability.uptime";
const READS: &str = "task_management_system.performance.api_response_time";
const MEMORY: &str = "process_resident_memory_bytes";
const DISK: &str = r#"node_filesystem_avail_bytes{mountpoint="/"}"#;

/// The example's spec and sdd.yaml, with a ceiling and a floor under
/// monitoring.degradation.limits.
fn example() -> (Spec, ProjectFile) {
    let root = repo().join("examples/task_manager");
    let mut file = sdd_spec::project::load_project_file(&root).unwrap();
    let loaded = sdd_spec::load::load_dir(&root.join("specs")).unwrap();
    file.monitoring.degradation.limits = vec![
        ResourceLimit {
            series: MEMORY.into(),
            max: Some(1e9),
            min: None,
            description: Some("The service runs out of memory".into()),
        },
        ResourceLimit {
            series: DISK.into(),
            max: None,
            min: Some(1e9),
            description: None,
        },
    ];
    (loaded.spec, file)
}

fn example_rules() -> AlertRules {
    let (spec, file) = example();
    let setting = Setting {
        project: &file,
        domains: spec.domains.len(),
        budget_window_ms: 30 * DAY,
        scenarios: Vec::new(),
    };
    let constraints: Vec<_> = spec.constraints.iter().map(|c| &**c).collect();
    alert_rules(&setting, &constraints)
}

/// `promtool ARGS` in `dir`: whether it passed, and what it said.
fn promtool(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

/// A counter in promtool's series notation: starting at 0, then `steps` samples growing by
/// `per_step`, for each phase in turn.
fn counter(phases: &[(f64, i64)]) -> String {
    series_values(0.0, phases)
}

fn series_values(start: f64, phases: &[(f64, i64)]) -> String {
    let mut out = vec![format!("{start}")];
    let mut value = start;
    for &(per_step, steps) in phases {
        if steps == 0 {
            continue;
        }
        let first = value + per_step;
        let sign = if per_step < 0.0 { '-' } else { '+' };
        out.push(format!("{first}{sign}{}x{}", per_step.abs(), steps - 1));
        value += per_step * steps as f64;
    }
    out.join(" ")
}

/// The rule file under test: `rules` without annotations, written beside the test file.
fn write_rules(dir: &Path, name: &str, rules: &AlertRules) {
    let mut bare = rules.clone();
    for group in &mut bare.groups {
        for rule in &mut group.rules {
            rule.annotations.clear();
        }
    }
    std::fs::write(dir.join(name), bare.to_yaml("under test")).unwrap();
}

/// Run `promtool test rules` on `tests` (JSON is YAML) against `rules_file`, its rules
/// evaluated every `every`.
fn run_tests(dir: &Path, rules_file: &str, every: &str, tests: Vec<Value>) {
    let file = json!({
        "rule_files": [rules_file],
        "evaluation_interval": every,
        "tests": tests,
    });
    let path = dir.join(format!("{rules_file}.test.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    let (ok, said) = promtool(dir, &["test", "rules", path.to_str().unwrap()]);
    if !ok {
        let kept = dir.join("..").join("sdd-rules-promtool-failed");
        let _ = std::fs::create_dir_all(&kept);
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let _ = std::fs::copy(entry.path(), kept.join(entry.file_name()));
        }
        panic!(
            "promtool test rules failed (the files are kept in {}):\n{said}",
            kept.display()
        );
    }
}

#[test]
fn generated_rules_pass_promtool_check() {
    if !prometheus_installed("generated_rules_pass_promtool_check") {
        return;
    }
    let rules = example_rules();
    // The example's uptime is a ratio constraint; its two latency bounds are percentiles.
    let alerts: Vec<(&str, Option<&str>)> = rules
        .rules()
        .filter(|r| r.kind == RuleKind::Alert)
        .map(|r| (r.name.as_str(), r.label("constraint")))
        .collect();
    for burn in BURN_RATES {
        assert!(
            alerts.contains(&(burn.alert_name().as_str(), Some(UPTIME))),
            "{alerts:?}"
        );
    }
    assert!(alerts.contains(&("SddLatencyOverLimit", Some(READS))));
    assert!(
        alerts
            .iter()
            .filter(|(name, _)| name.starts_with("SddResource"))
            .count()
            == 4
    );
    // What is left out is said, constraint by constraint.
    assert!(rules
        .not_covered
        .iter()
        .any(|n| n.constraint.as_deref() == Some("task_management_system.security.rate_limiting")));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sdd.rules.yml"),
        rules.to_yaml("SDD's rules"),
    )
    .unwrap();
    let (ok, said) = promtool(dir.path(), &["check", "rules", "sdd.rules.yml"]);
    assert!(ok, "{said}\n{}", rules.to_yaml(""));
    assert!(
        said.contains(&format!("SUCCESS: {} rules found", rules.rules().count())),
        "{said}"
    );
}

/// Requests a minute, and the failed ones at `share` of them.
const PER_MINUTE: f64 = 6000.0;

/// One test group: `healthy` minutes without a failure, then `burning` minutes at `share`
/// failed; the alert of `burn` expected (or not) at `eval_minutes`.
fn burn_case(burn: &BurnRate, share: f64, burning: i64, eval_minutes: i64, fires: bool) -> Value {
    let healthy = burn.long_ms / MINUTE;
    let failed = PER_MINUTE * share;
    let series = |status: &str, phases: &[(f64, i64)]| {
        json!({
            "series": format!(r#"http_request_duration_seconds_count{{method="GET",route="/tasks",status="{status}"}}"#),
            "values": counter(phases),
        })
    };
    let expected: Vec<Value> = if fires {
        vec![json!({"exp_labels": {
            "constraint": UPTIME,
            "check": "availability",
            "severity": burn.severity,
        }})]
    } else {
        Vec::new()
    };
    json!({
        "interval": "1m",
        "input_series": [
            series("200", &[(PER_MINUTE, healthy), (PER_MINUTE - failed, burning)]),
            series("500", &[(0.0, healthy), (failed, burning)]),
        ],
        "alert_rule_test": [{
            "eval_time": format!("{eval_minutes}m"),
            "alertname": burn.alert_name(),
            "exp_alerts": expected,
        }],
    })
}

#[test]
fn each_burn_rate_alert_fires_at_its_rate_and_not_below() {
    if !prometheus_installed("each_burn_rate_alert_fires_at_its_rate_and_not_below") {
        return;
    }
    let mut rules = example_rules();
    rules.groups.retain(|g| g.name == format!("sdd:{UPTIME}"));
    assert_eq!(rules.groups.len(), 1);
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path(), "uptime.yml", &rules);
    // The example's uptime: 99.9 %, so a budget of 0.1 % of requests.
    let budget = 0.001;
    for burn in BURN_RATES {
        let long = burn.long_ms / MINUTE;
        let healthy = long;
        let margin = 10;
        let after_long = healthy + long + margin;
        let above = burn.factor * budget * 1.02;
        let below = burn.factor * budget * 0.98;
        let cases = vec![
            // Slightly above its rate, for its whole long window: it fires.
            burn_case(&burn, above, long + margin, after_long, true),
            // Just below its rate, as long: it does not.
            burn_case(&burn, below, long + margin, after_long, false),
            // Above its rate, but for half its long window only (the short window long
            // past): the long window has not seen enough yet.
            burn_case(&burn, above, long / 2, healthy + long / 2, false),
        ];
        eprintln!(
            "{}: {} for {}/{}, {} failed above, {} below",
            burn.alert_name(),
            burn.factor,
            format_duration(burn.long_ms),
            format_duration(burn.short_ms),
            above,
            below
        );
        // The series are sampled every minute (every window has its samples); the rules are
        // evaluated every 10 minutes, which a burn alert (no `for:`) does not notice, and
        // which keeps three days of series quick to test.
        run_tests(dir.path(), "uptime.yml", "10m", cases);
    }
}

#[test]
fn latency_alert_fires_above_the_limit_and_not_below() {
    if !prometheus_installed("latency_alert_fires_above_the_limit_and_not_below") {
        return;
    }
    let mut rules = example_rules();
    rules.groups.retain(|g| g.name == format!("sdd:{READS}"));
    assert_eq!(rules.groups.len(), 1);
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path(), "reads.yml", &rules);
    // 100 reads a minute: `fast` at or under 50 ms, `mid` in (50 ms, 100 ms], the rest in
    // (100 ms, 250 ms]. p95 < 100 ms holds when at least 95 are at or under 100 ms.
    let case = |fast: f64, mid: f64, fires: bool| {
        let bucket = |le: &str, per_minute: f64| {
            json!({
                "series": format!(r#"http_request_duration_seconds_bucket{{method="GET",route="/tasks",status="200",le="{le}"}}"#),
                "values": counter(&[(per_minute, 40)]),
            })
        };
        // A refusal is fast and says nothing of the reads: left out.
        let refused = json!({
            "series": r#"http_request_duration_seconds_bucket{method="GET",route="/tasks",status="401",le="0.05"}"#,
            "values": counter(&[(1000.0, 40)]),
        });
        let expected: Vec<Value> = if fires {
            vec![
                json!({"exp_labels": {"constraint": READS, "percentile": "95", "severity": "page"}}),
            ]
        } else {
            Vec::new()
        };
        json!({
            "interval": "1m",
            "input_series": [
                bucket("0.05", fast),
                bucket("0.1", fast + mid),
                bucket("0.25", 100.0),
                bucket("+Inf", 100.0),
                refused,
            ],
            "alert_rule_test": [
                // Over the limit from the first minute, but not yet for 10 minutes.
                {"eval_time": "8m", "alertname": "SddLatencyOverLimit", "exp_alerts": []},
                {"eval_time": "30m", "alertname": "SddLatencyOverLimit", "exp_alerts": expected},
            ],
        })
    };
    run_tests(
        dir.path(),
        "reads.yml",
        "1m",
        vec![
            // p95 = 100 + (95 − 90) / 10 × 150 = 175 ms.
            case(90.0, 0.0, true),
            // p95 = 50 + (95 − 90) / 6 × 50 ≈ 92 ms.
            case(90.0, 6.0, false),
        ],
    );
}

#[test]
fn exhaustion_warns_on_a_climb_toward_a_limit_and_not_on_a_flat_series() {
    if !prometheus_installed("exhaustion_warns_on_a_climb_toward_a_limit_and_not_on_a_flat_series")
    {
        return;
    }
    let mut rules = example_rules();
    rules.groups.retain(|g| g.name == "sdd:resource_limits");
    assert_eq!(rules.groups.len(), 1);
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path(), "limits.yml", &rules);
    let memory = |values: String| json!({"series": MEMORY, "values": values});
    let disk = |values: String| json!({"series": DISK, "values": values});
    let labels = |limit: &str, bound: &str, severity: &str, extra: &[(&str, &str)]| {
        let mut l = json!({"limit": limit, "bound": bound, "severity": severity});
        for (k, v) in extra {
            l[k] = json!(v);
        }
        json!({ "exp_labels": l })
    };
    let soon = "SddResourceExhaustionSoon";
    let crossed = "SddResourceLimitCrossed";
    let memory_soon = labels(MEMORY, "max", "ticket", &[]);
    let disk_soon = labels(DISK, "min", "ticket", &[("mountpoint", "/")]);
    let cases = vec![
        // Memory climbs 1 MB a minute from 500 MB toward its 1 GB ceiling: 4 h ahead it is
        // over from minute 260, so at minute 300 (800 MB) it has warned for 40 minutes, and
        // at minute 200 (projected 940 MB) not yet. It has not crossed.
        json!({
            "interval": "1m",
            "input_series": [memory(series_values(5e8, &[(1e6, 300)]))],
            "alert_rule_test": [
                {"eval_time": "200m", "alertname": soon, "exp_alerts": []},
                {"eval_time": "300m", "alertname": soon, "exp_alerts": [memory_soon.clone()]},
                {"eval_time": "300m", "alertname": crossed, "exp_alerts": []},
            ],
        }),
        // Flat under the ceiling, however close: no warning.
        json!({
            "interval": "1m",
            "input_series": [memory(series_values(9.9e8, &[(0.0, 300)]))],
            "alert_rule_test": [
                {"eval_time": "300m", "alertname": soon, "exp_alerts": []},
                {"eval_time": "300m", "alertname": crossed, "exp_alerts": []},
            ],
        }),
        // Flat over it: crossed (and, flat, projected over too).
        json!({
            "interval": "1m",
            "input_series": [memory(series_values(1.1e9, &[(0.0, 30)]))],
            "alert_rule_test": [
                {"eval_time": "30m", "alertname": crossed, "exp_alerts": [labels(MEMORY, "max", "page", &[])]},
                {"eval_time": "30m", "alertname": soon, "exp_alerts": [memory_soon]},
            ],
        }),
        // Free disk falls 15 MB a minute from 5 GB toward its 1 GB floor: 4 h ahead it is
        // under from minute 27; at minute 60 (4.1 GB free) it has warned for half an hour.
        json!({
            "interval": "1m",
            "input_series": [disk(series_values(5e9, &[(-1.5e7, 60)]))],
            "alert_rule_test": [
                {"eval_time": "20m", "alertname": soon, "exp_alerts": []},
                {"eval_time": "60m", "alertname": soon, "exp_alerts": [disk_soon]},
                {"eval_time": "60m", "alertname": crossed, "exp_alerts": []},
            ],
        }),
        json!({
            "interval": "1m",
            "input_series": [disk(series_values(2e9, &[(0.0, 60)]))],
            "alert_rule_test": [
                {"eval_time": "60m", "alertname": soon, "exp_alerts": []},
            ],
        }),
    ];
    run_tests(dir.path(), "limits.yml", "1m", cases);
}

/// Every query of the example's dashboard is PromQL Prometheus accepts: `$__rate_interval`
/// filled in as Grafana would, each query checked as a recording rule.
#[test]
fn dashboard_queries_pass_promtool_check() {
    if !prometheus_installed("dashboard_queries_pass_promtool_check") {
        return;
    }
    let (spec, file) = example();
    let setting = Setting {
        project: &file,
        domains: spec.domains.len(),
        budget_window_ms: 30 * DAY,
        scenarios: Vec::new(),
    };
    let scenarios: Vec<_> = spec.approved_scenarios().collect();
    let constraints: Vec<_> = spec.constraints.iter().map(|c| &**c).collect();
    let board = dashboard(&setting, "Task manager", &scenarios, &constraints);
    let queries: Vec<String> = board
        .queries()
        .map(|q| q.replace("$__rate_interval", "5m"))
        .collect();
    // A row per approved scenario (three queries, two with journeys), the latency and uptime
    // panels, the two limits.
    assert!(queries.len() >= 3 * scenarios.len() + 3 + 2, "{queries:#?}");
    let as_rules = AlertRules {
        groups: vec![RuleGroup {
            name: "dashboard".into(),
            rules: queries
                .iter()
                .enumerate()
                .map(|(i, q)| Rule {
                    kind: RuleKind::Record,
                    name: format!("sdd:dashboard_query_{i}"),
                    expr: q.clone(),
                    hold: None,
                    labels: Vec::new(),
                    annotations: Vec::new(),
                })
                .collect(),
        }],
        ..AlertRules::default()
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dashboard.yml"),
        as_rules.to_yaml("dashboard"),
    )
    .unwrap();
    let (ok, said) = promtool(dir.path(), &["check", "rules", "dashboard.yml"]);
    assert!(ok, "{said}\n{queries:#?}");
    assert!(
        said.contains(&format!("SUCCESS: {} rules found", queries.len())),
        "{said}"
    );
}

/// The scenario alert a post-incident learning proposes fires when `burn_fires_after_ms` says
/// it would: the claim "it would have caught the incident N minutes after its onset" is the
/// real Prometheus' evaluation, not only arithmetic. An hour healthy, then 5 % of the
/// scenario's attempts failing: the page alert over 1 h and 5 m against a 99.9 % target needs
/// the hour's share over 1.44 %, 17.3 minutes in.
#[test]
fn a_learned_scenario_alert_fires_when_the_arithmetic_says() {
    if !prometheus_installed("a_learned_scenario_alert_fires_when_the_arithmetic_says") {
        return;
    }
    let scenario = "task_management_system.complete_a_task";
    let group = scenario_success_rules(
        "sdd_scenario_outcomes_total",
        scenario,
        "Complete a task",
        99.9,
        30 * DAY,
    );
    let rules = AlertRules {
        groups: vec![group],
        ..AlertRules::default()
    };
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path(), "scenario.yml", &rules);
    let (ok, said) = promtool(dir.path(), &["check", "rules", "scenario.yml"]);
    assert!(ok, "promtool check rules: {said}");
    let page = BURN_RATES[0];
    let share = 0.05;
    let fires_ms = burn_fires_after_ms(&page, 0.001, 0.0, share).expect("it fires");
    let fires_minutes = fires_ms / MINUTE as f64;
    assert!((fires_minutes - 17.28).abs() < 0.01, "{fires_minutes}");
    let healthy = 60;
    let per_minute = 600.0;
    let series = |outcome: &str, phases: &[(f64, i64)]| {
        json!({
            "series": format!(r#"sdd_scenario_outcomes_total{{scenario="{scenario}",outcome="{outcome}"}}"#),
            "values": counter(phases),
        })
    };
    let case = |eval_minutes: i64, fires: bool| {
        json!({
            "interval": "1m",
            "input_series": [
                series("success", &[(per_minute, healthy), (per_minute * (1.0 - share), 40)]),
                series("failure", &[(0.0, healthy), (per_minute * share, 40)]),
            ],
            "alert_rule_test": [{
                "eval_time": format!("{eval_minutes}m"),
                "alertname": "SddScenarioBurn1h",
                "exp_alerts": if fires {
                    vec![json!({"exp_labels": {"scenario": scenario, "severity": "page"}})]
                } else {
                    Vec::new()
                },
            }],
        })
    };
    let before = healthy + fires_minutes.floor() as i64 - 2;
    let after = healthy + fires_minutes.ceil() as i64 + 2;
    run_tests(
        dir.path(),
        "scenario.yml",
        "1m",
        vec![case(before, false), case(after, true)],
    );
}
