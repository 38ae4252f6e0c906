//! Bounded output: results an agent can hold in its context. Lists are paginated with an
//! explicit next offset instead of being dumped whole, and a page ends early when its answer
//! would grow past a size an agent can take (measured as the client receives it).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Items per page when the caller does not say.
pub const DEFAULT_PAGE: usize = 20;
/// The most items one call returns, whatever the caller asks.
pub const MAX_PAGE: usize = 100;

/// The most characters a tool's answer to default arguments may carry, as the client receives
/// it (the serialized `CallToolResult`: the JSON text content *and* the structured content):
/// about 10k tokens, where Claude Code starts to warn.
pub const DEFAULT_ANSWER_CHARS: usize = 40_000;

/// The most characters one tool answer may carry, measured like [`DEFAULT_ANSWER_CHARS`]:
/// about 25k tokens, where Claude Code cuts answers off. Pages with an explicit `limit` end
/// before it; [`bound_response`] refuses anything larger that gets through.
pub const MAX_RESPONSE_CHARS: usize = 100_000;

/// Room left under a bound for what wraps the result on the wire (the JSON-RPC envelope).
const ENVELOPE_CHARS: usize = 1_000;

/// Which page of a list to return: the two arguments every list tool takes, flattened into
/// its argument struct (`#[serde(flatten)] pub paging: Paging`) so they are published as
/// top-level `offset` and `limit`. The descriptions below are what agents read; the test
/// `paging_descriptions_state_the_limits` keeps their numbers equal to [`DEFAULT_PAGE`],
/// [`MAX_PAGE`], [`DEFAULT_ANSWER_CHARS`] and [`MAX_RESPONSE_CHARS`]. No `deny_unknown_fields`
/// here: the outer struct refuses unknown fields (serde checks what the flattened fields left
/// over).
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
pub struct Paging {
    /// Skip this many items (default 0). Each answer's `page.next_offset` is the offset of the
    /// next page; it is absent on the last page.
    #[serde(default)]
    pub offset: Option<usize>,
    /// At most this many items in one answer (default 20, at most 100). A page also ends early
    /// when the answer would pass 40,000 characters (100,000 with an explicit `limit`); then
    /// `page.cut_by_size` is true and `page.next_offset` says where to go on.
    #[serde(default)]
    pub limit: Option<usize>,
}

impl Paging {
    /// The most characters this page's answer may take: [`DEFAULT_ANSWER_CHARS`] unless the
    /// caller asked for a `limit`, [`MAX_RESPONSE_CHARS`] if it did, less room for the
    /// envelope.
    pub fn char_budget(&self) -> usize {
        let bound = if self.limit.is_some() {
            MAX_RESPONSE_CHARS
        } else {
            DEFAULT_ANSWER_CHARS
        };
        bound - ENVELOPE_CHARS
    }

    /// The items of a list of `total` this page can hold at most (before [`paged`] cuts it
    /// by size): for work worth doing only on them (a query per item).
    pub fn window(&self, total: usize) -> std::ops::Range<usize> {
        let offset = self.offset.unwrap_or(0).min(total);
        let limit = self.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        offset..(offset + limit).min(total)
    }
}

/// Where a page sits in its list, and how to get the rest.
#[derive(Debug, Clone, Serialize, serde::Deserialize, JsonSchema)]
pub struct Page {
    /// Items matching the request, before paging.
    pub total: usize,
    pub offset: usize,
    /// Items in this response.
    pub returned: usize,
    /// Pass as `offset` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// True when the page ended before `limit` because the answer would have been too large
    /// for an agent's context (see `limit`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut_by_size: bool,
    /// How to get the rest, in one line; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more: Option<String>,
    /// The character budget the page was cut to (for `more`'s wording; not sent).
    #[serde(skip)]
    #[schemars(skip)]
    budget: usize,
}

