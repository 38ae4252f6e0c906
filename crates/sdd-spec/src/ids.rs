//! Stable IDs and the test-name convention every generated test and every runner report shares.
//!
//! Derived IDs: scenario `domain.name_slug`, constraint `domain.category.name_slug`, where a slug
//! is lowercase ASCII letters, digits and single underscores. Explicit `id:` values may use
//! letters, digits, `_`, `-` and `.`.
//!
//! Test-name convention (the implementation server relies on it): a test for scenario `ID`
//! carries `sdd_<test_key(ID)>` in its name (`test_sdd_…` for pytest, `sdd_…` for cargo,
//! `Test_sdd_…` for go) and, where a runner allows free text (jest/vitest), the exact ID in square
//! brackets: `[ID]` — the full ID with its domain, `[domain.ID]` for an explicit ID that holds no
//! `.`, so that a parameter that happens to equal a short ID (`test_x[refund]`) never captures a
//! test. `test_key` lowercases and turns every run of other characters into one `_`;
//! mapping back is a lookup of the keys of all known IDs (validation reports key collisions), so
//! no runner's name mangling can lose the ID.

/// `Create a simple task!` → `create_a_simple_task`.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_sep = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_sep = true;
        }
    }
    out
}

/// The identifier-safe form of an ID used inside test names.
pub fn test_key(id: &str) -> String {
    slug(id)
}

pub fn derived_scenario_id(domain: &str, name: &str) -> String {
    format!("{}.{}", slug(domain), slug(name))
}

pub fn derived_constraint_id(domain: &str, category: &str, name: &str) -> String {
    format!("{}.{}.{}", slug(domain), slug(category), slug(name))
}

/// Why an explicit ID is not acceptable, if it is not.
pub fn check_explicit_id(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("the ID is empty".into());
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Some(format!(
            "the ID contains `{bad}`; use only letters, digits, `_`, `-` and `.`"
        ));
    }
    if slug(id).is_empty() {
        return Some("the ID needs at least one letter or digit".into());
    }
    None
}

/// What a free-text test name carries in brackets for a scenario: its ID when the ID holds its
/// domain (every derived ID, `domain.name_slug`, and a dotted explicit one), else
/// `domain_slug.ID`.
pub fn bracket_id(id: &str, domain: &str) -> String {
    if id.contains('.') {
        id.to_string()
    } else {
        format!("{}.{id}", slug(domain))
    }
}

/// Find the scenario a test name refers to, among `(id, domain)` pairs: a `[ID]` (see
/// [`bracket_id`]) wins, then the longest `sdd_<key>` match. For many names, build a
/// [`TestNameIndex`] once instead.
pub fn scenario_for_test_name<'a>(
    test_name: &str,
    scenarios: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<&'a str> {
    TestNameIndex::new(scenarios).scenario_for(test_name)
}

/// Maps runner test names to scenario IDs in time linear in the name, whatever the number of
/// scenarios: the bracketed forms for `[ID]` markers and a table from test key to ID for
/// `sdd_<key>`.
#[derive(Debug, Default)]
pub struct TestNameIndex<'a> {
    brackets: std::collections::HashMap<String, &'a str>,
    by_key: std::collections::HashMap<String, &'a str>,
    /// The most `_`-separated words any key has.
    longest_key: usize,
}

impl<'a> TestNameIndex<'a> {
    /// An index of `(id, domain)` pairs.
    pub fn new(scenarios: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut index = TestNameIndex::default();
        for (id, domain) in scenarios {
            index.brackets.insert(bracket_id(id, domain), id);
            let key = test_key(id);
            index.longest_key = index.longest_key.max(key.split('_').count());
            index.by_key.entry(key).or_insert(id);
        }
        index
    }

    pub fn scenario_for(&self, test_name: &str) -> Option<&'a str> {
        let mut rest = test_name;
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            let Some(close) = after.find(']') else { break };
            if let Some(id) = self.brackets.get(&after[..close]) {
                return Some(id);
            }
            rest = &after[close + 1..];
        }
        let normalised = slug(test_name);
        let words: Vec<&str> = normalised.split('_').collect();
        let mut best: Option<&'a str> = None;
        for (at, word) in words.iter().enumerate() {
            if *word != "sdd" {
                continue;
            }
            let last = words.len().min(at + 1 + self.longest_key);
            for end in (at + 2..=last).rev() {
                if let Some(id) = self.by_key.get(&words[at + 1..end].join("_")) {
                    if best.is_none_or(|b| test_key(b).len() < test_key(id).len()) {
                        best = Some(id);
                    }
                    break;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_stable() {
        assert_eq!(slug("Create a simple task"), "create_a_simple_task");
        assert_eq!(
            slug("  Cannot complete -- already completed task! "),
            "cannot_complete_already_completed_task"
        );
        assert_eq!(
            derived_scenario_id("Task Management System", "List tasks filtered by status"),
            "task_management_system.list_tasks_filtered_by_status"
        );
    }

    #[test]
    fn test_names_map_back_in_every_runner_style() {
        let ids = [
            ("tasks.create_a_task", "Tasks"),
            ("tasks.create_a_task_twice", "Tasks"),
            ("TM-7", "Tasks"),
            ("refund", "Billing"),
        ];
        let cases = [
            (
                "tests/test_tasks.py::TestScenarios::test_sdd_tasks_create_a_task",
                Some("tasks.create_a_task"),
            ),
            (
                "sdd_tasks_create_a_task_twice",
                Some("tasks.create_a_task_twice"),
            ),
            ("Test_sdd_tasks_create_a_task", Some("tasks.create_a_task")),
            ("scenarios > [tasks.TM-7] Cancel a task", Some("TM-7")),
            // A short ID alone in brackets is a parameter, not a scenario's mark.
            ("scenarios > [TM-7] Cancel a task", None),
            ("tests/test_b.py::test_helper[refund]", None),
            (
                "tests/test_b.py::test_helper[billing.refund]",
                Some("refund"),
            ),
            (
                "[tasks.create_a_task] Create a task",
                Some("tasks.create_a_task"),
            ),
            ("test_sdd_tm_7", Some("TM-7")),
            ("test_unrelated", None),
            ("test_sdd_tasks_create_a_taskforce", None),
        ];
        for (name, expected) in cases {
            assert_eq!(scenario_for_test_name(name, ids), expected, "{name}");
        }
    }

    #[test]
    fn explicit_ids_are_checked() {
        assert!(check_explicit_id("TM-001").is_none());
        assert!(check_explicit_id("tm 001").is_some());
        assert!(check_explicit_id("--").is_some());
    }
}
