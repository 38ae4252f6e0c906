//! `.feature` files (Gherkin, as cucumber reads them) into the model the YAML files make.
//!
//! One job: Gherkin text in, the fields of an equivalent YAML feature document out (with the
//! position of every field in the Gherkin text), plus diagnostics. The loader then loads those
//! fields exactly as it loads a YAML feature file — stable IDs, duplicates across all files,
//! approvals — so a scenario means the same whichever format it was written in.
//!
//! The mapping:
//! - `Feature:` is the feature; its domain is the feature name (as `ids::slug` makes it) unless
//!   the Feature carries `@domain:NAME`. Its description is the file's description.
//! - `Scenario:` is a scenario: `Given` steps are `given`, `When` steps the `when` (several are
//!   joined with their `And`/`But`: the model has one action), `Then` steps `then`. `And`, `But`
//!   and `*` continue the step before them. A doc string or data table stays in its step's text,
//!   on the lines after it (a table as `| a | b |` rows). The scenario's description is its
//!   `rationale`.
//! - `Background:` steps (the feature's, then the rule's) come first in every scenario's `given`.
//! - `Scenario Outline:` with `Examples:` becomes one scenario per Examples row, the `<column>`
//!   placeholders filled in (name, steps, doc strings, tables), named `NAME (Example #N)` with
//!   the ID `OUTLINE_ID_N` (N counts the rows of all its Examples tables from 1). The model's
//!   `examples` are executable HTTP examples (`ExampleDoc`: requests and expected responses); an
//!   Examples table is data for the steps, not a request, so it cannot honestly go there.
//!   Expanded, each row is a behaviour of its own that a test can pass or fail — which is what
//!   cucumber runs and reports.
//! - Tags: `@id:ID` sets the ID (otherwise derived from the name, as for YAML); `@status:`,
//!   `@approved_by:` (or `@reviewed_by:`), `@reviewed_at:`, `@proposed_by:` and
//!   `@fingerprint:` are the review fields. They are read by the same code as the YAML fields,
//!   so the same rule holds: written `approved`, a scenario counts as approved only while its
//!   given/when/then match the fingerprint recorded at approval (`approval.rs`); a tag alone
//!   never approves. Without `@status`, a scenario was written by a person: approved (unless it
//!   carries review tags, as in YAML). An outline's rows each have their own behaviour, so each
//!   needs its own fingerprint: an outline (or its Examples block) may carry several
//!   `@fingerprint:` tags, and a row counts as approved only if one of them is its own. Other
//!   tags (the feature's, rule's, scenario's and Examples block's) are the scenario's `tags`.
//!
//! The parser is the `gherkin` crate, the one cucumber-rs uses. Its cost grows with the square
//! of the number of lines (it finds every element's line by scanning a list of line starts), so
//! a `.feature` file is refused above [`MAX_FEATURE_LINES`] before it is parsed.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_yaml::{Mapping, Value};

use crate::diagnostic::Diagnostic;
use crate::ids;
use crate::limits::Limits;
use crate::positions::PositionIndex;

/// Lines a `.feature` file may have. The parser's cost is quadratic in lines: 20,000 lines of
/// one-line scenarios took 0.2 s (release build), 60,000 lines of rules took 1 s. Real feature
/// files have hundreds of lines; this is a hundred times that.
pub const MAX_FEATURE_LINES: usize = 20_000;

/// Tag keys that SDD reads (`@key:value`); every other tag is a label.
const SDD_TAG_KEYS: &[&str] = &[
    "id",
    "status",
    "domain",
    "fingerprint",
    "approved_by",
    "reviewed_by",
    "reviewed_at",
    "proposed_by",
];

pub fn is_feature_file(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .is_some_and(|e| e == "feature")
}

/// A label tag whose key SDD reads as a field (`status:…`), so writing it as a tag would change
/// what the scenario says (the test-suite writer leaves such labels out).
pub fn is_sdd_tag(tag: &str) -> bool {
    tag.split_once(':')
        .is_some_and(|(key, _)| SDD_TAG_KEYS.contains(&key))
}

/// `text` as a tag's value: a tag ends at whitespace and a `@` starts another, so both become
/// `_` (names and times in review tags; nothing that is behaviour).
pub fn tag_value(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '@' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The name of row `n` (from 1) of an outline whose name, placeholders filled in, is `name`.
pub fn outline_row_name(name: &str, n: usize) -> String {
    format!("{name} (Example #{n})")
}

/// `NAME (Example #N)` → `(NAME, N)`: the outline's name and the row, for matching test results
/// that name the outline and the row their own way.
pub fn split_outline_row_name(name: &str) -> Option<(&str, usize)> {
    let rest = name.strip_suffix(')')?;
    let at = rest.rfind(" (Example #")?;
    let n = rest[at + " (Example #".len()..].parse().ok()?;
    Some((&rest[..at], n))
}

/// What one `.feature` file reads as.
#[derive(Debug, Default)]
pub struct FeatureRead {
    /// The fields of the equivalent YAML feature document; `None` when the file could not be
    /// read as Gherkin or is empty.
    pub document: Option<FeatureDocument>,
    /// Only comments and blank lines: loaded as an empty file, as a YAML file would be.
    pub empty: bool,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug)]
pub struct FeatureDocument {
    fields: BTreeMap<String, Value>,
    /// Where each field path (`scenarios[2].then[0]`) is in the Gherkin text.
    pub index: PositionIndex,
}

impl FeatureDocument {
    /// The top-level fields, as the loader takes them from a YAML document.
    pub fn fields(&self) -> BTreeMap<String, &Value> {
        self.fields.iter().map(|(k, v)| (k.clone(), v)).collect()
    }
}

/// Read one `.feature` file's text (already through the guarded read: size, UTF-8, BOM). What
/// the model gets from it may be at most `limits.max_file_bytes` larger than the text: a
/// Background is repeated in every scenario and an outline written out once per row (the YAML
/// rule for aliases: expanded, a file must not cost more than a file the limit allows).
pub fn read(file: &str, text: &str, limits: &Limits) -> FeatureRead {
    let mut read = FeatureRead::default();
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        read.empty = true;
        read.diagnostics.push(
            Diagnostic::warning(
                "empty-file",
                "this file has no content (only comments or blank lines)",
            )
            .in_file(file)
            .with_help("start a .feature file with `Feature: <name>`, then its scenarios"),
        );
        return read;
    }
    let lines = text.lines().count();
    if lines > MAX_FEATURE_LINES {
        read.diagnostics.push(
            Diagnostic::error(
                "file-too-long",
                format!(
                    "not read: the file has {lines} lines; a .feature file may have {MAX_FEATURE_LINES}"
                ),
            )
            .in_file(file)
            .with_help("split it into several .feature files (one feature each)"),
        );
        return read;
    }
    if let Some(d) = unsupported_language(file, text) {
        read.diagnostics.push(d);
        return read;
    }
    // The parser is a dependency reading hostile text: a panic in it must cost this file, not
    // the server's call (its cost is bounded above; its answers are not ours to trust).
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ::gherkin::Feature::parse(text, ::gherkin::GherkinEnv::default())
    }));
    let feature = match parsed {
        Ok(Ok(feature)) => feature,
        Ok(Err(error)) => {
            read.diagnostics
                .push(syntax_diagnostic(file, text, &error.to_string()));
            return read;
        }
        Err(_) => {
            read.diagnostics.push(
                Diagnostic::error("gherkin-syntax", "the Gherkin parser failed on this file")
                    .in_file(file)
                    .with_help("check the file against https://cucumber.io/docs/gherkin/reference"),
            );
            return read;
        }
    };
    let mut reader = Reader {
        file,
        lines: text.lines().collect(),
        positions: Vec::new(),
        scenarios: Vec::new(),
        diagnostics: Vec::new(),
        budget: text
            .len()
            .saturating_add(usize::try_from(limits.max_file_bytes).unwrap_or(usize::MAX)),
        over_budget: None,
    };
    let fields = reader.feature(&feature);
    if let Some((line, column)) = reader.over_budget {
        let mut d = Diagnostic::error(
            "expansion-too-large",
            format!(
                "not read: written out (the Background in every scenario, every outline row), its scenarios come to more than {} bytes beyond the file's own",
                limits.max_file_bytes
            ),
        )
        .in_file(file)
        .with_help(format!(
            "split the file, or shorten its Background or the outline's Examples; or raise the limit with {}=<bytes>",
            crate::limits::MAX_FILE_BYTES_ENV
        ));
        d.line = Some(line);
        d.column = Some(column);
        read.diagnostics.push(d);
        return read;
    }
    read.diagnostics = reader.diagnostics;
    read.document = Some(FeatureDocument {
        fields,
        index: PositionIndex::from_positions(reader.positions),
    });
    read
}

