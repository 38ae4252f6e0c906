//! `cargo test` human output (libtest): per test binary a `running N tests` line, `test NAME ...
//! ok|FAILED|ignored[, reason]` lines, a `---- NAME stdout ----` section per failure holding its
//! panic message, and the binary's own count, `test result: … N passed; N failed; N ignored`.
//!
//! cargo writes on stderr which binary runs next (`Running tests/crash.rs (target/…)`) and, when
//! a binary dies (a stack overflow, an abort, `process::exit` in a test), what killed it. The
//! text read is stdout with stderr after it (or both interleaved): a binary without its `test
//! result:` line crashed, and the crash is told in the stderr of the binary that died.

use super::{relevant_excerpt, CrashedBinary, Outcome, ParsedResults, Reconciliation, TestCase};

/// The suffix libtest adds to a `#[should_panic]` test's name on its result line only.
const SHOULD_PANIC: &str = " - should panic";

/// One `running N tests` block of stdout.
struct Binary {
    tests: usize,
    /// Where its results are in `cases`: `first_case..end`.
    first_case: usize,
    end: usize,
    /// Its `test result:` counts: passed, failed, ignored, filtered out.
    result: Option<[usize; 4]>,
}

/// What cargo said on stderr about one binary: `Running …` or `Doc-tests …` and what followed.
struct Header {
    label: String,
    executable: Option<String>,
    body: String,
}

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    let mut binaries: Vec<Binary> = Vec::new();
    let mut headers: Vec<Header> = Vec::new();
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut open_section: Option<(String, String)> = None;
    // cargo without `--no-fail-fast` stops at the first binary that fails: `error: test
    // failed, to rerun pass …` with no `error: N targets failed:` after it.
    let mut a_binary_failed = false;
    let mut failures_summed = false;
    for line in text.lines() {
        if let Some(header) = cargo_header(line) {
            headers.push(header);
            continue;
        }
        if line.starts_with("error: test failed, to rerun pass")
            || line.starts_with("error: doctest failed, to rerun pass")
        {
            a_binary_failed = true;
        } else if line.starts_with("error: ")
            && (line.ends_with(" targets failed:") || line.ends_with(" target failed:"))
        {
            failures_summed = true;
        }
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
            if let Some(binary) = binaries.last_mut() {
                binary.end = parsed.cases.len();
            }
        } else if let Some(tests) = running_line(line) {
            // A new test binary: attach the previous one's failure sections to its results.
            attach(&mut parsed, std::mem::take(&mut sections));
            binaries.push(Binary {
                tests,
                first_case: parsed.cases.len(),
                end: parsed.cases.len(),
                result: None,
            });
        } else if let Some(counts) = result_counts(line) {
            if let Some(binary) = binaries.last_mut() {
                binary.result = Some(counts);
            }
        } else if let Some(header) = headers.last_mut() {
            header.body.push_str(line);
            header.body.push('\n');
        }
    }
    sections.extend(open_section.take());
    attach(&mut parsed, sections);
    record_crashes(&mut parsed, &binaries, &headers);
    parsed.reconciliation = reconcile(&parsed, &binaries);
    parsed.filtered_out = binaries.iter().filter_map(|b| b.result).map(|r| r[3]).sum();
    if a_binary_failed && !failures_summed {
        parsed.reconciliation.status = crate::ReconcileStatus::Differs;
        parsed.reconciliation.differences.push(
            "cargo stopped at the first test binary that failed, so the binaries after it never ran"
                .into(),
        );
        parsed.reconciliation.fix =
            "run `cargo test --no-fail-fast` so every test binary runs".into();
    }
    parsed
}

