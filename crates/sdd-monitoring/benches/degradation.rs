//! The degradation hunter on 1,000 series × 10,000 points (a point a minute, 6.9 days), seven
//! kinds planted in turn (healthy, pure cycles, growth that follows a growing load, a leak, a
//! latency creep, a step, a declining hit ratio), beside what a user would otherwise write:
//! `predict_linear` (least squares over the window) through a real Prometheus on the same
//! data, a series flagged when it projects at least the same threshold (1 % a week of its
//! level) the worse way.
//!
//! Timed (median of 3 after a warm-up):
//! - the analysis alone (`judge_all` on the points in memory: every point used);
//! - `hunt` through the embedded store, as `detect_degradation` runs it (fetched at its step);
//! - Prometheus answering `predict_linear(s[…], 7d)` and `avg_over_time` for the 1,000 series.
//!
//! Run: `scripts/bench-degradation.sh` (or `cargo bench -p sdd-monitoring --bench degradation`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sdd_http::AllowedHosts;
use sdd_monitoring::degradation::analyze::{Thresholds, Verdict};
use sdd_monitoring::degradation::hunt::{hunt, judge_all, Candidate, HuntOptions, SeriesKind};
use sdd_monitoring::degradation::synthetic::{load, series, Planted, Shape, START_MS};
use sdd_monitoring::prometheus::{PrometheusApi, QueryResult};
use sdd_monitoring::selector::Labels;
use sdd_monitoring::source::{EmbeddedSource, Source};
use sdd_monitoring::testing::{free_port, RunningPrometheus};

/// A series' name, its planted kind and its points.
type NamedPoints = (String, &'static str, Vec<(i64, f64)>);

const SERIES: usize = 1_000;
/// Both families, for the peer's queries.
const ALL: &str = "{__name__=~\"s|s_hit_ratio\"}";
const POINTS: i64 = 10_000;

const KINDS: [(&str, Planted, bool); 7] = [
    ("healthy", Planted::Healthy, false),
    ("cycles", Planted::Seasonal, false),
    ("follows_load", Planted::FollowsLoad, false),
    (
        "leak",
        Planted::Leak {
            percent_per_day: 1.0,
        },
        true,
    ),
    (
        "creep",
        Planted::Creep {
            percent_per_week: 5.0,
        },
        true,
    ),
    (
        "step",
        Planted::Step {
            at_day: 4.0,
            percent: 25.0,
        },
        true,
    ),
    (
        "decline",
        Planted::Decline {
            points_per_day: 0.5,
        },
        true,
    ),
];

fn shape(seed: u64) -> Shape {
    Shape {
        days: POINTS as f64 / 1440.0,
        step_ms: 60_000,
        seed,
    }
}

fn worse_is_lower(kind: &str) -> bool {
    kind == "decline"
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let _ = f();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(f());
        times.push(started.elapsed());
    }
    (median(times), last.expect("a run"))
}

