//! Every source of a project read in one pass: `debugger.sources` of `sdd.yaml` and the
//! service output the implementation server captured. A source that cannot be read is a
//! problem in the answer, never the end of it.

use std::path::Path;

use sdd_spec::project::ProjectFile;

use crate::event::{Event, EventKind, Nanos};
use crate::patterns::LogLine;
use crate::read::{read_file_as, sources_of, ReadOptions, ReadReport, TextLine};

/// What reading the sources found.
#[derive(Debug, Default)]
pub struct Collected {
    pub reads: Vec<ReadReport>,
    /// Sources that could not be read, or none configured: said in the answer.
    pub problems: Vec<String>,
}

/// Read every source of the project, events to `on_event` and text lines to `on_text`;
/// `window` keeps only what falls in `[start, end)`.
pub fn collect(
    file: &ProjectFile,
    root: &Path,
    window: Option<(Nanos, Nanos)>,
    on_event: &mut dyn FnMut(Event),
    on_text: &mut dyn FnMut(TextLine<'_>),
) -> Collected {
    let (sources, mut problems) = sources_of(file, root);
    let options = ReadOptions {
        window,
        ..ReadOptions::default()
    };
    let mut reads = Vec::new();
    if sources.is_empty() {
        problems.push(
            "no event or log source: set debugger.sources in sdd.yaml (JSON lines, OTLP JSON or text files), or start the service through the implementation server so that its output is captured under .sdd/service-logs"
                .into(),
        );
    }
    let mut folded: Option<ReadReport> = None;
    let mut unreadable = 0;
    for (i, source) in sources.iter().enumerate() {
        // Paths relative to the project: shorter, and no home directory in answers.
        let name = source
            .path
            .strip_prefix(root)
            .unwrap_or(&source.path)
            .display()
            .to_string();
        match read_file_as(
            &source.path,
            &name,
            source.format,
            &source.fields,
            &options,
            on_event,
            on_text,
        ) {
            Ok(report) if i < MAX_SOURCES_SHOWN => reads.push(report),
            Ok(report) => fold(folded.get_or_insert_with(ReadReport::default), report),
            Err(e) if problems.len() < MAX_SOURCES_SHOWN => problems.push(e.to_string()),
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 {
        problems.push(format!("{unreadable} more files could not be read"));
    }
    if let Some(mut rest) = folded {
        let more = sources.len() - MAX_SOURCES_SHOWN;
        rest.file = format!(
            "{more} more files, {} to {}, counted together",
            sources[MAX_SOURCES_SHOWN].name,
            sources[sources.len() - 1].name
        );
        reads.push(rest);
    }
    Collected { reads, problems }
}

/// The most sources (and unreadable ones) an answer lists one by one: a glob over a log
/// directory can match thousands of files, and a report for each made every answer too large
/// to return. The rest are counted together.
pub const MAX_SOURCES_SHOWN: usize = 20;

/// Add `report`'s counts to `into`; its first skipped lines too, while there is room.
fn fold(into: &mut ReadReport, report: ReadReport) {
    if into.format.is_empty() {
        into.format = report.format.clone();
    } else if into.format != report.format {
        into.format = "mixed".into();
    }
    into.lines += report.lines;
    into.events += report.events;
    into.spans += report.spans;
    into.text_lines += report.text_lines;
    into.skipped += report.skipped;
    into.outside_window += report.outside_window;
    into.out_of_order += report.out_of_order;
    into.invalid_utf8 += report.invalid_utf8;
    into.invalid_ids += report.invalid_ids;
    for format in report.timestamp_formats {
        if !into.timestamp_formats.contains(&format) {
            into.timestamp_formats.push(format);
        }
    }
    for mut example in report.skipped_examples {
        if into.skipped_examples.len() < ReadOptions::default().max_examples {
            // The line number alone would not say which file.
            example.reason = format!("{}: {}", report.file, example.reason);
            into.skipped_examples.push(example);
        }
    }
}

/// The most lines kept for the template miner in one answer.
pub const MAX_KEPT_LINES: usize = 2_000_000;

/// Lines kept for the template miner: plain-text lines and the messages of log events.
#[derive(Debug, Default)]
pub struct LineKeep {
    lines: Vec<(Option<Nanos>, Box<str>)>,
    capped: bool,
}

impl LineKeep {
    fn push(&mut self, at: Option<Nanos>, text: &str) {
        if self.lines.len() >= MAX_KEPT_LINES {
            self.capped = true;
            return;
        }
        self.lines.push((at, text.into()));
    }

    pub fn event(&mut self, event: &Event) {
        if event.kind == EventKind::Log {
            if let Some(message) = &event.message {
                self.push(Some(event.at), message);
            }
        }
    }

    pub fn text(&mut self, line: TextLine<'_>) {
        self.push(line.at, line.text);
    }

    pub fn append(&mut self, other: LineKeep) {
        for (at, text) in other.lines {
            self.push(at, &text);
        }
        self.capped |= other.capped;
    }

    /// The first and last time of the lines that have one.
    pub fn span(&self) -> Option<(Nanos, Nanos)> {
        let mut times = self.lines.iter().filter_map(|(at, _)| *at);
        let first = times.next()?;
        Some(times.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t))))
    }

    pub fn iter(&self) -> impl Iterator<Item = LogLine<'_>> {
        self.lines
            .iter()
            .map(|(at, text)| LogLine { at: *at, text })
    }

    pub fn capped(&self) -> bool {
        self.capped
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_over_many_files_lists_a_few_and_counts_the_rest_together() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        let files = MAX_SOURCES_SHOWN + 30;
        for i in 0..files {
            std::fs::write(
                dir.path().join(format!("logs/f{i:03}.jsonl")),
                format!(
                    "{{\"timestamp\": {}, \"message\": \"m\"}}\n{{oops\n",
                    1_796_000_000 + i
                ),
            )
            .unwrap();
        }
        let file = sdd_spec::project::parse_project_file(
            "debugger:\n  sources:\n    - {path: 'logs/*.jsonl'}\n",
        )
        .unwrap();
        let mut events = 0;
        let collected = collect(&file, dir.path(), None, &mut |_| events += 1, &mut |_| {});
        assert_eq!(events, files);
        assert_eq!(collected.reads.len(), MAX_SOURCES_SHOWN + 1);
        let rest = collected.reads.last().unwrap();
        assert!(
            rest.file
                .starts_with("30 more files, logs/f020.jsonl to logs/f049.jsonl"),
            "{}",
            rest.file
        );
        assert_eq!((rest.lines, rest.events, rest.skipped), (60, 30, 30));
        assert_eq!(rest.skipped_examples.len(), 5);
        assert!(rest.skipped_examples[0]
            .reason
            .starts_with("logs/f020.jsonl: "));
    }
}
