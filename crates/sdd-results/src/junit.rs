//! JUnit XML, as pytest (`--junitxml`), nextest, jest-junit, go-junit-report, Maven and most
//! other runners write it: `<testcase>` elements with `<failure>`, `<error>` or `<skipped>`
//! children, and `<system-out>`/`<system-err>` for captured output.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::libtest::{failure_message, own_section, panic_message};
use super::{relevant_excerpt, Outcome, ParsedResults, Reconciliation, TestCase};

/// A report's own counts (`tests`, `failures`, `errors`, `skipped` attributes; a report may
/// leave any but `tests` out, and what it leaves out is not compared) or the same counted from
/// its elements.
#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: Option<usize>,
    errors: Option<usize>,
    skipped: Option<usize>,
}

impl Counts {
    fn of(e: &BytesStart) -> Option<Counts> {
        let n = |key| attribute(e, key).and_then(|v| v.trim().parse::<usize>().ok());
        Some(Counts {
            tests: n("tests")?,
            failures: n("failures"),
            errors: n("errors"),
            skipped: n("skipped").or_else(|| n("disabled")),
        })
    }

    fn add(&mut self, other: Counts) {
        let sum = |a: Option<usize>, b: Option<usize>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.tests += other.tests;
        self.failures = sum(self.failures, other.failures);
        self.errors = sum(self.errors, other.errors);
        self.skipped = sum(self.skipped, other.skipped);
    }

    fn bump(slot: &mut Option<usize>) {
        *slot = Some(slot.unwrap_or(0) + 1);
    }
}

/// Where the text being read belongs.
#[derive(Clone, Copy, PartialEq)]
enum Sink {
    None,
    Failure,
    Output,
}

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    let mut reader = Reader::from_str(text);
    let mut current: Option<TestCase> = None;
    let mut failure_text = String::new();
    let mut output_text = String::new();
    let mut sink = Sink::None;
    let mut saw_root = false;
    // The report's own counts: the `<testsuites>` root's if it has them, else the sum of the
    // top-level `<testsuite>` elements'.
    let mut root_counts: Option<Counts> = None;
    let mut suite_counts: Option<Counts> = None;
    let mut suite_depth = 0usize;
    let mut read = Counts::default();
    let mut producer = String::new();
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                parsed.problems.push(format!(
                    "malformed JUnit XML at byte {}: {e}",
                    reader.buffer_position()
                ));
                break;
            }
        };
        match event {
            Event::Start(e) if e.local_name().as_ref() == "testsuites" => {
                saw_root = true;
                root_counts = Counts::of(&e);
                producer = attribute(&e, "name").unwrap_or_default();
            }
            Event::Empty(e) if e.local_name().as_ref() == "testsuites" => {
                saw_root = true;
                root_counts = Counts::of(&e);
            }
            ref event @ (Event::Start(ref e) | Event::Empty(ref e))
                if e.local_name().as_ref() == "testsuite" =>
            {
                saw_root = true;
                if suite_depth == 0 {
                    if let Some(counts) = Counts::of(e) {
                        suite_counts.get_or_insert_with(Counts::default).add(counts);
                    }
                    if producer.is_empty() {
                        producer = attribute(e, "name").unwrap_or_default();
                    }
                }
                if matches!(event, Event::Start(_)) {
                    suite_depth += 1;
                }
            }
            Event::Start(e) if e.local_name().as_ref() == "testcase" => {
                current = Some(testcase(&e));
                failure_text.clear();
                output_text.clear();
            }
            Event::Empty(e) if e.local_name().as_ref() == "testcase" => {
                read.tests += 1;
                parsed.push(testcase(&e));
            }
            Event::Start(e) | Event::Empty(e)
                if current.is_some()
                    && matches!(e.local_name().as_ref(), "failure" | "error" | "skipped") =>
            {
                let name = e.local_name().as_ref().to_string();
                let message = attribute(&e, "message");
                match name.as_str() {
                    "failure" => Counts::bump(&mut read.failures),
                    "error" => Counts::bump(&mut read.errors),
                    _ => Counts::bump(&mut read.skipped),
                }
                if let Some(case) = current.as_mut() {
                    if name == "skipped" {
                        case.outcome = Outcome::Skipped;
                        case.message = message;
                    } else {
                        case.outcome = Outcome::Failed;
                        case.message = message.or(case.message.take());
                        sink = Sink::Failure;
                    }
                }
            }
            Event::Start(e)
                if current.is_some()
                    && matches!(e.local_name().as_ref(), "system-out" | "system-err") =>
            {
                sink = Sink::Output;
            }
            Event::End(e) => match e.local_name().as_ref() {
                "failure" | "error" | "skipped" | "system-out" | "system-err" => sink = Sink::None,
                "testcase" => {
                    if let Some(mut case) = current.take() {
                        read.tests += 1;
                        finish(&mut case, &failure_text, &output_text);
                        parsed.push(case);
                    }
                }
                "testsuite" => suite_depth = suite_depth.saturating_sub(1),
                _ => {}
            },
            Event::Text(t) => append(
                sink,
                &t.xml_content(XmlVersion::Implicit1_0),
                &mut failure_text,
                &mut output_text,
            ),
            Event::CData(t) => append(
                sink,
                &t.xml_content(XmlVersion::Implicit1_0),
                &mut failure_text,
                &mut output_text,
            ),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match r.as_ref() {
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "amp" => "&".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => format!("&{other};"),
                    },
                };
                append(sink, &resolved, &mut failure_text, &mut output_text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(case) = current.take() {
        parsed
            .problems
            .push(format!("JUnit XML ends inside test case `{}`", case.name));
    }
    if !saw_root && parsed.cases.is_empty() && parsed.problems.is_empty() {
        parsed
            .problems
            .push("not JUnit XML: no <testsuites>, <testsuite> or <testcase> element".into());
    }
    // nextest leaves skipped and ignored tests out of its JUnit, and out of its counts.
    parsed.skips_unlisted = producer == "nextest-run";
    if let Some(said) = root_counts.or(suite_counts) {
        parsed.reconciliation = reconcile(said, read, &producer);
    }
    parsed
}

