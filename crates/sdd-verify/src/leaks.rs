//! What in a response body gives away a service's internals: stack traces and their frames
//! (Python, Java, Node, Go, .NET, Ruby, Rust), SQL error text, exception names, paths of
//! source files. A phrase that can only mean one thing is a substring (`LEAKS`); where a bare
//! substring would also match ordinary JSON — `/app/` in `{"url":"/app/settings"}`, `Error`
//! in `{"error":"Not found"}` — a small matcher looks for the shape only a leak has: a source
//! file with a line number, an exception's class name as a whole word, a goroutine header.
//! (No `regex`: the crate is not in the tree, and these shapes are a few lines each.)

/// Lowercase substrings of a body that give away internals, whatever surrounds them.
pub const LEAKS: &[&str] = &[
    "traceback (most recent call last)",
    "stack trace",
    "syntax error",
    "sqlite",
    "psycopg",
    "sqlstate",
    "mysql",
    "ora-0",
    "exception in thread",
    "at java.",
    "panicked at",
    "root:x:0:0",
    "uid=0(",
    "operationalerror",
    "sqlalchemy",
    "unrecognized token",
    "near \"",
    "file \"/",
    ".py\", line",
    "/home/",
    "/usr/lib/",
    "/src/main/",
    "node_modules/",
    // Node's own frames (`at process.processTicksAndRejections (node:internal/…)`).
    "node:internal/",
    // Go: the first line of a runtime panic.
    "panic: runtime error",
];

/// File extensions of source code: a path ending in one, or followed by a line number, is a
/// frame of a stack trace or a compiler's message, not data.
const SOURCE_EXTENSIONS: &[&str] = &[
    "js", "mjs", "cjs", "jsx", "ts", "tsx", "py", "rb", "go", "cs", "java", "kt", "scala", "php",
    "rs", "ex", "exs", "erl", "c", "cc", "cpp", "h", "swift", "lua",
];

/// Exception and error names that are only ever a runtime's (Python's, JavaScript's, Node's
/// error codes, the JVM's and .NET's null dereference): matched case-sensitively as whole
/// words, so `valueError` (a field) and `Error` (a word) are not. `SyntaxError` is left out:
/// services word their JSON parse errors with it on purpose, and `syntax error` is in `LEAKS`.
const EXCEPTION_NAMES: &[&str] = &[
    "KeyError",
    "ValueError",
    "TypeError",
    "AttributeError",
    "IndexError",
    "ZeroDivisionError",
    "NameError",
    "UnboundLocalError",
    "RuntimeError",
    "RecursionError",
    "AssertionError",
    "NotImplementedError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "JSONDecodeError",
    "IntegrityError",
    "ProgrammingError",
    "ModuleNotFoundError",
    "ImportError",
    "FileNotFoundError",
    "ReferenceError",
    "RangeError",
    "ENOENT",
    "EACCES",
    "ECONNREFUSED",
    "NullPointerException",
    "NullReferenceException",
];

/// Directories services are deployed under: a path below one of them that names a source
/// file is the service's own code (`/srv/app/server.js`), while `/app/settings` is a route.
const DEPLOY_ROOTS: &[&str] = &["/srv/", "/app/", "/opt/", "/usr/src/", "/var/www/"];

/// Longest excerpt a finding quotes.
const EXCERPT_CHARS: usize = 80;

/// The first sign of internals in `body`: the `LEAKS` entry it contains, or the text a matcher
/// found (`server.js:12:34`, `KeyError`, `goroutine 1 [running]`).
pub fn leak_in(body: &str) -> Option<String> {
    let lower = body.to_lowercase();
    if let Some(leak) = LEAKS.iter().find(|l| lower.contains(*l)) {
        return Some((*leak).to_string());
    }
    // The most telling first: it is what the finding quotes.
    goroutine_header(body)
        .or_else(|| exception_name(body))
        .or_else(|| qualified_exception(body))
        .or_else(|| source_location(body))
        .or_else(|| dotted_frame(body))
        .or_else(|| deployed_source_path(body))
        .map(|found| found.chars().take(EXCERPT_CHARS).collect())
}