/// Say diagnostics that the loader worded for YAML fields in terms of the tags a `.feature`
/// file has (the loader checks IDs and approvals for both formats with the same code).
pub fn in_gherkin_terms(diagnostics: &mut [Diagnostic]) {
    const WORDS: &[(&str, &str)] = &[
        (
            "(proposed_by / reviewed_by / approved_fingerprint)",
            "(@proposed_by / @approved_by / @fingerprint tags)",
        ),
        ("`status: approved`", "`@status:approved`"),
        ("`approved_fingerprint`", "`@fingerprint:` tag"),
        ("no `status`", "no `@status:` tag"),
        ("remove `status:`", "remove the `@status:` tag"),
        ("`id:`", "`@id:` tag"),
    ];
    for d in diagnostics {
        for text in [Some(&mut d.message), d.help.as_mut()]
            .into_iter()
            .flatten()
        {
            for (yaml, gherkin) in WORDS {
                if text.contains(yaml) {
                    *text = text.replace(yaml, gherkin);
                }
            }
        }
    }
}

/// `# language: xx` naming a language the parser does not know (it would only say "fatal
/// error" somewhere below).
fn unsupported_language(file: &str, text: &str) -> Option<Diagnostic> {
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let directive = trimmed
            .strip_prefix('#')
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix("language"))
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix(':'));
        match directive {
            Some(language) if !::gherkin::is_language_supported(language.trim()) => {
                let mut d = Diagnostic::error(
                    "gherkin-language",
                    format!(
                        "the Gherkin language `{}` is not supported",
                        language.trim()
                    ),
                )
                .in_file(file)
                .with_help("use a language code Cucumber knows (`en`, `fr`, `de`, …) or remove the line for English");
                d.line = Some(index + 1);
                d.column = Some(1);
                return Some(d);
            }
            Some(_) => return None,
            // Only the first comment lines may name the language.
            None if trimmed.starts_with('#') => continue,
            None => return None,
        }
    }
    None
}

/// One diagnostic for a file the parser refused, located where it stopped, in words.
fn syntax_diagnostic(file: &str, text: &str, error: &str) -> Diagnostic {
    let lines: Vec<&str> = text.lines().collect();
    // The parser's error says `Error at LINE:COLUMN: {expected tokens}`; its fields are private.
    let (mut line, mut column) = error
        .strip_prefix("Error at ")
        .and_then(|rest| {
            let mut parts = rest.splitn(3, ':');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .unwrap_or((1, 1));
    let what = if let Some(open) = unclosed_doc_string(&lines) {
        line = open + 1;
        column = lines[open].len() - lines[open].trim_start().len() + 1;
        "a doc string is opened here and never closed".to_string()
    } else if error.contains("inconsistent table row sizes") {
        // The parser stops after the table; point at the first row that differs.
        if let Some(row) = ragged_row(&lines, line) {
            line = row + 1;
            column = lines[row].len() - lines[row].trim_start().len() + 1;
        }
        "the rows of this table do not all have the same number of cells".to_string()
    } else if !lines.iter().any(|l| is_feature_line(l)) && !text.contains("language") {
        "there is no `Feature:` line".to_string()
    } else if error.contains("unknown keyword") {
        "this line does not start with a Gherkin keyword".to_string()
    } else {
        "the Gherkin parser cannot read past this point".to_string()
    };
    // The parser appends a newline to the text and may point past the last line.
    line = line.clamp(1, lines.len().max(1));
    column = column.max(1);
    let mut d = Diagnostic::error("gherkin-syntax", format!("invalid Gherkin: {what}"))
        .in_file(file)
        .with_help(
            "a .feature file is `Feature: <name>`, an optional `Background:`, then `Scenario:` / \
             `Scenario Outline:` blocks of `Given` / `When` / `Then` / `And` / `But` steps \
             (https://cucumber.io/docs/gherkin/reference); the rest of the spec tree still loads",
        );
    d.line = Some(line);
    d.column = Some(column);
    d
}

/// The first row (line, from 0) of the table that ends above `line` (from 1) whose number of
/// cells differs from the table's first row.
fn ragged_row(lines: &[&str], line: usize) -> Option<usize> {
    let is_row = |l: &&str| l.trim_start().starts_with('|');
    let mut start = line.min(lines.len());
    while start > 0 && !is_row(&lines[start - 1]) {
        start -= 1;
    }
    let end = start;
    while start > 0 && is_row(&lines[start - 1]) {
        start -= 1;
    }
    let cells = |l: &str| {
        let row = l.trim().replace("\\\\", "").replace("\\|", "");
        row.matches('|').count()
    };
    let first = cells(lines.get(start)?);
    (start..end).find(|&at| cells(lines[at]) != first)
}

fn is_feature_line(line: &str) -> bool {
    let trimmed = line.trim_start();
    ["Feature:", "Business Need:", "Ability:"]
        .iter()
        .any(|k| trimmed.starts_with(k))
}

/// The line (from 0) of a doc string delimiter that is never closed, if any.
fn unclosed_doc_string(lines: &[&str]) -> Option<usize> {
    let mut open: Option<(usize, &str)> = None;
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        for fence in ["\"\"\"", "```"] {
            if !trimmed.starts_with(fence) {
                continue;
            }
            match open {
                Some((_, opened)) if opened == fence => open = None,
                Some(_) => {}
                None => open = Some((at, fence)),
            }
        }
    }
    open.map(|(at, _)| at)
}

/// A step, rendered to the text the model keeps.
#[derive(Clone)]
struct StepText {
    kind: ::gherkin::StepType,
    /// The keyword as written, trimmed (`And`, `But`, `*`, `Given`, …).
    keyword: String,
    text: String,
    at: (usize, usize),
}

/// The SDD tags of one scenario (or outline), each with where it is written.
#[derive(Default)]
struct SddTags {
    id: Option<(String, (usize, usize))>,
    status: Option<(String, (usize, usize))>,
    reviewed_by: Option<(String, (usize, usize))>,
    reviewed_at: Option<(String, (usize, usize))>,
    proposed_by: Option<(String, (usize, usize))>,
    fingerprints: Vec<(String, (usize, usize))>,
}

/// Where each tag of one element is written: tags have no position in the parser's tree, so
/// the tag lines just above the element are read once and every tag looked up here.
type TagPositions<'t> = HashMap<&'t str, (usize, usize)>;

struct Reader<'t> {
    file: &'t str,
    lines: Vec<&'t str>,
    positions: Vec<(String, (usize, usize))>,
    scenarios: Vec<Value>,
    diagnostics: Vec<Diagnostic>,
    /// Bytes of scenario text still allowed: a Background is repeated in every scenario and an
    /// outline written out once per Examples row, so the model can outgrow the file.
    budget: usize,
    /// Where the budget ran out: the file is then not loaded.
    over_budget: Option<(usize, usize)>,
}

