//! The Prometheus client against a real Prometheus (Debian's `prometheus` package, started by
//! `scripts/prometheus.sh`), backfilled from an OpenMetrics file generated here: a gauge (one
//! NaN), a counter with a reset, a counter starting near zero, a histogram with `le` buckets —
//! a day at 15 s, ending three hours before now. Every number Prometheus answers is compared
//! with `sdd_metrics::summary` on the same generated points, to 1e-9 relative, with the window
//! its version selects (Prometheus 2: `start ≤ t ≤ end`, `Window::including_start`).
//!
//! One difference is known and pinned rather than hidden: Prometheus before 2.51 (Debian 12's
//! 2.42) limits `increase`'s extrapolation to a counter's zero point before its 1.1 × interval
//! test; sdd_metrics follows 2.51+ (prometheus/prometheus#13725). The near-zero counter hits
//! exactly that case: its value must be the old rule's (computed here), every other value
//! sdd_metrics', and on 2.51+ everything sdd_metrics'.
//!
//! Without `prometheus` on the machine the real-server test fails under `CI` (.ci/run installs
//! it) and is skipped with a loud message otherwise. The failure cases need no Prometheus:
//! a port nothing listens on, a listener that never answers, a server answering garbage
//! (tiny TCP servers here, not a Prometheus), a host not allowed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sdd_http::AllowedHosts;
use sdd_metrics::summary::{self, Bucket, Point, Window};
use sdd_monitoring::prometheus::{
    step_for, PrometheusApi, PrometheusError, QueryResult, MAX_POINTS_PER_SERIES,
};
use sdd_monitoring::testing::{
    free_port, live_in_group, prometheus_installed, Lcg, RunningPrometheus,
};

const STEP_MS: i64 = 15_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Sample index of the counter's reset.
const RESET_AT: usize = 4_000;
const BOUNDS: [f64; 7] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, f64::INFINITY];

/// The generated series, as points.
struct Data {
    start_ms: i64,
    end_ms: i64,
    gauge: Vec<Point>,
    counter: Vec<Point>,
    /// A counter starting near zero: the zero point of `increase` lands within 1.1 sample
    /// intervals of the first sample.
    low_counter: Vec<Point>,
    buckets: Vec<(f64, Vec<Point>)>,
    count: Vec<Point>,
    sum: Vec<Point>,
}

