//! Metric data: exposition text in, samples stored, summaries out.
//!
//! `sdd-metrics` is the monitoring server's data layer, with no MCP in it: `exposition` reads
//! the Prometheus text format and OpenMetrics text (total and bounded: a bad line is a problem
//! with its line number, the rest is read), `store` keeps samples in an embedded SQLite file
//! (`.sdd/metrics.sqlite3`, apart from the run history so frequent scrapes never contend with
//! its writers), `import` streams OpenMetrics text with timestamps into it, and `summary`
//! computes what a window of one series says — count, min, max, mean, quantiles, last value,
//! slope, rate and increase, histogram quantiles — as Prometheus computes them, so answers from
//! the embedded store and from a real Prometheus agree.

mod chunk;
pub mod exposition;
pub mod import;
pub mod store;
pub mod summary;
