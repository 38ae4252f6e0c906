//! The Prometheus text format (0.0.4) and OpenMetrics 1.0 text, read line by line into samples.
//!
//! Written here rather than taken from crates.io. The two candidates checked (2026):
//! `prometheus-parse` 0.2.5 reads labels with the regex `\{[^}]+\}` (a `}` inside a quoted
//! value ends the label set), knows neither `# EOF`, `# UNIT`, exemplars nor OpenMetrics'
//! timestamps in seconds, fails the whole scrape on its first bad line, and brings regex, chrono,
//! itertools and once_cell; `openmetrics-parser` 0.4/0.5 (LGPL-3.0, pest) parses a whole `&str`
//! and returns one error for the exposition, so it can neither stream a 1 GB import nor read the
//! rest of a scrape around a bad line. What SDD needs is total and bounded: every line is read
//! on its own, a bad one becomes a [`Problem`] with its line number and the rest is read, and
//! no input — huge lines, thousands of labels, invalid UTF-8 — costs more than the limits below.
//!
//! Where the two formats differ, this follows what Prometheus' own parsers
//! (`model/textparse`) do, so a series stored here is the series Prometheus would store:
//! OpenMetrics timestamps are seconds, converted as `int64(ts * 1000)` (truncated toward zero);
//! Prometheus-text timestamps are integer milliseconds; label values unescape `\\`, `\"` and
//! `\n` and keep any other backslash sequence as written; a label with an empty value is no
//! label; an exemplar (` # {…} v [ts]` after a sample) is skipped. Being lenient where
//! Prometheus is (tabs, several blanks, a trailing comma in a label set, `untyped` and
//! OpenMetrics' type words in either format) costs nothing and reads more real exporters.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead};

/// A scrape body is read up to this many bytes; the rest is a problem, not memory.
pub const MAX_SCRAPE_BYTES: usize = 10 * 1024 * 1024;
/// A longer line is skipped (and reported) without being held in memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// The samples one parse or one import batch holds at most.
pub const MAX_SAMPLES_PER_CHUNK: usize = 1_000_000;
/// A series with more labels is refused: no real exporter needs them, and each costs memory
/// and index space.
pub const MAX_LABELS_PER_SERIES: usize = 64;
/// Metadata (`# TYPE`, `# HELP`, `# UNIT`) is kept for at most this many families per parse;
/// samples of further families are still read, as untyped.
pub const MAX_FAMILIES: usize = 100_000;
/// Problems kept word for word; past that they are only counted.
pub const MAX_PROBLEMS_KEPT: usize = 100;

/// Which text format a body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`: timestamps in milliseconds, no `# EOF`.
    Prometheus,
    /// `application/openmetrics-text; version=1.0.0`: timestamps in seconds, ends with `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The format a `Content-Type` header names: OpenMetrics for `application/openmetrics-text`,
    /// otherwise the Prometheus text format (what Prometheus itself falls back to).
    pub fn from_content_type(content_type: &str) -> Format {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }
}

/// A metric family's type, as `# TYPE` declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    /// No `# TYPE`, or `untyped` (Prometheus text) / `unknown` (OpenMetrics).
    Unknown,
}

impl MetricType {
    /// The type word of either format (`untyped` and `unknown` alike are [`MetricType::Unknown`]).
    pub fn from_word(word: &str) -> Option<MetricType> {
        Some(match word {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "unknown" | "untyped" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// The OpenMetrics word, as the store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// The sample-name suffixes a family of this type has besides its own name.
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
            MetricType::Summary => &["_count", "_sum", "_created"],
            MetricType::Info => &["_info"],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[],
        }
    }
}

/// The family a sample belongs to and its type: the sample's own name if a family of that name
/// is declared, else its name without a suffix its declared type allows (`x_total` of counter
/// `x`, `x_bucket` of histogram `x`), else the sample's name, untyped. `declared` looks a family
/// up by name.
pub fn family_of(
    sample_name: &str,
    declared: impl Fn(&str) -> Option<MetricType>,
) -> (&str, MetricType) {
    if let Some(kind) = declared(sample_name) {
        return (sample_name, kind);
    }
    const ALL_SUFFIXES: [&str; 7] = [
        "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum",
    ];
    for suffix in ALL_SUFFIXES.iter().chain(["_info"].iter()) {
        if let Some(base) = sample_name.strip_suffix(suffix) {
            if let Some(kind) = declared(base) {
                if kind.suffixes().contains(suffix) {
                    return (base, kind);
                }
            }
        }
    }
    (sample_name, MetricType::Unknown)
}

/// What `# TYPE`, `# HELP` and `# UNIT` said about one family.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: String,
    pub kind: MetricType,
    pub help: Option<String>,
    pub unit: Option<String>,
}

/// One sample: a series (name and canonical labels) with a value at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    /// The label set in canonical form: sorted by name, `name="value"` pairs joined by `,`,
    /// values escaped as in the exposition (`\\`, `\"`, `\n`), empty values left out. Two
    /// samples are of one series exactly when name and this text are equal.
    pub labels: String,
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// A line that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Problems: the first [`MAX_PROBLEMS_KEPT`] word for word, and how many there were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    kept: Vec<Problem>,
    total: usize,
}