/// Every binary that never printed its `test result:` died: it becomes a [`CrashedBinary`],
/// paired in order with the stderr blocks that tell a crash, and its crashing test (the
/// thread that overflowed or panicked) a failure.
fn record_crashes(parsed: &mut ParsedResults, binaries: &[Binary], headers: &[Header]) {
    // cargo names every binary it runs, in the order their output comes: one name per
    // `running N tests` block. When the two lists do not match up (output cut, stderr not
    // given), a crashed block takes the next stderr block that tells a crash.
    let paired = headers.len() == binaries.len();
    let mut crash_headers = headers.iter().filter(|h| tells_a_crash(&h.body));
    for (at, binary) in binaries.iter().enumerate() {
        if binary.result.is_some() {
            continue;
        }
        let header = if paired {
            headers.get(at)
        } else {
            crash_headers.next()
        };
        let body = header.map(|h| h.body.as_str()).unwrap_or_default();
        let mut reported_tests: Vec<String> = parsed.cases[binary.first_case..binary.end]
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let reported = reported_tests.len();
        let reason = crash_reason(body);
        let crashed_test = crashing_thread(body).filter(|t| !reported_tests.contains(t));
        if let Some(test) = &crashed_test {
            let mut case = TestCase::new(test.clone(), Outcome::Failed);
            case.message = Some(format!("crashed its test binary: {reason}"));
            case.excerpt = relevant_excerpt(body);
            reported_tests.push(test.clone());
            parsed.push_repeated(case);
        }
        parsed.crashed.push(CrashedBinary {
            binary: header.map(|h| h.label.clone()),
            executable: header
                .and_then(|h| exited_executable(&h.body).or_else(|| h.executable.clone())),
            crashed_test,
            reason,
            tests: Some(binary.tests),
            reported,
            unreported_named: binary.tests == reported_tests.len(),
            reported_tests,
        });
    }
}

/// The binaries that finished, their `test result:` counts beside the results read for them.
fn reconcile(parsed: &ParsedResults, binaries: &[Binary]) -> Reconciliation {
    let finished: Vec<&Binary> = binaries.iter().filter(|b| b.result.is_some()).collect();
    if finished.is_empty() {
        return if binaries.is_empty() {
            Reconciliation::missing(
                "libtest's `test result:` line",
                "no test binary ran to its end (a build error, or the output was cut)",
            )
        } else {
            // Every binary crashed: `crashed` tells it.
            Reconciliation::default()
        };
    }
    let mut runner = [0usize; 3];
    let mut read = [0usize; 3];
    for binary in &finished {
        for (total, n) in runner.iter_mut().zip(binary.result.unwrap_or_default()) {
            // (zip stops at `runner`'s three: `filtered out` is not a result)
            *total += n;
        }
        for case in &parsed.cases[binary.first_case..binary.end] {
            match case.outcome {
                Outcome::Passed => read[0] += 1,
                Outcome::Failed => read[1] += 1,
                Outcome::Skipped => read[2] += 1,
                Outcome::NotRun => {}
            }
        }
    }
    let words = ["passed", "failed", "ignored"];
    let pairs = |counts: [usize; 3]| -> Vec<(&'static str, usize)> {
        words.iter().copied().zip(counts).collect()
    };
    Reconciliation::compare(
        format!(
            "libtest's `test result:` line{}",
            if finished.len() == 1 {
                String::new()
            } else {
                format!("s ({} binaries)", finished.len())
            }
        ),
        &pairs(runner),
        &pairs(read),
        "",
    )
}

