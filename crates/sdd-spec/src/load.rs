//! Loading a spec tree: every `*.yaml` / `*.yml` under a root, into a [`Spec`] plus diagnostics.
//!
//! Each file is parsed once into a `serde_yaml::Value` and once into a [`PositionIndex`]; then
//! every section and list item is deserialized on its own, so one broken scenario costs exactly
//! one diagnostic and the rest of the file still loads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use crate::constraint::{parse_constraint, CheckSource, NotCheckable, ParsedConstraint};
use crate::diagnostic::{Diagnostic, Location};
use crate::document::*;
use crate::ids;
use crate::limits::{read_yaml_file, strip_bom, Limits};
use crate::model::*;
use crate::positions::{join, PositionIndex};

/// The result of loading: the model built from everything that could be read, and every problem.
#[derive(Debug, Default)]
pub struct Loaded {
    pub spec: Spec,
    pub diagnostics: Vec<Diagnostic>,
}

/// Errors that prevent loading at all (the root itself is unusable). Problems inside files are
/// diagnostics, not errors.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("spec root `{0}` does not exist; pass the directory that holds your spec YAML files")]
    MissingRoot(PathBuf),
    #[error("spec root `{0}` is not a directory")]
    NotADirectory(PathBuf),
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Load every spec file under `root`, with the limits of [`Limits::from_env`].
pub fn load_dir(root: &Path) -> Result<Loaded, LoadError> {
    let (limits, problems) = Limits::from_env();
    let mut loaded = load_dir_with(root, &limits)?;
    for problem in problems {
        loaded.diagnostics.push(
            Diagnostic::warning("bad-limit-setting", problem)
                .with_help("set it to a number of bytes or nodes, e.g. 8388608, or unset it"),
        );
    }
    Ok(loaded)
}

/// Load every spec file under `root` within `limits`.
///
/// The walk never leaves the root and never loops: a symbolic link is followed only when its
/// target (resolved) is inside the root, a directory is read once whatever the number of links
/// to it, and only regular files are opened (a FIFO would block every call forever). Each
/// skipped entry is a diagnostic.
pub fn load_dir_with(root: &Path, limits: &Limits) -> Result<Loaded, LoadError> {
    let (files, problems) = list_spec_files(root)?;
    Ok(load_files(root, files, problems, limits))
}

/// The spec files under `root` (sorted, each once) and the problems of the walk.
fn list_spec_files(root: &Path) -> Result<(Vec<PathBuf>, Vec<Diagnostic>), LoadError> {
    if !root.exists() {
        return Err(LoadError::MissingRoot(root.to_path_buf()));
    }
    if !root.is_dir() {
        return Err(LoadError::NotADirectory(root.to_path_buf()));
    }
    let real_root = root.canonicalize().map_err(|source| LoadError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut walk = Walk {
        root,
        real_root: &real_root,
        visited: HashSet::from([real_root.clone()]),
        files: Vec::new(),
        linked_dirs: Vec::new(),
        diagnostics: Vec::new(),
    };
    walk.dir(root)?;
    // Linked directories last, once the real tree is known: a link to a directory that the walk
    // reads anyway (or to an ancestor: `a -> .`) is skipped rather than read twice or forever.
    while !walk.linked_dirs.is_empty() {
        let linked = std::mem::take(&mut walk.linked_dirs);
        for (path, real) in linked {
            if walk.visited.insert(real.clone()) {
                walk.dir(&path)?;
            } else {
                let rel = relative(root, &path);
                walk.diagnostics.push(
                    Diagnostic::warning(
                        "symlink-loop",
                        format!("skipped `{rel}`: it links to a directory that is already read"),
                    )
                    .in_file(&rel)
                    .with_help("remove the link; every file under the spec root is read once"),
                );
            }
        }
    }
    let mut files = walk.files;
    files.sort();
    files.dedup();
    Ok((files, walk.diagnostics))
}

/// Read `files` (under `root`) and build the model; `problems` (the walk's) are kept.
fn load_files(
    root: &Path,
    files: Vec<PathBuf>,
    problems: Vec<Diagnostic>,
    limits: &Limits,
) -> Loaded {
    load_files_reusing(root, files, problems, limits, HashMap::new()).0
}

fn load_files_reusing(
    root: &Path,
    files: Vec<PathBuf>,
    mut problems: Vec<Diagnostic>,
    limits: &Limits,
    previous: HashMap<String, std::sync::Arc<ParsedText>>,
) -> (Loaded, HashMap<String, std::sync::Arc<ParsedText>>) {
    let mut sources = Vec::with_capacity(files.len());
    for path in files {
        let rel = relative(root, &path);
        // One unreadable file (permissions, not UTF-8, a FIFO, too large) is a diagnostic, not
        // the end of loading.
        match read_yaml_file(&path, limits) {
            Ok(text) => sources.push((rel, text)),
            Err(problem) => {
                let (code, message, help) = problem.describe();
                problems.push(
                    Diagnostic::error(code, message)
                        .in_file(&rel)
                        .with_help(help),
                );
            }
        }
    }
    let (mut loaded, parsed) = load_sources_reusing(&sources, limits, previous);
    loaded.diagnostics.extend(problems);
    (loaded, parsed)
}

/// A spec tree kept loaded between calls: a server asks it for the spec on every call and gets
/// the model it already has unless a file was added, removed or changed since (its size,
/// modification or status-change time, or inode differ). Walking the tree and reading each
/// file's metadata costs microseconds a file; parsing costs milliseconds. People's edits are
/// still seen by the very next call.
pub struct SpecCache {
    root: PathBuf,
    last: std::sync::Mutex<Option<CachedLoad>>,
}

struct CachedLoad {
    files: Vec<FileStamp>,
    walk: Vec<Diagnostic>,
    limits: Limits,
    loaded: std::sync::Arc<Loaded>,
    /// Each file as parsed: after an edit only the edited file is parsed again (the model is
    /// still built from all of them: cross-file checks see the whole tree).
    parsed: HashMap<String, std::sync::Arc<ParsedText>>,
}

/// What says a file is unchanged.
#[derive(Debug, PartialEq, Eq)]
struct FileStamp {
    path: PathBuf,
    /// `None` when the file cannot be read (reading it says why, every time).
    meta: Option<(u64, i64, i64, i64, i64, u64)>,
}

impl FileStamp {
    fn of(path: PathBuf) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&path).ok().map(|m| {
            (
                m.len(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec(),
                m.ino(),
            )
        });
        FileStamp { path, meta }
    }
}