#[tokio::main]
async fn main() {
    // The data: one load growing 1 % a day (shared), 1,000 series.
    let load_points = load(&shape(0), 0.01);
    let mut data: Vec<NamedPoints> = Vec::new();
    for i in 0..SERIES {
        let (kind, planted, _) = KINDS[i % KINDS.len()];
        // A hit ratio says by its name which way is worse; the rest are gauges where up is.
        let family = if worse_is_lower(kind) {
            "s_hit_ratio"
        } else {
            "s"
        };
        data.push((
            format!("{family}{{kind=\"{kind}\",i=\"{i}\"}}"),
            kind,
            series(&shape(i as u64 + 1), planted, &load_points),
        ));
    }
    let candidates = || -> Vec<Candidate> {
        data.iter()
            .map(|(name, kind, points)| Candidate {
                series: name.clone(),
                metric: name.split('{').next().unwrap_or_default().to_string(),
                kind: SeriesKind::Gauge,
                worse: if worse_is_lower(kind) {
                    sdd_monitoring::degradation::analyze::Worse::Lower
                } else {
                    sdd_monitoring::degradation::analyze::Worse::Higher
                },
                constraint: None,
                bound: None,
                points: points.clone(),
                labels: Labels::new(),
                volume: false,
                bounds: Vec::new(),
            })
            .collect()
    };
    let (analysis, judged) = time(3, || {
        judge_all(
            candidates(),
            Some(&load_points),
            None,
            60_000,
            0.01,
            Thresholds::default(),
            &[],
        )
    });
    println!(
        "analysis alone: {SERIES} series × {POINTS} points in {:.2} s (on {} threads)",
        analysis.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut ours: BTreeMap<&str, usize> = BTreeMap::new();
    for (h, (_, kind, _)) in judged.iter().zip(&data) {
        if h.analysis.verdict == Verdict::Degrading {
            *ours.entry(kind).or_default() += 1;
        }
    }

    // The same data as OpenMetrics, ending now (Prometheus keeps recent data), for the store
    // and for promtool's backfill.
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let end_ms = (now_ms - 3_600_000) / 86_400_000 * 86_400_000;
    let shift = end_ms - (START_MS + POINTS * 60_000);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.om");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        for family in ["s", "s_hit_ratio"] {
            writeln!(out, "# TYPE {family} gauge").unwrap();
            let prefix = format!("{family}{{");
            for (name, _, points) in data.iter().filter(|d| d.0.starts_with(&prefix)) {
                for &(t, v) in points {
                    let t = t + shift;
                    writeln!(out, "{name} {v} {}.{:03}", t / 1000, t % 1000).unwrap();
                }
            }
        }
        writeln!(out, "# TYPE http_request_duration_seconds histogram").unwrap();
        let mut total = 0.0;
        for &(t, rate) in &load_points {
            total += rate * 60.0;
            let t = t + shift;
            writeln!(
                out,
                "http_request_duration_seconds_count {total} {}.{:03}",
                t / 1000,
                t % 1000
            )
            .unwrap();
        }
        writeln!(out, "# EOF").unwrap();
    }
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let started = Instant::now();
    {
        let mut store = sdd_metrics::store::MetricStore::open(&project).unwrap();
        sdd_metrics::import::import_file(&mut store, &file).unwrap();
    }
    println!(
        "imported {} samples into the embedded store in {:.1} s",
        SERIES as i64 * POINTS + POINTS,
        started.elapsed().as_secs_f64()
    );
    let source = Source::Embedded(Arc::new(EmbeddedSource::new(&project)));
    let project_file = sdd_spec::project::parse_project_file("{}").unwrap();
    let options = HuntOptions {
        start_ms: end_ms - POINTS * 60_000,
        end_ms,
        significance: 0.01,
        thresholds: Thresholds::default(),
        thresholds_from: String::new(),
        resolution_ms: 60_000,
        only: None,
    };
    let mut times = Vec::new();
    let mut through_store = None;
    for _ in 0..3 {
        let started = Instant::now();
        through_store = Some(
            hunt(&source, &project_file, &[], 1, &[], &options)
                .await
                .unwrap(),
        );
        times.push(started.elapsed());
    }
    let through_store = through_store.unwrap();
    println!(
        "hunt through the embedded store (as detect_degradation): {:.2} s, {} series fetched at {} s steps",
        median(times).as_secs_f64(),
        through_store.series.len(),
        through_store.step_ms / 1000
    );
    let mut via_store: BTreeMap<String, usize> = BTreeMap::new();
    for h in &through_store.series {
        if h.analysis.verdict == Verdict::Degrading {
            let kind = h
                .series
                .split("kind=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("?");
            *via_store.entry(kind.to_string()).or_default() += 1;
        }
    }

    // The peer.
    // `SDD_BENCH_NO_PEER=1` skips the peer (its backfill of 10 M samples takes minutes).
    let installed = std::env::var_os("SDD_BENCH_NO_PEER").is_none()
        && std::process::Command::new("prometheus")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    let mut theirs: BTreeMap<String, usize> = BTreeMap::new();
    let mut peer_time = None;
    let _prometheus = if installed {
        let port = free_port();
        let started = Instant::now();
        let running = RunningPrometheus::start(dir.path(), port, &[], Some(&file));
        println!("Prometheus backfilled (promtool tsdb create-blocks-from openmetrics) and started in {:.1} s", started.elapsed().as_secs_f64());
        let api = PrometheusApi::new(
            &running.url,
            Duration::from_secs(300),
            AllowedHosts::loopback_only(),
        )
        .unwrap();
        let version = api.build_version().await.unwrap_or_default();
        let range = format!("{}m", POINTS);
        let predict = format!("predict_linear({ALL}[{range}], 604800)");
        let mean = format!("avg_over_time({ALL}[{range}])");
        let mut times = Vec::new();
        let mut answers = None;
        for _ in 0..4 {
            let started = Instant::now();
            let p = api.query(&predict, end_ms).await.unwrap();
            let m = api.query(&mean, end_ms).await.unwrap();
            times.push(started.elapsed());
            answers = Some((p, m));
        }
        times.remove(0);
        peer_time = Some(median(times));
        let (QueryResult::Vector(p), QueryResult::Vector(m)) = answers.unwrap() else {
            panic!("vectors expected");
        };
        let means: BTreeMap<Labels, f64> = m
            .into_iter()
            .map(|(mut l, v)| {
                l.remove("__name__");
                (l, v)
            })
            .collect();
        // The last value, to project from.
        let last = api
            .query(&format!("last_over_time({ALL}[{range}])"), end_ms)
            .await
            .unwrap();
        let QueryResult::Vector(last) = last else {
            panic!()
        };
        let lasts: BTreeMap<Labels, f64> = last
            .into_iter()
            .map(|(mut l, v)| {
                l.remove("__name__");
                (l, v)
            })
            .collect();
        for (mut labels, projected) in p {
            labels.remove("__name__");
            let kind = labels.get("kind").cloned().unwrap_or_default();
            let (Some(level), Some(now)) = (means.get(&labels), lasts.get(&labels)) else {
                continue;
            };
            // The same threshold: a projected week's change of 1 % of the level, the worse way.
            let change = (projected - now) / level.abs().max(f64::MIN_POSITIVE) * 100.0;
            let flagged = if worse_is_lower(&kind) {
                change <= -1.0
            } else {
                change >= 1.0
            };
            if flagged {
                *theirs.entry(kind).or_default() += 1;
            }
        }
        println!("peer: Prometheus {version} (Debian package)");
        Some(running)
    } else {
        println!("the peer is skipped (SDD_BENCH_NO_PEER, or prometheus not installed: apt-get install prometheus)");
        None
    };

    println!();
    println!(
        "{:<14} {:>8} {:>12} {:>14} {:>16}",
        "planted", "series", "ours (mem)", "ours (store)", "predict_linear"
    );
    for (kind, _, planted) in KINDS {
        let n = (0..SERIES)
            .filter(|i| KINDS[i % KINDS.len()].0 == kind)
            .count();
        println!(
            "{:<14} {:>8} {:>12} {:>14} {:>16}   {}",
            kind,
            n,
            ours.get(kind).copied().unwrap_or(0),
            via_store.get(kind).copied().unwrap_or(0),
            if installed {
                theirs.get(kind).copied().unwrap_or(0).to_string()
            } else {
                "-".into()
            },
            if planted {
                "(should be flagged)"
            } else {
                "(should not be)"
            }
        );
    }
    if let Some(t) = peer_time {
        println!("\nPrometheus answering predict_linear + avg_over_time for {SERIES} series over {POINTS} points each: {:.2} s", t.as_secs_f64());
    }
}
