//! `sdd-load URL (--rate R | --closed --connections N) [--duration S] [--warmup S]
//! [--connections N] [--threads T] [--max-requests N] [--new-connections] [--timeout S]
//! [--header 'Name: value'] [--method M] [--body TEXT] [--sample-created FIELD] [--json]`: run
//! one load from a shell (the benchmark uses it); loopback targets only. Prints a summary, or the
//! full report as JSON (with `--sample-created`, a sample of the field's values in the writes'
//! 2xx answers). `sdd-load --plan PLAN.json [--json]` runs a whole `LoadPlan` (mix, users,
//! warm-up) as written, e.g. by `export_load_test`'s `plan_out`, beside the k6 script of the
//! same load.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::Duration;

use sdd_load::{run_blocking, Endpoint, LoadPlan, Model};

fn usage() -> ExitCode {
    eprintln!("usage: sdd-load URL (--rate R | --closed --connections N) [--duration S] [--warmup S] [--connections N] [--threads T] [--max-requests N] [--new-connections] [--timeout S] [--header 'Name: value'] [--method M] [--body TEXT] [--sample-created FIELD] [--json]\n       sdd-load --plan PLAN.json [--json]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        return usage();
    };
    if url == "--plan" {
        let (Some(file), json) = (args.next(), args.next()) else {
            return usage();
        };
        let json = match json.as_deref() {
            None => false,
            Some("--json") => true,
            Some(_) => return usage(),
        };
        let plan = match std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<LoadPlan>(&text).map_err(|e| e.to_string()))
        {
            Ok(plan) => plan,
            Err(e) => {
                eprintln!("error: {file}: {e}");
                return ExitCode::from(2);
            }
        };
        return report(&plan, json);
    }
    let (base, path) = match url
        .strip_prefix("http://")
        .and_then(|r| r.find('/').map(|i| i + 7))
    {
        Some(i) => (url[..i].to_string(), url[i..].to_string()),
        None => (url.clone(), "/".to_string()),
    };
    let mut rate = None;
    let mut closed = false;
    let mut connections = None;
    let mut endpoint = Endpoint::get(&path);
    let mut plan = LoadPlan::new(
        &base,
        vec![],
        Model::Closed { connections: 1 },
        Duration::from_secs(10),
    );
    let mut json = false;
    while let Some(arg) = args.next() {
        let mut number = || args.next().and_then(|v| v.parse::<f64>().ok());
        match arg.as_str() {
            "--rate" => rate = number(),
            "--closed" => closed = true,
            "--connections" => connections = number().map(|n| n as usize),
            "--duration" => plan.duration = Duration::from_secs_f64(number().unwrap_or(10.0)),
            "--warmup" => plan.warmup = Duration::from_secs_f64(number().unwrap_or(0.0)),
            "--threads" => plan.threads = number().map(|n| n as usize),
            "--max-requests" => plan.max_requests = number().map(|n| n as u64),
            "--timeout" => plan.timeout = Duration::from_secs_f64(number().unwrap_or(10.0)),
            "--new-connections" => plan.reuse_connections = false,
            "--json" => json = true,
            "--header" => match args.next().and_then(|h| {
                h.split_once(':')
                    .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            }) {
                Some(h) => plan.headers.push(h),
                None => return usage(),
            },
            "--method" => endpoint.method = args.next().unwrap_or_else(|| "GET".into()),
            "--body" => endpoint.body = args.next(),
            "--sample-created" => {
                plan.sample_created = Some(sdd_load::SampleSpec {
                    field: args.next().unwrap_or_else(|| "id".into()),
                    ..Default::default()
                })
            }
            _ => return usage(),
        }
    }
    plan.model = match (rate, closed) {
        (Some(rate), false) => {
            plan.connections = connections;
            Model::Open {
                rate,
                stages: vec![],
            }
        }
        (None, true) => Model::Closed {
            connections: connections.unwrap_or(50),
        },
        _ => return usage(),
    };
    plan.endpoints.push(endpoint);
    report(&plan, json)
}

/// Run `plan` and print its report.
fn report(plan: &LoadPlan, json: bool) -> ExitCode {
    let report = match run_blocking(plan, &Default::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        let l = &report.latency_ms;
        println!(
            "{} model: {} requests in {:.1} s, {:.0} req/s{}",
            report.model,
            report.requests,
            report.duration_seconds,
            report.achieved_rate,
            report
                .target_rate
                .map(|t| format!(" (target {t:.0})"))
                .unwrap_or_default()
        );
        println!(
            "latency ms: p50 {:.2}  p90 {:.2}  p95 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
            l.p50, l.p90, l.p95, l.p99, l.p999, l.max
        );
        println!(
            "errors: connect {} timeout {} connection {} 4xx {} 5xx {}",
            report.errors.connect,
            report.errors.timeout,
            report.errors.connection,
            report.errors.status_4xx,
            report.errors.status_5xx
        );
        println!(
            "generator: {} threads, {} connections, CPU {:.2} s ({:.1} µs/request), wake lag p99 {:.2} ms, queued {}{}",
            report.generator.threads,
            report.generator.connections,
            report.generator.cpu_seconds,
            report.generator.cpu_us_per_request,
            report.generator.wake_lag_p99_ms,
            report.generator.queued_requests,
            report.generator.reason.as_deref().map(|r| format!("\n{r}")).unwrap_or_default()
        );
        if let Some(created) = &report.created {
            println!(
                "created: {} writes answered 2xx, {} sampled `{}` values, {} sampled answers without it",
                created.writes,
                created.samples.len(),
                created.field,
                created.without_field
            );
        }
    }
    ExitCode::SUCCESS
}
