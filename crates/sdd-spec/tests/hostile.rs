//! Hostile and careless input to the loaders: YAML alias amplification, oversized files and
//! values, FIFOs, symbolic-link loops and links out of the spec root, byte order marks, files
//! with only comments. Each test failed (or hung) before the fix it pins.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use sdd_spec::diagnostic::Diagnostic;
use sdd_spec::limits::Limits;
use sdd_spec::project::{load_project_file, load_project_file_with, parse_project_file};
use sdd_spec::{load_dir, load_dir_with, load_sources, Loaded, Severity};

/// One anchor of `n` items aliased `m` times: the shape that got past serde_yaml's own
/// repetition limit (28 KB took 9 s and 1.7 GB before the fix).
fn flat_attack(n: usize, m: usize) -> String {
    let mut s = String::from(
        "feature: Attack\nscenarios:\n  - name: A\n    when: w\n    then: t\n    given: &a [",
    );
    s.push_str(&vec!["x"; n].join(","));
    s.push_str("]\n  - name: B\n    when: w\n    then: t\n    tags: [");
    s.push_str(&vec!["*a"; m].join(","));
    s.push_str("]\n");
    s
}

/// The classic billion laughs: nine levels of ten aliases of the level below.
fn nested_attack() -> String {
    let mut s =
        String::from("feature: Laughs\nl0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
    for level in 1..9 {
        let below = vec![format!("*l{}", level - 1); 10].join(",");
        s.push_str(&format!("l{level}: &l{level} [{below}]\n"));
    }
    s
}

fn codes(diagnostics: &[Diagnostic]) -> Vec<&str> {
    diagnostics.iter().map(|d| d.code.as_str()).collect()
}

fn load_one(text: String) -> Loaded {
    load_sources(&[("attack.yaml".into(), text)])
}

/// Run `f` on another thread; fail (instead of hanging the suite) if it does not finish. A
/// thread still blocked on a FIFO is left behind; the test process exits anyway.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} did not finish within 20 s (blocked or endless)"))
}

#[test]
fn one_anchor_aliased_thousands_of_times_is_refused_at_the_alias() {
    let loaded = load_one(flat_attack(2000, 8000));
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "yaml-alias-expansion")
        .unwrap_or_else(|| panic!("{:?}", codes(&loaded.diagnostics)));
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.file.as_deref(), Some("attack.yaml"));
    // Line 10 holds the aliases (3 bytes each from column 12). 2,023 nodes come before them and
    // each copies 2,001: the 49th brings the total past 100,000.
    assert_eq!(d.line, Some(10));
    assert_eq!(d.column, Some(12 + 3 * 48));
    assert!(d.message.contains("100000 nodes"), "{}", d.message);
    assert!(d.help.as_deref().unwrap().contains("alias"), "{d}");
    assert!(
        loaded.spec.scenarios.is_empty(),
        "a refused file loads nothing"
    );
}

#[test]
fn billion_laughs_and_recursive_aliases_are_refused() {
    let loaded = load_one(nested_attack());
    assert_eq!(codes(&loaded.diagnostics), ["yaml-alias-expansion"]);
    assert_eq!(
        loaded.diagnostics[0].line,
        Some(6),
        "{}",
        loaded.diagnostics[0]
    );

    let loaded = load_one("feature: Loop\nx: &a [1, *a]\n".into());
    assert_eq!(codes(&loaded.diagnostics), ["yaml-recursive-alias"]);
    assert_eq!(loaded.diagnostics[0].line, Some(2));
}

#[test]
fn ordinary_aliases_still_load() {
    let text = "feature: Tasks\nscenarios:\n  - name: A\n    given: &g [a user, a task]\n    when: w\n    then: t\n  - name: B\n    given: *g\n    when: w2\n    then: t\n";
    let loaded = load_one(text.into());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    assert_eq!(loaded.spec.scenarios[1].given, ["a user", "a task"]);
}

