//! Loading a spec tree: every `*.yaml` / `*.yml` (and Gherkin `*.feature`, see `gherkin.rs`)
//! under a root, into a [`Spec`] plus diagnostics.
//!
//! Each file is parsed once into a `serde_yaml::Value` and once into a [`PositionIndex`]; then
//! every section and list item is deserialized on its own, so one broken scenario costs exactly
//! one diagnostic and the rest of the file still loads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use crate::constraint::parse_constraint;
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
    mut problems: Vec<Diagnostic>,
    limits: &Limits,
) -> Loaded {
    let mut models = Vec::with_capacity(files.len());
    for path in files {
        let rel = relative(root, &path);
        match read_yaml_file(&path, limits) {
            Ok(text) => models.push(read_file_model(&rel, text, limits)),
            Err(problem) => problems.push(read_problem(&rel, problem)),
        }
    }
    assemble(models.iter(), problems)
}

/// One unreadable file (permissions, not UTF-8, a FIFO, too large) is a diagnostic, not the end
/// of loading.
fn read_problem(rel: &str, problem: crate::limits::ReadProblem) -> Diagnostic {
    let (code, message, help) = problem.describe();
    Diagnostic::error(code, message)
        .in_file(rel)
        .with_help(help)
}

/// Read one file's text on its own into its model.
fn read_file_model(path: &str, text: String, limits: &Limits) -> FileModel {
    let mut builder = Builder {
        limits: *limits,
        out: FileModel::default(),
        diagnostics: Notes::default(),
    };
    builder.file(path, &text);
    let mut model = builder.out;
    model.notes = builder.diagnostics.0;
    model.text = text;
    model
}

/// Put the files' models together (in the order given: path order) into the tree's model;
/// `problems` (the walk's and the reads') follow the files' own diagnostics.
fn assemble<'a>(
    models: impl IntoIterator<Item = &'a FileModel>,
    problems: Vec<Diagnostic>,
) -> Loaded {
    let mut assembly = Assembly::default();
    for model in models {
        assembly.add(model);
    }
    let mut loaded = assembly.finish();
    loaded.diagnostics.extend(problems);
    loaded
}

/// A spec tree kept loaded between calls: a server asks it for the spec on every call and gets
/// the model it already has unless a file was added, removed or changed since. Walking the tree
/// and reading each file's metadata costs microseconds a file; reading a file into its model
/// costs milliseconds. After an edit only the files whose metadata changed are read again, and
/// only those whose text changed are parsed again; the tree's model is then put together from
/// the files' models (duplicate IDs, domains and test keys need the whole tree). People's edits
/// are still seen by the very next call.
pub struct SpecCache {
    root: PathBuf,
    last: std::sync::Mutex<Option<CachedLoad>>,
}

struct CachedLoad {
    limits: Limits,
    /// The files as walked, each with its model (`None`: it could not be read).
    files: Vec<(FileStamp, Option<CachedFile>)>,
    /// The walk's problems, then the reads'.
    problems: Vec<Diagnostic>,
    walk_problems: usize,
    loaded: std::sync::Arc<Loaded>,
}

struct CachedFile {
    /// When the text behind `model` was read.
    read_at: std::time::SystemTime,
    model: std::sync::Arc<FileModel>,
}

impl CachedFile {
    /// Whether `stamp` (the file now) vouches that the file still holds the text this model was
    /// read from. Metadata can only vouch for a file last changed well before it was read: a
    /// write in the same clock tick as the read, keeping the size, leaves every time and the
    /// size as they were (git's "racily clean" entries). Such a file is read again and its text
    /// compared, until its last change is older than that.
    fn vouched_for_by(&self, was: &FileStamp, stamp: &FileStamp) -> bool {
        const CLOCK_SLACK: std::time::Duration = std::time::Duration::from_secs(2);
        let Some(meta) = stamp.meta else {
            return false;
        };
        if was != stamp {
            return false;
        }
        let changed = std::time::UNIX_EPOCH
            + std::time::Duration::new(meta.3.max(0) as u64, meta.4.clamp(0, 999_999_999) as u32);
        changed + CLOCK_SLACK < self.read_at
    }
}

/// What says a file is unchanged.
#[derive(Debug, PartialEq, Eq)]
struct FileStamp {
    path: PathBuf,
    /// Size, modification time (s, ns), status-change time (s, ns), inode; `None` when the file
    /// cannot be read (reading it says why, every time).
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

