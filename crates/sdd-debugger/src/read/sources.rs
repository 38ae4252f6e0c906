//! The sources `sdd.yaml`'s `debugger.sources` names, resolved inside the project, plus the
//! service output SDD captured (`.sdd/service-logs/`), which is always read.

use std::path::{Path, PathBuf};

use sdd_spec::project::{confine, ProjectFile, SERVICE_LOGS_DIR};

use super::{FieldMap, Format};

/// One file to read, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    /// The file, inside the project.
    pub path: PathBuf,
    /// Its path relative to the project root, as reports name it.
    pub name: String,
    pub format: Format,
    pub fields: FieldMap,
    /// Whether it is the service output SDD captured (not a configured source).
    pub captured: bool,
}

/// The files to read: each configured source (a `*` in its file name expanded, sorted by
/// name), then every captured service log, oldest first. Each path must stay inside `root`
/// (no `..`, no absolute path, no symbolic link leading out). What cannot be used is a
/// problem, in words; the rest is still returned.
pub fn sources_of(file: &ProjectFile, root: &Path) -> (Vec<SourceSpec>, Vec<String>) {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for (i, source) in file.debugger.sources.iter().enumerate() {
        let mut fields = FieldMap::default();
        for (name, path) in source.fields.entries() {
            if let Err(problem) = fields.set_named(name, path) {
                problems.push(format!("debugger.sources[{i}].fields: {problem}"));
            }
        }
        fields.attributes = source
            .attributes
            .iter()
            .map(|(name, path)| (name.clone(), path.clone()))
            .collect();
        let format = Format::from(source.format);
        let named = |relative: &str| -> Option<SourceSpec> {
            confine(root, relative).map(|path| SourceSpec {
                path,
                name: relative.to_string(),
                format,
                fields: fields.clone(),
                captured: false,
            })
        };
        let (directory, pattern) = match source.path.rsplit_once('/') {
            Some((directory, pattern)) => (directory, pattern),
            None => ("", source.path.as_str()),
        };
        if directory.contains('*') {
            problems.push(format!(
                "debugger.sources[{i}].path `{}`: a `*` may only be in the file name, not in a directory",
                source.path
            ));
            continue;
        }
        if !pattern.contains('*') {
            match named(&source.path) {
                None => problems.push(outside(i, &source.path)),
                Some(spec) if !spec.path.exists() => problems.push(format!(
                    "debugger.sources[{i}].path `{}` does not exist",
                    source.path
                )),
                Some(spec) => sources.push(spec),
            }
            continue;
        }
        let Some(dir) = confine(root, if directory.is_empty() { "." } else { directory }) else {
            problems.push(outside(i, &source.path));
            continue;
        };
        let names = match matching_files(&dir, |name| glob_matches(pattern, name)) {
            Ok(names) => names,
            Err(e) => {
                problems.push(format!(
                    "debugger.sources[{i}].path `{}`: cannot list {}: {e}",
                    source.path,
                    dir.display()
                ));
                continue;
            }
        };
        if names.is_empty() {
            problems.push(format!(
                "debugger.sources[{i}].path `{}` matches no file",
                source.path
            ));
        }
        for name in names {
            let relative = if directory.is_empty() {
                name
            } else {
                format!("{directory}/{name}")
            };
            match named(&relative) {
                Some(spec) => sources.push(spec),
                None => problems.push(outside(i, &relative)),
            }
        }
    }
    // A `.sdd` that is a symbolic link out of the project is not followed.
    if let Some(dir) = confine(root, SERVICE_LOGS_DIR).filter(|d| d.is_dir()) {
        let captured = |name: &str| name.starts_with("service-") && name.ends_with(".jsonl");
        match matching_files(&dir, captured) {
            Ok(names) => {
                for name in names {
                    sources.push(SourceSpec {
                        path: dir.join(&name),
                        name: format!("{SERVICE_LOGS_DIR}/{name}"),
                        format: Format::ServiceCapture,
                        fields: FieldMap::default(),
                        captured: true,
                    });
                }
            }
            Err(e) => problems.push(format!("cannot list {SERVICE_LOGS_DIR}: {e}")),
        }
    }
    (sources, problems)
}

