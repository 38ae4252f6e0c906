//! Writing into people's spec files without losing a line: text that cannot break out of its
//! YAML scalar, a lock per spec tree, and an atomic replace that keeps the file's mode and owner.
//!
//! Why each part exists (all reproduced as attacks on an earlier version):
//! - A string with U+2028 was one line for Rust's `lines()` and several for the YAML parser, so
//!   a proposal's tag could smuggle in a second scenario without `status` (which counts as
//!   approved). [`forbidden_char`] refuses such characters and [`emit_block_item`] writes every
//!   string as a double-quoted scalar, which no character can leave.
//! - Parallel tool calls shared one temporary file name and raced read–modify–rename, losing
//!   proposals and approvals. [`SpecLock`] serialises writers (threads and processes alike) and
//!   [`replace_file`] writes a fresh create-exclusive temporary file each time.
//! - A read-only or symlinked spec file was replaced by a regular 0644 file. [`replace_file`]
//!   refuses both and keeps mode and owner.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_yaml::Value;

/// How long a writer waits for another writer of the same spec tree before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another write to the spec tree `{0}` held its lock for {LOCK_WAIT:?}; nothing was written, try again")]
    LockTimeout(PathBuf),
    #[error("`{0}` is a symbolic link; SDD does not replace links (the link would become a copy); edit its target `{1}` instead")]
    Symlink(PathBuf, PathBuf),
    #[error("`{0}` is read-only; nothing was written (make it writable if SDD may change it)")]
    ReadOnly(PathBuf),
    #[error("`{0}` is not a regular file; nothing was written")]
    NotRegular(PathBuf),
    #[error("`{0}` changed while SDD was editing it (another editor saved it); nothing was written, call again to apply the change to the new text")]
    ChangedMeanwhile(PathBuf),
    #[error("cannot keep the owner of `{path}` ({source}); nothing was written")]
    Owner {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An exclusive advisory lock on a spec tree, held from reading a file to renaming its new
/// version into place. `flock` on the root directory: it excludes other processes and other
/// threads of this one (each acquisition opens its own file description), it needs no lock file
/// beside people's specs, and the kernel releases it if the holder dies.
pub struct SpecLock {
    _dir: File,
}

impl SpecLock {
    pub fn acquire(root: &Path) -> Result<SpecLock, WriteError> {
        Self::acquire_within(root, LOCK_WAIT)
    }

    pub fn acquire_within(root: &Path, wait: Duration) -> Result<SpecLock, WriteError> {
        let dir = File::open(root).map_err(|source| WriteError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(1);
        loop {
            match dir.try_lock() {
                Ok(()) => return Ok(SpecLock { _dir: dir }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(25));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(WriteError::LockTimeout(root.to_path_buf()))
                }
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(WriteError::Io {
                        path: root.to_path_buf(),
                        source,
                    })
                }
            }
        }
    }
}

