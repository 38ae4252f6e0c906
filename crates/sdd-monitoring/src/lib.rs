//! The monitoring server's library: the spec watched in production.
//!
//! Metric sources behind one interface (the embedded store under `.sdd/`, or a
//! Prometheus-compatible HTTP API), the mapping from the spec's scenarios and constraints to
//! series, and the answers the monitoring tools give in the spec's terms.

pub mod dashboard;
pub mod degradation;
pub mod embedded;
pub mod explore;
pub mod expr;
pub mod headroom;
pub mod health;
pub mod monitor;
pub mod prometheus;
pub mod rules;
pub mod selector;
pub mod source;
#[cfg(feature = "testing")]
pub mod testing;
pub mod window;
