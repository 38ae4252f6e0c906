//! `cargo nextest run` human output (nextest writes it to stderr): status lines such as
//! `PASS [   0.005s] (1/3) my-crate tests::name`, and after a failure the indented captured
//! `stdout ───` / `stderr ───` blocks. Pass `--status-level skip` to have skipped tests listed.

use super::libtest::{failure_message, own_section, runtime_died};
use super::{relevant_excerpt, Outcome, ParsedResults, Reconciliation, TestCase};

/// What to pass so nextest lists every test it skips.
const LIST_SKIPPED: &str = "pass `--status-level skip` (or `all`) so nextest lists every test it skips, and `--no-fail-fast` so it runs them all";

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    // The failing test whose captured output is being read, and that output.
    let mut capturing: Option<(String, String)> = None;
    let mut summary: Option<Vec<(String, usize)>> = None;
    for line in text.lines() {
        if let Some(counts) = summary_line(line) {
            finish(&mut parsed, capturing.take());
            summary = Some(counts);
            continue;
        }
        if let Some(case) = status_line(line) {
            finish(&mut parsed, capturing.take());
            if case.outcome == Outcome::Failed {
                capturing = Some((case.name.clone(), String::new()));
            }
            parsed.push(case);
            continue;
        }
        let Some((_, body)) = capturing.as_mut() else {
            continue;
        };
        if line.trim_start().starts_with("stderr ───") {
            // The panic went to stderr; of stdout keep only the test's own section (a
            // `#[should_panic]` verdict), not the libtest harness around it.
            *body = own_section(body);
            body.push_str("\n--- stderr ---\n");
        } else if line.starts_with('─') || line.trim_start().starts_with("Summary [") {
            finish(&mut parsed, capturing.take());
        } else if let Some(captured) = line.strip_prefix("    ") {
            body.push_str(captured);
            body.push('\n');
        } else if line.trim().is_empty() {
            body.push('\n');
        }
    }
    finish(&mut parsed, capturing.take());
    parsed.reconciliation = match summary {
        Some(counts) => reconcile(&parsed, &counts),
        None => Reconciliation::missing(
            "nextest's `Summary` line",
            "the run did not finish, or its output was cut (nextest writes it on stderr)",
        ),
    };
    parsed
}