/// What a rule (or the feature itself) hands down to its scenarios.
struct Inherited {
    background: Vec<StepText>,
    labels: Vec<String>,
    /// Bytes of the two above: what each scenario's copy of them costs.
    bytes: usize,
    domain: String,
}

impl Inherited {
    fn new(background: Vec<StepText>, labels: Vec<String>, domain: String) -> Self {
        let bytes = background.iter().map(|s| s.text.len()).sum::<usize>()
            + labels.iter().map(String::len).sum::<usize>();
        Inherited {
            background,
            labels,
            bytes,
            domain,
        }
    }
}

impl<'t> Reader<'t> {
    fn feature(&mut self, feature: &::gherkin::Feature) -> BTreeMap<String, Value> {
        let at = pos(feature.position);
        self.positions.push((String::new(), at));
        self.positions.push(("feature".into(), at));
        let mut name = feature.name.trim().to_string();
        if name.is_empty() {
            name = std::path::Path::new(self.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            self.warn(
                "unnamed-feature",
                format!("this Feature has no name; it is named `{name}` after its file"),
                at,
                "name it: `Feature: <what it does>` (the name is its domain unless @domain: says otherwise)",
            );
        }
        let mut fields = BTreeMap::new();
        let mut labels = Vec::new();
        let mut domain_tag: Option<String> = None;
        let tag_at = self.tag_positions(feature.position.line);
        let mut ignored = Vec::new();
        for tag in &feature.tags {
            let at = tag_at.get(tag.as_str()).copied().unwrap_or(at);
            match tag.split_once(':') {
                Some(("domain", _)) if domain_tag.is_some() => ignored.push((tag, at, None)),
                Some(("domain", value)) => {
                    domain_tag = Some(value.to_string());
                    self.positions.push(("domain".into(), at));
                }
                Some((key, _)) if SDD_TAG_KEYS.contains(&key) => {
                    ignored.push((tag, at, Some("a Scenario or Scenario Outline")))
                }
                _ => labels.push(tag.clone()),
            }
        }
        self.ignored_tags(&ignored);
        fields.insert("feature".into(), Value::String(name.clone()));
        if let Some(domain) = &domain_tag {
            fields.insert("domain".into(), Value::String(domain.clone()));
        }
        if let Some(description) = feature.description.as_deref().map(str::trim) {
            if !description.is_empty() {
                fields.insert("description".into(), Value::String(description.to_string()));
            }
            // The parser reads a second `Feature:` as the first one's description.
            if description.lines().any(is_feature_line) {
                self.warn(
                    "second-feature",
                    "this file has a second `Feature:` line, read as the first one's description",
                    at,
                    "put each Feature in a .feature file of its own",
                );
            }
        }
        // The loader's rule for a feature file's domain (`load.rs`, `document`).
        let domain = domain_tag.unwrap_or_else(|| ids::slug(&name));
        let background: Vec<StepText> = feature
            .background
            .iter()
            .flat_map(|b| b.steps.iter())
            .filter_map(|s| step_text(s, &self.lines))
            .collect();
        let inherited = Inherited::new(background, labels, domain);
        for scenario in &feature.scenarios {
            self.scenario(scenario, &inherited);
        }
        for rule in &feature.rules {
            let rule_at = pos(rule.position);
            let tag_at = self.tag_positions(rule.position.line);
            let mut labels = inherited.labels.clone();
            let mut ignored = Vec::new();
            for tag in &rule.tags {
                if is_sdd_tag(tag) {
                    let at = tag_at.get(tag.as_str()).copied().unwrap_or(rule_at);
                    ignored.push((
                        tag,
                        at,
                        Some("a Scenario or Scenario Outline (or the Feature, for @domain:)"),
                    ));
                } else {
                    labels.push(tag.clone());
                }
            }
            self.ignored_tags(&ignored);
            let mut background = inherited.background.clone();
            background.extend(
                rule.background
                    .iter()
                    .flat_map(|b| b.steps.iter())
                    .filter_map(|s| step_text(s, &self.lines)),
            );
            let in_rule = Inherited::new(background, labels, inherited.domain.clone());
            for scenario in &rule.scenarios {
                self.scenario(scenario, &in_rule);
            }
        }
        self.positions.push((
            "scenarios".into(),
            self.positions
                .iter()
                .find(|(p, _)| p.starts_with("scenarios["))
                .map_or(at, |(_, at)| *at),
        ));
        let scenarios = std::mem::take(&mut self.scenarios);
        fields.insert("scenarios".into(), Value::Sequence(scenarios));
        fields
    }

    fn scenario(&mut self, scenario: &::gherkin::Scenario, inherited: &Inherited) {
        let at = pos(scenario.position);
        if self.over_budget.is_some() {
            return;
        }
        let mut name = scenario.name.trim().to_string();
        if name.is_empty() {
            name = format!("line {}", at.0);
            self.warn(
                "unnamed-scenario",
                format!("this scenario has no name; it is named `{name}`"),
                at,
                "name it: the name is what a reviewer reads and, unless @id: is set, its ID",
            );
        }
        // An outline's rows each need their own fingerprint: it may carry several.
        let outline = !scenario.examples.is_empty();
        let (tags, own_labels) = self.sdd_tags(&scenario.tags, scenario.position.line, at, outline);
        if !self.spend(inherited.bytes, at) {
            return;
        }
        let mut labels = inherited.labels.clone();
        labels.extend(own_labels);
        let rationale = scenario
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty());
        // What a plain scenario and every row of an outline share.
        let shared = Emit {
            name,
            at,
            id: tags.id.as_ref().map(|(id, _)| id.clone()),
            background: &inherited.background,
            steps: &[],
            tags: &tags,
            fingerprint: tags.fingerprints.first().cloned(),
            labels: &labels,
            rationale,
        };
        if outline {
            return self.outline(scenario, inherited, shared);
        }
        let steps: Vec<StepText> = scenario
            .steps
            .iter()
            .filter_map(|s| step_text(s, &self.lines))
            .collect();
        let bytes = steps.iter().map(|s| s.text.len()).sum::<usize>() + shared.name.len();
        if !self.spend(bytes, at) {
            return;
        }
        self.emit(Emit {
            steps: &steps,
            ..shared
        });
    }