impl SpecCache {
    pub fn new(root: &Path) -> SpecCache {
        SpecCache {
            root: root.to_path_buf(),
            last: std::sync::Mutex::new(None),
        }
    }

    /// The spec as the files say now, with the limits of [`Limits::from_env`].
    pub fn load(&self) -> Result<std::sync::Arc<Loaded>, LoadError> {
        let (limits, limit_problems) = Limits::from_env();
        let (files, walk) = list_spec_files(&self.root)?;
        let stamps: Vec<FileStamp> = files.iter().cloned().map(FileStamp::of).collect();
        // A poisoned lock only means another call panicked mid-load: start afresh.
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(cached) = last.as_ref() {
            if cached.files == stamps && cached.walk == walk && cached.limits == limits {
                return Ok(cached.loaded.clone());
            }
        }
        let previous = match last.take() {
            Some(cached) if cached.limits == limits => cached.parsed,
            _ => HashMap::new(),
        };
        let (mut loaded, parsed) =
            load_files_reusing(&self.root, files, walk.clone(), &limits, previous);
        for problem in limit_problems {
            loaded.diagnostics.push(
                Diagnostic::warning("bad-limit-setting", problem)
                    .with_help("set it to a number of bytes or nodes, e.g. 8388608, or unset it"),
            );
        }
        let loaded = std::sync::Arc::new(loaded);
        *last = Some(CachedLoad {
            files: stamps,
            walk,
            limits,
            loaded: loaded.clone(),
            parsed,
        });
        Ok(loaded)
    }
}

/// Load from in-memory `(relative path, text)` pairs (used by impact analysis on git revisions).
pub fn load_sources(sources: &[(String, String)]) -> Loaded {
    load_sources_with(sources, &Limits::from_env().0)
}

pub fn load_sources_with(sources: &[(String, String)], limits: &Limits) -> Loaded {
    load_sources_reusing(sources, limits, HashMap::new()).0
}

/// Load, taking each file whose text is unchanged from `previous` instead of parsing it; also
/// returns this load's parsed files, for the next.
fn load_sources_reusing(
    sources: &[(String, String)],
    limits: &Limits,
    previous: HashMap<String, std::sync::Arc<ParsedText>>,
) -> (Loaded, HashMap<String, std::sync::Arc<ParsedText>>) {
    let mut builder = Builder {
        limits: *limits,
        previous,
        ..Builder::default()
    };
    for (path, text) in sources {
        builder.file(path, text);
    }
    let parsed = std::mem::take(&mut builder.parsed);
    (builder.finish(), parsed)
}

pub fn is_spec_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    )
}

/// The state of one walk of the spec tree.
struct Walk<'a> {
    root: &'a Path,
    real_root: &'a Path,
    /// Canonical directories read or queued.
    visited: HashSet<PathBuf>,
    files: Vec<PathBuf>,
    /// Links to directories inside the root: `(path, canonical target)`.
    linked_dirs: Vec<(PathBuf, PathBuf)>,
    diagnostics: Vec<Diagnostic>,
}

