//! Resources: each spec file, each scenario by ID (a template), the spec summary, and the JSON
//! Schema of the spec format.

use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use rmcp::ErrorData;
use sdd_mcp::Project;

use crate::SpecServer;

const SCHEMA_URI: &str = "sdd://schema/spec";
const SUMMARY_URI: &str = "sdd://spec/summary";
const FILE_PREFIX: &str = "sdd://spec/file/";
const SCENARIO_PREFIX: &str = "sdd://scenario/";

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(format!("{SCENARIO_PREFIX}{{id}}"), "scenario")
            .with_description(
                "One scenario by ID, as JSON: Given/When/Then, status, domain, file:line.",
            )
            .with_mime_type("application/json"),
        ResourceTemplate::new(format!("{FILE_PREFIX}{{path}}"), "spec-file")
            .with_description(
                "A spec file's text (YAML, or Gherkin for a `.feature` file), by path relative to the spec root.",
            )
            .with_mime_type("application/yaml"),
    ]
}

/// Resources per `resources/list` page (the protocol's cursor pages them; clients follow it).
const RESOURCES_PER_PAGE: usize = 100;

impl SpecServer {
    /// One page of the resource list: the cursor is the offset of the page, as a string.
    pub(crate) fn resource_page(
        &self,
        cursor: Option<&str>,
    ) -> Result<rmcp::model::ListResourcesResult, ErrorData> {
        let offset = match cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| {
                ErrorData::invalid_params(
                    format!("unknown cursor `{c}`; pass the `nextCursor` of the previous page"),
                    None,
                )
            })?,
        };
        let list = self.resource_list();
        let total = list.len();
        let page: Vec<Resource> = list
            .into_iter()
            .skip(offset)
            .take(RESOURCES_PER_PAGE)
            .collect();
        let end = offset.saturating_add(page.len());
        let mut result = rmcp::model::ListResourcesResult::with_all_items(page);
        result.next_cursor = (end < total).then(|| end.to_string());
        Ok(result)
    }

    pub(crate) fn resource_list(&self) -> Vec<Resource> {
        let mut list = vec![
            Resource::new(SUMMARY_URI, "spec-summary")
                .with_description("Counts of files, domains, scenarios (by status) and constraints, and load errors.")
                .with_mime_type("application/json"),
            Resource::new(SCHEMA_URI, "spec-schema")
                .with_description("JSON Schema of the spec file format (for editors: `# yaml-language-server: $schema=…`).")
                .with_mime_type("application/schema+json"),
        ];
        if let Ok(loaded) = self.load_spec() {
            for file in &loaded.spec.files {
                list.push(
                    Resource::new(format!("{FILE_PREFIX}{}", file.path), file.path.clone())
                        .with_description(format!("{:?} spec `{}`", file.kind, file.name))
                        .with_mime_type(spec_file_mime(&file.path)),
                );
            }
        }
        list
    }

    pub(crate) fn read(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        let text = |body: String, mime: &str| {
            ReadResourceResult::new(vec![ResourceContents::text(body, uri).with_mime_type(mime)])
        };
        if uri == SCHEMA_URI {
            return Ok(text(
                sdd_spec::schema::spec_schema_json(),
                "application/schema+json",
            ));
        }
        let loaded = self
            .load_spec()
            .map_err(|e| ErrorData::resource_not_found(e.to_string(), None))?;
        if uri == SUMMARY_URI {
            let spec = &loaded.spec;
            let by_status = |st| spec.scenarios.iter().filter(|s| s.status == st).count();
            let (load_error_list, more_load_errors) =
                crate::tools::query::load_errors(&loaded.diagnostics);
            let summary = serde_json::json!({
                "files": spec.files.len(),
                "domains": spec.domains.len(),
                "scenarios": spec.scenarios.len(),
                "approved": by_status(sdd_spec::document::ReviewStatus::Approved),
                "proposed": by_status(sdd_spec::document::ReviewStatus::Proposed),
                "rejected": by_status(sdd_spec::document::ReviewStatus::Rejected),
                "changed_since_approval": by_status(sdd_spec::document::ReviewStatus::ChangedSinceApproval),
                "constraints": spec.constraints.len(),
                "load_errors": sdd_spec::diagnostic::count_errors(&loaded.diagnostics),
                "load_error_list": load_error_list,
                "more_load_errors": more_load_errors,
                "summary": format!("{} scenarios in {} domains, {} constraints", spec.scenarios.len(), spec.domains.len(), spec.constraints.len()),
            });
            return Ok(text(
                serde_json::to_string_pretty(&summary).unwrap_or_default(),
                "application/json",
            ));
        }
        if let Some(id) = uri.strip_prefix(SCENARIO_PREFIX) {
            let scenario = loaded.spec.scenario(id).ok_or_else(|| {
                ErrorData::resource_not_found(
                    format!("no scenario `{id}`; list IDs with get_scenarios"),
                    None,
                )
            })?;
            return sdd_mcp::bounded_resource(
                text(
                    serde_json::to_string_pretty(scenario).unwrap_or_default(),
                    "application/json",
                ),
                uri,
                "read it with get_scenarios and `ids`",
            );
        }
        if let Some(path) = uri.strip_prefix(FILE_PREFIX) {
            let known = loaded.spec.files.iter().any(|f| f.path == path)
                || loaded
                    .diagnostics
                    .iter()
                    .any(|d| d.file.as_deref() == Some(path));
            let full = Project::confine(&self.project.specs, path)
                .map_err(|e| ErrorData::invalid_params(e.to_string(), None))?;
            if !known {
                return Err(ErrorData::resource_not_found(
                    format!("no spec file `{path}`; see resources/list"),
                    None,
                ));
            }
            // The loader's guarded read: a FIFO that the loader reported (so it is "known")
            // must not block this call, and the size limit holds here too.
            let (limits, _) = sdd_spec::limits::Limits::from_env();
            let body = sdd_spec::limits::read_yaml_file(&full, &limits).map_err(|e| {
                ErrorData::resource_not_found(format!("cannot read `{path}`: {e}"), None)
            })?;
            return sdd_mcp::bounded_resource(
                text(body, spec_file_mime(path)),
                uri,
                "read its scenarios a page at a time with get_scenarios (`domain` or `feature`), its constraints with get_constraints, or open the file itself",
            );
        }
        Err(ErrorData::resource_not_found(
            format!("unknown resource `{uri}`; this server has {SUMMARY_URI}, {SCHEMA_URI}, {FILE_PREFIX}{{path}} and {SCENARIO_PREFIX}{{id}}"),
            None,
        ))
    }
}

/// A spec file's media type: YAML, or Gherkin (no registered type; `text/x-gherkin` is the
/// one editors use) for a `.feature` file.
fn spec_file_mime(path: &str) -> &'static str {
    if sdd_spec::gherkin::is_feature_file(path) {
        "text/x-gherkin"
    } else {
        "application/yaml"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn feature_files_are_served_as_gherkin() {
        assert_eq!(super::spec_file_mime("a/orders.feature"), "text/x-gherkin");
        assert_eq!(super::spec_file_mime("orders.yaml"), "application/yaml");
    }
}