/// The report's counts beside its elements. pytest counts each subtest report in `tests` but
/// lists only the test (a failing subtest adds a `<failure>` to it), so for pytest `tests` may
/// exceed the test cases by the passing subtests.
fn reconcile(said: Counts, read: Counts, producer: &str) -> Reconciliation {
    let pytest = producer == "pytest tests" || producer == "pytest";
    let tests_read = if pytest && said.tests > read.tests {
        said.tests
    } else {
        read.tests
    };
    let mut runner = vec![("tests", said.tests)];
    let mut parsed = vec![("tests", tests_read)];
    for (word, said, read) in [
        ("failures", said.failures, read.failures),
        ("errors", said.errors, read.errors),
        ("skipped", said.skipped, read.skipped),
    ] {
        if let Some(said) = said {
            runner.push((word, said));
            parsed.push((word, read.unwrap_or(0)));
        }
    }
    Reconciliation::compare(
        "the JUnit report's own counts",
        &runner,
        &parsed,
        "the report lists fewer test cases or outcomes than it counts",
    )
}

fn append(sink: Sink, text: &str, failure: &mut String, output: &mut String) {
    match sink {
        Sink::Failure => failure.push_str(text),
        Sink::Output => output.push_str(text),
        Sink::None => {}
    }
}

fn finish(case: &mut TestCase, failure_text: &str, output_text: &str) {
    if case.outcome != Outcome::Failed {
        return;
    }
    let body = if failure_text.trim().is_empty() {
        output_text
    } else {
        failure_text
    };
    case.excerpt = relevant_excerpt(body);
    // libtest's verdict on a `#[should_panic]` test is in the captured stdout (nextest); a
    // message that is only the panic's location (`thread 'x' panicked at src/lib.rs:42:9`)
    // says less than the panic's own lines.
    let section = own_section(output_text);
    if section.contains("note: test did not panic as expected")
        || section.contains("note: panic did not contain expected string")
    {
        case.message = failure_message(&section);
        return;
    }
    if case
        .message
        .as_deref()
        .is_some_and(|m| m.contains("panicked at") && !m.contains('\n'))
    {
        if let Some(message) = panic_message(body).filter(|m| !m.contains("panicked at")) {
            case.message = Some(message);
        }
    }
    if case.message.as_deref().is_none_or(|m| m.trim().is_empty()) {
        case.message = body
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string);
    }
}

fn testcase(e: &BytesStart) -> TestCase {
    let name = attribute(e, "name").unwrap_or_default();
    let full_name = match attribute(e, "classname") {
        Some(class) if !class.is_empty() => format!("{class}::{name}"),
        _ => name,
    };
    let mut case = TestCase::new(full_name, Outcome::Passed);
    case.duration_seconds = attribute(e, "time").and_then(|t| t.trim().parse().ok());
    case
}

fn attribute(e: &BytesStart, key: &str) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == key).then(|| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_default()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_failures_skips_and_entities() {
        let xml = r#"<testsuite><testcase classname="m" name="a" time="0.5"/>
<testcase classname="m" name="b"><failure message="boom &amp; more">line 1 &lt;x&gt;
E  assert 1 == 2</failure></testcase>
<testcase name="c"><skipped message="later"/></testcase>
<testcase name="d"><error>Traceback: oops</error></testcase></testsuite>"#;
        let parsed = parse(xml);
        assert_eq!(parsed.problems, Vec::<String>::new());
        let names: Vec<_> = parsed
            .cases
            .iter()
            .map(|c| (c.name.as_str(), c.outcome))
            .collect();
        assert_eq!(
            names,
            [
                ("m::a", Outcome::Passed),
                ("m::b", Outcome::Failed),
                ("c", Outcome::Skipped),
                ("d", Outcome::Failed)
            ]
        );
        assert_eq!(parsed.cases[0].duration_seconds, Some(0.5));
        assert_eq!(parsed.cases[1].message.as_deref(), Some("boom & more"));
        assert!(parsed.cases[1]
            .excerpt
            .as_deref()
            .unwrap()
            .contains("line 1 <x>"));
        assert_eq!(parsed.cases[2].message.as_deref(), Some("later"));
        assert_eq!(parsed.cases[3].message.as_deref(), Some("Traceback: oops"));
    }

    #[test]
    fn malformed_xml_is_a_problem_not_a_panic() {
        let parsed = parse("<testsuite><testcase name=\"a\"><failure>unclosed");
        assert!(!parsed.problems.is_empty());
        let parsed = parse("this is not xml at all");
        assert!(!parsed.problems.is_empty(), "{parsed:?}");
        let parsed = parse("<testsuite><testcase name='a'></testsuite>");
        assert!(!parsed.problems.is_empty(), "{parsed:?}");
    }
}
