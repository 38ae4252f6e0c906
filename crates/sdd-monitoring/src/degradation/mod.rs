//! The degradation hunter: trends, steps and seasonality in the service's series, growth told
//! apart from load, and the time left before a constraint or a limit is crossed.

pub mod analyze;
pub mod hunt;
pub mod report;
pub mod score;
pub mod stats;
#[cfg(any(test, feature = "testing"))]
pub mod synthetic;
