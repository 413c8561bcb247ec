//! Fuzzes the OpenAPI importer: the first byte picks the import options, the rest is the
//! definition (JSON or YAML). A refused document must be a `BadRequestException` with a
//! message; an accepted one must form a tree (parents before children), and the API it makes
//! must export, in both versions and both formats, to a document that imports back to the
//! same methods.
#![no_main]

use std::collections::BTreeMap;

use causeway_model::openapi::{
    BasePath, ExportOptions, ExportType, Extensions, Format, ImportOptions, ImportPlan, export,
    import, render,
};
use causeway_model::{
    ApiKeySource, ApiSnapshot, DeployedResource, EndpointConfiguration, EndpointType, Method,
    Model, RequestValidator, Resource, RestApi,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, document)) = data.split_first() else {
        return;
    };
    let options = ImportOptions {
        base_path: match selector % 3 {
            0 => BasePath::Ignore,
            1 => BasePath::Prepend,
            _ => BasePath::Split,
        },
        ignore_documentation: selector & 4 != 0,
        max_timeout_millis: 29_000,
    };
    let plan = match import(document, &options) {
        Ok(plan) => plan,
        Err(error) => {
            assert_eq!(error.code(), "BadRequestException", "{error}");
            assert!(!error.message().is_empty());
            return;
        }
    };
    let mut known = std::collections::BTreeSet::new();
    for resource in &plan.resources {
        if let Some(parent) = &resource.parent_path {
            assert!(
                known.contains(parent),
                "{} before its parent",
                resource.path
            );
        }
        known.insert(resource.path.clone());
    }
    let snapshot = snapshot(&plan);
    // The documentation parts, as a version the stage names, go out with the export and
    // must come back the same.
    let documentation = plan.documentation.as_ref().map(|parts| {
        causeway_model::documentation::export_extension(
            &causeway_model::documentation::DocumentationVersion {
                version: "fz".into(),
                created_date: 0,
                description: None,
                parts: parts
                    .iter()
                    .enumerate()
                    .map(|(i, part)| causeway_model::documentation::DocumentationPart {
                        id: format!("p{i}"),
                        location: part.location.clone(),
                        properties: part.properties.clone(),
                        seq: i as u64,
                    })
                    .collect(),
            },
        )
    });
    for export_type in [ExportType::Swagger, ExportType::Oas30] {
        for format in [Format::Json, Format::Yaml] {
            let exported = export(
                &snapshot,
                &ExportOptions {
                    export_type,
                    extensions: Extensions {
                        integrations: true,
                        apigateway: true,
                        authorizers: false,
                    },
                    stage_name: "prod".into(),
                    host: "fz.execute-api.us-east-1.amazonaws.com".into(),
                    deployed_at: 0,
                    documentation: documentation.clone(),
                },
            );
            let Ok(bytes) = render(&exported, format) else {
                panic!("an export did not render");
            };
            let again = match import(&bytes, &ImportOptions::default()) {
                Ok(again) => again,
                Err(e) => panic!(
                    "an export did not import again: {e}\n{}",
                    String::from_utf8_lossy(&bytes)
                ),
            };
            // A 2.0 operation has one body schema and one schema per response, for all the
            // types it consumes or produces: what comes back is the first model of each.
            let view = |plan: &ImportPlan| match export_type {
                ExportType::Swagger => first_models(methods(plan)),
                ExportType::Oas30 => methods(plan),
            };
            assert_eq!(
                view(&again),
                view(&plan),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
            assert_eq!(
                again.documentation.as_ref().map(Vec::len),
                plan.documentation.as_ref().map(Vec::len),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
            if let (Some(before), Some(after)) = (&plan.documentation, &again.documentation) {
                for (before, after) in before.iter().zip(after) {
                    assert_eq!(before.location, after.location);
                    let value = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
                    assert_eq!(value(&before.properties), value(&after.properties));
                }
            }
            // The authorizers the methods use come back the same (unused ones are not
            // exported).
            for authorizer in &again.authorizers {
                assert_eq!(
                    Some(authorizer),
                    plan.authorizers.iter().find(|a| a.name == authorizer.name),
                    "{}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }
});

/// The API the plan would make, deployed: resource ids `r0`, `r1`, ...
fn snapshot(plan: &ImportPlan) -> ApiSnapshot {
    let ids: BTreeMap<&str, String> = plan
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.path.as_str(), format!("r{i}")))
        .collect();
    let resources = plan
        .resources
        .iter()
        .enumerate()
        .map(|(seq, planned)| {
            let id = ids.get(planned.path.as_str()).cloned().unwrap_or_default();
            DeployedResource {
                path: planned.path.clone(),
                resource: Resource {
                    id: id.clone(),
                    parent_id: planned
                        .parent_path
                        .as_deref()
                        .and_then(|p| ids.get(p).cloned()),
                    path_part: planned.path_part.clone(),
                    methods: planned
                        .methods
                        .iter()
                        .map(|(verb, m)| {
                            let mut method = m.method.clone();
                            if let Some(it) = &mut method.integration
                                && it.cache_namespace.is_empty()
                            {
                                it.cache_namespace = id.clone();
                            }
                            (verb.clone(), method)
                        })
                        .collect(),
                    seq: seq as u64,
                },
            }
        })
        .collect();
    ApiSnapshot {
        api: RestApi {
            id: "fz".into(),
            name: plan.name.clone().unwrap_or_else(|| "fz".into()),
            description: plan.description.clone(),
            created_date: 0,
            version: plan.version.clone(),
            binary_media_types: plan.binary_media_types.clone().unwrap_or_default(),
            minimum_compression_size: plan.minimum_compression_size,
            api_key_source: plan.api_key_source.unwrap_or(ApiKeySource::Header),
            endpoint_configuration: EndpointConfiguration {
                types: vec![EndpointType::Edge],
                ip_address_type: "ipv4".into(),
                vpc_endpoint_ids: Vec::new(),
            },
            policy: plan.policy.clone(),
            tags: BTreeMap::new(),
            disable_execute_api_endpoint: false,
            root_resource_id: "r0".into(),
            security_policy: None,
            endpoint_access_mode: None,
        },
        resources,
        gateway_responses: plan.gateway_responses.clone(),
        models: plan
            .models
            .iter()
            .map(|m| Model {
                id: m.name.to_lowercase(),
                name: m.name.clone(),
                description: m.description.clone(),
                schema: m.schema_for("fz"),
                content_type: "application/json".into(),
            })
            .collect(),
        // A plan's methods name validators by name: here the ids are the names.
        request_validators: plan
            .request_validators
            .iter()
            .map(|v| RequestValidator {
                id: v.name.clone(),
                name: Some(v.name.clone()),
                validate_request_body: v.validate_request_body,
                validate_request_parameters: v.validate_request_parameters,
            })
            .collect(),
        // A plan's methods name authorizers by scheme name: here the ids are the names.
        authorizers: plan
            .authorizers
            .iter()
            .map(|a| causeway_model::Authorizer {
                id: a.name.clone(),
                ..a.clone()
            })
            .collect(),
    }
}

/// The methods with each request and response naming only its first model.
fn first_models(
    mut methods: BTreeMap<(String, String), Method>,
) -> BTreeMap<(String, String), Method> {
    let first = |models: &mut BTreeMap<String, String>| {
        let kept = models.values().next().cloned();
        models.clear();
        if let Some(model) = kept {
            models.insert(String::new(), model);
        }
    };
    for method in methods.values_mut() {
        first(&mut method.request_models);
        for response in method.method_responses.values_mut() {
            first(&mut response.response_models);
        }
    }
    methods
}

/// Every method by path and verb, cache namespaces cleared (they are resource ids).
fn methods(plan: &ImportPlan) -> BTreeMap<(String, String), Method> {
    plan.resources
        .iter()
        .flat_map(|r| {
            r.methods.iter().map(|(verb, m)| {
                let mut method = m.method.clone();
                if let Some(it) = &mut method.integration {
                    it.cache_namespace.clear();
                }
                ((r.path.clone(), verb.clone()), method)
            })
        })
        .collect()
}
