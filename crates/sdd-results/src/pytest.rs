//! pytest terminal output. Run with `-v` (one `file.py::test STATUS` line per test) and `-ra`
//! (the short summary: each failure, error, skip, xfail and failing subtest with its message);
//! the `FAILURES` and `ERRORS` sections give each failure's `E` lines and a short excerpt, and
//! the final line (`= 6 failed, 3 passed, 1 skipped in 0.03s =`) is pytest's own count, which
//! the tests read must match. pytest-xdist's `[gw0]` prefix is read too.
//!
//! Subtests (pytest 9's `subtests` fixture, unittest's `self.subTest`) report `SUBPASSED` and
//! `SUBFAILED` lines of their own; pytest may still print the parent `PASSED`, so a failing
//! subtest makes its parent test failed here.

use std::collections::{HashMap, HashSet};

use super::{relevant_excerpt, Outcome, ParsedResults, ReconcileStatus, Reconciliation, TestCase};

const STATUSES: &[&str] = &["PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL", "XPASS"];
const SUB_STATUSES: &[&str] = &["SUBPASSED", "SUBFAILED", "SUBSKIPPED"];

/// How to have pytest list every test and explain every failure.
const LIST_EVERY_TEST: &str = "run pytest with `-v -ra`: `-v` lists every test by name, `-ra` gives the summary of failures, skips and subtests";

