//! The README's diagnostics table is where people look when a check fires: it must list every
//! code the spec core can emit, and nothing it no longer emits.

use std::collections::BTreeSet;
use std::path::Path;

/// Codes written in the source: the first string argument of a `Diagnostic` constructor, a
/// `code: "…"` field, a `const …: &str = "…"` code, or a `("code", …)` pair (the schema and
/// read-problem tables).
fn codes_in_source() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests name codes they look for, not codes the code emits.
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            for opener in [
                "Diagnostic::error(",
                "Diagnostic::warning(",
                ".warn(",
                "Severity::Error,",
                "Severity::Warning,",
                "Severity::Info,",
                "code: ",
                ": &str = ",
                "(",
            ] {
                for (at, _) in text.match_indices(opener) {
                    let rest = text[at + opener.len()..].trim_start();
                    let Some(rest) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let Some(end) = rest.find('"') else { continue };
                    let literal = &rest[..end];
                    let is_code = literal.contains('-')
                        && literal
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                    let pair = opener != "(" || rest[end + 1..].trim_start().starts_with(',');
                    if is_code
                        && pair
                        && (opener != ": &str = " || literal.starts_with("contradicts"))
                    {
                        codes.insert(literal.to_string());
                    }
                }
            }
        }
    }
    codes
}

fn codes_in_readme() -> BTreeSet<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme
        .split("### Diagnostics")
        .nth(1)
        .expect("README has a Diagnostics section");
    let mut codes = BTreeSet::new();
    for line in section
        .lines()
        .skip_while(|l| !l.starts_with("| Code"))
        .skip(2)
    {
        if !line.starts_with('|') {
            break;
        }
        let first = line.split('|').nth(1).unwrap_or("");
        for code in first.split('/') {
            codes.insert(code.trim().trim_matches('`').to_string());
        }
    }
    codes
}

#[test]
fn the_readme_documents_every_diagnostic_code() {
    let source = codes_in_source();
    let readme = codes_in_readme();
    assert!(
        source.len() > 40,
        "the scan found too few codes: {source:?}"
    );
    let undocumented: Vec<&String> = source.difference(&readme).collect();
    let stale: Vec<&String> = readme.difference(&source).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "not in the README's table: {undocumented:?}; in the table but not emitted: {stale:?}"
    );
}
