//! What-if: a proposed spec change (one scenario, one constraint, or a whole spec file, as
//! YAML) applied to the spec in memory, never on disk, and what it would change: impact,
//! the headroom of the constraints it tightens from current metrics, and the alert rules and
//! dashboard panels generated from the spec.
//!
//! The would-be spec is built the way the loader builds any spec from texts
//! (`sdd_spec::load_sources`): the current files' texts, with the one file the change lands in
//! edited as a YAML value (or a new file holding the change). The comparisons are pure; only
//! the headroom asks the metric source.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use sdd_monitoring::dashboard::{Dashboard, PanelSummary};
use sdd_monitoring::headroom::{constraint_headroom, ConstraintHeadroom, Watch};
use sdd_monitoring::rules::{AlertRules, Rule, RuleKind};
use sdd_spec::diagnostic::Diagnostic;
use sdd_spec::ids;
use sdd_spec::limits::Limits;
use sdd_spec::model::Spec;
use sdd_spec::verdict::Verdict;

/// The current spec files' texts, in path order (the loader's order: the first of two
/// duplicate IDs keeps it). Files the loader listed, and files only its diagnostics name (a
/// file that did not parse still counts in the would-be spec's diagnostics).
pub fn current_sources(
    specs_root: &Path,
    spec: &Spec,
    diagnostics: &[Diagnostic],
) -> Result<Vec<(String, String)>, String> {
    let mut paths: Vec<&str> = spec.files.iter().map(|f| f.path.as_str()).collect();
    paths.extend(
        diagnostics
            .iter()
            .filter_map(|d| d.file.as_deref())
            .filter(|f| sdd_spec::load::is_spec_file(Path::new(f))),
    );
    paths.sort_unstable();
    paths.dedup();
    let limits = Limits::from_env().0;
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let Some(full) = sdd_spec::project::confine(specs_root, path) else {
            continue;
        };
        match sdd_spec::limits::read_yaml_file(&full, &limits) {
            Ok(text) => sources.push((path.to_string(), text)),
            // Gone since the load, or unreadable: the loader said so already.
            Err(_) => continue,
        }
    }
    Ok(sources)
}

/// What a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Scenario,
    Constraint,
    /// A whole spec file.
    Document,
}

/// Hints for reading a change that does not say everything itself.
#[derive(Debug, Clone, Default)]
pub struct ChangeHints {
    /// The domain of a scenario or constraint (default: its ID's first part).
    pub domain: Option<String>,
    /// The category of a new constraint (default: the existing one's, or its ID's middle part).
    pub category: Option<String>,
    /// A whole document: the spec file it replaces or adds (relative to the spec root).
    pub file: Option<String>,
}

/// Where the change landed in the would-be spec.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AppliedChange {
    pub kind: ChangeKind,
    /// `edit` of an existing element or file, or `new`.
    pub action: String,
    /// The spec file (relative to the spec root) as edited or added in memory.
    pub file: String,
    /// The scenario's or constraint's ID (none for a whole document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// The spec files' texts with the change applied.
pub struct WouldBe {
    pub sources: Vec<(String, String)>,
    pub applied: AppliedChange,
}

/// Keys that make a mapping a whole spec file.
const DOCUMENT_MARKERS: [&str; 10] = [
    "feature",
    "system",
    "domain",
    "interaction",
    "observability",
    "degradation_detection",
    "chaos_scenarios",
    "scenarios",
    "constraints",
    "global_constraints",
];