/// Peak memory of the attack, measured in a child process running only this test, so that no
/// other test's memory counts. Before the fix the child peaked at 1.7 GB (release build).
#[test]
fn alias_attack_memory_stays_bounded() {
    const CHILD: &str = "SDD_HOSTILE_MEASURE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let _ = load_one(flat_attack(2000, 8000));
        let _ = parse_project_file(&project_attack(1000, 6000));
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let hwm = status.lines().find(|l| l.starts_with("VmHWM")).unwrap();
        println!("\nPEAK {}", hwm.split_whitespace().nth(1).unwrap());
        return;
    }
    if !Path::new("/proc/self/status").exists() {
        return; // not Linux: nothing to measure with
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "alias_attack_memory_stays_bounded",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let peak_kb: u64 = stdout
        .lines()
        .find_map(|l| l.split("PEAK ").nth(1))
        .unwrap_or_else(|| panic!("child said: {stdout}"))
        .parse()
        .unwrap();
    assert!(peak_kb < 100 * 1024, "peak {peak_kb} kB");
}

fn project_attack(n: usize, m: usize) -> String {
    let mut s = String::from(
        "tests:\n  u:\n    command: x\n    results: {format: junit}\nload:\n  endpoints:\n    r: &e [",
    );
    s.push_str(&vec!["{path: /}"; n].join(","));
    s.push_str("]\n");
    for i in 0..m {
        s.push_str(&format!("    k{i}: *e\n"));
    }
    s
}

#[test]
fn sdd_yaml_alias_attack_is_refused() {
    // 93 KB: 3.7 s and 1.0 GB on every call before the fix.
    let err = parse_project_file(&project_attack(1000, 6000)).unwrap_err();
    assert_eq!(err.code, "yaml-alias-expansion", "{err}");
    assert_eq!(err.file.as_deref(), Some("sdd.yaml"));
    // `r:` holds 3,001 nodes and 3,017 come before k0 (line 8); each `kN: *e` adds 3,002, so
    // k0 … k31 stay under 100,000 and k32 (line 40) crosses it.
    assert_eq!((err.line, err.column), (Some(40), Some(10)), "{err}");
}

#[test]
fn file_size_and_value_length_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    let big = format!("feature: Big\ndescription: \"{}\"\n", "x".repeat(70 * 1024));
    std::fs::write(specs.join("big.yaml"), &big).unwrap();
    std::fs::write(specs.join("ok.yaml"), "feature: Ok\n").unwrap();

    // Default limits: the file is under 4 MiB, its one value over 64 KiB.
    let loaded = load_dir(&specs).unwrap();
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "yaml-value-too-long")
        .unwrap_or_else(|| panic!("{:?}", codes(&loaded.diagnostics)));
    assert_eq!((d.line, d.column), (Some(2), Some(14)));
    assert_eq!(loaded.spec.files.len(), 1, "the other file still loads");

    // A smaller file limit: refused before it is read, and the diagnostic says how to raise it.
    let limits = Limits {
        max_file_bytes: 1024,
        ..Limits::default()
    };
    let loaded = load_dir_with(&specs, &limits).unwrap();
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "file-too-large")
        .unwrap_or_else(|| panic!("{:?}", codes(&loaded.diagnostics)));
    assert_eq!(d.file.as_deref(), Some("big.yaml"));
    assert!(
        d.help.as_deref().unwrap().contains("SDD_MAX_FILE_BYTES"),
        "{d}"
    );

    // Texts that do not come from disk (git revisions, proposals being checked) too.
    let loaded = sdd_spec::load::load_sources_with(&[("big.yaml".into(), big.clone())], &limits);
    assert_eq!(codes(&loaded.diagnostics), ["file-too-large"]);

    std::fs::write(dir.path().join("sdd.yaml"), &big).unwrap();
    let err = load_project_file_with(dir.path(), &limits).unwrap_err();
    assert_eq!(err.code, "file-too-large", "{err}");
    let err = load_project_file(dir.path()).unwrap_err();
    assert_eq!(err.code, "yaml-value-too-long", "{err}");
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

