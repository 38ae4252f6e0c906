//! Series selectors in PromQL's syntax — `http_request_duration_seconds_bucket{route="/tasks",
//! method=~"GET|HEAD"}` — parsed, rendered back to PromQL, and matched against label sets the
//! way Prometheus matches them (regular expressions anchored at both ends; a label that is
//! absent has the empty value).

use std::collections::BTreeMap;
use std::fmt;

use regex_automata::meta::Regex;

/// A label set; `__name__` is the metric name.
pub type Labels = BTreeMap<String, String>;

/// The longest selector text accepted (a tool argument or an `sdd.yaml` value).
const MAX_SELECTOR_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
    /// The anchored regular expression of `=~` / `!~`.
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        self.label == other.label && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    pub fn new(label: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("`{value}` is not a regular expression: {e}"))?,
            ),
            _ => None,
        };
        Ok(Matcher {
            label: label.to_string(),
            op,
            value: value.to_string(),
            regex,
        })
    }

    pub fn equal(label: &str, value: &str) -> Matcher {
        Matcher {
            label: label.to_string(),
            op: MatchOp::Equal,
            value: value.to_string(),
            regex: None,
        }
    }

    /// Whether a label value (empty when the label is absent) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::Regex => self.regex.as_ref().is_some_and(|r| r.is_match(value)),
            MatchOp::NotRegex => !self.regex.as_ref().is_some_and(|r| r.is_match(value)),
        }
    }
}

/// A metric name and label matchers.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub metric: String,
    pub matchers: Vec<Matcher>,
}

impl Selector {
    pub fn named(metric: &str) -> Selector {
        Selector {
            metric: metric.to_string(),
            matchers: Vec::new(),
        }
    }

    pub fn with(mut self, matcher: Matcher) -> Selector {
        self.matchers.push(matcher);
        self
    }

    /// The same matchers on another metric name (`x` → `x_bucket`).
    pub fn renamed(&self, metric: &str) -> Selector {
        Selector {
            metric: metric.to_string(),
            matchers: self.matchers.clone(),
        }
    }

    /// Whether a stored series (its metric name and labels without `__name__`) is selected.
    pub fn matches(&self, name: &str, labels: &Labels) -> bool {
        name == self.metric
            && self.matchers.iter().all(|m| {
                let value = if m.label == "__name__" {
                    name
                } else {
                    labels.get(&m.label).map(String::as_str).unwrap_or("")
                };
                m.matches(value)
            })
    }

    /// `name{a="b"}` or `name{a="b"}` with the text as written in a tool argument. Errors say
    /// what is wrong and where.
    pub fn parse(text: &str) -> Result<Selector, String> {
        if text.len() > MAX_SELECTOR_BYTES {
            return Err(format!(
                "a selector is at most {MAX_SELECTOR_BYTES} bytes; this one is {}",
                text.len()
            ));
        }
        let text = text.trim();
        let name_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(text.len());
        let metric = &text[..name_end];
        if metric.is_empty() || metric.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!(
                "`{text}` does not start with a metric name (letters, digits, `_`, `:`; e.g. `http_requests_total{{status=\"500\"}}`)"
            ));
        }
        let rest = text[name_end..].trim_start();
        let mut selector = Selector::named(metric);
        if rest.is_empty() {
            return Ok(selector);
        }
        let Some(body) = rest.strip_prefix('{') else {
            return Err(format!(
                "after the metric name `{metric}` only `{{label=\"value\", …}}` may follow, not `{rest}`"
            ));
        };
        let mut chars = body.char_indices().peekable();
        loop {
            skip_spaces(&mut chars);
            match chars.peek() {
                Some((_, '}')) => {
                    chars.next();
                    break;
                }
                None => return Err(format!("`{text}`: the `{{` is never closed")),
                _ => {}
            }
            let label = take_while(&mut chars, body, |c| c.is_ascii_alphanumeric() || c == '_');
            if label.is_empty() || label.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!("`{text}`: expected a label name inside the braces"));
            }
            skip_spaces(&mut chars);
            let op = match (chars.next(), chars.peek().map(|(_, c)| *c)) {
                (Some((_, '=')), Some('~')) => {
                    chars.next();
                    MatchOp::Regex
                }
                (Some((_, '=')), _) => MatchOp::Equal,
                (Some((_, '!')), Some('=')) => {
                    chars.next();
                    MatchOp::NotEqual
                }
                (Some((_, '!')), Some('~')) => {
                    chars.next();
                    MatchOp::NotRegex
                }
                _ => {
                    return Err(format!(
                        "`{text}`: after `{label}` expected one of = != =~ !~"
                    ))
                }
            };
            skip_spaces(&mut chars);
            let value = quoted(&mut chars).map_err(|e| format!("`{text}`: {e}"))?;
            selector.matchers.push(
                Matcher::new(label, op, &value)
                    .map_err(|e| format!("`{text}`: label `{label}`: {e}"))?,
            );
            skip_spaces(&mut chars);
            match chars.next() {
                Some((_, ',')) => continue,
                Some((_, '}')) => break,
                _ => return Err(format!("`{text}`: expected `,` or `}}` after `{label}`")),
            }
        }
        let trailing: String = chars.map(|(_, c)| c).collect();
        if !trailing.trim().is_empty() {
            return Err(format!(
                "`{text}`: `{}` after the closing brace; a selector is only `name{{…}}` (no functions or ranges)",
                trailing.trim()
            ));
        }
        Ok(selector)
    }
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