/// nextest's counts beside the tests read: `passed` (flaky and leaky passes too), `failed`
/// (aborts and signals too, and the `timed out` nextest counts apart), `skipped`, and `not
/// run` (cancelled after a failure: never listed).
fn reconcile(parsed: &ParsedResults, counts: &[(String, usize)]) -> Reconciliation {
    let said = |words: &[&str]| -> usize {
        counts
            .iter()
            .filter(|(w, _)| words.contains(&w.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let runner = [
        ("passed", said(&["passed"])),
        ("failed", said(&["failed", "timed out", "exec failed"])),
        ("skipped", said(&["skipped"])),
        ("not run", said(&["not run"])),
    ];
    let read = [
        ("passed", parsed.count(Outcome::Passed)),
        ("failed", parsed.count(Outcome::Failed)),
        ("skipped", parsed.count(Outcome::Skipped)),
        ("not run", parsed.count(Outcome::NotRun)),
    ];
    Reconciliation::compare("nextest's `Summary` line", &runner, &read, LIST_SKIPPED)
}

/// `     Summary [   2.024s] 9 tests run: 5 passed, 4 failed, 2 skipped` (also `1 timed out`,
/// `3 not run`, `5 passed (1 slow, 1 flaky)`): each count by its words.
fn summary_line(line: &str) -> Option<Vec<(String, usize)>> {
    let rest = line.trim_start().strip_prefix("Summary [")?;
    let (_, rest) = rest.split_once(']')?;
    let (ran, counts) = rest.split_once(" run: ")?;
    let mut out = Vec::new();
    // `3/6 tests run`: cancelled after a failure (`--fail-fast`), the other 3 never ran.
    if let Some((ran, of)) = ran
        .split_whitespace()
        .next()
        .and_then(|n| n.split_once('/'))
    {
        let (ran, of): (usize, usize) = (ran.parse().ok()?, of.parse().ok()?);
        out.push(("not run".to_string(), of.saturating_sub(ran)));
    }
    let mut depth = 0usize;
    let mut plain = String::new();
    // Leave out parenthesised notes (`(1 slow)`): they count tests already counted.
    for c in counts.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    for part in plain.split(',') {
        let (n, word) = part.trim().split_once(' ')?;
        out.push((word.trim().to_string(), n.parse().ok()?));
    }
    Some(out)
}

fn finish(parsed: &mut ParsedResults, capture: Option<(String, String)>) {
    let Some((name, body)) = capture else { return };
    if let Some(case) = parsed.latest_mut(&name) {
        let explained = failure_message(&own_section(&body));
        let crashed = runtime_died(&body);
        case.message = match (case.message.take(), explained) {
            // `killed by SIGABRT` says less than the runtime's last words.
            (Some(signal), Some(words)) if crashed => Some(format!("{signal}: {words}")),
            (Some(message), _) => Some(message),
            (None, words) => words,
        };
        case.excerpt = relevant_excerpt(&body).or(case.excerpt.take());
    }
}

/// `        FAIL [   0.077s] (3/3) inventory-fixture tests::name`
fn status_line(line: &str) -> Option<TestCase> {
    let trimmed = line.trim_start();
    let (head, rest) = trimmed.split_once('[')?;
    let mut status = head.trim();
    // Retries: `TRY 2 PASS`.
    if let Some(after) = status.strip_prefix("TRY ") {
        status = after.split_once(' ').map(|(_, s)| s.trim())?;
    }
    let (outcome, message) = match status {
        "PASS" | "FLAKY" | "LEAK" => (Outcome::Passed, None),
        "SKIP" => (Outcome::Skipped, None),
        "FAIL" | "LEAK-FAIL" | "ABORT" => (Outcome::Failed, None),
        "TIMEOUT" => (
            Outcome::Failed,
            Some("timed out (nextest slow-timeout)".to_string()),
        ),
        s if s.starts_with("SIG") => (Outcome::Failed, Some(format!("killed by {s}"))),
        _ => return None,
    };
    let (duration, rest) = rest.split_once(']')?;
    // The counter is padded: `(1/3)`, `( 1/68)`, `(───)`.
    let rest = rest.trim_start();
    let rest = match rest.strip_prefix('(') {
        Some(counter) => counter.split_once(')')?.1,
        None => rest,
    };
    let words: Vec<&str> = rest.split_whitespace().collect();
    let [binary, test] = words.as_slice() else {
        return None;
    };
    let mut case = TestCase::new(format!("{binary}::{test}"), outcome);
    case.duration_seconds = duration.trim().trim_end_matches('s').parse().ok();
    case.message = message;
    Some(case)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        let table: &[(&str, &[(&str, usize)])] = &[
            (
                "     Summary [   2.024s] 9 tests run: 5 passed, 4 failed, 2 skipped",
                &[("passed", 5), ("failed", 4), ("skipped", 2)],
            ),
            (
                "     Summary [   0.1s] 3/6 tests run: 2 passed, 1 failed, 1 skipped",
                &[("not run", 3), ("passed", 2), ("failed", 1), ("skipped", 1)],
            ),
            (
                "     Summary [   0.1s] 4 tests run: 4 passed (1 slow, 1 flaky), 0 skipped",
                &[("passed", 4), ("skipped", 0)],
            ),
        ];
        for (line, expected) in table {
            let got = summary_line(line).unwrap();
            let expected: Vec<(String, usize)> =
                expected.iter().map(|(w, n)| (w.to_string(), *n)).collect();
            assert_eq!(got, expected, "{line}");
        }
    }

    #[test]
    fn statuses() {
        let text = "        PASS [   0.004s] (  7/168) c tests::padded\n        SKIP [         ] (───) c tests::s\n        PASS [   0.005s] (1/3) c tests::p\n   TRY 2 PASS [   0.1s] c tests::r\n     TIMEOUT [  60.0s] (2/3) c tests::t\n     SIGSEGV [   0.1s] c tests::k\n    Starting 3 tests across 1 binary\n";
        let parsed = parse(text);
        let got: Vec<_> = parsed
            .cases
            .iter()
            .map(|c| (c.name.as_str(), c.outcome))
            .collect();
        assert_eq!(
            got,
            [
                ("c::tests::padded", Outcome::Passed),
                ("c::tests::s", Outcome::Skipped),
                ("c::tests::p", Outcome::Passed),
                ("c::tests::r", Outcome::Passed),
                ("c::tests::t", Outcome::Failed),
                ("c::tests::k", Outcome::Failed),
            ]
        );
        assert_eq!(parsed.cases[2].duration_seconds, Some(0.005));
    }
}
