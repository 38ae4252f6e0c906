//! `sdd init`: scaffold SDD into an existing project — `specs/` with a first (proposed)
//! scenario, an `sdd.yaml` whose test profiles run the stacks found there (Rust, Python,
//! Jest/Vitest, Go) with results SDD reads — or, finding none, that says so in the output and
//! in the file —, the MCP registration in `.mcp.json` (merged with any servers already
//! registered), and `.sdd/` in `.gitignore`. Nothing that exists is overwritten.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};

use crate::cli::InitArgs;
use crate::sayln;

pub fn run(args: &InitArgs) -> Result<ExitCode, String> {
    let root = args.project.root()?;
    let mut done = Vec::new();
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().replace(['_', '-'], " "))
        .unwrap_or_else(|| "My service".into());

    let specs = root.join("specs");
    if specs.is_dir() {
        done.push("kept    specs/ (already there)".to_string());
    } else {
        std::fs::create_dir_all(&specs).map_err(|e| format!("cannot create specs/: {e}"))?;
        let file = specs.join("features.yaml");
        write_new(&file, &first_spec(&name))?;
        done.push("created specs/features.yaml (one proposed scenario to rewrite)".into());
    }

    let project_file = root.join(sdd_spec::project::PROJECT_FILE);
    if project_file.exists() {
        done.push("kept    sdd.yaml (already there)".into());
    } else {
        let stacks = find_stacks(&root);
        write_new(&project_file, &project_yaml(&stacks))?;
        done.push(format!("created sdd.yaml ({})", stacks_summary(&stacks)));
        for why in &stacks.unsupported {
            done.push(format!("        no test profile for {why}"));
        }
        if stacks.profiles.is_empty() {
            done.push(
                "        `sdd verify` runs no tests until a profile is added under `tests:` \
                 (see the comment in sdd.yaml)"
                    .into(),
            );
        }
    }

    done.push(register_servers(&root)?);
    done.push(ignore_state(&root)?);

    for line in &done {
        sayln!("{line}");
    }
    sayln!(
        "\nNext: describe behaviour in specs/ (or ask your agent to propose scenarios through the \
         sdd-specification server), approve it with `sdd review`, then `sdd verify`."
    );
    Ok(ExitCode::SUCCESS)
}

fn write_new(path: &Path, text: &str) -> Result<(), String> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn first_spec(name: &str) -> String {
    let mut title: Vec<char> = name.chars().collect();
    if let Some(c) = title.first_mut() {
        *c = c.to_ascii_uppercase();
    }
    let title: String = title.into_iter().collect();
    format!(
        "# Behaviour of {title}, in scenarios a person approves (`sdd review`) before code is written.\n\
         feature: {title}\n\
         description: What this service does, in one sentence.\n\
         \n\
         scenarios:\n  \
           - name: Describe one behaviour\n    \
             status: proposed\n    \
             proposed_by: sdd init\n    \
             rationale: A starting point; rewrite it, then approve or reject it with `sdd review`.\n    \
             given: The state before\n    \
             when: Something happens\n    \
             then:\n      \
               - What must be true afterwards\n"
    )
}

/// What `sdd init` found at the project root: the test profiles it writes, and the stacks it
/// recognised but cannot write a working profile for (with the reason).
#[derive(Debug, Default)]
struct Stacks {
    profiles: Vec<Profile>,
    unsupported: Vec<String>,
}

/// One test profile of the written sdd.yaml.
#[derive(Debug)]
struct Profile {
    name: &'static str,
    /// What it was made from (`Cargo.toml`, `package.json's test script (jest)`), said in the
    /// output and as a comment in sdd.yaml.
    from: String,
    command: String,
    env: Option<&'static str>,
    filter_arg: Option<&'static str>,
    /// `results:` as flow YAML.
    results: &'static str,
    /// A comment written above its command (what to check in it).
    note: Option<&'static str>,
}

/// The files `sdd init` looks for, said when it finds none.
const MARKERS: &str =
    "Cargo.toml, pyproject.toml, setup.py, pytest.ini, requirements.txt, package.json, go.mod";