impl Walk<'_> {
    /// Read the tree under `start`: its real directories with an explicit stack (no recursion,
    /// whatever the depth), its links collected for [`Walk::link`].
    fn dir(&mut self, start: &Path) -> Result<(), LoadError> {
        let mut pending = vec![start.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                // Only an unreadable root stops loading; a subdirectory costs one diagnostic.
                Err(source) if dir == self.root => return Err(LoadError::Io { path: dir, source }),
                Err(err) => {
                    let rel = relative(self.root, &dir);
                    self.diagnostics.push(
                        Diagnostic::error(
                            "unreadable-directory",
                            format!("cannot read the directory: {err}"),
                        )
                        .in_file(&rel)
                        .with_help("make it readable, or move it out of the spec root"),
                    );
                    continue;
                }
            };
            let mut entries: Vec<_> = entries.flatten().collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let path = entry.path();
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if hidden {
                    continue;
                }
                // The entry itself, not what it links to.
                let Ok(file_type) = entry.file_type() else {
                    continue;
                };
                if file_type.is_symlink() {
                    self.link(path);
                } else if file_type.is_dir() {
                    // Already read through a link (to a hidden directory): once is enough.
                    let fresh = path
                        .canonicalize()
                        .map_or(true, |real| self.visited.insert(real));
                    if fresh {
                        pending.push(path);
                    }
                } else if is_spec_file(&path) {
                    // Regular or not: reading checks the type and says what is wrong.
                    self.files.push(path);
                }
            }
        }
        Ok(())
    }

    fn link(&mut self, path: PathBuf) {
        let rel = relative(self.root, &path);
        let Ok(real) = path.canonicalize() else {
            if is_spec_file(&path) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "broken-symlink",
                        "skipped: this link points to nothing (or to a loop of links)",
                    )
                    .in_file(&rel)
                    .with_help("fix or remove the link"),
                );
            }
            return;
        };
        if !real.starts_with(self.real_root) {
            // Following it would serve a file the server must not read (resources/read refuses
            // the same path through `confine`).
            self.diagnostics.push(
                Diagnostic::error(
                    "symlink-outside-root",
                    "skipped: this link leads outside the spec root",
                )
                .in_file(&rel)
                .with_help(
                    "move the file (or directory) into the spec root, or start the server with                      --specs pointing at a directory that contains both",
                ),
            );
            return;
        }
        if real.is_dir() {
            self.linked_dirs.push((path, real));
        } else if is_spec_file(&path) {
            self.files.push(path);
        }
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[derive(Default)]
struct Builder {
    limits: Limits,
    /// Files parsed by the previous load (see [`SpecCache`]): one whose text is unchanged is
    /// not parsed again.
    previous: HashMap<String, std::sync::Arc<ParsedText>>,
    /// Files parsed (or reused) by this load, for the next.
    parsed: HashMap<String, std::sync::Arc<ParsedText>>,
    spec: Spec,
    diagnostics: Vec<Diagnostic>,
    domains: BTreeMap<String, Domain>,
    scenario_ids: HashMap<String, Location>,
    constraint_ids: HashMap<String, Location>,
}

/// One file as parsed: kept by [`SpecCache`] so an unchanged file is not parsed again.
struct ParsedText {
    text: String,
    index: PositionIndex,
    value: Value,
}

/// Per-file context: where we are, for locating diagnostics.
struct FileCtx<'a> {
    file: &'a str,
    index: &'a PositionIndex,
}

impl FileCtx<'_> {
    fn location(&self, path: &str) -> Location {
        let (line, column) = self.index.locate(path);
        Location {
            file: self.file.to_string(),
            line,
            column,
            path: path.to_string(),
        }
    }
}

impl Builder {
    /// Parse one file's text into its position index and YAML value; a problem is a diagnostic.
    fn parse(&mut self, file: &str, text: &str) -> Option<ParsedText> {
        // Measured before serde_yaml runs: it copies every alias, and that copy is the cost.
        let index = match PositionIndex::build_checked(text, &self.limits) {
            Ok(index) => index,
            Err(exceeded) => {
                let mut d = Diagnostic::error(exceeded.code, exceeded.message)
                    .in_file(file)
                    .with_help(exceeded.help);
                d.line = Some(exceeded.line);
                d.column = Some(exceeded.column);
                self.diagnostics.push(d);
                return None;
            }
        };
        if let Some((message, line, column)) = index.unsafe_syntax_error(text) {
            let mut d = Diagnostic::error("yaml-syntax", format!("invalid YAML: {message}"));
            d.file = Some(file.to_string());
            d.line = Some(*line);
            d.column = Some(*column);
            let help = syntax_help(text, *line, message).unwrap_or_else(|| {
                if message.contains("recursion limit") {
                    "nest fewer lists and mappings inside each other".into()
                } else {
                    "fix the YAML at this position; indentation and `key: value` pairs must line up"
                        .into()
                }
            });
            self.diagnostics.push(d.with_help(help));
            return None;
        }
        let value: Value = match serde_yaml::from_str(text) {
            Ok(v) => v,
            Err(err) => {
                self.diagnostics.push(syntax_diagnostic(file, text, &err));
                return None;
            }
        };
        Some(ParsedText {
            text: text.to_string(),
            index,
            value,
        })
    }

    fn file(&mut self, file: &str, text: &str) {
        let text = strip_bom(text);
        // Texts that did not come through `read_yaml_file` (git revisions, a proposal being
        // checked) are held to the same size limit.
        if text.len() as u64 > self.limits.max_file_bytes {
            let (code, message, help) = crate::limits::ReadProblem::TooLarge {
                bytes: text.len() as u64,
                limit: self.limits.max_file_bytes,
            }
            .describe();
            self.diagnostics.push(
                Diagnostic::error(code, message)
                    .in_file(file)
                    .with_help(help),
            );
            return;
        }
        let parsed = match self.previous.get(file).filter(|p| p.text == text) {
            Some(parsed) => parsed.clone(),
            None => match self.parse(file, text) {
                Some(parsed) => std::sync::Arc::new(parsed),
                None => return,
            },
        };
        self.parsed.insert(file.to_string(), parsed.clone());
        let value = &parsed.value;
        let ctx = FileCtx {
            file,
            index: &parsed.index,
        };
        let Value::Mapping(map) = &value else {
            if value.is_null() {
                // Only comments or blank lines (a file being written, or one kept as a note):
                // loaded as an empty file, so "no spec files" is never said of a tree that has some.
                self.spec.files.push(SpecFile {
                    path: file.to_string(),
                    kind: DocumentKind::Empty,
                    name: String::new(),
                    description: None,
                });
                self.diagnostics.push(
                    Diagnostic::warning(
                        "empty-file",
                        "this file has no content (only comments or blank lines)",
                    )
                    .in_file(file)
                    .with_help(kind_help()),
                );
            } else {
                self.diagnostics.push(
                    Diagnostic::error("not-a-mapping", "a spec file must be a YAML mapping")
                        .at(&ctx.location(""))
                        .with_help(kind_help()),
                );
            }
            return;
        };
        let mut fields: BTreeMap<String, &Value> = BTreeMap::new();
        for (key, v) in map {
            let Some(key) = key.as_str() else {
                self.diagnostics.push(
                    Diagnostic::error("bad-key", "top-level keys must be strings")
                        .at(&ctx.location("")),
                );
                continue;
            };
            if !DOCUMENT_KEYS.contains(&key) {
                let mut d = Diagnostic::warning(
                    "unknown-key",
                    format!("unknown top-level key `{}` is ignored", shorten(key)),
                )
                .at(&ctx.location(key));
                if let Some(close) = closest(key, DOCUMENT_KEYS) {
                    d = d.with_help(format!("did you mean `{close}`?"));
                }
                self.diagnostics.push(d);
                continue;
            }
            fields.insert(key.to_string(), v);
        }
        self.document(&ctx, &fields);
    }