/// Read an existing spec file for editing: refuses links, read-only and non-regular files before
/// any work is done, so the caller can say so instead of failing after the edit.
pub fn read_for_edit(path: &Path) -> Result<String, WriteError> {
    check_replaceable(path)?;
    std::fs::read_to_string(path).map_err(|source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn check_replaceable(path: &Path) -> Result<Option<std::fs::Metadata>, WriteError> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(WriteError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if metadata.file_type().is_symlink() {
        let target = std::fs::read_link(path).unwrap_or_default();
        return Err(WriteError::Symlink(path.to_path_buf(), target));
    }
    if !metadata.file_type().is_file() {
        return Err(WriteError::NotRegular(path.to_path_buf()));
    }
    if metadata.permissions().mode() & 0o222 == 0 {
        return Err(WriteError::ReadOnly(path.to_path_buf()));
    }
    Ok(Some(metadata))
}

/// Replace `path` with `text` atomically. `expected_current` is the text the edit was based on
/// (`None` for a new file): if the file no longer holds exactly that, nothing is written. Call
/// with the tree's [`SpecLock`] held; the comparison then only guards against editors that do
/// not take the lock (a person's editor).
pub fn replace_file(
    path: &Path,
    expected_current: Option<&str>,
    text: &str,
) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let metadata = check_replaceable(path)?;
    match (&metadata, expected_current) {
        (None, None) => {}
        (Some(_), Some(expected)) => {
            let now = std::fs::read(path).map_err(io)?;
            if now != expected.as_bytes() {
                return Err(WriteError::ChangedMeanwhile(path.to_path_buf()));
            }
        }
        _ => return Err(WriteError::ChangedMeanwhile(path.to_path_buf())),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    // A fresh, create-exclusive name per write: two writers never share a temporary file.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".sdd-tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    let mode = metadata
        .as_ref()
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644);
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(io)?;
    if let Some(m) = &metadata {
        let current = temp.as_file().metadata().map_err(io)?;
        if current.uid() != m.uid() || current.gid() != m.gid() {
            std::os::unix::fs::fchown(temp.as_file(), Some(m.uid()), Some(m.gid())).map_err(
                |source| WriteError::Owner {
                    path: path.to_path_buf(),
                    source,
                },
            )?;
        }
    }
    temp.write_all(text.as_bytes()).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The first character that may not be written into a spec file by a tool, with its position.
/// Control characters (including newline and tab: one sentence is one line; use a list for
/// several), Unicode line and paragraph separators, NEL, zero-width and invisible characters,
/// bidirectional marks and overrides (text that reads differently than it parses) and the
/// byte-order mark.
pub fn forbidden_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        c.is_control()
            || matches!(
                c,
                '\u{2028}'
                    | '\u{2029}'
                    // Zero-width and invisible characters: unseen in a terminal or a diff.
                    | '\u{200B}'..='\u{200F}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{180E}'
                    // Bidirectional marks, embeddings, overrides and isolates.
                    | '\u{061C}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{FEFF}'
            )
    })
}

/// The longest mapping key a tool writes.
pub const MAX_KEY_CHARS: usize = 256;

/// Every string (keys too) in `value` that a tool would write, checked with [`forbidden_char`]
/// and against `max_chars`. The error names the field path and the character, never echoes
/// the (possibly huge) input.
pub fn check_strings(value: &Value, path: &str, max_chars: usize) -> Result<(), String> {
    let check = |s: &str, at: &str| -> Result<(), String> {
        if let Some((byte, c)) = forbidden_char(s) {
            let column = s[..byte].chars().count() + 1;
            return Err(format!(
                "`{at}` contains U+{:04X} at character {column}; control characters, line or paragraph separators, bidirectional overrides and byte-order marks cannot be written into a spec (one sentence per string; use a list for several)",
                c as u32
            ));
        }
        let chars = s.chars().count();
        if chars > max_chars {
            return Err(format!(
                "`{at}` is {chars} characters long; at most {max_chars} are accepted"
            ));
        }
        Ok(())
    };
    match value {
        Value::String(s) => check(s, path),
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_strings(v, &format!("{path}[{i}]"), max_chars)),
        Value::Mapping(map) => map.iter().try_for_each(|(k, v)| {
            let key = match k {
                Value::String(s) => {
                    check(s, &format!("{path} key"))?;
                    // YAML allows at most 1024 characters in an implicit key.
                    if s.chars().count() > MAX_KEY_CHARS {
                        return Err(format!(
                            "a key in `{path}` is longer than {MAX_KEY_CHARS} characters"
                        ));
                    }
                    s.clone()
                }
                other => serde_yaml::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            check_strings(v, &format!("{path}.{key}"), max_chars)
        }),
        Value::Tagged(t) => check_strings(&t.value, path, max_chars),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// Render a mapping as one block-sequence item (`- key: value` …) at `indent` spaces. Every
/// string is a double-quoted scalar (JSON string syntax, which is valid YAML), so no content can
/// end the scalar, start a new key or a new item. Keys that are plain identifiers stay plain
/// because people read them.
pub fn emit_block_item(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    let pad = " ".repeat(indent);
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            emit_mapping(map, indent + 2, &format!("{pad}- "), &mut out)
        }
        other => {
            out.push_str(&format!("{pad}- {}\n", scalar(other).unwrap_or_default()));
        }
    }
    out
}

