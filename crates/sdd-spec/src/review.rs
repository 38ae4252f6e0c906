//! Proposals and review: the agent proposes scenarios; only people approve or reject them.
//!
//! Writes are textual edits of the YAML a person wrote: new scenarios are appended to the
//! `scenarios:` block with its own indentation, and status changes rewrite only the lines of the
//! one scenario. Comments and formatting elsewhere are left byte for byte. Every edit is checked
//! by re-loading the new text before it replaces the file (write to a temporary file in the same
//! directory, then rename), so a failed edit loses nothing.
//!
//! This module has no MCP surface for approve/reject: the specification server only calls
//! [`propose`]. Approval goes through `sdd review`, which names the person.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::document::{OneOrMany, ReviewStatus, ScenarioDoc};
use crate::ids;
use crate::load::{load_dir, load_sources};
use crate::model::Spec;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("{0}")]
    Invalid(String),
    #[error("no scenario `{0}`; list proposals with list_proposals or `sdd review --list`")]
    UnknownScenario(String),
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the edit of `{file}` would not load cleanly ({reason}); nothing was written")]
    EditRejected { file: String, reason: String },
}

/// What `propose` wrote.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProposalOutcome {
    /// File written, relative to the spec root.
    pub file: String,
    /// True when the file was created.
    pub created: bool,
    /// IDs of the proposed scenarios, in order.
    pub ids: Vec<String>,
}

/// Append `scenarios` to the spec of `domain` with status `proposed`. The target is `file`
/// (relative to `root`) if given, else the first file of the domain with a `scenarios:` block,
/// else a new `proposals/<domain>.yaml`.
pub fn propose(
    root: &Path,
    spec: &Spec,
    domain: &str,
    scenarios: &[ScenarioDoc],
    file: Option<&str>,
    proposed_by: &str,
) -> Result<ProposalOutcome, ReviewError> {
    if scenarios.is_empty() {
        return Err(ReviewError::Invalid("no scenarios to propose".into()));
    }
    if ids::slug(domain) != domain {
        return Err(ReviewError::Invalid(format!(
            "domain `{domain}` is not a domain name (snake_case); see list_domains"
        )));
    }
    let mut proposals = Vec::with_capacity(scenarios.len());
    let mut new_ids = Vec::new();
    for doc in scenarios {
        let mut doc = doc.clone();
        // Whatever the caller sent, a proposal is a proposal: status and review fields are ours.
        doc.status = Some(ReviewStatus::Proposed);
        doc.proposed_by = Some(proposed_by.to_string());
        doc.reviewed_by = None;
        doc.reviewed_at = None;
        if doc.name.trim().is_empty() {
            return Err(ReviewError::Invalid(
                "every proposed scenario needs a `name`".into(),
            ));
        }
        if doc
            .then
            .as_ref()
            .is_none_or(|t| t.clone().into_vec().is_empty())
        {
            return Err(ReviewError::Invalid(format!(
                "proposed scenario `{}` needs `then`",
                doc.name
            )));
        }
        if doc.rationale.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(ReviewError::Invalid(format!(
                "proposed scenario `{}` needs a `rationale`: the reviewer decides on it",
                doc.name
            )));
        }
        let id = doc
            .id
            .clone()
            .unwrap_or_else(|| ids::derived_scenario_id(domain, &doc.name));
        if let Some(problem) = ids::check_explicit_id(&id) {
            return Err(ReviewError::Invalid(format!("ID `{id}`: {problem}")));
        }
        if let Some(existing) = spec.scenario(&id) {
            return Err(ReviewError::Invalid(format!(
                "scenario `{id}` already exists at {}; propose a different name or `id`",
                existing.location
            )));
        }
        if new_ids.contains(&id) {
            return Err(ReviewError::Invalid(format!(
                "`{id}` is proposed twice in this call"
            )));
        }
        // Pin the ID so later renames by a reviewer don't change it.
        doc.id = Some(id.clone());
        new_ids.push(id);
        proposals.push(doc);
    }

    let target = match file {
        Some(f) => Some(confined(f)?),
        None => spec
            .files
            .iter()
            .filter(|f| {
                let owner = spec
                    .scenarios
                    .iter()
                    .any(|s| s.location.file == f.path && s.domain == domain);
                owner
            })
            .map(|f| f.path.clone())
            .next(),
    };
    let (relative, existing_text) = match target {
        Some(rel) => {
            let path = root.join(&rel);
            let text = std::fs::read_to_string(&path).map_err(|source| ReviewError::Io {
                path: path.clone(),
                source,
            })?;
            (rel, Some(text))
        }
        None => (format!("proposals/{domain}.yaml"), None),
    };
    let created = existing_text.is_none();
    let new_text = match existing_text {
        Some(text) => append_scenarios(&text, &proposals)?,
        None => {
            let path = root.join(&relative);
            if path.exists() {
                let text = std::fs::read_to_string(&path).map_err(|source| ReviewError::Io {
                    path: path.clone(),
                    source,
                })?;
                append_scenarios(&text, &proposals)?
            } else {
                let mut text = format!(
                    "# Scenarios proposed for domain `{domain}`, waiting for review (`sdd review`).\ndomain: {domain}\nscenarios:\n"
                );
                text.push_str(&render_items(&proposals, 2));
                text
            }
        }
    };
    check_and_write(root, spec, &relative, &new_text, &new_ids)?;
    Ok(ProposalOutcome {
        file: relative,
        created,
        ids: new_ids,
    })
}