    fn document(&mut self, ctx: &FileCtx, fields: &BTreeMap<String, &Value>) {
        let string = |this: &mut Self, key: &str| -> Option<String> {
            fields
                .get(key)
                .and_then(|v| this.item::<String>(ctx, v, key))
        };
        let feature = string(self, "feature");
        let system = string(self, "system");
        let domain_name = string(self, "domain");
        let interaction = string(self, "interaction");
        let description = string(self, "description");
        let has = |k: &str| fields.contains_key(k);

        let mut kinds = Vec::new();
        if has("feature") {
            kinds.push(DocumentKind::Feature);
        }
        if has("system") {
            kinds.push(DocumentKind::System);
        }
        if has("domain") && !has("feature") {
            kinds.push(DocumentKind::Domain);
        }
        if has("interaction") {
            kinds.push(DocumentKind::Interaction);
        }
        // A file with only observability / degradation / chaos sections is of that kind; a
        // system file may carry them too.
        if kinds.is_empty() {
            for (key, kind) in [
                ("observability", DocumentKind::Observability),
                ("degradation_detection", DocumentKind::DegradationDetection),
                ("chaos_scenarios", DocumentKind::ChaosScenarios),
            ] {
                if has(key) {
                    kinds.push(kind);
                }
            }
        }
        let kind = match kinds.as_slice() {
            [] => {
                if !fields.is_empty() {
                    self.diagnostics.push(
                        Diagnostic::error("unknown-kind", "cannot tell what this file specifies")
                            .at(&ctx.location(""))
                            .with_help(kind_help()),
                    );
                }
                return;
            }
            [one] => *one,
            [first, ..] => {
                let names: Vec<String> = kinds
                    .iter()
                    .map(|k| format!("{k:?}").to_lowercase())
                    .collect();
                self.diagnostics.push(
                    Diagnostic::error(
                        "mixed-kinds",
                        format!(
                            "this file mixes {}; a file specifies one thing",
                            names.join(" and ")
                        ),
                    )
                    .at(&ctx.location(""))
                    .with_help("split it into one file per feature, system, domain or interaction"),
                );
                *first
            }
        };
        let name = match kind {
            DocumentKind::Feature => feature.clone().unwrap_or_default(),
            DocumentKind::System => system.clone().unwrap_or_default(),
            DocumentKind::Domain => domain_name.clone().unwrap_or_default(),
            DocumentKind::Interaction => interaction.clone().unwrap_or_default(),
            _ => String::new(),
        };
        self.spec.files.push(SpecFile {
            path: ctx.file.to_string(),
            kind,
            name: name.clone(),
            description: description.clone(),
        });

        // The domain that owns this file's scenarios and constraints.
        let owner = match kind {
            DocumentKind::Feature => domain_name.clone().unwrap_or_else(|| ids::slug(&name)),
            DocumentKind::Domain | DocumentKind::Interaction => name.clone(),
            DocumentKind::System => ids::slug(&name),
            _ => String::new(),
        };
        let dependencies: Vec<String> = fields
            .get("dependencies")
            .and_then(|v| self.item(ctx, v, "dependencies"))
            .unwrap_or_default();
        if matches!(kind, DocumentKind::Feature | DocumentKind::Domain) && !owner.is_empty() {
            let key = if kind == DocumentKind::Feature && domain_name.is_none() {
                "feature"
            } else {
                "domain"
            };
            let description = if kind == DocumentKind::Domain {
                description.clone()
            } else {
                None
            };
            self.declare_domain(&owner, description, &dependencies, ctx.location(key));
        } else if !dependencies.is_empty() {
            self.diagnostics.push(
                Diagnostic::warning("misplaced-key", "`dependencies` only means something in a domain file")
                    .at(&ctx.location("dependencies"))
                    .with_help("list a domain's dependencies in its domain file or in the system file's `domains:`"),
            );
        }

        let feature_name = (kind == DocumentKind::Feature).then(|| name.clone());
        for key in ["scenarios", "new_scenarios"] {
            if let Some(list) = fields.get(key) {
                self.scenarios(ctx, list, key, &owner, feature_name.as_deref());
            }
        }

        let scope = match kind {
            DocumentKind::Interaction => ConstraintScope::Interaction(owner.clone()),
            DocumentKind::System => ConstraintScope::Global(owner.clone()),
            _ => ConstraintScope::Domain(owner.clone()),
        };
        if let Some(constraints) = fields.get("constraints") {
            self.constraint_section(ctx, constraints, "constraints", &scope);
        }
        if let Some(global) = fields.get("global_constraints") {
            let scope = ConstraintScope::Global(owner.clone());
            if matches!(global, Value::Sequence(_)) {
                self.diagnostics.push(
                    Diagnostic::error("expected-mapping", "`global_constraints` must group constraints by category")
                        .at(&ctx.location("global_constraints"))
                        .with_help("write `global_constraints:` then a category such as `performance:` and the list under it"),
                );
            } else {
                self.constraint_section(ctx, global, "global_constraints", &scope);
            }
        }
        if let Some(data_model) = fields.get("data_model") {
            if let Some(doc) = self.item::<DataModelDoc>(ctx, data_model, "data_model") {
                for (i, c) in doc.consistency_requirements.into_iter().enumerate() {
                    let path = format!("data_model.consistency_requirements[{i}]");
                    self.constraint(ctx, c, &path, &scope, "consistency");
                }
            }
        }
        if let Some(domains) = fields.get("domains") {
            for (i, path, value) in items(domains, "domains") {
                let _ = i;
                if let Some(decl) = self.item::<DomainDecl>(ctx, value, &path) {
                    self.declare_domain(
                        &decl.name,
                        decl.description,
                        &decl.dependencies,
                        ctx.location(&path),
                    );
                }
            }
            if !matches!(domains, Value::Sequence(_)) {
                self.expected_list(ctx, "domains");
            }
        }
        if kind == DocumentKind::Interaction {
            self.interaction(ctx, fields, &name, description);
        }
        if let Some(v) = fields.get("observability") {
            if let Some(doc) = self.item::<ObservabilityDoc>(ctx, v, "observability") {
                self.spec.observability.push((ctx.file.to_string(), doc));
            }
        }
        if let Some(v) = fields.get("degradation_detection") {
            if let Some(doc) = self.item::<DegradationDoc>(ctx, v, "degradation_detection") {
                self.spec
                    .degradation_detection
                    .push((ctx.file.to_string(), doc));
            }
        }
        if let Some(list) = fields.get("chaos_scenarios") {
            for (_, path, value) in items(list, "chaos_scenarios") {
                if let Some(doc) = self.item::<ChaosScenarioDoc>(ctx, value, &path) {
                    let id = doc
                        .id
                        .clone()
                        .unwrap_or_else(|| format!("chaos.{}", ids::slug(&doc.name)));
                    self.spec.chaos_scenarios.push(ChaosScenario {
                        id,
                        name: doc.name,
                        verify: doc.verify,
                        location: ctx.location(&path),
                    });
                }
            }
        }
    }

