//! Bounded output: results an agent can hold in its context. Lists are paginated with an
//! explicit next offset instead of being dumped whole.

use schemars::JsonSchema;
use serde::Serialize;

/// Items per page when the caller does not say.
pub const DEFAULT_PAGE: usize = 50;
/// The most items one call returns, whatever the caller asks.
pub const MAX_PAGE: usize = 200;

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
    let call = rmcp::handler::server::tool::ToolCallContext::new(server, request, context);
    router.call(call).await.map(bound_response)
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
pub fn paginate<T>(items: Vec<T>, offset: Option<usize>, limit: Option<usize>) -> (Vec<T>, Page) {
    let total = items.len();
    let offset = offset.unwrap_or(0).min(total);
    let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
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
    fn pages_and_clamps() {
        let (page, info) = paginate((0..10).collect::<Vec<_>>(), Some(8), Some(5));
        assert_eq!(page, vec![8, 9]);
        assert_eq!(info.next_offset, None);
        let (page, info) = paginate((0..500).collect::<Vec<_>>(), None, Some(10_000));
        assert_eq!(page.len(), MAX_PAGE);
        assert_eq!(info.next_offset, Some(MAX_PAGE));
    }
}