fn skip_spaces(chars: &mut Chars) {
    while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
        chars.next();
    }
}

fn take_while<'a>(chars: &mut Chars, text: &'a str, keep: impl Fn(char) -> bool) -> &'a str {
    let start = chars.peek().map(|(i, _)| *i).unwrap_or(text.len());
    let mut end = start;
    while let Some(&(i, c)) = chars.peek() {
        if !keep(c) {
            break;
        }
        end = i + c.len_utf8();
        chars.next();
    }
    &text[start..end]
}

/// A double- or single-quoted string with PromQL's (Go's) escapes for quotes and backslashes.
fn quoted(chars: &mut Chars) -> Result<String, String> {
    let quote = match chars.next() {
        Some((_, q @ ('"' | '\'' | '`'))) => q,
        _ => return Err("a label value must be quoted (\"…\")".into()),
    };
    let mut value = String::new();
    loop {
        match chars.next() {
            None => return Err("a quoted value is never closed".into()),
            Some((_, c)) if c == quote => return Ok(value),
            Some((_, '\\')) if quote != '`' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, c)) => value.push(c),
                None => return Err("a quoted value ends in a backslash".into()),
            },
            Some((_, c)) => value.push(c),
        }
    }
}

/// A label value as a PromQL double-quoted string.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A literal as an RE2 expression matching exactly it.
pub fn regex_escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    for c in literal.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.metric)?;
        if self.matchers.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}{}{}", m.label, m.op.as_str(), quote(&m.value))?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_renders_back() {
        let cases = [
            ("up", "up"),
            ("up{}", "up"),
            (
                r#"http_x_bucket{route="/tasks/{id}", method=~"GET|HEAD",status!~"5.."}"#,
                r#"http_x_bucket{route="/tasks/{id}",method=~"GET|HEAD",status!~"5.."}"#,
            ),
            (r#"a:b{x!='y',}"#, r#"a:b{x!="y"}"#),
            (r#"m{v="say \"hi\" \\ ok"}"#, r#"m{v="say \"hi\" \\ ok"}"#),
        ];
        for (input, rendered) in cases {
            let selector = Selector::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(selector.to_string(), rendered, "{input}");
            assert_eq!(Selector::parse(rendered).unwrap(), selector, "{input}");
        }
    }

    #[test]
    fn refuses_with_the_reason() {
        let cases = [
            ("", "metric name"),
            ("{a=\"b\"}", "metric name"),
            ("9x", "metric name"),
            ("m{a=\"b\"", "expected `,` or `}`"),
            ("m{a=\"b", "never closed"),
            ("m{a=b}", "must be quoted"),
            ("m{=\"b\"}", "label name"),
            ("m{a~\"b\"}", "= != =~ !~"),
            ("m{a=~\"(\"}", "not a regular expression"),
            ("rate(m[5m])", "only `{label"),
            ("m{a=\"b\"}[5m]", "no functions or ranges"),
            ("m{", "never closed"),
        ];
        for (input, wanted) in cases {
            let err = Selector::parse(input).expect_err(input);
            assert!(err.contains(wanted), "{input}: {err}");
        }
        assert!(Selector::parse(&"a".repeat(5000))
            .unwrap_err()
            .contains("at most"));
    }

    #[test]
    fn matches_as_prometheus_does() {
        let s = Selector::parse(r#"m{route=~"/tasks|/tasks/\\{id\\}",method!="POST",absent=""}"#)
            .unwrap();
        assert!(s.matches("m", &labels(&[("route", "/tasks"), ("method", "GET")])));
        assert!(s.matches("m", &labels(&[("route", "/tasks/{id}")])));
        // Anchored at both ends.
        assert!(!s.matches("m", &labels(&[("route", "/tasks/1")])));
        assert!(!s.matches("m", &labels(&[("route", "x/tasks")])));
        assert!(!s.matches("m", &labels(&[("route", "/tasks"), ("method", "POST")])));
        assert!(!s.matches("m", &labels(&[("route", "/tasks"), ("absent", "x")])));
        assert!(!s.matches("n", &labels(&[("route", "/tasks")])));
        let not = Selector::parse(r#"m{status!~"5.."}"#).unwrap();
        assert!(not.matches("m", &labels(&[("status", "200")])));
        assert!(!not.matches("m", &labels(&[("status", "503")])));
        assert_eq!(regex_escape("/tasks/{id}"), r"/tasks/\{id\}");
    }
}
