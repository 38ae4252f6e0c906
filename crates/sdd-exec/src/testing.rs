//! Helpers for tests of this crate and of the crates built on it. Not part of the API.

/// Whether a process exists and is not a zombie.
pub fn process_alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.split(") ")
                .nth(1)
                .is_some_and(|rest| rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

/// The `sdd-supervise` binary for tests of crates other than this one (Cargo only tells a
/// package's own tests where its binaries are): beside the test executable's directory in the
/// same target directory, built with `cargo build -p sdd-exec` first when it is not there yet.
pub fn supervise_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test> → target/<profile>/sdd-supervise
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("a test executable lives in target/<profile>/deps");
    let binary = profile_dir.join("sdd-supervise");
    if !binary.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "-q", "-p", "sdd-exec", "--bin", "sdd-supervise"]);
        if profile_dir
            .file_name()
            .is_some_and(|name| name == "release")
        {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(
            status.success() && binary.exists(),
            "cannot build sdd-supervise into {}",
            profile_dir.display()
        );
    }
    binary
}