/// The change's YAML, parsed within the loader's limits (size, alias expansion, nesting,
/// checked before serde_yaml reads it).
pub fn parse_change(text: &str, limits: &Limits) -> Result<Value, String> {
    let text = sdd_spec::limits::strip_bom(text);
    if text.len() as u64 > limits.max_file_bytes {
        return Err(format!(
            "`change` is {} bytes; a spec file may take at most {}",
            text.len(),
            limits.max_file_bytes
        ));
    }
    if let Err(e) = sdd_spec::positions::PositionIndex::build_checked(text, limits) {
        return Err(format!(
            "`change` at line {}, column {}: {} ({})",
            e.line, e.column, e.message, e.help
        ));
    }
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(map)) => Ok(Value::Mapping(map)),
        Ok(Value::Null) => Err("`change` is empty: give one scenario, one constraint or a whole spec file as YAML".into()),
        Ok(_) => Err("`change` must be a YAML mapping: one scenario (`name`, `when`, `then`), one constraint (`name`, `requirement`) or a whole spec file (`feature:` …)".into()),
        Err(e) => Err(format!("`change` is not valid YAML: {e}")),
    }
}

/// What the change is, from its keys.
pub fn change_kind(change: &Value) -> Result<ChangeKind, String> {
    let has = |key: &str| change.get(key).is_some();
    if DOCUMENT_MARKERS.iter().any(|k| has(k)) {
        Ok(ChangeKind::Document)
    } else if ["given", "when", "then", "examples"].iter().any(|k| has(k)) {
        Ok(ChangeKind::Scenario)
    } else if ["requirement", "check"].iter().any(|k| has(k)) {
        Ok(ChangeKind::Constraint)
    } else {
        Err("cannot tell what `change` is: a scenario has `when` / `then`, a constraint `requirement` (or `check`), a spec file `feature:`, `domain:`, `system:` or `interaction:`".into())
    }
}

