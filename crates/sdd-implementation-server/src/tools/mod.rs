//! The implementation server's tools, one module per group; `ImplServer::new` composes their
//! routers. Tools that run commands are annotated open-world and non-idempotent (a run changes
//! the history); readers of the history are read-only and idempotent; `export_load_test`
//! writes a file and sends nothing (closed-world, idempotent).

mod checks;
mod constraints;
mod export;
mod history;
mod service;
mod status;
mod tests;

// The answers `sdd verify` reads back, with the types that wrote them: a renamed field is a
// compile error or a named parse error there, never a silent `null`.
pub use checks::CheckResult;
pub use constraints::VerifyResult;
pub use export::ExportResult;
pub use service::StartResult;
pub use tests::RunTestsResult;

use sdd_spec::project::ProjectFile;

/// The profile names of `sdd.yaml`, for error messages.
pub(crate) fn profile_names(file: &ProjectFile) -> String {
    if file.tests.is_empty() {
        "none are defined; add a `tests:` profile to sdd.yaml".into()
    } else {
        file.tests
            .keys()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