    /// One scenario per Examples row, from `outline`'s steps and what it shares with them.
    fn outline(&mut self, outline: &::gherkin::Scenario, inherited: &Inherited, shared: Emit) {
        let name = shared.name.as_str();
        let at = shared.at;
        let base_id = match &shared.id {
            Some(id) => id.clone(),
            None => ids::derived_scenario_id(&inherited.domain, name),
        };
        let mut row_number = 0;
        let mut headers_seen: HashSet<&str> = HashSet::new();
        for examples in &outline.examples {
            let examples_at = pos(examples.position);
            let tag_at = self.tag_positions(examples.position.line);
            let mut block_labels = shared.labels.to_vec();
            let mut fingerprints = shared.tags.fingerprints.clone();
            let mut ignored = Vec::new();
            for tag in &examples.tags {
                let at = tag_at.get(tag.as_str()).copied().unwrap_or(examples_at);
                match tag.split_once(':') {
                    Some(("fingerprint", value)) => {
                        fingerprints.push((full_fingerprint(value), at))
                    }
                    Some((key, _)) if SDD_TAG_KEYS.contains(&key) => {
                        ignored.push((tag, at, Some("the Scenario Outline")))
                    }
                    _ => block_labels.push(tag.clone()),
                }
            }
            self.ignored_tags(&ignored);
            let Some(table) = &examples.table else {
                continue;
            };
            let Some((header, rows)) = table.rows.split_first() else {
                continue;
            };
            headers_seen.extend(header.iter().map(String::as_str));
            let block_bytes = block_labels.iter().map(String::len).sum::<usize>();
            let row_positions = self.table_row_positions(table.position.line, rows.len() + 1);
            for (k, row) in rows.iter().enumerate() {
                row_number += 1;
                let row_at = row_positions.get(k + 1).copied().unwrap_or(examples_at);
                let values: HashMap<&str, &str> = header
                    .iter()
                    .map(String::as_str)
                    .zip(row.iter().map(String::as_str))
                    .collect();
                // Written out, a row may be far larger than its line: fill within what is left.
                let mut left = self.budget;
                let mut filled = |text: &str| -> Option<String> {
                    let out = fill(text, &values, left)?;
                    left -= out.len();
                    Some(out)
                };
                let row_name = filled(name);
                let steps: Option<Vec<StepText>> = outline
                    .steps
                    .iter()
                    .map(|s| step_text_filled(s, &mut filled, &self.lines))
                    .collect();
                let (Some(row_name), Some(steps)) = (row_name, steps) else {
                    self.over_budget.get_or_insert(row_at);
                    return;
                };
                let bytes = self.budget - left + inherited.bytes + block_bytes;
                if !self.spend(bytes, row_at) {
                    return;
                }
                let row_id = format!("{base_id}_{row_number}");
                self.emit(Emit {
                    name: outline_row_name(&row_name, row_number),
                    at: row_at,
                    fingerprint: pick_fingerprint(
                        &fingerprints,
                        &row_id,
                        shared.background,
                        &steps,
                    ),
                    id: Some(row_id),
                    background: shared.background,
                    steps: &steps,
                    tags: shared.tags,
                    labels: &block_labels,
                    rationale: shared.rationale,
                });
            }
        }
        if row_number == 0 {
            self.warn(
                "empty-outline",
                format!("the outline `{name}` has no Examples rows, so it specifies nothing yet"),
                at,
                "add an `Examples:` table: a header row naming the <placeholders>, then a row per case",
            );
        }
        self.unknown_placeholders(outline, name, &headers_seen, at);
    }

    /// Take `bytes` from the budget; when it runs out, remember where.
    fn spend(&mut self, bytes: usize, at: (usize, usize)) -> bool {
        match self.budget.checked_sub(bytes) {
            Some(left) => {
                self.budget = left;
                true
            }
            None => {
                self.over_budget.get_or_insert(at);
                false
            }
        }
    }

    /// `<name>` placeholders that no Examples column fills: cucumber would run them as written.
    fn unknown_placeholders(
        &mut self,
        outline: &::gherkin::Scenario,
        name: &str,
        headers: &HashSet<&str>,
        at: (usize, usize),
    ) {
        let mut texts: Vec<&str> = vec![name];
        for step in &outline.steps {
            texts.push(&step.value);
            texts.extend(step.docstring.as_deref());
            if let Some(table) = &step.table {
                texts.extend(table.rows.iter().flatten().map(String::as_str));
            }
        }
        let mut unknown: Vec<&str> = texts
            .into_iter()
            .flat_map(placeholders)
            .filter(|p| !headers.contains(p))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if !unknown.is_empty() {
            let list: Vec<String> = unknown.iter().take(10).map(|p| format!("<{p}>")).collect();
            self.warn(
                "unknown-placeholder",
                format!(
                    "no Examples column fills {}{} in the outline `{name}`",
                    list.join(", "),
                    if unknown.len() > 10 { ", …" } else { "" }
                ),
                at,
                "add the column to the Examples table, or correct the placeholder's spelling",
            );
        }
    }

    fn emit(&mut self, scenario: Emit) {
        let index = self.scenarios.len();
        let path = format!("scenarios[{index}]");
        let mut doc = Mapping::new();
        let mut put = |reader: &mut Self, key: &str, value: Value, at: (usize, usize)| {
            doc.insert(Value::String(key.into()), value);
            reader.positions.push((format!("{path}.{key}"), at));
        };
        self.positions.push((path.clone(), scenario.at));
        put(self, "name", Value::String(scenario.name), scenario.at);
        if let Some(id) = scenario.id {
            let id_at = scenario.tags.id.as_ref().map_or(scenario.at, |(_, at)| *at);
            put(self, "id", Value::String(id), id_at);
        }
        let Behaviour {
            given,
            when,
            then,
            out_of_order,
        } = behaviour(scenario.background, scenario.steps);
        if let Some(step_at) = out_of_order {
            self.warn(
                "step-order",
                "a step here comes after a later kind of step (a `Given` after `When`, or a `When` after `Then`); SDD keeps one given / when / then per scenario, so the order between them is lost",
                step_at,
                "split the scenario into one scenario per behaviour, each Given → When → Then",
            );
        }
        if !given.is_empty() {
            put(self, "given", strings(&given), given[0].1);
            for (k, (_, at)) in given.iter().enumerate() {
                self.positions.push((format!("{path}.given[{k}]"), *at));
            }
        }
        if let Some((text, at)) = when {
            put(self, "when", Value::String(text), at);
        }
        if !then.is_empty() {
            put(self, "then", strings(&then), then[0].1);
            for (k, (_, at)) in then.iter().enumerate() {
                self.positions.push((format!("{path}.then[{k}]"), *at));
            }
        }
        let review = [
            ("status", &scenario.tags.status),
            ("reviewed_by", &scenario.tags.reviewed_by),
            ("reviewed_at", &scenario.tags.reviewed_at),
            ("proposed_by", &scenario.tags.proposed_by),
            ("approved_fingerprint", &scenario.fingerprint),
        ];
        for (key, tag) in review {
            if let Some((value, at)) = tag {
                put(self, key, Value::String(value.clone()), *at);
            }
        }
        if let Some(rationale) = scenario.rationale {
            put(
                self,
                "rationale",
                Value::String(rationale.into()),
                scenario.at,
            );
        }
        let mut seen = HashSet::new();
        let labels: Vec<String> = scenario
            .labels
            .iter()
            .filter(|label| seen.insert(label.as_str()))
            .cloned()
            .collect();
        if !labels.is_empty() {
            put(self, "tags", strings_of(labels), scenario.at);
        }
        self.scenarios.push(Value::Mapping(doc));
    }

    /// The SDD tags of a scenario, and its other tags (labels). Each SDD tag counts once (the
    /// first), but an outline's `@fingerprint:` tags, one per row.
    fn sdd_tags(
        &mut self,
        tags: &[String],
        line: usize,
        at: (usize, usize),
        many_fingerprints: bool,
    ) -> (SddTags, Vec<String>) {
        let mut sdd = SddTags::default();
        let mut labels = Vec::new();
        let tag_at = self.tag_positions(line);
        let mut ignored = Vec::new();
        for tag in tags {
            let Some((key, value)) = tag.split_once(':') else {
                labels.push(tag.clone());
                continue;
            };
            let at = tag_at.get(tag.as_str()).copied().unwrap_or(at);
            let value = value.to_string();
            let slot = match key {
                "id" => &mut sdd.id,
                "status" => &mut sdd.status,
                "approved_by" | "reviewed_by" => &mut sdd.reviewed_by,
                "reviewed_at" => &mut sdd.reviewed_at,
                "proposed_by" => &mut sdd.proposed_by,
                "fingerprint" if many_fingerprints || sdd.fingerprints.is_empty() => {
                    sdd.fingerprints.push((full_fingerprint(&value), at));
                    continue;
                }
                "fingerprint" => {
                    ignored.push((tag, at, None));
                    continue;
                }
                "domain" => {
                    ignored.push((tag, at, Some("the Feature")));
                    continue;
                }
                _ => {
                    labels.push(tag.clone());
                    continue;
                }
            };
            if slot.is_some() {
                ignored.push((tag, at, None));
            } else {
                *slot = Some((value, at));
            }
        }
        self.ignored_tags(&ignored);
        (sdd, labels)
    }

