//! The result of a load run: latency percentiles, rates, errors by class, and how the
//! generator itself fared.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ErrorCounts {
    /// The connection could not be opened.
    pub connect: u64,
    /// No complete response within the timeout.
    pub timeout: u64,
    /// The connection broke or the response was malformed.
    pub connection: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
}

impl ErrorCounts {
    pub(crate) fn add(&mut self, other: &ErrorCounts) {
        self.connect += other.connect;
        self.timeout += other.timeout;
        self.connection += other.connection;
        self.status_4xx += other.status_4xx;
        self.status_5xx += other.status_5xx;
    }

    /// Requests that did not get a response at all.
    pub fn transport(&self) -> u64 {
        self.connect + self.timeout + self.connection
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct GeneratorHealth {
    /// The generator, not the service, limited the run: its numbers understate the service.
    pub limited: bool,
    /// Why it was limited, or (when not) why fewer requests than asked were sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How late (99th percentile) idle connections woke for their next scheduled request.
    pub wake_lag_p99_ms: f64,
    /// Open model: requests that found every connection busy when due (their wait is in
    /// their latency, as it would be for a user).
    pub queued_requests: u64,
    pub connections: usize,
    pub threads: usize,
    /// CPU time of the generator threads.
    pub cpu_seconds: f64,
    pub cpu_us_per_request: f64,
    /// CPU time of the generator threads over their wall time (1.0: always busy).
    pub busy_share: f64,
    /// Open model: due requests not sent because the run ended first (they are in the
    /// latency with the time they had waited).
    pub unsent_requests: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LoadReport {
    /// `open` or `closed`.
    pub model: String,
    /// The open model's constant rate (absent for ramps and the closed model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    /// Measured requests per second actually sent.
    pub achieved_rate: f64,
    /// The measured window (after the warm-up), seconds.
    pub duration_seconds: f64,
    pub warmup_requests: u64,
    /// Measured requests (answered, timed out or failed).
    pub requests: u64,
    /// Answered with 1xx–3xx.
    pub ok: u64,
    /// Latency in milliseconds of answered (and timed-out) requests; in the open model measured
    /// from each request's intended send time.
    pub latency_ms: Percentiles,
    pub errors: ErrorCounts,
    pub status_counts: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    pub generator: GeneratorHealth,
    /// (percentile, latency ms) points of the latency distribution, for plots.
    pub curve: Vec<(f64, f64)>,
    /// (percentile, latency ms) for the plan's `extra_percentiles`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_percentiles: Vec<(f64, f64)>,
    /// What the writes created, sampled (only when the plan's `sample_created` asks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<CreatedSamples>,
}

/// A uniform sample of the resources a run's writes created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CreatedSamples {
    /// The field kept from each answer (`id`).
    pub field: String,
    /// Writes (POST, PUT, PATCH) answered 2xx during the run, warm-up included: what was
    /// sampled from.
    pub writes: u64,
    /// Sampled answers that had no value at `field` (not JSON, or no such field).
    pub without_field: u64,
    /// In the order they were sent.
    pub samples: Vec<CreatedSample>,
}

/// One write the run made and the value its answer carried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CreatedSample {
    /// The plan's endpoint, `POST /tasks` (`{{seq}}` not filled in).
    pub endpoint: String,
    /// The request's number in the run (what `{{seq}}` became).
    pub seq: u64,
    /// The simulated user that sent it (an index into the plan's `identities`); absent when
    /// the run had one user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<usize>,
    /// The field's value: a string as it was, a number or boolean as its JSON text.
    pub value: String,
}

impl LoadReport {
    /// The latency at `percentile` (0–100) in ms: exact for p50/90/95/99/99.9, max, and the
    /// plan's extra percentiles; otherwise the nearest reported one above it.
    pub fn latency_at(&self, percentile: f64) -> f64 {
        if let Some((_, v)) = self
            .extra_percentiles
            .iter()
            .find(|(p, _)| (p - percentile).abs() < 1e-9)
        {
            return *v;
        }
        let l = &self.latency_ms;
        match percentile {
            p if p <= 50.0 => l.p50,
            p if p <= 90.0 => l.p90,
            p if p <= 95.0 => l.p95,
            p if p <= 99.0 => l.p99,
            p if p <= 99.9 => l.p999,
            _ => l.max,
        }
    }

    /// Share of measured requests that failed (transport errors and 5xx).
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        (self.errors.transport() + self.errors.status_5xx) as f64 / self.requests as f64
    }
}

pub(crate) fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Percentiles {
        p50: ms(0.50),
        p90: ms(0.90),
        p95: ms(0.95),
        p99: ms(0.99),
        p999: ms(0.999),
        max: h.max() as f64 / 1000.0,
        mean: h.mean() / 1000.0,
    }
}

/// Points for a percentile curve: dense towards the tail.
pub(crate) fn curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    const POINTS: &[f64] = &[
        0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 92.5, 95.0, 96.0,
        97.0, 98.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0,
    ];
    POINTS
        .iter()
        .map(|p| (*p, h.value_at_quantile(p / 100.0) as f64 / 1000.0))
        .collect()
}