/// Apply `change` to `sources` (the current spec's texts; `current` is what they load as).
pub fn apply_change(
    mut sources: Vec<(String, String)>,
    current: &Spec,
    change: &Value,
    hints: &ChangeHints,
) -> Result<WouldBe, String> {
    let kind = change_kind(change)?;
    if kind == ChangeKind::Document {
        let text = serde_yaml::to_string(change).map_err(|e| format!("`change`: {e}"))?;
        let file = match &hints.file {
            Some(file) => checked_file(file)?,
            None => "(what-if).yaml".to_string(),
        };
        let action = match sources.iter_mut().find(|(path, _)| *path == file) {
            Some((_, old)) => {
                *old = text;
                "edit"
            }
            None => {
                sources.push((file.clone(), text));
                "new"
            }
        };
        sources.sort_by(|a, b| a.0.cmp(&b.0));
        return Ok(WouldBe {
            sources,
            applied: AppliedChange {
                kind,
                action: action.into(),
                file,
                id: None,
            },
        });
    }
    let text_field = |key: &str| change.get(key).and_then(Value::as_str).map(str::to_string);
    let explicit = text_field("id");
    let name = text_field("name")
        .ok_or("`change` has no `name`: every scenario and constraint needs one")?;
    let domain = match (&hints.domain, &explicit) {
        (Some(d), _) => d.clone(),
        (None, Some(id)) if id.contains('.') => id.split('.').next().unwrap_or_default().to_string(),
        _ => {
            return Err(
                "give `domain` (or an `id` such as `tasks.complete_a_task`): the change does not say which domain it belongs to".into(),
            )
        }
    };
    if ids::slug(&domain) != domain {
        return Err(format!(
            "`domain` `{domain}` is not a domain name (snake_case); see list_domains"
        ));
    }
    let (id, existing) = match kind {
        ChangeKind::Scenario => {
            let id = explicit.unwrap_or_else(|| ids::derived_scenario_id(&domain, &name));
            let at = current.scenario(&id).map(|s| s.location.clone());
            (id, at.map(|l| (l, None)))
        }
        _ => {
            let existing_by_id = explicit.as_deref().and_then(|id| current.constraint(id));
            let category = match (&hints.category, existing_by_id, &explicit) {
                (Some(c), _, _) => c.clone(),
                (None, Some(c), _) => c.category.clone(),
                (None, None, Some(id)) if id.split('.').count() >= 3 => {
                    id.split('.').nth(1).unwrap_or_default().to_string()
                }
                _ => {
                    // The derived ID needs the category: an existing constraint of this name
                    // in the domain tells it.
                    let same_name: Vec<_> = current
                        .constraints
                        .iter()
                        .filter(|c| c.name == name && c.scope.name() == domain)
                        .collect();
                    match same_name.as_slice() {
                        [one] => one.category.clone(),
                        _ => return Err("give `category` (`performance`, `security`, `reliability`, …): a new constraint is filed under one".into()),
                    }
                }
            };
            let id =
                explicit.unwrap_or_else(|| ids::derived_constraint_id(&domain, &category, &name));
            let at = current.constraint(&id).map(|c| c.location.clone());
            (id, at.map(|l| (l, Some(category))))
        }
    };
    let applied = |action: &str, file: String| AppliedChange {
        kind,
        action: action.into(),
        file,
        id: Some(id.clone()),
    };
    match existing {
        Some((location, _)) => {
            if sdd_spec::gherkin::is_feature_file(&location.file) {
                return Err(format!(
                    "`{id}` is written in the Gherkin file `{}`; what_if edits YAML: give the whole file's change as a `.feature` edit by hand, or propose the scenario anew",
                    location.file
                ));
            }
            let Some((_, text)) = sources.iter_mut().find(|(p, _)| *p == location.file) else {
                return Err(format!(
                    "`{}` could not be read again; try once more",
                    location.file
                ));
            };
            let mut value: Value = serde_yaml::from_str(text).map_err(|e| {
                format!("`{}` does not parse now ({e}); fix it first", location.file)
            })?;
            let slot = value_at(&mut value, &location.path).ok_or_else(|| {
                format!(
                    "`{id}` could not be found at `{}` in `{}`; edit the file by hand",
                    location.path, location.file
                )
            })?;
            *slot = change.clone();
            *text = serde_yaml::to_string(&value).map_err(|e| format!("`{id}`: {e}"))?;
            Ok(WouldBe {
                applied: applied("edit", location.file.clone()),
                sources,
            })
        }
        None => {
            let item = serde_yaml::to_string(&Value::Sequence(vec![change.clone()]))
                .map_err(|e| format!("`change`: {e}"))?;
            let indented = |by: &str| {
                item.lines()
                    .map(|l| format!("{by}{l}\n"))
                    .collect::<String>()
            };
            let text = match kind {
                ChangeKind::Scenario => format!("domain: {domain}\nscenarios:\n{}", indented("  ")),
                _ => {
                    let category = hints
                        .category
                        .clone()
                        .or_else(|| id.split('.').nth(1).map(str::to_string))
                        .unwrap_or_default();
                    format!(
                        "domain: {domain}\nconstraints:\n  {}:\n{}",
                        serde_json::to_string(&category).unwrap_or_default(),
                        indented("    ")
                    )
                }
            };
            let file = format!("(what-if)/{domain}.yaml");
            sources.push((file.clone(), text));
            Ok(WouldBe {
                sources,
                applied: applied("new", file),
            })
        }
    }
}

/// A spec file named by the caller: relative, inside the spec root, YAML.
fn checked_file(file: &str) -> Result<String, String> {
    let path = Path::new(file);
    let inside = !path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside {
        return Err(format!(
            "`file` `{file}` is outside the spec root; give a path relative to it without `..`"
        ));
    }
    if !(file.ends_with(".yaml") || file.ends_with(".yml")) {
        return Err(format!(
            "`file` `{file}` must name a `.yaml` or `.yml` spec file"
        ));
    }
    Ok(file.to_string())
}

/// The value at a loader field path (`scenarios[2]`, `constraints.performance[0]`).
fn value_at<'v>(value: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut here = value;
    for segment in path.split('.') {
        let (key, indices) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            here = here.get_mut(key)?;
        }
        for index in indices.split('[').filter(|s| !s.is_empty()) {
            let i: usize = index.strip_suffix(']')?.parse().ok()?;
            here = here.get_mut(i)?;
        }
    }
    Some(here)
}

