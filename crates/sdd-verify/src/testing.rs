//! Helpers for tests of this crate and of the servers built on it: a private copy of the
//! bundled inventory fixture project. Not part of the API.

use std::path::{Path, PathBuf};

/// `tests/fixtures/inventory` of this crate: one spec, tests in Rust, Python, Go and JS.
pub fn inventory_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory")
}

/// A private copy of the inventory fixture in a temporary directory: `python3 -m pytest` in its
/// sdd.yaml becomes `$SDD_PYTHON -m pytest` (the interpreter that has pytest) when that is set,
/// and the service's port 18080 a free port, so copies can run side by side.
pub fn inventory_project() -> std::io::Result<tempfile::TempDir> {
    private_copy(&inventory_fixture(), "18080")
}

/// A private copy of `tests/fixtures/fidelity` of this crate: test suites (Rust, Python) whose
/// runners report every shape SDD must read without losing, inventing or silently passing a
/// test — subtests, ` - ` in parameter IDs, a crashing test binary, `should_panic`, xfail.
pub fn fidelity_project() -> std::io::Result<tempfile::TempDir> {
    private_copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fidelity"),
        "no port",
    )
}

/// Run test profile `profile` of the project at `root` as `run_tests` does, with its own
/// sdd.yaml and spec: the one set-up the test-run tests share.
pub async fn run_profile(
    root: &Path,
    profile: &str,
    filter: Option<&str>,
    history: Option<&std::sync::Mutex<Option<sdd_history::History>>>,
) -> crate::testrun::TestRunReport {
    let project = sdd_spec::project::load_project_file(root).expect("the fixture's sdd.yaml");
    let spec = sdd_spec::load::load_dir(&root.join(&project.specs))
        .expect("the fixture's spec")
        .spec;
    crate::testrun::run_tests(crate::testrun::TestRunRequest {
        root,
        profile_name: profile,
        profile: &project.tests[profile],
        filter,
        spec: &spec,
        supervisor: &sdd_exec::process::Supervisor {
            program: sdd_exec::testing::supervise_binary(),
            args: vec![],
        },
        history,
    })
    .await
    .expect("the profile runs")
}

/// `tests/fixtures/notes` of this crate: a service whose notes belong to their writer, with
/// the ownership faults the ownership probe must catch.
pub fn notes_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/notes")
}

/// A private copy of the notes fixture, its port 18090 made a free port.
pub fn notes_project() -> std::io::Result<tempfile::TempDir> {
    private_copy(&notes_fixture(), "18090")
}

/// `tests/fixtures/workbench` of this crate (from a hostile review): projects with nested items,
/// ids in a JSON body, a search, and three list conventions; its FAULTS each open one way into
/// another user's objects.
pub fn workbench_project() -> std::io::Result<tempfile::TempDir> {
    private_copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workbench"),
        "18321",
    )
}

/// `tests/fixtures/projects` of this crate: projects and their items, with the faults the
/// security probes must catch (nested and header injection, auth skipped on path variants, a
/// rate limit on reads only).
pub fn projects_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects")
}

/// A private copy of the projects fixture, its port 18100 made a free port.
pub fn projects_project() -> std::io::Result<tempfile::TempDir> {
    private_copy(&projects_fixture(), "18100")
}

/// How [`verify_fixture`] verifies a fixture copy.
#[derive(Default)]
pub struct FixtureRun<'a> {
    /// Only these scenarios of the spec (all when empty).
    pub scenarios: &'a [&'a str],
    /// Restarts the service for the restart probe (none: the probe says it cannot).
    pub restarter: Option<&'a dyn crate::reliability::Restarter>,
    /// Spread the load over `load.users` identities and keep what it creates, for the
    /// consistency check.
    pub with_load_users_and_sample: bool,
}

/// Start the service of the fixture copy at `root` (its sdd.yaml as the test left it) and
/// verify the constraints `ids` against it: the one set-up the fixture tests share.
pub async fn verify_fixture(
    root: &Path,
    ids: &[&str],
    run: FixtureRun<'_>,
) -> (
    Vec<crate::constraints::ConstraintVerdict>,
    crate::consistency::ConsistencyCheck,
) {
    let file = sdd_spec::project::load_project_file(root).expect("the fixture's sdd.yaml");
    let mut spec = sdd_spec::load::load_dir(&root.join(&file.specs))
        .expect("the fixture's spec")
        .spec;
    if !run.scenarios.is_empty() {
        spec.scenarios
            .retain(|s| run.scenarios.contains(&s.id.as_str()));
    }
    let config = file.service.clone().expect("the fixture's service");
    let allowed_hosts = crate::allowed_hosts(&file);
    let supervisor = sdd_exec::process::Supervisor {
        program: sdd_exec::testing::supervise_binary(),
        args: vec![],
    };
    let service = sdd_exec::service::Service::start(root, &config, &allowed_hosts, &supervisor)
        .await
        .expect("the fixture's service starts");
    let headers = crate::auth::client_headers(&config, &file.auth);
    let target = crate::constraints::ServiceUnderTest {
        base_url: &config.base_url,
        headers: &headers,
        allowed_hosts: &allowed_hosts,
        load: &file.load,
        declared: crate::inventory::declared(root, &file, &spec),
        identities: if run.with_load_users_and_sample {
            crate::auth::load_identities(&file.auth, file.load.users)
        } else {
            Vec::new()
        },
        credentials: crate::auth::probe_credentials(&file.auth),
        restarter: run.restarter,
        on_start: None,
        sample_created: run
            .with_load_users_and_sample
            .then(|| crate::consistency::sample_spec(&spec, &file.load)),
    };
    let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    let (verdicts, _, check) = crate::constraints::verify(&spec, &ids, &target).await;
    service.stop().await;
    (verdicts, check)
}

fn private_copy(fixture: &Path, port_in_file: &str) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    copy_dir(fixture, dir.path())?;
    let file = dir.path().join("sdd.yaml");
    let mut text = std::fs::read_to_string(&file)?;
    if let Ok(python) = std::env::var("SDD_PYTHON") {
        text = text.replace("python3 -m pytest", &format!("{python} -m pytest"));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    text = text.replace(port_in_file, &port.to_string());
    std::fs::write(&file, text)?;
    Ok(dir)
}

/// Change one `KEY: value` of the fixture's service environment (e.g. `MODE`).
pub fn set_service_env(project: &Path, key: &str, from: &str, to: &str) -> std::io::Result<()> {
    let file = project.join("sdd.yaml");
    let text = std::fs::read_to_string(&file)?;
    std::fs::write(
        &file,
        text.replace(&format!("{key}: {from}"), &format!("{key}: {to}")),
    )
}

/// Whether pytest can run here; in CI (`CI` set) it must.
pub fn pytest_available() -> bool {
    let python = std::env::var("SDD_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(python)
        .args(["-c", "import pytest"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "CI must provide pytest (set SDD_PYTHON)"
    );
    ok
}

pub use sdd_exec::testing::process_alive;

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if [
            "target",
            "__pycache__",
            "results",
            "pids",
            "Cargo.lock",
            "service.pid",
            "stock.json",
        ]
        .iter()
        .any(|skip| name == *skip)
        {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(&name))?;
        } else {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}