/// A person's decision on a proposed scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// Record a person's decision: sets `status`, `reviewed_by` and `reviewed_at` on that scenario
/// only. `reviewer` must name a person.
pub fn decide(
    root: &Path,
    scenario_id: &str,
    decision: Decision,
    reviewer: &str,
    at: &str,
) -> Result<(), ReviewError> {
    let reviewer = reviewer.trim();
    if reviewer.is_empty() || reviewer.eq_ignore_ascii_case("agent") {
        return Err(ReviewError::Invalid(
            "a decision must name the person who made it".into(),
        ));
    }
    let loaded = load_dir(root).map_err(|e| ReviewError::Invalid(e.to_string()))?;
    let scenario = loaded
        .spec
        .scenario(scenario_id)
        .ok_or_else(|| ReviewError::UnknownScenario(scenario_id.to_string()))?;
    let relative = scenario.location.file.clone();
    let path = root.join(&relative);
    let text = std::fs::read_to_string(&path).map_err(|source| ReviewError::Io {
        path: path.clone(),
        source,
    })?;
    let status = match decision {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
    };
    let new_text = set_review_fields(
        &text,
        scenario.location.line,
        &[
            ("status", status.to_string()),
            ("reviewed_by", yaml_scalar(reviewer)),
            ("reviewed_at", at.to_string()),
        ],
    )?;
    let reloaded = load_sources(&[(relative.clone(), new_text.clone())]);
    let expected = match decision {
        Decision::Approve => ReviewStatus::Approved,
        Decision::Reject => ReviewStatus::Rejected,
    };
    if reloaded.spec.scenario(scenario_id).map(|s| s.status) != Some(expected) {
        return Err(ReviewError::EditRejected {
            file: relative,
            reason: "the scenario's status did not change as intended".into(),
        });
    }
    write_atomically(&path, &new_text)
}

/// Render scenario documents as YAML list items at `indent` spaces.
fn render_items(docs: &[ScenarioDoc], indent: usize) -> String {
    let mut out = String::new();
    for doc in docs {
        let yaml = serde_yaml::to_string(&ItemOrder(doc)).unwrap_or_default();
        let pad = " ".repeat(indent);
        for (i, line) in yaml.lines().enumerate() {
            if i == 0 {
                out.push_str(&format!("{pad}- {line}\n"));
            } else {
                out.push_str(&format!("{pad}  {line}\n"));
            }
        }
    }
    out
}

/// Serialises a scenario with the keys in the order people read them.
struct ItemOrder<'a>(&'a ScenarioDoc);

impl Serialize for ItemOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let d = self.0;
        let mut map = serializer.serialize_map(None)?;
        if let Some(id) = &d.id {
            map.serialize_entry("id", id)?;
        }
        map.serialize_entry("name", &d.name)?;
        if let Some(s) = &d.status {
            map.serialize_entry("status", s)?;
        }
        if let Some(p) = &d.proposed_by {
            map.serialize_entry("proposed_by", p)?;
        }
        if let Some(r) = &d.rationale {
            map.serialize_entry("rationale", r)?;
        }
        let many = |v: &OneOrMany| v.clone().into_vec();
        if let Some(g) = &d.given {
            map.serialize_entry("given", &many(g))?;
        }
        if let Some(w) = &d.when {
            map.serialize_entry("when", w)?;
        }
        if let Some(t) = &d.then {
            map.serialize_entry("then", &many(t))?;
        }
        if !d.tags.is_empty() {
            map.serialize_entry("tags", &d.tags)?;
        }
        map.end()
    }
}