impl Page {
    fn new(total: usize, offset: usize, returned: usize, cut_by_size: bool, budget: usize) -> Self {
        let end = offset + returned;
        let mut page = Page {
            total,
            offset,
            returned,
            next_offset: (end < total).then_some(end),
            cut_by_size,
            more: None,
            budget,
        };
        page.more = page.more_line("shown", "");
        page
    }

    /// `more` for a page that is not the last: how many are `shown`, why the page is short,
    /// and how to get the next ones, then `after`.
    fn more_line(&self, shown: &str, after: &str) -> Option<String> {
        let next = self.next_offset?;
        let cut = if self.cut_by_size {
            format!(
                " (the page was cut to stay under {} characters)",
                self.budget
            )
        } else {
            String::new()
        };
        Some(format!(
            "{} of {} {shown}{cut}; for the next ones call again with the same arguments and `offset: {next}`{after}",
            self.returned, self.total
        ))
    }

    /// The page of a tool that *runs* something (checks, load runs) and lists its results:
    /// calling again for the next page would run everything again, so `more` also says how
    /// to see the rest without that (`instead`: a narrower call, or the recorded run).
    pub fn of_a_run(mut self, instead: &str) -> Page {
        self.more = self.more_line(
            "listed, those that need attention first",
            &format!(" (that runs them all again; {instead})"),
        );
        self
    }
}

/// Characters of `answer` as a client receives it from a tool that returns `Json(answer)`:
/// rmcp sends the JSON twice, as text content and as structured content, in one
/// `CallToolResult`. (Bytes, so never fewer than the characters.)
pub fn wire_chars<A: Serialize>(answer: &A) -> usize {
    let Ok(value) = serde_json::to_value(answer) else {
        return usize::MAX;
    };
    result_chars(&rmcp::model::CallToolResult::structured(value))
}

fn result_chars(result: &rmcp::model::CallToolResult) -> usize {
    serde_json::to_string(result)
        .map(|s| s.len())
        .unwrap_or(usize::MAX)
}

/// One page of `items` (from `paging.offset`, at most `paging.limit`, clamped to
/// 1..=[`MAX_PAGE`]) made into an answer by `build`, which gets the page's items and its
/// [`Page`]. When the answer would take more than [`Paging::char_budget`] characters, the
/// page is made shorter — the longest that fits ([`largest_fitting`]), never fewer than one
/// item — and says so (`cut_by_size`, `more`). `build` may add whatever depends on the page (the
/// constraints of its scenarios, details of its first domains): all of it is measured.
pub fn paged<T: Clone, A: Serialize>(
    items: Vec<T>,
    paging: Paging,
    mut build: impl FnMut(Vec<T>, Page) -> A,
) -> A {
    let total = items.len();
    let range = paging.window(total);
    let offset = range.start;
    let window: Vec<T> = items.into_iter().skip(offset).take(range.len()).collect();
    let budget = paging.char_budget();
    let page = |returned: usize, cut: bool| Page::new(total, offset, returned, cut, budget);
    let full = build(window.clone(), page(window.len(), false));
    if window.len() <= 1 || wire_chars(&full) <= budget {
        return full;
    }
    // One item is accepted whatever its size: the agent must be able to move on.
    let fits = largest_fitting(window.len() - 1, |n| {
        n > 0 && wire_chars(&build(window[..n].to_vec(), page(n, true))) <= budget
    })
    .max(1);
    build(window[..fits].to_vec(), page(fits, true))
}