    /// The spec root this cache reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The model already loaded, if the tree's metadata vouches that nothing changed since (the
    /// same files, each unchanged and last changed well before it was read); `None` when
    /// [`SpecCache::load`] has work to do. It only walks the tree and reads metadata — a call
    /// that cannot be slow, so a server need not move it off its async workers.
    pub fn unchanged(&self) -> Option<std::sync::Arc<Loaded>> {
        let (limits, _) = Limits::from_env();
        let (paths, walk) = list_spec_files(&self.root).ok()?;
        let last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let cached = last.as_ref()?;
        let unchanged = cached.limits == limits
            && cached.problems[..cached.walk_problems] == walk[..]
            && cached.walk_problems == cached.problems.len()
            && cached.files.len() == paths.len()
            && cached.files.iter().zip(paths).all(|((was, file), path)| {
                file.as_ref()
                    .is_some_and(|file| file.vouched_for_by(was, &FileStamp::of(path)))
            });
        unchanged.then(|| cached.loaded.clone())
    }

    /// The spec as the files say now, with the limits of [`Limits::from_env`].
    pub fn load(&self) -> Result<std::sync::Arc<Loaded>, LoadError> {
        let (limits, limit_problems) = Limits::from_env();
        let (paths, walk) = list_spec_files(&self.root)?;
        // A poisoned lock only means another call panicked mid-load: start afresh.
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let previous = last.take().filter(|cached| cached.limits == limits);
        let mut earlier: HashMap<PathBuf, (FileStamp, CachedFile)> = HashMap::new();
        let mut previous_models = Vec::new();
        let mut previous_problems = Vec::new();
        let mut previous_loaded = None;
        if let Some(cached) = previous {
            previous_problems = cached.problems;
            previous_loaded = Some(cached.loaded);
            for (stamp, file) in cached.files {
                previous_models.push((stamp.path.clone(), file.as_ref().map(|f| f.model.clone())));
                if let Some(file) = file {
                    earlier.insert(stamp.path.clone(), (stamp, file));
                }
            }
        }

        let walk_problems = walk.len();
        let mut problems = walk;
        let mut files = Vec::with_capacity(paths.len());
        let mut listed: HashSet<PathBuf> = paths.iter().cloned().collect();
        let mut pending: std::collections::VecDeque<PathBuf> = paths.into();
        let mut walks_again = 0;
        loop {
            let mut vanished = false;
            while let Some(path) = pending.pop_front() {
                let stamp = FileStamp::of(path);
                let known = earlier.remove(&stamp.path);
                if let Some((was, file)) = known.as_ref() {
                    if file.vouched_for_by(was, &stamp) {
                        let (_, file) = known.expect("checked above");
                        files.push((stamp, Some(file)));
                        continue;
                    }
                }
                let rel = relative(&self.root, &stamp.path);
                let read_at = std::time::SystemTime::now();
                match read_yaml_file(&stamp.path, &limits) {
                    Ok(text) => {
                        let model = match known {
                            Some((_, file)) if file.model.text == text => file.model,
                            _ => std::sync::Arc::new(read_file_model(&rel, text, &limits)),
                        };
                        files.push((stamp, Some(CachedFile { read_at, model })));
                    }
                    // Gone since the walk listed it (renamed, deleted, an editor's atomic
                    // save): it is removed, not unreadable — and whatever it became is found
                    // by walking again.
                    Err(crate::limits::ReadProblem::Io(e))
                        if e.kind() == std::io::ErrorKind::NotFound =>
                    {
                        vanished = true;
                    }
                    Err(problem) => {
                        problems.push(read_problem(&rel, problem));
                        files.push((stamp, None));
                    }
                }
            }
            if !vanished || walks_again == 3 {
                break;
            }
            walks_again += 1;
            let (again, _) = list_spec_files(&self.root)?;
            pending.extend(again.into_iter().filter(|path| listed.insert(path.clone())));
        }
        // Path order, as the walk gives it: files found by walking again go in their place.
        files.sort_by(|(a, _), (b, _)| a.path.cmp(&b.path));

        // The same files with the same models and problems: the same model of the tree.
        let same_tree = previous_problems == problems
            && previous_models.len() == files.len()
            && previous_models
                .iter()
                .zip(&files)
                .all(|((path, model), (stamp, file))| {
                    *path == stamp.path
                        && match (model, file) {
                            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, &b.model),
                            (None, None) => true,
                            _ => false,
                        }
                });
        let loaded = match previous_loaded {
            Some(loaded) if same_tree => loaded,
            _ => {
                let models = files
                    .iter()
                    .filter_map(|(_, file)| file.as_ref().map(|f| &*f.model));
                let mut loaded = assemble(models, problems.clone());
                for problem in limit_problems {
                    loaded.diagnostics.push(
                        Diagnostic::warning("bad-limit-setting", problem).with_help(
                            "set it to a number of bytes or nodes, e.g. 8388608, or unset it",
                        ),
                    );
                }
                std::sync::Arc::new(loaded)
            }
        };
        *last = Some(CachedLoad {
            limits,
            files,
            problems,
            walk_problems,
            loaded: loaded.clone(),
        });
        Ok(loaded)
    }
}