#[test]
fn a_fifo_is_skipped_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    std::fs::write(specs.join("tasks.yaml"), "feature: Tasks\n").unwrap();
    mkfifo(&specs.join("pipe.yaml"));
    let root = specs.clone();
    let loaded = within("loading a tree with a FIFO", move || {
        load_dir(&root).unwrap()
    });
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "not-a-regular-file")
        .unwrap_or_else(|| panic!("{:?}", codes(&loaded.diagnostics)));
    assert_eq!(d.file.as_deref(), Some("pipe.yaml"));
    assert!(d.message.contains("FIFO"), "{d}");
    assert_eq!(loaded.spec.files.len(), 1);

    mkfifo(&dir.path().join("sdd.yaml"));
    let root = dir.path().to_path_buf();
    let err = within("reading a FIFO sdd.yaml", move || {
        load_project_file(&root).unwrap_err()
    });
    assert_eq!(err.code, "not-a-regular-file", "{err}");
}

#[test]
fn symlink_loops_end_and_read_each_directory_once() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(specs.join("sub")).unwrap();
    std::fs::write(
        specs.join("sub/tasks.yaml"),
        "feature: Tasks\nscenarios:\n  - name: A\n    when: w\n    then: t\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(".", specs.join("a")).unwrap();
    std::os::unix::fs::symlink(".", specs.join("b")).unwrap();
    std::os::unix::fs::symlink("..", specs.join("sub/up")).unwrap();
    let root = specs.clone();
    let loaded = within("walking a tree with link loops", move || {
        load_dir(&root).unwrap()
    });
    assert_eq!(loaded.spec.scenarios.len(), 1, "{:?}", loaded.diagnostics);
    let mut loops: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "symlink-loop")
        .map(|d| d.file.clone().unwrap())
        .collect();
    loops.sort();
    assert_eq!(loops, ["a", "b", "sub/up"]);
    assert_eq!(sdd_spec::diagnostic::count_errors(&loaded.diagnostics), 0);
}

#[test]
fn links_out_of_the_root_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let secret = "feature: Secret\nscenarios:\n  - name: Leaked\n    when: w\n    then: t\n";
    std::fs::write(outside.join("secret.yaml"), secret).unwrap();
    std::fs::write(specs.join("inside.yaml"), "feature: Inside\n").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.yaml"), specs.join("file.yaml")).unwrap();
    std::os::unix::fs::symlink(&outside, specs.join("dir")).unwrap();
    // A link that stays inside the root is still followed.
    std::os::unix::fs::symlink("inside.yaml", specs.join("alias.yml")).unwrap();
    let loaded = load_dir(&specs).unwrap();
    assert!(
        loaded.spec.scenarios.is_empty(),
        "outside content must not be served: {:?}",
        loaded.spec.scenarios
    );
    let mut outside_links: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "symlink-outside-root")
        .map(|d| d.file.clone().unwrap())
        .collect();
    outside_links.sort();
    assert_eq!(outside_links, ["dir", "file.yaml"]);
    let paths: Vec<_> = loaded.spec.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["alias.yml", "inside.yaml"]);
}

#[test]
fn a_byte_order_mark_is_not_a_second_document() {
    let text = "\u{feff}feature: Tasks\nscenarios:\n  - name: A\n    when: w\n    then: t\n";
    let loaded = load_one(text.into());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    assert_eq!(loaded.spec.scenarios.len(), 1);
    // Columns count from the first real character.
    assert_eq!(loaded.spec.scenarios[0].location.line, 3);
    assert!(parse_project_file("\u{feff}tests: {}\n").is_ok());
}

