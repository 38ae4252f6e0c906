//! Long tool calls: progress notifications while they run (when the client asked for them with
//! a progress token), and cancellation when the client cancels the request. Dropping the work
//! future on cancellation is what stops it: commands run under the supervisor stop with it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::ProgressNotificationParam;
use rmcp::service::RequestContext;
use rmcp::RoleServer;

use crate::ToolError;

/// How often a running call reports.
const TICK: Duration = Duration::from_secs(2);

/// Where a long call is: step `done` of `total`, and what it is doing, for its progress
/// notifications. Cheap to clone; the work updates it, the ticker reads it.
#[derive(Clone, Default)]
pub struct Stage(Arc<Mutex<Option<(u32, u32, String)>>>);

impl Stage {
    pub fn set(&self, done: u32, total: u32, doing: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((done, total, doing.to_string()));
    }

    fn get(&self) -> Option<(u32, u32, String)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Await `work`, sending `"{what}: N s"` progress every couple of seconds. A cancelled request
/// drops `work` and returns an error saying so.
pub async fn with_progress<T>(
    context: &RequestContext<RoleServer>,
    what: &str,
    work: impl Future<Output = T>,
) -> Result<T, ToolError> {
    with_progress_stages(context, what, &Stage::default(), work).await
}

/// `with_progress` for work that reports its steps in `stage`: the notifications then carry
/// `progress` = steps done and `total`, and say which step is running.
pub async fn with_progress_stages<T>(
    context: &RequestContext<RoleServer>,
    what: &str,
    stage: &Stage,
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
                    let seconds = started.elapsed().as_secs();
                    let param = match stage.get() {
                        // Progress must increase with every notification: steps done, plus a
                        // fraction that grows with the ticks inside the step.
                        Some((done, total, doing)) => {
                            let mut param = ProgressNotificationParam::new(
                                token.clone(),
                                f64::from(done.saturating_sub(1)) + 1.0 - 1.0 / f64::from(step + 1),
                            );
                            param.total = Some(f64::from(total));
                            param.message = Some(format!("{what}: {done}/{total} {doing} ({seconds} s)"));
                            param
                        }
                        None => {
                            let mut param = ProgressNotificationParam::new(token.clone(), f64::from(step));
                            param.message = Some(format!("{what}: {seconds} s"));
                            param
                        }
                    };
                    if let Err(e) = context.peer.notify_progress(param).await {
                        tracing::debug!("progress notification not sent: {e}");
                    }
                }
            }
        }
    }
}