impl Problems {
    pub fn push(&mut self, line: usize, message: impl Into<String>) {
        self.total += 1;
        if self.kept.len() < MAX_PROBLEMS_KEPT {
            self.kept.push(Problem {
                line,
                message: message.into(),
            });
        }
    }

    /// The first problems, in line order.
    pub fn kept(&self) -> &[Problem] {
        &self.kept
    }

    /// How many problems there were, kept or not.
    pub fn total(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// At most this many characters of the input are quoted in a problem.
const QUOTED_CHARS: usize = 60;

fn quoted(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTED_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[derive(Debug, Default)]
struct Declared {
    kind: Option<MetricType>,
    /// The line of its `# TYPE`.
    typed_at: usize,
    help: Option<String>,
    unit: Option<String>,
}

/// Reads an exposition one line at a time, keeping what `# TYPE`, `# HELP` and `# UNIT` said
/// and the problems; the caller owns the samples, so an import can hand them to the store in
/// batches.
pub struct Parser {
    format: Format,
    declared: HashMap<String, Declared>,
    eof_line: Option<usize>,
    after_eof_reported: bool,
    last_line: usize,
    problems: Problems,
}

impl Parser {
    pub fn new(format: Format) -> Parser {
        Parser {
            format,
            declared: HashMap::new(),
            eof_line: None,
            after_eof_reported: false,
            last_line: 0,
            problems: Problems::default(),
        }
    }

    /// Read line `number` (its bytes without the line feed). A sample goes to `out`; one without
    /// a timestamp gets `default_timestamp_ms`, or is a problem when that is `None` (an import
    /// must say when each sample was taken).
    pub fn line(
        &mut self,
        number: usize,
        bytes: &[u8],
        default_timestamp_ms: Option<i64>,
        out: &mut Vec<Sample>,
    ) {
        self.last_line = number;
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if let Some(eof_line) = self.eof_line {
            if !self.after_eof_reported && !bytes.iter().all(u8::is_ascii_whitespace) {
                self.after_eof_reported = true;
                self.problems.push(
                    number,
                    format!("text after `# EOF` (line {eof_line}) is not read"),
                );
            }
            return;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.problems.push(number, "the line is not valid UTF-8");
            return;
        };
        let text = text.trim_start_matches([' ', '\t']);
        if text.trim_end().is_empty() {
            return;
        }
        if let Some(comment) = text.strip_prefix('#') {
            self.comment(number, comment);
            return;
        }
        match self.sample(text, default_timestamp_ms) {
            Ok(sample) => out.push(sample),
            Err(message) => self.problems.push(number, message),
        }
    }

    /// Report a problem the caller found (a line over [`MAX_LINE_BYTES`], say).
    pub fn problem(&mut self, line: usize, message: impl Into<String>) {
        self.problems.push(line, message);
    }

    /// The end of the input: an OpenMetrics exposition without `# EOF` may have been cut short.
    /// Returns the families declared (by name), the problems, and whether `# EOF` was read.
    pub fn finish(mut self) -> (Vec<Family>, Problems, bool) {
        if self.format == Format::OpenMetrics && self.eof_line.is_none() {
            self.problems.push(
                self.last_line.max(1),
                "the exposition does not end with `# EOF`: it may have been cut short",
            );
        }
        let families = self.families();
        (families, self.problems, self.eof_line.is_some())
    }

    /// The families declared so far, by name.
    pub fn families(&self) -> Vec<Family> {
        let mut families: Vec<Family> = self
            .declared
            .iter()
            .map(|(name, d)| Family {
                name: name.clone(),
                kind: d.kind.unwrap_or(MetricType::Unknown),
                help: d.help.clone(),
                unit: d.unit.clone(),
            })
            .collect();
        families.sort_by(|a, b| a.name.cmp(&b.name));
        families
    }

    fn declared_type(&self, name: &str) -> Option<MetricType> {
        self.declared.get(name).and_then(|d| d.kind)
    }

    fn comment(&mut self, number: usize, comment: &str) {
        // `#` then blanks then a keyword; anything else is a comment.
        let rest = comment.trim_start_matches([' ', '\t']);
        if rest.len() == comment.len() && !comment.is_empty() {
            return;
        }
        let (keyword, after) = split_token(rest);
        match keyword {
            "EOF" if self.format == Format::OpenMetrics && after.trim().is_empty() => {
                self.eof_line = Some(number);
            }
            "HELP" | "TYPE" => self.metadata(number, keyword, after),
            "UNIT" if self.format == Format::OpenMetrics => self.metadata(number, keyword, after),
            _ => {}
        }
    }

    fn metadata(&mut self, number: usize, keyword: &str, after: &str) {
        let (name, text) = split_token(after);
        if !is_metric_name(name) {
            self.problems.push(
                number,
                format!(
                    "`# {keyword}` names `{}`, which is not a metric name",
                    quoted(name)
                ),
            );
            return;
        }
        if !self.declared.contains_key(name) && self.declared.len() >= MAX_FAMILIES {
            self.problems.push(
                number,
                format!(
                    "more than {MAX_FAMILIES} metric families: `# {keyword}` for `{name}` is not kept"
                ),
            );
            return;
        }
        let mut kind = None;
        if keyword == "TYPE" {
            let word = text.trim();
            kind = MetricType::from_word(word);
            if kind.is_none() {
                self.problems.push(
                    number,
                    format!("`{}` is not a metric type (`# TYPE {name}`)", quoted(word)),
                );
                return;
            }
        }
        let entry = self.declared.entry(name.to_string()).or_default();
        match keyword {
            "TYPE" => {
                if entry.kind.is_some() {
                    let first = entry.typed_at;
                    self.problems.push(
                        number,
                        format!("a second `# TYPE` for `{name}` (the first is on line {first}) is ignored"),
                    );
                    return;
                }
                entry.kind = kind;
                entry.typed_at = number;
            }
            "HELP" => {
                if entry.help.is_some() {
                    self.problems
                        .push(number, format!("a second `# HELP` for `{name}` is ignored"));
                    return;
                }
                entry.help = Some(unescape(text).into_owned());
            }
            _ => {
                entry.unit = Some(text.trim().to_string());
            }
        }
    }

    fn sample(&self, text: &str, default_timestamp_ms: Option<i64>) -> Result<Sample, String> {
        let b = text.as_bytes();
        let name_end = b
            .iter()
            .enumerate()
            .find(|&(i, &c)| !(is_name_char(c) && (i > 0 || is_name_start(c))))
            .map_or(b.len(), |(i, _)| i);
        if name_end == 0 {
            return Err(if b.starts_with(b"{") {
                "a series named inside its braces (a quoted UTF-8 name) is not supported".into()
            } else {
                format!("expected a metric name at `{}`", quoted(text))
            });
        }
        let name = &text[..name_end];
        let mut labels: Vec<(&str, Cow<str>)> = Vec::new();
        let mut i = name_end;
        if b.get(i) == Some(&b'{') {
            i = parse_labels(text, i + 1, name, &mut labels)?;
        }
        let blank_start = i;
        i = skip_blanks(b, i);
        if i == b.len() {
            return Err(format!("`{}` has no value", quoted(&text[..blank_start])));
        }
        if i == blank_start {
            return Err(format!(
                "unexpected `{}` after the series `{}`",
                quoted(&text[i..]),
                quoted(&text[..i])
            ));
        }
        let (value_text, rest) = split_token(&text[i..]);
        let value = parse_value(value_text)?;
        let rest = rest.trim_start_matches([' ', '\t']);
        let mut timestamp_ms = None;
        // `#` here starts an exemplar, which is skipped.
        if !rest.is_empty() && !rest.starts_with('#') {
            let (ts_text, after) = split_token(rest);
            timestamp_ms = Some(self.parse_timestamp(ts_text)?);
            let after = after.trim_start_matches([' ', '\t']);
            if !after.is_empty() && !after.starts_with('#') {
                return Err(format!(
                    "unexpected `{}` after the timestamp",
                    quoted(after.trim_end())
                ));
            }
        }
        let timestamp_ms = match timestamp_ms.or(default_timestamp_ms) {
            Some(ts) => ts,
            None => {
                return Err(format!(
                    "`{}` has no timestamp; every sample of an import needs one",
                    quoted(&text[..blank_start])
                ))
            }
        };
        self.check_family_labels(name, &labels)?;
        Ok(Sample {
            name: name.to_string(),
            labels: canonical(&mut labels),
            value,
            timestamp_ms,
        })
    }

    /// A histogram bucket needs a numeric `le`, a summary's quantile sample a numeric
    /// `quantile`: without them the series means nothing (Prometheus refuses them too).
    fn check_family_labels(&self, name: &str, labels: &[(&str, Cow<str>)]) -> Result<(), String> {
        let (family, kind) = family_of(name, |n| self.declared_type(n));
        let required = match kind {
            MetricType::Histogram | MetricType::GaugeHistogram if name.ends_with("_bucket") => "le",
            MetricType::Summary if name == family => "quantile",
            _ => return Ok(()),
        };
        match labels.iter().find(|(n, _)| *n == required) {
            None => Err(format!(
                "`{name}` of {} `{family}` has no `{required}` label",
                kind.as_str()
            )),
            Some((_, v)) if v.parse::<f64>().is_err() => Err(format!(
                "`{required}=\"{}\"` of `{name}` is not a number",
                quoted(v)
            )),
            Some(_) => Ok(()),
        }
    }

    fn parse_timestamp(&self, text: &str) -> Result<i64, String> {
        match self.format {
            Format::Prometheus => text.parse::<i64>().map_err(|_| {
                format!(
                    "timestamp `{}` is not whole milliseconds (Prometheus text format)",
                    quoted(text)
                )
            }),
            Format::OpenMetrics => {
                let seconds: f64 = text.parse().map_err(|_| {
                    format!(
                        "timestamp `{}` is not a number of seconds (OpenMetrics)",
                        quoted(text)
                    )
                })?;
                // ±2^53 ms: beyond that a float no longer holds whole milliseconds.
                const LIMIT_MS: f64 = 9_007_199_254_740_992.0;
                let ms = seconds * 1000.0;
                if !ms.is_finite() || ms.abs() > LIMIT_MS {
                    return Err(format!("timestamp `{}` is out of range", quoted(text)));
                }
                // As Prometheus' OpenMetrics parser: `int64(ts * 1000)`, truncated.
                Ok(ms as i64)
            }
        }
    }
}

/// A whole exposition read at once (a scrape).
#[derive(Debug, Clone)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    pub families: Vec<Family>,
    pub problems: Problems,
    /// Lines read.
    pub lines: usize,
    /// `# EOF` was read (OpenMetrics).
    pub eof: bool,
}

/// Parse a scrape body. Samples without a timestamp get `scrape_time_ms`; at most
/// [`MAX_SCRAPE_BYTES`] are read, lines over [`MAX_LINE_BYTES`] are skipped, and at most
/// [`MAX_SAMPLES_PER_CHUNK`] samples kept — each cut a problem.
pub fn parse(text: &[u8], format: Format, scrape_time_ms: i64) -> Exposition {
    let mut parser = Parser::new(format);
    let mut samples = Vec::new();
    let cut = text.len() > MAX_SCRAPE_BYTES;
    let mut rest = &text[..text.len().min(MAX_SCRAPE_BYTES)];
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let (line, complete) = match rest.iter().position(|&c| c == b'\n') {
            Some(end) => {
                let line = &rest[..end];
                rest = &rest[end + 1..];
                (line, true)
            }
            None => (std::mem::take(&mut rest), false),
        };
        if cut && !complete {
            break;
        }
        if line.len() > MAX_LINE_BYTES {
            parser.problem(number, too_long(line.len()));
            continue;
        }
        if samples.len() >= MAX_SAMPLES_PER_CHUNK {
            parser.problem(
                number,
                format!("more than {MAX_SAMPLES_PER_CHUNK} samples: the rest is not read"),
            );
            break;
        }
        parser.line(number, line, Some(scrape_time_ms), &mut samples);
    }
    if cut {
        parser.problem(
            number,
            format!(
                "the exposition is {} bytes, over the {MAX_SCRAPE_BYTES}-byte limit: read up to line {number}",
                text.len()
            ),
        );
    }
    let (families, problems, eof) = parser.finish();
    Exposition {
        samples,
        families,
        problems,
        lines: number,
        eof,
    }
}

pub(crate) fn too_long(bytes: usize) -> String {
    format!("the line is {bytes} bytes, over the {MAX_LINE_BYTES}-byte limit: skipped")
}

/// How one call of [`read_line`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// The input has no more lines.
    End,
    /// A line is in the buffer (without its line feed).
    Line,
    /// The line was this many bytes, over the limit; the buffer holds only its start.
    TooLong(usize),
}

