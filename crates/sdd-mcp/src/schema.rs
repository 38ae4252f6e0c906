//! Tool schemas as every client accepts them.
//!
//! schemars writes what JSON Schema allows but several MCP clients reject or warn about:
//! - an optional field as `"type": ["string", "null"]`. In an *input* an absent field already
//!   means "unset", so optional properties are published with their plain type (clients that
//!   still send `null` are accepted: the Rust side is an `Option`). In an *output* a `null` may
//!   really be sent, so the union becomes `anyOf: [{…}, {"type": "null"}]`;
//! - its own `format`s (`uint`, `uint64`, `double`, …), which validators warn about one line
//!   each: dropped (the `minimum` schemars writes beside them says "unsigned");
//! - `true` (any value) for a `serde_json::Value` field, which some clients reject as "not a
//!   type": an `anyOf` of every JSON type instead.
//!
//! [`schema_problems`] is the check the servers' schema tests run over every published tool.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use serde_json::{json, Map, Value};

/// The `format` values of JSON Schema 2020-12 itself.
const STANDARD_FORMATS: [&str; 18] = [
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "regex",
];

/// Which side of a tool a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Input,
    Output,
}

/// Rewrite every tool's input and output schema in place.
pub fn tidy_schemas<S>(router: &mut ToolRouter<S>) {
    for route in router.map.values_mut() {
        let mut input = (*route.attr.input_schema).clone();
        tidy(&mut input, Side::Input);
        route.attr.input_schema = Arc::new(input);
        if let Some(output) = &route.attr.output_schema {
            let mut output = (**output).clone();
            tidy(&mut output, Side::Output);
            route.attr.output_schema = Some(Arc::new(output));
        }
    }
}

