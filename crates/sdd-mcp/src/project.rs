//! The project under specification: its root, its spec directory, and confinement of every path
//! a tool argument names to inside them.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Project {
    /// The project root (absolute). Nothing outside it is ever written.
    pub root: PathBuf,
    /// The spec root (absolute), inside or equal to `root`.
    pub specs: PathBuf,
    /// `--specs` was given; otherwise a server may take the spec root from `sdd.yaml`.
    pub specs_explicit: bool,
}

#[derive(Debug)]
pub enum ProjectError {
    Missing(PathBuf),
    Outside { path: String, root: PathBuf },
}

impl std::fmt::Display for ProjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectError::Missing(p) => write!(f, "`{}` does not exist", p.display()),
            ProjectError::Outside { path, root } => write!(
                f,
                "`{path}` is outside `{}`; give a path relative to it without `..`",
                root.display()
            ),
        }
    }
}

impl std::error::Error for ProjectError {}

impl Project {
    /// `root` defaults to the current directory; `specs` (relative to `root` unless absolute)
    /// defaults to `specs/`.
    pub fn new(root: Option<&Path>, specs: Option<&Path>) -> Result<Project, ProjectError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let root = match root {
            Some(r) if r.is_absolute() => r.to_path_buf(),
            Some(r) => cwd.join(r),
            None => cwd.clone(),
        };
        let root = root
            .canonicalize()
            .map_err(|_| ProjectError::Missing(root.clone()))?;
        let specs_explicit = specs.is_some();
        let specs = match specs {
            Some(s) if s.is_absolute() => s.to_path_buf(),
            // A relative --specs is taken from the current directory, as a shell user expects.
            Some(s) => cwd.join(s),
            None => root.join("specs"),
        };
        // The spec root may not exist yet (a new project): tools report it when they load.
        let specs = specs.canonicalize().unwrap_or(specs);
        Ok(Project {
            root,
            specs,
            specs_explicit,
        })
    }

    /// Resolve `relative` under `base`, refusing absolute paths, `..` and symlinks that lead out
    /// (`sdd_spec::project::confine`), with an error that says so.
    pub fn confine(base: &Path, relative: &str) -> Result<PathBuf, ProjectError> {
        sdd_spec::project::confine(base, relative).ok_or_else(|| ProjectError::Outside {
            path: relative.to_string(),
            root: base.to_path_buf(),
        })
    }

    /// A path for display: relative to the project root when inside it.
    pub fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confinement_refuses_escapes() {
        let dir = std::env::temp_dir();
        assert!(Project::confine(&dir, "a/b.yaml").is_ok());
        assert!(Project::confine(&dir, "../etc/passwd").is_err());
        assert!(Project::confine(&dir, "/etc/passwd").is_err());
        assert!(Project::confine(&dir, "a/../../x").is_err());
    }
}