fn outside(i: usize, path: &str) -> String {
    format!("debugger.sources[{i}].path `{path}` leads outside the project; give a path inside it")
}

/// The regular files (a symbolic link to one included) in `dir` whose names match, sorted.
fn matching_files(dir: &Path, matches: impl Fn(&str) -> bool) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // `metadata` follows a link: a FIFO or directory behind a matching name is left out.
        if matches(&name) && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// A file name against a pattern where `*` matches any characters (none included), as the
/// shell does: a leading `*` does not match a name starting with `.`.
fn glob_matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was, and where in the name it started matching.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((star_p, star_n)) = star {
            pi = star_p + 1;
            ni = star_n + 1;
            star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|b| *b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_the_shell_does() {
        let cases = [
            ("*.jsonl", "events.jsonl", true),
            ("*.jsonl", "events.jsonl.1", false),
            ("app-*.log", "app-2026-12-01.log", true),
            ("app-*.log", "app.log", false),
            ("*", "anything", true),
            ("*", ".hidden", false),
            (".*", ".hidden", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("exact.log", "exact.log", true),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(glob_matches(pattern, name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn sources_resolve_inside_the_project_and_captured_logs_come_last() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("logs")).unwrap();
        std::fs::create_dir_all(root.join(SERVICE_LOGS_DIR)).unwrap();
        for name in [
            "logs/b.jsonl",
            "logs/a.jsonl",
            "logs/c.txt",
            "logs/.h.jsonl",
        ] {
            std::fs::write(root.join(name), "").unwrap();
        }
        for name in [
            "service-20261201T031300Z-2.jsonl",
            "service-20261201T031200Z-1.jsonl",
            "notes.txt",
        ] {
            std::fs::write(root.join(SERVICE_LOGS_DIR).join(name), "").unwrap();
        }
        let file = sdd_spec::project::parse_project_file(
            "debugger:\n  sources:\n    - {path: 'logs/*.jsonl', format: json_lines, fields: {timestamp: ts}, attributes: {db_shard: ctx.shard}}\n    - {path: logs/c.txt, format: text}\n    - {path: logs/missing.log}\n    - {path: 'nowhere/*.log'}\n    - {path: 'logs/*/x.log'}\n",
        )
        .unwrap();
        let (sources, problems) = sources_of(&file, root);
        let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "logs/a.jsonl",
                "logs/b.jsonl",
                "logs/c.txt",
                ".sdd/service-logs/service-20261201T031200Z-1.jsonl",
                ".sdd/service-logs/service-20261201T031300Z-2.jsonl",
            ]
        );
        assert_eq!(sources[0].format, Format::JsonLines);
        assert_eq!(sources[0].fields.path(super::super::Field::Timestamp), "ts");
        assert_eq!(
            sources[0].fields.attributes,
            [("db_shard".to_string(), "ctx.shard".to_string())]
        );
        assert_eq!(sources[3].format, Format::ServiceCapture);
        assert!(sources[3].captured && !sources[0].captured);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("`logs/missing.log` does not exist"));
        assert!(problems[1].contains("nowhere/*.log"));
        assert!(problems[2].contains("only be in the file name"));
    }

    #[test]
    fn a_symbolic_link_out_of_the_project_is_not_followed() {
        let outside_dir = tempfile::tempdir().unwrap();
        std::fs::write(outside_dir.path().join("secret.jsonl"), "").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside_dir.path(), dir.path().join("logs")).unwrap();
        std::os::unix::fs::symlink(outside_dir.path(), dir.path().join(".sdd")).unwrap();
        let file = sdd_spec::project::parse_project_file(
            "debugger:\n  sources:\n    - {path: logs/secret.jsonl}\n    - {path: 'logs/*.jsonl'}\n",
        )
        .unwrap();
        let (sources, problems) = sources_of(&file, dir.path());
        assert!(sources.is_empty(), "{sources:?}");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems
            .iter()
            .all(|p| p.contains("leads outside the project")));
    }
}