impl Data {
    /// A day at 15 s ending three hours before now (whole seconds).
    fn generate() -> Data {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let end_ms = (now_ms - 3 * HOUR_MS) / STEP_MS * STEP_MS;
        let start_ms = end_ms - DAY_MS;
        let times: Vec<i64> = (0..)
            .map(|i| start_ms + i * STEP_MS)
            .take_while(|&t| t <= end_ms)
            .collect();
        let mut noise = Lcg(42);
        let point = |timestamp_ms, value| Point {
            timestamp_ms,
            value,
        };
        let gauge = times
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                // One NaN inside the windows asked (Prometheus sorts it first for quantiles).
                let value = if i == RESET_AT + 50 {
                    f64::NAN
                } else {
                    50.0 + 30.0 * (i as f64 / 40.0).sin() + 10.0 * noise.draw()
                };
                point(t, value)
            })
            .collect();
        let (mut counter, mut value) = (Vec::new(), 1000.5);
        for (i, &t) in times.iter().enumerate() {
            if i == RESET_AT {
                value = 3.25;
            } else if i > 0 {
                value += 20.0 * noise.draw();
            }
            counter.push(point(t, value));
        }
        let (mut low_counter, mut value) = (Vec::new(), 8.0);
        for (i, &t) in times.iter().enumerate() {
            if i > 0 {
                value += 5.0 + 10.0 * noise.draw();
            }
            low_counter.push(point(t, value));
        }
        let mut cumulative = [0.0; BOUNDS.len()];
        let mut total = 0.0;
        let (mut buckets, mut count, mut sum) =
            (vec![Vec::new(); BOUNDS.len()], Vec::new(), Vec::new());
        for &t in &times {
            for _ in 0..(noise.draw() * 20.0) as usize {
                // Mostly fast, a slow tail.
                let observed = -0.3 * (1.0 - noise.draw()).ln();
                total += observed;
                for (b, bound) in BOUNDS.iter().enumerate() {
                    if observed <= *bound {
                        cumulative[b] += 1.0;
                    }
                }
            }
            for (b, series) in buckets.iter_mut().enumerate() {
                series.push(point(t, cumulative[b]));
            }
            count.push(point(t, cumulative[BOUNDS.len() - 1]));
            sum.push(point(t, total));
        }
        Data {
            start_ms,
            end_ms,
            gauge,
            counter,
            low_counter,
            buckets: BOUNDS.iter().copied().zip(buckets).collect(),
            count,
            sum,
        }
    }

    /// OpenMetrics text with timestamps, each series in time order, `# EOF` last.
    fn openmetrics(&self) -> String {
        let mut text = String::new();
        let series = |text: &mut String, name: &str, labels: &str, points: &[Point]| {
            for p in points {
                // `{}` of an f64 is its shortest round-trip decimal: Prometheus reads the same
                // number back.
                text.push_str(&format!(
                    "{name}{{job=\"backfill\"{labels}}} {} {}\n",
                    p.value,
                    p.timestamp_ms / 1000
                ));
            }
        };
        text.push_str("# TYPE g gauge\n# HELP g A gauge.\n");
        series(&mut text, "g", "", &self.gauge);
        text.push_str("# TYPE c counter\n# HELP c A counter with a reset.\n");
        series(&mut text, "c_total", "", &self.counter);
        text.push_str("# TYPE low counter\n# HELP low A counter starting near zero.\n");
        series(&mut text, "low_total", "", &self.low_counter);
        text.push_str("# TYPE h histogram\n# HELP h A histogram.\n");
        for (bound, points) in &self.buckets {
            series(
                &mut text,
                "h_bucket",
                &format!(",le=\"{}\"", le(*bound)),
                points,
            );
        }
        series(&mut text, "h_count", "", &self.count);
        series(&mut text, "h_sum", "", &self.sum);
        text.push_str("# EOF\n");
        text
    }
}

/// An `le` label as written: `0.05`, `1`, `+Inf`.
fn le(bound: f64) -> String {
    if bound == f64::INFINITY {
        "+Inf".into()
    } else {
        bound.to_string()
    }
}

/// Equal, or within 1e-9 relative; NaN equals NaN.
fn agree(prometheus: f64, ours: f64) -> bool {
    if prometheus.is_nan() || ours.is_nan() {
        return prometheus.is_nan() && ours.is_nan();
    }
    prometheus == ours || (prometheus - ours).abs() <= 1e-9 * prometheus.abs().max(ours.abs())
}

