//! Limits on what a YAML file may cost to load, and the one safe way to read such a file.
//!
//! Spec files and `sdd.yaml` are read afresh on every tool call, so a file that is expensive to
//! load costs that on every call. YAML aliases make cost independent of size: one anchor aliased
//! thousands of times turned a 28 KB spec file into 9 s and 1.7 GB, and a larger one aborted the
//! server. The parser that builds `serde_yaml::Value`s expands every alias into a copy, so the
//! cost has to be measured *before* it runs: [`crate::positions::PositionIndex::build_checked`]
//! walks the parse events (which never expand aliases), adds each alias's anchored node count and
//! text size to the running totals, and refuses the file at the alias that crosses a limit.
//!
//! Reading is guarded too: a FIFO named `*.yaml` would block `read` forever, and a huge file
//! would be read whole before anything could refuse it.

use std::io::Read;
use std::path::Path;

/// Environment variable that raises (or lowers) the file size limit, in bytes.
pub const MAX_FILE_BYTES_ENV: &str = "SDD_MAX_FILE_BYTES";
/// Environment variable that raises (or lowers) the expanded node limit.
pub const MAX_NODES_ENV: &str = "SDD_MAX_YAML_NODES";

/// 4 MiB: the seed's largest spec file is under 20 KB; 200 times that is still a file a person
/// reviews, and reading it whole stays cheap.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// 100,000 nodes (keys, values, list items, after expanding aliases): a scenario is about 10
/// nodes, so this is some 10,000 scenarios in one file. A `serde_yaml::Value` costs about 100
/// bytes per node, so the cap keeps one file's tree near 10 MB whatever its aliases do.
pub const DEFAULT_MAX_NODES: u64 = 100_000;
/// 64 KiB per string (a key or a value): a scenario sentence is a line or two; the cap keeps one
/// pasted blob (or an alias to it) from being copied into every value that names it.
pub const DEFAULT_MAX_SCALAR_BYTES: usize = 64 * 1024;

/// Lists and mappings nested inside each other: serde_yaml refuses deeper documents anyway
/// (its recursion limit is 128), but only after building events for the whole nest, and the
/// position index would build a path per level. Refusing here costs nothing.
pub const MAX_DEPTH: usize = 128;

/// What one YAML file may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes on disk. Also the limit on the text of the file once aliases are expanded: the
    /// expansion must not cost more than a file we would have accepted written out.
    pub max_file_bytes: u64,
    /// Nodes once aliases are expanded.
    pub max_nodes: u64,
    /// Bytes of one scalar (string, number, key).
    pub max_scalar_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_nodes: DEFAULT_MAX_NODES,
            max_scalar_bytes: DEFAULT_MAX_SCALAR_BYTES,
        }
    }
}

