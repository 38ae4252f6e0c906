//! Long tool calls: progress notifications while they run (when the client asked for them with
//! a progress token), and cancellation when the client cancels the request. Dropping the work
//! future on cancellation is what stops it: commands run under the supervisor stop with it.

use std::future::Future;
use std::time::{Duration, Instant};

use rmcp::model::ProgressNotificationParam;
use rmcp::service::RequestContext;
use rmcp::RoleServer;

use crate::ToolError;

/// How often a running call reports.
const TICK: Duration = Duration::from_secs(2);

/// Await `work`, sending `"{what}: N s"` progress every couple of seconds. A cancelled request
/// drops `work` and returns an error saying so.
pub async fn with_progress<T>(
    context: &RequestContext<RoleServer>,
    what: &str,
    work: impl Future<Output = T>,
) -> Result<T, ToolError> {
    let token = context.meta.get_progress_token();
    let started = Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    ticker.tick().await; // the first tick is immediate
    tokio::pin!(work);
    let mut step = 0u32;
    loop {
        tokio::select! {
            result = &mut work => return Ok(result),
            _ = context.ct.cancelled() => {
                return Err(format!("{what}: cancelled by the client after {:.1} s; everything it started was stopped", started.elapsed().as_secs_f64()));
            }
            _ = ticker.tick() => {
                step += 1;
                if let Some(token) = &token {
                    let mut param = ProgressNotificationParam::new(token.clone(), f64::from(step));
                    param.message = Some(format!("{what}: {} s", started.elapsed().as_secs()));
                    if let Err(e) = context.peer.notify_progress(param).await {
                        tracing::debug!("progress notification not sent: {e}");
                    }
                }
            }
        }
    }
}
