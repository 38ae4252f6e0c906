//! A map from field paths (`scenarios[2].then[0]`) to line/column, built from YAML parse events.
//!
//! serde_yaml's `Value` forgets positions; the event parser keeps them. We walk the events once
//! per file and remember where every node starts and where every mapping key sits, so a
//! diagnostic about any field can point at the exact line.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

use crate::limits::{check_name, CharCursor, Cost, LimitExceeded, Limits};

/// Total bytes of field paths the index keeps. Paths repeat their ancestors' keys, so a deep
/// nest of long keys could make them quadratic in the file size; past this budget later fields
/// are located at their nearest indexed ancestor instead. Real spec files use well under 1 MB.
const MAX_INDEX_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct PositionIndex {
    /// Start of the node at the path (1-based line and column).
    nodes: HashMap<String, (usize, usize)>,
    /// Position of the key whose value is the node at the path.
    keys: HashMap<String, (usize, usize)>,
    /// Bytes of paths stored (see [`MAX_INDEX_BYTES`]).
    bytes: usize,
    /// The event parser's syntax error, if the first document has one: message, line, column.
    pub syntax_error: Option<(String, usize, usize)>,
}

impl PositionIndex {
    /// The event parser's syntax error when serde_yaml must not be given the text at all: the
    /// event parser stopped there, so aliases after it were not measured (serde_yaml's parser
    /// might read further and expand them), or it stopped at its nesting limit (serde_yaml's
    /// parser takes quadratic time on deep flow nesting: 100,000 `[` took 39 s). Any other
    /// syntax error goes to serde_yaml, whose messages the diagnostics' help recognises.
    pub fn unsafe_syntax_error(&self, text: &str) -> Option<&(String, usize, usize)> {
        self.syntax_error
            .as_ref()
            .filter(|(message, ..)| text.contains('*') || message.contains("recursion limit"))
    }
}

