//! `sdd validate`: every spec file checked, diagnostics rendered like rustc's (headline,
//! `--> file:line:col`, the offending line with a caret, help), or JSON for scripts.

use std::process::ExitCode;

use sdd_spec::analysis::validate::validate;
use sdd_spec::{Diagnostic, Severity};

use crate::cli::{Format, ValidateArgs};
use crate::sayln;

pub fn run(args: &ValidateArgs) -> Result<ExitCode, String> {
    let specs = args.specs.specs();
    let loaded = sdd_spec::load_dir(&specs).map_err(|e| e.to_string())?;
    let report = validate(&loaded.spec, &loaded.diagnostics);
    if args.format == Format::Json {
        sayln!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        for d in &report.diagnostics {
            sayln!("{}", render(d, &specs));
        }
        let s = &report.summary;
        sayln!(
            "{} files, {} domains, {} scenarios, {} constraints ({} machine-checkable): {} errors, {} warnings",
            s.files, s.domains, s.scenarios, s.constraints, s.checkable_constraints, s.errors, s.warnings
        );
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// rustc-style rendering: headline, `--> file:line:col`, the source line with a caret, help.
pub fn render(d: &Diagnostic, root: &std::path::Path) -> String {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    let mut out = format!("{severity}[{}]: {}\n", d.code, d.message);
    if let Some(file) = &d.file {
        let place = match (d.line, d.column) {
            (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            (Some(l), None) => format!("{file}:{l}"),
            _ => file.clone(),
        };
        let gutter = d.line.map(|l| l.to_string().len()).unwrap_or(1);
        out.push_str(&format!(
            "{:gutter$}--> {}\n",
            "",
            root.join(place).display()
        ));
        if let Some(line) = d.line {
            let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            if let Some(source) = text.lines().nth(line.saturating_sub(1)) {
                let column = d.column.unwrap_or(1).max(1);
                out.push_str(&format!(
                    "{:gutter$} |\n{line} | {source}\n{:gutter$} | {}^\n",
                    "",
                    "",
                    " ".repeat(column - 1)
                ));
            }
        }
    }
    if let Some(help) = &d.help {
        for (i, line) in help.lines().enumerate() {
            out.push_str(&format!(
                "{:w$} {} {line}\n",
                "",
                if i == 0 { "= help:" } else { "       " },
                w = d.line.map(|l| l.to_string().len()).unwrap_or(1)
            ));
        }
    }
    out
}
