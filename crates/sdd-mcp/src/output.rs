//! Bounded output: results an agent can hold in its context. Lists are paginated with an
//! explicit next offset instead of being dumped whole.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Items per page when the caller does not say.
pub const DEFAULT_PAGE: usize = 50;
/// The most items one call returns, whatever the caller asks.
pub const MAX_PAGE: usize = 200;

/// Which page of a list to return: the two arguments every list tool takes, flattened into
/// its argument struct (`#[serde(flatten)] pub paging: Paging`) so they are published as
/// top-level `offset` and `limit`. The descriptions below are what agents read; the test
/// `paging_descriptions_state_the_limits` keeps their numbers equal to [`DEFAULT_PAGE`] and
/// [`MAX_PAGE`]. No `deny_unknown_fields` here: the outer struct refuses unknown fields (serde
/// checks what the flattened fields left over).
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
pub struct Paging {
    /// Skip this many items (default 0). Each answer's `page.next_offset` is the offset of the
    /// next page; it is absent on the last page.
    #[serde(default)]
    pub offset: Option<usize>,
    /// At most this many items in one answer (default 50, at most 200).
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Page {
    /// Items matching the request, before paging.
    pub total: usize,
    pub offset: usize,
    /// Items in this response.
    pub returned: usize,
    /// Pass as `offset` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
}

/// The most characters one tool answer may carry (its text or its structured content; `Json`
/// results carry the same JSON in both, and a client shows the model one of them), about
/// 25k tokens: where Claude Code cuts answers off. Tools keep their default answers far below
/// it (pages, summaries); this is the backstop for a request that asks for too much at once.
pub const MAX_RESPONSE_CHARS: usize = 100_000;

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
    let response = router.call(call).await?;
    let response = match router.get(&name) {
        Some(tool) => name_accepted_fields(response, &tool.input_schema),
        None => response,
    };
    Ok(bound_response(response))
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

/// Replace an oversized successful tool answer with a tool error saying how large it was and
/// how to ask for less, so no call can flood an agent's context (or a pipe).
pub fn bound_response(response: rmcp::model::CallToolResponse) -> rmcp::model::CallToolResponse {
    use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock as Content};
    let CallToolResponse::Complete(result) = &response else {
        return response;
    };
    let size = response_chars(result);
    if size <= MAX_RESPONSE_CHARS {
        return response;
    }
    CallToolResponse::Complete(CallToolResult::error(vec![Content::text(format!(
        "the answer would be {size} characters (about {} tokens), over the {MAX_RESPONSE_CHARS}-character limit for one answer; ask for less: a smaller `limit` (and `offset` for the next page), one `domain`, `feature` or `ids`",
        size / 4
    ))]))
}

fn response_chars(result: &rmcp::model::CallToolResult) -> usize {
    let text: usize = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.len()))
        .sum();
    let structured = result
        .structured_content
        .as_ref()
        .map(|v| {
            serde_json::to_string(v)
                .map(|s| s.len())
                .unwrap_or(usize::MAX)
        })
        .unwrap_or(0);
    text.max(structured)
}

/// Take one page of `items`. `limit` is clamped to 1..=[`MAX_PAGE`].
pub fn paginate<T>(items: Vec<T>, paging: Paging) -> (Vec<T>, Page) {
    let total = items.len();
    let offset = paging.offset.unwrap_or(0).min(total);
    let limit = paging.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let end = offset + page.len();
    let info = Page {
        total,
        offset,
        returned: page.len(),
        next_offset: (end < total).then_some(end),
    };
    (page, info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_answers_become_a_tool_error_that_says_how_to_ask_for_less() {
        use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock as Content};
        let small = CallToolResponse::Complete(CallToolResult::success(vec![Content::text("ok")]));
        let CallToolResponse::Complete(kept) = bound_response(small) else {
            panic!()
        };
        assert_ne!(kept.is_error, Some(true));
        let mut big = CallToolResult::success(vec![Content::text("x".repeat(60_000))]);
        big.structured_content = Some(serde_json::json!({"items": "y".repeat(120_000)}));
        let CallToolResponse::Complete(cut) = bound_response(CallToolResponse::Complete(big))
        else {
            panic!()
        };
        assert_eq!(cut.is_error, Some(true));
        let text = crate::result_text(&cut);
        assert!(text.contains("120") && text.contains("limit"), "{text}");
        assert!(text.len() < 400);
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

    #[test]
    fn pages_and_clamps() {
        let page_of = |offset, limit| Paging { offset, limit };
        let (page, info) = paginate((0..10).collect::<Vec<_>>(), page_of(Some(8), Some(5)));
        assert_eq!(page, vec![8, 9]);
        assert_eq!(info.next_offset, None);
        let (page, info) = paginate((0..500).collect::<Vec<_>>(), page_of(None, Some(10_000)));
        assert_eq!(page.len(), MAX_PAGE);
        assert_eq!(info.next_offset, Some(MAX_PAGE));
        let (page, info) = paginate((0..60).collect::<Vec<_>>(), Paging::default());
        assert_eq!(
            (page.len(), info.next_offset),
            (DEFAULT_PAGE, Some(DEFAULT_PAGE))
        );
        let (page, info) = paginate((0..3).collect::<Vec<_>>(), page_of(Some(9), Some(0)));
        assert_eq!((page.len(), info.offset, info.next_offset), (0, 3, None));
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
                && limit.contains(&format!("at most {MAX_PAGE}")),
            "{limit}"
        );
        let offset = schema.as_value()["properties"]["offset"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(offset.contains("next_offset"), "{offset}");
    }
}
