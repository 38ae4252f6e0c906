//! The SDD specification core: the spec model, loading with located diagnostics, the constraint
//! language, analyses, test-suite generation and the review workflow.
//!
//! Plain Rust: this crate knows nothing of MCP, tokio or the network. Servers and the `sdd`
//! command line call it; its tests call it directly.

pub mod approval;
pub mod constraint;
pub mod diagnostic;
pub mod document;
pub mod gherkin;
pub mod ids;
pub mod limits;
pub mod load;
pub mod model;
pub mod positions;
pub mod project;
pub mod review;
pub mod routes;
pub mod schema;
pub mod spec_write;
pub mod testgen;
pub mod verdict;

pub use diagnostic::{Diagnostic, Location, Severity};
pub use load::{load_dir, load_dir_with, load_sources, LoadError, Loaded, SpecCache};
pub use model::Spec;
pub mod analysis;
pub mod text;