fn relative(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// How the Prometheus under test selects and extrapolates, from its version.
#[derive(Clone, Copy)]
struct Rules {
    /// Prometheus 3 selects `start < t ≤ end`, Prometheus 2 `start ≤ t ≤ end`.
    left_open: bool,
    /// Before 2.51 (prometheus/prometheus#13725), `extrapolatedRate` limits the start of the
    /// extrapolation to the counter's zero point *before* the 1.1 × interval test; since, after
    /// it (what sdd_metrics does).
    zero_point_first: bool,
}

impl Rules {
    fn of(version: &str) -> Rules {
        let mut numbers = version
            .split(['.', '+', '-'])
            .map(|n| n.parse::<u32>().unwrap_or(0));
        let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
        Rules {
            left_open: major >= 3,
            zero_point_first: (major, minor) < (2, 51),
        }
    }

    /// `[range]` evaluated at `at`.
    fn window(self, range_ms: i64, at: i64) -> Window {
        if self.left_open {
            Window::new(at - range_ms, at)
        } else {
            Window::including_start(at - range_ms, at)
        }
    }
}

fn values(points: &[Point]) -> Vec<f64> {
    points.iter().map(|p| p.value).collect()
}

type Increase = fn(&[Point], Window) -> Option<f64>;

/// The four instant queries compared, and their values at `at` computed on the generated
/// points with `increase` (sdd_metrics' or the pre-2.51 rule).
fn expected(
    data: &Data,
    rules: Rules,
    at: i64,
    increase: Increase,
) -> [(&'static str, Option<f64>); 4] {
    let window = rules.window(HOUR_MS, at);
    let quantile = {
        let mut v = values(window.select(&data.gauge));
        (!v.is_empty()).then(|| summary::quantile_over_time(0.95, &mut v))
    };
    let buckets: Vec<Bucket> = data
        .buckets
        .iter()
        .filter_map(|(bound, points)| {
            increase(window.select(points), window).map(|count| Bucket {
                upper_bound: *bound,
                count,
            })
        })
        .collect();
    let histogram = (!buckets.is_empty()).then(|| summary::histogram_quantile(0.95, &buckets));
    [
        ("quantile_over_time(0.95, g[1h])", quantile),
        (
            "increase(c_total[1h])",
            increase(window.select(&data.counter), window),
        ),
        (
            "increase(low_total[1h])",
            increase(window.select(&data.low_counter), window),
        ),
        (
            "histogram_quantile(0.95, sum by (le) (increase(h_bucket[1h])))",
            histogram,
        ),
    ]
}

/// The one value of a vector answer (None when empty).
fn single(result: QueryResult) -> Option<f64> {
    match result {
        QueryResult::Vector(series) if series.len() <= 1 => series.first().map(|(_, v)| *v),
        other => panic!("expected one series at most, got {other:?}"),
    }
}

/// `increase` as Prometheus before 2.51 computes it (Debian 12's 2.42 among them): the zero
/// point limits the start of the extrapolation before the 1.1 × interval test, so a counter
/// whose zero point lies between half an interval and 1.1 intervals before its first sample is
/// extrapolated to that zero point, where 2.51+ (and sdd_metrics) take half an interval.
fn increase_zero_point_first(points: &[Point], window: Window) -> Option<f64> {
    summary::extrapolated_rate_as(
        points,
        window,
        true,
        false,
        summary::Extrapolation::Before2_51,
    )
}

/// Comparisons of Prometheus' answers with sdd_metrics.
#[derive(Default)]
struct Comparison {
    compared: usize,
    /// The largest relative difference among the values that agree.
    largest: f64,
    /// Differences the pre-2.51 extrapolation rule explains exactly (within 1e-9).
    explained: Vec<String>,
    disagreements: Vec<String>,
}

impl Comparison {
    fn add(&mut self, what: String, theirs: f64, ours: f64, older_rule: Option<f64>) {
        self.compared += 1;
        if agree(theirs, ours) {
            self.largest = self.largest.max(relative(theirs, ours));
            return;
        }
        let line = format!(
            "{what}: Prometheus {theirs}, sdd_metrics {ours}, relative {:e}",
            relative(theirs, ours)
        );
        match older_rule {
            Some(older) if agree(theirs, older) => self.explained.push(format!(
                "{line}; the pre-2.51 rule gives {older} (relative {:e})",
                relative(theirs, older)
            )),
            _ => self.disagreements.push(line),
        }
    }
}

#[tokio::test]
async fn against_a_real_prometheus() {
    if !prometheus_installed("against_a_real_prometheus") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = Data::generate();
    let backfill = dir.path().join("backfill.om");
    std::fs::write(&backfill, data.openmetrics()).unwrap();
    let port = free_port();
    // It scrapes itself, so /api/v1/metadata has scraped families.
    let mut prometheus = RunningPrometheus::start(
        dir.path(),
        port,
        &[format!("127.0.0.1:{port}/metrics")],
        Some(&backfill),
    );
    let api = PrometheusApi::new(
        &prometheus.url,
        Duration::from_secs(30),
        AllowedHosts::loopback_only(),
    )
    .unwrap();

    let version = api.build_version().await.unwrap();
    let installed = String::from_utf8(
        Command::new("prometheus")
            .arg("--version")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        installed.starts_with(&format!("prometheus, version {version} ")),
        "{version} vs {installed}"
    );

    let rules = Rules::of(&version);
    let older: Option<Increase> = rules.zero_point_first.then_some(increase_zero_point_first);
    let ours: Increase = summary::increase;

    // Instant queries at fixed times: off the 15 s grid with the counter's reset in the window,
    // on a sample (the window starts on one), at the last sample, with the window starting
    // half an hour before the data (extrapolation stops at the series' start or its zero
    // point), and past the data's end.
    let reset_ms = data.counter[RESET_AT].timestamp_ms;
    let instants = [
        ("20 min after the reset", reset_ms + 20 * 60_000 + 7_123),
        ("on a sample", data.start_ms + 12 * HOUR_MS),
        ("at the last sample", data.end_ms),
        ("30 min after the first sample", data.start_ms + 30 * 60_000),
        ("2 min after the last sample", data.end_ms + 120_000),
    ];
    // The window's start bound matters on a sample: the other bound gives other numbers.
    let other = Rules {
        left_open: !rules.left_open,
        ..rules
    };
    assert_ne!(
        expected(&data, rules, instants[1].1, ours).map(|(_, v)| v),
        expected(&data, other, instants[1].1, ours).map(|(_, v)| v)
    );
    let mut comparison = Comparison::default();
    for (when, at) in instants {
        let older_values = older.map(|rule| expected(&data, rules, at, rule));
        for (i, (promql, ours)) in expected(&data, rules, at, ours).into_iter().enumerate() {
            let theirs = single(api.query(promql, at).await.unwrap());
            let (Some(theirs), Some(ours)) = (theirs, ours) else {
                assert_eq!(theirs.is_some(), ours.is_some(), "{promql} {when}");
                continue;
            };
            let older = older_values.as_ref().and_then(|v| v[i].1);
            comparison.add(format!("{promql} at {at} ({when})"), theirs, ours, older);
        }
    }

    // Range queries at the step step_for picks for 300 points, each step compared.
    let (start, end) = (data.start_ms + HOUR_MS, data.end_ms);
    let step = step_for(start, end, 300);
    assert_eq!(step % 1000, 0);
    assert!((end - start) / step < 300);
    for (promql, index) in [
        ("quantile_over_time(0.95, g[1h])", Some(0)),
        ("increase(c_total[1h])", Some(1)),
        (
            "histogram_quantile(0.95, sum by (le) (increase(h_bucket[1h])))",
            Some(3),
        ),
        ("g", None),
    ] {
        let series = api.query_range(promql, start, end, step).await.unwrap();
        assert_eq!(series.len(), 1, "{promql}");
        let samples = &series[0].1;
        assert_eq!(samples.len() as i64, (end - start) / step + 1, "{promql}");
        for (i, &(t, theirs)) in samples.iter().enumerate() {
            assert_eq!(t, start + i as i64 * step);
            let (value, older) = match index {
                Some(index) => (
                    expected(&data, rules, t, summary::increase)[index]
                        .1
                        .unwrap(),
                    older.and_then(|rule| expected(&data, rules, t, rule)[index].1),
                ),
                None => {
                    // The latest sample at or before t (within the 5 min lookback).
                    let before = data.gauge.partition_point(|p| p.timestamp_ms <= t);
                    (data.gauge[before - 1].value, None)
                }
            };
            comparison.add(format!("{promql} at {t} (range)"), theirs, value, older);
        }
    }
    eprintln!(
        "Prometheus {version}: {} values compared with sdd_metrics; {} agree (largest relative difference {:e}), {} differ as the pre-2.51 extrapolation rule explains, {} disagree otherwise",
        comparison.compared,
        comparison.compared - comparison.explained.len() - comparison.disagreements.len(),
        comparison.largest,
        comparison.explained.len(),
        comparison.disagreements.len()
    );
    for line in &comparison.explained {
        eprintln!("  {line}");
    }
    assert!(
        comparison.disagreements.is_empty(),
        "Prometheus {version} and sdd_metrics disagree:\n{}",
        comparison.disagreements.join("\n")
    );
    if rules.zero_point_first {
        // The low counter is there to show the difference: it must have.
        assert!(
            comparison
                .explained
                .iter()
                .any(|line| line.starts_with("increase(low_total[1h])")),
            "the pre-2.51 rule was not exercised"
        );
    } else {
        assert!(comparison.explained.is_empty());
    }

    // A range selector at one instant: the raw samples, timestamps exact.
    let at = data.start_ms + 6 * HOUR_MS + 7_123;
    let QueryResult::Matrix(series) = api.query("g[1m]", at).await.unwrap() else {
        panic!("g[1m] is a matrix")
    };
    let ours: Vec<(i64, f64)> = rules
        .window(60_000, at)
        .select(&data.gauge)
        .iter()
        .map(|p| (p.timestamp_ms, p.value))
        .collect();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].1, ours);
    assert_eq!(series[0].0["__name__"], "g");
    assert_eq!(series[0].0["job"], "backfill");

    // Scalars: the time sent with milliseconds comes back exactly; NaN and infinities parse.
    let at = 1_700_000_000_123;
    assert_eq!(
        api.query("time()", at).await.unwrap(),
        QueryResult::Scalar(1_700_000_000.123)
    );
    assert_eq!(
        api.query("-Inf", at).await.unwrap(),
        QueryResult::Scalar(f64::NEG_INFINITY)
    );
    assert!(matches!(api.query("NaN", at).await.unwrap(), QueryResult::Scalar(v) if v.is_nan()));
    let QueryResult::Vector(infinite) = api
        .query(
            "vector(+Inf) or label_replace(vector(NaN), \"x\", \"y\", \"\", \"\")",
            at,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(infinite.len(), 2);
    // A PromQL string is not numbers: said so.
    let err = api.query("\"text\"", at).await.unwrap_err();
    assert!(err.to_string().contains("a string, not numbers"), "{err}");
    // Matchers with every character PromQL quotes, sent intact.
    let QueryResult::Vector(matched) = api
        .query(
            r#"count(h_bucket{job=~"back.+|x", le!~"0\\.0.*|2\\.5", le!="{}\" &?#+%"})"#,
            data.end_ms,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(matched[0].1, 5.0);

    // Metadata comes from scrapes (none for the backfill): Prometheus scrapes itself every
    // second.
    let deadline = Instant::now() + Duration::from_secs(30);
    let metadata = loop {
        let metadata = api.metadata().await.unwrap();
        if metadata.contains_key("prometheus_http_requests_total") || Instant::now() > deadline {
            break metadata;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(metadata["prometheus_http_requests_total"].kind, "counter");
    assert_eq!(metadata["prometheus_build_info"].kind, "gauge");
    assert!(!metadata["prometheus_build_info"].help.is_empty());
    assert!(
        !metadata.contains_key("g"),
        "backfilled families have no metadata"
    );

    // Series, label names and values.
    let series = api
        .series(
            &[r#"{job="backfill"}"#.to_string()],
            data.start_ms,
            data.end_ms,
        )
        .await
        .unwrap();
    let mut names: Vec<String> = series
        .iter()
        .map(|labels| {
            assert_eq!(labels["job"], "backfill");
            match labels.get("le") {
                Some(le) => format!("{}{{le={le}}}", labels["__name__"]),
                None => labels["__name__"].clone(),
            }
        })
        .collect();
    names.sort();
    let mut wanted: Vec<String> = ["g", "c_total", "low_total", "h_count", "h_sum"]
        .iter()
        .map(|s| s.to_string())
        .chain(BOUNDS.iter().map(|b| format!("h_bucket{{le={}}}", le(*b))))
        .collect();
    wanted.sort();
    assert_eq!(names, wanted);
    let labels = api.label_names().await.unwrap();
    for name in ["__name__", "job", "le"] {
        assert!(labels.contains(&name.to_string()), "{labels:?}");
    }
    let metric_names = api.label_values("__name__").await.unwrap();
    for name in ["g", "c_total", "h_bucket", "prometheus_build_info"] {
        assert!(metric_names.contains(&name.to_string()), "{name}");
    }
    let bounds = api.label_values("le").await.unwrap();
    for bound in BOUNDS {
        assert!(bounds.contains(&le(bound)), "{bounds:?}");
    }
    assert_eq!(
        api.label_values("job").await.unwrap(),
        vec!["backfill".to_string(), "sdd".into()]
    );
    assert!(api.label_values("no_such_label").await.unwrap().is_empty());

    // Bad PromQL: Prometheus' own message.
    let err = api.query("sum(rate(g[5m]", data.end_ms).await.unwrap_err();
    match &err {
        PrometheusError::Api {
            status,
            error_type,
            message,
            ..
        } => {
            assert_eq!((*status, error_type.as_str()), (400, "bad_data"));
            assert!(message.contains("parse error"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("parse error"), "{err}");
    eprintln!("bad PromQL: {err}");

    // More series than the cap: 7 buckets over a cap of 5.
    let capped = api.clone().with_max_series(5);
    let err = capped.query("h_bucket", data.end_ms).await.unwrap_err();
    assert!(
        matches!(
            err,
            PrometheusError::TooManySeries {
                count: 7,
                limit: 5,
                ..
            }
        ),
        "{err}"
    );
    eprintln!("too many series: {err}");
    let err = capped
        .query_range("h_bucket", data.end_ms - HOUR_MS, data.end_ms, 60_000)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PrometheusError::TooManySeries { count: 7, .. }),
        "{err}"
    );
    let err = capped
        .series(&["h_bucket".into()], data.start_ms, data.end_ms)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PrometheusError::TooManySeries { count: 7, .. }),
        "{err}"
    );
    assert_eq!(
        api.clone()
            .with_max_series(7)
            .query("h_bucket", data.end_ms)
            .await
            .map(|r| match r {
                QueryResult::Vector(v) => v.len(),
                _ => 0,
            })
            .unwrap(),
        7
    );
    // An answer over the byte cap.
    let err = api
        .clone()
        .with_max_answer_bytes(10_000)
        .query_range("g", data.start_ms, data.end_ms, 60_000)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PrometheusError::TooLarge { limit: 10_000, .. }),
        "{err}"
    );

    // The point limit: the client's check is Prometheus' own. 11,000 steps (11,001 points)
    // are answered; one step more is refused by Prometheus, and by the client up front.
    let (from, to) = (data.start_ms, data.start_ms + 11_000_000);
    let series = api.query_range("g", from, to, 1_000).await.unwrap();
    assert_eq!(series[0].1.len(), 11_001);
    let raw = sdd_http::send(
        &sdd_http::HttpRequest {
            method: "GET".into(),
            url: format!(
                "{}/api/v1/query_range?query=g&start={}&end={}&step=1",
                prometheus.url,
                from / 1000,
                to / 1000 + 1
            ),
            headers: vec![],
            body: None,
            timeout: Duration::from_secs(10),
        },
        &AllowedHosts::loopback_only(),
    )
    .await
    .unwrap();
    assert_eq!(raw.status, 400);
    assert!(
        String::from_utf8_lossy(&raw.body).contains("exceeded maximum resolution of 11,000 points")
    );
    let err = api
        .query_range("g", from, to + 1_000, 1_000)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PrometheusError::TooManyPoints { .. }),
        "{err}"
    );
    assert!(step_for(from, to + 1_000, MAX_POINTS_PER_SERIES) > 1_000);

    // A path prefix the server does not have: its 404, with the body's excerpt.
    let prefixed = PrometheusApi::new(
        &format!("{}/prom", prometheus.url),
        Duration::from_secs(10),
        AllowedHosts::loopback_only(),
    )
    .unwrap();
    let err = prefixed.build_version().await.unwrap_err();
    assert!(
        matches!(err, PrometheusError::Status { status: 404, .. }),
        "{err}"
    );

    // Stopping leaves no process behind, and nothing listens any more.
    let group = prometheus.group();
    prometheus.stop();
    assert_eq!(live_in_group(group), Vec::<String>::new());
    drop(prometheus);
    let err = api.build_version().await.unwrap_err();
    assert!(matches!(err, PrometheusError::Unreachable { .. }), "{err}");
}