    /// The tags written on the lines just above the element on `line` (tag lines, comments and
    /// blank lines), each at its first place.
    fn tag_positions(&self, line: usize) -> TagPositions<'t> {
        let mut found = TagPositions::new();
        let mut at = line.saturating_sub(1);
        while let Some(text) = at.checked_sub(1).and_then(|i| self.lines.get(i)) {
            let trimmed = text.trim();
            if trimmed.starts_with('@') {
                let mut column = 1;
                for token in text.split(char::is_whitespace) {
                    if let Some(tag) = token.strip_prefix('@') {
                        // `@a@b` is two tags for the parser: a tag ends where another starts.
                        let mut offset = column + 1;
                        for part in tag.split('@') {
                            found.entry(part).or_insert((at, offset - 1));
                            offset += part.chars().count() + 1;
                        }
                    }
                    column += token.chars().count() + 1;
                }
            } else if !(trimmed.is_empty() || trimmed.starts_with('#')) {
                break;
            }
            at -= 1;
        }
        found
    }

    /// Where the first `rows` rows (0: the header) of the table starting on `line` are: rows are
    /// the `|` lines from there on (comments and blank lines may sit between them). All at
    /// once: looking each row up from the table's start made thousands of rows quadratic.
    fn table_row_positions(&self, line: usize, rows: usize) -> Vec<(usize, usize)> {
        self.lines
            .iter()
            .enumerate()
            .skip(line.saturating_sub(1))
            .filter(|(_, l)| l.trim_start().starts_with('|'))
            .take(rows)
            .map(|(at, l)| {
                (
                    at + 1,
                    l.chars().take_while(|c| c.is_whitespace()).count() + 1,
                )
            })
            .collect()
    }

    fn warn(&mut self, code: &str, message: impl Into<String>, at: (usize, usize), help: &str) {
        let mut d = Diagnostic::warning(code, message)
            .in_file(self.file)
            .with_help(help);
        d.line = Some(at.0);
        d.column = Some(at.1);
        self.diagnostics.push(d);
    }

    /// One warning per element for its tags that do not count: misplaced ones (`Some(where
    /// they belong)`) and repeated ones (`None`: the first one counts). One, however many: a
    /// line of a million repeated tags must not make a million diagnostics.
    fn ignored_tags(&mut self, ignored: &[(&String, (usize, usize), Option<&str>)]) {
        let Some((tag, at, belongs_on)) = ignored.first() else {
            return;
        };
        let more = match ignored.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more tags that do not count here)"),
        };
        match belongs_on {
            Some(belongs_on) => self.warn(
                "misplaced-tag",
                format!("`@{tag}` is ignored here{more}"),
                *at,
                &format!("SDD reads this tag on {belongs_on}; move it there"),
            ),
            None => {
                let key = tag.split(':').next().unwrap_or(tag);
                self.warn(
                    "repeated-tag",
                    format!("a second `@{key}:` tag is ignored; the first one counts{more}"),
                    *at,
                    "keep one",
                )
            }
        }
    }
}

/// One scenario (or outline row) ready to become a document item.
struct Emit<'a> {
    name: String,
    at: (usize, usize),
    id: Option<String>,
    background: &'a [StepText],
    steps: &'a [StepText],
    tags: &'a SddTags,
    fingerprint: Option<(String, (usize, usize))>,
    labels: &'a [String],
    rationale: Option<&'a str>,
}

/// The fingerprint among an outline's that is this row's own (so the row is approved), else the
/// first one (so the loader says it does not match), else none.
fn pick_fingerprint(
    fingerprints: &[(String, (usize, usize))],
    row_id: &str,
    background: &[StepText],
    steps: &[StepText],
) -> Option<(String, (usize, usize))> {
    let row = behaviour(background, steps);
    let texts = |items: &[(String, (usize, usize))]| -> Vec<String> {
        items.iter().map(|(text, _)| text.clone()).collect()
    };
    let own = crate::approval::behaviour_fingerprint(
        row_id,
        &texts(&row.given),
        row.when.as_ref().map(|(text, _)| text.as_str()),
        &texts(&row.then),
        &[],
    );
    fingerprints
        .iter()
        .find(|(fp, _)| *fp == own)
        .or_else(|| fingerprints.first())
        .cloned()
}

/// A scenario's given / when / then, each text with where it is written.
struct Behaviour {
    given: Vec<(String, (usize, usize))>,
    when: Option<(String, (usize, usize))>,
    then: Vec<(String, (usize, usize))>,
    /// The first step that comes after a later kind (a `Given` after a `When`, …).
    out_of_order: Option<(usize, usize)>,
}

fn behaviour(background: &[StepText], steps: &[StepText]) -> Behaviour {
    use ::gherkin::StepType::{Given, Then, When};
    let rank = |kind: ::gherkin::StepType| match kind {
        Given => 0,
        When => 1,
        Then => 2,
    };
    let mut row = Behaviour {
        given: background.iter().map(|s| (s.text.clone(), s.at)).collect(),
        when: None,
        then: Vec::new(),
        out_of_order: None,
    };
    let mut furthest = 0;
    for step in steps {
        if rank(step.kind) < furthest && row.out_of_order.is_none() {
            row.out_of_order = Some(step.at);
        }
        furthest = furthest.max(rank(step.kind));
        match step.kind {
            Given => row.given.push((step.text.clone(), step.at)),
            Then => row.then.push((step.text.clone(), step.at)),
            When => match &mut row.when {
                None => row.when = Some((step.text.clone(), step.at)),
                // The model has one action: a second `When` step (or its `And`) joins it with
                // the word that continued it.
                Some((text, _)) => {
                    let joint = match step.keyword.to_lowercase().as_str() {
                        "*" | "when" => "and".to_string(),
                        other => other.to_string(),
                    };
                    text.push_str(&format!(" {joint} {}", step.text));
                }
            },
        }
    }
    row
}

/// `@fingerprint:<hex>` may leave out the `sha256:` that `approval.rs` writes.
fn full_fingerprint(value: &str) -> String {
    if value.starts_with(crate::approval::PREFIX) {
        value.to_string()
    } else {
        format!("{}{value}", crate::approval::PREFIX)
    }
}

fn pos(at: ::gherkin::LineCol) -> (usize, usize) {
    (at.line.max(1), at.col.max(1))
}

fn strings(items: &[(String, (usize, usize))]) -> Value {
    Value::Sequence(
        items
            .iter()
            .map(|(t, _)| Value::String(t.clone()))
            .collect(),
    )
}

fn strings_of(items: Vec<String>) -> Value {
    Value::Sequence(items.into_iter().map(Value::String).collect())
}

/// A step's text as the model keeps it: the step, then its doc string or data table on the
/// lines after it.
fn step_text(step: &::gherkin::Step, source: &[&str]) -> Option<StepText> {
    step_text_filled(step, &mut |text| Some(text.to_string()), source)
}

/// [`step_text`] with every text passed through `fill` (an outline row's values); `None` when
/// `fill` gives up (the budget ran out).
fn step_text_filled(
    step: &::gherkin::Step,
    fill: &mut dyn FnMut(&str) -> Option<String>,
    source: &[&str],
) -> Option<StepText> {
    let mut text = fill(&step.value)?;
    if let Some(doc) = &step.docstring {
        let content = doc_string_in(source, step.position.line).unwrap_or_else(|| doc_string(doc));
        text.push('\n');
        text.push_str(&fill(&content)?);
    }
    if let Some(table) = &step.table {
        for row in &table.rows {
            let mut cells = Vec::with_capacity(row.len());
            for cell in row {
                cells.push(escape_cell(&fill(cell)?));
            }
            text.push_str(&format!("\n| {} |", cells.join(" | ")));
        }
    }
    Some(StepText {
        kind: step.ty,
        keyword: step.keyword.trim().to_string(),
        text,
        at: pos(step.position),
    })
}

