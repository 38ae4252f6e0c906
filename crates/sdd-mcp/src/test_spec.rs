//! A large generated spec tree for the servers' answer-size tests (feature `test-client`):
//! 10,000 scenarios in 200 feature files of 50, across 10 areas of 20 domains, written the way
//! people write them — Given / When / Then lists, executable examples on some, a tenth
//! `proposed` by the agent, the usual edge cases in most domains but not all, constraints per
//! domain (some checkable, one vague), a contradiction and some vague wording per file, a system
//! file with dependencies and global constraints, and interactions — so that every tool of the
//! servers has something to say about it.

use std::fmt::Write as _;
use std::path::Path;

/// Feature files (one domain each).
pub const FILES: usize = 200;
/// Scenarios per feature file.
pub const SCENARIOS_PER_FILE: usize = 50;
/// Interaction files.
pub const INTERACTIONS: usize = 20;

const AREAS: [&str; 10] = [
    "billing",
    "catalog",
    "fulfilment",
    "identity",
    "inventory",
    "marketing",
    "orders",
    "payments",
    "support",
    "analytics",
];

/// Plural (in domain names) and singular (in sentences).
const ENTITIES: [(&str, &str); 20] = [
    ("accounts", "account"),
    ("invoices", "invoice"),
    ("orders", "order"),
    ("products", "product"),
    ("carts", "cart"),
    ("payments", "payment"),
    ("refunds", "refund"),
    ("shipments", "shipment"),
    ("users", "member"),
    ("sessions", "session"),
    ("tickets", "ticket"),
    ("reports", "report"),
    ("coupons", "coupon"),
    ("reviews", "review"),
    ("wishlists", "wishlist"),
    ("subscriptions", "plan"),
    ("addresses", "address"),
    ("returns", "return"),
    ("quotes", "quote"),
    ("messages", "message"),
];

/// The domain of feature file `f` (0..[`FILES`]).
pub fn domain_name(f: usize) -> String {
    format!(
        "{}_{}",
        AREAS[f / ENTITIES.len()],
        ENTITIES[f % ENTITIES.len()].0
    )
}

/// The path of feature file `f`, relative to the spec root.
pub fn feature_path(f: usize) -> String {
    format!(
        "features/{}/{}.yaml",
        AREAS[f / ENTITIES.len()],
        ENTITIES[f % ENTITIES.len()].0
    )
}

/// Write the whole tree under `dir` (created if missing).
pub fn write_large_spec(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("interactions"))?;
    std::fs::write(dir.join("system.yaml"), system())?;
    for f in 0..FILES {
        let path = dir.join(feature_path(f));
        std::fs::create_dir_all(path.parent().expect("a parent"))?;
        std::fs::write(path, feature(f))?;
    }
    for i in 0..INTERACTIONS {
        std::fs::write(
            dir.join(format!("interactions/flow_{i:02}.yaml")),
            interaction(i),
        )?;
    }
    Ok(())
}

fn system() -> String {
    let mut text = String::from(
        "# Generated: the system file of the answer-size test spec.\nsystem: Generated Commerce Platform\ndescription: A multi-area commerce platform, generated to measure answer sizes\n\ndomains:\n",
    );
    for f in 0..FILES {
        let mut deps = Vec::new();
        if f % ENTITIES.len() > 0 {
            deps.push(domain_name(f - 1));
        }
        if f >= ENTITIES.len() {
            deps.push(domain_name(f - ENTITIES.len()));
        }
        if f % 50 == 49 {
            // A reference to a domain nobody declares.
            deps.push(format!("legacy_{}", AREAS[f / ENTITIES.len()]));
        }
        let (_, one) = ENTITIES[f % ENTITIES.len()];
        let _ = write!(
            text,
            "  - name: {}\n    description: Everything about {one}s in {}\n    dependencies: [{}]\n",
            domain_name(f),
            AREAS[f / ENTITIES.len()],
            deps.join(", ")
        );
    }
    text.push_str(
        "\nglobal_constraints:\n  security:\n    - name: Tenant isolation\n      requirement: No tenant can access another tenant's data\n    - name: Transport security\n      requirement: All traffic uses TLS 1.2 or later\n  reliability:\n    - name: Platform availability\n      requirement: 99.95% availability\n",
    );
    text
}