/// Test profiles for the stacks found in `root`, each one a command whose results SDD reads:
/// what the fixtures under `crates/sdd-verify/tests/fixtures/` run and the recorded runner
/// outputs of `crates/sdd-results/tests/data/results/` come from.
fn find_stacks(root: &Path) -> Stacks {
    let mut stacks = Stacks::default();
    if root.join("Cargo.toml").is_file() {
        stacks.profiles.push(Profile {
            name: "rust",
            from: "Cargo.toml".into(),
            command: "cargo test --no-fail-fast".into(),
            // Backtraces would bury the assertion in every failure excerpt.
            env: Some("{RUST_BACKTRACE: \"0\"}"),
            filter_arg: Some("\"{filter}\""),
            results: "{format: libtest}",
            note: None,
        });
    }
    let python = [
        "pyproject.toml",
        "setup.py",
        "pytest.ini",
        "requirements.txt",
    ]
    .into_iter()
    .find(|f| root.join(f).is_file());
    if let Some(marker) = python {
        let (pytest, note) = python_runner(root);
        stacks.profiles.push(Profile {
            name: "python",
            from: marker.into(),
            // -v: one line per test; -ra: the summary with every failure's, error's and skip's
            // message — not -rA, which reprints every passing test too (1,094 s against 17 s
            // on a 27,000-test suite, read into the same results). No cache directory written
            // into the project.
            command: format!("{pytest} -v -ra -p no:cacheprovider"),
            // Wide enough that pytest does not cut test names and messages short.
            env: Some("{COLUMNS: \"200\"}"),
            filter_arg: Some("\"-k {filter}\""),
            results: "{format: pytest}",
            note,
        });
    }
    if root.join("package.json").is_file() {
        match node_profile(root) {
            Ok(profile) => stacks.profiles.push(profile),
            Err(why) => stacks.unsupported.push(why),
        }
    }
    if root.join("go.mod").is_file() {
        stacks.profiles.push(Profile {
            name: "go",
            from: "go.mod".into(),
            command: "go test -json ./...".into(),
            env: None,
            filter_arg: Some("\"-run {filter}\""),
            results: "{format: go_json}",
            note: None,
        });
    }
    stacks
}

/// How the project's own Python runs pytest: its virtual environment's interpreter when there
/// is one (`.venv`, `venv`), else its lock file's runner (uv, Poetry), else the system
/// `python3`, with a note saying to check it. Always `python -m pytest`, never the `pytest`
/// script: it puts the project root on `sys.path` alike whichever runs it.
fn python_runner(root: &Path) -> (String, Option<&'static str>) {
    for venv in [".venv", "venv"] {
        if root.join(venv).join("bin/python").is_file() {
            return (format!("{venv}/bin/python -m pytest"), None);
        }
    }
    if root.join("uv.lock").is_file() {
        return ("uv run python -m pytest".into(), None);
    }
    if root.join("poetry.lock").is_file() {
        return ("poetry run python -m pytest".into(), None);
    }
    (
        "python3 -m pytest".into(),
        Some(
            "python3 is the system interpreter (no .venv, venv, uv.lock or poetry.lock here): \
             if the tests need a virtual environment, put its python here (e.g. .venv/bin/python)",
        ),
    )
}

/// The JavaScript runners whose report SDD reads (`jest_json`), from package.json: its test
/// script when that runs Jest or Vitest (so its options and config are kept), else the runner
/// among its dependencies. Anything else is `Err` with what to do.
fn node_profile(root: &Path) -> Result<Profile, String> {
    let text = std::fs::read_to_string(root.join("package.json"))
        .map_err(|e| format!("package.json could not be read ({e})"))?;
    let package: Value =
        serde_json::from_str(&text).map_err(|e| format!("package.json is not valid JSON ({e})"))?;
    let script = package["scripts"]["test"].as_str().map(str::trim);
    let runner_of_script = script.and_then(|s| {
        let mut words = s.split_whitespace();
        let first = match words.next()? {
            "npx" => words.next()?,
            word => word,
        };
        ["jest", "vitest"].into_iter().find(|r| *r == first)
    });
    let depends_on = |name: &str| {
        ["devDependencies", "dependencies"]
            .iter()
            .any(|section| package[section].get(name).is_some())
    };
    // The report lands under .sdd/; Jest does not create the directory itself.
    let (runner, command, from) = match runner_of_script {
        Some("jest") => (
            "jest",
            "mkdir -p .sdd && npm test -- --json --outputFile=.sdd/jest.json",
            "package.json's jest test script",
        ),
        Some(_) => (
            "vitest",
            "mkdir -p .sdd && npm test -- --run --reporter=json --outputFile=.sdd/vitest.json",
            "package.json's vitest test script",
        ),
        None if depends_on("vitest") => (
            "vitest",
            "mkdir -p .sdd && npx vitest run --reporter=json --outputFile=.sdd/vitest.json",
            "package.json's vitest dependency",
        ),
        None if depends_on("jest") => (
            "jest",
            "mkdir -p .sdd && npx jest --json --outputFile=.sdd/jest.json",
            "package.json's jest dependency",
        ),
        None => {
            let what = match script {
                Some(script) if !script.starts_with("echo \"Error: no test specified\"") => {
                    format!("its test script (`{script}`) runs neither Jest nor Vitest")
                }
                _ => "it has no test script and neither Jest nor Vitest".to_string(),
            };
            return Err(format!(
                "package.json: {what}, whose JSON report SDD reads; for another runner, add a \
                 profile that writes JUnit XML and reads it with `results: {{format: junit, \
                 path: …}}`"
            ));
        }
    };
    Ok(Profile {
        name: "js",
        from: from.into(),
        command: command.into(),
        env: None,
        filter_arg: Some("\"-t {filter}\""),
        results: if runner == "jest" {
            "{format: jest_json, path: .sdd/jest.json}"
        } else {
            "{format: jest_json, path: .sdd/vitest.json}"
        },
        note: None,
    })
}