/// The largest `n` in `0..=max` for which `fits(n)` holds, found by halving (about
/// log2(`max`) calls), for answers whose size grows with `n`; 0 when nothing larger fits
/// (`fits(0)` is never asked).
pub fn largest_fitting(max: usize, mut fits: impl FnMut(usize) -> bool) -> usize {
    if max == 0 || fits(max) {
        return max;
    }
    // `lo` fits (or is 0), `hi` does not.
    let (mut lo, mut hi) = (0, max);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// A resource read as the client receives it, refused (as a resource error saying what to do
/// instead) when it would carry more than [`MAX_RESPONSE_CHARS`]: a resource takes no
/// arguments to ask for less, so `instead` names the tool that pages through the same content.
pub fn bounded_resource(
    result: rmcp::model::ReadResourceResult,
    uri: &str,
    instead: &str,
) -> Result<rmcp::model::ReadResourceResult, rmcp::ErrorData> {
    let size = serde_json::to_string(&result)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    if size <= MAX_RESPONSE_CHARS - ENVELOPE_CHARS {
        return Ok(result);
    }
    Err(rmcp::ErrorData::invalid_request(
        format!(
            "`{uri}` would be {size} characters (about {} tokens), over the {MAX_RESPONSE_CHARS}-character limit for one answer; {instead}",
            size / 4
        ),
        None,
    ))
}

/// At most `max` of `items`, and how many were left out: for the short lists inside an
/// answer (a run's regressions, the first covering scenarios) whose whole is one call away.
pub fn first<T>(mut items: Vec<T>, max: usize) -> (Vec<T>, usize) {
    let omitted = items.len().saturating_sub(max);
    items.truncate(max);
    (items, omitted)
}

/// A server's `call_tool`: route the call through `router` and bound the answer. One body for
/// every server, so none can forget the bound.
pub async fn call_tool_bounded<S: Send + Sync + 'static>(
    server: &S,
    router: &rmcp::handler::server::router::tool::ToolRouter<S>,
    request: rmcp::model::CallToolRequestParams,
    context: rmcp::service::RequestContext<rmcp::RoleServer>,
) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
    let name = request.name.clone();
    let call = rmcp::handler::server::tool::ToolCallContext::new(server, request, context);
    let response = match answer_panics(router.call(call)).await {
        Ok(answer) => answer?,
        Err(message) => {
            tracing::error!(tool = %name, %message, "a tool panicked");
            return Ok(rmcp::model::CallToolResponse::Complete(
                rmcp::model::CallToolResult::error(vec![rmcp::model::ContentBlock::text(
                    panic_answer(&name, &message),
                )]),
            ));
        }
    };
    let Some(tool) = router.get(&name) else {
        return Ok(bound_response(response, &[]));
    };
    let response = name_accepted_fields(response, &tool.input_schema);
    let accepted: Vec<&str> = tool
        .input_schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .map(|properties| properties.keys().map(String::as_str).collect())
        .unwrap_or_default();
    Ok(bound_response(response, &accepted))
}

/// `work`'s output, or the message of the panic that stopped it: a panic inside a handler
/// otherwise unwinds through rmcp's task and the client waits for an answer that never comes.
async fn answer_panics<F: std::future::Future>(work: F) -> Result<F::Output, String> {
    use futures::FutureExt;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|panic| {
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into())
        })
}

/// What the agent reads when a tool panicked: a bug of SDD's, nothing of its work trusted.
fn panic_answer(tool: &str, message: &str) -> String {
    let message: String = message.chars().take(500).collect();
    format!(
        "{tool} failed inside SDD (a bug, not your input's fault): {message}. Nothing it was doing is to be trusted; the server goes on answering. Report it with the arguments that caused it."
    )
}

/// serde names the accepted fields when it refuses an unknown one (``unknown field `limt`,
/// expected one of `domain`, `offset`, `limit` ``), except in a struct that flattens another
/// ([`Paging`]): there it says only ``unknown field `limt` ``. Add the fields the tool
/// publishes, so a typo is answered alike by every tool and the agent sees what to write.
fn name_accepted_fields(
    response: rmcp::model::CallToolResponse,
    input_schema: &serde_json::Map<String, serde_json::Value>,
) -> rmcp::model::CallToolResponse {
    use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock as Content};
    let CallToolResponse::Complete(result) = &response else {
        return response;
    };
    let text = crate::result_text(result);
    let unknown_field = result.is_error == Some(true)
        && text.contains("unknown field `")
        && text.ends_with('`')
        && !text.contains(", expected");
    if !unknown_field {
        return response;
    }
    let fields: Vec<String> = input_schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .map(|properties| properties.keys().map(|k| format!("`{k}`")).collect())
        .unwrap_or_default();
    let expected = match fields.as_slice() {
        [] => "there are no fields".to_string(),
        [one] => format!("expected {one}"),
        many => format!("expected one of {}", many.join(", ")),
    };
    CallToolResponse::Complete(CallToolResult::error(vec![Content::text(format!(
        "{text}, {expected}"
    ))]))
}