enum Frame {
    Map {
        path: String,
        pending_key: Option<(String, (usize, usize))>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

impl PositionIndex {
    /// Index the first document of `text`. On a syntax error the index holds what came before it.
    pub fn build(text: &str) -> Self {
        Self::build_checked(text, &Limits::default()).unwrap_or_default()
    }

    /// Index the first document of `text` and measure what loading it would cost with aliases
    /// expanded; refuse it, at the node that crosses a limit, when that is above `limits`. Only
    /// the first document matters: serde_yaml deserializes the first and then refuses the file.
    pub fn build_checked(text: &str, limits: &Limits) -> Result<Self, LimitExceeded> {
        let mut index = PositionIndex::default();
        let mut cost = Cost::new(*limits);
        let mut cursor = CharCursor::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut indexing = true;
        let mut parser = Parser::new_from_str(text);
        let mut documents = 0;
        loop {
            let (event, span) = match parser.next_event() {
                Some(Ok(next)) => next,
                Some(Err(err)) => {
                    let marker = err.marker();
                    index.syntax_error =
                        Some((err.info().to_string(), marker.line(), marker.col() + 1));
                    break;
                }
                None => break,
            };
            let at = (span.start.line(), span.start.col() + 1);
            let (named, sigil) = match &event {
                Event::Scalar(_, _, anchor, _)
                | Event::MappingStart(anchor, _)
                | Event::SequenceStart(anchor, _) => (*anchor > 0, '&'),
                Event::Alias(_) => (true, '*'),
                _ => (false, '&'),
            };
            if named {
                let byte = cursor.byte_at(text, span.start.index());
                check_name(text, byte, sigil, at)?;
            }
            match &event {
                Event::Scalar(value, _, anchor, _) => cost.scalar(value.len(), *anchor, at)?,
                Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                    cost.start(*anchor, at)?
                }
                Event::MappingEnd | Event::SequenceEnd => cost.end(),
                Event::Alias(anchor) => cost.alias(*anchor, at)?,
                _ => {}
            }
            if indexing && index.bytes > MAX_INDEX_BYTES {
                indexing = false;
                stack.clear();
            }
            if !indexing && !matches!(event, Event::DocumentStart(_)) {
                continue;
            }
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        break;
                    }
                }
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { pending_key, .. }) = stack.last_mut() {
                        if pending_key.is_none() {
                            *pending_key = Some((value.into_owned(), at));
                            continue;
                        }
                    }
                    let path = index.child_path(&mut stack);
                    index.record(path, at, &mut stack);
                }
                Event::Alias(_) => {
                    let path = index.child_path(&mut stack);
                    index.record(path, at, &mut stack);
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    let path = index.child_path(&mut stack);
                    index.record(path.clone(), at, &mut stack);
                    stack.push(if is_map {
                        Frame::Map {
                            path,
                            pending_key: None,
                        }
                    } else {
                        Frame::Seq { path, next: 0 }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        Ok(index)
    }

    /// The path of the node that is about to start, advancing the parent's cursor.
    fn child_path(&self, stack: &mut [Frame]) -> String {
        match stack.last_mut() {
            None => String::new(),
            Some(Frame::Seq { path, next }) => {
                let child = format!("{path}[{next}]");
                *next += 1;
                child
            }
            Some(Frame::Map { path, pending_key }) => match pending_key {
                Some((key, _)) => join(path, key),
                // A complex (non-scalar) key: we do not index inside it.
                None => format!("{path}.?"),
            },
        }
    }

    fn record(&mut self, path: String, at: (usize, usize), stack: &mut [Frame]) {
        if let Some(Frame::Map { pending_key, .. }) = stack.last_mut() {
            if let Some((_, key_at)) = pending_key.take() {
                self.bytes += path.len();
                self.keys.insert(path.clone(), key_at);
            }
        }
        self.bytes += path.len();
        self.nodes.entry(path).or_insert(at);
    }

    /// An index of positions known another way: a `.feature` file's fields, located in the
    /// Gherkin text (see `gherkin.rs`), so its diagnostics point where the YAML ones would.
    pub fn from_positions(positions: impl IntoIterator<Item = (String, (usize, usize))>) -> Self {
        let mut index = PositionIndex::default();
        for (path, at) in positions {
            index.bytes += path.len();
            index.nodes.entry(path).or_insert(at);
        }
        index
    }

    /// Where the field at `path` is: its key if it is a mapping entry, else the node. Falls back to
    /// the nearest indexed ancestor (a missing field is reported at its parent), then to 1:1.
    pub fn locate(&self, path: &str) -> (usize, usize) {
        let mut current = path.to_string();
        loop {
            if let Some(at) = self.keys.get(&current).or_else(|| self.nodes.get(&current)) {
                return *at;
            }
            match parent(&current) {
                Some(p) => current = p,
                None => return (1, 1),
            }
        }
    }

    /// Where the value of the node at `path` starts (not its key).
    pub fn value_start(&self, path: &str) -> Option<(usize, usize)> {
        self.nodes.get(path).copied()
    }
}

pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn parent(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(path[..cut].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_keys_items_and_missing_fields() {
        let text = "feature: Tasks\nscenarios:\n  - name: A\n    then:\n      - one\n      - two\n  - name: B\n";
        let index = PositionIndex::build(text);
        assert_eq!(index.locate("feature"), (1, 1));
        assert_eq!(index.locate("scenarios[0].then"), (4, 5));
        assert_eq!(index.locate("scenarios[0].then[1]"), (6, 9));
        assert_eq!(index.locate("scenarios[1]"), (7, 5));
        // Missing field: reported at the scenario that lacks it.
        assert_eq!(index.locate("scenarios[1].when"), (7, 5));
        assert_eq!(index.value_start("scenarios[0].then"), Some((5, 7)));
    }

    #[test]
    fn positions_known_another_way_locate_like_parsed_ones() {
        let index = PositionIndex::from_positions([
            ("scenarios[0]".to_string(), (4, 3)),
            ("scenarios[0].then[0]".to_string(), (7, 5)),
        ]);
        assert_eq!(index.locate("scenarios[0].then[0]"), (7, 5));
        // Not given: its nearest located ancestor, as for a missing YAML field.
        assert_eq!(index.locate("scenarios[0].status"), (4, 3));
        assert_eq!(index.locate("feature"), (1, 1));
    }
}