    fn expected_list(&mut self, ctx: &FileCtx, key: &str) {
        self.diagnostics.push(
            Diagnostic::error(
                "expected-list",
                format!("`{key}` must be a list (items starting with `- `)"),
            )
            .at(&ctx.location(key)),
        );
    }

    fn interaction(
        &mut self,
        ctx: &FileCtx,
        fields: &BTreeMap<String, &Value>,
        name: &str,
        description: Option<String>,
    ) {
        let participants: Vec<String> = fields
            .get("participants")
            .and_then(|v| self.item(ctx, v, "participants"))
            .unwrap_or_default();
        let mut flows = Vec::new();
        if let Some(list) = fields.get("flow") {
            for (_, path, value) in items(list, "flow") {
                if let Some(flow) = self.item::<FlowDoc>(ctx, value, &path) {
                    flows.push(Flow {
                        name: flow.name,
                        steps: flow.steps.map(|s| s.ordered()).unwrap_or_default(),
                        failure_handling: flow
                            .failure_handling
                            .into_iter()
                            .map(|f| FailureHandling {
                                name: f.name,
                                rollback: f.rollback,
                                compensation: f.compensation,
                            })
                            .collect(),
                    });
                }
            }
        }
        self.spec.interactions.push(Interaction {
            name: name.to_string(),
            description,
            participants,
            flows,
            location: ctx.location("interaction"),
        });
    }

    fn declare_domain(
        &mut self,
        name: &str,
        description: Option<String>,
        dependencies: &[String],
        at: Location,
    ) {
        let domain = self
            .domains
            .entry(name.to_string())
            .or_insert_with(|| Domain {
                name: name.to_string(),
                description: None,
                dependencies: Vec::new(),
                declared_at: Vec::new(),
            });
        if domain.description.is_none() {
            domain.description = description;
        }
        for dep in dependencies {
            if !domain.dependencies.contains(dep) {
                domain.dependencies.push(dep.clone());
            }
        }
        domain.declared_at.push(at);
    }

