//! The monitoring tools' queries on the same data from both sources, in the same run: the
//! embedded store (`.sdd/metrics.sqlite3`) and a real Prometheus (Debian's package, loaded
//! with `promtool tsdb create-blocks-from openmetrics` from the same file). Data: one gauge of
//! 1,000,000 samples at 1 s (11.6 days) and 1,000 series of a counter at 15 s over 6 hours.
//!
//! Timed (median of 7 after a warm-up), through `sdd_monitoring::source::Source`, as the tools
//! ask:
//! - `query_metrics`' summary of the 1 M-sample gauge over its whole span (the embedded store
//!   computes it in one pass; Prometheus answers eleven PromQL queries);
//! - `quantile_over_time(0.95, g[…])` alone over the same million samples;
//! - `sum by (status) (increase(c_total[1h]))` over the 1,000 series.
//!
//! Run: `scripts/bench-metrics.sh` (or `cargo bench -p sdd-monitoring --bench sources`).
//! Without prometheus installed it says so and times the embedded store only.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sdd_http::AllowedHosts;
use sdd_monitoring::expr::{Expr, RangeFn};
use sdd_monitoring::prometheus::PrometheusApi;
use sdd_monitoring::selector::Selector;
use sdd_monitoring::source::{EmbeddedSource, Source};
use sdd_monitoring::testing::{free_port, RunningPrometheus};

const GAUGE_SAMPLES: i64 = 1_000_000;
const SERIES: usize = 1_000;

fn openmetrics(end_ms: i64) -> String {
    let mut text = String::with_capacity(60 * 1024 * 1024);
    text.push_str("# TYPE g gauge\n");
    let start_s = end_ms / 1000 - GAUGE_SAMPLES + 1;
    for i in 0..GAUGE_SAMPLES {
        let v = ((i * 7919) % 1000) as f64 / 10.0;
        text.push_str(&format!("g {v} {}\n", start_s + i));
    }
    text.push_str("# TYPE c counter\n");
    let steps = 6 * 3600 / 15;
    for s in 0..SERIES {
        let status = ["200", "201", "404", "500"][s % 4];
        let mut total = 0u64;
        for i in 0..=steps {
            total += (s % 5 + 1) as u64;
            text.push_str(&format!(
                "c_total{{instance=\"i{s}\",status=\"{status}\"}} {total} {}\n",
                end_ms / 1000 - (steps - i) * 15
            ));
        }
    }
    text.push_str("# EOF\n");
    text
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn time<T>(runs: usize, mut f: impl AsyncFnMut() -> T) -> Duration {
    let _ = f().await;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let _ = f().await;
        times.push(started.elapsed());
    }
    median(times)
}

fn ms(d: Duration) -> String {
    format!("{:9.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let end_ms = (now_ms - 3 * 3_600_000) / 1000 * 1000;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.om");
    std::fs::write(&file, openmetrics(end_ms)).unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    {
        let mut store = sdd_metrics::store::MetricStore::open(&project).unwrap();
        sdd_metrics::import::import_file(&mut store, &file).unwrap();
    }
    let mut sources = vec![(
        "embedded store",
        Source::Embedded(Arc::new(EmbeddedSource::new(&project))),
    )];
    let installed = std::process::Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let _prometheus = if installed {
        let port = free_port();
        let running = RunningPrometheus::start(dir.path(), port, &[], Some(&file));
        let api = PrometheusApi::new(
            &running.url,
            Duration::from_secs(120),
            AllowedHosts::loopback_only(),
        )
        .unwrap();
        let version = api.build_version().await.unwrap_or_default();
        println!(
            "peer: Prometheus {version} (Debian package), the same file backfilled by promtool"
        );
        sources.push(("Prometheus HTTP API", Source::Prometheus(api)));
        Some(running)
    } else {
        println!(
            "prometheus not installed: the peer figures are skipped (apt-get install prometheus)"
        );
        None
    };
    let span_ms = GAUGE_SAMPLES * 1000;
    let gauge = Selector::named("g");
    let p95 = Expr::range(RangeFn::QuantileOverTime(0.95), gauge.clone(), span_ms);
    let increases = Expr::sum_by(
        &["status"],
        Expr::range(RangeFn::Increase, Selector::named("c_total"), 3_600_000),
    );
    println!(
        "{:<22} {:>12} {:>12} {:>12}",
        "source", "summary 1M", "p95 1M", "sum 1k ser."
    );
    for (name, source) in &sources {
        let summary = time(7, async || {
            let s = source.summaries(&gauge, span_ms, end_ms).await.unwrap();
            assert_eq!(s.len(), 1);
            assert_eq!(s[0].1.count as i64, GAUGE_SAMPLES);
        })
        .await;
        let quantile = time(7, async || {
            assert_eq!(source.evaluate(&p95, end_ms).await.unwrap().len(), 1);
        })
        .await;
        let sums = time(7, async || {
            assert_eq!(source.evaluate(&increases, end_ms).await.unwrap().len(), 4);
        })
        .await;
        println!("{name:<22} {} {} {}", ms(summary), ms(quantile), ms(sums));
    }
}
