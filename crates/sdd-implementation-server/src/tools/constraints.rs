//! `verify_constraints`: the spec's constraints checked against the running service — load runs
//! for performance constraints, verdicts with measured values and headroom, recorded in the
//! history so `compare_runs` shows how the numbers moved.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, Json, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_history::{NewRun, RunKind, SubjectResult};
use sdd_mcp::{paged, Page, Paging, ToolError};
use sdd_spec::verdict::{Overall, Verdict};
use sdd_verify::consistency::{self, ConsistencyCheck};
use sdd_verify::constraints::{verify, ConstraintVerdict, ServiceUnderTest, VerificationSummary};
use sdd_verify::record::{constraint_status, RunStamp};

use super::service::service_config;
use sdd_exec::capture::Capture;
use sdd_exec::service::Service;
use sdd_http::AllowedHosts;
use sdd_spec::project::ServiceConfig;
use sdd_verify::reliability::{Restarter, Stop};

/// Restarts the service this server started: a graceful stop or a crash, then a start, then
/// readiness.
struct ServiceRestarter<'a> {
    server: &'a ImplServer,
    config: &'a ServiceConfig,
    allowed_hosts: &'a AllowedHosts,
}

impl Restarter for ServiceRestarter<'_> {
    fn restart(
        &self,
        how: Stop,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            let mut slot = self.server.state.service.lock().await;
            if let Some(service) = slot.current.take() {
                match how {
                    Stop::Graceful => service.stop().await,
                    Stop::Crash => service.crash().await,
                };
            }
            // Restarted as start_service starts it: its output captured for the debugger.
            let service = Service::start_capturing(
                &self.server.state.project.root,
                self.config,
                self.allowed_hosts,
                &self.server.state.supervisor,
                Some(Capture::for_project(&self.server.state.project.root)),
            )
            .await
            .map_err(|e| e.to_string())?;
            slot.current = Some(service);
            Ok(())
        })
    }
}
use crate::ImplServer;