    fn scenarios(
        &mut self,
        ctx: &FileCtx,
        list: &Value,
        key: &str,
        domain: &str,
        feature: Option<&str>,
    ) {
        if !matches!(list, Value::Sequence(_)) {
            self.expected_list(ctx, key);
            return;
        }
        for (_, path, value) in items(list, key) {
            let Some(doc) = self.item::<ScenarioDoc>(ctx, value, &path) else {
                continue;
            };
            let location = ctx.location(&path);
            let (id, explicit_id) = match &doc.id {
                Some(id) => {
                    if let Some(problem) = ids::check_explicit_id(id) {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "bad-id",
                                format!("scenario ID `{id}` is not usable: {problem}"),
                            )
                            .at(&ctx.location(&format!("{path}.id"))),
                        );
                    }
                    (id.clone(), true)
                }
                None => (ids::derived_scenario_id(domain, &doc.name), false),
            };
            if let Some(first) = self.scenario_ids.get(&id) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "duplicate-id",
                        format!("scenario ID `{id}` is already used at {first}"),
                    )
                    .at(&location)
                    .with_help(if explicit_id {
                        "give one of them a different `id:`".to_string()
                    } else {
                        "rename one of the scenarios, or give it an explicit `id:`".to_string()
                    }),
                );
                continue;
            }
            self.scenario_ids.insert(id.clone(), location.clone());
            let status = self.approval_status(ctx, &path, &id, &doc);
            self.spec.scenarios.push(Scenario {
                id,
                explicit_id,
                name: doc.name,
                domain: domain.to_string(),
                feature: feature.map(str::to_string),
                given: doc.given.map(OneOrMany::into_vec).unwrap_or_default(),
                when: doc.when,
                then: doc.then.map(OneOrMany::into_vec).unwrap_or_default(),
                status,
                rationale: doc.rationale,
                proposed_by: doc.proposed_by,
                reviewed_by: doc.reviewed_by,
                reviewed_at: doc.reviewed_at,
                approved_fingerprint: doc.approved_fingerprint,
                tags: doc.tags,
                examples: doc.examples,
                location,
            });
        }
    }

    /// The review status a scenario really has. Written without `status`: approved (a person
    /// wrote it). Written `approved`: approved only while its behaviour matches the fingerprint
    /// `sdd review` recorded; otherwise changed since approval, with a warning.
    fn approval_status(
        &mut self,
        ctx: &FileCtx,
        path: &str,
        id: &str,
        doc: &ScenarioDoc,
    ) -> ReviewStatus {
        let Some(written) = doc.status else {
            // Written by a person: approved. But a scenario that went through review (it
            // carries who proposed, reviewed or what was approved) and lost its `status` was
            // edited by hand: that is not an approval anyone recorded.
            let traces = doc.proposed_by.is_some()
                || doc.reviewed_by.is_some()
                || doc.reviewed_at.is_some()
                || doc.approved_fingerprint.is_some();
            if !traces {
                return ReviewStatus::Approved;
            }
            self.diagnostics.push(
                Diagnostic::warning(
                    "changed-since-approval",
                    format!(
                        "scenario `{id}` carries review fields (proposed_by / reviewed_by / approved_fingerprint) but no `status`, so no recorded decision covers it"
                    ),
                )
                .at(&ctx.location(path))
                .with_help(
                    "it is not counted as approved until a person reviews it with `sdd review`",
                ),
            );
            return ReviewStatus::ChangedSinceApproval;
        };
        if written != ReviewStatus::Approved {
            return written;
        }
        let now = crate::approval::behaviour_fingerprint(
            id,
            &doc.given
                .clone()
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
            doc.when.as_deref(),
            &doc.then
                .clone()
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
            &doc.examples,
        );
        let problem = match &doc.approved_fingerprint {
            Some(recorded) if *recorded == now => return ReviewStatus::Approved,
            Some(_) => format!(
                "scenario `{id}` changed since approval: its given/when/then/examples no longer match what {} approved",
                doc.reviewed_by.as_deref().unwrap_or("the reviewer")
            ),
            None => format!(
                "scenario `{id}` says `status: approved` but carries no `approved_fingerprint`, so nobody can tell what was approved"
            ),
        };
        let at = match &doc.approved_fingerprint {
            Some(_) => ctx.location(&format!("{path}.approved_fingerprint")),
            None => ctx.location(&format!("{path}.status")),
        };
        self.diagnostics.push(
            Diagnostic::warning("changed-since-approval", problem)
                .at(&at)
                .with_help(
                    "it is not counted as approved until a person reviews it again with `sdd review` \
                     (or remove `status:` if a person wrote the scenario by hand)",
                ),
        );
        ReviewStatus::ChangedSinceApproval
    }

    fn constraint_section(
        &mut self,
        ctx: &FileCtx,
        section: &Value,
        key: &str,
        scope: &ConstraintScope,
    ) {
        match section {
            Value::Mapping(map) => {
                for (category, list) in map {
                    let Some(category) = category.as_str() else {
                        continue;
                    };
                    let path = join(key, category);
                    if !matches!(list, Value::Sequence(_)) {
                        self.expected_list(ctx, &path);
                        continue;
                    }
                    for (_, item_path, value) in items(list, &path) {
                        if let Some(doc) = self.item::<ConstraintDoc>(ctx, value, &item_path) {
                            self.constraint(ctx, doc, &item_path, scope, category);
                        }
                    }
                }
            }
            Value::Sequence(_) => {
                for (_, item_path, value) in items(section, key) {
                    if let Some(doc) = self.item::<ConstraintDoc>(ctx, value, &item_path) {
                        let category = category_of(&doc);
                        self.constraint(ctx, doc, &item_path, scope, category);
                    }
                }
            }
            _ => self.diagnostics.push(
                Diagnostic::error(
                    "expected-constraints",
                    format!(
                        "`{key}` must be a list of constraints or a mapping from category to list"
                    ),
                )
                .at(&ctx.location(key)),
            ),
        }
    }

    fn constraint(
        &mut self,
        ctx: &FileCtx,
        doc: ConstraintDoc,
        path: &str,
        scope: &ConstraintScope,
        category: &str,
    ) {
        let location = ctx.location(path);
        let exceptions = doc
            .exception
            .clone()
            .map(OneOrMany::into_vec)
            .unwrap_or_default();
        let parsed = match &doc.check {
            // A structured check is held to the same ranges as a parsed one: `max_ms: -5` or
            // `percentile: 101` must not reach a run.
            Some(check) => match check.problem() {
                None => ParsedConstraint {
                    checks: vec![check.clone()],
                    source: CheckSource::Structured,
                    not_checkable: None,
                },
                Some(reason) => ParsedConstraint {
                    checks: Vec::new(),
                    source: CheckSource::Structured,
                    not_checkable: Some(NotCheckable {
                        reason,
                        suggestion: "correct the number in the `check:` block                                      (see specs/sdd-spec.schema.json)"
                            .into(),
                    }),
                },
            },
            None => parse_constraint(
                &doc.name,
                doc.requirement.as_deref(),
                doc.measurement.as_deref(),
                &exceptions,
            ),
        };
        let (id, explicit_id) = match &doc.id {
            Some(id) => (id.clone(), true),
            None => (
                ids::derived_constraint_id(scope.name(), category, &doc.name),
                false,
            ),
        };
        if let Some(first) = self.constraint_ids.get(&id) {
            self.diagnostics.push(
                Diagnostic::error(
                    "duplicate-id",
                    format!("constraint ID `{id}` is already used at {first}"),
                )
                .at(&location)
                .with_help("rename one of the constraints, or give it an explicit `id:`"),
            );
            return;
        }
        self.constraint_ids.insert(id.clone(), location.clone());
        self.spec.constraints.push(Constraint {
            id,
            explicit_id,
            name: doc.name,
            scope: scope.clone(),
            category: category.to_string(),
            requirement: doc.requirement,
            measurement: doc.measurement,
            exceptions,
            verification: doc.verification,
            rationale: doc.rationale,
            notes: doc.notes,
            parsed,
            location,
        });
    }

    /// Deserialize one value; on failure record a located diagnostic and return `None`.
    fn item<T: DeserializeOwned>(&mut self, ctx: &FileCtx, value: &Value, path: &str) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(err) => {
                let inner = err.path().to_string();
                let full = if inner == "." || inner.is_empty() {
                    path.to_string()
                } else if inner.starts_with('[') {
                    format!("{path}{inner}")
                } else {
                    join(path, &inner)
                };
                self.diagnostics
                    .push(field_diagnostic(ctx, &full, &err.into_inner()));
                None
            }
        }
    }

    fn finish(mut self) -> Loaded {
        self.spec.domains = self.domains.into_values().collect();
        // Test keys must map back to exactly one scenario (see `ids`).
        let mut keys: HashMap<String, &Scenario> = HashMap::new();
        for scenario in &self.spec.scenarios {
            let key = ids::test_key(&scenario.id);
            if let Some(other) = keys.get(&key) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "test-key-collision",
                        format!(
                            "scenario IDs `{}` and `{}` give the same test name key `{key}`",
                            other.id, scenario.id
                        ),
                    )
                    .at(&scenario.location)
                    .with_help(
                        "tests could not tell them apart; give one an explicit, different `id:`",
                    ),
                );
            } else {
                keys.insert(key, scenario);
            }
        }
        // Messages quote the input (serde names the unknown field, the value of the wrong
        // type); a 64 KiB key or value must not come back in every diagnostic about it.
        for d in &mut self.diagnostics {
            clip(&mut d.message);
            if let Some(path) = &mut d.path {
                clip(path);
            }
        }
        Loaded {
            spec: self.spec,
            diagnostics: self.diagnostics,
        }
    }
}