#[test]
fn a_comment_only_file_is_an_empty_file_not_no_files() {
    use sdd_spec::analysis::validate::validate;
    let loaded = load_one("# scenarios for billing go here\n\n".into());
    assert_eq!(loaded.spec.files.len(), 1);
    assert_eq!(codes(&loaded.diagnostics), ["empty-file"]);
    assert_eq!(loaded.diagnostics[0].severity, Severity::Warning);
    let report = validate(&loaded.spec, &loaded.diagnostics);
    assert!(
        !report.diagnostics.iter().any(|d| d.code == "empty-spec"),
        "{:?}",
        report.diagnostics
    );
    // With no files at all it is still said.
    let nothing = load_sources(&[]);
    let report = validate(&nothing.spec, &nothing.diagnostics);
    assert!(report.diagnostics.iter().any(|d| d.code == "empty-spec"));
}

#[test]
fn a_structured_check_with_an_impossible_number_is_not_checkable() {
    let text = "feature: Api\nconstraints:\n  performance:\n    - name: Bad percentile\n      check: {kind: latency, percentile: 101, max_ms: 100}\n    - name: Negative bound\n      check: {kind: latency, percentile: 95, max_ms: -5}\n    - name: Fine\n      check: {kind: latency, percentile: 95, max_ms: 100}\n";
    let loaded = load_one(text.into());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let reasons: Vec<Option<String>> = loaded
        .spec
        .constraints
        .iter()
        .map(|c| c.parsed.not_checkable.as_ref().map(|n| n.reason.clone()))
        .collect();
    assert!(
        reasons[0].as_deref().unwrap().contains("outside (0, 100]"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].as_deref().unwrap().contains("above zero"),
        "{reasons:?}"
    );
    assert_eq!(reasons[2], None);
    assert!(loaded.spec.constraints[0].parsed.checks.is_empty());
}

/// serde_yaml's parser takes quadratic time on deeply nested flow collections (100,000 `[`:
/// 39 s in a release build; 1,000,000 fit in a 2 MB file), and builds events for a whole deep
/// block nest before refusing it (90,000 `- `: 128 MB). A flow nest stops the event parser
/// (its scanner looks ahead to nesting level 256), a block nest is refused at depth 128 (the
/// depth serde_yaml refuses anyway); either way serde_yaml never sees the text.
#[test]
fn deep_nesting_is_refused_before_the_quadratic_parse() {
    let n = 200_000;
    let text = format!("feature: X\nd: {}{}\n", "[".repeat(n), "]".repeat(n));
    let loaded = within("loading a deeply nested file", move || load_one(text));
    assert_eq!(codes(&loaded.diagnostics), ["yaml-syntax"]);
    let d = &loaded.diagnostics[0];
    assert!(d.message.contains("recursion limit"), "{d}");
    assert!(d.help.as_deref().unwrap().contains("nest fewer"), "{d}");

    let loaded = load_one(format!("feature: X\nd:\n{}x\n", "- ".repeat(90_000)));
    assert_eq!(codes(&loaded.diagnostics), ["yaml-too-deep"]);
    // The root mapping is level 1, so the 128th `- ` (column 255) opens level 129.
    let d = &loaded.diagnostics[0];
    assert_eq!((d.line, d.column), (Some(3), Some(255)), "{d}");

    let text = format!("tests: {}{}\n", "{a: ".repeat(n), "}".repeat(n));
    let err = within("reading a deeply nested sdd.yaml", move || {
        parse_project_file(&text).unwrap_err()
    });
    // Flow mappings reach the parser's events level by level, so the depth limit refuses them.
    assert_eq!(err.code, "yaml-too-deep", "{err}");
    let err = parse_project_file(&format!("tests:\n{}x\n", "- ".repeat(90_000))).unwrap_err();
    assert_eq!(err.code, "yaml-too-deep", "{err}");

    // 127 levels under the root still load.
    let ok = format!("feature: X\nd: {}{}\n", "[".repeat(127), "]".repeat(127));
    let loaded = load_one(ok);
    assert_eq!(codes(&loaded.diagnostics), ["unknown-key"]);
}