fn interaction(i: usize) -> String {
    let participants: Vec<String> = (0..4)
        .map(|k| domain_name((i * 9 + k * 7) % FILES))
        .collect();
    let mut text = format!(
        "# Generated interaction {i}.\ninteraction: flow_{i:02}\ndescription: A cross-domain flow of the generated platform\n\nparticipants:\n"
    );
    for p in &participants {
        let _ = writeln!(text, "  - {p}");
    }
    text.push_str("\nflow:\n  - name: Main path\n    steps:\n");
    for (k, p) in participants.iter().enumerate() {
        let _ = writeln!(text, "      {}: {p} handles its part of the request", k + 1);
    }
    let _ = write!(
        text,
        "    failure_handling:\n      - name: A later step fails\n        rollback: Undo what {} did within 30 seconds\n\nconstraints:\n  - name: End-to-end latency\n    requirement: p99 latency < {}ms for all operations\n    measurement: Under load of 50 requests/second\n  - name: Flow timeout\n    requirement: Entire flow completes or fails within 30 seconds\n  - name: Single outcome\n    requirement: Submitting the same request twice results in a single outcome\n",
        participants[0],
        400 + 10 * i
    );
    text
}

fn feature(f: usize) -> String {
    let domain = domain_name(f);
    let (many, one) = ENTITIES[f % ENTITIES.len()];
    let mut text = format!(
        "# yaml-language-server: $schema=../../sdd-spec.schema.json\n# Generated feature {f}: {many} of {area}.\nfeature: {Many} of {area}\ndomain: {domain}\ndescription: Creating, reading, changing and removing {many} in {area}\n\nconstraints:\n  performance:\n    - name: Read latency\n      requirement: p95 latency < {read}ms for all read operations\n      measurement: Under load of {rate} requests/second\n    - name: Write latency\n      requirement: p99 latency < {write}ms for create/update operations\n      measurement: Under load of {wrate} requests/second\n  security:\n    - name: Authentication required\n      requirement: All endpoints require valid JWT token\n      exception: Health check endpoint\n    - name: Rate limiting\n      requirement: Max {limit} requests per minute per user\n    - name: Injection\n      requirement: All user inputs must be parameterized\n    - name: Ownership\n      requirement: Users can only access their own {many}\n  input:\n    - name: Title length\n      requirement: Title max {max} characters\n  reliability:\n    - name: Availability\n      requirement: 99.9% availability\n    - name: Pleasant experience\n      requirement: The {one} pages should feel fast and easy to use\n\nscenarios:\n",
        area = AREAS[f / ENTITIES.len()],
        Many = capitalised(many),
        read = 50 + f % 100,
        rate = 100 * (1 + f % 10),
        write = 150 + f % 100,
        wrate = 10 * (1 + f % 10),
        limit = 60 + f,
        max = 100 + 5 * (f % 40),
    );
    for s in 0..SCENARIOS_PER_FILE {
        scenario(&mut text, f, s, one);
    }
    text
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One scenario: which kind of behaviour depends on `s`; which edge-case classes a domain
/// leaves out depends on `f`, so coverage differs from domain to domain.
fn scenario(text: &mut String, f: usize, s: usize, e: &str) {
    let k = s / 10;
    let title = format!("Quarterly {e} {s}");
    let (name, given, when, then): (String, Vec<String>, String, Vec<String>) = match s % 10 {
        0 => (
            format!("Create a {e} with title variant {k}"),
            vec![
                "I am authenticated as a regular user".into(),
                format!("No {e} with title \"{title}\" exists"),
            ],
            format!("I create a {e} with title \"{title}\""),
            vec![
                format!("A {e} should exist with title \"{title}\""),
                format!("The {e} should have status \"draft\""),
                format!("The {e} should have a unique ID and a created_at timestamp"),
            ],
        ),
        1 => (
            format!("Read a {e} by its ID, case {k}"),
            vec![format!("A {e} exists with title \"{title}\"")],
            format!("I request the {e} by its ID"),
            vec![
                format!("I should receive the {e} with title \"{title}\""),
                "The response should include its status and timestamps".into(),
            ],
        ),
        2 => (
            format!("Update the title of a {e}, case {k}"),
            vec![format!(
                "A {e} exists with status \"draft\" and version {k}"
            )],
            format!("I change the {e}'s title to \"{title} (renamed)\""),
            vec![
                format!("The {e} should have title \"{title} (renamed)\""),
                format!("The {e}'s version should be {}", k + 1),
                format!("The {e} should have an updated_at timestamp later than before"),
            ],
        ),
        3 => (
            format!("List {e}s filtered by status, page size {}", 10 * (k + 1)),
            vec![format!(
                "{} {e}s exist, half of them with status \"active\"",
                20 * (k + 1)
            )],
            format!(
                "I list {e}s with status \"active\" and page size {}",
                10 * (k + 1)
            ),
            vec![
                format!("I should receive exactly {} {e}s", 10 * (k + 1)),
                "Every listed item should have status \"active\"".into(),
                "The response should include the link to the next page".into(),
            ],
        ),
        4 => (
            format!("Archive a {e}, case {k}"),
            vec![format!(
                "An active {e} titled \"{title}\" exists that nothing refers to"
            )],
            format!("I archive the {e} titled \"{title}\""),
            vec![
                format!("The {e} should have status \"archived\""),
                format!("The {e} should no longer appear in the default listing"),
            ],
        ),
        5 => edge_case(f, s, e, k),
        6 => edge_case(f, s + 13, e, k),
        7 => (
            format!("Export {e}s as CSV, batch {k}"),
            vec![format!("{} {e}s exist", 100 * (k + 1))],
            format!("I export the {e}s as CSV"),
            vec![
                format!(
                    "The file should have {} rows and a header row",
                    100 * (k + 1)
                ),
                "Every row should carry the ID, title and status columns".into(),
            ],
        ),
        8 if k == 4 => (
            // The same situation as scenario 1 of this file with another outcome: one
            // contradiction per file for validation to find.
            format!("Read a {e} by its ID, stale copy {k}"),
            vec![format!("A {e} exists with title \"Quarterly {e} 1\"")],
            format!("I request the {e} by its ID"),
            vec![format!("I should receive an error \"404 Not Found\"")],
        ),
        8 => (
            format!("Search {e}s by keyword, case {k}"),
            vec![format!(
                "A {e} titled \"{title}\" and one titled \"Other {s}\" exist"
            )],
            format!("I search {e}s for \"{title}\""),
            vec![
                format!("I should receive exactly 1 {e}"),
                format!("It should be the {e} titled \"{title}\""),
            ],
        ),
        _ => (
            format!("Show a {e} summary, case {k}"),
            vec![format!("A {e} exists with 3 notes")],
            format!("I open the {e} summary for week {k}"),
            vec![if k == 2 {
                // Vague wording, for the lints.
                "The summary should load quickly and look nice".to_string()
            } else {
                "The summary should show the title, status and the count 3 of notes".to_string()
            }],
        ),
    };
    let _ = writeln!(text, "  - name: {}", yaml_str(&name));
    if s % 10 == 9 && s / 10 == 3 {
        // A few explicit IDs.
        let _ = writeln!(text, "    id: {}.summary_pinned_{s}", domain_name(f));
    }
    if s % 10 == 7 {
        text.push_str(
            "    status: proposed\n    proposed_by: agent\n    rationale: Exports are how finance reconciles; nothing describes their shape yet.\n",
        );
    }
    if s % 17 == 3 {
        text.push_str("    tags: [smoke, generated]\n");
    }
    text.push_str("    given:\n");
    for g in &given {
        let _ = writeln!(text, "      - {}", yaml_str(g));
    }
    let _ = writeln!(text, "    when: {}", yaml_str(&when));
    text.push_str("    then:\n");
    for t in &then {
        let _ = writeln!(text, "      - {}", yaml_str(t));
    }
    if s.is_multiple_of(10) || (s % 10 == 2 && k.is_multiple_of(2)) {
        let path = format!("/{}s", e);
        let _ = write!(
            text,
            "    examples:\n      - name: create and read back\n        steps:\n          - request: {{method: POST, path: {path}, json: {{title: {title:?}, status: draft}}}}\n            expect: {{status: 201, json: {{title: {title:?}}}}}\n            capture: {{id: id}}\n          - request: {{path: \"{path}/${{id}}\"}}\n            expect: {{status: 200, json: {{title: {title:?}, status: draft}}}}\n",
        );
    }
    text.push('\n');
}

/// An edge-case scenario; domain `f` leaves out the classes whose number is `f % 8` and
/// `(f / 8) % 8` (they get an ordinary scenario instead), and every tenth domain covers none of
/// its rare classes.
fn edge_case(
    f: usize,
    salt: usize,
    e: &str,
    k: usize,
) -> (String, Vec<String>, String, Vec<String>) {
    let class = (salt + k + f) % 8;
    let left_out = class == f % 8 || class == (f / 8) % 8 || (f.is_multiple_of(10) && class >= 3);
    if left_out {
        return (
            format!("Rename a {e} label, case {salt}-{k}"),
            vec![format!("A {e} has the label \"blue {salt}\"")],
            format!("I rename the label \"blue {salt}\" to \"green {k}\""),
            vec![format!("The {e} should have the label \"green {k}\"")],
        );
    }
    let v = format!("{salt}-{k}");
    match class {
        0 => (
            format!("Reject a {e} without a title, case {v}"),
            vec!["I am authenticated as a regular user".into()],
            format!("I create a {e} without a title in batch {v}"),
            vec![
                "I should receive an error \"Title is required\"".into(),
                format!("No {e} should be created"),
            ],
        ),
        1 => (
            format!("Refuse {e}s to a request without a token, case {v}"),
            vec![format!("A {e} exists")],
            format!("I request the {e} number {v} without an authentication token"),
            vec![
                "I should receive an error \"401 Unauthorized\"".into(),
                format!("No {e} data should be returned"),
            ],
        ),
        2 => (
            format!("Refuse an overlong {e} title, case {v}"),
            vec!["I am authenticated as a regular user".into()],
            format!("I create a {e} with a title of {} characters", 10_000 + k),
            vec![
                "I should receive an error \"Title too long\"".into(),
                format!("No {e} should be created"),
            ],
        ),
        3 => (
            format!("Concurrent changes to one {e}, case {v}"),
            vec![
                format!("A {e} exists with version {k}"),
                "Two users edit it simultaneously".into(),
            ],
            format!("Both users save the {e} {v} at the same time"),
            vec![
                "Exactly one save should succeed".into(),
                "The other should receive an error \"409 Conflict\"".into(),
            ],
        ),
        4 => (
            format!("Submitting a {e} twice creates one, case {v}"),
            vec!["I submitted a request with idempotency key \"k-1\"".into()],
            format!("I send the same request again with idempotency key \"k-{v}\""),
            vec![
                format!("Exactly one {e} should exist"),
                "The second answer should equal the first".into(),
            ],
        ),
        5 => (
            format!("Store a {e} title with SQL in it verbatim, case {v}"),
            vec!["I am authenticated as a regular user".into()],
            format!("I create a {e} with title \"'; DROP TABLE {e}s; -- {v}\""),
            vec![
                format!("A {e} should exist with that exact title"),
                "No injection should reach the database".into(),
            ],
        ),
        6 => (
            format!("Read a {e} that does not exist, case {v}"),
            vec![format!("No {e} has the ID 999{k}")],
            format!("I request the {e} with ID 999{k} ({v})"),
            vec!["I should receive an error \"404 Not Found\"".into()],
        ),
        _ => (
            format!("Throttle {e} requests over the limit, case {v}"),
            vec![format!("I sent {} requests in the last minute", 100 + k)],
            format!("I request the {e} list once more ({v})"),
            vec!["I should receive an error \"429 Too Many Requests\"".into()],
        ),
    }
}

/// A YAML double-quoted scalar.
fn yaml_str(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_generated_tree_loads_without_errors() {
        let dir = tempfile_dir();
        super::write_large_spec(&dir).unwrap();
        let loaded = sdd_spec::load_dir(&dir).unwrap();
        let errors: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == sdd_spec::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(
            loaded.spec.scenarios.len(),
            super::FILES * super::SCENARIOS_PER_FILE
        );
        // What validation finds: the planted contradiction and vague wording of each file, and
        // not many more.
        let report = sdd_spec::analysis::validate::validate(&loaded.spec, &loaded.diagnostics);
        let mut codes: std::collections::BTreeMap<&str, usize> = Default::default();
        for d in &report.diagnostics {
            *codes.entry(d.code.as_str()).or_default() += 1;
        }
        assert_eq!(
            codes.get("contradicting-outcomes"),
            Some(&super::FILES),
            "{codes:?}"
        );
        assert!(
            codes.get("vague-wording") >= Some(&super::FILES),
            "{codes:?}"
        );
        assert!(report.diagnostics.len() < 2_000, "{codes:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("sdd-large-spec-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }
}
