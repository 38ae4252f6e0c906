//! pytest terminal output. Run with `-v` (one `file.py::test STATUS` line per test) and `-rA`
//! (the short summary with each failure's message); the `FAILURES` section gives each failure's
//! `E` lines and a short excerpt. Both forms are read, and pytest-xdist's `[gw0]` prefix too.

use super::{relevant_excerpt, Outcome, ParsedResults, TestCase};

const STATUSES: &[&str] = &["PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL", "XPASS"];

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut in_failures = false;
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(title) = banner(line, '=') {
            sections.extend(open.take());
            in_failures = title == "FAILURES" || title == "ERRORS";
            continue;
        }
        if in_failures {
            if let Some(title) = banner(line, '_') {
                sections.extend(open.take());
                open = Some((title.to_string(), String::new()));
            } else if let Some((_, body)) = open.as_mut() {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        if let Some(case) = summary_line(line).or_else(|| verbose_line(line)) {
            parsed.push(case);
        } else if let Some(rest) = line.strip_prefix("ERROR ") {
            // `ERROR tests/test_x.py - ImportError: …`: a file that could not be collected.
            if !rest.contains("::") {
                parsed
                    .problems
                    .push(format!("pytest could not collect {}", rest.trim()));
            }
        }
    }
    sections.extend(open.take());
    let failed_by_section: std::collections::HashMap<String, usize> = parsed
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.outcome == Outcome::Failed)
        .map(|(i, c)| (section_name(&c.name), i))
        .collect();
    for (title, body) in sections {
        let test = title
            .trim_start_matches("ERROR at setup of ")
            .trim_start_matches("ERROR at teardown of ");
        let Some(case) = failed_by_section
            .get(test)
            .and_then(|i| parsed.cases.get_mut(*i))
        else {
            continue;
        };
        let e_lines: Vec<&str> = body
            .lines()
            .filter_map(|l| l.strip_prefix("E ").map(str::trim))
            .filter(|l| !l.is_empty())
            .take(6)
            .collect();
        if !e_lines.is_empty() {
            case.message = Some(e_lines.join("\n"));
        }
        case.excerpt = relevant_excerpt(&body);
    }
    parsed
}

/// `==== FAILURES ====` → `FAILURES`; `____ test_x ____` → `test_x`.
fn banner(line: &str, fill: char) -> Option<&str> {
    let inner = line.strip_prefix(fill)?.strip_suffix(fill)?;
    let inner = inner.trim_matches(fill);
    let title = inner.strip_prefix(' ')?.strip_suffix(' ')?;
    (!title.is_empty()).then_some(title)
}

/// How pytest titles a failure section: the node ID without its file, classes joined by `.`.
fn section_name(node_id: &str) -> String {
    node_id
        .split_once("::")
        .map(|(_, rest)| rest.replace("::", "."))
        .unwrap_or_else(|| node_id.to_string())
}

/// `-rA` summary: `FAILED file.py::test_x - AssertionError: …`
fn summary_line(line: &str) -> Option<TestCase> {
    let (status, rest) = line.split_once(' ')?;
    let outcome = outcome_of(status)?;
    let (node, message) = match rest.split_once(" - ") {
        Some((node, message)) => (node, Some(message.trim().to_string())),
        None => (rest, None),
    };
    let node = node.trim();
    if !node.contains("::") || node.starts_with('[') {
        return None;
    }
    let mut case = TestCase::new(node, outcome);
    case.message = message.or_else(|| (status == "XFAIL").then(|| "expected failure".into()));
    Some(case)
}

/// `-v`: `file.py::test_x PASSED [ 50%]`, `file.py::test_y[a b] SKIPPED (reason) [ 75%]`, or
/// with xdist `[gw0] [ 50%] PASSED file.py::test_x`. Node IDs may contain spaces (parameters).
fn verbose_line(line: &str) -> Option<TestCase> {
    let line = line.trim_end();
    if line.starts_with("[gw") {
        // xdist: the status comes first, the node ID is the rest.
        let (status, node) = STATUSES.iter().find_map(|status| {
            let at = line.find(&format!(" {status} "))?;
            Some((*status, line[at + status.len() + 2..].trim()))
        })?;
        return node
            .contains("::")
            .then(|| TestCase::new(node, outcome_of(status).unwrap_or(Outcome::Failed)));
    }
    // Without the progress marker `[ 50%]`, the line ends with the status, or with the status
    // and a reason in parentheses.
    let mut body = line;
    if body.ends_with("%]") {
        if let Some(at) = body.rfind('[') {
            body = body[..at].trim_end();
        }
    }
    let (node, status, reason) = match body.rsplit_once(' ') {
        Some((node, last)) if STATUSES.contains(&last) => (node, last, None),
        _ if body.ends_with(')') => {
            // `node SKIPPED (reason)`: the reason may itself hold spaces and parentheses.
            let (at, status) = STATUSES.iter().find_map(|status| {
                let marker = format!(" {status} (");
                body.find(&marker).map(|at| (at, *status))
            })?;
            let reason = &body[at + status.len() + 3..body.len() - 1];
            (&body[..at], status, Some(reason.to_string()))
        }
        _ => return None,
    };
    let node = node.trim();
    if !node.contains("::") || STATUSES.iter().any(|s| node.starts_with(s)) {
        return None;
    }
    let mut case = TestCase::new(node, outcome_of(status)?);
    case.message = reason;
    Some(case)
}

fn outcome_of(status: &str) -> Option<Outcome> {
    Some(match status {
        "PASSED" | "XPASS" => Outcome::Passed,
        "FAILED" | "ERROR" => Outcome::Failed,
        "SKIPPED" | "XFAIL" => Outcome::Skipped,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_summary_and_sections() {
        let text = "\
t.py::TestA::test_one PASSED                                [ 33%]
t.py::test_two[1-2] FAILED                                  [ 66%]
t.py::test_three SKIPPED (no db)                            [100%]
[gw1] [100%] PASSED t.py::test_four
t.py::test_five[a b-PASSED] PASSED                          [100%]
=================================== FAILURES ===================================
________________________________ test_two[1-2] _________________________________

    def test_two(a, b):
>       assert a == b
E       assert 1 == 2

t.py:9: AssertionError
=========================== short test summary info ============================
FAILED t.py::test_two[1-2] - assert 1 == 2
SKIPPED [1] t.py:12: no db
";
        let parsed = parse(text);
        let got: Vec<_> = parsed
            .cases
            .iter()
            .map(|c| (c.name.as_str(), c.outcome, c.message.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("t.py::TestA::test_one", Outcome::Passed, None),
                (
                    "t.py::test_two[1-2]",
                    Outcome::Failed,
                    Some("assert 1 == 2")
                ),
                ("t.py::test_three", Outcome::Skipped, Some("no db")),
                ("t.py::test_four", Outcome::Passed, None),
                ("t.py::test_five[a b-PASSED]", Outcome::Passed, None),
            ]
        );
        assert!(parsed.cases[1]
            .excerpt
            .as_deref()
            .unwrap()
            .contains(">       assert a == b"));
    }

    #[test]
    fn collection_errors_are_problems() {
        let parsed = parse("ERROR tests/test_x.py - ModuleNotFoundError: No module named 'foo'\n");
        assert!(parsed.problems[0].contains("could not collect tests/test_x.py"));
    }

    #[test]
    fn section_names_follow_pytest() {
        assert_eq!(section_name("a/t.py::TestA::test_b[x]"), "TestA.test_b[x]");
    }
}