/// A server on loopback answering every request with `answer` (a whole HTTP response, or
/// anything), after reading the request head. Its thread lives as long as the test process.
fn answering(answer: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut buffer = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buffer[..n]),
                }
            }
            let _ = stream.write_all(&answer);
        }
    });
    format!("http://{address}")
}

fn response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn client(url: &str, timeout: Duration) -> PrometheusApi {
    PrometheusApi::new(url, timeout, AllowedHosts::loopback_only()).unwrap()
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let err = client(&url, Duration::from_secs(5))
        .query("up", 0)
        .await
        .unwrap_err();
    assert!(matches!(err, PrometheusError::Unreachable { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot reach Prometheus at {url}/api/v1/query: ")),
        "{text}"
    );
    assert!(text.contains("Connection refused"), "{text}");
    assert!(text.contains("monitoring.source.prometheus.url"), "{text}");
}

#[tokio::test]
async fn a_listener_that_never_answers_is_a_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts and holds every connection, answering nothing.
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(60));
        drop(held);
    });
    let started = Instant::now();
    let err = client(&url, Duration::from_millis(300))
        .query_range("up", 0, 60_000, 15_000)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        err.to_string(),
        format!("Prometheus at {url}/api/v1/query_range did not answer within 0.3 s; raise monitoring.source.prometheus.timeout_seconds or narrow the query")
    );
}

