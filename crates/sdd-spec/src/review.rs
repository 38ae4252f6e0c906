//! Proposals and review: the agent proposes scenarios; only people approve or reject them.
//!
//! Writes are textual edits of the YAML a person wrote: new scenarios are appended to the
//! `scenarios:` block with its own indentation, and decisions rewrite only the lines of the one
//! scenario. Comments and formatting elsewhere are left byte for byte.
//!
//! Every write holds the spec tree's lock from reading to renaming, and is checked
//! *semantically* before it replaces the file: the edited file is parsed again and must differ
//! from the old one by exactly the intended change (the new proposals, each `proposed`; or the
//! one decided scenario's review fields), and the whole tree must load with the same scenarios
//! in the same statuses apart from that change. Anything else leaves the file byte for byte as
//! it was. Strings reach the file only as double-quoted scalars, after refusing characters that
//! parsers disagree on (see [`crate::spec_write`]).
//!
//! This module has no MCP surface for approve/reject: the specification server only calls
//! [`propose`]. Approval goes through `sdd review`, which names the person and records a
//! fingerprint of the approved behaviour ([`crate::approval`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use crate::approval::scenario_fingerprint;
use crate::document::{OneOrMany, ProposedScenario, ReviewStatus, ScenarioDoc};
use crate::ids;
use crate::load::{load_dir, load_sources, Loaded};
use crate::model::Scenario;
use crate::spec_write::{
    check_strings, emit_block_item, read_for_edit, replace_file, SpecLock, WriteError,
};

