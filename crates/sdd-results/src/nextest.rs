//! `cargo nextest run` human output (nextest writes it to stderr): status lines such as
//! `PASS [   0.005s] (1/3) my-crate tests::name`, and after a failure the indented captured
//! `stdout ───` / `stderr ───` blocks. Pass `--status-level skip` to have skipped tests listed.

use super::libtest::panic_message;
use super::{relevant_excerpt, Outcome, ParsedResults, TestCase};

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    // The failing test whose captured output is being read, and that output.
    let mut capturing: Option<(String, String)> = None;
    for line in text.lines() {
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
        if line.trim_start().starts_with("stderr ───") && !body.contains("panicked at") {
            // Prefer what went to stderr (the panic); stdout is the libtest harness chatter.
            body.clear();
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
    parsed
}

fn finish(parsed: &mut ParsedResults, capture: Option<(String, String)>) {
    let Some((name, body)) = capture else { return };
    if let Some(case) = parsed.latest_mut(&name) {
        if case.message.is_none() {
            case.message = panic_message(&body);
        }
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
