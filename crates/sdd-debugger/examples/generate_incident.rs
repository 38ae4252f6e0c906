//! Print a generated run with a planted cause as JSON lines of the event convention:
//! `cargo run -p sdd-debugger --features testing --example generate_incident -- deploy 1 2 240`
//! (cause, seed, requests per second, seconds). The conformance data was made with it.

use sdd_debugger::testing::{incident, json_line, Planted};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let planted = match args.first().map(String::as_str).unwrap_or("deploy") {
        "healthy" => Planted::Healthy,
        "deploy" => Planted::Deploy,
        "attribute" => Planted::Attribute,
        "slow_step" => Planted::SlowStep,
        "spike" => Planted::Spike,
        "canary" => Planted::Canary,
        "decision_factor" => Planted::DecisionFactor,
        "deploy_after_onset" => Planted::DeployAfterOnset,
        "noisy_healthy" => Planted::NoisyHealthy,
        other => {
            eprintln!("unknown cause `{other}`: healthy, deploy, attribute, slow_step, spike, canary, decision_factor, deploy_after_onset or noisy_healthy");
            std::process::exit(2);
        }
    };
    let number = |i: usize, default: f64| {
        args.get(i)
            .and_then(|a| a.parse::<f64>().ok())
            .unwrap_or(default)
    };
    let generated = incident(
        planted,
        number(1, 1.0) as u64,
        number(2, 20.0),
        number(3, 600.0) as u64,
    );
    let mut out = String::new();
    for e in &generated.events {
        out.push_str(&json_line(e));
        out.push('\n');
    }
    print!("{out}");
}
