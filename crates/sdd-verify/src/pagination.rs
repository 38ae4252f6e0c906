//! Following a list's pages. A probe that reads only the first page of a list cannot say what
//! the list holds: another user's object on page 2 is as much a leak as one on page 1. This
//! module reads where the next page is from the answer itself, in the conventions real APIs
//! use — a `Link: <…>; rel="next"` header, a `next` URL in the body, a cursor or page token, a
//! page number with a page count, an offset with a total — and says so when an answer shows
//! more pages in a way it cannot follow.
//!
//! Pure, so the conventions are table-tested without a service.

use serde_json::Value;

/// Where the list goes on after one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextPage {
    /// The path (and query) of the next page, on the same service.
    Follow(String),
    /// The answer says there is more, but not how to get it (why, in words).
    Unfollowable(String),
    /// This was the last page (or the answer is not paginated).
    Last,
}

/// Body keys that hold the next page's URL or path.
const NEXT_URL_KEYS: [&str; 5] = [
    "next",
    "next_url",
    "nextUrl",
    "next_page_url",
    "nextPageUrl",
];

/// Body keys that hold a cursor or token, and the query parameter that sends it back.
const CURSOR_KEYS: [(&str, &str); 6] = [
    ("next_cursor", "cursor"),
    ("nextCursor", "cursor"),
    ("next_page_token", "page_token"),
    ("nextPageToken", "pageToken"),
    ("next_token", "next_token"),
    ("continuation_token", "continuation_token"),
];

/// Where pagination details sit besides the top level of the body.
const ENVELOPES: [&str; 4] = ["meta", "pagination", "links", "page_info"];

/// The next page after the answer to `path` (path and query as sent), from its `Link` header
/// (`link`, if any) and its JSON `body`.
pub fn next_page(path: &str, link: Option<&str>, body: &Value) -> NextPage {
    if let Some(next) = link.and_then(link_next) {
        return follow(path, &next);
    }
    let places: Vec<&serde_json::Map<String, Value>> = std::iter::once(body)
        .chain(ENVELOPES.iter().filter_map(|e| body.get(*e)))
        .filter_map(Value::as_object)
        .collect();
    let find = |key: &str| {
        places
            .iter()
            .find_map(|m| m.get(key))
            .filter(|v| !v.is_null())
    };
    for key in NEXT_URL_KEYS {
        match find(key) {
            Some(Value::String(url)) if !url.is_empty() => return follow(path, url),
            // `"next": 3` is a page number.
            Some(v @ Value::Number(_)) => return with_query(path, "page", &text(v)),
            _ => {}
        }
    }
    for (key, parameter) in CURSOR_KEYS {
        if let Some(v @ (Value::String(_) | Value::Number(_))) = find(key) {
            let token = text(v);
            if !token.is_empty() {
                return with_query(path, parameter, &token);
            }
        }
    }
    for key in ["next_page", "nextPage"] {
        if let Some(v @ Value::Number(_)) = find(key) {
            return with_query(path, "page", &text(v));
        }
    }
    // A page number with a page count.
    let number = |key: &str| find(key).and_then(Value::as_u64);
    if let (Some(page), Some(pages)) = (
        number("page"),
        number("total_pages")
            .or_else(|| number("totalPages"))
            .or_else(|| number("pages")),
    ) {
        return if page < pages {
            with_query(path, "page", &(page + 1).to_string())
        } else {
            NextPage::Last
        };
    }
    // An offset with a total.
    let items = longest_array(body);
    if let (Some(total), Some(limit)) = (
        number("total")
            .or_else(|| number("total_count"))
            .or_else(|| number("count")),
        number("limit")
            .or_else(|| number("page_size"))
            .or_else(|| number("per_page")),
    ) {
        if let Some(offset) = number("offset") {
            let next = offset + limit.max(items as u64).max(1);
            return if next < total {
                with_query(path, "offset", &next.to_string())
            } else {
                NextPage::Last
            };
        }
        if let Some(page) = number("page") {
            return if page.saturating_mul(limit) < total {
                with_query(path, "page", &(page + 1).to_string())
            } else {
                NextPage::Last
            };
        }
    }
    // A key named like a continuation that no rule above knows (`continuation`, `after`,
    // `nextKey`): there may be more, in a way not followed.
    if let Some((key, _)) = places.iter().flat_map(|m| m.iter()).find(|(k, v)| {
        let k = k.to_ascii_lowercase();
        let continues = [
            "next",
            "cursor",
            "continu",
            "token",
            "after",
            "offset_key",
            "more",
        ]
        .iter()
        .any(|w| k.contains(w));
        let set = match v {
            Value::String(s) => !s.is_empty(),
            Value::Number(_) => true,
            Value::Bool(b) => *b,
            _ => false,
        };
        // The has-more flags are read below, with a page or an offset to go on from.
        continues
            && set
            && !["has_more", "hasmore", "has_next", "hasnext", "more"].contains(&k.as_str())
    }) {
        return NextPage::Unfollowable(format!(
            "the answer has `{key}`, a way to the next page SDD does not follow"
        ));
    }
    for key in ["has_more", "hasMore", "has_next", "hasNext", "more"] {
        if find(key) == Some(&Value::Bool(true)) {
            if let Some(page) = number("page") {
                return with_query(path, "page", &(page + 1).to_string());
            }
            if let Some(offset) = number("offset") {
                let step = number("limit").unwrap_or(items as u64).max(1);
                return with_query(path, "offset", &(offset + step).to_string());
            }
            return NextPage::Unfollowable(format!(
                "the answer says `{key}: true` but names no next page, cursor or page number"
            ));
        }
    }
    NextPage::Last
}