/// A diagnostic names the long key or value; it does not echo 64 KiB of it back (in every
/// message, to every client, on every call).
#[test]
fn diagnostics_do_not_echo_long_input() {
    let long = "k".repeat(60 * 1024);
    let text = format!(
        "feature: X\n? {long}\n: 1\nscenarios:\n  - name: A\n    when: w\n    then: t\n    ? {long}\n    : 2\n    tags: \"{long}\"\n"
    );
    let loaded = load_one(text);
    assert!(
        loaded.diagnostics.len() >= 2,
        "{:?}",
        codes(&loaded.diagnostics)
    );
    for d in &loaded.diagnostics {
        let size = d.message.len() + d.path.as_ref().map_or(0, String::len);
        assert!(size < 2000, "{} bytes in {}", size, d.code);
    }
    let err = parse_project_file(&format!("tests:\n  u:\n    ? {long}\n    : x\n")).unwrap_err();
    assert!(err.message.len() < 2000, "{} bytes", err.message.len());
}

/// The spec root may itself be reached through a link (a checkout under a linked directory):
/// "inside" is decided on resolved paths, so nothing in it is mistaken for outside.
#[test]
fn a_linked_spec_root_loads_normally() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir_all(real.join("sub")).unwrap();
    std::fs::write(
        real.join("sub/tasks.yaml"),
        "feature: Tasks\nscenarios:\n  - name: A\n    when: w\n    then: t\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("sub", real.join("linked")).unwrap();
    let root = dir.path().join("specs");
    std::os::unix::fs::symlink(&real, &root).unwrap();
    let loaded = load_dir(&root).unwrap();
    assert_eq!(loaded.spec.scenarios.len(), 1, "{:?}", loaded.diagnostics);
    assert_eq!(loaded.spec.files[0].path, "sub/tasks.yaml");
    assert_eq!(
        codes(&loaded.diagnostics),
        ["symlink-loop"],
        "`linked` is `sub` again"
    );
}

/// saphyr-parser (which measures) reads `*x:` as the alias `x:`; libyaml (which serde_yaml
/// expands with) reads the alias `x` then `:`. Counted as a copy of the empty `&x:` node, each
/// `[*x:]` was expanded as the 2,000-item list. Names other than `[A-Za-z0-9_-]` are refused.
#[test]
fn anchor_names_the_two_parsers_read_differently_are_refused() {
    let mut text = String::from("feature: X\na: [&x:]\nb: &x [");
    text.push_str(&vec!["x"; 2000].join(","));
    text.push_str("]\nc: [");
    text.push_str(&vec!["[*x:]"; 200].join(","));
    text.push_str("]\n");
    let loaded = load_one(text);
    assert_eq!(codes(&loaded.diagnostics), ["yaml-anchor-name"]);
    assert_eq!(loaded.diagnostics[0].line, Some(2));
    // Plain names, an alias as a key with a space, tags before anchors: all still fine.
    let ok = "feature: X\nscenarios:\n  - name: A\n    given: !!seq &given-1_b [a, b]\n    when: w\n    then: t\n  - name: B\n    given: *given-1_b\n    when: w\n    then: t\n";
    let loaded = load_one(ok.into());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    assert_eq!(loaded.spec.scenarios[1].given, ["a", "b"]);
}

/// Two links into the same hidden directory, one to its parent: whichever is read first, the
/// files are read once (no duplicate-ID errors), and the walk of deep trees is not recursive.
#[test]
fn links_into_one_directory_read_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(specs.join(".v2/sub")).unwrap();
    std::fs::write(
        specs.join(".v2/sub/tasks.yaml"),
        "feature: Tasks\nscenarios:\n  - name: A\n    when: w\n    then: t\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(".v2/sub", specs.join("a")).unwrap();
    std::os::unix::fs::symlink(".v2", specs.join("b")).unwrap();
    let mut deep = specs.join("deep");
    for _ in 0..300 {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("x.yaml"), "feature: Deep\n").unwrap();
    let loaded = load_dir(&specs).unwrap();
    assert_eq!(loaded.spec.scenarios.len(), 1, "{:?}", loaded.diagnostics);
    assert_eq!(sdd_spec::diagnostic::count_errors(&loaded.diagnostics), 0);
    assert_eq!(loaded.spec.files.len(), 2);
}

