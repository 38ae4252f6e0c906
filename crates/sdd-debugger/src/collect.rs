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
    for source in &sources {
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
            Ok(report) => reads.push(report),
            Err(e) => problems.push(e.to_string()),
        }
    }
    Collected { reads, problems }
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
