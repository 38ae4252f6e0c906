//! What to run: the target, the request mix, the arrival model and the bounds.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One kind of request in the mix.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Endpoint {
    #[serde(default = "default_method")]
    pub method: String,
    /// Path and query, e.g. `/tasks?status=pending`. `{{seq}}` becomes the request's number.
    pub path: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// A body template; `{{seq}}` becomes the request's number (unique per request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Relative share of the mix (default 1).
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_method() -> String {
    "GET".into()
}
fn default_weight() -> u32 {
    1
}

impl Endpoint {
    pub fn get(path: &str) -> Endpoint {
        Endpoint {
            method: "GET".into(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
            weight: 1,
        }
    }

    pub(crate) fn templated(&self) -> bool {
        self.path.contains("{{seq}}") || self.body.as_deref().is_some_and(|b| b.contains("{{seq}}"))
    }
}

/// A stretch of an open-model run whose arrival rate goes linearly from `from` to `to`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
pub struct Stage {
    pub seconds: f64,
    pub from_rate: f64,
    pub to_rate: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "model")]
pub enum Model {
    /// Requests arrive on a schedule whatever the service does; latency is measured from each
    /// request's intended send time (coordinated-omission correct). A constant `rate`, or
    /// `stages` that ramp it.
    Open {
        rate: f64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        stages: Vec<Stage>,
    },
    /// `connections` clients, each sending its next request when the previous one is answered.
    Closed { connections: usize },
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LoadPlan {
    /// `http://host:port` (https is not supported).
    pub base_url: String,
    pub endpoints: Vec<Endpoint>,
    pub model: Model,
    /// Measured time after the warm-up (for stages: their total, if longer).
    pub duration: Duration,
    /// Stop after this many measured requests, if sooner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u64>,
    /// Run, but do not measure, this long first.
    #[serde(default)]
    pub warmup: Duration,
    /// Connections for the open model (default: enough for a quarter second of arrivals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<usize>,
    /// Keep connections open between requests (default) or connect for every request.
    #[serde(default = "default_true")]
    pub reuse_connections: bool,
    /// A request not answered within this is a timeout error.
    pub timeout: Duration,
    /// Headers sent with every request (e.g. authorization from sdd.yaml).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Simulated users: request number `n` also carries `identities[n % len]`, whose headers
    /// replace same-named ones above (e.g. one `Authorization` per user). Empty: one user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<Vec<(String, String)>>,
    /// Generator threads (default: the machine's cores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// Percentiles to report exactly besides the usual ones (e.g. 75 or 99.99).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_percentiles: Vec<f64>,
    /// Keep a sample of what the writes created (a field of their 2xx answers), for reading it
    /// back after the run. Off by default: answers are then never parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_created: Option<SampleSpec>,
}

/// Which field of the writes' answers to keep, and how many: of the POST, PUT and PATCH
/// requests answered 2xx, a uniform sample over the whole run (warm-up included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SampleSpec {
    /// Path of the value in the JSON answer: `id` (default), `data.id`, `items.0.id`.
    #[serde(default = "default_sample_field")]
    pub field: String,
    /// At most this many samples per run (default 50).
    #[serde(default = "default_sample_cap")]
    pub cap: usize,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            field: default_sample_field(),
            cap: default_sample_cap(),
        }
    }
}

fn default_sample_field() -> String {
    "id".into()
}
fn default_sample_cap() -> usize {
    50
}

fn default_true() -> bool {
    true
}

impl LoadPlan {
    /// Running sums of the endpoints' weights (a weight of 0 counts as 1): request `n` goes to
    /// the first endpoint whose sum exceeds `n % total`. sdd-load and the k6 scripts it writes
    /// pick endpoints by this one rule.
    pub fn cumulative_weights(&self) -> Vec<u64> {
        self.endpoints
            .iter()
            .scan(0u64, |sum, e| {
                *sum += u64::from(e.weight.max(1));
                Some(*sum)
            })
            .collect()
    }

    pub fn new(base_url: &str, endpoints: Vec<Endpoint>, model: Model, duration: Duration) -> Self {
        LoadPlan {
            base_url: base_url.into(),
            endpoints,
            model,
            duration,
            max_requests: None,
            warmup: Duration::ZERO,
            connections: None,
            reuse_connections: true,
            timeout: Duration::from_secs(10),
            headers: Vec::new(),
            identities: Vec::new(),
            threads: None,
            extra_percentiles: Vec::new(),
            sample_created: None,
        }
    }
}

/// When request number `index` (from 0) should be sent, in seconds from the start, for an
/// open model; `None` once the schedule is over.
pub(crate) struct Schedule {
    /// (start second, stage) with the number of requests before it.
    stages: Vec<(f64, f64, Stage)>,
    end: f64,
}

impl Schedule {
    pub fn new(rate: f64, stages: &[Stage], total_seconds: f64) -> Schedule {
        let stages: Vec<Stage> = if stages.is_empty() {
            vec![Stage {
                seconds: total_seconds,
                from_rate: rate,
                to_rate: rate,
            }]
        } else {
            stages.to_vec()
        };
        let mut out = Vec::new();
        let (mut at, mut count) = (0.0, 0.0);
        for stage in stages {
            out.push((at, count, stage));
            count += stage.seconds * (stage.from_rate + stage.to_rate) / 2.0;
            at += stage.seconds;
        }
        Schedule {
            stages: out,
            end: at,
        }
    }

    pub fn seconds(&self) -> f64 {
        self.end
    }

    /// The intended send time of request `index`.
    pub fn time_of(&self, index: u64) -> Option<f64> {
        let n = index as f64;
        for (start, before, stage) in &self.stages {
            let in_stage = stage.seconds * (stage.from_rate + stage.to_rate) / 2.0;
            if n < before + in_stage {
                let k = n - before;
                let (r0, r1, d) = (stage.from_rate, stage.to_rate, stage.seconds);
                // Requests by time t in the stage: r0 t + (r1 - r0) t² / 2d = k.
                let a = (r1 - r0) / (2.0 * d);
                let t = if a.abs() < 1e-12 {
                    k / r0
                } else {
                    (-r0 + (r0 * r0 + 4.0 * a * k).max(0.0).sqrt()) / (2.0 * a)
                };
                return Some(start + t);
            }
        }
        None
    }

    /// The rate at the end of the schedule's busiest point (for sizing connections).
    pub fn peak_rate(&self) -> f64 {
        self.stages
            .iter()
            .map(|(_, _, s)| s.from_rate.max(s.to_rate))
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_and_ramping_schedules() {
        let s = Schedule::new(100.0, &[], 2.0);
        assert_eq!(s.time_of(0), Some(0.0));
        assert!((s.time_of(50).unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(s.time_of(200), None);
        // 0 → 100 req/s over 2 s: 100 requests, the 25th at 1 s.
        let s = Schedule::new(
            0.0,
            &[Stage {
                seconds: 2.0,
                from_rate: 0.0,
                to_rate: 100.0,
            }],
            2.0,
        );
        assert!((s.time_of(25).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(s.time_of(100), None);
        assert_eq!(s.peak_rate(), 100.0);
    }
}