/// What `sdd init` says about the test profiles it wrote (after `created sdd.yaml`).
fn stacks_summary(stacks: &Stacks) -> String {
    if stacks.profiles.is_empty() {
        return format!("no test profile: found none of {MARKERS}");
    }
    let found: Vec<String> = stacks
        .profiles
        .iter()
        .map(|p| format!("{} ({})", p.from, p.name))
        .collect();
    format!("test profiles for {}", found.join(", "))
}

fn project_yaml(stacks: &Stacks) -> String {
    let mut out = String::from(
        "# How SDD checks this project: where the specs are, how tests run, how the service starts.\n\
         specs: specs\n",
    );
    for why in &stacks.unsupported {
        out.push_str(&comment(&format!("No test profile for {why}.")));
    }
    if stacks.profiles.is_empty() {
        out.push_str(&comment(&format!(
            "No test runner recognised here (sdd init looked for {MARKERS}): `sdd verify` runs \
             no tests until a profile is added, for example:"
        )));
        out.push_str(
            "# tests:\n\
             #   unit:\n\
             #     command: make test                               # run with `sh -c` at the project root\n\
             #     results: {format: junit, path: .sdd/junit.xml}   # or libtest, nextest, pytest, go_json, jest_json\n",
        );
    } else {
        out.push_str("tests:\n");
        for p in &stacks.profiles {
            out.push_str(&format!("  {}:   # from {}\n", p.name, p.from));
            if let Some(note) = p.note {
                for line in comment(note).lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
            out.push_str(&format!("    command: {}\n", p.command));
            if let Some(env) = p.env {
                out.push_str(&format!("    env: {env}\n"));
            }
            if let Some(filter_arg) = p.filter_arg {
                out.push_str(&format!("    filter_arg: {filter_arg}\n"));
            }
            out.push_str(&format!("    results: {}\n", p.results));
        }
    }
    out.push_str(
        "# service:\n\
         #   command: ./run-server\n\
         #   env: {PORT: \"8080\"}\n\
         #   base_url: http://127.0.0.1:8080\n\
         #   ready: {http: /health, timeout_seconds: 30}\n\
         # load:\n\
         #   endpoints:\n\
         #     reads: [{path: /items}]\n",
    );
    out
}

/// `text` as YAML comment lines of at most about 100 characters.
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > 100 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// Add (or refresh) our servers in `.mcp.json`, keeping every other entry.
fn register_servers(root: &Path) -> Result<String, String> {
    let path = root.join(".mcp.json");
    let mut config: Value = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not valid JSON ({e}); fix it and run `sdd init` again",
                path.display()
            )
        })?,
        Err(_) => json!({}),
    };
    let Some(object) = config.as_object_mut() else {
        return Err(format!("{} is not a JSON object", path.display()));
    };
    let servers = object
        .entry("mcpServers")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| format!("`mcpServers` in {} is not an object", path.display()))?;
    for (name, binary) in [
        ("sdd-specification", "sdd-specification"),
        ("sdd-implementation", "sdd-implementation"),
        ("sdd-monitoring", "sdd-monitoring"),
        ("sdd-debugger", "sdd-debugger"),
    ] {
        servers.insert(
            name.into(),
            json!({ "command": server_command(binary), "args": ["--project", "."] }),
        );
    }
    let text = serde_json::to_string_pretty(&config).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(
        "wrote   .mcp.json (sdd-specification, sdd-implementation, sdd-monitoring, sdd-debugger)"
            .into(),
    )
}