/// Give each `---- NAME stdout ----` section to the latest result of that name.
fn attach(parsed: &mut ParsedResults, sections: Vec<(String, String)>) {
    for (name, body) in sections {
        if let Some(case) = parsed.latest_mut(&name) {
            case.message = failure_message(&body);
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

/// `running 3 tests`
fn running_line(line: &str) -> Option<usize> {
    let rest = line.strip_prefix("running ")?;
    let (n, word) = rest.split_once(' ')?;
    matches!(word.trim(), "test" | "tests")
        .then(|| n.parse().ok())
        .flatten()
}

/// `test result: FAILED. 2 passed; 3 failed; 2 ignored; 0 measured; 0 filtered out; finished …`
fn result_counts(line: &str) -> Option<[usize; 4]> {
    let rest = line.strip_prefix("test result: ")?;
    let (_, counts) = rest.split_once(". ")?;
    let mut out = [0usize; 4];
    let mut seen = 0;
    for part in counts.split(';') {
        let (n, word) = part.trim().split_once(' ')?;
        let slot = match word {
            "passed" => 0,
            "failed" => 1,
            "ignored" => 2,
            "filtered out" => {
                out[3] = n.parse().ok()?;
                continue;
            }
            _ => continue,
        };
        out[slot] = n.parse().ok()?;
        seen += 1;
    }
    (seen == 3).then_some(out)
}

/// cargo's `     Running tests/crash.rs (target/debug/deps/crash-1a2b)` or `   Doc-tests name`.
fn cargo_header(line: &str) -> Option<Header> {
    let trimmed = line.trim_start();
    if trimmed.len() == line.len() {
        // cargo indents its status words; a test's own output line is not one.
        return None;
    }
    if let Some(rest) = trimmed.strip_prefix("Running ") {
        let (label, executable) = match rest.trim_end().strip_suffix(')') {
            Some(inner) => match inner.rsplit_once(" (") {
                Some((label, exe)) => (label.to_string(), Some(exe.to_string())),
                None => (rest.trim().to_string(), None),
            },
            None => (rest.trim().to_string(), None),
        };
        return Some(Header {
            label,
            executable,
            body: String::new(),
        });
    }
    let name = trimmed.strip_prefix("Doc-tests ")?;
    Some(Header {
        label: format!("doc tests of {}", name.trim()),
        executable: None,
        body: String::new(),
    })
}

/// Whether a binary's stderr tells that it died rather than failed a test (libtest exits with
/// 101 when tests fail; anything else, or a signal, is a crash).
fn tells_a_crash(body: &str) -> bool {
    runtime_died(body)
        || body.lines().any(|l| {
            l.contains("process didn't exit successfully") && !l.contains("(exit status: 101)")
        })
}

/// Whether the Rust runtime's last words are in `text`: a stack overflow, or another fatal
/// error that aborts the whole test binary (not one test).
pub(super) fn runtime_died(text: &str) -> bool {
    text.contains("has overflowed its stack") || text.contains("fatal runtime error")
}

/// What killed the binary: the runtime's last words and how the process ended.
fn crash_reason(body: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(fatal) = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("fatal runtime error: "))
    {
        parts.push(fatal.to_string());
    }
    if let Some(ended) = body
        .lines()
        .find(|l| l.contains("process didn't exit successfully"))
        .and_then(|l| l.trim_end().strip_suffix(')'))
        .and_then(|l| l.rsplit_once(" ("))
    {
        parts.push(ended.1.to_string());
    }
    if parts.is_empty() {
        "it ended without printing its `test result:` line".into()
    } else {
        parts.join("; ")
    }
}

/// The test whose thread died: `thread 'NAME' (123) has overflowed its stack` (or a panic that
/// aborted). libtest names each test's thread after the test; `main` is no test.
fn crashing_thread(body: &str) -> Option<String> {
    body.lines().find_map(|line| {
        if !(line.contains("has overflowed its stack") || line.contains("panicked at")) {
            return None;
        }
        let rest = line.trim_start().strip_prefix("thread '")?;
        let (name, _) = rest.split_once('\'')?;
        (name != "main" && !name.is_empty()).then(|| name.to_string())
    })
}

/// The executable cargo names in `process didn't exit successfully: `PATH` (signal: …)`.
fn exited_executable(body: &str) -> Option<String> {
    let line = body
        .lines()
        .find(|l| l.contains("process didn't exit successfully: `"))?;
    let (_, rest) = line.split_once('`')?;
    let (command, _) = rest.split_once('`')?;
    // cargo prints the command with its arguments; the executable comes first.
    command.split_whitespace().next().map(str::to_string)
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
    let name = name.trim();
    // The name's own section, and nextest and the JUnit reports, leave the suffix out.
    let name = name.strip_suffix(SHOULD_PANIC).unwrap_or(name);
    let mut case = TestCase::new(name, outcome);
    case.message = message;
    Some(case)
}

/// A failure's message from its captured output: libtest's verdict on a `#[should_panic]`
/// test when it gave one, else the panic message.
pub(super) fn failure_message(body: &str) -> Option<String> {
    let lines: Vec<&str> = body.lines().map(str::trim).collect();
    for (at, line) in lines.iter().enumerate() {
        if let Some(rest) = line.strip_prefix("note: test did not panic as expected") {
            return Some(format!("test did not panic as expected{rest}"));
        }
        if line.starts_with("note: panic did not contain expected string") {
            let detail: Vec<&str> = lines[at + 1..]
                .iter()
                .take_while(|l| !l.is_empty())
                .take(2)
                .copied()
                .collect();
            return Some(format!(
                "panic did not contain expected string: {}",
                detail.join(", ")
            ));
        }
    }
    panic_message(body)
}

/// The panic message: the lines after `panicked at FILE:LINE:COL:` up to the first note, or
/// the first line of output that is not the harness's own when nothing panicked.
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
        .find(|l| !l.is_empty() && !is_harness_line(l))
        .map(str::to_string)
}

/// What libtest prints around a test's own output (nextest captures it with the test's).
fn is_harness_line(line: &str) -> bool {
    running_line(line).is_some()
        || result_line(line).is_some()
        || line.starts_with("test result: ")
        || line == "failures:"
        || line == "successes:"
        || section_header(line).is_some()
}

/// The part of a captured libtest output that belongs to the test: its `---- NAME stdout ----`
/// section up to the list of failures, or without such a section every line that is not the
/// harness's own (`running 1 test`, `test result: …`, the list of failures).
pub(super) fn own_section(captured: &str) -> String {
    match section_of(captured) {
        Some(section) => format!("{section}\n"),
        None => {
            let mut names_follow = false;
            let mut out = String::new();
            for line in captured.lines() {
                let trimmed = line.trim();
                if trimmed == "failures:" || trimmed == "successes:" {
                    names_follow = true;
                    continue;
                }
                if trimmed.is_empty() {
                    names_follow = false;
                }
                if names_follow || is_harness_line(trimmed) {
                    continue;
                }
                out.push_str(line);
                out.push('\n');
            }
            out.trim_start_matches('\n').to_string()
        }
    }
}

fn section_of(captured: &str) -> Option<&str> {
    let start = captured
        .match_indices("---- ")
        .find(|(at, _)| {
            captured[*at..]
                .lines()
                .next()
                .is_some_and(|l| section_header(l).is_some())
        })
        .map(|(at, _)| at)?;
    let body = &captured[start..];
    let body = body.split_once('\n').map_or("", |(_, rest)| rest);
    let section = match body.find("\nfailures:") {
        Some(end) => &body[..=end],
        None => body,
    };
    Some(section.trim_end_matches('\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_reasons() {
        let text = "running 5 tests\ntest a::b ... ok\ntest a::c ... ignored, not yet\ntest src/lib.rs - f (line 3) ... FAILED\ntest d ... ignored\ntest e - should panic ... ok\n";
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
                ("e", Outcome::Passed, None),
            ]
        );
    }

    #[test]
    fn same_name_in_two_binaries() {
        let text = "running 1 test\ntest tests::it_works ... FAILED\n\nfailures:\n\n---- tests::it_works stdout ----\nthread 'tests::it_works' panicked at src/lib.rs:1:1:\nfirst\n\nfailures:\n    tests::it_works\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n\nrunning 1 test\ntest tests::it_works ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n";
        let parsed = parse(text);
        assert_eq!(parsed.cases.len(), 2);
        assert_eq!(parsed.cases[0].message.as_deref(), Some("first"));
        assert_eq!(parsed.cases[1].outcome, Outcome::Passed);
        assert_eq!(
            parsed.reconciliation.status,
            crate::ReconcileStatus::Agrees,
            "{:?}",
            parsed.reconciliation
        );
    }

    #[test]
    fn old_style_inline_panic_message() {
        let body = "thread 'x' panicked at 'assertion failed: ok', src/lib.rs:3:5\n";
        assert_eq!(panic_message(body).as_deref(), Some("assertion failed: ok"));
    }

    #[test]
    fn should_panic_verdicts_are_the_message() {
        let cases = [
            (
                "note: test did not panic as expected at src/lib.rs:62:8\n",
                "test did not panic as expected at src/lib.rs:62:8",
            ),
            (
                "\nthread 't' (1) panicked at src/lib.rs:69:9:\naccount store unavailable\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\nnote: panic did not contain expected string\n      panic message: \"account store unavailable\"\n expected substring: \"period has open entries\"\n",
                "panic did not contain expected string: panic message: \"account store unavailable\", expected substring: \"period has open entries\"",
            ),
            (
                "running 1 test\ntest t ... FAILED\n\nfailures:\n\nsomething odd\n",
                "something odd",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(failure_message(body).as_deref(), Some(expected), "{body}");
        }
    }

    #[test]
    fn a_binary_without_its_result_line_crashed() {
        let text = "running 3 tests\ntest a ... ok\n\nrunning 1 test\ntest b ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\n     Running tests/crash.rs (target/debug/deps/crash-1)\n\nthread 'c' (42) has overflowed its stack\nfatal runtime error: stack overflow, aborting\nerror: test failed, to rerun pass `--test crash`\n\nCaused by:\n  process didn't exit successfully: `/p/target/debug/deps/crash-1` (signal: 6, SIGABRT: process abort signal)\n     Running tests/more.rs (target/debug/deps/more-2)\nerror: 1 target failed:\n    `--test crash`\n";
        let parsed = parse(text);
        let crash = &parsed.crashed[0];
        assert_eq!(crash.binary.as_deref(), Some("tests/crash.rs"));
        assert_eq!(
            crash.executable.as_deref(),
            Some("/p/target/debug/deps/crash-1")
        );
        assert_eq!(crash.crashed_test.as_deref(), Some("c"));
        assert_eq!(
            crash.reason,
            "stack overflow, aborting; signal: 6, SIGABRT: process abort signal"
        );
        assert_eq!((crash.tests, crash.reported), (Some(3), 1));
        assert!(!crash.unreported_named);
        let c = parsed.cases.iter().find(|c| c.name == "c").unwrap();
        assert_eq!(c.outcome, Outcome::Failed);
        assert!(!parsed.is_complete());
        // The binary that finished reconciles on its own.
        assert_eq!(parsed.reconciliation.status, crate::ReconcileStatus::Agrees);
    }

    /// Without `--no-fail-fast` cargo stops at the first binary that fails; the binaries after
    /// it never run, and nothing in the output lists them.
    #[test]
    fn cargo_stopping_at_a_failed_binary_is_a_difference() {
        let stdout = "running 1 test\ntest a ... FAILED\n\nfailures:\n\n---- a stdout ----\nboom\n\nfailures:\n    a\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
        let stopped = format!("{stdout}\n     Running tests/a.rs (target/debug/deps/a-1)\nerror: test failed, to rerun pass `--test a`\n");
        let parsed = parse(&stopped);
        assert!(!parsed.is_complete());
        assert!(parsed.reconciliation.fix.contains("--no-fail-fast"));
        let finished = format!("{stopped}error: 1 target failed:\n    `--test a`\n");
        assert!(parse(&finished).reconciliation.status.vouches());
        // Only stdout: nothing says whether cargo went on.
        assert!(parse(stdout).reconciliation.status.vouches());
    }

    /// A test that calls `process::exit(0)` ends its binary without a word on stderr: the
    /// binary is still named, by its place among cargo's `Running` lines, so its tests can be
    /// listed.
    #[test]
    fn a_binary_that_exits_quietly_is_named_by_its_place() {
        let text = "running 1 test\ntest a ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\nrunning 2 tests\n     Running unittests src/lib.rs (target/debug/deps/x-1)\n     Running tests/zexit.rs (target/debug/deps/zexit-2)\n";
        let parsed = parse(text);
        let crash = &parsed.crashed[0];
        assert_eq!(crash.binary.as_deref(), Some("tests/zexit.rs"));
        assert_eq!(
            crash.executable.as_deref(),
            Some("target/debug/deps/zexit-2")
        );
        assert_eq!(crash.crashed_test, None);
        assert_eq!((crash.tests, crash.reported), (Some(2), 0));
    }

    #[test]
    fn an_ordinary_failure_is_no_crash() {
        let body = "error: test failed, to rerun pass `--lib`\n\nCaused by:\n  process didn't exit successfully: `/p/x` (exit status: 101)\n";
        assert!(!tells_a_crash(body));
        assert!(tells_a_crash(
            "  process didn't exit successfully: `/p/x` (exit status: 3)\n"
        ));
    }

    #[test]
    fn own_section_drops_the_harness() {
        let captured = "running 1 test\ntest t ... FAILED\n\nfailures:\n\n---- t stdout ----\nnote: test did not panic as expected at a.rs:1:1\n\nfailures:\n    t\n\ntest result: FAILED. 0 passed; 1 failed\n";
        assert_eq!(
            own_section(captured),
            "note: test did not panic as expected at a.rs:1:1\n"
        );
        assert_eq!(own_section("plain\n"), "plain\n");
        let without_section = "running 1 test\ntest t ... FAILED\n\nfailures:\n\nfailures:\n    t\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 6 filtered out; finished in 0.00s\n\n";
        assert_eq!(own_section(without_section).trim(), "");
    }
}