/// Insert items at the end of the top-level `scenarios:` block (or add the block at the end).
fn append_scenarios(text: &str, docs: &[ScenarioDoc]) -> Result<String, ReviewError> {
    let lines: Vec<&str> = text.lines().collect();
    let block_start = lines
        .iter()
        .position(|l| l.starts_with("scenarios:") || l.starts_with("new_scenarios:"));
    let Some(start) = block_start else {
        let mut out = text.to_string();
        if !out.ends_with('\n') && !out.is_empty() {
            out.push('\n');
        }
        out.push_str("\nscenarios:\n");
        out.push_str(&render_items(docs, 2));
        return Ok(out);
    };
    if lines[start].trim_end().ends_with("[]") {
        return Err(ReviewError::Invalid(
            "`scenarios: []` is a flow list; write it as a block list to add proposals".into(),
        ));
    }
    // The block ends before the next top-level key (a line starting at column 1 that is not a
    // comment); trailing blank and comment lines stay after the insertion.
    let next_key = lines[start + 1..]
        .iter()
        .position(|l| {
            !l.is_empty() && !l.starts_with(' ') && !l.starts_with('#') && !l.starts_with('-')
        })
        .map(|p| p + start + 1)
        .unwrap_or(lines.len());
    let mut insert_at = next_key;
    while insert_at > start + 1 && {
        let t = lines[insert_at - 1].trim();
        t.is_empty() || t.starts_with('#')
    } {
        insert_at -= 1;
    }
    let indent = lines[start + 1..next_key]
        .iter()
        .find(|l| l.trim_start().starts_with("- "))
        .map(|l| l.len() - l.trim_start().len())
        .unwrap_or(2);
    let mut out = String::with_capacity(text.len() + 512);
    for line in &lines[..insert_at] {
        out.push_str(line);
        out.push('\n');
    }
    if insert_at > start + 1 {
        out.push('\n');
    }
    let rendered = render_items(docs, indent);
    // Separate proposals from each other the way the seed separates scenarios: a blank line.
    let mut first = true;
    for item in rendered.split_inclusive('\n') {
        if item.trim_start().starts_with("- ")
            && item.len() - item.trim_start().len() == indent
            && !first
        {
            out.push('\n');
        }
        first = false;
        out.push_str(item);
    }
    for line in &lines[insert_at..] {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// Set `key: value` lines inside the list item that starts at 1-based `line`.
fn set_review_fields(
    text: &str,
    line: usize,
    fields: &[(&str, String)],
) -> Result<String, ReviewError> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let start = line
        .checked_sub(1)
        .filter(|i| *i < lines.len())
        .ok_or_else(|| {
            ReviewError::Invalid(
                "the scenario's location is outside its file; reload the spec".into(),
            )
        })?;
    // The item line may be `  - name: …` (location points at the mapping after `- `).
    let item_line = &lines[start];
    let dash = item_line
        .find("- ")
        .filter(|d| item_line[..*d].trim().is_empty());
    let key_indent = match dash {
        Some(d) => d + 2,
        None => item_line.len() - item_line.trim_start().len(),
    };
    let item_indent = dash.unwrap_or(key_indent.saturating_sub(2));
    let mut end = start + 1;
    while end < lines.len() {
        let l = &lines[end];
        let indent = l.len() - l.trim_start().len();
        if !l.trim().is_empty()
            && !l.trim_start().starts_with('#')
            && (indent < key_indent || (indent == item_indent && l.trim_start().starts_with("- ")))
        {
            break;
        }
        end += 1;
    }
    while end > start + 1 && {
        let t = lines[end - 1].trim();
        t.is_empty() || t.starts_with('#')
    } {
        end -= 1;
    }
    let pad = " ".repeat(key_indent);
    for (key, value) in fields {
        let prefix = format!("{key}:");
        let existing = (start..end).find(|&i| {
            let l = lines[i].trim_start();
            let l = if i == start && dash.is_some() {
                l.trim_start_matches("- ")
            } else {
                l
            };
            l.starts_with(&prefix)
                && (lines[i].len() - lines[i].trim_start().len() == key_indent
                    || (i == start && dash.is_some()))
        });
        match existing {
            Some(i) if i == start && dash.is_some() => {
                lines[i] = format!("{}- {key}: {value}", " ".repeat(item_indent));
            }
            Some(i) => lines[i] = format!("{pad}{key}: {value}"),
            None => {
                lines.insert(end, format!("{pad}{key}: {value}"));
                end += 1;
            }
        }
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

fn yaml_scalar(text: &str) -> String {
    serde_yaml::to_string(text)
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

/// Resolve `relative` under `root`, refusing anything that escapes it or is not a YAML file.
fn confined(relative: &str) -> Result<String, ReviewError> {
    let path = Path::new(relative);
    let escapes = path.is_absolute()
        || path.components().any(|c| {
            matches!(
                c,
                std::path::Component::ParentDir | std::path::Component::Prefix(_)
            )
        });
    if escapes {
        return Err(ReviewError::Invalid(format!(
            "`{relative}` is outside the spec root; give a path relative to it"
        )));
    }
    if !crate::load::is_spec_file(path) {
        return Err(ReviewError::Invalid(format!(
            "`{relative}` is not a .yaml/.yml file"
        )));
    }
    Ok(relative.replace('\\', "/"))
}

/// Re-load the whole tree with the edited file and insist that the new IDs appear and that no new
/// error appears.
fn check_and_write(
    root: &Path,
    spec: &Spec,
    relative: &str,
    new_text: &str,
    new_ids: &[String],
) -> Result<(), ReviewError> {
    let before = load_dir(root).map_err(|e| ReviewError::Invalid(e.to_string()))?;
    let mut sources = Vec::new();
    let mut replaced = false;
    for file in &spec.files {
        if file.path == relative {
            sources.push((relative.to_string(), new_text.to_string()));
            replaced = true;
        } else if let Ok(text) = std::fs::read_to_string(root.join(&file.path)) {
            sources.push((file.path.clone(), text));
        }
    }
    if !replaced {
        sources.push((relative.to_string(), new_text.to_string()));
    }
    let after = load_sources(&sources);
    let error_count = |d: &[crate::Diagnostic]| {
        d.iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .count()
    };
    if error_count(&after.diagnostics) > error_count(&before.diagnostics) {
        let first = after
            .diagnostics
            .iter()
            .find(|d| d.severity == crate::Severity::Error && !before.diagnostics.contains(d))
            .map(|d| d.headline())
            .unwrap_or_default();
        return Err(ReviewError::EditRejected {
            file: relative.to_string(),
            reason: first,
        });
    }
    for id in new_ids {
        if after
            .spec
            .scenario(id)
            .is_none_or(|s| s.status != ReviewStatus::Proposed)
        {
            return Err(ReviewError::EditRejected {
                file: relative.to_string(),
                reason: format!("`{id}` did not load as a proposal"),
            });
        }
    }
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| ReviewError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
        // A symlinked directory could lead outside the spec root: resolve and compare.
        let real_root = root.canonicalize().map_err(|source| ReviewError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let real_parent = parent.canonicalize().map_err(|source| ReviewError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
        if !real_parent.starts_with(&real_root) {
            return Err(ReviewError::Invalid(format!(
                "`{relative}` resolves outside the spec root; nothing was written"
            )));
        }
    }
    write_atomically(&path, new_text)
}

/// Write to a temporary sibling, flush, then rename over the target.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), ReviewError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.sdd-tmp-{}", std::process::id()));
    let io = |source| ReviewError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::create(&temp).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&temp, path).map_err(|source| {
        let _ = std::fs::remove_file(&temp);
        ReviewError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Current UTC time as RFC 3339 (`2026-11-22T11:31:36Z`), without a date-time dependency.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# People wrote this. Keep me.\nfeature: Tasks   # trailing comment\n\nscenarios:\n    # indented comment\n    - name: Create\n      when: I create\n      then: it exists   # keep\n\n# a comment between blocks\nconstraints:\n  security:\n    - name: Auth\n      requirement: All endpoints require valid JWT token\n";

    fn doc(name: &str) -> ScenarioDoc {
        serde_yaml::from_str(&format!("name: {name}\nwhen: I do \"x\"\nthen: [It fails with \"y\"]\nrationale: because\nstatus: approved\n")).unwrap()
    }

    #[test]
    fn propose_appends_without_touching_other_lines_then_people_decide() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tasks.yaml"), FILE).unwrap();
        let spec = load_dir(dir.path()).unwrap().spec;
        let outcome = propose(
            dir.path(),
            &spec,
            "tasks",
            &[doc("Delete"), doc("Archive")],
            None,
            "agent",
        )
        .unwrap();
        assert_eq!(outcome.ids, vec!["tasks.delete", "tasks.archive"]);
        assert_eq!(outcome.file, "tasks.yaml");
        let text = std::fs::read_to_string(dir.path().join("tasks.yaml")).unwrap();
        // Every original line is still there, in order.
        let mut rest = text.as_str();
        for line in FILE.lines() {
            let at = rest
                .find(line)
                .unwrap_or_else(|| panic!("lost line {line:?} in\n{text}"));
            rest = &rest[at + line.len()..];
        }
        assert!(
            text.contains("    - id: tasks.delete\n      name: Delete\n      status: proposed\n"),
            "{text}"
        );
        let loaded = load_dir(dir.path()).unwrap();
        assert!(
            loaded
                .diagnostics
                .iter()
                .all(|d| d.severity != crate::Severity::Error),
            "{:#?}",
            loaded.diagnostics
        );
        // The caller asked for `approved`; a proposal is a proposal.
        assert_eq!(
            loaded.spec.scenario("tasks.delete").unwrap().status,
            ReviewStatus::Proposed
        );
        assert_eq!(loaded.spec.constraints.len(), 1);

        decide(
            dir.path(),
            "tasks.delete",
            Decision::Approve,
            "Ada Lovelace",
            "2026-11-22T12:00:00Z",
        )
        .unwrap();
        decide(
            dir.path(),
            "tasks.archive",
            Decision::Reject,
            "Ada Lovelace",
            "2026-11-22T12:01:00Z",
        )
        .unwrap();
        let spec = load_dir(dir.path()).unwrap().spec;
        let approved = spec.scenario("tasks.delete").unwrap();
        assert_eq!(approved.status, ReviewStatus::Approved);
        assert_eq!(approved.reviewed_by.as_deref(), Some("Ada Lovelace"));
        assert_eq!(
            spec.scenario("tasks.archive").unwrap().status,
            ReviewStatus::Rejected
        );
        assert_eq!(
            spec.scenario("tasks.create").unwrap().status,
            ReviewStatus::Approved
        );
        let text = std::fs::read_to_string(dir.path().join("tasks.yaml")).unwrap();
        assert!(text.contains("feature: Tasks   # trailing comment\n"));
        assert!(
            text.contains("# a comment between blocks\nconstraints:"),
            "{text}"
        );
    }

    #[test]
    fn propose_refuses_bad_input_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tasks.yaml"), FILE).unwrap();
        let spec = load_dir(dir.path()).unwrap().spec;
        let mut no_rationale = doc("X");
        no_rationale.rationale = None;
        assert!(propose(dir.path(), &spec, "tasks", &[no_rationale], None, "agent").is_err());
        assert!(
            propose(dir.path(), &spec, "tasks", &[doc("Create")], None, "agent")
                .unwrap_err()
                .to_string()
                .contains("already exists")
        );
        assert!(propose(
            dir.path(),
            &spec,
            "tasks",
            &[doc("Y")],
            Some("../outside.yaml"),
            "agent"
        )
        .is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("tasks.yaml")).unwrap(),
            FILE
        );
        assert!(decide(dir.path(), "tasks.create", Decision::Approve, "agent", "t").is_err());
    }

    #[test]
    fn new_domain_gets_a_proposals_file() {
        let dir = tempfile::tempdir().unwrap();
        let spec = Spec::default();
        let outcome = propose(
            dir.path(),
            &spec,
            "billing",
            &[doc("Charge")],
            None,
            "agent",
        )
        .unwrap();
        assert!(outcome.created);
        assert_eq!(outcome.file, "proposals/billing.yaml");
        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(
            loaded.spec.scenario("billing.charge").unwrap().status,
            ReviewStatus::Proposed
        );
    }

    #[test]
    fn rfc3339_shape() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20);
        assert!(now.starts_with("20") && now.ends_with('Z'));
    }
}