/// The server binary beside this `sdd` when it is there (a cargo build), else its bare name
/// (installed on PATH).
fn server_command(binary: &str) -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(binary)))
        .filter(|p: &PathBuf| p.is_file())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| binary.to_string())
}

fn ignore_state(root: &Path) -> Result<String, String> {
    let path = root.join(".gitignore");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    if text
        .lines()
        .any(|l| matches!(l.trim(), ".sdd" | ".sdd/" | "/.sdd" | "/.sdd/"))
    {
        return Ok("kept    .gitignore (already ignores .sdd/)".into());
    }
    let mut text = text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# SDD's run history and last verification\n.sdd/\n");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok("added   .sdd/ to .gitignore".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdd_spec::project::{ProjectFile, ResultsFormat};

    /// The sdd.yaml `sdd init` writes for a project holding `files`, loaded as SDD loads it,
    /// and what it says about the stacks.
    fn init_with(files: &[(&str, &str)]) -> (ProjectFile, String, String) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let stacks = find_stacks(dir.path());
        let yaml = project_yaml(&stacks);
        std::fs::write(dir.path().join("sdd.yaml"), &yaml).unwrap();
        let file = sdd_spec::project::load_project_file(dir.path())
            .unwrap_or_else(|d| panic!("{}\n{yaml}", d.message));
        let mut said = stacks_summary(&stacks);
        for why in &stacks.unsupported {
            said.push('\n');
            said.push_str(why);
        }
        (file, yaml, said)
    }

    fn profile<'a>(file: &'a ProjectFile, name: &str) -> &'a sdd_spec::project::TestProfile {
        file.tests
            .get(name)
            .unwrap_or_else(|| panic!("no profile {name}: {:?}", file.tests.keys()))
    }

    #[test]
    fn a_cargo_project_gets_cargo_test_read_as_libtest() {
        let (file, yaml, said) = init_with(&[("Cargo.toml", "[package]\nname = \"x\"\n")]);
        let rust = profile(&file, "rust");
        assert_eq!(rust.command, "cargo test --no-fail-fast");
        assert_eq!(rust.results.format, ResultsFormat::Libtest);
        assert_eq!(rust.filter_arg.as_deref(), Some("{filter}"));
        assert_eq!(file.tests.len(), 1);
        assert!(yaml.contains("rust:   # from Cargo.toml"), "{yaml}");
        assert_eq!(said, "test profiles for Cargo.toml (rust)");
    }

    #[test]
    fn each_python_marker_gets_pytest_read_as_pytest() {
        for marker in [
            "pyproject.toml",
            "setup.py",
            "pytest.ini",
            "requirements.txt",
        ] {
            let (file, yaml, said) = init_with(&[(marker, "")]);
            let python = profile(&file, "python");
            assert_eq!(
                python.command,
                "python3 -m pytest -v -ra -p no:cacheprovider"
            );
            assert!(
                yaml.contains("# python3 is the system interpreter (no .venv, venv, uv.lock"),
                "{yaml}"
            );
            assert_eq!(python.results.format, ResultsFormat::Pytest);
            assert_eq!(python.filter_arg.as_deref(), Some("-k {filter}"));
            assert_eq!(said, format!("test profiles for {marker} (python)"));
        }
    }

    /// The project's own Python runs its tests: its virtual environment's interpreter, else
    /// its lock file's runner; only without either the system python3, with a note to check it.
    #[test]
    fn pytest_runs_with_the_projects_own_python() {
        for (files, runner) in [
            (&[".venv/bin/python"][..], ".venv/bin/python -m pytest"),
            (&["venv/bin/python"][..], "venv/bin/python -m pytest"),
            (&["uv.lock"][..], "uv run python -m pytest"),
            (&["poetry.lock"][..], "poetry run python -m pytest"),
            // The environment there beats the lock file's runner.
            (
                &["uv.lock", ".venv/bin/python"][..],
                ".venv/bin/python -m pytest",
            ),
            // A venv directory without an interpreter is not one.
            (&["venv/README"][..], "python3 -m pytest"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("pyproject.toml"), "").unwrap();
            for file in files {
                let path = dir.path().join(file);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, "").unwrap();
            }
            let yaml = project_yaml(&find_stacks(dir.path()));
            std::fs::write(dir.path().join("sdd.yaml"), &yaml).unwrap();
            let file = sdd_spec::project::load_project_file(dir.path()).unwrap();
            assert_eq!(
                profile(&file, "python").command,
                format!("{runner} -v -ra -p no:cacheprovider"),
                "{files:?}"
            );
            assert_eq!(
                yaml.contains("system interpreter"),
                runner.starts_with("python3"),
                "{files:?}: {yaml}"
            );
        }
    }

    #[test]
    fn a_go_module_gets_go_test_json() {
        let (file, _, _) = init_with(&[("go.mod", "module example.com/x\n")]);
        let go = profile(&file, "go");
        assert_eq!(go.command, "go test -json ./...");
        assert_eq!(go.results.format, ResultsFormat::GoJson);
        assert!(go.results.path.is_none());
    }

    #[test]
    fn package_json_runs_its_jest_or_vitest_test_script_with_a_json_report() {
        let (file, yaml, said) = init_with(&[(
            "package.json",
            r#"{"scripts": {"test": "jest --coverage"}, "devDependencies": {"jest": "^30"}}"#,
        )]);
        let js = profile(&file, "js");
        assert_eq!(
            js.command,
            "mkdir -p .sdd && npm test -- --json --outputFile=.sdd/jest.json"
        );
        assert_eq!(js.results.format, ResultsFormat::JestJson);
        assert_eq!(js.results.path.as_deref(), Some(".sdd/jest.json"));
        assert!(
            said.contains("package.json's jest test script (js)"),
            "{said}"
        );
        assert!(yaml.contains("# from package.json's jest test script"));

        let (file, _, _) = init_with(&[("package.json", r#"{"scripts": {"test": "vitest run"}}"#)]);
        let js = profile(&file, "js");
        assert!(
            js.command
                .contains("npm test -- --run --reporter=json --outputFile=.sdd/vitest.json"),
            "{}",
            js.command
        );
        assert_eq!(js.results.path.as_deref(), Some(".sdd/vitest.json"));

        // npm's placeholder script, Jest among the dependencies: Jest itself.
        let (file, _, _) = init_with(&[(
            "package.json",
            r#"{"scripts": {"test": "echo \"Error: no test specified\" && exit 1"}, "devDependencies": {"jest": "^30"}}"#,
        )]);
        assert!(profile(&file, "js").command.contains("npx jest --json"));
    }

    #[test]
    fn a_runner_without_a_report_sdd_reads_is_named_not_dropped() {
        let (file, yaml, said) = init_with(&[
            ("package.json", r#"{"scripts": {"test": "mocha test/"}}"#),
            ("go.mod", "module x\n"),
        ]);
        assert_eq!(file.tests.keys().collect::<Vec<_>>(), ["go"]);
        assert!(
            said.contains("(`mocha test/`) runs neither Jest nor Vitest"),
            "{said}"
        );
        assert!(
            yaml.contains("# No test profile for package.json: its test script (`mocha test/`)"),
            "{yaml}"
        );
        let (file, yaml, said) = init_with(&[("package.json", "{ not json")]);
        assert!(file.tests.is_empty());
        assert!(said.contains("package.json is not valid JSON"), "{said}");
        assert!(yaml.contains("# No test runner recognised here"), "{yaml}");
    }

    #[test]
    fn no_stack_is_said_in_the_output_and_in_the_file() {
        let (file, yaml, said) = init_with(&[("README.md", "hello")]);
        assert!(file.tests.is_empty());
        assert!(!yaml.contains("tests: {}"), "{yaml}");
        assert!(
            yaml.contains("# No test runner recognised here (sdd init looked for Cargo.toml,"),
            "{yaml}"
        );
        assert!(yaml.lines().all(|l| l.len() <= 110), "{yaml}");
        assert!(
            said.starts_with("no test profile: found none of Cargo.toml,"),
            "{said}"
        );
    }

    #[test]
    fn every_stack_at_once_gets_one_profile_each() {
        let (file, _, said) = init_with(&[
            ("Cargo.toml", ""),
            ("pyproject.toml", ""),
            ("package.json", r#"{"scripts": {"test": "npx jest"}}"#),
            ("go.mod", ""),
        ]);
        assert_eq!(
            file.tests.keys().collect::<Vec<_>>(),
            ["go", "js", "python", "rust"]
        );
        assert!(
            said.starts_with("test profiles for Cargo.toml (rust), pyproject.toml (python)"),
            "{said}"
        );
    }
}