/// Read the next line of `reader` into `buffer`, holding at most `max` bytes of it however long
/// it is: a hostile line costs `max` bytes of memory, not its length.
pub fn read_line(
    reader: &mut impl BufRead,
    buffer: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    buffer.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        any = true;
        let (part, used, done) = match available.iter().position(|&c| c == b'\n') {
            Some(end) => (&available[..end], end + 1, true),
            None => (available, available.len(), false),
        };
        total += part.len();
        let room = max.saturating_sub(buffer.len());
        buffer.extend_from_slice(&part[..part.len().min(room)]);
        reader.consume(used);
        if done {
            break;
        }
    }
    Ok(if !any {
        LineRead::End
    } else if total > max {
        LineRead::TooLong(total)
    } else {
        LineRead::Line
    })
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

fn is_label_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_label_char(c: u8) -> bool {
    is_label_start(c) || c.is_ascii_digit()
}

fn is_metric_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && is_name_start(b[0]) && b.iter().all(|&c| is_name_char(c))
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

/// The first blank-separated token and what follows its first blank.
fn split_token(text: &str) -> (&str, &str) {
    match text.find([' ', '\t']) {
        Some(end) => (&text[..end], &text[end + 1..]),
        None => (text, ""),
    }
}

fn parse_value(text: &str) -> Result<f64, String> {
    // Rust reads what Go's ParseFloat reads in practice (`NaN`, `+Inf`, `-Inf`, `1e3`, `.5`),
    // but not hexadecimal floats, which no exporter writes.
    text.parse::<f64>()
        .map_err(|_| format!("value `{}` is not a number", quoted(text)))
}