/// The longest measured run a caller may ask for.
const MAX_SECONDS: u64 = 120;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyArgs {
    /// Only these constraint IDs (see get_constraints on the specification server); default:
    /// every constraint.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Measured seconds per load run (default: load.duration_seconds of sdd.yaml; max 120).
    #[serde(default)]
    pub duration_seconds: Option<u64>,
    /// Include each run's full measurements (percentile curve, status counts, the sample of
    /// what its writes created) in the result.
    #[serde(default)]
    pub details: bool,
    /// Which of the verdicts to list, failing first, then inconclusive, unchecked and passing
    /// (every requested constraint is verified and recorded whatever the page).
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct VerifyResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    /// `verified` only when every selected constraint passed and so did the consistency check;
    /// `no_failures` when none failed but some are inconclusive or unchecked (not verified: say
    /// so, never "all verified"); `failed` when any failed.
    pub overall: Overall,
    /// Counts every verdict, listed or not.
    pub summary: VerificationSummary,
    /// One page of the verdicts, failing first.
    pub constraints: Vec<ConstraintVerdict>,
    pub page: Page,
    /// After the load runs: whether what their writes created can still be read back, and
    /// whether the examples that passed before the load still pass. Its findings name the
    /// request; no verdict when no load ran.
    pub consistency: ConsistencyCheck,
    /// Constraints that passed in the previous verification and fail now.
    pub regressions: Vec<String>,
    /// Requested IDs that are not constraints of the spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[tool_router(router = constraint_tools, vis = "pub(crate)")]
impl ImplServer {
    /// Verify the spec's constraints against the running service. Performance constraints
    /// become load runs (open model at the stated rate, latency measured from each request's
    /// intended send time) on the endpoints sdd.yaml lists for their scope (`load.endpoints`);
    /// each comes back passing / failing / inconclusive / unchecked with the measured value and
    /// headroom (`p95 = 41.2 ms, limit 100 ms, 59 % headroom at 1000 req/s achieved`), and what
    /// was run instead when the constraint cannot be run as written. Kinds without a probe are
    /// `unchecked` with the reason. After the load runs (which come after the probes), a
    /// consistency check reads back a sample of what their writes created and re-runs the
    /// examples: anything lost or changed fails it, naming the request. Recorded in the
    /// history (kind `constraints`): compare_runs shows how the numbers moved. Verdicts are
    /// listed failing first, one page at a time (`summary` counts them all). Sends progress
    /// notifications.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn verify_constraints(
        &self,
        Parameters(args): Parameters<VerifyArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<VerifyResult>, ToolError> {
        let mut file = self.project_file()?;
        let config = service_config(&file)?.clone();
        let loaded = self.load_spec(Some(&file))?;
        let unknown_ids: Vec<String> = args
            .ids
            .iter()
            .filter(|id| loaded.spec.constraint(id).is_none())
            .cloned()
            .collect();
        if !args.ids.is_empty() && unknown_ids.len() == args.ids.len() {
            return Err(format!(
                "no constraint with ID {}; list them with get_constraints on the specification server",
                unknown_ids.join(", ")
            ));
        }
        if let Some(seconds) = args.duration_seconds {
            file.load.duration_seconds = seconds.clamp(1, MAX_SECONDS);
        }
        let mut problems = self.service_ready_for_traffic(&config, &file).await?;
        // A service run by hand cannot be restarted by the restart probe.
        let started_here = problems.is_empty();
        let allowed_hosts = sdd_verify::allowed_hosts(&file);
        let restarter = ServiceRestarter {
            server: self,
            config: &config,
            allowed_hosts: &allowed_hosts,
        };
        let headers = sdd_verify::auth::client_headers(&config, &file.auth);
        let stage = sdd_mcp::Stage::default();
        let on_start = |n: usize, total: usize, id: &str| stage.set(n as u32, total as u32, id);
        let target = ServiceUnderTest {
            base_url: &config.base_url,
            headers: &headers,
            allowed_hosts: &allowed_hosts,
            load: &file.load,
            declared: sdd_verify::inventory::declared(
                &self.state.project.root,
                &file,
                &loaded.spec,
            ),
            identities: sdd_verify::auth::load_identities(&file.auth, file.load.users),
            credentials: sdd_verify::auth::probe_credentials(&file.auth),
            restarter: started_here.then_some(&restarter as &dyn Restarter),
            on_start: Some(&on_start),
            sample_created: Some(consistency::sample_spec(&loaded.spec, &file.load)),
        };
        let stamp = RunStamp::now(&self.state.project.root).await;
        let (mut constraints, summary, consistency) = sdd_mcp::with_progress_stages(
            &context,
            "verifying constraints",
            &stage,
            verify(&loaded.spec, &args.ids, &target),
        )
        .await?;
        let overall = consistency::overall(&summary, &consistency);
        let mut results: Vec<SubjectResult> = constraints
            .iter()
            .map(|v| SubjectResult {
                subject: v.constraint_id.clone(),
                status: constraint_status(v.verdict),
                detail: Some(v.summary.clone()),
            })
            .collect();
        if let Some(verdict) = consistency.verdict {
            results.push(SubjectResult {
                subject: consistency::SUBJECT.into(),
                status: constraint_status(verdict),
                detail: Some(consistency.summary.clone()),
            });
        }
        let run = NewRun {
            filter: (!args.ids.is_empty()).then(|| args.ids.join(",")),
            results,
            ..stamp.run(
                RunKind::Constraints,
                "constraints",
                // `ok` is "nothing failed", as `sdd verify`'s exit status; what was not
                // verified is in the summary and in `overall`.
                overall.nothing_failed(),
                serde_json::to_value(&summary).unwrap_or_default(),
            )
        };
        let (run_id, regressions) = self.record_run(&run, &mut problems);
        if !args.details {
            for v in &mut constraints {
                if let Some(m) = v.measured.as_mut() {
                    m.curve.clear();
                    m.created = None;
                }
            }
        }
        // Stable: spec order within each verdict.
        constraints.sort_by_key(|v| match v.verdict {
            Verdict::Failing => 0,
            Verdict::Inconclusive => 1,
            Verdict::Unchecked => 2,
            Verdict::Passing => 3,
        });
        Ok(Json(paged(
            constraints,
            args.paging,
            |constraints, page| {
                VerifyResult {
                run_id,
                overall,
                summary: summary.clone(),
                constraints,
                page: page.of_a_run(
                    "pass `ids` to verify only those, or see one constraint's recorded verdict with history and `scenario`",
                ),
                consistency: consistency.clone(),
                regressions: regressions.clone(),
                unknown_ids: unknown_ids.clone(),
                problems: problems.clone(),
            }
            },
        )))
    }
}