/// Tidy one schema (an object at its top).
pub fn tidy(object: &mut Map<String, Value>, side: Side) {
    // `"default": null` next to a non-null type would contradict it.
    if object.get("default") == Some(&Value::Null) {
        object.remove("default");
    }
    if let Some(Value::String(format)) = object.get("format") {
        if !STANDARD_FORMATS.contains(&format.as_str()) {
            object.remove("format");
        }
    }
    if let Some(Value::Array(types)) = object.get("type").cloned() {
        let non_null: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        let nullable = non_null.len() < types.len();
        match (side, nullable, non_null.len()) {
            (_, _, 0) => {}
            (Side::Input, true, 1) => {
                object.insert("type".into(), non_null[0].clone());
            }
            (Side::Output, true, 1) => {
                // Everything but the description moves into the non-null branch.
                let mut branch = Map::new();
                for (k, v) in std::mem::take(object) {
                    if k == "description" || k == "title" {
                        object.insert(k, v);
                    } else if k != "type" {
                        branch.insert(k, v);
                    }
                }
                branch.insert("type".into(), non_null[0].clone());
                tidy(&mut branch, side);
                object.insert(
                    "anyOf".into(),
                    json!([Value::Object(branch), {"type": "null"}]),
                );
                return;
            }
            _ => {
                object.remove("type");
                let mut branches: Vec<Value> =
                    non_null.iter().map(|t| json!({ "type": t })).collect();
                if nullable && side == Side::Output {
                    branches.push(json!({"type": "null"}));
                }
                object.insert("anyOf".into(), Value::Array(branches));
            }
        }
    }
    // `anyOf: [{…}, {"type": "null"}]` (optional structs and enums): in an input, the non-null
    // branch.
    if side == Side::Input {
        if let Some(Value::Array(branches)) = object.get("anyOf").cloned() {
            let non_null: Vec<&Value> = branches
                .iter()
                .filter(|b| b.get("type") != Some(&Value::from("null")))
                .collect();
            if non_null.len() == 1 && branches.len() == 2 {
                object.remove("anyOf");
                if let Value::Object(inner) = non_null[0] {
                    for (k, v) in inner {
                        object.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
    }
    for (key, value) in object.iter_mut() {
        match (key.as_str(), value) {
            // Maps of schemas: each value is a schema.
            ("properties" | "$defs" | "definitions", Value::Object(schemas)) => {
                for schema in schemas.values_mut() {
                    tidy_value(schema, side);
                }
            }
            ("items", schema) => tidy_value(schema, side),
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(schemas)) => {
                for schema in schemas {
                    tidy_value(schema, side);
                }
            }
            ("additionalProperties", Value::Object(schema)) => tidy(schema, side),
            ("not", Value::Object(schema)) => tidy(schema, side),
            _ => {}
        }
    }
}

/// A schema that may be a boolean: `true` or `{}` (any value) becomes an `anyOf` of every JSON
/// type, keeping a description.
fn tidy_value(schema: &mut Value, side: Side) {
    match schema {
        Value::Bool(true) => *schema = any_value(None),
        Value::Object(map) if is_any(map) => {
            let description = map.get("description").cloned();
            *schema = any_value(description);
        }
        Value::Object(map) => tidy(map, side),
        _ => {}
    }
}

/// Whether a schema object constrains nothing (only annotations).
fn is_any(map: &Map<String, Value>) -> bool {
    map.keys()
        .all(|k| matches!(k.as_str(), "description" | "title" | "default" | "examples"))
}

fn any_value(description: Option<Value>) -> Value {
    let mut schema = json!({"anyOf": [
        {"type": "object"},
        {"type": "array"},
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"}
    ]});
    if let Some(description) = description {
        schema["description"] = description;
    }
    schema
}

/// What a client would reject or warn about in a tidied schema: a non-standard `format`, a
/// `type` array, a bare `true` or empty schema for a property or items, and (inputs) a property
/// without a description. Each problem names its path.
pub fn schema_problems(schema: &Value, side: Side) -> Vec<String> {
    let mut problems = Vec::new();
    walk(schema, "", side, &mut problems);
    problems
}

fn walk(schema: &Value, path: &str, side: Side, problems: &mut Vec<String>) {
    let Value::Object(map) = schema else {
        if schema == &Value::Bool(true) {
            problems.push(format!("{path}: a bare `true` schema"));
        }
        return;
    };
    if let Some(Value::String(format)) = map.get("format") {
        if !STANDARD_FORMATS.contains(&format.as_str()) {
            problems.push(format!("{path}: non-standard format `{format}`"));
        }
    }
    if matches!(map.get("type"), Some(Value::Array(_))) {
        problems.push(format!("{path}: a type array"));
    }
    for (key, value) in map {
        let here = format!("{path}/{key}");
        match (key.as_str(), value) {
            ("properties", Value::Object(properties)) => {
                for (name, property) in properties {
                    let at = format!("{here}/{name}");
                    if let Value::Object(p) = property {
                        if p.is_empty() {
                            problems.push(format!("{at}: an empty schema"));
                        }
                        if side == Side::Input && !p.contains_key("description") {
                            problems.push(format!("{at}: no description"));
                        }
                    }
                    walk(property, &at, side, problems);
                }
            }
            ("$defs" | "definitions", Value::Object(schemas)) => {
                for (name, schema) in schemas {
                    walk(schema, &format!("{here}/{name}"), side, problems);
                }
            }
            ("items", schema) => {
                if schema.as_object().is_some_and(Map::is_empty) {
                    problems.push(format!("{here}: an empty schema"));
                }
                walk(schema, &here, side, problems);
            }
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(schemas)) => {
                for (n, schema) in schemas.iter().enumerate() {
                    walk(schema, &format!("{here}/{n}"), side, problems);
                }
            }
            ("additionalProperties" | "not", Value::Object(_)) => {
                walk(value, &here, side, problems)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tidied(text: &str, side: Side) -> Value {
        let mut schema: Map<String, Value> = serde_json::from_str(text).unwrap();
        tidy(&mut schema, side);
        Value::Object(schema)
    }

    #[test]
    fn optional_inputs_lose_null() {
        let schema = tidied(
            r##"{"type":"object","properties":{"a":{"type":["string","null"]},"b":{"anyOf":[{"$ref":"#/$defs/X"},{"type":"null"}]},"c":{"type":"integer"}}}"##,
            Side::Input,
        );
        assert_eq!(schema["properties"]["a"]["type"], "string");
        assert_eq!(schema["properties"]["b"]["$ref"], "#/$defs/X");
        assert_eq!(schema["properties"]["c"]["type"], "integer");
    }

    #[test]
    fn optional_outputs_become_any_of_with_null() {
        let schema = tidied(
            r##"{"type":"object","properties":{"n":{"description":"d","type":["integer","null"],"format":"int64","minimum":0}}}"##,
            Side::Output,
        );
        assert_eq!(
            schema["properties"]["n"],
            json!({"description": "d", "anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]})
        );
    }

    #[test]
    fn formats_and_any_values_are_made_plain() {
        let schema = tidied(
            r##"{"type":"object","properties":{"u":{"type":"integer","format":"uint64","minimum":0},"t":{"type":"string","format":"date-time"},"v":true,"w":{"description":"any"},"m":{"type":"object","additionalProperties":true}},"$defs":{"X":{"type":"object","properties":{"f":{"type":"number","format":"double"}}}}}"##,
            Side::Output,
        );
        assert!(schema["properties"]["u"].get("format").is_none());
        assert_eq!(schema["properties"]["t"]["format"], "date-time");
        assert!(schema["$defs"]["X"]["properties"]["f"]
            .get("format")
            .is_none());
        assert_eq!(
            schema["properties"]["v"]["anyOf"].as_array().unwrap().len(),
            6
        );
        assert_eq!(schema["properties"]["w"]["description"], "any");
        assert!(
            schema_problems(&schema, Side::Output).is_empty(),
            "{:?}",
            schema_problems(&schema, Side::Output)
        );
    }

    #[test]
    fn problems_name_their_paths() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": ["string", "null"], "description": "x"},
            "b": {"type": "integer", "format": "uint"},
            "c": true,
        }});
        let problems = schema_problems(&schema, Side::Input);
        assert_eq!(
            problems,
            [
                "/properties/a: a type array",
                "/properties/b: no description",
                "/properties/b: non-standard format `uint`",
                "/properties/c: a bare `true` schema",
            ]
        );
    }
}