/// The doc string of the step on `step_line` (from 1) as Cucumber reads it: the lines between
/// the delimiters, each without the opening delimiter's indentation (deeper indentation is
/// content). Read from the source because the parser's copy has lost that indentation when
/// nothing follows the opening delimiter, and kept it when a content type (`json`) does.
fn doc_string_in(source: &[&str], step_line: usize) -> Option<String> {
    let blank_or_comment = |l: &&str| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    };
    let open = source
        .iter()
        .skip(step_line)
        .position(|l| !blank_or_comment(l))?
        + step_line;
    let opening = source[open].trim_start_matches([' ', '\t']);
    let indent = source[open].len() - opening.len();
    let fence = ["\"\"\"", "```"]
        .into_iter()
        .find(|f| opening.starts_with(f))?;
    // What follows the opening delimiter is a content type, not content; as in the parser, the
    // next delimiter anywhere closes the doc string.
    if opening[fence.len()..].contains(fence) {
        return Some(String::new());
    }
    let strip = |line: &'_ str| -> String {
        let spaces = line.len() - line.trim_start_matches([' ', '\t']).len();
        line[spaces.min(indent)..].to_string()
    };
    let mut content = Vec::new();
    for line in &source[open + 1..] {
        if let Some(close) = line.find(fence) {
            let before = &line[..close];
            if !before.trim_matches([' ', '\t']).is_empty() {
                content.push(strip(before));
            }
            return Some(content.join("\n"));
        }
        content.push(strip(line));
    }
    None
}

/// A doc string's content from the parser's copy (when the source says otherwise than the
/// parser, which it should not): the parser keeps what follows the opening delimiter (empty, or a
/// content type such as `json`) as its first line and the closing delimiter's indentation as
/// its last, and dedents only when the first line is empty. Its lines, common indentation
/// removed.
fn doc_string(raw: &str) -> String {
    let mut lines: Vec<&str> = raw.lines().collect();
    if !lines.is_empty() {
        lines.remove(0);
    }
    let blank = |l: &str| l.trim_matches([' ', '\t']).is_empty();
    if lines.last().is_some_and(|l| blank(l)) {
        lines.pop();
    }
    // Spaces and tabs only: byte counts of them are char boundaries in every line.
    let indent = lines
        .iter()
        .filter(|l| !blank(l))
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = lines
        .into_iter()
        .map(|l| if blank(l) { "" } else { &l[indent..] })
        .collect();
    lines.join("\n")
}

/// A table cell written back as Gherkin reads it (`\|`, `\\`, `\n`).
fn escape_cell(cell: &str) -> String {
    cell.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', "\\n")
}

/// `text` with every `<column>` of an Examples row replaced by its value, as cucumber does;
/// `None` if that would be longer than `limit` bytes (a row's values may be far larger than its
/// placeholders). Linear in the text: a placeholder is what lies between a `<` and the next
/// `>` with no `<` before it, looked up among the columns.
fn fill(text: &str, values: &HashMap<&str, &str>, limit: usize) -> Option<String> {
    let mut out = String::with_capacity(text.len().min(limit));
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find(['<', '>'])
            .filter(|&close| after.as_bytes()[close] == b'>')
            .and_then(|close| Some((values.get(&after[..close])?, close)));
        match value {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
        if out.len() > limit {
            return None;
        }
    }
    out.push_str(rest);
    (out.len() <= limit).then_some(out)
}

