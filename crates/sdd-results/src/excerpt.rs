//! A failure's output cut down to what a reader needs: stack frames and runner boilerplate
//! dropped, a window around the first line that says what went wrong, bounded in lines and bytes.

const MAX_LINES: usize = 20;
const MAX_CHARS: usize = 1500;

/// Words that mark the line where a failure is explained.
const MARKERS: &[&str] = &[
    "panicked at",
    "assert",
    "Error",
    "error",
    "expected",
    "Expected",
    "FAIL",
    "Failed",
    "Traceback",
    "E  ",
];

pub fn relevant_excerpt(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !is_noise(line))
        .map(|line| line.trim_end())
        .collect();
    let lines: Vec<String> = lines.into_iter().map(shorten_rule).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    // Collapse runs of blank lines and trim blank edges.
    let mut kept: Vec<&str> = Vec::new();
    for line in lines {
        if line.is_empty() && kept.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        kept.push(line);
    }
    while kept.last().is_some_and(|l| l.is_empty()) {
        kept.pop();
    }
    if kept.is_empty() {
        return None;
    }
    let first_marker = kept
        .iter()
        .position(|line| MARKERS.iter().any(|m| line.contains(m)))
        .unwrap_or(0);
    let start = first_marker.saturating_sub(3);
    let window = &kept[start..kept.len().min(start + MAX_LINES)];
    let mut out = String::new();
    if start > 0 {
        out.push_str("…\n");
    }
    for line in window {
        if out.len() + line.len() + 1 > MAX_CHARS {
            out.push_str("…\n");
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    if start + MAX_LINES < kept.len() && !out.ends_with("…\n") {
        out.push_str("…\n");
    }
    Some(out.trim_end().to_string())
}

/// `------- Captured stdout call -------` (as wide as the terminal) → `--- Captured stdout call ---`.
fn shorten_rule(line: &str) -> String {
    for fill in ['-', '=', '_'] {
        let inner = line.trim_matches(fill);
        if line.len() - inner.len() > 10 {
            let fence: String = std::iter::repeat_n(fill, 3).collect();
            return if inner.trim().is_empty() {
                fence
            } else {
                format!("{fence} {} {fence}", inner.trim())
            };
        }
    }
    line.to_string()
}

/// Stack frames and hints that never explain a failure.
fn is_noise(line: &str) -> bool {
    let t = line.trim_start();
    let frame_number = t
        .split_once(':')
        .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    frame_number
        || t.starts_with("at /rustc/")
        || (t.starts_with("at ") && line.starts_with("    "))
        || t.starts_with("stack backtrace:")
        || t.starts_with("note: run with `RUST_BACKTRACE")
        || t.starts_with("note: Some details are omitted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_frames_and_keeps_the_message() {
        let text = "thread 'x' panicked at src/lib.rs:42:9:\nassertion `left == right` failed\n  left: 1\n right: 2\nstack backtrace:\n   0: __rustc::rust_begin_unwind\n             at /rustc/abc/library/std/src/panicking.rs:689:5\n   1: core::panicking::panic_fmt\nnote: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n";
        let excerpt = relevant_excerpt(text).unwrap();
        assert_eq!(
            excerpt,
            "thread 'x' panicked at src/lib.rs:42:9:\nassertion `left == right` failed\n  left: 1\n right: 2"
        );
    }

    #[test]
    fn long_output_is_bounded_around_the_failure() {
        let mut text = String::new();
        for i in 0..500 {
            text.push_str(&format!("log line {i}\n"));
        }
        text.push_str("AssertionError: expected 3 got 2\n");
        for i in 0..500 {
            text.push_str(&format!("after {i}\n"));
        }
        let excerpt = relevant_excerpt(&text).unwrap();
        assert!(excerpt.contains("AssertionError: expected 3 got 2"));
        assert!(excerpt.lines().count() <= MAX_LINES + 2);
        assert!(excerpt.starts_with("…\nlog line 497"));
    }

    #[test]
    fn empty_output_has_no_excerpt() {
        assert_eq!(relevant_excerpt("\n\n"), None);
    }
}
