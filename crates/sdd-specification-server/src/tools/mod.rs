//! The specification server's tools, one module per group. Each group is an rmcp router;
//! `SpecServer::new` composes them. Read-only tools are annotated `read_only_hint = true`; the
//! one tool that writes (`propose_scenarios`) is marked non-destructive (it only appends) and
//! non-idempotent.

mod analysis;
mod authoring;
mod planning;
pub(crate) mod query;