/// Cut `text` over 600 bytes to its head and tail (the tail of a serde message says what was
/// expected), marking the cut with the number of bytes left out.
pub(crate) fn clip(text: &mut String) {
    const HEAD: usize = 300;
    const TAIL: usize = 200;
    if text.len() <= HEAD + TAIL + 100 {
        return;
    }
    let mut head = HEAD;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - TAIL;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    *text = format!(
        "{} … ({} bytes left out) … {}",
        &text[..head],
        tail - head,
        &text[tail..]
    );
}

/// Interaction constraints come as a plain list; they are filed under the category `interaction`.
fn category_of(_doc: &ConstraintDoc) -> &'static str {
    "interaction"
}

/// `(index, path, value)` of every item of a YAML sequence (nothing for other values).
fn items<'v>(list: &'v Value, key: &str) -> Vec<(usize, String, &'v Value)> {
    match list {
        Value::Sequence(seq) => seq
            .iter()
            .enumerate()
            .map(|(i, v)| (i, format!("{key}[{i}]"), v))
            .collect(),
        _ => Vec::new(),
    }
}

fn kind_help() -> String {
    "start the file with one of `feature:`, `system:`, `domain:`, `interaction:`, `observability:`, \
     `degradation_detection:` or `chaos_scenarios:`"
        .to_string()
}

