//! What a server reads from the project on every call: `sdd.yaml` (afresh, so people's edits
//! are seen at once) and the spec tree it names (through a kept [`SpecCache`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sdd_spec::project::ProjectFile;
use sdd_spec::{Loaded, SpecCache};

use crate::{blocking, load_spec, Project, ToolError};

/// `sdd.yaml` of the project, read now; a problem is one line naming the file, the place, the
/// field and what to do.
pub fn read_project_file(project: &Project) -> Result<ProjectFile, ToolError> {
    blocking(|| sdd_spec::project::load_project_file(&project.root)).map_err(|d| {
        let location = match (d.line, d.column) {
            (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
            _ => String::new(),
        };
        let field = d
            .path
            .as_deref()
            .map(|p| format!(" (field `{p}`)"))
            .unwrap_or_default();
        let help = d
            .help
            .as_deref()
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        format!(
            "sdd.yaml in {}{location}{field}: {}{help}",
            project.root.display(),
            d.message
        )
    })
}

/// [`read_project_file`], or the defaults when the project has no `sdd.yaml` (the servers
/// that only read — monitoring, debugging — work on a project that never wrote one).
pub fn read_project_file_or_default(project: &Project) -> Result<ProjectFile, ToolError> {
    if !project.root.join(sdd_spec::project::PROJECT_FILE).exists() {
        return sdd_spec::project::parse_project_file("{}").map_err(|d| d.message);
    }
    read_project_file(project)
}

/// The spec a server keeps loaded between calls, for the spec root `sdd.yaml` names now
/// (another root, after an edit of `sdd.yaml`, starts another cache).
#[derive(Default)]
pub struct SpecSlot(Mutex<Option<Arc<SpecCache>>>);

impl SpecSlot {
    /// The spec root: `--specs` if given, else `specs:` of `sdd.yaml`, else `specs/`.
    pub fn specs_dir(project: &Project, file: Option<&ProjectFile>) -> Result<PathBuf, ToolError> {
        match file {
            Some(file) if !project.specs_explicit => Project::confine(&project.root, &file.specs)
                .map_err(|e| format!("`specs` in sdd.yaml: {e}")),
            _ => Ok(project.specs.clone()),
        }
    }

    /// The spec as its files say now, read again only where they changed.
    pub fn load(
        &self,
        project: &Project,
        file: Option<&ProjectFile>,
    ) -> Result<Arc<Loaded>, ToolError> {
        let specs = Self::specs_dir(project, file)?;
        let cache = {
            // A poisoned lock only means another call panicked mid-load: start afresh.
            let mut slot = self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match slot.as_ref() {
                Some(cache) if cache.root() == specs => cache.clone(),
                _ => slot.insert(Arc::new(SpecCache::new(&specs))).clone(),
            }
        };
        load_spec(&cache).map_err(|e| format!("{e}"))
    }
}
