//! Tool input schemas as clients expect them.
//!
//! schemars writes an optional field as `"type": ["string", "null"]`; several MCP clients handle
//! a type array badly. An absent field already means "unset", so optional properties are
//! published with their plain type (clients that still send `null` are accepted: the Rust side
//! is an `Option`).

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use serde_json::{Map, Value};

/// Rewrite every tool's input schema in place.
pub fn tidy_input_schemas<S>(router: &mut ToolRouter<S>) {
    for route in router.map.values_mut() {
        let mut schema = (*route.attr.input_schema).clone();
        strip_null_types(&mut schema);
        route.attr.input_schema = Arc::new(schema);
    }
}

fn strip_null_types(object: &mut Map<String, Value>) {
    // `"default": null` next to a non-null type would contradict it.
    if object.get("default") == Some(&Value::Null) {
        object.remove("default");
    }
    if let Some(Value::Array(types)) = object.get_mut("type") {
        if types.len() == 2 && types.iter().any(|t| t == "null") {
            types.retain(|t| t != "null");
            let only = types[0].clone();
            object.insert("type".into(), only);
        }
    }
    // `anyOf: [{…}, {"type": "null"}]` (optional structs and enums) → the non-null branch.
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
    for value in object.values_mut() {
        match value {
            Value::Object(inner) => strip_null_types(inner),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        strip_null_types(inner);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_types_lose_null() {
        let mut schema: Map<String, Value> = serde_json::from_str(
            r##"{"type":"object","properties":{"a":{"type":["string","null"]},"b":{"anyOf":[{"$ref":"#/$defs/X"},{"type":"null"}]},"c":{"type":"integer"}}}"##,
        )
        .unwrap();
        strip_null_types(&mut schema);
        assert_eq!(schema["properties"]["a"]["type"], "string");
        assert_eq!(schema["properties"]["b"]["$ref"], "#/$defs/X");
        assert_eq!(schema["properties"]["c"]["type"], "integer");
    }
}
