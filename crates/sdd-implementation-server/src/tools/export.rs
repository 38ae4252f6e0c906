//! `export_load_test`: the load `verify_constraints` runs, written as a k6 script inside the
//! project, so that k6 — on this machine or on a cluster through k6-operator — can run the
//! same arrival rate, endpoints, users and bounds. The decisions are `sdd_verify::export`'s
//! and the JavaScript `sdd_load::k6`'s; this module reads the project and writes the file.

use std::path::{Path, PathBuf};

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::{Project, ToolError};
use sdd_verify::export::{
    env_names, k6_script, load_test, plan_json, ExportedRun, Header, Overrides, Selection, Skipped,
    Target, Tokens, PLAN_MARK, SCRIPT_MARK,
};

use super::service::service_config;
use crate::ImplServer;

/// The longest measured run a caller may ask for: a day (a soak test on a cluster).
const MAX_SECONDS: u64 = 86_400;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportArgs {
    /// Export only this constraint (see get_constraints on the specification server): its
    /// rate, the endpoints of its scope, its bound as a k6 threshold. Default: every
    /// constraint verified with load (latency, throughput, error rate, concurrency), one run
    /// after another.
    #[serde(default)]
    pub constraint: Option<String>,
    /// Instead of a constraint: the endpoints of this scope of `load.endpoints` (`reads`,
    /// `writes`, `all`, …) at `rate` (default load.default_rate), with the latency bounds of
    /// the constraints on that scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// Requests per second of every open-model run, instead of the constraints' rates (e.g. a
    /// small rate to try the script).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Measured seconds of every run (default load.duration_seconds; at most 86400). The
    /// warm-up (load.warmup_seconds) comes before it.
    #[serde(default)]
    pub duration_seconds: Option<u64>,
    /// Where to write the script, relative to the project root and inside it, ending in `.js`
    /// (default `.sdd/load/<constraint or scope>.k6.js`). A file not written by this tool is
    /// never overwritten.
    #[serde(default)]
    pub out: Option<String>,
    /// Also write the same load as an sdd-load plan (JSON, for `sdd-load --plan FILE`), to
    /// compare the two generators; relative to the project root, ending in `.json`. Only for
    /// an export of one run.
    #[serde(default)]
    pub plan_out: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ExportResult {
    /// The script, relative to the project root.
    pub path: String,
    pub bytes: usize,
    /// The runs in the script, in order: scenario, rate, endpoints, thresholds.
    pub runs: Vec<ExportedRun>,
    /// Constraints left out of an export of all, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// How to run it from the project root.
    pub run_command: String,
    /// How to run it on a Kubernetes cluster.
    pub cluster: String,
    /// The sdd-load plan, when `plan_out` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_path: Option<String>,
    /// When the signed tokens in the script expire (auth.jwt.ttl_seconds): export again after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_expire_at: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[tool_router(router = export_tools, vis = "pub(crate)")]
impl ImplServer {
    /// Write the load verify_constraints runs as a k6 script inside the project (default
    /// `.sdd/load/<name>.k6.js`): the same open-model arrival rate (constant-arrival-rate),
    /// endpoints and weights of `load.endpoints`, one signed token per simulated user
    /// (auth.jwt, load.users), and the constraints' bounds as thresholds
    /// (`http_req_duration: ['p(95)<100']`, failed and refused shares, dropped iterations) on
    /// the measured requests. Answers the path, the runs and how to run it (`k6 run PATH`; on a
    /// cluster, k6-operator with `parallelism`). Runs nothing and sends no request; the service
    /// need not be running. Call verify_constraints to measure with SDD's own generator.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn export_load_test(
        &self,
        Parameters(args): Parameters<ExportArgs>,
    ) -> Result<Json<ExportResult>, ToolError> {
        let file = self.project_file()?;
        let config = service_config(&file)?.clone();
        let loaded = self.load_spec(Some(&file))?;
        let selection = match (&args.constraint, &args.scope) {
            (Some(_), Some(_)) => {
                return Err("give `constraint` or `scope`, not both".into());
            }
            (Some(id), None) => Selection::Constraint(id.clone()),
            (None, Some(scope)) => Selection::Scope(scope.clone()),
            (None, None) => Selection::All,
        };
        if let Some(seconds) = args.duration_seconds {
            if !(1..=MAX_SECONDS).contains(&seconds) {
                return Err(format!(
                    "duration_seconds takes 1 to {MAX_SECONDS} seconds, not {seconds}"
                ));
            }
        }

        let mut warnings = Vec::new();
        let headers = sdd_verify::auth::client_headers(&config, &file.auth);
        let identities = sdd_verify::auth::load_identities(&file.auth, file.load.users);
        let mut from_env: Vec<String> = Vec::new();
        let jwt_secret = file.auth.jwt.as_ref().map(|jwt| jwt.secret.as_str());
        for value in jwt_secret
            .into_iter()
            .chain(config.headers.values().map(String::as_str))
        {
            for name in env_names(value) {
                if !from_env.contains(&name) {
                    from_env.push(name);
                }
            }
        }
        for name in &from_env {
            if std::env::var_os(name).is_none() {
                warnings.push(format!(
                    "sdd.yaml reads ${{env:{name}}}, which is not set in SDD's environment: the script's tokens or headers were made with an empty value; set it and export again"
                ));
            }
        }

        let target = Target {
            base_url: &config.base_url,
            headers: &headers,
            identities: &identities,
            load: &file.load,
        };
        let overrides = Overrides {
            rate: args.rate,
            duration_seconds: args.duration_seconds,
        };
        let test = load_test(&loaded.spec, &selection, &target, &overrides)?;

        let root = &self.state.project.root;
        let name = match &selection {
            Selection::All => "constraints".to_string(),
            _ => test.runs[0].name.clone(),
        };
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| format!(".sdd/load/{name}.k6.js"));
        let path = confined(root, &out, "out", ".js")?;
        let shown = self.state.project.display(&path);
        let plan = match &args.plan_out {
            Some(plan_out) => {
                let text = plan_json(&test).ok_or_else(|| {
                    format!(
                        "plan_out writes one sdd-load plan, and this export has {} runs; give `constraint` or `scope`",
                        test.runs.len()
                    )
                })?;
                Some((confined(root, plan_out, "plan_out", ".json")?, text))
            }
            None => None,
        };

        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let generated_at = sdd_spec::review::rfc3339(now);
        let expires_at = file.auth.jwt.as_ref().map(|jwt| {
            sdd_spec::review::rfc3339(
                now.saturating_add(i64::try_from(jwt.ttl_seconds).unwrap_or(i64::MAX)),
            )
        });
        let script = k6_script(
            &test,
            &Header {
                generated_at: &generated_at,
                path: &shown,
                tokens: expires_at.as_deref().map(|expires_at| Tokens {
                    users: identities.len(),
                    expires_at,
                }),
                from_env: &from_env,
                holds_credentials: file.auth.jwt.is_some() || !config.headers.is_empty(),
            },
        )?;

        sdd_mcp::blocking(|| {
            write_generated(&path, &script, SCRIPT_MARK)?;
            if let Some((plan_path, text)) = &plan {
                write_generated(plan_path, text, PLAN_MARK)?;
            }
            Ok::<(), String>(())
        })?;
        Ok(Json(ExportResult {
            bytes: script.len(),
            run_command: format!("k6 run {shown}"),
            cluster: format!(
                "k6-operator: `kubectl create configmap sdd-load --from-file={shown}` and a TestRun with spec.script.configMap (name sdd-load, file {}) and spec.parallelism N; k6 splits each arrival rate across the N instances",
                path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
            ),
            path: shown,
            runs: test.described,
            skipped: test.skipped,
            plan_path: plan.map(|(p, _)| self.state.project.display(&p)),
            tokens_expire_at: expires_at,
            warnings,
        }))
    }
}

