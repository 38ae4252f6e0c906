//! Benchmark: a generated spec tree of 10,000 scenarios in 200 files — load, validate, conflicts,
//! coverage. Prints the median of several runs per phase (wall clock, this machine; not asserted).
//!
//! `cargo bench -p sdd-spec --bench spec_tree`. Set `SDD_BENCH_TREE=DIR` to write the tree to DIR
//! and keep it (scripts/bench-spec.sh does, to time a peer tool on the same files).

use std::path::Path;
use std::time::{Duration, Instant};

use sdd_spec::analysis::{conflicts, coverage, validate};

const FILES: usize = 200;
const SCENARIOS_PER_FILE: usize = 50;
const RUNS: usize = 7;

fn generate(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut system = String::from("system: Benchmark\ndomains:\n");
    for f in 0..FILES {
        let domain = format!("domain_{f:03}");
        let dep = if f > 0 {
            format!("[domain_{:03}]", f - 1)
        } else {
            "[]".into()
        };
        system.push_str(&format!("  - name: {domain}\n    dependencies: {dep}\n"));
        let mut text = format!(
            "# Generated benchmark feature {f}\nfeature: Feature {f}\ndomain: {domain}\ndescription: Generated\n\nconstraints:\n  performance:\n    - name: Read latency\n      requirement: p95 latency < {}ms for all read operations\n      measurement: Under load of {} requests/second\n  security:\n    - name: Auth\n      requirement: All endpoints require valid JWT token\n      exception: Health check endpoint\n    - name: Rate limiting\n      requirement: Max {} requests per minute per user\n  input:\n    - name: Title length\n      requirement: Title max 255 characters\n\nscenarios:\n",
            50 + f % 100,
            100 * (1 + f % 10),
            60 + f
        );
        for s in 0..SCENARIOS_PER_FILE {
            // The last scenario of each file shares its situation with the one before and expects
            // another status: one real contradiction per file for the conflict index to find.
            let situation = if s == SCENARIOS_PER_FILE - 1 {
                s - 1
            } else {
                s
            };
            let entity = ["task", "order", "invoice", "product", "user"][situation % 5];
            text.push_str(&format!(
                "  - name: Scenario {s} of feature {f}\n    given:\n      - A {entity} exists with status \"state-{situation}\"\n      - The user is authenticated\n    when: I update the {entity} number {situation} with title \"Title {situation}\"\n    then:\n      - The {entity} should have status \"state-{}\"\n      - The {entity} should have a updated_at timestamp\n      - I should see exactly {} {entity}s\n\n",
                s + 1,
                s % 7
            ));
        }
        std::fs::write(dir.join(format!("feature_{f:03}.yaml")), text).unwrap();
    }
    std::fs::write(dir.join("system.yaml"), system).unwrap();
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut samples = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = f();
        samples.push(start.elapsed());
        last = Some(out);
    }
    (median(samples), last.unwrap())
}

fn main() {
    let keep = std::env::var_os("SDD_BENCH_TREE");
    let temp = tempfile::tempdir().unwrap();
    let dir = keep
        .as_ref()
        .map(Path::new)
        .unwrap_or(temp.path())
        .to_path_buf();
    generate(&dir);

    let (load, loaded) = time(|| sdd_spec::load_dir(&dir).unwrap());
    let spec = &loaded.spec;
    assert_eq!(spec.scenarios.len(), FILES * SCENARIOS_PER_FILE);
    let (conflict_time, report) = time(|| conflicts::find_conflicts(spec));
    let (coverage_time, cov) = time(|| coverage::analyze_coverage(spec, None));
    let (validate_time, validation) = time(|| validate::validate(spec, &loaded.diagnostics));
    let (total, _) = time(|| {
        let loaded = sdd_spec::load_dir(&dir).unwrap();
        let v = validate::validate(&loaded.spec, &loaded.diagnostics);
        let c = coverage::analyze_coverage(&loaded.spec, None);
        (v.diagnostics.len(), c.len())
    });

    println!(
        "spec tree: {} files, {} scenarios, {} constraints",
        spec.files.len(),
        spec.scenarios.len(),
        spec.constraints.len()
    );
    println!("median of {RUNS} runs:");
    println!(
        "  load (parse + positions + model)      {:>8.1} ms",
        load.as_secs_f64() * 1e3
    );
    println!(
        "  conflicts                             {:>8.1} ms  ({} found)",
        conflict_time.as_secs_f64() * 1e3,
        report.conflicts.len()
    );
    println!(
        "  coverage (all domains)                {:>8.1} ms  ({} domains)",
        coverage_time.as_secs_f64() * 1e3,
        cov.len()
    );
    println!(
        "  validate (lints+graph+conflicts)      {:>8.1} ms  ({} diagnostics)",
        validate_time.as_secs_f64() * 1e3,
        validation.diagnostics.len()
    );
    println!(
        "  total: load + validate + coverage     {:>8.1} ms",
        total.as_secs_f64() * 1e3
    );
    // What a server pays: the cache asked again with nothing changed, and after one file changed
    // (a comment appended, as an editor's save would).
    let cache = sdd_spec::SpecCache::new(&dir);
    cache.load().unwrap();
    let (unchanged, _) = time(|| cache.load().unwrap());
    let file = dir.join("feature_100.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    let mut edits = 0;
    let (after_edit, _) = time(|| {
        edits += 1;
        std::fs::write(&file, format!("{original}# edit {edits}\n")).unwrap();
        cache.load().unwrap()
    });
    std::fs::write(&file, original).unwrap();
    println!(
        "  spec cache: nothing changed           {:>8.3} ms",
        unchanged.as_secs_f64() * 1e3
    );
    println!(
        "  spec cache: one file changed          {:>8.1} ms",
        after_edit.as_secs_f64() * 1e3
    );
    if let Some(dir) = keep {
        println!("tree kept in {}", Path::new(&dir).display());
    }
}