/// `<https://h/x?page=2>; rel="next", <…>; rel="last"` → `https://h/x?page=2`.
fn link_next(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let next = params.split(';').any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p == "rel=\"next\"" || p == "rel=next"
        });
        next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// The next page's path and query from a URL or path; a query alone (`?page=2`) goes on the
/// current path. An absolute URL keeps only its path: the probe stays on the service it probes.
fn follow(current: &str, next: &str) -> NextPage {
    let next = next.trim();
    let path = if let Some(at) = next.find("://") {
        match next[at + 3..].find('/') {
            Some(slash) => next[at + 3 + slash..].to_string(),
            None => "/".to_string(),
        }
    } else if next.starts_with('?') {
        format!("{}{next}", current.split('?').next().unwrap_or(current))
    } else if next.starts_with('/') {
        next.to_string()
    } else {
        return NextPage::Unfollowable(format!("the next page is given as `{next}`, not a URL"));
    };
    if path == current {
        // A "next" that points at the page just read would loop.
        return NextPage::Last;
    }
    NextPage::Follow(path)
}

/// `path` with the query parameter `name` set to `value` (replaced when present).
fn with_query(path: &str, name: &str, value: &str) -> NextPage {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(name))
        .map(str::to_string)
        .collect();
    pairs.push(format!("{name}={}", crate::examples::percent_encode(value)));
    NextPage::Follow(format!("{base}?{}", pairs.join("&")))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The length of the longest array in `body` (its items on this page).
