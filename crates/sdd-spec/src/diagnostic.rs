//! Diagnostics: every problem the spec core finds, with where it is and how to fix it.
//!
//! The core never stops at the first problem (rust-analyzer's API-boundary rule): loading and
//! analysis return the model *and* a list of these.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The spec is wrong or cannot be used as written; `sdd validate` exits non-zero.
    Error,
    /// The spec loads but something will likely bite (vague wording, dangling reference).
    Warning,
    /// A remark that needs no action.
    Info,
}

/// One finding, located as precisely as the source allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable machine-readable code, e.g. `yaml-syntax`, `missing-field`, `vague-wording`.
    pub code: String,
    pub message: String,
    /// Spec file, relative to the spec root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Field path inside the file, e.g. `scenarios[2].then`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code: code.to_string(),
            message: message.into(),
            file: None,
            line: None,
            column: None,
            path: None,
            help: None,
        }
    }

    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: &str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    pub fn at(mut self, location: &Location) -> Self {
        self.file = Some(location.file.clone());
        self.line = Some(location.line);
        self.column = Some(location.column);
        if !location.path.is_empty() {
            self.path = Some(location.path.clone());
        }
        self
    }

    pub fn in_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_string());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column: severity[code]: message` — the one-line form used in logs and tool text.
    pub fn headline(&self) -> String {
        let mut place = self.file.clone().unwrap_or_default();
        if let Some(line) = self.line {
            place.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                place.push_str(&format!(":{column}"));
            }
        }
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let path = self
            .path
            .as_deref()
            .map(|p| format!(" (at `{p}`)"))
            .unwrap_or_default();
        if place.is_empty() {
            format!("{severity}[{}]: {}{path}", self.code, self.message)
        } else {
            format!("{place}: {severity}[{}]: {}{path}", self.code, self.message)
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.headline())?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Where a model element came from: spec-root-relative file, 1-based line and column, field path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub path: String,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

pub fn count_errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}