/// Read a label set from just after its `{`; returns the index after its `}`.
fn parse_labels<'a>(
    text: &'a str,
    start: usize,
    series: &str,
    labels: &mut Vec<(&'a str, Cow<'a, str>)>,
) -> Result<usize, String> {
    let b = text.as_bytes();
    let unterminated = || format!("the labels of `{series}` have no closing `}}`");
    let mut i = start;
    loop {
        i = skip_blanks(b, i);
        match b.get(i) {
            None => return Err(unterminated()),
            Some(b'}') => return Ok(i + 1),
            Some(b'"') => {
                return Err(format!(
                    "quoted label names (UTF-8 names) are not supported, in `{series}`"
                ))
            }
            Some(&c) if !is_label_start(c) => {
                return Err(format!(
                    "expected a label name in `{series}`, found `{}`",
                    quoted(&text[i..])
                ))
            }
            Some(_) => {}
        }
        let name_start = i;
        while i < b.len() && is_label_char(b[i]) {
            i += 1;
        }
        let name = &text[name_start..i];
        i = skip_blanks(b, i);
        if b.get(i) != Some(&b'=') {
            return Err(format!("expected `=` after label `{name}` of `{series}`"));
        }
        i = skip_blanks(b, i + 1);
        if b.get(i) != Some(&b'"') {
            return Err(format!(
                "expected a quoted value for label `{name}` of `{series}`"
            ));
        }
        i += 1;
        let value_start = i;
        let mut escaped = false;
        loop {
            match b.get(i) {
                None => {
                    return Err(format!(
                        "the value of label `{name}` of `{series}` has no closing quote"
                    ))
                }
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        // `i` is at an ASCII quote, so on a character boundary.
        let raw = &text[value_start..i];
        i += 1;
        let value = if escaped {
            unescape(raw)
        } else {
            Cow::Borrowed(raw)
        };
        if name == "__name__" {
            return Err(format!("the label `__name__` is reserved (in `{series}`)"));
        }
        if labels.iter().any(|(n, _)| *n == name) {
            return Err(format!("label `{name}` appears twice in `{series}`"));
        }
        if labels.len() >= MAX_LABELS_PER_SERIES {
            return Err(format!(
                "`{series}` has more than {MAX_LABELS_PER_SERIES} labels"
            ));
        }
        labels.push((name, value));
        i = skip_blanks(b, i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok(i + 1),
            None => return Err(unterminated()),
            Some(_) => {
                return Err(format!(
                    "expected `,` or `}}` after label `{name}` of `{series}`, found `{}`",
                    quoted(&text[i..])
                ))
            }
        }
    }
}

/// `\\`, `\"` and `\n` become what they stand for; any other backslash sequence stays as it is
/// written (Prometheus' `lvalReplacer` does the same).
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Append `value` escaped as a label value (`\\`, `\"`, `\n`).
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// The canonical text of a label set: empty values left out (an empty label is no label),
/// sorted by name, `name="escaped value"` joined by `,`.
pub(crate) fn canonical(labels: &mut [(&str, Cow<str>)]) -> String {
    labels.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (name, value) in labels.iter() {
        if value.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        escape_into(&mut out, value);
        out.push('"');
    }
    out
}

/// Canonical label text from pairs (for callers naming a series).
pub fn canonical_labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut labels: Vec<(&str, Cow<str>)> = pairs
        .into_iter()
        .map(|(n, v)| (n, Cow::Borrowed(v)))
        .collect();
    canonical(&mut labels)
}

/// The pairs of a canonical label text, values unescaped. Text this module did not write
/// gives what it can read.
pub fn split_labels(canonical: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = canonical.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let Some(eq) = canonical[i..].find("=\"") else {
            break;
        };
        let name = &canonical[i..i + eq];
        let value_start = i + eq + 2;
        let mut j = value_start;
        while j < b.len() && b[j] != b'"' {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(b.len());
        out.push((
            name.to_string(),
            unescape(&canonical[value_start..end]).into_owned(),
        ));
        i = end + 2; // past `"` and `,`
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(format: Format, line: &str) -> Result<Sample, String> {
        let exposition = parse(line.as_bytes(), format, 1_000);
        match (
            exposition.samples.first(),
            exposition.problems.kept().first(),
        ) {
            (Some(sample), None) => Ok(sample.clone()),
            (_, Some(problem)) => Err(problem.message.clone()),
            (None, None) => Err("nothing".into()),
        }
    }

    /// Sample lines, each read alone as Prometheus text: (line, name, labels, value, timestamp).
    #[test]
    fn sample_lines() {
        let cases: &[(&str, &str, &str, f64, i64)] = &[
            ("up 1", "up", "", 1.0, 1_000),
            ("up 1 1700000000123", "up", "", 1.0, 1_700_000_000_123),
            ("up\t\t1  \t42", "up", "", 1.0, 42),
            ("up 1 -5", "up", "", 1.0, -5),
            ("a:b_c 2.5e3", "a:b_c", "", 2500.0, 1_000),
            ("x{} 1", "x", "", 1.0, 1_000),
            (r#"x{b="2",a="1"} 1"#, "x", r#"a="1",b="2""#, 1.0, 1_000),
            (r#"x{ a = "1" , } 1"#, "x", r#"a="1""#, 1.0, 1_000),
            (r#"x{a=""} 1"#, "x", "", 1.0, 1_000),
            (
                r#"x{path="/a}b,c=\"d\""} 1"#,
                "x",
                r#"path="/a}b,c=\"d\"""#,
                1.0,
                1_000,
            ),
            (r#"x{p="a\\b"} 1"#, "x", r#"p="a\\b""#, 1.0, 1_000),
            (
                r#"x{p="line\nnext"} 1"#,
                "x",
                r#"p="line\nnext""#,
                1.0,
                1_000,
            ),
            // Unknown escapes stay as written, as Prometheus keeps them.
            (r#"x{p="a\tb"} 1"#, "x", r#"p="a\\tb""#, 1.0, 1_000),
            (r#"x{p="ünï ☃"} 1"#, "x", r#"p="ünï ☃""#, 1.0, 1_000),
            ("x +Inf", "x", "", f64::INFINITY, 1_000),
            ("x -Inf", "x", "", f64::NEG_INFINITY, 1_000),
            ("  x 3", "x", "", 3.0, 1_000),
            ("x 3\r", "x", "", 3.0, 1_000),
            // An exemplar after the value, or after the timestamp, is skipped.
            (
                r#"x_bucket{le="1"} 3 # {trace_id="a"} 0.5"#,
                "x_bucket",
                r#"le="1""#,
                3.0,
                1_000,
            ),
            (r#"x 3 7 # {trace_id="a"} 0.5 1"#, "x", "", 3.0, 7),
        ];
        for &(line, name, labels, value, ts) in cases {
            let sample = one(Format::Prometheus, line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(sample.name, name, "{line}");
            assert_eq!(sample.labels, labels, "{line}");
            assert_eq!(sample.value, value, "{line}");
            assert_eq!(sample.timestamp_ms, ts, "{line}");
        }
        let nan = one(Format::Prometheus, "x NaN").unwrap();
        assert!(nan.value.is_nan());
    }

    /// Lines that are not read, each with a message saying what is wrong.
    #[test]
    fn bad_lines_are_problems_naming_what_is_wrong() {
        let cases: &[(&str, &str)] = &[
            ("1x 1", "expected a metric name"),
            (r#"{"my.metric"} 1"#, "quoted UTF-8 name"),
            ("x", "has no value"),
            ("x ", "has no value"),
            ("x{a=\"1\"}1", "unexpected `1`"),
            ("x one", "value `one` is not a number"),
            ("x 1 12.5", "not whole milliseconds"),
            ("x 1 2 3", "unexpected `3` after the timestamp"),
            ("x{a=\"1\" 1", "expected `,` or `}`"),
            ("x{a=\"1\"", "no closing `}`"),
            ("x{a=\"1} 1", "no closing quote"),
            ("x{a=1} 1", "expected a quoted value for label `a`"),
            ("x{a \"1\"} 1", "expected `=` after label `a`"),
            ("x{1a=\"1\"} 1", "expected a label name"),
            ("x{\"a.b\"=\"1\"} 1", "quoted label names"),
            ("x{a=\"1\",a=\"2\"} 1", "label `a` appears twice"),
            ("x{__name__=\"y\"} 1", "`__name__` is reserved"),
            ("x{a=\"1\\", "no closing quote"),
        ];
        for &(line, expected) in cases {
            let err = one(Format::Prometheus, line).expect_err(line);
            assert!(err.contains(expected), "{line}: {err}");
        }
    }

    #[test]
    fn openmetrics_timestamps_are_seconds_truncated_to_milliseconds() {
        let cases: &[(&str, i64)] = &[
            ("x 1 1700000000", 1_700_000_000_000),
            ("x 1 1700000000.5", 1_700_000_000_500),
            ("x 1 1.0019", 1_001),
            ("x 1 -1.5", -1_500),
            ("x 1 1e3", 1_000_000),
        ];
        for &(line, ms) in cases {
            let text = format!("{line}\n# EOF\n");
            let exposition = parse(text.as_bytes(), Format::OpenMetrics, 0);
            assert!(
                exposition.problems.is_empty(),
                "{line}: {:?}",
                exposition.problems
            );
            assert_eq!(exposition.samples[0].timestamp_ms, ms, "{line}");
        }
        for bad in ["x 1 NaN", "x 1 +Inf", "x 1 1e300", "x 1 soon"] {
            let text = format!("{bad}\n# EOF\n");
            let exposition = parse(text.as_bytes(), Format::OpenMetrics, 0);
            assert!(exposition.samples.is_empty(), "{bad}");
            assert_eq!(exposition.problems.total(), 1, "{bad}");
        }
    }

    /// A full OpenMetrics exposition: metadata by family, counters' `_total` and `_created`, a
    /// histogram, a summary, exemplars, `# EOF`.
    #[test]
    fn an_openmetrics_exposition() {
        let text = r#"# TYPE http_requests counter
# UNIT http_requests requests
# HELP http_requests Requests served, by "route" \\ and\nmethod.
http_requests_total{route="/tasks",method="GET"} 1027 1700000000.000 # {trace_id="KOO5S4vxi0o"} 0.67
http_requests_created{route="/tasks",method="GET"} 1699990000.123 1700000000.000
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 8 1700000000
latency_seconds_bucket{le="+Inf"} 10 1700000000
latency_seconds_sum 2.5 1700000000
latency_seconds_count 10 1700000000
# TYPE rpc summary
rpc{quantile="0.99"} 0.2 1700000000
rpc_sum 12 1700000000
rpc_count 100 1700000000
# TYPE temperature gauge
temperature -3.5 1700000000
# EOF
"#;
        let exposition = parse(text.as_bytes(), Format::OpenMetrics, 0);
        assert!(exposition.problems.is_empty(), "{:?}", exposition.problems);
        assert!(exposition.eof);
        assert_eq!(exposition.samples.len(), 10);
        let names: Vec<&str> = exposition.samples.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names[0], "http_requests_total");
        assert_eq!(
            exposition.samples[0].labels,
            r#"method="GET",route="/tasks""#
        );
        assert_eq!(exposition.samples[0].timestamp_ms, 1_700_000_000_000);
        assert_eq!(exposition.samples[1].value, 1_699_990_000.123);
        let requests = &exposition.families[0];
        assert_eq!(requests.name, "http_requests");
        assert_eq!(requests.kind, MetricType::Counter);
        assert_eq!(requests.unit.as_deref(), Some("requests"));
        assert_eq!(
            requests.help.as_deref(),
            Some("Requests served, by \"route\" \\ and\nmethod.")
        );
        let kinds: Vec<(&str, MetricType)> = exposition
            .families
            .iter()
            .map(|f| (f.name.as_str(), f.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("http_requests", MetricType::Counter),
                ("latency_seconds", MetricType::Histogram),
                ("rpc", MetricType::Summary),
                ("temperature", MetricType::Gauge)
            ]
        );
    }

    #[test]
    fn families_of_samples() {
        let declared = |name: &str| match name {
            "req" => Some(MetricType::Counter),
            "lat" => Some(MetricType::Histogram),
            "rpc" => Some(MetricType::Summary),
            "build" => Some(MetricType::Info),
            "old_total" => Some(MetricType::Counter),
            "temp" => Some(MetricType::Gauge),
            _ => None,
        };
        let cases: &[(&str, &str, MetricType)] = &[
            ("req_total", "req", MetricType::Counter),
            ("req_created", "req", MetricType::Counter),
            ("lat_bucket", "lat", MetricType::Histogram),
            ("lat_count", "lat", MetricType::Histogram),
            ("lat_sum", "lat", MetricType::Histogram),
            ("rpc", "rpc", MetricType::Summary),
            ("rpc_count", "rpc", MetricType::Summary),
            ("build_info", "build", MetricType::Info),
            // Prometheus text: the counter's TYPE names the sample itself.
            ("old_total", "old_total", MetricType::Counter),
            // A gauge has no suffixes: `temp_total` is a series of its own.
            ("temp_total", "temp_total", MetricType::Unknown),
            ("lat_total", "lat_total", MetricType::Unknown),
            ("other", "other", MetricType::Unknown),
        ];
        for &(sample, family, kind) in cases {
            assert_eq!(family_of(sample, declared), (family, kind), "{sample}");
        }
    }

    #[test]
    fn histogram_buckets_and_summary_quantiles_need_their_label() {
        let text = "# TYPE lat histogram\nlat_bucket 1\nlat_bucket{le=\"x\"} 1\nlat_bucket{le=\"0.5\"} 1\n# TYPE rpc summary\nrpc 1\nrpc{quantile=\"0.5\"} 1\nrpc_sum 1\n";
        let exposition = parse(text.as_bytes(), Format::Prometheus, 0);
        let lines: Vec<usize> = exposition.problems.kept().iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3, 6], "{:?}", exposition.problems);
        assert!(exposition.problems.kept()[0]
            .message
            .contains("no `le` label"));
        assert!(exposition.problems.kept()[1]
            .message
            .contains("not a number"));
        assert!(exposition.problems.kept()[2]
            .message
            .contains("no `quantile` label"));
        assert_eq!(exposition.samples.len(), 3);
    }

    /// Comments and metadata in both formats: `# UNIT` and `# EOF` are keywords only in
    /// OpenMetrics; a second TYPE is reported, as is an unknown type word.
    #[test]
    fn metadata_lines() {
        let text = "# a comment\n#TYPE not_metadata counter\n# TYPE a counter\n# TYPE a gauge\n# TYPE b fancy\n# HELP 9x nope\n# UNIT a seconds\n# EOF\na 1\n";
        let exposition = parse(text.as_bytes(), Format::Prometheus, 0);
        let messages: Vec<String> = exposition
            .problems
            .kept()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("line 4: a second `# TYPE` for `a`"));
        assert!(messages[1].starts_with("line 5: `fancy` is not a metric type"));
        assert!(messages[2].starts_with("line 6: `# HELP` names `9x`"));
        assert_eq!(exposition.samples.len(), 1, "`# EOF` is a comment here");
        assert_eq!(exposition.families.len(), 1);
        assert_eq!(exposition.families[0].unit, None);
        assert!(!exposition.eof);
    }

    /// Metadata is kept for at most MAX_FAMILIES families; samples of the rest are still read.
    /// A second HELP for a family is reported, the first kept.
    #[test]
    fn metadata_is_bounded_and_kept_once() {
        let mut text = String::new();
        for i in 0..=MAX_FAMILIES {
            text.push_str(&format!("# TYPE f{i} gauge\n"));
        }
        text.push_str(&format!(
            "f{MAX_FAMILIES} 1\n# HELP f0 first\n# HELP f0 second\n"
        ));
        let exposition = parse(text.as_bytes(), Format::Prometheus, 0);
        assert_eq!(exposition.families.len(), MAX_FAMILIES);
        assert_eq!(exposition.samples.len(), 1);
        let messages: Vec<&str> = exposition
            .problems
            .kept()
            .iter()
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains("more than 100000 metric families"),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("a second `# HELP` for `f0`"),
            "{messages:?}"
        );
        let f0 = exposition.families.iter().find(|f| f.name == "f0").unwrap();
        assert_eq!(f0.help.as_deref(), Some("first"));
    }

    #[test]
    fn openmetrics_must_end_with_eof_and_nothing_after_it() {
        let missing = parse(b"a 1 1\n", Format::OpenMetrics, 0);
        assert_eq!(missing.samples.len(), 1);
        assert!(missing.problems.kept()[0]
            .message
            .contains("does not end with `# EOF`"));
        let after = parse(b"a 1 1\n# EOF\na 2 2\nb 3 3\n", Format::OpenMetrics, 0);
        assert_eq!(after.samples.len(), 1);
        assert_eq!(
            after.problems.total(),
            1,
            "one problem for the text after it"
        );
        assert_eq!(after.problems.kept()[0].line, 3);
    }

    /// A bad line costs that line: the rest is read, and the problems name the lines.
    #[test]
    fn the_rest_is_read_around_bad_lines() {
        let text = b"a 1\nb{ 2\n\xff\xfe 3\nc 4\n\nd 5";
        let exposition = parse(text, Format::Prometheus, 9);
        let names: Vec<&str> = exposition.samples.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "d"]);
        let lines: Vec<usize> = exposition.problems.kept().iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3]);
        assert!(exposition.problems.kept()[1].message.contains("UTF-8"));
        assert_eq!(exposition.lines, 6);
    }

    #[test]
    fn hostile_input_is_bounded() {
        // A line over the limit is skipped; the next is read.
        let mut text = vec![b'x'; MAX_LINE_BYTES + 1];
        text.extend_from_slice(b" 1\nok 1\n");
        let exposition = parse(&text, Format::Prometheus, 0);
        assert_eq!(exposition.samples.len(), 1);
        assert!(exposition.problems.kept()[0].message.contains("over the"));

        // 65 labels: refused.
        let labels: Vec<String> = (0..=MAX_LABELS_PER_SERIES)
            .map(|i| format!("l{i}=\"v\""))
            .collect();
        let line = format!("x{{{}}} 1", labels.join(","));
        let err = one(Format::Prometheus, &line).unwrap_err();
        assert!(err.contains("more than 64 labels"), "{err}");

        // A body over 10 MB: read up to the limit, said so.
        let line = b"series_with_a_long_name{label=\"value\"} 1\n";
        let body: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(MAX_SCRAPE_BYTES + 1000)
            .collect();
        let exposition = parse(&body, Format::Prometheus, 0);
        assert_eq!(exposition.samples.len(), MAX_SCRAPE_BYTES / line.len());
        let last = exposition.problems.kept().last().unwrap();
        assert!(
            last.message.contains("over the 10485760-byte limit"),
            "{last}"
        );

        // Many problems: counted, a hundred kept.
        let garbage = "?\n".repeat(5000);
        let exposition = parse(garbage.as_bytes(), Format::Prometheus, 0);
        assert_eq!(exposition.problems.total(), 5000);
        assert_eq!(exposition.problems.kept().len(), MAX_PROBLEMS_KEPT);
    }

    #[test]
    fn samples_past_the_chunk_limit_are_not_read() {
        let body = "x 1\n".repeat(MAX_SAMPLES_PER_CHUNK + 2);
        let exposition = parse(body.as_bytes(), Format::Prometheus, 0);
        assert_eq!(exposition.samples.len(), MAX_SAMPLES_PER_CHUNK);
        assert!(exposition.problems.kept()[0]
            .message
            .contains("the rest is not read"));
    }

    /// Every prefix of a tricky exposition, and every single-byte corruption of it, parses
    /// without panicking.
    #[test]
    fn never_panics_on_cut_or_corrupted_input() {
        let text = "# TYPE h histogram\n# HELP h a \\\\ b\nh_bucket{le=\"0.5\",p=\"a\\\"b\\n☃\"} 1 1 # {t=\"x\"} 1 1\nh_count 2\n# EOF\n";
        let bytes = text.as_bytes();
        for format in [Format::Prometheus, Format::OpenMetrics] {
            for end in 0..=bytes.len() {
                let _ = parse(&bytes[..end], format, 0);
            }
            for i in 0..bytes.len() {
                for replacement in [b'"', b'\\', b'{', b'}', b'\n', b' ', b'#', 0xff, b'=', b','] {
                    let mut corrupted = bytes.to_vec();
                    corrupted[i] = replacement;
                    let _ = parse(&corrupted, format, 0);
                }
            }
        }
    }

    #[test]
    fn canonical_labels_round_trip() {
        let pairs = [("z", "1"), ("a", "q\"uo\\te\nx"), ("empty", "")];
        let text = canonical_labels(pairs);
        assert_eq!(text, r#"a="q\"uo\\te\nx",z="1""#);
        assert_eq!(
            split_labels(&text),
            [
                ("a".to_string(), "q\"uo\\te\nx".to_string()),
                ("z".to_string(), "1".to_string())
            ]
        );
        assert!(split_labels("").is_empty());
    }

    #[test]
    fn read_line_holds_at_most_the_limit() {
        let input = format!("short\n{}\nlast", "y".repeat(100));
        let mut reader = io::BufReader::with_capacity(7, input.as_bytes());
        let mut buffer = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut buffer, 10).unwrap(),
            LineRead::Line
        );
        assert_eq!(buffer, b"short");
        assert_eq!(
            read_line(&mut reader, &mut buffer, 10).unwrap(),
            LineRead::TooLong(100)
        );
        assert_eq!(buffer.len(), 10);
        assert_eq!(
            read_line(&mut reader, &mut buffer, 10).unwrap(),
            LineRead::Line
        );
        assert_eq!(buffer, b"last");
        assert_eq!(
            read_line(&mut reader, &mut buffer, 10).unwrap(),
            LineRead::End
        );
    }

    #[test]
    fn content_types() {
        for (content_type, format) in [
            (
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                Format::OpenMetrics,
            ),
            ("Application/OpenMetrics-Text", Format::OpenMetrics),
            (
                "text/plain; version=0.0.4; charset=utf-8",
                Format::Prometheus,
            ),
            ("", Format::Prometheus),
        ] {
            assert_eq!(
                Format::from_content_type(content_type),
                format,
                "{content_type}"
            );
        }
    }
}
