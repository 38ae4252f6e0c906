//! The debugger server's library: incidents explained in the spec's terms.
//!
//! Semantic events (the convention in the README: scenario, step, business rule, expected and
//! actual outcome, decision factors, trace and span, service version) are read from JSON lines
//! (with a field mapping for any logger) and OTLP JSON files, streamed, never read whole.
//! Plain-text lines go through a Drain-style template miner. On top: one business transaction
//! step by step, log templates compared between windows, and incident analysis that finds the
//! onset, what broke, what changed before it, and ranks hypotheses by their evidence.

pub mod collect;
pub mod drain;
pub mod event;
pub mod gather;
pub mod hotfix;
pub mod incident;
pub mod learnings;
#[cfg(feature = "testing")]
pub mod log_corpus;
pub mod patterns;
pub mod read;
pub mod runbook;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;
pub mod whatif;
