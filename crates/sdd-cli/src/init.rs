//! `sdd init`: scaffold SDD into an existing project — `specs/` with a first (proposed)
//! scenario, an `sdd.yaml` whose test profiles match the stack found there, the MCP
//! registration in `.mcp.json` (merged with any servers already registered), and `.sdd/` in
//! `.gitignore`. Nothing that exists is overwritten.

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
        let (profiles, found) = test_profiles(&root);
        write_new(&project_file, &project_yaml(&profiles))?;
        done.push(format!("created sdd.yaml ({found})"));
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

/// Test profiles for the stacks found in `root`, and a phrase saying what was found.
fn test_profiles(root: &Path) -> (Vec<(String, String)>, String) {
    let mut profiles = Vec::new();
    let mut found = Vec::new();
    if root.join("Cargo.toml").exists() {
        profiles.push((
            "rust".into(),
            "    command: cargo test --no-fail-fast\n    filter_arg: \"{filter}\"\n    results: {format: libtest}\n".into(),
        ));
        found.push("Cargo.toml");
    }
    if [
        "pyproject.toml",
        "pytest.ini",
        "setup.py",
        "requirements.txt",
    ]
    .iter()
    .any(|f| root.join(f).exists())
    {
        profiles.push((
            "python".into(),
            "    command: python3 -m pytest -v -rA\n    filter_arg: \"-k {filter}\"\n    results: {format: pytest}\n".into(),
        ));
        found.push("a Python project");
    }
    if root.join("go.mod").exists() {
        profiles.push((
            "go".into(),
            "    command: go test -json ./...\n    results: {format: go_json}\n".into(),
        ));
        found.push("go.mod");
    }
    if root.join("package.json").exists() {
        profiles.push((
            "js".into(),
            "    command: npx jest --json --outputFile=.sdd/jest.json\n    results: {format: jest_json, path: .sdd/jest.json}\n".into(),
        ));
        found.push("package.json");
    }
    let found = if found.is_empty() {
        "no test runner recognised: fill in `tests:`".to_string()
    } else {
        format!("test profiles for {}", found.join(", "))
    };
    (profiles, found)
}

fn project_yaml(profiles: &[(String, String)]) -> String {
    let mut out = String::from(
        "# How SDD checks this project: where the specs are, how tests run, how the service starts.\n\
         specs: specs\n",
    );
    if profiles.is_empty() {
        out.push_str("tests: {}\n");
    } else {
        out.push_str("tests:\n");
        for (name, body) in profiles {
            out.push_str(&format!("  {name}:\n{body}"));
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
    ] {
        servers.insert(
            name.into(),
            json!({ "command": server_command(binary), "args": ["--project", "."] }),
        );
    }
    let text = serde_json::to_string_pretty(&config).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok("wrote   .mcp.json (sdd-specification, sdd-implementation)".into())
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
