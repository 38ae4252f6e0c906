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
    fn pages_and_clamps() {
        let (page, info) = paginate((0..10).collect::<Vec<_>>(), Some(8), Some(5));
        assert_eq!(page, vec![8, 9]);
        assert_eq!(info.next_offset, None);
        let (page, info) = paginate((0..500).collect::<Vec<_>>(), None, Some(10_000));
        assert_eq!(page.len(), MAX_PAGE);
        assert_eq!(info.next_offset, Some(MAX_PAGE));
    }
}