fn field_diagnostic(ctx: &FileCtx, path: &str, err: &serde_yaml::Error) -> Diagnostic {
    let message = strip_location(&err.to_string());
    let (code, help) = if let Some(field) = between(&message, "missing field `", "`") {
        (
            "missing-field",
            Some(format!("add `{field}:` to this entry")),
        )
    } else if let Some(field) = between(&message, "unknown field `", "`") {
        let expected: Vec<&str> = message
            .split("expected one of ")
            .nth(1)
            .map(|s| {
                s.split(", ")
                    .map(|x| x.trim_matches(|c| c == '`' || c == ' '))
                    .collect()
            })
            .unwrap_or_default();
        let help = closest(field, &expected)
            .map(|c| format!("did you mean `{c}`?"))
            .unwrap_or_else(|| format!("remove `{field}` or use one of: {}", expected.join(", ")));
        ("unknown-field", Some(help))
    } else if message.contains("invalid type") {
        let help = if message.contains("expected a sequence") {
            Some("write a list: `[a, b]` or one `- item` per line".to_string())
        } else if message.contains("expected a string") {
            Some(
                "write text; quote it if it starts with a special character or looks like a number"
                    .to_string(),
            )
        } else {
            None
        };
        ("wrong-type", help)
    } else if let Some(variant) = between(&message, "unknown variant `", "`") {
        let expected: Vec<&str> = message
            .split("expected one of ")
            .nth(1)
            .or_else(|| message.split("expected ").nth(1))
            .map(|s| {
                s.split(", ")
                    .map(|x| x.trim_matches(|c| c == '`' || c == ' '))
                    .collect()
            })
            .unwrap_or_default();
        let help = closest(variant, &expected)
            .map(|c| format!("did you mean `{c}`?"))
            .unwrap_or_else(|| format!("use one of: {}", expected.join(", ")));
        ("unknown-variant", Some(help))
    } else if message.contains("did not match any variant") {
        let d = Diagnostic::error("wrong-shape", shape_message(path)).at(&ctx.location(path));
        return d.with_help(shape_help(path));
    } else {
        ("invalid-field", None)
    };
    let mut d = Diagnostic::error(code, message).at(&ctx.location(path));
    if let Some(help) = help {
        d = d.with_help(help);
    }
    d
}

fn shape_message(path: &str) -> String {
    let field = path.rsplit('.').next().unwrap_or(path);
    match field {
        "given" | "then" | "exception" => {
            format!("`{field}` must be a sentence or a list of sentences")
        }
        "steps" => "`steps` must be a list or numbered lines".to_string(),
        "constraints" => {
            "`constraints` must be a list or a mapping from category to list".to_string()
        }
        _ => format!("`{field}` does not have any of the accepted shapes"),
    }
}

fn shape_help(path: &str) -> String {
    if path.ends_with(".given") || path.ends_with(".then") || path.ends_with(".exception") {
        "write a single sentence or a list of sentences".into()
    } else if path.ends_with(".steps") {
        "write the steps as a list, or as `1: …`, `2: …` numbered lines".into()
    } else {
        "compare the entry with specs/sdd-spec.schema.json".into()
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// serde_yaml appends " at line X column Y"; we report positions separately.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

fn syntax_diagnostic(file: &str, text: &str, err: &serde_yaml::Error) -> Diagnostic {
    let message = strip_location(&err.to_string());
    let (line, column) = err
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((1, 1));
    let mut d = Diagnostic::error("yaml-syntax", format!("invalid YAML: {message}"));
    d.file = Some(file.to_string());
    d.line = Some(line);
    d.column = Some(column);
    if let Some(key) = between(&message, "duplicate entry with key \"", "\"") {
        // serde_yaml points at the mapping; point at the repeated key instead.
        let repeated = text
            .lines()
            .enumerate()
            .filter(|(_, l)| {
                l.trim_start()
                    .trim_start_matches("- ")
                    .starts_with(&format!("{key}:"))
            })
            .nth(1);
        if let Some((index, l)) = repeated {
            d.line = Some(index + 1);
            d.column = Some(l.len() - l.trim_start().len() + 1);
        }
        d.code = "duplicate-key".into();
        return d.with_help(format!(
            "`{key}` appears twice in the same mapping; keep one"
        ));
    }
    if let Some(help) = syntax_help(text, line, &message) {
        d = d.with_help(help);
    } else {
        d = d.with_help(
            "fix the YAML at this position; indentation and `key: value` pairs must line up",
        );
    }
    d
}

/// Recognise the seed's malformed shape: `feature: Name` followed by indented keys. YAML reads the
/// indented line as a continuation of the name, which may not contain `key: value`.
fn syntax_help(text: &str, line: usize, message: &str) -> Option<String> {
    if message.contains("multiple documents") || message.contains("more than one document") {
        return Some("put each document (`---`) in its own file".into());
    }
    if !message.contains("mapping values are not allowed") {
        if message.contains("found character that cannot start any token") && text.contains('\t') {
            return Some("YAML indentation must use spaces, not tabs".into());
        }
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?;
    let indent = here.len() - here.trim_start().len();
    // Walk up to the line this one was taken to continue: the nearest less-indented, non-blank.
    let parent = lines[..line - 1].iter().rev().find(|l| {
        !l.trim().is_empty()
            && !l.trim_start().starts_with('#')
            && (l.len() - l.trim_start().len()) < indent
    })?;
    let (key, value) = parent.trim().split_once(':')?;
    let value = value.trim();
    if value.is_empty() || value.starts_with('|') || value.starts_with('>') {
        return None;
    }
    let child_key = here.trim().split(':').next().unwrap_or("").trim();
    Some(format!(
        "`{key}:` already has the value `{value}`, so the indented `{child_key}:` below it cannot \
         be nested under it. Move `{child_key}:` (and the keys indented with it) to column {} so \
         they sit beside `{key}:`, or nest them under a key with no value",
        parent.len() - parent.trim_start().len() + 1
    ))
}

/// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        // The distance is at least the difference in length: skip the quadratic edit distance
        // for a word that cannot be close (a 64 KiB key against every field name).
        .filter(|c| word.len().abs_diff(c.len()) <= 2.max(c.len() / 4))
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `text` cut to 80 characters for a message: a diagnostic names a key, it does not echo a
/// 64 KiB one back.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text.to_string(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
