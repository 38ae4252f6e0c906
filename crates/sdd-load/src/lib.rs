//! Load generation for SDD, without MCP types: an open model (constant or ramping arrival rate,
//! latency from each request's intended send time, so a stalling service cannot hide its tail)
//! and a closed model (N connections as fast as possible), warm-up, duration and count bounds,
//! weighted request mixes with per-request templating, HDR histograms, errors by class, a
//! flag when the generator rather than the service was the limit, and on request a sample of
//! what the writes created (to read back afterwards); and the same plans written as k6 scripts
//! (`k6`), for k6 to run them, on one machine or a cluster.

mod http1;
pub mod k6;
pub mod plan;
pub mod report;
mod run;
mod sample;
pub mod stall_server;

pub use plan::{Endpoint, LoadPlan, Model, SampleSpec, Stage};
pub use report::{
    CreatedSample, CreatedSamples, ErrorCounts, GeneratorHealth, LoadReport, Percentiles,
};
pub use run::{run, run_blocking, run_cancellable, Cancel, LoadError};