// ---------------------------------------------------------------------------------------------
// What the generated monitoring would change.

/// `added`, `removed` or `changed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Difference {
    Added,
    Removed,
    Changed,
}

/// One generated rule that would appear, go, or read differently.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RuleChange {
    pub change: Difference,
    pub kind: RuleKind,
    /// The alert's name or the recorded series.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr_after: Option<String>,
    /// `for:` before and after, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_after: Option<String>,
}

/// A rule's identity as Prometheus sees it: kind (alert or not), name and labels.
fn rule_key(r: &Rule) -> (bool, String, Vec<(String, String)>) {
    let mut labels = r.labels.clone();
    labels.sort();
    (r.kind == RuleKind::Alert, r.name.clone(), labels)
}

/// Rules added, removed and changed (expression or `for:`) between two generated files.
pub fn diff_rules(old: &AlertRules, new: &AlertRules) -> Vec<RuleChange> {
    let before: BTreeMap<_, &Rule> = old.rules().map(|r| (rule_key(r), r)).collect();
    let after: BTreeMap<_, &Rule> = new.rules().map(|r| (rule_key(r), r)).collect();
    let row = |change, r: &Rule, before: Option<&Rule>, after: Option<&Rule>| {
        let hold_changed = before.map(|b| &b.hold) != after.map(|a| &a.hold);
        RuleChange {
            change,
            kind: r.kind,
            name: r.name.clone(),
            constraint: r.label("constraint").map(str::to_string),
            severity: r.label("severity").map(str::to_string),
            expr_before: before.map(|b| b.expr.clone()),
            expr_after: after.map(|a| a.expr.clone()),
            for_before: before.and_then(|b| b.hold.clone()).filter(|_| hold_changed),
            for_after: after.and_then(|a| a.hold.clone()).filter(|_| hold_changed),
        }
    };
    let mut out = Vec::new();
    for (key, r) in &before {
        match after.get(key) {
            None => out.push(row(Difference::Removed, r, Some(r), None)),
            Some(a) if a.expr != r.expr || a.hold != r.hold => {
                out.push(row(Difference::Changed, a, Some(r), Some(a)))
            }
            Some(_) => {}
        }
    }
    for (key, a) in &after {
        if !before.contains_key(key) {
            out.push(row(Difference::Added, a, None, Some(a)));
        }
    }
    out
}

/// One dashboard panel that would appear, go, or query differently.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PanelChange {
    pub change: Difference,
    pub row: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries_before: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries_after: Vec<String>,
}