fn load_feature(text: String, max_file_bytes: u64) -> Loaded {
    let limits = Limits {
        max_file_bytes,
        ..Limits::default()
    };
    sdd_spec::load::load_sources_with(&[("attack.feature".into(), text)], &limits)
}

/// A `.feature` file's model may outgrow the file: its Background is repeated in every
/// scenario, its outlines written out once per Examples row. Past the file limit beyond the
/// file's own size, the file is refused where the budget ran out, as a YAML alias is.
#[test]
fn a_feature_file_that_expands_past_the_limit_is_refused() {
    let background = format!(
        "Feature: F\n  Background:\n    Given {}\n",
        "b".repeat(10_000)
    );
    let scenarios = "  Scenario: S\n    When w\n".repeat(200);
    let placeholders = "<v>".repeat(2_000);
    let outline = format!(
        "Feature: F\n  Scenario Outline: O\n    When {placeholders}\n    Examples:\n      | v |\n{}",
        format!("      | {} |\n", "x".repeat(1_000)).repeat(3)
    );
    for (label, text) in [
        ("background", background + &scenarios),
        ("outline", outline),
    ] {
        let loaded = within(label, move || load_feature(text, 100_000));
        assert_eq!(
            codes(&loaded.diagnostics),
            ["expansion-too-large"],
            "{label}"
        );
        assert!(loaded.spec.scenarios.is_empty(), "{label}");
        assert!(loaded.diagnostics[0].line.is_some(), "{label}");
    }
    // The same shapes, small, load.
    let small = "Feature: F\n  Background:\n    Given b\n  Scenario: S\n    When w\n".to_string();
    assert!(load_feature(small, 100_000).diagnostics.is_empty());
}

/// Shapes that are quadratic to read naively: thousands of tags on one line (each looked up
/// in the line), thousands of placeholders against thousands of Examples columns, a file near
/// the line limit. Each loads in bounded time, with at most one warning about its tags.
#[test]
fn feature_files_that_are_quadratic_to_read_naively_load_in_time() {
    let tags: String = (0..100_000)
        .map(|i| format!("@fingerprint:{i} @label{i} @id:x "))
        .collect();
    let many_tags = format!("Feature: F\n  {tags}\n  Scenario: S\n    When w\n");
    let columns = 3_000;
    let header: String = (0..columns).map(|i| format!(" c{i} |")).collect();
    let row: String = (0..columns).map(|_| " v |").collect();
    let placeholders: String = (0..columns).map(|i| format!("<c{i}> <")).collect();
    let wide_outline = format!(
        "Feature: F\n  Scenario Outline: O\n    When {placeholders}\n    Examples:\n      |{header}\n{}",
        format!("      |{row}\n").repeat(5)
    );
    let near_the_line_limit = format!(
        "Feature: F\n{}",
        "  Scenario: S\n    When w\n".repeat(sdd_spec::gherkin::MAX_FEATURE_LINES / 2 - 1)
    );
    for (label, text) in [
        ("many tags", many_tags),
        ("wide outline", wide_outline),
        ("near the line limit", near_the_line_limit),
    ] {
        let loaded = within(label, move || load_feature(text, 4 * 1024 * 1024));
        assert!(
            loaded
                .diagnostics
                .iter()
                .all(|d| d.severity != Severity::Error || d.code == "duplicate-id"),
            "{label}: {:?}",
            codes(&loaded.diagnostics)
        );
        assert!(
            loaded
                .diagnostics
                .iter()
                .filter(|d| d.code.ends_with("-tag"))
                .count()
                <= 1,
            "{label}"
        );
        assert!(!loaded.spec.scenarios.is_empty(), "{label}");
    }
}
