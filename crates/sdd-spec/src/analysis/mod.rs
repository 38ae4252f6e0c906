//! Analyses over a loaded [`crate::Spec`]. Each is a plain function returning data (and
//! diagnostics where it finds problems); none reads files, starts processes or touches the network.

pub mod budget;
pub mod conflicts;
pub mod consistency;
pub mod coverage;
pub mod graph;
pub mod impact;
pub mod interactions;
pub mod scenario_rules;
pub mod validate;

/// A request that cannot be answered as asked (unknown ID, wrong constraint kind, …). The message
/// says what to do instead.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AnalysisError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

/// The spec of a few files written inline, for the analyses' unit tests.
#[cfg(test)]
pub(crate) fn spec_of(files: &[(&str, &str)]) -> crate::Spec {
    crate::load_sources(
        &files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect::<Vec<_>>(),
    )
    .spec
}