/// The `<name>` placeholders in `text` (no whitespace or `<` `>` inside).
fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        match after.find(['>', '<']) {
            Some(close) if after.as_bytes()[close] == b'>' => {
                let name = &after[..close];
                if !name.is_empty() && !name.contains(char::is_whitespace) {
                    found.push(name);
                }
                rest = &after[close + 1..];
            }
            Some(close) => rest = &after[close..],
            None => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::document::ReviewStatus;
    use crate::load::load_sources;
    use crate::model::Scenario;

    fn load(text: &str) -> crate::Loaded {
        load_sources(&[("tasks.feature".into(), text.into())])
    }

    fn scenario<'a>(loaded: &'a crate::Loaded, id: &str) -> &'a Scenario {
        loaded.spec.scenario(id).unwrap_or_else(|| {
            panic!(
                "no `{id}` in {:?}\n{:#?}",
                loaded
                    .spec
                    .scenarios
                    .iter()
                    .map(|s| &s.id)
                    .collect::<Vec<_>>(),
                loaded.diagnostics
            )
        })
    }

    fn codes(loaded: &crate::Loaded) -> Vec<&str> {
        loaded.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    const TASKS: &str = "\
@smoke
Feature: Task management
  Tasks people create and complete.

  Background:
    Given a signed-in user

  @id:tasks.create
  Scenario: Create a task
    Keeps the list honest.
    Given an empty list
    And a title \"Buy milk\"
    When the user creates the task
    But does not confirm it
    Then the list has 1 task
    And the task is pending
      \"\"\"json
        {\"title\": \"Buy milk\"}
          \"done\": false
      \"\"\"

  Scenario: Tasks by status
    When the user lists tasks by status
    Then the answer is
      | status  | count |
      | pending | 1     |
      | a\\|b   | 2     |
";

    #[test]
    fn steps_background_and_tags_become_a_scenario() {
        let loaded = load(TASKS);
        assert_eq!(codes(&loaded), Vec::<&str>::new());
        let file = &loaded.spec.files[0];
        assert_eq!(file.kind, crate::model::DocumentKind::Feature);
        assert_eq!(file.name, "Task management");
        assert_eq!(
            file.description.as_deref(),
            Some("Tasks people create and complete.")
        );
        let create = scenario(&loaded, "tasks.create");
        assert!(create.explicit_id);
        assert_eq!(create.domain, "task_management");
        assert_eq!(create.feature.as_deref(), Some("Task management"));
        assert_eq!(
            create.given,
            ["a signed-in user", "an empty list", "a title \"Buy milk\""]
        );
        assert_eq!(
            create.when.as_deref(),
            Some("the user creates the task but does not confirm it")
        );
        assert_eq!(
            create.then,
            [
                "the list has 1 task",
                // Indented deeper than its delimiter: that much is content.
                "the task is pending\n  {\"title\": \"Buy milk\"}\n    \"done\": false"
            ]
        );
        assert_eq!(create.rationale.as_deref(), Some("Keeps the list honest."));
        assert_eq!(create.tags, ["smoke"]);
        assert_eq!(create.status, ReviewStatus::Approved);
        assert_eq!((create.location.line, create.location.column), (9, 3));
        let by_status = scenario(&loaded, "task_management.tasks_by_status");
        assert!(!by_status.explicit_id);
        assert_eq!(
            by_status.then,
            ["the answer is\n| status | count |\n| pending | 1 |\n| a\\|b | 2 |"]
        );
        assert_eq!(loaded.spec.domains[0].name, "task_management");
    }

    #[test]
    fn an_outline_is_one_scenario_per_examples_row() {
        let loaded = load(
            "@domain:kitchen
Feature: Eating
  @id:eat @fast
  Scenario Outline: Eat <eat> of <start>
    Given there are <start> cucumbers
    When I eat <eat> cucumbers
    Then I should have <left> cucumbers
      | left   |
      | <left> |

    Examples: few
      | start | eat | left |
      | 12    | 5   | 7    |
      # a comment between rows
      | 20    | 5   | 15   |

    @slow
    Examples: many
      | start | eat | left |
      | 99    | 9   | 90   |
",
        );
        assert_eq!(codes(&loaded), Vec::<&str>::new());
        let ids: Vec<&str> = loaded
            .spec
            .scenarios
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["eat_1", "eat_2", "eat_3"]);
        let second = scenario(&loaded, "eat_2");
        assert_eq!(second.name, "Eat 5 of 20 (Example #2)");
        assert_eq!(second.domain, "kitchen");
        assert_eq!(second.given, ["there are 20 cucumbers"]);
        assert_eq!(second.when.as_deref(), Some("I eat 5 cucumbers"));
        assert_eq!(
            second.then,
            ["I should have 15 cucumbers\n| left |\n| 15 |"]
        );
        assert_eq!(second.location.line, 15, "the row's own line");
        assert!(second.examples.is_empty());
        assert_eq!(second.tags, ["fast"]);
        assert_eq!(scenario(&loaded, "eat_3").tags, ["fast", "slow"]);
        assert_eq!(
            split_outline_row_name(&second.name),
            Some(("Eat 5 of 20", 2))
        );
        // Without @id: the ID the name derives, numbered.
        let loaded = load(
            "Feature: F\n  Scenario Outline: Pay <n>\n    When I pay <n>\n    Examples:\n      | n |\n      | 1 |\n",
        );
        assert_eq!(loaded.spec.scenarios[0].id, "f.pay_n_1");
    }

    #[test]
    fn outline_problems_are_located_warnings() {
        let loaded = load(
            "Feature: F\n  Scenario Outline: Pay <n>\n    When I pay <n> to <who>\n    Examples:\n      | n |\n      | 1 |\n  Scenario Outline: Nothing\n    When <x>\n    Examples:\n",
        );
        let unknown = loaded
            .diagnostics
            .iter()
            .find(|d| d.code == "unknown-placeholder")
            .unwrap();
        assert!(unknown.message.contains("<who>"), "{}", unknown.message);
        assert_eq!(unknown.line, Some(2));
        let empty = loaded
            .diagnostics
            .iter()
            .find(|d| d.code == "empty-outline")
            .unwrap();
        assert_eq!((empty.line, empty.column), (Some(7), Some(3)));
        assert_eq!(loaded.spec.scenarios.len(), 1);
    }

    #[test]
    fn rules_bring_their_background_and_tags() {
        let loaded = load(
            "Feature: R\n  Background:\n    Given f\n  @r\n  Rule: first\n    Background:\n      Given r\n    Scenario: s\n      Given x\n      Then y\n",
        );
        let s = &loaded.spec.scenarios[0];
        assert_eq!(s.given, ["f", "r", "x"]);
        assert_eq!(s.tags, ["r"]);
    }

    /// The approval rule of `approval.rs`, for tags: only a recorded fingerprint of exactly this
    /// behaviour approves; a tag alone never does.
    #[test]
    fn a_tag_alone_never_approves() {
        let body = "    Given a list\n    When I add\n    Then it grows\n";
        let fp = crate::approval::behaviour_fingerprint(
            "t.add",
            &["a list".into()],
            Some("I add"),
            &["it grows".into()],
            &[],
        );
        let hex = fp.strip_prefix(crate::approval::PREFIX).unwrap();
        let status = |tags: &str, body: &str| {
            let loaded = load(&format!(
                "Feature: T\n  @id:t.add {tags}\n  Scenario: Add\n{body}"
            ));
            let warned = loaded
                .diagnostics
                .iter()
                .any(|d| d.code == "changed-since-approval" && d.severity == Severity::Warning);
            (scenario(&loaded, "t.add").status, warned)
        };
        let cases = [
            ("", body, ReviewStatus::Approved, false),
            (
                "@status:approved",
                body,
                ReviewStatus::ChangedSinceApproval,
                true,
            ),
            (
                "@status:approved @approved_by:jane",
                body,
                ReviewStatus::ChangedSinceApproval,
                true,
            ),
            (
                "@status:approved @approved_by:jane @fingerprint:sha256:0000",
                body,
                ReviewStatus::ChangedSinceApproval,
                true,
            ),
            (
                &format!("@status:approved @approved_by:jane @fingerprint:{fp}"),
                body,
                ReviewStatus::Approved,
                false,
            ),
            (
                &format!("@status:approved @approved_by:jane @fingerprint:{hex}"),
                body,
                ReviewStatus::Approved,
                false,
            ),
            (
                &format!("@status:approved @approved_by:jane @fingerprint:{fp}"),
                "    Given a list\n    When I add\n    Then it may grow\n",
                ReviewStatus::ChangedSinceApproval,
                true,
            ),
            // Review tags without a status: edited by hand, not a recorded decision.
            (
                &format!("@approved_by:jane @fingerprint:{fp}"),
                body,
                ReviewStatus::ChangedSinceApproval,
                true,
            ),
            (
                "@status:proposed @proposed_by:agent",
                body,
                ReviewStatus::Proposed,
                false,
            ),
            (
                "@status:rejected @reviewed_by:jane",
                body,
                ReviewStatus::Rejected,
                false,
            ),
        ];
        for (tags, body, expected, warned) in cases {
            assert_eq!(status(tags, body), (expected, warned), "{tags}");
        }
        // The warning speaks of tags, and points at the one to look at.
        let loaded = load(&format!(
            "Feature: T\n  @id:t.add @status:approved\n  Scenario: Add\n{body}"
        ));
        let d = loaded
            .diagnostics
            .iter()
            .find(|d| d.code == "changed-since-approval")
            .unwrap();
        assert!(d.message.contains("`@status:approved`"), "{}", d.message);
        assert!(d.message.contains("`@fingerprint:` tag"), "{}", d.message);
        assert!(d.help.as_deref().unwrap().contains("`@status:` tag"));
        assert_eq!((d.line, d.column), (Some(2), Some(13)));
        // A status SDD does not know drops the scenario, as in YAML, at the tag.
        let loaded = load(&format!(
            "Feature: T\n  @status:approvd\n  Scenario: Add\n{body}"
        ));
        assert!(loaded.spec.scenarios.is_empty());
        let d = &loaded.diagnostics[0];
        assert_eq!(
            (d.code.as_str(), d.line, d.column),
            ("unknown-variant", Some(2), Some(3))
        );
        assert_eq!(d.help.as_deref(), Some("did you mean `approved`?"));
    }

    #[test]
    fn each_outline_row_needs_its_own_fingerprint() {
        let row_fp = |id: &str, n: &str| {
            crate::approval::behaviour_fingerprint(id, &[], Some(&format!("I pay {n}")), &[], &[])
        };
        let text = format!(
            "Feature: F\n  @id:pay @status:approved @approved_by:jane @fingerprint:{}\n  Scenario Outline: Pay\n    When I pay <n>\n    Examples:\n      | n |\n      | 1 |\n    @fingerprint:{}\n    Examples:\n      | n |\n      | 2 |\n      | 3 |\n",
            row_fp("pay_1", "1"),
            row_fp("pay_2", "2"),
        );
        let loaded = load(&text);
        let statuses: Vec<_> = loaded
            .spec
            .scenarios
            .iter()
            .map(|s| (s.id.as_str(), s.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("pay_1", ReviewStatus::Approved),
                ("pay_2", ReviewStatus::Approved),
                ("pay_3", ReviewStatus::ChangedSinceApproval),
            ]
        );
    }

    #[test]
    fn ids_are_checked_and_duplicates_reported_like_yaml() {
        let loaded = load_sources(&[
            (
                "a.yaml".into(),
                "feature: Tasks\nscenarios:\n  - {name: Create, when: x, then: y}\n".into(),
            ),
            (
                "b.feature".into(),
                "Feature: Tasks\n  Scenario: Create\n    When x\n    Then y\n  @id:bad!id\n  Scenario: Other\n    When z\n".into(),
            ),
        ]);
        let duplicate = loaded
            .diagnostics
            .iter()
            .find(|d| d.code == "duplicate-id")
            .unwrap();
        assert_eq!(duplicate.file.as_deref(), Some("b.feature"));
        assert_eq!(duplicate.line, Some(2));
        assert!(
            duplicate.message.contains("a.yaml:3"),
            "{}",
            duplicate.message
        );
        let bad = loaded
            .diagnostics
            .iter()
            .find(|d| d.code == "bad-id")
            .unwrap();
        assert_eq!((bad.line, bad.column), (Some(5), Some(3)));
        // The duplicate stays in the model, marked; its ID finds the first.
        assert_eq!(loaded.spec.scenarios.len(), 3);
        assert_eq!(loaded.spec.unique_scenarios().count(), 2);
        assert_eq!(loaded.spec.scenarios[1].location.file, "b.feature");
        assert!(loaded.spec.scenarios[1].is_duplicate());
    }

    #[test]
    fn misplaced_and_repeated_tags_are_warnings() {
        let loaded = load(
            "@status:approved\nFeature: F\n  @id:a @id:b @domain:x\n  Scenario: S\n    When w\n    Then t\n    When again\n",
        );
        let found: Vec<(&str, Option<usize>, Option<usize>)> = loaded
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.line, d.column))
            .collect();
        assert_eq!(
            found,
            [
                ("misplaced-tag", Some(1), Some(1)),
                // One warning for the scenario's tags that do not count, at the first.
                ("repeated-tag", Some(3), Some(9)),
                ("step-order", Some(7), Some(5)),
            ]
        );
        assert!(loaded.diagnostics[1]
            .message
            .ends_with("(and 1 more tags that do not count here)"));
        let s = &loaded.spec.scenarios[0];
        assert_eq!(s.id, "a");
        assert_eq!(s.when.as_deref(), Some("w and again"));
    }

    #[test]
    fn hostile_text_is_a_diagnostic_never_a_panic() {
        let long = "Feature: X\n".to_string() + &"  Scenario: s\n".repeat(MAX_FEATURE_LINES);
        let nested = format!(
            "Feature: X\n  Scenario: s\n    Given x\n{}",
            "      | a |\n".repeat(500)
        );
        let cases: Vec<(&str, String, &str)> = vec![
            ("empty", String::new(), "empty-file"),
            ("comments", "# one\n\n   # two\n".into(), "empty-file"),
            (
                "no feature",
                "Scenario: a\n  Given x\n".into(),
                "gherkin-syntax",
            ),
            ("junk", "{{{{ ]]]] @@@@ \"\"\"".into(), "gherkin-syntax"),
            (
                "unclosed doc string",
                "Feature: X\n  Scenario: a\n    Given x\n      \"\"\"\n      never closed\n".into(),
                "gherkin-syntax",
            ),
            (
                "ragged table",
                "Feature: X\n  Scenario: a\n    Given x\n      | a | b |\n      | 1 |\n".into(),
                "gherkin-syntax",
            ),
            (
                "language",
                "# language: xx-nowhere\nFeature: X\n".into(),
                "gherkin-language",
            ),
            ("too long", long, "file-too-long"),
            ("tags only", "@a @b @c\n".into(), "gherkin-syntax"),
            (
                "NUL",
                "Feature: X\0\n  Scenario: \0\n    Given \u{202e}x\n".into(),
                // A name of no letter or digit gives no ID (it once gave `x.`).
                "missing-field",
            ),
            ("wide table", nested, ""),
            (
                "crlf",
                "Feature: X\r\n  Scenario: a\r\n    Given x\r\n".into(),
                "",
            ),
        ];
        for (label, text, code) in cases {
            let loaded = load(&text);
            let found = codes(&loaded);
            if code.is_empty() {
                assert!(
                    loaded
                        .diagnostics
                        .iter()
                        .all(|d| d.severity != Severity::Error),
                    "{label}: {:?}",
                    loaded.diagnostics
                );
            } else {
                assert_eq!(found, [code], "{label}: {:?}", loaded.diagnostics);
                let d = &loaded.diagnostics[0];
                assert_eq!(d.file.as_deref(), Some("tasks.feature"), "{label}");
            }
        }
        let unclosed = load("Feature: X\n  Scenario: a\n    Given x\n      \"\"\"\n      never\n");
        let d = &unclosed.diagnostics[0];
        assert_eq!((d.line, d.column), (Some(4), Some(7)));
        assert!(d.message.contains("never closed"), "{}", d.message);
        let ragged = load(
            "Feature: X\n  Scenario: a\n    Given x\n      | a | b\\| |\n      | 1 | 2 |\n      | 1 |\n    Then y\n",
        );
        let d = &ragged.diagnostics[0];
        assert!(d.message.contains("number of cells"), "{d:?}");
        assert_eq!((d.line, d.column), (Some(6), Some(7)));
        // An empty file is loaded as one, like an empty YAML file.
        let empty = load("# nothing yet\n");
        assert_eq!(empty.spec.files[0].kind, crate::model::DocumentKind::Empty);
    }

    #[test]
    fn a_second_feature_is_not_silently_a_description() {
        let loaded = load("Feature: A\nFeature: B\n  Scenario: S\n    When w\n");
        assert_eq!(codes(&loaded), ["second-feature"]);
    }

    #[test]
    fn unnamed_features_and_scenarios_get_names() {
        let loaded = load_sources(&[(
            "billing/refunds.feature".into(),
            "Feature:\n  Scenario:\n    When x\n".into(),
        )]);
        assert_eq!(codes(&loaded), ["unnamed-feature", "unnamed-scenario"]);
        assert_eq!(loaded.spec.scenarios[0].id, "refunds.line_2");
    }

    #[test]
    fn doc_strings_keep_indentation_deeper_than_their_delimiter() {
        let loaded = load(
            "Feature: D\n  Scenario: S\n    Given a body\n      # a comment before it\n      ```json\n        {\n          \"a\": 1\n        }\n\n     less indented\n      ```\n    When sent\n      \"\"\"\n      x\n      \"\"\"\n",
        );
        let s = &loaded.spec.scenarios[0];
        assert_eq!(s.given, ["a body\n  {\n    \"a\": 1\n  }\n\nless indented"]);
        assert_eq!(s.when.as_deref(), Some("sent\nx"));
    }

    #[test]
    fn doc_strings_lose_delimiters_content_type_and_indentation() {
        assert_eq!(doc_string("\n    a\n      b\n\n    c\n    "), "a\n  b\n\nc");
        assert_eq!(doc_string("json\n  {}\n  "), "{}");
        assert_eq!(doc_string(""), "");
        // Unicode whitespace is content, not indentation (and never a cut inside a char).
        assert_eq!(doc_string("\n  a\n\u{3000}b\n"), "  a\n\u{3000}b");
    }

    #[test]
    fn placeholders_are_filled_as_cucumber_fills_them() {
        let values = HashMap::from([("n", "5"), ("who am", "me")]);
        assert_eq!(
            fill("pay <n> to <who am> <x> a<b <<n>>", &values, 100).as_deref(),
            Some("pay 5 to me <x> a<b <5>")
        );
        assert_eq!(fill("<n><n><n>", &values, 3).as_deref(), Some("555"));
        assert_eq!(fill("<n><n><n>", &values, 2), None);
        assert_eq!(placeholders("<a> and <b c> and <d<e> f>"), ["a", "e"]);
        assert_eq!(split_outline_row_name("x (Example #12)"), Some(("x", 12)));
        assert_eq!(split_outline_row_name("x (Example #)"), None);
        assert_eq!(split_outline_row_name("x"), None);
    }
}
