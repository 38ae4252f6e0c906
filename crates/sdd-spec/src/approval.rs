//! Approval fingerprints: what exactly a person approved.
//!
//! `sdd review` records, beside `reviewed_by` and `reviewed_at`, a hash of the scenario's
//! behaviour (given, when, then, examples). The loader recomputes it; a scenario whose behaviour
//! changed after approval is *changed since approval* and no longer counts as approved. That is
//! what makes an agent that quietly weakens an approved scenario (to make its test pass) visible.
//! The scenario's ID is part of it: tests and examples are mapped by ID, so two approved
//! scenarios that swap names (and so derived IDs) are both changed. Tags, rationale and
//! formatting are not behaviour: changing them keeps the approval.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::document::ExampleDoc;

/// Prefix of every fingerprint, naming the hash so it can change later without ambiguity.
pub const PREFIX: &str = "sha256:";

/// The fingerprint of a loaded scenario (what `sdd review` records and shows).
pub fn scenario_fingerprint(scenario: &crate::model::Scenario) -> String {
    behaviour_fingerprint(
        &scenario.id,
        &scenario.given,
        scenario.when.as_deref(),
        &scenario.then,
        &scenario.examples,
    )
}

/// The fingerprint of a scenario's behaviour: `sha256:<hex>` over a canonical JSON form
/// (object keys sorted), so a re-ordered or re-quoted YAML file keeps its fingerprint and
/// `then: x` equals `then: [x]`.
pub fn behaviour_fingerprint(
    id: &str,
    given: &[String],
    when: Option<&str>,
    then: &[String],
    examples: &[ExampleDoc],
) -> String {
    let behaviour = serde_json::json!({
        "id": id,
        "given": given,
        "when": when,
        "then": then,
        "examples": examples,
    });
    let canonical = canonical_json(&behaviour);
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{hex}")
}

/// JSON text with object keys in sorted order, whatever order the map kept.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(k).unwrap_or_default(),
                        canonical_json(&map[k])
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(given: &[&str], when: Option<&str>, then: &[&str]) -> String {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        behaviour_fingerprint("t.a", &s(given), when, &s(then), &[])
    }

    #[test]
    fn behaviour_changes_change_the_fingerprint_and_nothing_else_does() {
        let base = fp(&["a user"], Some("they act"), &["it fails with 400"]);
        assert!(base.starts_with(PREFIX) && base.len() == PREFIX.len() + 64);
        assert_eq!(
            base,
            fp(&["a user"], Some("they act"), &["it fails with 400"])
        );
        let table = [
            fp(&["a user"], Some("they act"), &["it fails"]),
            fp(&["a user"], Some("they act"), &[]),
            fp(&["a user"], Some("they act"), &["it fails with 400", "x"]),
            fp(&[], Some("they act"), &["it fails with 400"]),
            fp(&["a user"], None, &["it fails with 400"]),
            fp(&["a user"], Some("they act "), &["it fails with 400"]),
        ];
        for changed in table {
            assert_ne!(changed, base);
        }
    }

    #[test]
    fn examples_are_behaviour() {
        let example: ExampleDoc = serde_yaml::from_str(
            "steps:\n  - request: {method: GET, path: /x}\n    expect: {status: 200}\n",
        )
        .unwrap();
        let weaker: ExampleDoc = serde_yaml::from_str(
            "steps:\n  - request: {method: GET, path: /x}\n    expect: {status: 500}\n",
        )
        .unwrap();
        let fp =
            |examples: &[ExampleDoc]| behaviour_fingerprint("t.a", &[], Some("w"), &[], examples);
        let with = fp(std::slice::from_ref(&example));
        assert_ne!(with, fp(&[]));
        assert_ne!(with, fp(&[weaker]));
        // The same behaviour under another ID is another approval.
        assert_ne!(
            with,
            behaviour_fingerprint("t.b", &[], Some("w"), &[], std::slice::from_ref(&example))
        );
    }

    #[test]
    fn key_order_does_not_matter() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[1,{"y":2,"x":1}],"c":2}}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":{"c":2,"d":[1,{"x":1,"y":2}]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }
}