/// At most this many scenarios in one `propose` call.
pub const MAX_PROPOSALS_PER_CALL: usize = 50;
/// At most this many characters in a scenario's name or a reviewer's name.
pub const MAX_NAME_CHARS: usize = 200;
/// At most this many characters in any other string of a proposal.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// At most this many bytes of YAML per proposed scenario (all its lists and examples together).
pub const MAX_SCENARIO_BYTES: usize = 32 * 1024;

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
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("the edit of `{file}` would not load cleanly ({reason}); nothing was written")]
    EditRejected { file: String, reason: String },
    #[error("scenario `{0}` changed since it was shown; nothing was recorded, review it again")]
    ChangedSinceShown(String),
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
/// else a new `proposals/<domain>.yaml`. The spec is read afresh under the tree's lock, so
/// parallel callers (threads or processes) each see the others' proposals.
pub fn propose(
    root: &Path,
    domain: &str,
    scenarios: &[ProposedScenario],
    file: Option<&str>,
    proposed_by: &str,
) -> Result<ProposalOutcome, ReviewError> {
    let target_file = file.map(confined).transpose()?;
    let (new_ids, items) = check_proposals(domain, scenarios, proposed_by)?;

    std::fs::create_dir_all(root).map_err(|source| ReviewError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let _lock = SpecLock::acquire(root)?;
    let before = load_dir(root).map_err(|e| ReviewError::Invalid(e.to_string()))?;
    for id in &new_ids {
        if let Some(existing) = before.spec.scenario(id) {
            return Err(ReviewError::Invalid(format!(
                "scenario `{id}` already exists at {}; propose a different name or `id`",
                existing.location
            )));
        }
    }
    let relative = match target_file {
        Some(f) => f,
        None => before
            .spec
            .files
            .iter()
            // A `.feature` file is Gherkin: proposals go to YAML.
            .find(|f| {
                !crate::gherkin::is_feature_file(&f.path)
                    && before
                        .spec
                        .scenarios
                        .iter()
                        .any(|s| s.location.file == f.path && s.domain == domain)
            })
            .map(|f| f.path.clone())
            .unwrap_or_else(|| format!("proposals/{domain}.yaml")),
    };
    let path = root.join(&relative);
    ensure_inside(root, &path, &relative)?;
    let existing_text = match std::fs::symlink_metadata(&path) {
        Ok(_) => Some(read_for_edit(&path)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(ReviewError::Io { path, source }),
    };
    let (new_text, list_key) = match &existing_text {
        Some(text) => {
            let mut key = String::new();
            let edited = keeping_line_endings(text, |lf| {
                let (edited, list_key) = append_scenarios(lf, &items)?;
                key = list_key;
                Ok(edited)
            })?;
            (edited, key)
        }
        None => {
            let mut text = format!(
                "# Scenarios proposed for domain `{domain}`, waiting for review (`sdd review`).\ndomain: {domain}\nscenarios:\n"
            );
            for item in &items {
                text.push_str(&emit_block_item(item, 2));
            }
            (text, "scenarios".to_string())
        }
    };

    // The file must now say exactly what it said before plus the proposals, nothing else.
    let reject = |reason: String| ReviewError::EditRejected {
        file: relative.clone(),
        reason,
    };
    let old_value = match &existing_text {
        Some(text) => parse_value(text).map_err(|e| {
            reject(format!(
                "the file does not parse as YAML now ({e}); fix it first"
            ))
        })?,
        None => {
            let mut map = serde_yaml::Mapping::new();
            map.insert("domain".into(), Value::String(domain.to_string()));
            Value::Mapping(map)
        }
    };
    let mut expected = old_value;
    append_to_list(&mut expected, &list_key, &items).map_err(reject)?;
    let new_value = parse_value(&new_text).map_err(|e| reject(e.to_string()))?;
    if new_value != expected {
        return Err(reject(
            "the edited file would differ from the old one by more than the new proposals".into(),
        ));
    }
    let after = reload_with(root, &before, &relative, &new_text);
    no_new_errors(&before, &after).map_err(reject)?;
    same_scenarios_except(&before, &after, &[]).map_err(reject)?;
    for id in &new_ids {
        let status = after.spec.scenario(id).map(|s| s.status);
        if status != Some(ReviewStatus::Proposed) {
            return Err(reject(format!("`{id}` did not load as a proposal")));
        }
    }
    if after.spec.scenarios.len() != before.spec.scenarios.len() + new_ids.len() {
        return Err(reject(
            "the edit would add scenarios other than the proposals".into(),
        ));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| ReviewError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
        ensure_inside(root, &path, &relative)?;
    }
    replace_file(&path, existing_text.as_deref(), &new_text)?;
    Ok(ProposalOutcome {
        file: relative,
        created: existing_text.is_none(),
        ids: new_ids,
    })
}

/// Check proposals without touching any file: count, domain, names, required fields, IDs,
/// string sizes and characters. Returns their IDs and the YAML items that would be written.
/// Errors name the field and never echo a long input. Cheap: call it before anything else
/// looks at the proposals.
pub fn check_proposals(
    domain: &str,
    scenarios: &[ProposedScenario],
    proposed_by: &str,
) -> Result<(Vec<String>, Vec<Value>), ReviewError> {
    if scenarios.is_empty() {
        return Err(ReviewError::Invalid("no scenarios to propose".into()));
    }
    if scenarios.len() > MAX_PROPOSALS_PER_CALL {
        return Err(ReviewError::Invalid(format!(
            "{} scenarios in one call; propose at most {MAX_PROPOSALS_PER_CALL} at a time",
            scenarios.len()
        )));
    }
    if ids::slug(domain) != domain || domain.len() > MAX_NAME_CHARS {
        return Err(ReviewError::Invalid(format!(
            "domain `{}` is not a domain name (snake_case); see list_domains",
            domain.chars().take(60).collect::<String>()
        )));
    }
    let mut items = Vec::with_capacity(scenarios.len());
    let mut new_ids: Vec<String> = Vec::new();
    for (index, proposal) in scenarios.iter().enumerate() {
        let mut doc = proposal.clone().into_doc(proposed_by);
        let at = format!("scenarios[{index}]");
        if doc.name.trim().is_empty() {
            return Err(ReviewError::Invalid(format!(
                "`{at}.name` is empty; every proposed scenario needs a name"
            )));
        }
        if doc.name.chars().count() > MAX_NAME_CHARS {
            return Err(ReviewError::Invalid(format!(
                "`{at}.name` is longer than {MAX_NAME_CHARS} characters; put detail in given/when/then"
            )));
        }
        if doc
            .then
            .as_ref()
            .is_none_or(|t| t.clone().into_vec().iter().all(|t| t.trim().is_empty()))
        {
            return Err(ReviewError::Invalid(format!(
                "`{at}.then` is empty; a proposed scenario needs an observable outcome"
            )));
        }
        if doc.rationale.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(ReviewError::Invalid(format!(
                "`{at}.rationale` is empty: the reviewer decides on it"
            )));
        }
        let id = doc
            .id
            .clone()
            .unwrap_or_else(|| ids::derived_scenario_id(domain, &doc.name));
        if let Some(problem) = ids::check_explicit_id(&id) {
            return Err(ReviewError::Invalid(format!(
                "`{at}` ID `{}`: {problem}",
                id.chars().take(80).collect::<String>()
            )));
        }
        if new_ids.contains(&id) {
            return Err(ReviewError::Invalid(format!(
                "`{id}` is proposed twice in this call"
            )));
        }
        // Pin the ID so later renames by a reviewer don't change it.
        doc.id = Some(id.clone());
        let item = serde_yaml::to_value(ItemOrder(&doc))
            .map_err(|e| ReviewError::Invalid(format!("`{at}` cannot be written: {e}")))?;
        check_strings(&item, &at, MAX_TEXT_CHARS).map_err(ReviewError::Invalid)?;
        let size = emit_block_item(&item, 2).len();
        if size > MAX_SCENARIO_BYTES {
            return Err(ReviewError::Invalid(format!(
                "`{at}` would be {size} bytes of YAML; a proposed scenario may take at most {MAX_SCENARIO_BYTES} (fewer or shorter given/then items, tags or example steps)"
            )));
        }
        new_ids.push(id);
        items.push(item);
    }

    Ok((new_ids, items))
}

/// Errors listed when proposals are refused.
const LISTED_ERRORS: usize = 20;

/// Every proposal checked against `spec` with `validate_scenario` (lints, duplicates,
/// contradictions): the checks when none has an error (their warnings are for the answer),
/// else the refusal naming each error, which writes nothing. The one gate before [`propose`]
/// for every tool that proposes (the specification server's propose_scenarios, the debugger
/// server's draft_hotfix).
pub fn validate_proposals(
    spec: &crate::model::Spec,
    domain: &str,
    scenarios: &[ProposedScenario],
    proposed_by: &str,
) -> Result<Vec<crate::analysis::validate::ScenarioCheck>, String> {
    let checks: Vec<_> = scenarios
        .iter()
        .map(|s| {
            crate::analysis::validate::validate_scenario(
                spec,
                &s.clone().into_doc(proposed_by),
                domain,
            )
        })
        .collect();
    let errors: Vec<String> = checks
        .iter()
        .flat_map(|c| {
            c.diagnostics
                .iter()
                .filter(|d| d.severity == crate::Severity::Error)
                .map(move |d| format!("{}: {}", c.id, d.message))
        })
        .collect();
    if errors.is_empty() {
        return Ok(checks);
    }
    let more = match errors.len().saturating_sub(LISTED_ERRORS) {
        0 => String::new(),
        n => format!("\n- … and {n} more (validate_scenario checks one at a time)"),
    };
    Err(format!(
        "nothing was written; fix these first:\n- {}{more}",
        errors[..errors.len().min(LISTED_ERRORS)].join("\n- ")
    ))
}

/// A person's decision on a proposed scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// The review fields `decide` may change, and nothing else.
const REVIEW_FIELDS: [&str; 4] = [
    "status",
    "reviewed_by",
    "reviewed_at",
    "approved_fingerprint",
];

/// Record a person's decision: sets `status`, `reviewed_by` and `reviewed_at` on that scenario
/// only, and on approval the fingerprint of the behaviour approved. `reviewer` must name a
/// person (the name is recorded, not authenticated). `shown` is the fingerprint of the scenario
/// as the person saw it ([`scenario_fingerprint`]): if the file now says something else, nothing
/// is written, so a decision never covers text the person did not see.
pub fn decide(
    root: &Path,
    scenario_id: &str,
    decision: Decision,
    reviewer: &str,
    at: &str,
    shown: Option<&str>,
) -> Result<(), ReviewError> {
    let reviewer = reviewer.trim();
    if reviewer.is_empty() || reviewer.eq_ignore_ascii_case("agent") {
        return Err(ReviewError::Invalid(
            "a decision must name the person who made it".into(),
        ));
    }
    for (field, value) in [("reviewer", reviewer), ("time", at)] {
        check_strings(&Value::String(value.to_string()), field, MAX_NAME_CHARS)
            .map_err(ReviewError::Invalid)?;
    }
    let _lock = SpecLock::acquire(root)?;
    let before = load_dir(root).map_err(|e| ReviewError::Invalid(e.to_string()))?;
    let scenario = before
        .spec
        .scenario(scenario_id)
        .ok_or_else(|| ReviewError::UnknownScenario(scenario_id.to_string()))?;
    let relative = scenario.location.file.clone();
    let path = root.join(&relative);
    let text = read_for_edit(&path)?;
    let (status, expected) = match decision {
        Decision::Approve => ("approved", ReviewStatus::Approved),
        Decision::Reject => ("rejected", ReviewStatus::Rejected),
    };
    let fingerprint = scenario_fingerprint(scenario);
    if let Some(shown) = shown {
        if shown != fingerprint {
            return Err(ReviewError::ChangedSinceShown(scenario_id.to_string()));
        }
    }
    if crate::gherkin::is_feature_file(&relative) {
        return Err(ReviewError::Invalid(gherkin_decision(
            scenario,
            decision,
            reviewer,
            at,
            &fingerprint,
        )));
    }
    let mut fields = vec![
        ("status", status.to_string()),
        ("reviewed_by", quoted(reviewer)),
        ("reviewed_at", quoted(at)),
    ];
    if decision == Decision::Approve {
        fields.push(("approved_fingerprint", quoted(&fingerprint)));
    }
    let new_text = keeping_line_endings(&text, |lf| {
        set_review_fields(lf, scenario.location.line, &fields)
    })?;

    let reject = |reason: String| ReviewError::EditRejected {
        file: relative.clone(),
        reason,
    };
    let old_value = parse_value(&text).map_err(|e| reject(e.to_string()))?;
    let new_value = parse_value(&new_text).map_err(|e| reject(e.to_string()))?;
    only_review_fields_changed(&old_value, &new_value).map_err(reject)?;
    let after = reload_with(root, &before, &relative, &new_text);
    no_new_errors(&before, &after).map_err(reject)?;
    same_scenarios_except(&before, &after, &[scenario_id]).map_err(reject)?;
    let decided = after
        .spec
        .scenario(scenario_id)
        .ok_or_else(|| reject(format!("`{scenario_id}` is gone after the edit")))?;
    let as_intended = decided.status == expected
        && decided.reviewed_by.as_deref() == Some(reviewer)
        && (decision == Decision::Reject
            || decided.approved_fingerprint.as_deref() == Some(fingerprint.as_str()));
    if !as_intended {
        return Err(reject(
            "the scenario's review fields did not change as intended".into(),
        ));
    }
    replace_file(&path, Some(&text), &new_text)?;
    Ok(())
}

/// What a person writes to record a decision on a scenario of a `.feature` file: this module
/// edits YAML only, and a Gherkin scenario's review fields are tags (see `gherkin.rs`).
fn gherkin_decision(
    scenario: &crate::model::Scenario,
    decision: Decision,
    reviewer: &str,
    at: &str,
    fingerprint: &str,
) -> String {
    let value = crate::gherkin::tag_value;
    let tags = match decision {
        Decision::Approve => format!(
            "@status:approved @approved_by:{} @reviewed_at:{} @fingerprint:{fingerprint}",
            value(reviewer),
            value(at)
        ),
        Decision::Reject => format!(
            "@status:rejected @reviewed_by:{} @reviewed_at:{}",
            value(reviewer),
            value(at)
        ),
    };
    format!(
        "scenario `{}` is written in the Gherkin file {}; `sdd review` edits only YAML files. \
         To record the decision, put these tags on the scenario (an outline row's \
         `@fingerprint:` may go on its Examples block): {tags}",
        scenario.id, scenario.location
    )
}

/// Edit `text` line-wise as LF text and give the result the file's own line endings back: a
/// file written with CRLF stays CRLF (line-based edits would otherwise strip every `\r`).
fn keeping_line_endings(
    text: &str,
    edit: impl FnOnce(&str) -> Result<String, ReviewError>,
) -> Result<String, ReviewError> {
    let crlf = text.contains("\r\n") && !text.replace("\r\n", "").contains('\n');
    if !crlf {
        return edit(text);
    }
    Ok(edit(&text.replace("\r\n", "\n"))?.replace('\n', "\r\n"))
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

fn parse_value(text: &str) -> Result<Value, serde_yaml::Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_yaml::from_str(text)
}

/// `value` with `items` appended to its top-level `key` list (created if missing).
fn append_to_list(value: &mut Value, key: &str, items: &[Value]) -> Result<(), String> {
    if value.is_null() {
        *value = Value::Mapping(serde_yaml::Mapping::new());
    }
    let Value::Mapping(map) = value else {
        return Err("the file's top level is not a mapping".into());
    };
    let list = map
        .entry(Value::String(key.to_string()))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if list.is_null() {
        *list = Value::Sequence(Vec::new());
    }
    let Value::Sequence(list) = list else {
        return Err(format!("`{key}` is not a list"));
    };
    list.extend(items.iter().cloned());
    Ok(())
}

/// The edit of a decision may change only review fields, and only of one list item.
fn only_review_fields_changed(old: &Value, new: &Value) -> Result<(), String> {
    let mut paths = Vec::new();
    differing_paths(old, new, &mut Vec::new(), &mut paths);
    let mut owner: Option<&[String]> = None;
    for path in &paths {
        let Some((last, parent)) = path.split_last() else {
            return Err("the whole document changed".into());
        };
        // The owner must be a list item (a scenario), not the document or a nested mapping.
        let in_list_item = parent.last().is_some_and(|p| p.parse::<usize>().is_ok());
        if !REVIEW_FIELDS.contains(&last.as_str()) || !in_list_item {
            return Err(format!("the edit would also change `{}`", path.join(".")));
        }
        match owner {
            None => owner = Some(parent),
            Some(o) if o == parent => {}
            Some(_) => return Err("the edit would change more than one scenario".into()),
        }
    }
    Ok(())
}

/// Paths (keys and indices) at which `a` and `b` differ.
fn differing_paths(a: &Value, b: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if out.len() > 64 {
        return;
    }
    match (a, b) {
        (Value::Mapping(x), Value::Mapping(y)) => {
            for (key, value) in x {
                at.push(key_name(key));
                match y.get(key) {
                    Some(other) => differing_paths(value, other, at, out),
                    None => out.push(at.clone()),
                }
                at.pop();
            }
            for key in y.keys().filter(|k| !x.contains_key(*k)) {
                at.push(key_name(key));
                out.push(at.clone());
                at.pop();
            }
        }
        (Value::Sequence(x), Value::Sequence(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                at.push(i.to_string());
                differing_paths(p, q, at, out);
                at.pop();
            }
        }
        _ if a == b => {}
        _ => out.push(at.clone()),
    }
}

fn key_name(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// The tree as it would load with `relative` replaced by `new_text`.
fn reload_with(root: &Path, before: &Loaded, relative: &str, new_text: &str) -> Loaded {
    let mut sources = Vec::new();
    let mut replaced = false;
    for file in &before.spec.files {
        if file.path == relative {
            sources.push((relative.to_string(), new_text.to_string()));
            replaced = true;
        } else if let Ok(text) = crate::limits::read_yaml_file(
            &root.join(&file.path),
            &crate::limits::Limits::from_env().0,
        ) {
            sources.push((file.path.clone(), text));
        }
    }
    if !replaced {
        sources.push((relative.to_string(), new_text.to_string()));
    }
    load_sources(&sources)
}

fn no_new_errors(before: &Loaded, after: &Loaded) -> Result<(), String> {
    let errors = |l: &Loaded| {
        l.diagnostics
            .iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .count()
    };
    if errors(after) <= errors(before) {
        return Ok(());
    }
    Err(after
        .diagnostics
        .iter()
        .find(|d| d.severity == crate::Severity::Error && !before.diagnostics.contains(d))
        .map(|d| d.headline())
        .unwrap_or_else(|| "new errors".into()))
}

/// Every scenario of `before` loads again with the same content and review state (its location
/// may move), except those in `changed`.
fn same_scenarios_except(before: &Loaded, after: &Loaded, changed: &[&str]) -> Result<(), String> {
    let view = |s: &Scenario| {
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(map) = v.as_object_mut() {
            map.remove("location");
        }
        v
    };
    // By ID: a duplicate must not take the place of the scenario that keeps the ID.
    let after_by_id: BTreeMap<&str, &Scenario> = after
        .spec
        .unique_scenarios()
        .map(|s| (s.id.as_str(), s))
        .collect();
    for old in before.spec.unique_scenarios() {
        let Some(new) = after_by_id.get(old.id.as_str()) else {
            return Err(format!("scenario `{}` would disappear", old.id));
        };
        if changed.contains(&old.id.as_str()) {
            let strip = |s: &Scenario| {
                let mut v = view(s);
                if let Some(map) = v.as_object_mut() {
                    for field in REVIEW_FIELDS {
                        map.remove(field);
                    }
                }
                v
            };
            if strip(old) != strip(new) {
                return Err(format!(
                    "scenario `{}` would change beyond its review",
                    old.id
                ));
            }
        } else if view(old) != view(new) {
            return Err(format!("scenario `{}` would change", old.id));
        }
    }
    Ok(())
}

/// `path` must resolve inside `root` (a symlinked directory could lead elsewhere).
fn ensure_inside(root: &Path, path: &Path, relative: &str) -> Result<(), ReviewError> {
    let real_root = root.canonicalize().map_err(|source| ReviewError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    // The deepest existing ancestor decides where the path really goes. It must be exactly
    // where the path says: a symlinked directory, even one inside the root, makes the same file
    // reachable under two names (and the loader read it twice).
    let mut probe = path.parent();
    while let Some(dir) = probe {
        if let Ok(real) = dir.canonicalize() {
            let literal = dir
                .strip_prefix(root)
                .map(|rest| real_root.join(rest))
                .unwrap_or_else(|_| dir.to_path_buf());
            if !real.starts_with(&real_root) {
                return Err(ReviewError::Invalid(format!(
                    "`{relative}` resolves outside the spec root; nothing was written"
                )));
            }
            if real != literal {
                return Err(ReviewError::Invalid(format!(
                    "`{relative}` goes through a symbolic link; give the path of the real directory"
                )));
            }
            return Ok(());
        }
        probe = dir.parent();
    }
    Ok(())
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
        if !d.examples.is_empty() {
            map.serialize_entry("examples", &d.examples)?;
        }
        map.end()
    }
}

/// Insert items at the end of the top-level `scenarios:` block (or add the block at the end).
/// Returns the new text and the key of the list it extended.
fn append_scenarios(text: &str, items: &[Value]) -> Result<(String, String), ReviewError> {
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
        for item in items {
            out.push_str(&emit_block_item(item, 2));
        }
        return Ok((out, "scenarios".into()));
    };
    let key = if lines[start].starts_with("new_scenarios:") {
        "new_scenarios"
    } else {
        "scenarios"
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
    let rendered: String = items.iter().map(|i| emit_block_item(i, indent)).collect();
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
    Ok((out, key.to_string()))
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
    // The loader skips hidden files and directories: a proposal written there would be
    // reported as written and never seen by anyone.
    if path.components().any(|c| {
        matches!(c, std::path::Component::Normal(n) if n.to_string_lossy().starts_with('.'))
            || matches!(c, std::path::Component::CurDir)
    }) {
        return Err(ReviewError::Invalid(format!(
            "`{relative}` has a hidden or `.` component; the loader skips hidden paths, give a plain path under the spec root"
        )));
    }
    if !crate::load::is_spec_file(path) || crate::gherkin::is_feature_file(relative) {
        return Err(ReviewError::Invalid(format!(
            "`{relative}` is not a .yaml/.yml file"
        )));
    }
    Ok(relative.replace('\\', "/"))
}

/// Current UTC time as RFC 3339 to the second (`2026-11-22T11:31:36Z`): the form of every time
/// SDD records (review decisions, runs, the service's start).
pub fn now_rfc3339() -> String {
    // A clock set before 1970 reads as the epoch: a recorded time informs, it never decides.
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    rfc3339(seconds)
}

/// Seconds since 1970-01-01 UTC as RFC 3339 to the second (`2026-11-22T11:31:36Z`). Outside
/// the years chrono represents (about ±262,000), which no clock reading reaches: the epoch.
pub fn rfc3339(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or(chrono::DateTime::UNIX_EPOCH)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# People wrote this. Keep me.\nfeature: Tasks   # trailing comment\n\nscenarios:\n    # indented comment\n    - name: Create\n      when: I create\n      then: it exists   # keep\n\n# a comment between blocks\nconstraints:\n  security:\n    - name: Auth\n      requirement: All endpoints require valid JWT token\n";

    fn doc(name: &str) -> ProposedScenario {
        serde_yaml::from_str(&format!(
            "name: {name}\nwhen: I do \"x\"\nthen: [It fails with \"y\"]\nrationale: because\n"
        ))
        .unwrap()
    }

    fn tree(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tasks.yaml"), text).unwrap();
        dir
    }

    fn read(dir: &tempfile::TempDir) -> String {
        std::fs::read_to_string(dir.path().join("tasks.yaml")).unwrap()
    }

    fn status(dir: &tempfile::TempDir, id: &str) -> Option<ReviewStatus> {
        load_dir(dir.path())
            .unwrap()
            .spec
            .scenario(id)
            .map(|s| s.status)
    }

    #[test]
    fn propose_appends_without_touching_other_lines_then_people_decide() {
        let dir = tree(FILE);
        let outcome = propose(
            dir.path(),
            "tasks",
            &[doc("Delete"), doc("Archive")],
            None,
            "agent",
        )
        .unwrap();
        assert_eq!(outcome.ids, vec!["tasks.delete", "tasks.archive"]);
        assert_eq!(outcome.file, "tasks.yaml");
        let text = read(&dir);
        // Every original line is still there, in order.
        let mut rest = text.as_str();
        for line in FILE.lines() {
            let at = rest
                .find(line)
                .unwrap_or_else(|| panic!("lost line {line:?} in\n{text}"));
            rest = &rest[at + line.len()..];
        }
        assert!(
            text.contains(
                "    - id: \"tasks.delete\"\n      name: \"Delete\"\n      status: \"proposed\"\n"
            ),
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
        assert_eq!(status(&dir, "tasks.delete"), Some(ReviewStatus::Proposed));
        assert_eq!(loaded.spec.constraints.len(), 1);

        decide(
            dir.path(),
            "tasks.delete",
            Decision::Approve,
            "Ada Lovelace",
            "2026-11-22T12:00:00Z",
            None,
        )
        .unwrap();
        decide(
            dir.path(),
            "tasks.archive",
            Decision::Reject,
            "Ada Lovelace",
            "2026-11-22T12:01:00Z",
            None,
        )
        .unwrap();
        let spec = load_dir(dir.path()).unwrap().spec;
        let approved = spec.scenario("tasks.delete").unwrap();
        assert_eq!(approved.status, ReviewStatus::Approved);
        assert_eq!(approved.reviewed_by.as_deref(), Some("Ada Lovelace"));
        assert!(approved
            .approved_fingerprint
            .as_deref()
            .is_some_and(|f| f.starts_with("sha256:")));
        assert_eq!(status(&dir, "tasks.archive"), Some(ReviewStatus::Rejected));
        assert_eq!(status(&dir, "tasks.create"), Some(ReviewStatus::Approved));
        let text = read(&dir);
        assert!(text.contains("feature: Tasks   # trailing comment\n"));
        assert!(
            text.contains("# a comment between blocks\nconstraints:"),
            "{text}"
        );
    }

    #[test]
    fn propose_refuses_bad_input_and_writes_nothing() {
        let dir = tree(FILE);
        let mut no_rationale = doc("X");
        no_rationale.rationale = " ".into();
        let too_many: Vec<_> = (0..MAX_PROPOSALS_PER_CALL + 1)
            .map(|i| doc(&format!("N{i}")))
            .collect();
        let mut huge = doc("Huge");
        huge.when = Some("x".repeat(1_000_000));
        let mut long_name = doc("L");
        long_name.name = "n".repeat(MAX_NAME_CHARS + 1);
        let cases: Vec<(&str, Vec<ProposedScenario>, Option<&str>, &str)> = vec![
            ("no rationale", vec![no_rationale], None, "rationale"),
            ("exists", vec![doc("Create")], None, "already exists"),
            (
                "outside",
                vec![doc("Y")],
                Some("../outside.yaml"),
                "outside",
            ),
            ("absolute", vec![doc("Y")], Some("/tmp/x.yaml"), "outside"),
            ("not yaml", vec![doc("Y")], Some("x.txt"), ".yaml"),
            ("too many", too_many, None, "at most"),
            ("huge", vec![huge], None, "at most"),
            ("long name", vec![long_name], None, "longer than"),
            ("twice", vec![doc("Z"), doc("Z")], None, "twice"),
        ];
        for (case, docs, file, expected) in cases {
            let err = propose(dir.path(), "tasks", &docs, file, "agent")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{case}: {err}");
            assert!(err.len() < 400, "{case}: the error echoes input: {err}");
            assert_eq!(read(&dir), FILE, "{case}");
        }
        assert!(decide(
            dir.path(),
            "tasks.create",
            Decision::Approve,
            "agent",
            "t",
            None
        )
        .is_err());
    }

    /// The forged approval: text after U+2028 became a second scenario without `status`.
    #[test]
    fn hostile_strings_cannot_add_a_scenario_or_an_approval() {
        let hostile = [
            "ok\nx\u{2028}- name: Injected\u{2028}  when: w\u{2028}  then: [approved]",
            "x\u{2029}- name: Injected",
            "x\u{85}- name: Injected",
            "x\r- name: Injected",
            "x\n    - name: Injected\n      then: [y]",
            "\u{202E}devorppa",
            "\u{FEFF}x",
        ];
        for text in hostile {
            let dir = tree(FILE);
            let mut tagged = doc("Tagged");
            tagged.tags = vec![text.into()];
            let mut in_then = doc("InThen");
            in_then.then = OneOrMany::Many(vec!["fine".into(), text.into()]);
            let mut in_name = doc("x");
            in_name.name = text.into();
            for candidate in [tagged, in_then, in_name] {
                let err = propose(dir.path(), "tasks", &[candidate], None, "agent")
                    .unwrap_err()
                    .to_string();
                assert!(err.contains("U+"), "{text:?}: {err}");
                assert_eq!(read(&dir), FILE, "{text:?}");
            }
        }
        // Characters a YAML parser reads as structure, but that are fine text, are written as
        // text and come back verbatim.
        let dir = tree(FILE);
        let tricky = "- name: Injected  # status: approved ' \" \\ {a: b} [c] &x *x !!str | > ---";
        let mut tagged = doc("Tricky");
        tagged.tags = vec![tricky.into()];
        tagged.when = Some(tricky.into());
        propose(dir.path(), "tasks", &[tagged], None, "agent").unwrap();
        let spec = load_dir(dir.path()).unwrap().spec;
        assert_eq!(spec.scenarios.len(), 2);
        let s = spec.scenario("tasks.tricky").unwrap();
        assert_eq!(s.tags, vec![tricky]);
        assert_eq!(s.when.as_deref(), Some(tricky));
        assert_eq!(s.status, ReviewStatus::Proposed);
    }

    /// Fuzz-style: strings drawn from an alphabet of YAML structure, quotes, separators and
    /// control characters, in every string field. Each proposal is either refused naming a
    /// character, or lands as exactly one `proposed` scenario whose strings come back verbatim.
    #[test]
    fn generated_hostile_strings_are_refused_or_round_trip() {
        const ALPHABET: &[&str] = &[
            "a",
            " ",
            "-",
            ":",
            "#",
            "'",
            "\"",
            "\\",
            "{",
            "}",
            "[",
            "]",
            "&",
            "*",
            "!",
            "|",
            ">",
            "%",
            "@",
            "`",
            ",",
            "?",
            "\n",
            "\r",
            "\t",
            "\u{0}",
            "\u{85}",
            "\u{2028}",
            "\u{2029}",
            "\u{feff}",
            "\u{202e}",
            "é",
            "日",
            "😀",
            "status: approved",
            "- name: X",
            "then: [y]",
            "---",
            "...",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let dir = tree(FILE);
        let mut landed = 1;
        for round in 0..150 {
            let mut text = String::new();
            for _ in 0..(next() % 12) {
                text.push_str(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
            }
            let mut p = doc(&format!("Fuzz {round}"));
            match next() % 4 {
                0 => p.tags = vec![text.clone()],
                1 => p.when = Some(text.clone()),
                2 => p.then = OneOrMany::Many(vec!["ok".into(), text.clone()]),
                _ => p.rationale = format!("r {text}"),
            }
            let before = read(&dir);
            match propose(dir.path(), "tasks", &[p.clone()], None, "agent") {
                Err(e) => {
                    let e = e.to_string();
                    assert!(
                        e.contains("U+") || e.contains("is empty"),
                        "{text:?}: unexpected refusal {e}"
                    );
                    assert_eq!(read(&dir), before, "{text:?}");
                }
                Ok(outcome) => {
                    landed += 1;
                    let spec = load_dir(dir.path()).unwrap().spec;
                    assert_eq!(spec.scenarios.len(), landed, "{text:?}");
                    let s = spec.scenario(&outcome.ids[0]).unwrap();
                    assert_eq!(s.status, ReviewStatus::Proposed);
                    assert_eq!(s.tags, p.tags, "{text:?}");
                    assert_eq!(s.when, p.when, "{text:?}");
                    assert_eq!(s.then, p.then.clone().into_vec(), "{text:?}");
                    assert_eq!(s.rationale.as_deref(), Some(p.rationale.as_str()));
                }
            }
        }
        assert!(
            landed > 10,
            "the generator should produce writable strings too"
        );
    }

    #[test]
    fn examples_are_written_with_the_proposal() {
        let dir = tree(FILE);
        let proposal: ProposedScenario = serde_yaml::from_str(
            "name: With example\nwhen: w\nthen: t\nrationale: r\nexamples:\n  - steps:\n      - request: {method: POST, path: /tasks, json: {title: \"a: b\"}}\n        expect: {status: 201, json: {title: \"a: b\"}}\n",
        )
        .unwrap();
        propose(
            dir.path(),
            "tasks",
            std::slice::from_ref(&proposal),
            None,
            "agent",
        )
        .unwrap();
        let spec = load_dir(dir.path()).unwrap().spec;
        assert_eq!(
            spec.scenario("tasks.with_example").unwrap().examples,
            proposal.examples
        );
    }

    #[test]
    fn gherkin_files_are_never_edited_and_say_which_tags_record_a_decision() {
        let dir = tempfile::tempdir().unwrap();
        let feature = "@domain:tasks\nFeature: Tasks\n  Scenario: Archive a task\n    When the owner archives it\n    Then it is hidden\n";
        let path = dir.path().join("tasks.feature");
        std::fs::write(&path, feature).unwrap();
        // Proposals for the domain go to YAML, never into the .feature file.
        let outcome = propose(dir.path(), "tasks", &[doc("Restore")], None, "agent").unwrap();
        assert_eq!(outcome.file, "proposals/tasks.yaml");
        let refused = propose(
            dir.path(),
            "tasks",
            &[doc("Other")],
            Some("tasks.feature"),
            "agent",
        );
        assert!(
            matches!(refused, Err(ReviewError::Invalid(_))),
            "{refused:?}"
        );
        // A decision is not written; the person is told the tags that record it.
        let Err(ReviewError::Invalid(message)) = decide(
            dir.path(),
            "tasks.archive_a_task",
            Decision::Approve,
            "Ada Lovelace",
            "2026-11-22T12:00:00Z",
            None,
        ) else {
            panic!("a .feature scenario cannot be decided by editing its file");
        };
        assert_eq!(std::fs::read_to_string(&path).unwrap(), feature);
        let tags = message.rsplit(": ").next().unwrap();
        assert!(
            tags.starts_with("@status:approved @approved_by:Ada_Lovelace"),
            "{message}"
        );
        // Those tags, written by the person, are an approval the loader accepts.
        std::fs::write(
            &path,
            feature.replace("  Scenario:", &format!("  {tags}\n  Scenario:")),
        )
        .unwrap();
        assert_eq!(
            status(&dir, "tasks.archive_a_task"),
            Some(ReviewStatus::Approved)
        );
    }

    #[test]
    fn an_approval_is_for_the_behaviour_approved() {
        let dir = tree(FILE);
        propose(dir.path(), "tasks", &[doc("Delete")], None, "agent").unwrap();
        decide(
            dir.path(),
            "tasks.delete",
            Decision::Approve,
            "Ada",
            "2026-11-22T12:00:00Z",
            None,
        )
        .unwrap();
        assert_eq!(status(&dir, "tasks.delete"), Some(ReviewStatus::Approved));

        // Renaming or retagging keeps the approval; weakening the outcome does not.
        let approved = read(&dir);
        std::fs::write(
            dir.path().join("tasks.yaml"),
            approved.replace("name: \"Delete\"", "name: \"Delete\"\n      tags: [x]"),
        )
        .unwrap();
        assert_eq!(status(&dir, "tasks.delete"), Some(ReviewStatus::Approved));
        std::fs::write(
            dir.path().join("tasks.yaml"),
            approved.replace("It fails with \\\"y\\\"", "It may fail"),
        )
        .unwrap();
        assert_ne!(read(&dir), approved);
        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(
            loaded.spec.scenario("tasks.delete").unwrap().status,
            ReviewStatus::ChangedSinceApproval
        );
        let warning = loaded
            .diagnostics
            .iter()
            .find(|d| d.code == "changed-since-approval")
            .expect("a warning says what happened");
        assert!(warning.message.contains("tasks.delete"), "{warning:?}");
        // A `status: approved` written without a fingerprint is not an approval either.
        std::fs::write(
            dir.path().join("tasks.yaml"),
            FILE.replace(
                "      then: it exists",
                "      status: approved\n      then: it exists",
            ),
        )
        .unwrap();
        assert_eq!(
            status(&dir, "tasks.create"),
            Some(ReviewStatus::ChangedSinceApproval)
        );
        // A person reviews it again: approved, with the new fingerprint.
        decide(
            dir.path(),
            "tasks.create",
            Decision::Approve,
            "Ada",
            "2026-11-22T12:05:00Z",
            None,
        )
        .unwrap();
        assert_eq!(status(&dir, "tasks.create"), Some(ReviewStatus::Approved));
    }

    /// Findings of the hostile review: each way to get an approval the person did not give.
    #[test]
    fn an_approval_covers_only_what_the_person_saw_under_its_own_id() {
        let dir = tree(FILE);
        propose(
            dir.path(),
            "tasks",
            &[doc("Delete"), doc("Archive")],
            None,
            "agent",
        )
        .unwrap();
        let shown = crate::approval::scenario_fingerprint(
            load_dir(dir.path())
                .unwrap()
                .spec
                .scenario("tasks.delete")
                .unwrap(),
        );
        // Edited between showing and the key press: nothing is recorded.
        let edited = read(&dir).replace("It fails with \\\"y\\\"", "It may fail");
        assert_ne!(edited, read(&dir));
        std::fs::write(dir.path().join("tasks.yaml"), &edited).unwrap();
        let err = decide(
            dir.path(),
            "tasks.delete",
            Decision::Approve,
            "Ada",
            "t",
            Some(&shown),
        )
        .unwrap_err();
        assert!(matches!(err, ReviewError::ChangedSinceShown(_)), "{err}");
        assert_eq!(read(&dir), edited);
        assert_eq!(status(&dir, "tasks.delete"), Some(ReviewStatus::Proposed));

        // Two approved scenarios swap names (and so IDs): neither is approved any more.
        decide(
            dir.path(),
            "tasks.delete",
            Decision::Approve,
            "Ada",
            "t",
            None,
        )
        .unwrap();
        decide(
            dir.path(),
            "tasks.archive",
            Decision::Approve,
            "Ada",
            "t",
            None,
        )
        .unwrap();
        let swapped = read(&dir)
            .replace("id: \"tasks.delete\"", "id: \"tasks.tmp\"")
            .replace("id: \"tasks.archive\"", "id: \"tasks.delete\"")
            .replace("id: \"tasks.tmp\"", "id: \"tasks.archive\"")
            .replace("name: \"Delete\"", "name: \"tmp\"")
            .replace("name: \"Archive\"", "name: \"Delete\"")
            .replace("name: \"tmp\"", "name: \"Archive\"");
        std::fs::write(dir.path().join("tasks.yaml"), &swapped).unwrap();
        // Each recorded fingerprint now sits under the other ID: neither approval carries over.
        for id in ["tasks.delete", "tasks.archive"] {
            assert_eq!(
                status(&dir, id),
                Some(ReviewStatus::ChangedSinceApproval),
                "{id}"
            );
        }

        // A proposal whose `status` line is deleted by hand is not an approval either.
        let dir = tree(FILE);
        propose(dir.path(), "tasks", &[doc("Purge")], None, "agent").unwrap();
        let unstated = read(&dir).replace("      status: \"proposed\"\n", "");
        assert_ne!(unstated, read(&dir));
        std::fs::write(dir.path().join("tasks.yaml"), unstated).unwrap();
        assert_eq!(
            status(&dir, "tasks.purge"),
            Some(ReviewStatus::ChangedSinceApproval)
        );
        assert_eq!(status(&dir, "tasks.create"), Some(ReviewStatus::Approved));
    }

    #[test]
    fn oversized_hidden_and_linked_targets_are_refused() {
        let dir = tree(FILE);
        let mut many = doc("Many");
        many.tags = vec!["t".repeat(3_999); 2_000];
        let err = propose(dir.path(), "tasks", &[many], None, "agent").unwrap_err();
        assert!(err.to_string().contains("bytes of YAML"), "{err}");
        for file in [".hidden.yaml", ".d/x.yaml", "./tasks.yaml"] {
            let err =
                propose(dir.path(), "tasks", &[doc("Hidden")], Some(file), "agent").unwrap_err();
            assert!(err.to_string().contains("hidden"), "{file}: {err}");
        }
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("inlink")).unwrap();
        let err = propose(
            dir.path(),
            "tasks",
            &[doc("Linked")],
            Some("inlink/y.yaml"),
            "agent",
        )
        .unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!dir.path().join("a/y.yaml").exists());
        assert_eq!(read(&dir), FILE);
        let mut invisible = doc("Invisible");
        invisible.then = OneOrMany::One("it\u{200B}fails".into());
        assert!(propose(dir.path(), "tasks", &[invisible], None, "agent").is_err());
    }

    #[test]
    fn a_decision_that_would_change_more_than_review_fields_writes_nothing() {
        // A flow-style item: inserting review lines after it would not be the intended edit.
        let text = "feature: Tasks\nscenarios:\n  - {name: Create, when: w, then: t, status: proposed, rationale: r}\n";
        let dir = tree(text);
        let err = decide(
            dir.path(),
            "tasks.create",
            Decision::Approve,
            "Ada",
            "t",
            None,
        )
        .unwrap_err();
        assert!(matches!(err, ReviewError::EditRejected { .. }), "{err}");
        assert_eq!(read(&dir), text);
    }

    #[test]
    fn only_review_fields_of_one_item_may_change() {
        let v = |t: &str| serde_yaml::from_str::<Value>(t).unwrap();
        let base = "s:\n  - {name: a, status: proposed}\n  - {name: b, status: proposed}\n";
        let table = [
            ("s:\n  - {name: a, status: approved, reviewed_by: x}\n  - {name: b, status: proposed}\n", true),
            ("s:\n  - {name: a, status: proposed}\n  - {name: b, status: approved, approved_fingerprint: f}\n", true),
            ("s:\n  - {name: a, status: approved}\n  - {name: b, status: approved}\n", false),
            ("s:\n  - {name: c, status: approved}\n  - {name: b, status: proposed}\n", false),
            ("s:\n  - {name: a, status: proposed}\n  - {name: b, status: proposed}\n  - {name: c}\n", false),
            ("s:\n  - {name: a, status: proposed}\n  - {name: b, status: proposed}\nstatus: approved\n", false),
            (base, true),
        ];
        for (after, allowed) in table {
            assert_eq!(
                only_review_fields_changed(&v(base), &v(after)).is_ok(),
                allowed,
                "{after}"
            );
        }
    }

    #[test]
    fn read_only_and_symlinked_spec_files_are_not_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tree(FILE);
        let path = dir.path().join("tasks.yaml");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = propose(dir.path(), "tasks", &[doc("D")], None, "agent").unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        assert_eq!(read(&dir), FILE);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o444
        );
    }

    #[test]
    fn parallel_proposals_and_decisions_lose_nothing() {
        let dir = tree(FILE);
        let root = dir.path().to_path_buf();
        std::thread::scope(|scope| {
            for i in 0..40 {
                let root = root.clone();
                scope.spawn(move || {
                    propose(&root, "tasks", &[doc(&format!("P{i}"))], None, "agent").unwrap();
                });
            }
        });
        std::thread::scope(|scope| {
            for i in 0..40 {
                let root = root.clone();
                scope.spawn(move || {
                    if i % 2 == 0 {
                        decide(
                            &root,
                            &format!("tasks.p{i}"),
                            Decision::Approve,
                            "Ada",
                            "t",
                            None,
                        )
                        .unwrap();
                    } else {
                        propose(&root, "tasks", &[doc(&format!("Q{i}"))], None, "agent").unwrap();
                    }
                });
            }
        });
        let loaded = load_dir(&root).unwrap();
        assert!(
            loaded
                .diagnostics
                .iter()
                .all(|d| d.severity != crate::Severity::Error),
            "{:#?}",
            loaded.diagnostics
        );
        for i in 0..40 {
            let expected = if i % 2 == 0 {
                ReviewStatus::Approved
            } else {
                ReviewStatus::Proposed
            };
            assert_eq!(status(&dir, &format!("tasks.p{i}")), Some(expected), "p{i}");
            if i % 2 == 1 {
                assert_eq!(
                    status(&dir, &format!("tasks.q{i}")),
                    Some(ReviewStatus::Proposed)
                );
            }
        }
        assert_eq!(loaded.spec.scenarios.len(), 1 + 40 + 20);
    }

    /// A FIFO in the tree and a byte-order mark in the target: the write neither hangs on the
    /// FIFO (the re-load reads only regular files) nor refuses the BOM file.
    #[test]
    fn a_fifo_in_the_tree_and_a_bom_in_the_file_do_not_stop_a_proposal() {
        let dir = tree(&format!("\u{feff}{FILE}"));
        let fifo = dir.path().join("pipe.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let root = dir.path().to_path_buf();
        let (done, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ =
                done.send(propose(&root, "tasks", &[doc("Delete")], None, "agent").map(|o| o.file));
        });
        let written = wait
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("propose hung on the FIFO");
        assert_eq!(written.unwrap(), "tasks.yaml");
        assert!(read(&dir).starts_with('\u{feff}'));
        assert_eq!(status(&dir, "tasks.delete"), Some(ReviewStatus::Proposed));
    }

    #[test]
    fn a_crlf_file_keeps_its_line_endings() {
        let crlf = FILE.replace('\n', "\r\n");
        let dir = tree(&crlf);
        propose(dir.path(), "tasks", &[doc("Delete")], None, "agent").unwrap();
        decide(
            dir.path(),
            "tasks.delete",
            Decision::Approve,
            "Ada",
            "t",
            None,
        )
        .unwrap();
        let text = read(&dir);
        assert!(!text.replace("\r\n", "").contains('\n'), "{text:?}");
        for line in crlf.split_inclusive("\r\n") {
            assert!(text.contains(line), "lost {line:?}");
        }
        assert_eq!(status(&dir, "tasks.delete"), Some(ReviewStatus::Approved));
    }

    #[test]
    fn new_domain_gets_a_proposals_file() {
        let dir = tempfile::tempdir().unwrap();
        let outcome = propose(dir.path(), "billing", &[doc("Charge")], None, "agent").unwrap();
        assert!(outcome.created);
        assert_eq!(outcome.file, "proposals/billing.yaml");
        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(
            loaded.spec.scenario("billing.charge").unwrap().status,
            ReviewStatus::Proposed
        );
    }

    #[test]
    fn rfc3339_writes_known_instants() {
        for (seconds, text) in [
            (0, "1970-01-01T00:00:00Z"),
            (1_795_378_503, "2026-11-22T20:15:03Z"),
            (-1, "1969-12-31T23:59:59Z"),
            // Leap days: a year divisible by 400 has one, a year divisible by 100 only not.
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_709_251_199, "2024-02-29T23:59:59Z"),
            (4_107_542_400 - 86_400, "2100-02-28T00:00:00Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(seconds), text, "{seconds}");
            let parsed = chrono::DateTime::parse_from_rfc3339(text).expect(text);
            assert_eq!(parsed.timestamp(), seconds, "{text}");
            assert_eq!(rfc3339(parsed.timestamp()), text);
        }
        assert_eq!(rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn now_is_the_clock_to_the_second() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let now = now_rfc3339();
        let after = before + 2;
        assert_eq!(now.len(), "2026-11-22T11:31:36Z".len(), "{now}");
        let read = chrono::DateTime::parse_from_rfc3339(&now)
            .expect(&now)
            .timestamp();
        assert!((before..=after).contains(&read), "{now}");
    }
}