/// Load from in-memory `(relative path, text)` pairs (used by impact analysis on git revisions).
pub fn load_sources(sources: &[(String, String)]) -> Loaded {
    load_sources_with(sources, &Limits::from_env().0)
}

pub fn load_sources_with(sources: &[(String, String)], limits: &Limits) -> Loaded {
    let models: Vec<FileModel> = sources
        .iter()
        .map(|(path, text)| read_file_model(path, text.clone(), limits))
        .collect();
    assemble(models.iter(), Vec::new())
}

pub fn is_spec_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml") | Some("feature")
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

/// Reads one file on its own into a [`FileModel`]. What needs the whole tree (duplicate IDs,
/// domains declared in several files, test keys) is left to [`Assembly`], so a file's model
/// stays valid for as long as its text does.
struct Builder {
    limits: Limits,
    out: FileModel,
    diagnostics: Notes,
}

/// What one file says, read on its own: its elements and its diagnostics, in the order the
/// file gave them. [`SpecCache`] keeps it while the file's text is unchanged, so after an edit
/// only the edited file is read again and the rest of the tree is only put together.
#[derive(Default)]
struct FileModel {
    /// The text it was read from (a read that finds the same text reuses the model).
    text: String,
    files: Vec<SpecFile>,
    domains: Vec<DomainDeclaration>,
    /// Each scenario with the diagnostics about its approval (told after a `duplicate-id` when
    /// it turns out to be a duplicate) and its test key (`ids::test_key`).
    scenarios: Vec<(std::sync::Arc<Scenario>, Vec<Diagnostic>, String)>,
    constraints: Vec<std::sync::Arc<Constraint>>,
    interactions: Vec<Interaction>,
    chaos_scenarios: Vec<ChaosScenario>,
    observability: Vec<(String, ObservabilityDoc)>,
    degradation_detection: Vec<(String, DegradationDoc)>,
    notes: Vec<Note>,
}

/// A domain as one file declares it; [`Assembly`] merges the declarations of all files.
struct DomainDeclaration {
    name: String,
    description: Option<String>,
    dependencies: Vec<String>,
    /// Where each of `dependencies` is written.
    dependencies_at: Vec<Location>,
    at: Location,
}

/// The file's diagnostics, with the places its scenarios and constraints came in: whether one
/// is a duplicate is known only when the tree is put together, and its diagnostic goes there.
enum Note {
    Diagnostic(Diagnostic),
    Scenario(usize),
    Constraint(usize),
}

#[derive(Default)]
struct Notes(Vec<Note>);

impl Notes {
    fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(Note::Diagnostic(diagnostic));
    }

    /// The diagnostics pushed since `mark`, taken out.
    fn take_from(&mut self, mark: usize) -> Vec<Diagnostic> {
        self.0
            .drain(mark..)
            .filter_map(|note| match note {
                Note::Diagnostic(d) => Some(d),
                _ => None,
            })
            .collect()
    }
}