fn emit_mapping(map: &serde_yaml::Mapping, indent: usize, lead: &str, out: &mut String) {
    let pad = " ".repeat(indent);
    for (i, (key, value)) in map.iter().enumerate() {
        out.push_str(if i == 0 { lead } else { &pad });
        out.push_str(&key_text(key));
        out.push(':');
        emit_value(value, indent, out);
    }
}

/// After `key:` (at `indent`), the value on the same line or as an indented block.
fn emit_value(value: &Value, indent: usize, out: &mut String) {
    if let Some(s) = scalar(value) {
        out.push(' ');
        out.push_str(&s);
        out.push('\n');
        return;
    }
    out.push('\n');
    match value {
        Value::Mapping(map) => {
            let pad = " ".repeat(indent + 2);
            emit_mapping(map, indent + 2, &pad, out);
        }
        Value::Sequence(items) => emit_sequence(items, indent + 2, out),
        Value::Tagged(t) => emit_value(&t.value, indent, out),
        _ => {}
    }
}

fn emit_sequence(items: &[Value], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for item in items {
        if let Some(s) = scalar(item) {
            out.push_str(&format!("{pad}- {s}\n"));
            continue;
        }
        match item {
            Value::Mapping(map) => emit_mapping(map, indent + 2, &format!("{pad}- "), out),
            Value::Sequence(inner) => {
                out.push_str(&format!("{pad}-\n"));
                emit_sequence(inner, indent + 2, out);
            }
            Value::Tagged(t) => emit_sequence(std::slice::from_ref(&t.value), indent, out),
            _ => {}
        }
    }
}

/// A scalar or empty collection written inline; `None` for a non-empty collection.
fn scalar(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::Sequence(items) if items.is_empty() => "[]".into(),
        Value::Mapping(map) if map.is_empty() => "{}".into(),
        Value::Tagged(t) => return scalar(&t.value),
        _ => return None,
    })
}

fn quoted(s: &str) -> String {
    // JSON-style double-quoted scalar. Every character that `forbidden_char` flags is escaped
    // as `\uXXXX`, not only ASCII controls: a raw NEL or U+2028 inside double quotes would be
    // folded into a space by YAML 1.1 parsers, so the text would not come back verbatim.
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if forbidden_char(c.encode_utf8(&mut [0; 4])).is_some() => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) if is_plain_key(s) => s.clone(),
        Value::String(s) => quoted(s),
        other => quoted(&scalar(other).unwrap_or_default()),
    }
}

