//! The JSON Schema of the spec file format, generated from [`crate::document::SpecDocument`].
//!
//! Committed as `specs/sdd-spec.schema.json`; a test fails when the committed copy is stale.
//! Editors validate as people type with a first line of
//! `# yaml-language-server: $schema=<path to>/specs/sdd-spec.schema.json`.

use crate::document::SpecDocument;

/// The schema as pretty JSON with a trailing newline, exactly as committed.
pub fn spec_schema_json() -> String {
    let schema = schemars::schema_for!(SpecDocument);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