/// Panels added, removed and changed (queries) between two generated dashboards, by row and
/// title.
pub fn diff_panels(old: &Dashboard, new: &Dashboard) -> Vec<PanelChange> {
    let by_title = |d: &'_ Dashboard| -> BTreeMap<(String, String), Vec<String>> {
        let mut map = BTreeMap::new();
        for PanelSummary {
            row,
            title,
            queries,
        } in &d.panels
        {
            map.entry((row.clone(), title.clone()))
                .or_insert_with(Vec::new)
                .extend(queries.iter().cloned());
        }
        map
    };
    let (before, after) = (by_title(old), by_title(new));
    let mut out = Vec::new();
    for ((row, title), queries) in &before {
        match after.get(&(row.clone(), title.clone())) {
            None => out.push(PanelChange {
                change: Difference::Removed,
                row: row.clone(),
                title: title.clone(),
                queries_before: queries.clone(),
                queries_after: Vec::new(),
            }),
            Some(now) if now != queries => out.push(PanelChange {
                change: Difference::Changed,
                row: row.clone(),
                title: title.clone(),
                queries_before: queries.clone(),
                queries_after: now.clone(),
            }),
            Some(_) => {}
        }
    }
    for ((row, title), queries) in &after {
        if !before.contains_key(&(row.clone(), title.clone())) {
            out.push(PanelChange {
                change: Difference::Added,
                row: row.clone(),
                title: title.clone(),
                queries_before: Vec::new(),
                queries_after: queries.clone(),
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Headroom before and after.

/// A changed or added constraint judged on today's metrics with its old and its new bound.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HeadroomShift {
    pub constraint: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement_after: Option<String>,
    /// In one line: what the new bound does to today's headroom, or why it was not measured.
    pub summary: String,
    /// The measured value today (the same for both bounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_before: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_after: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom_before_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom_after_percent: Option<f64>,
    /// Today's verdict under the current bound (absent for a new constraint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_before: Option<Verdict>,
    /// Today's verdict under the proposed bound. `unchecked` when no metric answers: never
    /// read that as a pass.
    pub status_after: Verdict,
    /// The proposed bound fails on today's metrics where the current one does not.
    pub would_be_violated_now: bool,
    /// The PromQL behind the value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<String>,
}

/// Judge every added or changed constraint on the metrics with its old and new bound. A source
/// that does not answer makes every row `unchecked` with the source's error: nothing passes
/// on data that was not there.
pub async fn headroom_shifts(
    watch: &Watch<'_>,
    old: &Spec,
    new: &Spec,
    ids: &[String],
) -> Vec<HeadroomShift> {
    let mut out = Vec::new();
    for id in ids {
        let Some(after_c) = new.constraint(id) else {
            continue;
        };
        let before_c = old.constraint(id);
        let judge = |c| async move {
            match constraint_headroom(watch, &[c]).await {
                Ok(mut rows) if !rows.is_empty() => Ok(rows.remove(0)),
                Ok(_) => Err("no answer".to_string()),
                Err(e) => Err(e.to_string()),
            }
        };
        let after = judge(after_c).await;
        let before = match before_c {
            Some(c) => Some(judge(c).await),
            None => None,
        };
        out.push(shift(
            id,
            &after_c.name,
            before_c.and_then(|c| c.requirement.clone()),
            after_c.requirement.clone(),
            before,
            after,
        ));
    }
    out
}

/// The row for one constraint from its two judgements (pure: the table tests feed it).
pub fn shift(
    id: &str,
    name: &str,
    requirement_before: Option<String>,
    requirement_after: Option<String>,
    before: Option<Result<ConstraintHeadroom, String>>,
    after: Result<ConstraintHeadroom, String>,
) -> HeadroomShift {
    let mut row = HeadroomShift {
        constraint: id.to_string(),
        name: name.to_string(),
        requirement_before,
        requirement_after,
        summary: String::new(),
        value: None,
        unit: None,
        limit_before: None,
        limit_after: None,
        headroom_before_percent: None,
        headroom_after_percent: None,
        status_before: None,
        status_after: Verdict::Unchecked,
        would_be_violated_now: false,
        queries: Vec::new(),
    };
    let after = match after {
        Ok(after) => after,
        Err(e) => {
            row.summary = format!("not reached: the metric source did not answer ({e}); nothing is known of today's headroom");
            return row;
        }
    };
    row.status_after = after.status;
    row.value = after.value;
    row.unit = after.unit.clone();
    row.limit_after = after.limit;
    row.headroom_after_percent = after.headroom_percent;
    row.queries = after.measured_by.iter().map(|m| m.query.clone()).collect();
    if let Some(Ok(before)) = &before {
        row.status_before = Some(before.status);
        row.limit_before = before.limit;
        row.headroom_before_percent = before.headroom_percent;
    }
    if after.status == Verdict::Unchecked {
        row.summary = format!("not reached: {}", after.summary);
        return row;
    }
    row.would_be_violated_now =
        after.status == Verdict::Failing && row.status_before.is_none_or(|s| s != Verdict::Failing);
    let percent = |p: Option<f64>| p.map(|p| format!("{p:.1} %")).unwrap_or("unknown".into());
    row.summary = match (&before, row.would_be_violated_now) {
        (_, true) => format!(
            "WOULD BE VIOLATED NOW: {} (headroom {} → {})",
            after.summary,
            percent(row.headroom_before_percent),
            percent(row.headroom_after_percent)
        ),
        (None, false) => format!("new constraint, today: {}", after.summary),
        (Some(Err(e)), false) => format!(
            "the current bound could not be judged ({e}); with the new one: {}",
            after.summary
        ),
        (Some(Ok(_)), false) => match (row.headroom_before_percent, row.headroom_after_percent) {
            (Some(b), Some(a)) if a < b - 0.05 => format!(
                "eats {:.1} points of headroom: {} → {} ({})",
                b - a,
                percent(Some(b)),
                percent(Some(a)),
                after.summary
            ),
            (Some(b), Some(a)) if a > b + 0.05 => format!(
                "frees {:.1} points of headroom: {} → {} ({})",
                a - b,
                percent(Some(b)),
                percent(Some(a)),
                after.summary
            ),
            _ => format!("headroom unchanged: {}", after.summary),
        },
    };
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdd_monitoring::rules::{alert_rules, Setting};

    const TASKS: &str = "feature: Tasks\nconstraints:\n  performance:\n    - name: Reads\n      requirement: p95 latency < 100ms for all read operations\n  reliability:\n    - name: Errors\n      requirement: Error rate < 1%\nscenarios:\n  - name: Complete a task\n    when: I complete it\n    then: It is completed\n";

    fn sources() -> Vec<(String, String)> {
        vec![("tasks.yaml".into(), TASKS.into())]
    }

    fn would_be(change: &str, hints: ChangeHints) -> Result<(Spec, Spec, AppliedChange), String> {
        let current = sdd_spec::load_sources(&sources()).spec;
        let value = parse_change(change, &Limits::default())?;
        let w = apply_change(sources(), &current, &value, &hints)?;
        let new = sdd_spec::load_sources(&w.sources);
        assert!(
            new.diagnostics
                .iter()
                .all(|d| d.severity != sdd_spec::Severity::Error),
            "{:?}",
            new.diagnostics
        );
        Ok((current, new.spec, w.applied))
    }

    #[test]
    fn an_edit_replaces_the_element_in_its_file_and_a_new_one_joins_its_domain() {
        let (old, new, applied) = would_be(
            "name: Complete a task\nwhen: I complete it\nthen: [It is completed, It has a completion time]\n",
            ChangeHints { domain: Some("tasks".into()), ..Default::default() },
        )
        .unwrap();
        assert_eq!(applied.action, "edit");
        assert_eq!(applied.file, "tasks.yaml");
        let impact = sdd_spec::analysis::impact::compare(&old, &new);
        assert_eq!(impact.scenarios.changed[0].id, "tasks.complete_a_task");
        assert_eq!(impact.scenarios.changed[0].fields, vec!["then".to_string()]);

        let (old, new, applied) = would_be(
            "id: tasks.performance.reads\nname: Reads\nrequirement: p95 latency < 50ms for all read operations\n",
            ChangeHints::default(),
        )
        .unwrap();
        assert_eq!(
            (applied.action.as_str(), applied.id.as_deref()),
            ("edit", Some("tasks.performance.reads"))
        );
        let impact = sdd_spec::analysis::impact::compare(&old, &new);
        assert_eq!(impact.constraints.changed[0].id, "tasks.performance.reads");

        let (old, new, applied) = would_be(
            "name: Writes\nrequirement: p99 latency < 200ms for create operations\n",
            ChangeHints {
                domain: Some("tasks".into()),
                category: Some("performance".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(applied.action, "new");
        let impact = sdd_spec::analysis::impact::compare(&old, &new);
        assert_eq!(
            impact.constraints.added,
            vec!["tasks.performance.writes".to_string()]
        );
        assert_eq!(
            new.constraint("tasks.performance.writes").unwrap().category,
            "performance"
        );

        // A whole document replaces the file it names.
        let (old, new, applied) = would_be(
            &TASKS.replace("Error rate < 1%", "Error rate < 0.1%"),
            ChangeHints {
                file: Some("tasks.yaml".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            (applied.kind, applied.action.as_str()),
            (ChangeKind::Document, "edit")
        );
        let impact = sdd_spec::analysis::impact::compare(&old, &new);
        assert_eq!(impact.constraints.changed[0].id, "tasks.reliability.errors");
    }

    #[test]
    fn changes_that_cannot_be_placed_say_what_is_missing() {
        let table: [(&str, ChangeHints, &str); 8] = [
            ("", ChangeHints::default(), "is empty"),
            ("- name: x\n", ChangeHints::default(), "must be a YAML mapping"),
            ("name: x\ncolour: blue\n", ChangeHints::default(), "cannot tell what"),
            ("when: x\nthen: y\n", ChangeHints::default(), "no `name`"),
            ("name: x\nwhen: x\nthen: y\n", ChangeHints::default(), "give `domain`"),
            ("name: New\nrequirement: p95 latency < 1s\n", ChangeHints { domain: Some("tasks".into()), ..Default::default() }, "give `category`"),
            ("feature: X\n", ChangeHints { file: Some("../x.yaml".into()), ..Default::default() }, "outside the spec root"),
            ("a: [{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{]\n", ChangeHints::default(), "line 1"),
        ];
        for (change, hints, needle) in table {
            let err = would_be(change, hints)
                .err()
                .unwrap_or_else(|| panic!("{change} placed"));
            assert!(err.contains(needle), "{change:?}: {err}");
        }
        // An alias bomb is refused before serde_yaml expands it.
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            bomb.push_str(&format!(
                "{}: &{} [*{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}]\n",
                (b'a' + i) as char,
                (b'a' + i) as char,
                (b'a' + i - 1) as char,
                (b'a' + i - 1) as char,
                (b'a' + i - 1) as char,
                (b'a' + i - 1) as char,
                (b'a' + i - 1) as char,
                (b'a' + i - 1) as char,
                (b'a' + i - 1) as char,
                (b'a' + i - 1) as char,
                (b'a' + i - 1) as char,
                (b'a' + i - 1) as char
            ));
        }
        assert!(parse_change(&bomb, &Limits::default()).is_err());
    }

    fn setting_rules(spec: &Spec) -> AlertRules {
        let project = sdd_spec::project::parse_project_file("{}").unwrap();
        let setting = Setting::new(&project, spec).unwrap();
        let constraints: Vec<_> = spec.constraints.iter().map(|c| &**c).collect();
        alert_rules(&setting, &constraints)
    }

    #[test]
    fn a_tighter_error_rate_changes_the_burn_rate_alerts_expressions() {
        let (old, new, _) = would_be(
            "id: tasks.reliability.errors\nname: Errors\nrequirement: Error rate < 0.1%\n",
            ChangeHints::default(),
        )
        .unwrap();
        let changes = diff_rules(&setting_rules(&old), &setting_rules(&new));
        let burn = changes
            .iter()
            .find(|c| c.name.starts_with("SddErrorBudgetBurn"))
            .unwrap_or_else(|| panic!("{changes:#?}"));
        assert_eq!(burn.change, Difference::Changed);
        assert_eq!(burn.constraint.as_deref(), Some("tasks.reliability.errors"));
        assert_ne!(burn.expr_before, burn.expr_after);
        // Nothing else moved: every change is the error-rate constraint's.
        assert!(
            changes
                .iter()
                .all(|c| c.constraint.as_deref() == Some("tasks.reliability.errors")),
            "{changes:#?}"
        );
        assert!(diff_rules(&setting_rules(&old), &setting_rules(&old)).is_empty());
    }

    #[test]
    fn panels_are_compared_by_row_and_title() {
        let panel = |row: &str, title: &str, q: &str| PanelSummary {
            row: row.into(),
            title: title.into(),
            queries: vec![q.into()],
        };
        let board = |panels| Dashboard {
            json: serde_json::Value::Null,
            panels,
            not_covered: Vec::new(),
        };
        let old = board(vec![
            panel("A", "p95", "q1"),
            panel("A", "gone", "q2"),
            panel("B", "same", "q3"),
        ]);
        let new = board(vec![
            panel("A", "p95", "q1b"),
            panel("B", "same", "q3"),
            panel("C", "new", "q4"),
        ]);
        let diff = diff_panels(&old, &new);
        let seen: Vec<(Difference, &str)> =
            diff.iter().map(|d| (d.change, d.title.as_str())).collect();
        assert_eq!(
            seen,
            vec![
                (Difference::Removed, "gone"),
                (Difference::Changed, "p95"),
                (Difference::Added, "new")
            ]
        );
        assert_eq!(diff[1].queries_before, vec!["q1".to_string()]);
        assert_eq!(diff[1].queries_after, vec!["q1b".to_string()]);
    }

    fn judged(status: Verdict, limit: f64, headroom: f64) -> ConstraintHeadroom {
        ConstraintHeadroom {
            constraint: "c".into(),
            name: "c".into(),
            requirement: None,
            status,
            summary: format!("p95 80 ms against {limit} ms"),
            value: Some(80.0),
            limit: Some(limit),
            unit: Some("ms".into()),
            headroom_percent: Some(headroom),
            error_budget: None,
            measured_by: Vec::new(),
            not_judged: Vec::new(),
        }
    }

    #[test]
    fn headroom_before_and_after_tells_eaten_violated_and_not_reached() {
        let tightened = shift(
            "c",
            "c",
            None,
            None,
            Some(Ok(judged(Verdict::Passing, 100.0, 20.0))),
            Ok(judged(Verdict::Failing, 50.0, -60.0)),
        );
        assert!(tightened.would_be_violated_now);
        assert!(
            tightened.summary.starts_with("WOULD BE VIOLATED NOW"),
            "{}",
            tightened.summary
        );
        assert_eq!(
            (tightened.limit_before, tightened.limit_after),
            (Some(100.0), Some(50.0))
        );

        let eaten = shift(
            "c",
            "c",
            None,
            None,
            Some(Ok(judged(Verdict::Passing, 100.0, 20.0))),
            Ok(judged(Verdict::Passing, 90.0, 11.1)),
        );
        assert!(!eaten.would_be_violated_now);
        assert!(
            eaten.summary.starts_with("eats 8.9 points"),
            "{}",
            eaten.summary
        );

        let freed = shift(
            "c",
            "c",
            None,
            None,
            Some(Ok(judged(Verdict::Passing, 100.0, 20.0))),
            Ok(judged(Verdict::Passing, 200.0, 60.0)),
        );
        assert!(
            freed.summary.starts_with("frees 40.0 points"),
            "{}",
            freed.summary
        );

        // Already failing: not "would be" violated, it is.
        let still = shift(
            "c",
            "c",
            None,
            None,
            Some(Ok(judged(Verdict::Failing, 70.0, -14.0))),
            Ok(judged(Verdict::Failing, 60.0, -33.0)),
        );
        assert!(!still.would_be_violated_now);

        let unreached = shift("c", "c", None, None, None, Err("connection refused".into()));
        assert_eq!(unreached.status_after, Verdict::Unchecked);
        assert!(
            unreached.summary.starts_with("not reached"),
            "{}",
            unreached.summary
        );

        let mut unmeasured = judged(Verdict::Unchecked, 50.0, 0.0);
        unmeasured.summary = "no series measures it".into();
        let row = shift("c", "c", None, None, None, Ok(unmeasured));
        assert_eq!(row.summary, "not reached: no series measures it");
        assert!(!row.would_be_violated_now);
    }
}