/// One test (or subtest) outcome as pytest printed it, on a `-v` line or in the summary.
struct Report<'t> {
    node: &'t str,
    status: &'static str,
    /// The subtest (`[msg] (a=1)`, `(total=11)`), for a `SUB…` status.
    sub: Option<&'t str>,
    message: Option<String>,
}

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    let mut reports: Vec<Report> = Vec::new();
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut in_failures = false;
    let mut open: Option<(String, String)> = None;
    let mut final_counts: Option<Vec<(String, usize)>> = None;
    let mut collection_errors: Vec<String> = Vec::new();
    // Node IDs seen on `-v` lines: the summary's `STATUS node - message` is split after one.
    let mut known: HashSet<&str> = HashSet::new();
    // What pytest collected and selected; the tests it started (`-v` prints the node before
    // running it when the test writes to the terminal, `-s`); why it stopped early.
    let mut collected: Option<Collected> = None;
    let mut started: Vec<String> = Vec::new();
    let mut stopped: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(counts) = collected_line(line) {
            collected = Some(counts);
            continue;
        }
        if let Some(why) = line
            .strip_prefix("!!!")
            .and_then(|l| l.strip_suffix("!!!"))
            .map(|l| l.trim_matches('!').trim())
        {
            if !why.is_empty() {
                stopped.push(why.to_string());
            }
            continue;
        }
        if let Some(counts) = final_line(line) {
            sections.extend(open.take());
            in_failures = false;
            final_counts = Some(counts);
            continue;
        }
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
        if let Some(report) = verbose_line(line) {
            known.insert(report.node);
            reports.push(report);
        } else if let Some(node) = started_line(line) {
            started.push(node);
        } else if let Some(report) = summary_line(line, &known) {
            reports.push(report);
        } else if let Some(rest) = line.strip_prefix("ERROR ") {
            // `ERROR tests/test_x.py - ImportError: …`: a file that could not be collected.
            if !rest.contains("::") {
                let file = rest.split(" - ").next().unwrap_or(rest).trim().to_string();
                parsed
                    .problems
                    .push(format!("pytest could not collect {}", rest.trim()));
                collection_errors.push(file);
            }
        }
    }
    sections.extend(open.take());

    let counted = count_reports(&reports, collection_errors.len());
    // Each test once, its latest status deciding (a teardown ERROR after PASSED fails it).
    let mut subfailures: HashMap<String, Vec<(String, Option<String>)>> = HashMap::new();
    for report in reports {
        if let Some(sub) = report.sub {
            if report.status == "SUBFAILED" {
                let failures = subfailures.entry(report.node.to_string()).or_default();
                if !failures.iter().any(|(s, _)| s == sub) {
                    failures.push((sub.to_string(), report.message));
                }
            }
            continue;
        }
        let mut case = TestCase::new(report.node, outcome_of(report.status));
        case.message = report
            .message
            .or_else(|| (report.status == "XFAIL").then(|| "expected failure".to_string()));
        parsed.push(case);
    }
    // Each test is one case (`push` keeps one per node): the tests that reported an outcome.
    let tests_read = parsed.cases.len();
    let never_ended: Vec<String> = started
        .into_iter()
        .filter(|n| !parsed.contains(n))
        .collect();
    attach_sections(&mut parsed, sections, &mut subfailures);
    for (node, failures) in subfailures {
        let Some(case) = parsed.latest_mut(&node) else {
            // A subtest of a test never listed (no `-v`): the reconciliation tells it.
            continue;
        };
        case.outcome = Outcome::Failed;
        // pytest's own word on the parent (`contains 1 failed subtest`, cut to `contains 1
        // failed s...` in the summary) says less than the subtest's assertion.
        if case
            .message
            .as_deref()
            .is_none_or(|m| m.starts_with("contains ") && m.contains(" failed s"))
        {
            let (sub, message) = &failures[0];
            case.message = Some(match message {
                Some(m) => format!("subtest {sub} failed: {m}"),
                None => format!("subtest {sub} failed"),
            });
        }
    }
    let mut reconciliation = match final_counts {
        Some(counts) => {
            if let Some(deselected) = counts
                .iter()
                .find(|(w, _)| w == "deselected")
                .map(|(_, n)| *n)
            {
                parsed.filtered_out += deselected;
            }
            reconcile(&counts, &counted, collected.map_or(0, |c| c.skipped))
        }
        None => Reconciliation::missing(
            "pytest's final line",
            "the run did not finish, or its output was cut",
        ),
    };
    if let Some(collected) = collected {
        if collected.selected != tests_read {
            reconciliation.status = ReconcileStatus::Differs;
            reconciliation.differences.push(format!(
                "pytest collected {} test(s) to run, but {tests_read} reported an outcome",
                collected.selected
            ));
        }
    }
    if !never_ended.is_empty() {
        reconciliation.status = ReconcileStatus::Differs;
        reconciliation.differences.push(format!(
            "{} test(s) started but their outcome was never read ({}): output a test writes to the terminal (`-s`) can hide it",
            never_ended.len(),
            never_ended.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if !stopped.is_empty() {
        reconciliation.status = ReconcileStatus::Differs;
        reconciliation.differences.push(format!(
            "pytest stopped early ({}): tests after that point never ran",
            stopped.join("; ")
        ));
    }
    if !collection_errors.is_empty() {
        reconciliation.status = ReconcileStatus::Differs;
        reconciliation.differences.push(format!(
            "pytest could not collect {}, so the tests in it are unknown",
            collection_errors.join(", ")
        ));
    }
    parsed.reconciliation = reconciliation;
    parsed
}

/// What pytest's `collected` line says it is to run.
#[derive(Clone, Copy)]
struct Collected {
    /// Tests to run: collected, less those deselected.
    selected: usize,
    /// Whole modules skipped at collection (`pytest.skip(allow_module_level=True)`): counted
    /// in the final line's `skipped`, never listed by node.
    skipped: usize,
}

/// `collected 13 items`, `collecting ... collected 4 items / 1 deselected / 3 selected`,
/// `collected 0 items / 1 skipped`, and pytest-xdist's `2 workers [4 items]`.
fn collected_line(line: &str) -> Option<Collected> {
    let line = line.trim();
    let line = line.strip_prefix("collecting ... ").unwrap_or(line);
    if let Some(rest) = line.strip_prefix("collected ") {
        let mut parts = rest.split(" / ");
        let (n, word) = parts.next()?.split_once(' ')?;
        if !word.starts_with("item") {
            return None;
        }
        let mut out = Collected {
            selected: n.parse().ok()?,
            skipped: 0,
        };
        let mut deselected = 0;
        let mut selected = None;
        for part in parts {
            let (n, word) = part.trim().split_once(' ')?;
            let n: usize = n.parse().ok()?;
            match word {
                "deselected" => deselected = n,
                "selected" => selected = Some(n),
                "skipped" => out.skipped = n,
                _ => {}
            }
        }
        out.selected = selected.unwrap_or(out.selected.saturating_sub(deselected));
        return Some(out);
    }
    // xdist: `2 workers [4 items]`.
    let (workers, items) = line.split_once(" [")?;
    let (n, word) = workers.split_once(' ')?;
    n.parse::<usize>().ok()?;
    if !word.starts_with("worker") {
        return None;
    }
    let (n, rest) = items.split_once(' ')?;
    rest.starts_with("item").then(|| Collected {
        selected: n.parse().unwrap_or(0),
        skipped: 0,
    })
}

/// `-v` prints a test's node before running it when the test writes to the terminal (`-s`),
/// its outcome after the output: `file.py::test_x ` alone on its line.
fn started_line(line: &str) -> Option<String> {
    if !line.ends_with(' ') || line.starts_with(' ') || line.starts_with('[') {
        return None;
    }
    let node = line.trim();
    let (file, _) = node.split_once("::")?;
    (file.ends_with(".py") && !file.contains(' ')).then(|| node.to_string())
}

/// Statuses as pytest counts them on its final line, each (status, test, subtest) once: `-v`
/// lines and summary lines repeat each other.
fn count_reports(reports: &[Report], collection_errors: usize) -> HashMap<&'static str, usize> {
    let mut seen: HashSet<(&str, &str, Option<&str>)> = HashSet::new();
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for r in reports {
        if seen.insert((r.status, r.node, r.sub)) {
            *counts.entry(r.status).or_default() += 1;
        }
    }
    *counts.entry("ERROR").or_default() += collection_errors;
    counts
}

/// pytest's final line beside the same counts from the reports read. A failing subtest is in
/// pytest's `failed` (pytest 9; the older plugin counted `subtests failed` apart); passing
/// subtests are left out, since unittest-style ones are never listed.
fn reconcile(
    said: &[(String, usize)],
    read: &HashMap<&'static str, usize>,
    modules_skipped: usize,
) -> Reconciliation {
    let runner = |words: &[&str]| -> usize {
        said.iter()
            .filter(|(w, _)| words.contains(&w.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let got = |status: &str| read.get(status).copied().unwrap_or(0);
    let subtests_apart = said.iter().any(|(w, _)| w == "subtests failed");
    let mut runner_counts = vec![
        ("passed", runner(&["passed"])),
        ("failed", runner(&["failed"])),
        ("skipped", runner(&["skipped"])),
        ("xfailed", runner(&["xfailed"])),
        ("xpassed", runner(&["xpassed"])),
        ("errors", runner(&["error", "errors"])),
    ];
    let mut read_counts = vec![
        ("passed", got("PASSED")),
        (
            "failed",
            got("FAILED") + if subtests_apart { 0 } else { got("SUBFAILED") },
        ),
        ("skipped", got("SKIPPED") + modules_skipped),
        ("xfailed", got("XFAIL")),
        ("xpassed", got("XPASS")),
        ("errors", got("ERROR")),
    ];
    if subtests_apart {
        runner_counts.push(("subtests failed", runner(&["subtests failed"])));
        read_counts.push(("subtests failed", got("SUBFAILED")));
    }
    Reconciliation::compare(
        "pytest's final line",
        &runner_counts,
        &read_counts,
        LIST_EVERY_TEST,
    )
}

/// Give each `FAILURES`/`ERRORS` section to its test (or subtest): by title, and among tests
/// of one title (`test_x` in two files) to the one whose file the section names, else in
/// order. The `E` lines become the message, the section the excerpt.
fn attach_sections(
    parsed: &mut ParsedResults,
    sections: Vec<(String, String)>,
    subfailures: &mut HashMap<String, Vec<(String, Option<String>)>>,
) {
    let mut by_title: HashMap<String, Vec<usize>> = HashMap::new();
    // Every test by its section title, for subtests' sections: built only if one comes.
    let mut titles_of: Option<HashMap<String, String>> = None;
    for (at, case) in parsed.cases.iter().enumerate() {
        if case.outcome == Outcome::Failed {
            by_title
                .entry(section_name(&case.name))
                .or_default()
                .push(at);
        }
    }
    let mut taken: HashSet<usize> = HashSet::new();
    for (title, body) in sections {
        let test = title
            .trim_start_matches("ERROR at setup of ")
            .trim_start_matches("ERROR at teardown of ");
        let message = e_lines(&body);
        if let Some(candidates) = by_title.get(test) {
            let file_named = candidates.iter().copied().find(|at| {
                !taken.contains(at)
                    && parsed.cases[*at]
                        .name
                        .split_once("::")
                        .is_some_and(|(file, _)| body.contains(&format!("{file}:")))
            });
            let chosen =
                file_named.or_else(|| candidates.iter().copied().find(|at| !taken.contains(at)));
            if let Some(at) = chosen {
                taken.insert(at);
                let case = &mut parsed.cases[at];
                if message.is_some() {
                    case.message = message;
                }
                case.excerpt = relevant_excerpt(&body);
            }
            continue;
        }
        // A subtest's section: `test_x [msg] (a=1)`, `Class.test_x (total=11)`.
        let titles = titles_of.get_or_insert_with(|| {
            parsed
                .cases
                .iter()
                .map(|c| (section_name(&c.name), c.name.clone()))
                .collect()
        });
        // `Class.test_x (total=11)`: the title up to each space, longest first.
        let Some((node, sub)) = test
            .match_indices(' ')
            .map(|(at, _)| at)
            .rev()
            .find_map(|at| {
                titles
                    .get(&test[..at])
                    .map(|node| (node.clone(), test[at + 1..].to_string()))
            })
        else {
            continue;
        };
        let failures = subfailures.entry(node.clone()).or_default();
        match failures.iter_mut().find(|(s, _)| *s == sub) {
            Some((_, m)) => *m = message.clone().or(m.take()),
            None => failures.push((sub, message.clone())),
        }
        if let Some(case) = parsed.latest_mut(&node) {
            if case.excerpt.is_none() {
                case.excerpt = relevant_excerpt(&body);
            }
        }
    }
}

/// The `E   ` lines of a section: the assertion as pytest explains it.
fn e_lines(body: &str) -> Option<String> {
    let lines: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("E ").map(str::trim))
        .filter(|l| !l.is_empty())
        .take(6)
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// `==== FAILURES ====` → `FAILURES`; `____ test_x ____` → `test_x`.
fn banner(line: &str, fill: char) -> Option<&str> {
    let inner = line.strip_prefix(fill)?.strip_suffix(fill)?;
    let inner = inner.trim_matches(fill);
    let title = inner.strip_prefix(' ')?.strip_suffix(' ')?;
    (!title.is_empty()).then_some(title)
}

/// pytest's final line: `= 6 failed, 3 passed, 1 xfailed, 2 subtests passed in 0.03s =` (with
/// `-q`, without the `=`), or `no tests ran in 0.01s`.
fn final_line(line: &str) -> Option<Vec<(String, usize)>> {
    let inner = line.trim().trim_matches('=').trim();
    let (counts, time) = inner.rsplit_once(" in ")?;
    let seconds = time.split_whitespace().next()?.strip_suffix('s')?;
    seconds.parse::<f64>().ok()?;
    if counts == "no tests ran" {
        return Some(Vec::new());
    }
    counts
        .split(", ")
        .map(|part| {
            let (n, word) = part.split_once(' ')?;
            Some((word.to_string(), n.parse().ok()?))
        })
        .collect()
}

/// How pytest titles a failure section: the node ID without its file, classes joined by `.`.
fn section_name(node_id: &str) -> String {
    node_id
        .split_once("::")
        .map(|(_, rest)| rest.replace("::", "."))
        .unwrap_or_else(|| node_id.to_string())
}

/// `-ra` summary: `FAILED file.py::test_x[3 - refund] - AssertionError: …`,
/// `SUBFAILED[msg] (a=1) file.py::test_x`, `SUBFAILED(total=11) file.py::Class::test_x`.
fn summary_line<'t>(line: &'t str, known: &HashSet<&str>) -> Option<Report<'t>> {
    if let Some(sub_status) = SUB_STATUSES.iter().find(|s| line.starts_with(**s)) {
        let rest = &line[sub_status.len()..];
        // The subtest's description, then the node: the first word holding `::` starts it.
        let at = rest.match_indices(' ').map(|(at, _)| at + 1).find(|at| {
            rest[*at..]
                .split(' ')
                .next()
                .is_some_and(|w| w.contains("::"))
        })?;
        let (node, message) = split_node(rest[at..].trim(), known);
        return Some(Report {
            node,
            status: sub_status,
            sub: Some(rest[..at].trim()),
            message,
        });
    }
    let (status, rest) = line.split_once(' ')?;
    let status = STATUSES.iter().find(|s| **s == status)?;
    let (node, message) = split_node(rest, known);
    if !node.contains("::") || node.starts_with('[') {
        return None;
    }
    Some(Report {
        node,
        status,
        sub: None,
        message,
    })
}

/// `node - message`, where the node itself may hold ` - ` (a parameter ID): after a node seen
/// on a `-v` line if one fits, else after the node's closing `]`, else at the first ` - `.
fn split_node<'a>(rest: &'a str, known: &HashSet<&str>) -> (&'a str, Option<String>) {
    let rest = rest.trim_end();
    let message = |after: &str| {
        after
            .strip_prefix(" - ")
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
    };
    // Each place the node may end (a ` - ` or the end), longest first: a hash lookup each.
    let ends = rest
        .match_indices(" - ")
        .map(|(at, _)| at)
        .chain([rest.len()])
        .collect::<Vec<_>>();
    if let Some(end) = ends
        .into_iter()
        .rev()
        .find(|end| known.contains(&rest[..*end]))
    {
        return (&rest[..end], message(&rest[end..]));
    }
    if let Some(end) = parameters_end(rest) {
        return (&rest[..end], message(&rest[end..]));
    }
    match rest.split_once(" - ") {
        Some((node, m)) => (node, Some(m.trim().to_string())),
        None => (rest, None),
    }
}

/// Where a node ID with parameters ends: after the `]` that closes the `[` opened in its last
/// `::` part, when a ` - ` or nothing follows it.
fn parameters_end(rest: &str) -> Option<usize> {
    let name_start = rest.find("::")?;
    let first_dash = rest.find(" - ").unwrap_or(rest.len());
    let open = rest[name_start..].find('[')? + name_start;
    if open > first_dash {
        return None;
    }
    let mut depth = 0usize;
    for (at, c) in rest[open..].char_indices() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let end = open + at + 1;
                    let after = &rest[end..];
                    if after.is_empty() || after.starts_with(" - ") {
                        return Some(end);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// `-v`: `file.py::test_x PASSED [ 50%]`, `file.py::test_y[a b] SKIPPED (reason) [ 75%]`,
/// `file.py::test_z SUBFAILED[msg] (a=1) [ 83%]`, or with xdist `[gw0] [ 50%] PASSED
/// file.py::test_x`. Node IDs may contain spaces (parameters).
fn verbose_line(line: &str) -> Option<Report<'_>> {
    let line = line.trim_end();
    fn report<'t>(
        node: &'t str,
        status: &'static str,
        sub: Option<&'t str>,
        message: Option<String>,
    ) -> Option<Report<'t>> {
        let node = node.trim();
        (node.contains("::") && !STATUSES.iter().any(|s| node.starts_with(s))).then_some(Report {
            node,
            status,
            sub,
            message,
        })
    }
    if line.starts_with("[gw") {
        // xdist: the status comes first, the node ID is the rest.
        let (status, node) = STATUSES.iter().chain(SUB_STATUSES).find_map(|status| {
            let at = line.match_indices(status).map(|(at, _)| at).find(|at| {
                line[..*at].ends_with(' ') && line[at + status.len()..].starts_with(' ')
            })?;
            Some((*status, line[at + status.len() + 1..].trim()))
        })?;
        return report(node, status, None, None);
    }
    // Without the progress marker `[ 50%]`, the line ends with the status, or with the status
    // and a reason in parentheses.
    let mut body = line;
    if body.ends_with("%]") {
        if let Some(at) = body.rfind('[') {
            body = body[..at].trim_end();
        }
    }
    // A subtest: `node SUBFAILED[msg] (a=1)`.
    if body.contains(" SUB") {
        for status in SUB_STATUSES {
            if let Some(at) = body.find(status).filter(|at| body[..*at].ends_with(' ')) {
                let sub = body[at + status.len()..].trim();
                if sub.starts_with('[') || sub.starts_with('(') {
                    return report(&body[..at - 1], status, Some(sub), None);
                }
            }
        }
    }
    let (node, status, reason) = match body.rsplit_once(' ') {
        Some((node, last)) if STATUSES.contains(&last) => {
            (node, *STATUSES.iter().find(|s| **s == last)?, None)
        }
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
    report(node, status, None, reason)
}

fn outcome_of(status: &str) -> Outcome {
    match status {
        "PASSED" | "XPASS" => Outcome::Passed,
        "SKIPPED" | "XFAIL" => Outcome::Skipped,
        _ => Outcome::Failed,
    }
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
==================== 1 failed, 3 passed, 1 skipped in 0.01s ====================
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
        assert_eq!(
            parsed.reconciliation.status,
            crate::ReconcileStatus::Agrees,
            "{:?}",
            parsed.reconciliation
        );
    }

    #[test]
    fn collection_errors_are_problems() {
        let parsed = parse(
            "ERROR tests/test_x.py - ModuleNotFoundError: No module named 'foo'\n=== 1 error in 0.05s ===\n",
        );
        assert!(parsed.problems[0].contains("could not collect tests/test_x.py"));
        // The file's tests are unknown: the run vouches for nothing it might have held.
        assert!(!parsed.reconciliation.status.vouches());
        assert!(!parsed.is_complete());
    }

    #[test]
    fn section_names_follow_pytest() {
        assert_eq!(section_name("a/t.py::TestA::test_b[x]"), "TestA.test_b[x]");
    }

    /// Summary lines are split after the node, whatever its parameters hold.
    #[test]
    fn summary_lines_split_after_the_node() {
        // Unbalanced brackets are read right only with the node from its `-v` line.
        let known: HashSet<&str> = ["t.py::test_k[a - b]", "t.py::test_w[a]] - x]"].into();
        let table: &[(&str, &str, Option<&str>)] = &[
            (
                "FAILED t.py::test_x[3 - refund] - Asserti...",
                "t.py::test_x[3 - refund]",
                Some("Asserti..."),
            ),
            (
                "FAILED t.py::test_x[3 - refund]",
                "t.py::test_x[3 - refund]",
                None,
            ),
            (
                "FAILED t.py::test_x[a[0] - b] - m - n",
                "t.py::test_x[a[0] - b]",
                Some("m - n"),
            ),
            (
                "FAILED t.py::test_k[a - b] - boom",
                "t.py::test_k[a - b]",
                Some("boom"),
            ),
            (
                "FAILED t.py::test_y - AssertionError: a - b",
                "t.py::test_y",
                Some("AssertionError: a - b"),
            ),
            (
                "FAILED t.py::test_w[a]] - x] - m",
                "t.py::test_w[a]] - x]",
                Some("m"),
            ),
            (
                "XFAIL t.py::test_z - reason",
                "t.py::test_z",
                Some("reason"),
            ),
        ];
        for (line, node, message) in table {
            let report = summary_line(line, &known).unwrap();
            assert_eq!(
                (report.node, report.message.as_deref()),
                (*node, *message),
                "{line}"
            );
        }
        let sub = summary_line("SUBFAILED[amount] (amount=-1) t.py::test_v", &known).unwrap();
        assert_eq!(
            (sub.node, sub.sub),
            ("t.py::test_v", Some("[amount] (amount=-1)"))
        );
    }

    #[test]
    fn final_lines() {
        type Counts = Option<Vec<(&'static str, usize)>>;
        let table: &[(&str, Counts)] = &[
            (
                "= 6 failed, 3 passed, 1 error, 2 subtests passed in 0.03s =",
                Some(vec![
                    ("failed", 6),
                    ("passed", 3),
                    ("error", 1),
                    ("subtests passed", 2),
                ]),
            ),
            ("4 passed in 1.20s (0:00:01)", Some(vec![("passed", 4)])),
            ("======= no tests ran in 0.01s =======", Some(vec![])),
            ("t.py::test_in 0.5s PASSED", None),
            ("=== FAILURES ===", None),
        ];
        for (line, expected) in table {
            let expected = expected.as_ref().map(|v| {
                v.iter()
                    .map(|(w, n)| (w.to_string(), *n))
                    .collect::<Vec<_>>()
            });
            assert_eq!(final_line(line), expected, "{line}");
        }
    }

    /// What pytest says it was to run, against the tests that reported an outcome: a run
    /// stopped by `pytest.exit`, `-x` or an interrupt, or a test whose outcome line its own
    /// output hid (`-s`), differs even when the final line's counts agree.
    #[test]
    fn tests_collected_but_never_reported_are_a_difference() {
        let cases: &[(&str, bool)] = &[
            (
                "collecting ... collected 2 items\n\nt.py::test_a PASSED [ 50%]\nt.py::test_b \n!!!!!!! _pytest.outcomes.Exit: bailing out !!!!!!!\n==== 1 passed in 0.01s ====\n",
                false,
            ),
            (
                "collected 3 items / 1 deselected / 2 selected\n\nt.py::test_a PASSED [ 50%]\nt.py::test_b PASSED [100%]\n==== 2 passed, 1 deselected in 0.01s ====\n",
                true,
            ),
            (
                "collected 0 items / 1 skipped\n\n==== 1 skipped in 0.01s ====\n",
                true,
            ),
            (
                "created: 2/2 workers\n2 workers [2 items]\n\n[gw0] [ 50%] PASSED t.py::test_a\n[gw1] [100%] PASSED t.py::test_b\n==== 2 passed in 0.5s ====\n",
                true,
            ),
            (
                "collected 2 items\n\nt.py::test_a \nt.py::test_fake PASSED\nPASSED [ 50%]\nt.py::test_b PASSED [100%]\n==== 2 passed in 0.01s ====\n",
                false,
            ),
        ];
        for (text, complete) in cases {
            let parsed = parse(text);
            assert_eq!(
                parsed.is_complete(),
                *complete,
                "{text}\n{:?}",
                parsed.reconciliation
            );
        }
        assert_eq!(parse(cases[1].0).filtered_out, 1);
    }

    #[test]
    fn a_run_cut_short_has_no_final_line() {
        let parsed = parse("t.py::test_a PASSED [ 50%]\n");
        assert_eq!(
            parsed.reconciliation.status,
            crate::ReconcileStatus::SummaryMissing
        );
    }
}