/// One file as parsed, on the way to its [`FileModel`].
struct ParsedText {
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
        Some(ParsedText { index, value })
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
        if crate::gherkin::is_feature_file(file) {
            return self.gherkin_file(file, text);
        }
        let Some(parsed) = self.parse(file, text) else {
            return;
        };
        let value = &parsed.value;
        let ctx = FileCtx {
            file,
            index: &parsed.index,
        };
        let Value::Mapping(map) = &value else {
            if value.is_null() {
                // Only comments or blank lines (a file being written, or one kept as a note):
                // loaded as an empty file, so "no spec files" is never said of a tree that has some.
                self.out.files.push(SpecFile {
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

    /// A `.feature` file: `gherkin.rs` gives the fields of the equivalent YAML feature file,
    /// located in the Gherkin text, and they load like one (IDs, duplicates across files,
    /// approvals: the same code for both formats).
    fn gherkin_file(&mut self, file: &str, text: &str) {
        let (notes, scenarios) = (self.diagnostics.0.len(), self.out.scenarios.len());
        let read = crate::gherkin::read(file, text, &self.limits);
        for d in read.diagnostics {
            self.diagnostics.push(d);
        }
        if let Some(document) = &read.document {
            let ctx = FileCtx {
                file,
                index: &document.index,
            };
            self.document(&ctx, &document.fields());
        } else if read.empty {
            self.out.files.push(SpecFile {
                path: file.to_string(),
                kind: DocumentKind::Empty,
                name: String::new(),
                description: None,
            });
        }
        // The loader's words for YAML fields, in tags: its own diagnostics and the approval
        // diagnostics that travel with each scenario.
        for note in &mut self.diagnostics.0[notes..] {
            if let Note::Diagnostic(d) = note {
                crate::gherkin::in_gherkin_terms(std::slice::from_mut(d));
            }
        }
        for (_, approval, _) in &mut self.out.scenarios[scenarios..] {
            crate::gherkin::in_gherkin_terms(approval);
        }
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
        self.out.files.push(SpecFile {
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
            let dependencies_at = list_locations(
                ctx,
                fields.get("dependencies").copied(),
                "dependencies",
                dependencies.len(),
            );
            self.declare_domain(
                &owner,
                description,
                &dependencies,
                dependencies_at,
                ctx.location(key),
            );
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
                    let dependencies_at = list_locations(
                        ctx,
                        value.get("dependencies"),
                        &format!("{path}.dependencies"),
                        decl.dependencies.len(),
                    );
                    self.declare_domain(
                        &decl.name,
                        decl.description,
                        &decl.dependencies,
                        dependencies_at,
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
                self.out.observability.push((ctx.file.to_string(), doc));
            }
        }
        if let Some(v) = fields.get("degradation_detection") {
            if let Some(doc) = self.item::<DegradationDoc>(ctx, v, "degradation_detection") {
                self.out
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
                    self.out.chaos_scenarios.push(ChaosScenario {
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
                    let steps_at = match &flow.steps {
                        Some(StepsDoc::Numbered(map)) => map
                            .keys()
                            .map(|k| ctx.location(&format!("{path}.steps.{k}")))
                            .collect(),
                        Some(StepsDoc::List(list)) => (0..list.len())
                            .map(|i| ctx.location(&format!("{path}.steps[{i}]")))
                            .collect(),
                        None => Vec::new(),
                    };
                    flows.push(Flow {
                        name: flow.name,
                        steps: flow.steps.map(|s| s.ordered()).unwrap_or_default(),
                        steps_at,
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
        self.out.interactions.push(Interaction {
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
        dependencies_at: Vec<Location>,
        at: Location,
    ) {
        self.out.domains.push(DomainDeclaration {
            name: name.to_string(),
            description,
            dependencies: dependencies.to_vec(),
            dependencies_at,
            at,
        });
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
            let clauses_at = ClauseLocations {
                given: list_locations(
                    ctx,
                    value.get("given"),
                    &format!("{path}.given"),
                    doc.given.as_ref().map_or(0, |g| match g {
                        OneOrMany::One(_) => 1,
                        OneOrMany::Many(v) => v.len(),
                    }),
                ),
                when: doc
                    .when
                    .as_ref()
                    .map(|_| ctx.location(&format!("{path}.when"))),
                then: list_locations(
                    ctx,
                    value.get("then"),
                    &format!("{path}.then"),
                    doc.then.as_ref().map_or(0, |t| match t {
                        OneOrMany::One(_) => 1,
                        OneOrMany::Many(v) => v.len(),
                    }),
                ),
            };
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
                // A name without a letter or digit would derive `domain.`, which names
                // nothing: the scenario gets an ID from its place, and an error.
                None if ids::slug(&doc.name).is_empty() => {
                    // The name is not quoted: it may be only control characters.
                    let what = if doc.name.trim().is_empty() {
                        "this scenario has no name"
                    } else {
                        "this scenario's name has no letter or digit"
                    };
                    let id = format!("{}.unnamed_{}", ids::slug(domain), ids::slug(&path));
                    self.diagnostics.push(
                        Diagnostic::error(
                            "missing-field",
                            format!("{what}, so no ID can be derived from it (it is `{id}` until it has one)"),
                        )
                        .at(&ctx.location(&format!("{path}.name")))
                        .with_help("give it a `name` that says the behaviour in a few words, or an explicit `id:`"),
                    );
                    (id, false)
                }
                None => (ids::derived_scenario_id(domain, &doc.name), false),
            };
            // Its approval diagnostics travel with it: whether it is a duplicate is known once
            // the whole tree is put together, and its `duplicate-id` comes before them.
            let mark = self.diagnostics.0.len();
            let status = self.approval_status(ctx, &path, &id, &doc);
            let approval = self.diagnostics.take_from(mark);
            self.diagnostics
                .0
                .push(Note::Scenario(self.out.scenarios.len()));
            let scenario = Scenario {
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
                duplicate_of: None,
                clauses_at,
            };
            let test_key = ids::test_key(&scenario.id);
            self.out
                .scenarios
                .push((std::sync::Arc::new(scenario), approval, test_key));
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
            Some(check) => crate::constraint::parse_structured(check),
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
        self.diagnostics
            .0
            .push(Note::Constraint(self.out.constraints.len()));
        self.out.constraints.push(std::sync::Arc::new(Constraint {
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
        }));
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
}

/// The tree put together from its files' models, in path order: domains merged, duplicate IDs
/// found (the first in path order keeps the ID; a duplicate stays, marked with
/// `duplicate_of`), test keys checked.
#[derive(Default)]
struct Assembly<'a> {
    spec: Spec,
    diagnostics: Vec<Diagnostic>,
    domains: BTreeMap<String, Domain>,
    /// Borrowed from the files' models: putting a tree together allocates for what it keeps,
    /// not for what it checks.
    scenario_ids: HashMap<&'a str, &'a Location>,
    constraint_ids: HashMap<&'a str, &'a Location>,
    test_keys: HashMap<&'a str, &'a Scenario>,
    /// Test-key collisions, told after every file's own diagnostics.
    collisions: Vec<Diagnostic>,
}

impl<'a> Assembly<'a> {
    fn add(&mut self, file: &'a FileModel) {
        self.spec.files.extend(file.files.iter().cloned());
        for declaration in &file.domains {
            self.declare_domain(declaration);
        }
        for note in &file.notes {
            match note {
                Note::Diagnostic(d) => self.diagnostics.push(d.clone()),
                Note::Scenario(i) => {
                    let (scenario, approval, test_key) = &file.scenarios[*i];
                    if let Some(first) = self.scenario_ids.get(scenario.id.as_str()).copied() {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "duplicate-id",
                                format!("scenario ID `{}` is already used at {first}", scenario.id),
                            )
                            .at(&scenario.location)
                            .with_help({
                                // A Gherkin scenario takes its ID from a tag.
                                let id = if scenario.location.file.ends_with(".feature") {
                                    "`@id:` tag"
                                } else {
                                    "`id:`"
                                };
                                if scenario.explicit_id {
                                    format!("give one of them a different {id}")
                                } else {
                                    format!(
                                        "rename one of the scenarios, or give it an explicit {id}"
                                    )
                                }
                            }),
                        );
                        // Kept, marked: counted and linted like any scenario written, but
                        // never found by its ID (the first keeps it) nor given a test key.
                        self.diagnostics.extend(approval.iter().cloned());
                        let mut duplicate = Scenario::clone(scenario);
                        duplicate.duplicate_of = Some(first.clone());
                        self.spec.scenarios.push(std::sync::Arc::new(duplicate));
                        continue;
                    }
                    self.scenario_ids.insert(&scenario.id, &scenario.location);
                    self.diagnostics.extend(approval.iter().cloned());
                    self.spec.scenarios.push(scenario.clone());
                    // Test keys must map back to exactly one scenario (see `ids`).
                    if let Some(other) = self.test_keys.get(test_key.as_str()) {
                        self.collisions.push(
                            Diagnostic::error(
                                "test-key-collision",
                                format!(
                                    "scenario IDs `{}` and `{}` give the same test name key `{test_key}`",
                                    other.id, scenario.id
                                ),
                            )
                            .at(&scenario.location)
                            .with_help(
                                "tests could not tell them apart; give one an explicit, different `id:`",
                            ),
                        );
                    } else {
                        self.test_keys.insert(test_key, scenario);
                    }
                }
                Note::Constraint(i) => {
                    let constraint = &file.constraints[*i];
                    if let Some(first) = self.constraint_ids.get(constraint.id.as_str()) {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "duplicate-id",
                                format!(
                                    "constraint ID `{}` is already used at {first}",
                                    constraint.id
                                ),
                            )
                            .at(&constraint.location)
                            .with_help(
                                "rename one of the constraints, or give it an explicit `id:`",
                            ),
                        );
                        continue;
                    }
                    self.constraint_ids
                        .insert(&constraint.id, &constraint.location);
                    self.spec.constraints.push(constraint.clone());
                }
            }
        }
        self.spec
            .interactions
            .extend(file.interactions.iter().cloned());
        self.spec
            .chaos_scenarios
            .extend(file.chaos_scenarios.iter().cloned());
        self.spec
            .observability
            .extend(file.observability.iter().cloned());
        self.spec
            .degradation_detection
            .extend(file.degradation_detection.iter().cloned());
    }

    fn declare_domain(&mut self, declaration: &DomainDeclaration) {
        let domain = self
            .domains
            .entry(declaration.name.clone())
            .or_insert_with(|| Domain {
                name: declaration.name.clone(),
                description: None,
                dependencies: Vec::new(),
                dependencies_at: Vec::new(),
                declared_at: Vec::new(),
            });
        if domain.description.is_none() {
            domain.description = declaration.description.clone();
        }
        for (i, dep) in declaration.dependencies.iter().enumerate() {
            if !domain.dependencies.contains(dep) {
                domain.dependencies.push(dep.clone());
                domain.dependencies_at.push(
                    declaration
                        .dependencies_at
                        .get(i)
                        .unwrap_or(&declaration.at)
                        .clone(),
                );
            }
        }
        domain.declared_at.push(declaration.at.clone());
    }

    fn finish(mut self) -> Loaded {
        self.spec.domains = self.domains.into_values().collect();
        self.diagnostics.append(&mut self.collisions);
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

/// Where each of the `n` strings of a field written as one string or a list is: the list's
/// items (`then[1]`), or the field itself for a single string (or anything else).
fn list_locations(ctx: &FileCtx, value: Option<&Value>, path: &str, n: usize) -> Vec<Location> {
    match value {
        Some(Value::Sequence(_)) => (0..n)
            .map(|i| ctx.location(&format!("{path}[{i}]")))
            .collect(),
        _ => vec![ctx.location(path); n],
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// A stamp of size 10, inode 7, changed (and modified) at `changed` seconds.
    fn stamp(changed: i64) -> FileStamp {
        FileStamp {
            path: PathBuf::from("a.yaml"),
            meta: Some((10, changed, 0, changed, 0, 7)),
        }
    }

    /// When the metadata may stand for the text: only for a file last changed well before it
    /// was read (otherwise a same-size write in the read's clock tick would go unseen).
    #[test]
    fn metadata_vouches_only_for_files_changed_well_before_the_read() {
        let cached = |read_at: u64| CachedFile {
            read_at: UNIX_EPOCH + Duration::from_secs(read_at),
            model: std::sync::Arc::new(FileModel::default()),
        };
        let other_size = FileStamp {
            meta: Some((11, 100, 0, 100, 0, 7)),
            ..stamp(100)
        };
        let unreadable = FileStamp {
            meta: None,
            ..stamp(100)
        };
        #[rustfmt::skip]
        let cases: &[(&str, u64, FileStamp, FileStamp, bool)] = &[
            ("unchanged, read long after its last change", 1000, stamp(100), stamp(100), true),
            ("unchanged, but read in the second it changed", 100, stamp(100), stamp(100), false),
            ("unchanged, read a second after it changed", 101, stamp(100), stamp(100), false),
            ("changed since", 1000, stamp(100), stamp(200), false),
            ("other size", 1000, stamp(100), other_size, false),
            ("cannot be read now", 1000, stamp(100), unreadable, false),
            ("another path", 1000, stamp(100), FileStamp { path: PathBuf::from("b.yaml"), ..stamp(100) }, false),
        ];
        for (what, read_at, was, now, vouched) in cases {
            assert_eq!(
                cached(*read_at).vouched_for_by(was, now),
                *vouched,
                "{what}"
            );
        }
    }
}