fn longest_array(body: &Value) -> usize {
    match body {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.values().map(longest_array).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn next_page_table() {
        let follow = |p: &str| NextPage::Follow(p.to_string());
        let cases: Vec<(&str, Option<&str>, Value, NextPage)> = vec![
            ("/t", None, json!([{"id": 1}]), NextPage::Last),
            ("/t", None, json!({"items": [{"id": 1}]}), NextPage::Last),
            (
                "/t",
                Some(
                    r#"<http://127.0.0.1:1/t?page=2>; rel="next", <http://x/t?page=9>; rel="last""#,
                ),
                json!([]),
                follow("/t?page=2"),
            ),
            (
                "/t",
                Some(r#"</t?page=1>; rel="prev""#),
                json!([]),
                NextPage::Last,
            ),
            (
                "/t",
                None,
                json!({"items": [], "next": "/t?cursor=ab"}),
                follow("/t?cursor=ab"),
            ),
            (
                "/t",
                None,
                json!({"items": [], "next": null}),
                NextPage::Last,
            ),
            (
                "/t?limit=5",
                None,
                json!({"next": "?limit=5&after=9"}),
                follow("/t?limit=5&after=9"),
            ),
            (
                "/t",
                None,
                json!({"items": [], "next_cursor": "c2"}),
                follow("/t?cursor=c2"),
            ),
            (
                "/t?cursor=c1",
                None,
                json!({"nextCursor": "c2"}),
                follow("/t?cursor=c2"),
            ),
            (
                "/t",
                None,
                json!({"nextPageToken": "tok"}),
                follow("/t?pageToken=tok"),
            ),
            (
                "/t",
                None,
                json!({"meta": {"next_cursor": "c"}}),
                follow("/t?cursor=c"),
            ),
            ("/t", None, json!({"next_cursor": ""}), NextPage::Last),
            (
                "/t?status=a",
                None,
                json!({"page": 1, "total_pages": 3}),
                follow("/t?status=a&page=2"),
            ),
            (
                "/t?page=3",
                None,
                json!({"page": 3, "total_pages": 3}),
                NextPage::Last,
            ),
            (
                "/t",
                None,
                json!({"next_page": 2, "items": []}),
                follow("/t?page=2"),
            ),
            (
                "/t",
                None,
                json!({"items": [1, 2], "total": 5, "limit": 2, "offset": 0}),
                follow("/t?offset=2"),
            ),
            (
                "/t?offset=4",
                None,
                json!({"items": [5], "total": 5, "limit": 2, "offset": 4}),
                NextPage::Last,
            ),
            (
                "/t",
                None,
                json!({"items": [1, 2], "total": 5, "per_page": 2, "page": 1}),
                follow("/t?page=2"),
            ),
            (
                "/t",
                None,
                json!({"pagination": {"page": 2, "pages": 2}}),
                NextPage::Last,
            ),
            (
                "/t",
                None,
                json!({"next": "http://evil.example/t?p=2"}),
                follow("/t?p=2"),
            ),
            ("/t?p=2", None, json!({"next": "/t?p=2"}), NextPage::Last),
        ];
        for (path, link, body, expected) in cases {
            assert_eq!(
                next_page(path, link, &body),
                expected,
                "{path} {link:?} {body}"
            );
        }
        assert!(matches!(
            next_page("/t", None, &json!({"items": [1], "has_more": true})),
            NextPage::Unfollowable(why) if why.contains("has_more")
        ));
        assert_eq!(
            next_page(
                "/t",
                None,
                &json!({"items": [1], "has_more": true, "page": 1})
            ),
            follow("/t?page=2")
        );
        assert_eq!(
            next_page(
                "/t",
                None,
                &json!({"items": [1, 2], "hasMore": true, "offset": 0})
            ),
            follow("/t?offset=2")
        );
        assert!(matches!(
            next_page("/t", None, &json!({"results": [1], "continuation": "abc"})),
            NextPage::Unfollowable(why) if why.contains("continuation")
        ));
        assert!(matches!(
            next_page(
                "/t",
                None,
                &json!({"data": [1], "meta": {"afterKey": "k9"}})
            ),
            NextPage::Unfollowable(_)
        ));
        assert_eq!(
            next_page("/t", None, &json!({"results": [1], "continuation": null})),
            NextPage::Last
        );
        assert!(matches!(
            next_page("/t", None, &json!({"next": "page two"})),
            NextPage::Unfollowable(_)
        ));
    }
}