impl Limits {
    /// The defaults, overridden by `SDD_MAX_FILE_BYTES` / `SDD_MAX_YAML_NODES` when set. A value
    /// that is not a positive whole number is ignored and reported in the second element (a
    /// typo must not silently lift or zero a limit).
    pub fn from_env() -> (Limits, Vec<String>) {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Limits::from_env`] with the variables read through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> (Limits, Vec<String>) {
        let mut limits = Limits::default();
        let mut problems = Vec::new();
        let mut read = |name: &str, default: u64| -> u64 {
            match lookup(name) {
                None => default,
                Some(text) => match text.trim().replace('_', "").parse::<u64>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        problems.push(format!(
                            "{name}={text:?} is not a positive whole number; using the default {default}"
                        ));
                        default
                    }
                },
            }
        };
        limits.max_file_bytes = read(MAX_FILE_BYTES_ENV, DEFAULT_MAX_FILE_BYTES);
        limits.max_nodes = read(MAX_NODES_ENV, DEFAULT_MAX_NODES);
        (limits, problems)
    }
}

/// Why a file could not be read as YAML text.
#[derive(Debug)]
pub enum ReadProblem {
    /// A FIFO, socket, device or directory: reading could block forever or mean nothing.
    NotRegular(&'static str),
    TooLarge {
        bytes: u64,
        limit: u64,
    },
    Io(std::io::Error),
    NotUtf8,
}

impl ReadProblem {
    /// `(code, message, help)` for a diagnostic.
    pub fn describe(&self) -> (&'static str, String, String) {
        match self {
            ReadProblem::NotRegular(what) => (
                "not-a-regular-file",
                format!("not read: this is {what}, not a regular file"),
                "spec and project files must be regular files; remove it or rename it so it does \
                 not end in .yaml / .yml / .feature"
                    .into(),
            ),
            ReadProblem::TooLarge { bytes, limit } => (
                "file-too-large",
                format!("not read: the file has {bytes} bytes; the limit is {limit}"),
                format!(
                    "split it into several files, or raise the limit by setting \
                     {MAX_FILE_BYTES_ENV}=<bytes> in the environment of the server or command \
                     (e.g. the `env` of its entry in .mcp.json)"
                ),
            ),
            ReadProblem::Io(err) => (
                "unreadable-file",
                format!("cannot read the file: {err}"),
                "spec files must be readable UTF-8 text".into(),
            ),
            ReadProblem::NotUtf8 => (
                "unreadable-file",
                "cannot read the file: it is not UTF-8 text".into(),
                "save the file as UTF-8".into(),
            ),
        }
    }
}

impl std::fmt::Display for ReadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (_, message, help) = self.describe();
        write!(f, "{message}; {help}")
    }
}

/// A name for a non-regular file type, or `None` for a regular file.
pub fn non_regular_kind(file_type: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_file() {
        None
    } else if file_type.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if file_type.is_socket() {
        Some("a socket")
    } else if file_type.is_char_device() || file_type.is_block_device() {
        Some("a device")
    } else if file_type.is_dir() {
        Some("a directory")
    } else {
        Some("not a regular file")
    }
}

/// Read a YAML file as text: only a regular file, only up to `limits.max_file_bytes`, UTF-8, a
/// leading byte order mark removed. Never blocks on a FIFO: the type is checked before opening,
/// the open is non-blocking, and the type is checked again on the opened handle (the path may
/// have been replaced in between).
pub fn read_yaml_file(path: &Path, limits: &Limits) -> Result<String, ReadProblem> {
    use std::os::unix::fs::OpenOptionsExt;
    let metadata = std::fs::metadata(path).map_err(ReadProblem::Io)?;
    if let Some(what) = non_regular_kind(metadata.file_type()) {
        return Err(ReadProblem::NotRegular(what));
    }
    if metadata.len() > limits.max_file_bytes {
        return Err(ReadProblem::TooLarge {
            bytes: metadata.len(),
            limit: limits.max_file_bytes,
        });
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(ReadProblem::Io)?;
    let opened = file.metadata().map_err(ReadProblem::Io)?;
    if let Some(what) = non_regular_kind(opened.file_type()) {
        return Err(ReadProblem::NotRegular(what));
    }
    // Read one byte past the limit: a file that grew since `metadata` is still refused.
    let mut bytes = Vec::with_capacity(opened.len().min(limits.max_file_bytes) as usize);
    file.take(limits.max_file_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadProblem::Io)?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ReadProblem::TooLarge {
            bytes: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| ReadProblem::NotUtf8)?;
    Ok(strip_bom(&text).to_string())
}

/// Text without a leading UTF-8 byte order mark. Editors on Windows write one; YAML allows it,
/// but it must not reach the parsers as content (it was read as a second document).
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A YAML file that is too expensive to load, located at the node that crossed the limit.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitExceeded {
    pub code: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub help: String,
}

/// Anchor and alias names must be plain (`[A-Za-z0-9_-]`, the names libyaml reads). The cost is
/// measured with saphyr-parser's events and paid in serde_yaml's parser (libyaml): the two agree
/// on every plain name, but saphyr reads `*x:` as the alias `x:` where libyaml reads the alias
/// `x` followed by `:`, so `[&x:]` … `&x [big]` … `[*x:]` would be counted small and expanded
/// big. `at` is the byte offset where the node's properties (tag, anchor) or the alias start.
pub(crate) fn check_name(
    text: &str,
    at: usize,
    sigil: char,
    position: (usize, usize),
) -> Result<(), LimitExceeded> {
    let rest = text.get(at..).unwrap_or("");
    // A tag may come first (`!t &a`); the sigil is on the same line.
    let line = rest.split('\n').next().unwrap_or("");
    let name: String = line
        .find(sigil)
        .map(|i| {
            line[i + sigil.len_utf8()..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
                .take(1024)
                .collect()
        })
        .unwrap_or_default();
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Ok(());
    }
    let what = if sigil == '&' { "anchor" } else { "alias" };
    let shown: String = name.chars().take(40).collect();
    Err(LimitExceeded {
        code: "yaml-anchor-name",
        message: format!(
            "the {what} name `{shown}` has characters other than letters, digits, `-` and `_`; \
             YAML parsers disagree on where such a name ends, so the file was not loaded"
        ),
        line: position.0,
        column: position.1,
        help: "rename the anchor (`&name`) and its aliases (`*name`) with letters, digits, `-` \
               and `_` only, and put a space after an alias used as a key (`*name :`)"
            .into(),
    })
}

/// Byte offsets of saphyr's character indices, for positions that only move forward.
#[derive(Debug, Default)]
pub(crate) struct CharCursor {
    chars: usize,
    bytes: usize,
}

impl CharCursor {
    pub(crate) fn byte_at(&mut self, text: &str, char_index: usize) -> usize {
        if char_index < self.chars {
            *self = CharCursor::default();
        }
        for c in text[self.bytes..].chars() {
            if self.chars == char_index {
                break;
            }
            self.chars += 1;
            self.bytes += c.len_utf8();
        }
        self.bytes
    }
}

/// The running cost of a YAML event stream (see the module comment).
#[derive(Debug)]
pub(crate) struct Cost {
    limits: Limits,
    nodes: u64,
    bytes: u64,
    /// Expanded `(nodes, bytes)` of every completed anchored node; `None` while it is still open.
    anchors: std::collections::HashMap<usize, Option<(u64, u64)>>,
    /// Open collections: `(anchor id, nodes before, bytes before)`.
    open: Vec<(usize, u64, u64)>,
}

impl Cost {
    pub(crate) fn new(limits: Limits) -> Self {
        Cost {
            limits,
            nodes: 0,
            bytes: 0,
            anchors: Default::default(),
            open: Vec::new(),
        }
    }

    pub(crate) fn scalar(
        &mut self,
        len: usize,
        anchor: usize,
        at: (usize, usize),
    ) -> Result<(), LimitExceeded> {
        if len > self.limits.max_scalar_bytes {
            return Err(LimitExceeded {
                code: "yaml-value-too-long",
                message: format!(
                    "a value of {len} bytes; the limit is {} bytes per key or value",
                    self.limits.max_scalar_bytes
                ),
                line: at.0,
                column: at.1,
                help: "shorten it: a scenario or constraint is a sentence or a few; keep long \
                       material (logs, payloads) in files the spec refers to"
                    .into(),
            });
        }
        if anchor > 0 {
            self.anchors.insert(anchor, Some((1, len as u64)));
        }
        self.add(1, len as u64, None, at)
    }

    pub(crate) fn start(&mut self, anchor: usize, at: (usize, usize)) -> Result<(), LimitExceeded> {
        if self.open.len() >= MAX_DEPTH {
            return Err(LimitExceeded {
                code: "yaml-too-deep",
                message: format!(
                    "lists and mappings are nested more than {MAX_DEPTH} deep here; the file was \
                     not loaded"
                ),
                line: at.0,
                column: at.1,
                help: "nest fewer lists and mappings inside each other".into(),
            });
        }
        if anchor > 0 {
            self.anchors.insert(anchor, None);
        }
        self.open.push((anchor, self.nodes, self.bytes));
        self.add(1, 0, None, at)
    }

    pub(crate) fn end(&mut self) {
        if let Some((anchor, nodes, bytes)) = self.open.pop() {
            if anchor > 0 {
                self.anchors
                    .insert(anchor, Some((self.nodes - nodes, self.bytes - bytes)));
            }
        }
    }

    pub(crate) fn alias(&mut self, anchor: usize, at: (usize, usize)) -> Result<(), LimitExceeded> {
        match self.anchors.get(&anchor) {
            Some(Some((nodes, bytes))) => self.add(*nodes, *bytes, Some(anchor), at),
            // The alias sits inside the node it names: its expansion never ends.
            Some(None) => Err(LimitExceeded {
                code: "yaml-recursive-alias",
                message: "this alias refers to a node that contains it, so it never ends".into(),
                line: at.0,
                column: at.1,
                help: "write the value out instead of using an alias (`*name`)".into(),
            }),
            // The parser refuses unknown anchors itself; count the alias as one node.
            None => self.add(1, 0, None, at),
        }
    }

    fn add(
        &mut self,
        nodes: u64,
        bytes: u64,
        alias: Option<usize>,
        at: (usize, usize),
    ) -> Result<(), LimitExceeded> {
        self.nodes = self.nodes.saturating_add(nodes);
        self.bytes = self.bytes.saturating_add(bytes);
        let over_nodes = self.nodes > self.limits.max_nodes;
        let over_bytes = self.bytes > self.limits.max_file_bytes;
        if !over_nodes && !over_bytes {
            return Ok(());
        }
        let what = if over_nodes {
            format!("more than {} nodes", self.limits.max_nodes)
        } else {
            format!("more than {} bytes of text", self.limits.max_file_bytes)
        };
        Err(match alias {
            Some(_) => LimitExceeded {
                code: "yaml-alias-expansion",
                message: format!(
                    "aliases expand this file to {what}; this alias (it copies {nodes} nodes, \
                     {bytes} bytes) crossed the limit, so the file was not loaded"
                ),
                line: at.0,
                column: at.1,
                help: "write the repeated values out, or use fewer aliases (`*name`) of large \
                       anchors (`&name`); each alias costs as much as the node it copies"
                    .into(),
            },
            None => LimitExceeded {
                code: "yaml-too-many-nodes",
                message: format!("the file has {what}; it was not loaded"),
                line: at.0,
                column: at.1,
                help: if over_nodes {
                    format!(
                        "split it into several files, or raise the limit by setting \
                         {MAX_NODES_ENV}=<nodes> in the environment of the server or command"
                    )
                } else {
                    format!(
                        "split it into several files, or raise the limit by setting \
                         {MAX_FILE_BYTES_ENV}=<bytes> in the environment of the server or command"
                    )
                },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_the_environment_and_typos_are_reported() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let (limits, problems) = Limits::from_lookup(env(&[]));
        assert_eq!((limits, problems.len()), (Limits::default(), 0));
        let (limits, problems) = Limits::from_lookup(env(&[
            (MAX_FILE_BYTES_ENV, "8_388_608"),
            (MAX_NODES_ENV, "250000"),
        ]));
        assert_eq!(limits.max_file_bytes, 8 * 1024 * 1024);
        assert_eq!(limits.max_nodes, 250_000);
        assert!(problems.is_empty());
        // A typo or a zero must neither lift nor zero the limit.
        let (limits, problems) =
            Limits::from_lookup(env(&[(MAX_FILE_BYTES_ENV, "8MB"), (MAX_NODES_ENV, "0")]));
        assert_eq!(limits, Limits::default());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("SDD_MAX_FILE_BYTES=\"8MB\""),
            "{problems:?}"
        );
    }
}
