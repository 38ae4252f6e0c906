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
        }
    }
    sections.extend(open.take());
    for (title, body) in sections {
        let test = title
            .trim_start_matches("ERROR at setup of ")
            .trim_start_matches("ERROR at teardown of ");
        let Some(case) = parsed
            .cases
            .iter_mut()
            .find(|c| c.outcome == Outcome::Failed && section_name(&c.name) == test)
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
    if !node.contains("::") || node.contains(' ') {
        return None;
    }
    let mut case = TestCase::new(node, outcome);
    case.message = message.or_else(|| (status == "XFAIL").then(|| "expected failure".into()));
    Some(case)
}

/// `-v`: `file.py::test_x PASSED [ 50%]`, `file.py::test_y SKIPPED (reason) [ 75%]`, or with
/// xdist `[gw0] [ 50%] PASSED file.py::test_x`.
fn verbose_line(line: &str) -> Option<TestCase> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let status_at = words.iter().position(|w| STATUSES.contains(w))?;
    let node_at = words.iter().position(|w| w.contains("::"))?;
    let outcome = outcome_of(words[status_at])?;
    let mut case = TestCase::new(words[node_at], outcome);
    if status_at > node_at {
        // A reason in parentheses may follow the status.
        let after = words[status_at + 1..].join(" ");
        if let Some(reason) = after
            .strip_prefix('(')
            .and_then(|r| r.split_once(')'))
            .map(|(r, _)| r.to_string())
        {
            case.message = Some(reason);
        }
    }
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
            ]
        );
        assert!(parsed.cases[1]
            .excerpt
            .as_deref()
            .unwrap()
            .contains(">       assert a == b"));
    }

    #[test]
    fn section_names_follow_pytest() {
        assert_eq!(section_name("a/t.py::TestA::test_b[x]"), "TestA.test_b[x]");
    }
}