/// The strings a request sends: its JSON body's string values and its query values.
pub fn sent_strings(path: &str, body: Option<&[u8]>) -> Vec<String> {
    let mut sent: Vec<String> = Vec::new();
    if let Some(Ok(json)) = body.map(serde_json::from_slice::<serde_json::Value>) {
        string_leaves(&json, &mut sent);
    }
    if let Some((_, query)) = path.split_once('?') {
        sent.extend(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('=').map(|(_, v)| percent_decoded(v))),
        );
    }
    sent
}

/// The leak in an answer, leaving out the client's own data in it (`client`: what this
/// request and the examples sent): a task titled "migrate mysql" read back is the client's
/// data, not the service's internals.
pub fn leak_beyond(answer: &str, client: &[String]) -> Option<String> {
    let mut client: Vec<&String> = client.iter().filter(|v| v.len() >= 3).collect();
    // Longest first, so a value is not cut up by a shorter one inside it.
    client.sort_by_key(|v| std::cmp::Reverse(v.len()));
    client.dedup();
    let mut answer = answer.to_string();
    for value in client {
        answer = answer.replace(value.as_str(), "");
        // The same value as a JSON string in the answer (quotes and backslashes escaped).
        if let Ok(quoted) = serde_json::to_string(value) {
            answer = answer.replace(quoted.trim_matches('"'), "");
        }
    }
    leak_in(&answer)
}

fn string_leaves(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| string_leaves(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| string_leaves(v, out)),
        _ => {}
    }
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => match u8::from_str_radix(&String::from_utf8_lossy(hex), 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A character that can be part of a file path or a dotted name in a trace.
fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./@+~$".contains(c)
}