/// Replace an oversized successful tool answer (over [`MAX_RESPONSE_CHARS`] as the client
/// receives it) with a tool error saying how large it was and how to ask for less, so no call
/// can flood an agent's context (or a pipe). Paged answers never get here ([`paged`]); this
/// is the backstop for everything else.
pub fn bound_response(
    response: rmcp::model::CallToolResponse,
    accepted: &[&str],
) -> rmcp::model::CallToolResponse {
    use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock as Content};
    let CallToolResponse::Complete(result) = &response else {
        return response;
    };
    let size = result_chars(result);
    if size <= MAX_RESPONSE_CHARS - ENVELOPE_CHARS {
        return response;
    }
    // Only advice the tool can take: arguments it has.
    let mut advice: Vec<String> = Vec::new();
    if accepted.contains(&"limit") {
        advice.push("a smaller `limit` (and `offset` for the next page)".into());
    }
    let narrowing: Vec<String> = ["domain", "feature", "ids", "file", "code", "severity"]
        .iter()
        .filter(|a| accepted.contains(a))
        .map(|a| format!("`{a}`"))
        .collect();
    if !narrowing.is_empty() {
        advice.push(format!("narrow it with {}", narrowing.join(", ")));
    }
    let ask = if advice.is_empty() {
        String::new()
    } else {
        format!("ask for less: {}; ", advice.join(", or "))
    };
    CallToolResponse::Complete(CallToolResult::error(vec![Content::text(format!(
        "the answer would be {size} characters (about {} tokens), over the {MAX_RESPONSE_CHARS}-character limit for one answer; {ask}if a single item is this large, its text in the spec (a name, an ID, a step) is too long to show: shorten it",
        size / 4
    ))]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panicking handler is answered with its message; a finished one with its output.
    #[tokio::test]
    async fn a_panic_in_a_handler_is_an_answer_not_silence() {
        let ok = answer_panics(async { 7 }).await;
        assert_eq!(ok, Ok(7));
        let panicked = answer_panics(async {
            let index: usize = "9".parse().unwrap();
            [1, 2, 3][index]
        })
        .await;
        let message = panicked.unwrap_err();
        assert!(message.contains("index out of bounds"), "{message}");
        let formatted = answer_panics(async { panic!("bad {}", "state") }).await;
        assert_eq!(formatted, Err::<(), _>("bad state".to_string()));
        let text = panic_answer("generate_runbook", &"x".repeat(10_000));
        assert!(text.starts_with("generate_runbook failed inside SDD"));
        assert!(text.len() < 1_000);
    }

    #[test]
    fn oversized_answers_become_a_tool_error_that_says_how_to_ask_for_less() {
        use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock as Content};
        let small = CallToolResponse::Complete(CallToolResult::success(vec![Content::text("ok")]));
        let CallToolResponse::Complete(kept) = bound_response(small, &["limit"]) else {
            panic!()
        };
        assert_ne!(kept.is_error, Some(true));
        // Each copy alone is within the bound; the client receives both.
        let mut big = CallToolResult::success(vec![Content::text("x".repeat(60_000))]);
        big.structured_content = Some(serde_json::json!({"items": "y".repeat(60_000)}));
        let big = CallToolResponse::Complete(big);
        let CallToolResponse::Complete(cut) = bound_response(big.clone(), &["limit", "offset"])
        else {
            panic!()
        };
        assert_eq!(cut.is_error, Some(true));
        let text = crate::result_text(&cut);
        assert!(
            text.contains("120112") && text.contains("`limit`"),
            "{text}"
        );
        assert!(text.len() < 400);
        // A tool without `limit` or filters is not told to use them.
        let CallToolResponse::Complete(cut) = bound_response(big, &["strict"]) else {
            panic!()
        };
        let text = crate::result_text(&cut);
        assert!(
            !text.contains("`limit`") && !text.contains("`domain`") && text.contains("shorten"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_field_error_names_the_fields_the_tool_accepts() {
        use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock as Content};
        let schema: serde_json::Map<String, serde_json::Value> = serde_json::from_value(
            serde_json::json!({"type": "object", "properties": {"domain": {}, "limit": {}, "offset": {}}}),
        )
        .unwrap();
        let error = |text: &str| {
            CallToolResponse::Complete(CallToolResult::error(vec![Content::text(text)]))
        };
        let text = |response: CallToolResponse| match response {
            CallToolResponse::Complete(result) => crate::result_text(&result),
            other => panic!("{other:?}"),
        };
        let flattened = "failed to deserialize parameters: unknown field `limt`";
        assert_eq!(
            text(name_accepted_fields(error(flattened), &schema)),
            format!("{flattened}, expected one of `domain`, `limit`, `offset`")
        );
        // A field called `expected` is still an unknown field without a list.
        let named_expected = "failed to deserialize parameters: unknown field `expected`";
        assert_eq!(
            text(name_accepted_fields(error(named_expected), &schema)),
            format!("{named_expected}, expected one of `domain`, `limit`, `offset`")
        );
        // serde's own list, other errors and successful answers are left as they are.
        for kept in [
            "failed to deserialize parameters: unknown field `x`, expected `ids`",
            "failed to deserialize parameters: invalid type: string \"a\", expected usize",
        ] {
            assert_eq!(text(name_accepted_fields(error(kept), &schema)), kept);
        }
        let ok = CallToolResponse::Complete(CallToolResult::success(vec![Content::text(
            "unknown field `a`",
        )]));
        assert_eq!(text(name_accepted_fields(ok, &schema)), "unknown field `a`");
        let empty = serde_json::Map::new();
        assert_eq!(
            text(name_accepted_fields(error(flattened), &empty)),
            format!("{flattened}, there are no fields")
        );
    }

    /// The page of `items` as a list tool answers it.
    fn page_of<T: Clone + Serialize>(items: Vec<T>, paging: Paging) -> (Vec<T>, Page) {
        paged(items, paging, |items, page| (items, page))
    }

    #[test]
    fn pages_and_clamps() {
        let paging = |offset, limit| Paging { offset, limit };
        let (page, info) = page_of((0..10).collect::<Vec<_>>(), paging(Some(8), Some(5)));
        assert_eq!(page, vec![8, 9]);
        assert_eq!((info.next_offset, info.more), (None, None));
        let (page, info) = page_of((0..500).collect::<Vec<_>>(), paging(None, Some(10_000)));
        assert_eq!(page.len(), MAX_PAGE);
        assert_eq!(info.next_offset, Some(MAX_PAGE));
        assert!(!info.cut_by_size);
        let (page, info) = page_of((0..60).collect::<Vec<_>>(), Paging::default());
        assert_eq!(
            (page.len(), info.next_offset),
            (DEFAULT_PAGE, Some(DEFAULT_PAGE))
        );
        let more = info.more.expect("a hint on a page that is not the last");
        assert!(
            more.contains(&format!("{DEFAULT_PAGE} of 60")) && more.contains("`offset: 20`"),
            "{more}"
        );
        let (page, info) = page_of((0..3).collect::<Vec<_>>(), paging(Some(9), Some(0)));
        assert_eq!((page.len(), info.offset, info.next_offset), (0, 3, None));
    }

    #[test]
    fn a_page_ends_early_rather_than_pass_its_character_budget() {
        // 1,000 characters an item: the default budget holds fewer than the default page,
        // an explicit limit's budget fewer than the largest.
        let items: Vec<String> = (0..500).map(|i| format!("{i:>1000}")).collect();
        for paging in [
            Paging::default(),
            Paging {
                offset: Some(7),
                limit: Some(MAX_PAGE),
            },
        ] {
            let answer = page_of(items.clone(), paging);
            let size = wire_chars(&answer);
            let (page, info) = answer;
            assert!(size <= paging.char_budget(), "{size}");
            assert!(info.cut_by_size && page.len() < paging.limit.unwrap_or(DEFAULT_PAGE));
            // The longest page that fits: one more item would not.
            let one_more = items[info.offset..=info.offset + page.len()].to_vec();
            assert!(wire_chars(&(one_more, info.clone())) > paging.char_budget());
            assert_eq!(info.next_offset, Some(info.offset + page.len()));
            assert!(info.more.unwrap().contains("cut to stay under"));
        }
        // One item is returned whatever its size, so an agent can always move on.
        let huge = vec!["x".repeat(MAX_RESPONSE_CHARS), "y".into()];
        let (page, info) = page_of(huge, Paging::default());
        assert_eq!((page.len(), info.next_offset), (1, Some(1)));
    }

    #[test]
    fn wire_size_counts_the_text_and_the_structured_copy() {
        let answer = serde_json::json!({"quote": "\"", "n": 1});
        let structured = answer.to_string().len();
        // Twice the JSON, the text one with its quotes escaped, plus the envelope.
        assert!(
            wire_chars(&answer) > 2 * structured + 4,
            "{}",
            wire_chars(&answer)
        );
    }

    /// An argument struct as the tools write it: its own field, the paging flattened in.
    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct ListArgs {
        /// Only this domain.
        #[serde(default)]
        domain: Option<String>,
        #[serde(flatten)]
        paging: Paging,
    }

    fn parse(arguments: serde_json::Value) -> Result<ListArgs, String> {
        serde_json::from_value(arguments).map_err(|e| e.to_string())
    }

    #[test]
    fn flattened_paging_reads_top_level_fields_and_unknown_ones_are_still_refused() {
        let args = parse(serde_json::json!({"domain": "d", "offset": 4, "limit": 2})).unwrap();
        assert_eq!(args.domain.as_deref(), Some("d"));
        assert_eq!((args.paging.offset, args.paging.limit), (Some(4), Some(2)));
        let args = parse(serde_json::json!({"offset": null})).unwrap();
        assert_eq!((args.paging.offset, args.paging.limit), (None, None));
        let err = parse(serde_json::json!({"limt": 2})).unwrap_err();
        assert!(err.contains("unknown field `limt`"), "{err}");
        let err = parse(serde_json::json!({"limit": -1})).unwrap_err();
        assert!(err.contains("-1"), "{err}");
        assert!(parse(serde_json::json!({"paging": {"limit": 2}})).is_err());
    }

    #[test]
    fn flattened_paging_is_published_as_two_top_level_integers() {
        let schema =
            rmcp::handler::server::tool::schema_for_input::<ListArgs>().expect("object schema");
        assert_eq!(schema["additionalProperties"], false);
        let properties = schema["properties"].as_object().expect("properties");
        let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["domain", "limit", "offset"]);
        for name in ["offset", "limit"] {
            let types = &properties[name]["type"];
            assert!(
                types == "integer" || types == &serde_json::json!(["integer", "null"]),
                "{name}: {types}"
            );
        }
        assert!(schema.get("required").is_none(), "{schema:?}");
    }

    #[test]
    fn paging_descriptions_state_the_limits() {
        let schema = schemars::schema_for!(Paging);
        let limit = schema.as_value()["properties"]["limit"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            limit.contains(&format!("default {DEFAULT_PAGE}"))
                && limit.contains(&format!("at most {MAX_PAGE}"))
                && limit.contains(&thousands(DEFAULT_ANSWER_CHARS))
                && limit.contains(&thousands(MAX_RESPONSE_CHARS)),
            "{limit}"
        );
        let offset = schema.as_value()["properties"]["offset"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(offset.contains("next_offset"), "{offset}");
    }

    fn thousands(n: usize) -> String {
        format!("{},{:03}", n / 1000, n % 1000)
    }
}
