//! Files the servers generate into the project (load-test scripts, alert rules, dashboards):
//! written whole or not at all, and never over a file some other hand wrote.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::{Project, ToolError};

/// A file over this size is not read to decide whether a tool wrote it: it is not replaced.
const MAX_REPLACED_BYTES: u64 = 16 * 1024 * 1024;

/// Write `text` to `path` through a temporary file beside it, renamed over it (readable by
/// its owner only when `owner_only`: it may hold tokens). A file already there is replaced
/// only when `ours` says `tool` wrote it; anything else is left alone and named.
pub fn write_generated(
    path: &Path,
    text: &str,
    ours: impl Fn(&str) -> bool,
    tool: &str,
    owner_only: bool,
) -> Result<(), String> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(format!(
                "`{shown}` exists and is not a regular file; choose another path"
            ));
        }
        Ok(meta) => {
            let mut before = String::new();
            let read = (meta.len() <= MAX_REPLACED_BYTES)
                .then(|| std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut before)));
            if !matches!(read, Some(Ok(_))) || !ours(&before) {
                return Err(format!(
                    "`{shown}` exists and was not written by {tool}; choose another path or remove it"
                ));
            }
        }
        Err(_) => {}
    }
    let parent = path
        .parent()
        .ok_or_else(|| format!("`{shown}` has no directory"))?;
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let temp = parent.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if owner_only {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        let mut f = options.open(&temp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("cannot write `{shown}`: {e}"));
    }
    Ok(())
}

/// `relative` (the tool argument `arg`) as a file a tool may generate into the project: inside
/// the project root, outside the spec root (where it would be read as a spec file), ending in
/// one of `extensions`.
pub fn generated_target(
    project: &Project,
    specs: &Path,
    arg: &str,
    relative: &str,
    extensions: &[&str],
) -> Result<PathBuf, ToolError> {
    let path = Project::confine(&project.root, relative).map_err(|e| format!("`{arg}`: {e}"))?;
    let name = relative.rsplit('/').next().unwrap_or_default();
    if !extensions
        .iter()
        .any(|ext| name.len() > ext.len() && name.ends_with(ext))
    {
        return Err(format!(
            "`{arg}` must name a file ending in {}, not `{relative}`",
            extensions
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    // A rule file or dashboard under the spec root would be read as a spec file.
    let specs = specs.canonicalize().unwrap_or_else(|_| specs.to_path_buf());
    let mut existing = path.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut real = existing.canonicalize().unwrap_or(existing);
    real.extend(rest.iter().rev());
    if real.starts_with(&specs) || path.starts_with(&specs) {
        return Err(format!(
            "`{arg}` `{relative}` is inside the spec directory ({}), where it would be read as a spec file; write it elsewhere in the project",
            project.display(&specs)
        ));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &Path) -> Project {
        std::fs::create_dir_all(dir.join("specs")).unwrap();
        Project::new(Some(dir), None).unwrap()
    }

    #[test]
    fn paths_stay_in_the_project_outside_the_specs_and_name_the_right_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = project(dir.path());
        let ok = generated_target(
            &p,
            &p.specs,
            "path",
            "monitoring/sdd.yml",
            &[".yml", ".yaml"],
        )
        .unwrap();
        assert!(ok.starts_with(&p.root));
        for bad in ["../x.yml", "/tmp/x.yml", "a/../../x.yml"] {
            let err = generated_target(&p, &p.specs, "path", bad, &[".yml"]).unwrap_err();
            assert!(err.contains("outside"), "{bad}: {err}");
        }
        for bad in ["x.txt", ".yml", "dir/", ""] {
            let err = generated_target(&p, &p.specs, "path", bad, &[".yml"]).unwrap_err();
            assert!(err.contains("ending in `.yml`"), "{bad}: {err}");
        }
        let err =
            generated_target(&p, &p.specs, "path", "specs/alerts.yml", &[".yml"]).unwrap_err();
        assert!(err.contains("inside the spec directory"), "{err}");
        // Through a link into the specs, too.
        std::os::unix::fs::symlink(dir.path().join("specs"), dir.path().join("s")).unwrap();
        let err =
            generated_target(&p, &p.specs, "path", "s/new/alerts.yml", &[".yml"]).unwrap_err();
        assert!(err.contains("inside the spec directory"), "{err}");
    }
}