/// The run of path characters around byte `at`, as (start, end).
fn token_around(text: &str, at: usize) -> (usize, usize) {
    let start = text[..at]
        .char_indices()
        .rev()
        .take_while(|(_, c)| path_char(*c) || *c == ':')
        .last()
        .map_or(at, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .find(|(_, c)| !path_char(*c))
        .map_or(text.len(), |(i, _)| at + i);
    (start, end)
}

/// Whether the token starting at `start` is a URL (`https://example.rs:8080/`): a host with
/// a port looks like a file with a line number.
fn in_url(text: &str, start: usize, at: usize) -> bool {
    text[start..at].contains("://")
}

/// The digits at the start of `text`, if any.
fn leading_digits(text: &str) -> &str {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    &text[..end]
}

/// `server.js:12:34`, `main.go:42`, `app.rb:7:in`, `Foo.java:10`, `File.cs:line 42`: a source
/// file followed by a line number.
fn source_location(text: &str) -> Option<String> {
    for (dot, _) in text.match_indices('.') {
        let after = &text[dot + 1..];
        let ext_len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let ext = &after[..ext_len];
        if !SOURCE_EXTENSIONS.contains(&ext) {
            continue;
        }
        let named = text[..dot]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !named {
            continue;
        }
        // `:12`, `:12:34` or `:line 42` right after the extension.
        let Some(rest) = after[ext_len..].strip_prefix(':') else {
            continue;
        };
        let label = if rest.starts_with("line ") { 5 } else { 0 };
        let line = leading_digits(&rest[label..]);
        if line.is_empty() {
            continue;
        }
        let mut end = dot + 1 + ext_len + 1 + label + line.len();
        if let Some(column) = text[end..].strip_prefix(':').map(leading_digits) {
            if !column.is_empty() {
                end += 1 + column.len();
            }
        }
        let (start, _) = token_around(text, dot);
        if in_url(text, start, dot) {
            continue;
        }
        return Some(text[start..end].to_string());
    }
    None
}

/// Go's `goroutine 1 [running]:` that heads a panic's stack dump.
fn goroutine_header(text: &str) -> Option<String> {
    text.match_indices("goroutine ").find_map(|(at, word)| {
        let after = &text[at + word.len()..];
        let digits = leading_digits(after);
        (!digits.is_empty() && after[digits.len()..].starts_with(" ["))
            .then(|| format!("goroutine {digits} ["))
    })
}

/// Whether the characters around `text[start..end]` leave it a whole word.
fn whole_word(text: &str, start: usize, end: usize) -> bool {
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    !text[..start].chars().next_back().is_some_and(word_char)
        && !text[end..].chars().next().is_some_and(word_char)
}

/// A runtime's exception name as a whole word: `KeyError: 'title'`, `TypeError`.
fn exception_name(text: &str) -> Option<String> {
    EXCEPTION_NAMES.iter().find_map(|name| {
        text.match_indices(name)
            .any(|(at, _)| whole_word(text, at, at + name.len()))
            .then(|| (*name).to_string())
    })
}

/// A fully qualified exception class: `System.InvalidOperationException`,
/// `java.lang.IllegalStateException`, `org.hibernate.exception.ConstraintViolationException`.
fn qualified_exception(text: &str) -> Option<String> {
    text.match_indices("Exception").find_map(|(at, word)| {
        let end = at + word.len();
        if text[end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            return None;
        }
        let (start, _) = token_around(text, at);
        let name = text[start..end].trim_start_matches(['.', '/', '-', ':']);
        let segments: Vec<&str> = name.split('.').collect();
        let qualified = segments.len() >= 2
            && segments.iter().all(|s| {
                s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        qualified.then(|| name.to_string())
    })
}

/// A frame of a .NET or JVM trace without file information: `at Shop.Api.TasksController.Get(`
/// — `at`, a name of three or more dotted parts, and the parenthesis of its arguments.
fn dotted_frame(text: &str) -> Option<String> {
    text.match_indices("at ").find_map(|(at, word)| {
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| !c.is_whitespace())
        {
            return None;
        }
        let after = &text[at + word.len()..];
        let name_len = after
            .find(|c: char| !(c.is_alphanumeric() || "_.$<>`".contains(c)))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        let parts = name.split('.').filter(|p| !p.is_empty()).count();
        (parts >= 3 && !name.contains("..") && after[name_len..].starts_with('('))
            .then(|| format!("at {name}("))
    })
}

/// A source file below a deployment directory, without a line number: `/srv/app/server.js`,
/// `/app/handlers/tasks.py`. Only at the start of a path (not `/static/app/x.js`) and never
/// in a URL.
fn deployed_source_path(text: &str) -> Option<String> {
    DEPLOY_ROOTS.iter().find_map(|root| {
        text.match_indices(root).find_map(|(at, _)| {
            if text[..at].chars().next_back().is_some_and(path_char) {
                return None;
            }
            let (_, end) = token_around(text, at + 1);
            let path = text[at..end].trim_end_matches('.');
            let file = path.rsplit('/').next()?;
            let (stem, ext) = file.rsplit_once('.')?;
            (!stem.is_empty() && SOURCE_EXTENSIONS.contains(&ext)).then(|| path.to_string())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every leak is found, each with what the finding quotes.
    #[test]
    fn leaks_are_found() {
        let cases: &[(&str, &str)] = &[
            // The substrings, as before.
            (
                "Traceback (most recent call last):\n  File \"/srv/app.py\", line 3",
                "traceback (most recent call last)",
            ),
            (r#"{"error":"SQLITE_ERROR: no such column"}"#, "sqlite"),
            (r#"{"detail":"near \"OR\": syntax error"}"#, "syntax error"),
            ("root:x:0:0:root:/root:/bin/bash", "root:x:0:0"),
            ("thread 'main' panicked at src/main.rs:3:5", "panicked at"),
            // Node.
            (
                "TypeError: x is undefined\n    at handler (/srv/app/routes/tasks.js:12:34)",
                "TypeError",
            ),
            (
                r#"{"stack":"at Layer.handle [as handle_request] (/srv/app/server.js:12:34)"}"#,
                "/srv/app/server.js:12:34",
            ),
            ("at listOnTimeout (node:internal/timers:569:17)", "node:internal/"),
            ("Error: boom\n    at /app/dist/index.mjs:7:15", "/app/dist/index.mjs:7:15"),
            (
                r#"{"error":"boom","where":"src/handlers/tasks.ts:88:3"}"#,
                "src/handlers/tasks.ts:88:3",
            ),
            // Go.
            (
                "goroutine 1 [running]:\nmain.main()\n\t/app/main.go:42 +0x1d",
                "goroutine 1 [",
            ),
            (
                "panic: runtime error: index out of range [3] with length 3",
                "panic: runtime error",
            ),
            ("handler failed in /build/cmd/server/main.go:42", "/build/cmd/server/main.go:42"),
            // Python exception names, bare.
            (r#"{"error":"KeyError: 'title'"}"#, "KeyError"),
            (r#"{"error":"ValueError"}"#, "ValueError"),
            (r#"{"detail":"AttributeError('NoneType' object)"}"#, "AttributeError"),
            ("IndexError: list index out of range", "IndexError"),
            ("ZeroDivisionError: division by zero", "ZeroDivisionError"),
            (
                r#"{"error":"json.decoder.JSONDecodeError: Expecting value"}"#,
                "JSONDecodeError",
            ),
            // .NET.
            (
                "System.NullReferenceException: Object reference not set to an instance of an object.",
                "NullReferenceException",
            ),
            (
                "   at Shop.Api.TasksController.Get(Int32 id) in /src/Shop.Api/TasksController.cs:line 42",
                "/src/Shop.Api/TasksController.cs:line 42",
            ),
            (
                r#"{"error":"System.InvalidOperationException: Sequence contains no elements"}"#,
                "System.InvalidOperationException",
            ),
            (
                "   at Shop.Api.TasksController.Get(Int32 id)",
                "at Shop.Api.TasksController.Get(",
            ),
            // JVM.
            (
                r#"{"error":"org.hibernate.exception.ConstraintViolationException"}"#,
                "org.hibernate.exception.ConstraintViolationException",
            ),
            ("at com.example.tasks.TaskService.find(TaskService.java:88)", "TaskService.java:88"),
            // Ruby.
            (
                "/app/app/controllers/tasks_controller.rb:12:in `show'",
                "/app/app/controllers/tasks_controller.rb:12",
            ),
            // A source file of the service, no line number.
            (
                r#"{"error":"cannot load /srv/tasks/handlers.py"}"#,
                "/srv/tasks/handlers.py",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(leak_in(body).as_deref(), Some(*expected), "{body}");
        }
    }

    /// Ordinary answers, healthy or refusing, are not leaks: error JSON, routes and URLs that
    /// look like paths, the word `Error`, field names that contain an exception's name.
    #[test]
    fn healthy_bodies_are_not_leaks() {
        let bodies = [
            r#"{"error":"invalid status value"}"#,
            r#"{"error":"Not found"}"#,
            r#"{"error":"Title too long (max 255)"}"#,
            r#"{"error":"Rate limit exceeded (100 requests per minute)"}"#,
            r#"{"tasks":[{"id":"3f2a","title":"Buy milk","status":"pending","created_at":"2026-11-22T20:15:03.123456Z"}],"next":null}"#,
            r#"{"url":"/app/settings","next":"/app/tasks?page=2"}"#,
            r#"{"links":{"self":"/srv/tasks/42","docs":"https://example.rs:8080/api.js"}}"#,
            r#"{"asset":"/static/app/main.js"}"#,
            "Error",
            r#"{"error":"Error"}"#,
            r#"{"valueError":false,"typeErrorCount":0,"lastKeyError":null}"#,
            r#"{"message":"NotFoundException"}"#,
            r#"{"title":"meet at 10.30: bring the notes"}"#,
            r#"{"title":"Release v1.2.js"}"#,
            r#"{"note":"look at the list (later)"}"#,
            r#"{"error":"unknown field `priority`, expected one of `title`, `description`"}"#,
            // Payloads stored and echoed back verbatim are data.
            r#"{"title":"' OR '1'='1'; DROP TABLE items; --"}"#,
            r#"{"title":"; cat /etc/passwd; echo $(id)"}"#,
            r#"{"title":"../../../../etc/passwd"}"#,
            r#"{"title":"<script>alert(1)</script>"}"#,
        ];
        for body in bodies {
            assert_eq!(leak_in(body), None, "{body}");
        }
    }

    #[test]
    fn echoed_client_data_is_not_a_leak() {
        let sent = br#"{"title": "migrate mysql near \"the park\" from /home/ann"}"#;
        let answer = r#"{"id": 3, "title": "migrate mysql near \"the park\" from /home/ann"}"#;
        assert!(leak_in(answer).is_some());
        assert_eq!(
            leak_beyond(answer, &sent_strings("/tasks", Some(sent))),
            None
        );
        // A query value echoed back.
        let q = sent_strings("/search?q=sqlite%20tips", None);
        assert_eq!(
            leak_beyond(r#"{"q": "sqlite tips", "items": []}"#, &q),
            None
        );
        // The service's own trace next to the echo still is one.
        let both = r#"{"title": "migrate mysql", "error": "Traceback (most recent call last): File \"/srv/app.py\""}"#;
        let title = sent_strings("/tasks", Some(br#"{"title": "migrate mysql"}"#));
        assert!(leak_beyond(both, &title).is_some());
    }
}