/// `relative` inside the project root, ending in `extension`, or an error naming the argument.
fn confined(
    root: &Path,
    relative: &str,
    argument: &str,
    extension: &str,
) -> Result<PathBuf, String> {
    let path = Project::confine(root, relative)
        .map_err(|e| format!("`{argument}`: {e} (the default is under .sdd/load/)"))?;
    let file_name = relative.rsplit('/').next().unwrap_or_default();
    if !file_name.ends_with(extension) || file_name == extension {
        return Err(format!(
            "`{argument}` must name a file ending in `{extension}`, not `{relative}`"
        ));
    }
    Ok(path)
}

/// `sdd_mcp::write_generated` for this tool: owner-only (the script holds tokens), replacing
/// only a file that begins with `mark`.
fn write_generated(path: &Path, text: &str, mark: &str) -> Result<(), String> {
    sdd_mcp::write_generated(
        path,
        text,
        |before| before.starts_with(mark),
        "export_load_test",
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_this_tool_wrote_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/x.k6.js");
        write_generated(&path, &format!("{SCRIPT_MARK} one"), SCRIPT_MARK).unwrap();
        write_generated(&path, &format!("{SCRIPT_MARK} two"), SCRIPT_MARK).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("two"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let theirs = dir.path().join("main.js");
        std::fs::write(&theirs, "console.log(1)").unwrap();
        let err = write_generated(&theirs, SCRIPT_MARK, SCRIPT_MARK).unwrap_err();
        assert!(err.contains("not written by export_load_test"), "{err}");
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "console.log(1)");
        let err = write_generated(dir.path(), SCRIPT_MARK, SCRIPT_MARK).unwrap_err();
        assert!(err.contains("not a regular file"), "{err}");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.k6.js"]);
    }

    #[test]
    fn paths_must_stay_inside_the_project_and_name_a_script() {
        let dir = tempfile::tempdir().unwrap();
        assert!(confined(dir.path(), ".sdd/load/x.k6.js", "out", ".js").is_ok());
        for bad in ["../x.js", "/tmp/x.js", "a/../../x.js"] {
            let err = confined(dir.path(), bad, "out", ".js").unwrap_err();
            assert!(err.contains("outside"), "{bad}: {err}");
        }
        for bad in ["x.txt", "src/main.rs", "dir/.js", ".js", "x.js/", ""] {
            let err = confined(dir.path(), bad, "out", ".js").unwrap_err();
            assert!(err.contains("ending in `.js`"), "{bad}: {err}");
        }
    }
}