#[tokio::test]
async fn garbage_answers_are_named() {
    let timeout = Duration::from_secs(5);
    let url = answering(response("200 OK", b"not json at all"));
    let err = client(&url, timeout).query("up", 0).await.unwrap_err();
    assert!(matches!(err, PrometheusError::Unparseable { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("gave an answer SDD cannot read: not the API's JSON"),
        "{err}"
    );

    let url = answering(response(
        "502 Bad Gateway",
        b"<html>\n<body>  upstream   unavailable </body></html>",
    ));
    let err = client(&url, timeout).label_names().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Prometheus at {url}/api/v1/labels answered HTTP 502: <html> <body> upstream unavailable </body></html>")
    );

    let url = answering(response(
        "422 Unprocessable Entity",
        br#"{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}"#,
    ));
    let err = client(&url, timeout).query("a / b", 0).await.unwrap_err();
    assert!(
        matches!(&err, PrometheusError::Api { status: 422, error_type, .. } if error_type == "execution"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("many-to-many matching not allowed"),
        "{err}"
    );

    let url = answering(response(
        "200 OK",
        br#"{"status":"success","data":{"resultType":"string","result":[1,"x"]}}"#,
    ));
    let err = client(&url, timeout).query("\"x\"", 0).await.unwrap_err();
    assert!(err.to_string().contains("a string, not numbers"), "{err}");

    let big = format!(
        r#"{{"status":"success","data":["{}"]}}"#,
        "x".repeat(100_000)
    );
    let url = answering(response("200 OK", big.as_bytes()));
    let err = client(&url, timeout)
        .with_max_answer_bytes(50_000)
        .label_names()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Prometheus at {url}/api/v1/labels answered more than 50000 bytes; narrow the selector or shorten the window")
    );
    assert_eq!(
        client(&url, timeout).label_names().await.unwrap()[0].len(),
        100_000
    );

    let url = answering(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec());
    let err = client(&url, timeout).build_version().await.unwrap_err();
    assert!(matches!(err, PrometheusError::Http { .. }), "{err}");

    // A path prefix is kept and the label is encoded in the path.
    let url = answering(response("200 OK", br#"{"status":"success","data":["a"]}"#));
    let api = client(&format!("{url}/prefix/"), timeout);
    assert_eq!(api.base_url(), format!("{url}/prefix"));
    assert_eq!(
        api.label_values("a b/c").await.unwrap(),
        vec!["a".to_string()]
    );
}

#[tokio::test]
async fn hosts_not_allowed_are_refused_before_any_request() {
    let err = PrometheusApi::new(
        "http://192.0.2.1:9090",
        Duration::from_secs(1),
        AllowedHosts::loopback_only(),
    )
    .unwrap_err();
    assert!(
        matches!(err, PrometheusError::HostNotAllowed { ref host, .. } if host == "192.0.2.1"),
        "{err}"
    );
    assert!(err.to_string().contains("targets.allowed_hosts"), "{err}");
    // Listed, the client is made; the point limit is checked before connecting.
    let api = PrometheusApi::new(
        "http://192.0.2.1:9090",
        Duration::from_secs(1),
        AllowedHosts::new(["192.0.2.1".to_string()]),
    )
    .unwrap();
    let err = api.query_range("up", 0, DAY_MS, 1_000).await.unwrap_err();
    assert!(
        matches!(err, PrometheusError::TooManyPoints { .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "a range of 86400 s at a step of 1 s is 86401 points per series, over Prometheus' limit of 11,000; use a step of at least 8 s (step_for computes one) or shorten the range"
    );
}
