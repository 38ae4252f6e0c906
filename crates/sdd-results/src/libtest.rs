//! `cargo test` human output (libtest): `test NAME ... ok|FAILED|ignored[, reason]` lines, and
//! a `---- NAME stdout ----` section per failure holding its panic message.

use super::{relevant_excerpt, Outcome, ParsedResults, TestCase};

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut open_section: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(name) = section_header(line) {
            sections.extend(open_section.take());
            open_section = Some((name.to_string(), String::new()));
            continue;
        }
        if let Some((_, body)) = open_section.as_mut() {
            // A section runs until the list of failure names or the next section.
            if line == "failures:" || line.starts_with("test result: ") {
                sections.extend(open_section.take());
            } else {
                body.push_str(line);
                body.push('\n');
                continue;
            }
        }
        if let Some(case) = result_line(line) {
            // Not `push`: two test binaries of a workspace may both have `tests::it_works`.
            parsed.push_repeated(case);
        }
        if line.starts_with("running ") {
            // A new test binary: attach the previous one's failure sections to its results.
            attach(&mut parsed, std::mem::take(&mut sections));
        }
    }
    sections.extend(open_section.take());
    attach(&mut parsed, sections);
    parsed
}

/// Give each `---- NAME stdout ----` section to the latest result of that name.
fn attach(parsed: &mut ParsedResults, sections: Vec<(String, String)>) {
    for (name, body) in sections {
        if let Some(case) = parsed.latest_mut(&name) {
            case.message = panic_message(&body);
            case.excerpt = relevant_excerpt(&body);
        }
    }
}

/// `---- tests::name stdout ----`
fn section_header(line: &str) -> Option<&str> {
    line.strip_prefix("---- ")?
        .strip_suffix(" stdout ----")
        .map(str::trim)
}

/// `test tests::name ... ok`
pub(super) fn result_line(line: &str) -> Option<TestCase> {
    let rest = line.strip_prefix("test ")?;
    let (name, status) = rest.rsplit_once(" ... ")?;
    let status = status.trim();
    let (outcome, message) = if status == "ok" {
        (Outcome::Passed, None)
    } else if status == "FAILED" {
        (Outcome::Failed, None)
    } else if let Some(reason) = status.strip_prefix("ignored") {
        let reason = reason.trim_start_matches(',').trim();
        (
            Outcome::Skipped,
            (!reason.is_empty()).then(|| reason.to_string()),
        )
    } else {
        // `bench:` lines, or output interleaved with the status.
        return None;
    };
    let mut case = TestCase::new(name.trim(), outcome);
    case.message = message;
    Some(case)
}

/// The panic message: the lines after `panicked at FILE:LINE:COL:` up to the first note, or
/// the first line of output when nothing panicked.
pub(super) fn panic_message(body: &str) -> Option<String> {
    let lines: Vec<&str> = body.lines().collect();
    if let Some(at) = lines.iter().position(|l| l.contains("panicked at")) {
        let header = lines[at];
        // Before Rust 1.73 the message sat on the same line: `panicked at 'msg', src/x.rs:1:2`.
        if let Some(inline) = header
            .split_once("panicked at '")
            .and_then(|(_, rest)| rest.rsplit_once("', "))
        {
            return Some(inline.0.to_string());
        }
        let message: Vec<&str> = lines[at + 1..]
            .iter()
            .take_while(|l| {
                let t = l.trim_start();
                !(t.is_empty() || t.starts_with("note:") || t.starts_with("stack backtrace:"))
            })
            .take(6)
            .map(|l| l.trim())
            .collect();
        if !message.is_empty() {
            return Some(message.join("\n"));
        }
        return Some(header.trim().to_string());
    }
    lines
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_reasons() {
        let text = "running 3 tests\ntest a::b ... ok\ntest a::c ... ignored, not yet\ntest src/lib.rs - f (line 3) ... FAILED\ntest d ... ignored\n";
        let parsed = parse(text);
        let got: Vec<_> = parsed
            .cases
            .iter()
            .map(|c| (c.name.as_str(), c.outcome, c.message.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("a::b", Outcome::Passed, None),
                ("a::c", Outcome::Skipped, Some("not yet")),
                ("src/lib.rs - f (line 3)", Outcome::Failed, None),
                ("d", Outcome::Skipped, None),
            ]
        );
    }

    #[test]
    fn same_name_in_two_binaries() {
        let text = "running 1 test\ntest tests::it_works ... FAILED\n\nfailures:\n\n---- tests::it_works stdout ----\nthread 'tests::it_works' panicked at src/lib.rs:1:1:\nfirst\n\nfailures:\n    tests::it_works\n\ntest result: FAILED.\n\nrunning 1 test\ntest tests::it_works ... ok\n";
        let parsed = parse(text);
        assert_eq!(parsed.cases.len(), 2);
        assert_eq!(parsed.cases[0].message.as_deref(), Some("first"));
        assert_eq!(parsed.cases[1].outcome, Outcome::Passed);
    }

    #[test]
    fn old_style_inline_panic_message() {
        let body = "thread 'x' panicked at 'assertion failed: ok', src/lib.rs:3:5\n";
        assert_eq!(panic_message(body).as_deref(), Some("assertion failed: ok"));
    }
}