/// Identifiers that YAML reads back as the same string (not a bool, null or number).
fn is_plain_key(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(value: &Value) -> Value {
        let text = format!("items:\n{}", emit_block_item(value, 2));
        let parsed: Value = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("emitted YAML does not parse ({e}):\n{text}"));
        let items = parsed["items"].as_sequence().unwrap();
        assert_eq!(items.len(), 1, "one item became several:\n{text}");
        items[0].clone()
    }

    /// Hostile strings, combined pairwise: every one must come back verbatim as one scalar.
    #[test]
    fn emitted_strings_cannot_break_out_of_their_scalar() {
        let pieces = [
            "ok",
            "- name: Injected",
            "\n  status: approved",
            "key: value",
            "#comment",
            "\"",
            "'",
            "\\",
            "{a: b}",
            "[x]",
            "&anchor",
            "*alias",
            "!!str",
            "|",
            ">",
            "---",
            "...",
            "%YAML 1.2",
            " leading",
            "trailing ",
            "",
            "true",
            "null",
            "0x10",
            "1e3",
            "~",
            "@",
            "`",
            "\u{2028}- name: X",
            "\u{2029}",
            "\u{0085}",
            "\t",
            "\r",
            "\u{0}",
            "\u{1b}[31m",
            "é日本",
            "😀",
        ];
        for a in pieces {
            for b in pieces {
                let s = format!("{a}{b}");
                let mut map = serde_yaml::Mapping::new();
                map.insert("name".into(), Value::String(s.clone()));
                map.insert(
                    "tags".into(),
                    Value::Sequence(vec![Value::String(s.clone()), "x".into()]),
                );
                let mut inner = serde_yaml::Mapping::new();
                inner.insert(Value::String(s.clone()), Value::String(s.clone()));
                map.insert("json".into(), Value::Mapping(inner));
                let value = Value::Mapping(map);
                assert_eq!(roundtrip(&value), value, "string {s:?}");
            }
        }
    }

    #[test]
    fn nested_collections_round_trip() {
        let value: Value = serde_yaml::from_str(
            "name: n\nexamples:\n  - steps:\n      - request: {method: POST, path: /x, json: {a: [1, 2.5, true, null, {b: []}], c: {}}}\n        expect: {status: 201}\n  - []\nthen: [a, b]\n",
        )
        .unwrap();
        assert_eq!(roundtrip(&value), value);
    }

    #[test]
    fn forbidden_characters_are_named_with_their_field() {
        let table = [
            ("plain text", None),
            ("é and 日本", None),
            ("a\u{2028}b", Some(0x2028)),
            ("a\u{2029}b", Some(0x2029)),
            ("a\u{0085}b", Some(0x85)),
            ("a\nb", Some(0x0a)),
            ("a\tb", Some(0x09)),
            ("a\u{202E}b", Some(0x202e)),
            ("\u{FEFF}a", Some(0xfeff)),
            ("a\u{200B}b", Some(0x200b)),
            ("a\u{2060}b", Some(0x2060)),
            ("a\u{061C}b", Some(0x061c)),
            ("a\u{7f}", Some(0x7f)),
        ];
        for (text, expected) in table {
            assert_eq!(
                forbidden_char(text).map(|(_, c)| c as u32),
                expected,
                "{text:?}"
            );
        }
        let value: Value = serde_yaml::from_str("tags: [ok, \"x\\u2028y\"]").unwrap();
        let err = check_strings(&value, "scenarios[0]", 100).unwrap_err();
        assert!(
            err.contains("scenarios[0].tags[1]") && err.contains("U+2028"),
            "{err}"
        );
        let long = Value::String("x".repeat(1_000_000));
        let err = check_strings(&long, "name", 500).unwrap_err();
        assert!(err.len() < 200, "the error must not echo the input: {err}");
    }

    #[test]
    fn replace_keeps_mode_and_refuses_links_read_only_and_stale_edits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "x: 1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        replace_file(&path, Some("x: 1\n"), "x: 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x: 2\n");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Based on text that is no longer there: refused, file untouched.
        assert!(matches!(
            replace_file(&path, Some("x: 1\n"), "x: 3\n"),
            Err(WriteError::ChangedMeanwhile(_))
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x: 2\n");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        assert!(matches!(
            replace_file(&path, Some("x: 2\n"), "x: 3\n"),
            Err(WriteError::ReadOnly(_))
        ));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o444
        );

        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(
            replace_file(&link, Some("x: 2\n"), "x: 3\n"),
            Err(WriteError::Symlink(..))
        ));
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        // No temporary files left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("sdd-tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn the_lock_excludes_a_second_holder_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = SpecLock::acquire(dir.path()).unwrap();
        assert!(matches!(
            SpecLock::acquire_within(dir.path(), Duration::from_millis(50)),
            Err(WriteError::LockTimeout(_))
        ));
        drop(first);
        SpecLock::acquire_within(dir.path(), Duration::from_millis(50)).unwrap();
    }
}
