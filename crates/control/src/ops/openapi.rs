//! ImportRestApi, PutRestApi (merge and overwrite) and GetExport: OpenAPI documents in and out.
//!
//! The document is read into a plan by `causeway_model::openapi`; this module checks the plan
//! against the state (VPC links named by id, the existing resource tree when merging), then
//! applies it in one go. As everywhere in the control plane, every check comes before the
//! first change, so a refused import leaves nothing behind.

use std::collections::{BTreeMap, BTreeSet};

use causeway_model::openapi::{
    self, BasePath, ExportOptions, ExportType, Extensions, Format, ImportOptions, ImportPlan,
    PlannedResource,
};
use causeway_model::validate::{self, PathPart};
use causeway_model::{
    ApiError, ApiKeySource, Authorizer, ConnectionType, EndpointConfiguration, EndpointType,
    GatewayResponse, Method, Model, RequestValidator, Resource, RestApi, schemas,
};
use causeway_wire::output::{self, TagsField};

use crate::Reply;
use crate::ctx::{Ctx, Query, enum_field, json};
use crate::state::{ApiState, kind};

/// ImportRestApi (`POST /restapis?mode=import`): a new API from a document. Answers 201 with
/// the API and the import's warnings.
pub fn import(cx: &mut Ctx<'_>, query: &Query, body: &[u8]) -> Result<Reply, ApiError> {
    let (options, fail_on_warnings) = import_options(cx, query)?;
    let endpoint_type = endpoint_type(query)?;
    let mut plan = openapi::import(body, &options)?;
    let Some(name) = plan.name.clone() else {
        return Err(openapi::errors_found(&[
            "Missing title at info.title: the title becomes the name of the imported API".into(),
        ]));
    };
    let taken: Vec<String> = cx.state.apis.keys().cloned().collect();
    let id = cx.new_id(10, |id| taken.iter().any(|t| t == id));
    let mut problems = Vec::new();
    check_vpc_links(cx, &plan, &mut problems);
    let (models, request_validators) = models_and_validators(
        cx,
        &id,
        &mut plan,
        (BTreeMap::new(), BTreeMap::new()),
        &mut problems,
    );
    let authorizers = planned_authorizers(cx, &mut plan, BTreeMap::new(), &BTreeMap::new());
    if !problems.is_empty() {
        return Err(openapi::errors_found(&problems));
    }
    if fail_on_warnings && !plan.warnings.is_empty() {
        return Err(openapi::warnings_found(&plan.warnings));
    }

    let resources = build_resources(
        cx,
        &plan,
        &BTreeMap::new(),
        &BTreeMap::new(),
        &BTreeMap::new(),
    );
    let root_resource_id = resources
        .values()
        .find(|r| r.parent_id.is_none())
        .map(|r| r.id.clone())
        .ok_or_else(|| ApiError::Internal("an imported API has no root resource".into()))?;
    let private = endpoint_type == EndpointType::Private;
    let api = RestApi {
        id: id.clone(),
        name,
        description: plan.description.clone(),
        created_date: cx.now,
        version: plan.version.clone(),
        binary_media_types: plan.binary_media_types.clone().unwrap_or_default(),
        minimum_compression_size: plan.minimum_compression_size,
        api_key_source: plan.api_key_source.unwrap_or(ApiKeySource::Header),
        endpoint_configuration: EndpointConfiguration {
            types: vec![endpoint_type],
            ip_address_type: if private { "dualstack" } else { "ipv4" }.to_owned(),
            vpc_endpoint_ids: plan.vpc_endpoint_ids.clone().unwrap_or_default(),
        },
        policy: plan
            .policy
            .as_deref()
            .map(|text| crate::ops::restapis::stored_policy(cx, &id, text))
            .transpose()?,
        tags: BTreeMap::new(),
        disable_execute_api_endpoint: plan.disable_execute_api_endpoint.unwrap_or(false),
        root_resource_id,
        security_policy: None,
        endpoint_access_mode: None,
    };
    let gateway_responses: BTreeMap<String, GatewayResponse> = plan
        .gateway_responses
        .iter()
        .map(|r| (r.response_type.clone(), r.clone()))
        .collect();

    cx.put(kind::REST_API, id.clone(), &api)?;
    for resource in resources.values() {
        cx.put(kind::RESOURCE, format!("{id}/{}", resource.id), resource)?;
    }
    for response in gateway_responses.values() {
        cx.put(
            kind::GATEWAY_RESPONSE,
            format!("{id}/{}", response.response_type),
            response,
        )?;
    }
    save_models_and_validators(cx, &id, &models, &request_validators, None)?;
    save_authorizers(cx, &id, &authorizers, None)?;
    let (documentation_parts, _) = crate::ops::documentation::import_into(
        cx,
        &BTreeMap::new(),
        plan.documentation.take().unwrap_or_default(),
        true,
    );
    crate::ops::documentation::save_parts(cx, &id, &documentation_parts, &BTreeMap::new())?;
    let mut reply = output::RestApi::from_model(&api, TagsField::IfAny);
    reply.warnings = plan.warnings;
    let mut state = ApiState::new(api, resources, gateway_responses);
    state.models = models;
    state.request_validators = request_validators;
    state.authorizers = authorizers;
    state.documentation_parts = documentation_parts;
    cx.state.apis.insert(id, state);
    json(201, &reply)
}

/// How PutRestApi combines a document with the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The document's methods replace the API's methods of the same resource and verb;
    /// everything else stays.
    Merge,
    /// The API becomes what the document says. Stages, deployments, the endpoint
    /// configuration, tags and the name stay.
    Overwrite,
}

/// PutRestApi (`PUT /restapis/{id}?mode=merge|overwrite`). Answers 200 with the API and the
/// import's warnings.
pub fn put(cx: &mut Ctx<'_>, api_id: &str, query: &Query, body: &[u8]) -> Result<Reply, ApiError> {
    let mode = match query.get("mode") {
        None => Mode::Merge,
        Some(text) => enum_field(
            text,
            "mode",
            |m| match m {
                "merge" => Some(Mode::Merge),
                "overwrite" => Some(Mode::Overwrite),
                _ => None,
            },
            "merge, overwrite".to_owned(),
        )?,
    };
    let (options, fail_on_warnings) = import_options(cx, query)?;
    let account = cx.config.account_id.clone();
    let current = cx.state.api(&account, api_id)?.clone();
    let mut plan = openapi::import(body, &options)?;

    let existing: BTreeMap<String, &Resource> = current
        .resources
        .values()
        .map(|r| (current.path_of(r), r))
        .collect();
    let mut problems = Vec::new();
    check_vpc_links(cx, &plan, &mut problems);
    if mode == Mode::Merge {
        check_merge_placement(&current, &existing, &plan, &mut problems);
    }
    let kept = match mode {
        Mode::Merge => (current.models.clone(), current.request_validators.clone()),
        Mode::Overwrite => (BTreeMap::new(), BTreeMap::new()),
    };
    let (models, request_validators) =
        models_and_validators(cx, api_id, &mut plan, kept, &mut problems);
    let kept_authorizers = match mode {
        Mode::Merge => current.authorizers.clone(),
        Mode::Overwrite => BTreeMap::new(),
    };
    let authorizers = planned_authorizers(cx, &mut plan, kept_authorizers, &current.authorizers);
    if !problems.is_empty() {
        return Err(openapi::errors_found(&problems));
    }
    if fail_on_warnings && !plan.warnings.is_empty() {
        return Err(openapi::warnings_found(&plan.warnings));
    }

    // Resources keep their ids where the path stays (AWS does so even when overwriting), so
    // that stages' method settings and anything else keyed by id keep working.
    let existing_ids: BTreeMap<String, String> = existing
        .iter()
        .map(|(path, r)| (path.clone(), r.id.clone()))
        .collect();
    let kept: BTreeMap<String, Resource> = match mode {
        Mode::Merge => current.resources.clone(),
        Mode::Overwrite => BTreeMap::new(),
    };
    // Overwriting drops the resources the document does not name; the root is always in a
    // plan, so it stays.
    let resources = build_resources(cx, &plan, &existing_ids, &kept, &current.resources);

    let stored_policy = plan
        .policy
        .as_deref()
        .map(|text| crate::ops::restapis::stored_policy(cx, api_id, text))
        .transpose()?;
    let mut api = current.api.clone();
    if plan.description.is_some() {
        api.description = plan.description.clone();
    }
    if plan.version.is_some() {
        api.version = plan.version.clone();
    }
    match mode {
        Mode::Overwrite => {
            api.binary_media_types = plan.binary_media_types.clone().unwrap_or_default();
            api.api_key_source = plan.api_key_source.unwrap_or(ApiKeySource::Header);
            api.minimum_compression_size = plan.minimum_compression_size;
            api.policy = stored_policy.clone();
        }
        Mode::Merge => {
            for media_type in plan.binary_media_types.iter().flatten() {
                if !api.binary_media_types.contains(media_type) {
                    api.binary_media_types.push(media_type.clone());
                }
            }
            if let Some(source) = plan.api_key_source {
                api.api_key_source = source;
            }
            if plan.minimum_compression_size.is_some() {
                api.minimum_compression_size = plan.minimum_compression_size;
            }
            if stored_policy.is_some() {
                api.policy = stored_policy.clone();
            }
        }
    }
    let mut gateway_responses = match mode {
        Mode::Merge => current.gateway_responses.clone(),
        Mode::Overwrite => BTreeMap::new(),
    };
    for response in &plan.gateway_responses {
        gateway_responses.insert(response.response_type.clone(), response.clone());
    }

    cx.put(kind::REST_API, api_id.to_owned(), &api)?;
    for resource in resources.values() {
        if current.resources.get(&resource.id) != Some(resource) {
            cx.put(
                kind::RESOURCE,
                format!("{api_id}/{}", resource.id),
                resource,
            )?;
        }
    }
    for id in current.resources.keys() {
        if !resources.contains_key(id) {
            cx.delete(kind::RESOURCE, format!("{api_id}/{id}"));
        }
    }
    for response in gateway_responses.values() {
        if current.gateway_responses.get(&response.response_type) != Some(response) {
            cx.put(
                kind::GATEWAY_RESPONSE,
                format!("{api_id}/{}", response.response_type),
                response,
            )?;
        }
    }
    for response_type in current.gateway_responses.keys() {
        if !gateway_responses.contains_key(response_type) {
            cx.delete(kind::GATEWAY_RESPONSE, format!("{api_id}/{response_type}"));
        }
    }
    save_models_and_validators(cx, api_id, &models, &request_validators, Some(&current))?;
    save_authorizers(cx, api_id, &authorizers, Some(&current))?;
    // Documentation parts: a document with some merges them in, or replaces them all when
    // it overwrites the API; a document without leaves them.
    let documentation_parts = match plan.documentation.take() {
        Some(imported) => {
            let (parts, _) = crate::ops::documentation::import_into(
                cx,
                &current.documentation_parts,
                imported,
                mode == Mode::Overwrite,
            );
            crate::ops::documentation::save_parts(
                cx,
                api_id,
                &parts,
                &current.documentation_parts,
            )?;
            parts
        }
        None => current.documentation_parts.clone(),
    };
    let mut reply = output::RestApi::from_model(&api, TagsField::Include);
    reply.warnings = plan.warnings;
    let state = cx.state.api_mut(&account, api_id)?;
    state.authorizers = authorizers;
    state.api = api;
    state.resources = resources;
    state.gateway_responses = gateway_responses;
    state.models = models;
    state.request_validators = request_validators;
    state.documentation_parts = documentation_parts;
    json(200, &reply)
}

/// The models and request validators of API `api_id` after an import: `kept` (what stays of
/// the API's own) with the plan's added, a model or validator of the same name replaced (its
/// id kept). The plan's methods then name validators by id. Models that do not pass
/// CreateModel's checks are reported in `problems`.
fn models_and_validators(
    cx: &mut Ctx<'_>,
    api_id: &str,
    plan: &mut ImportPlan,
    (mut models, mut validators): (BTreeMap<String, Model>, BTreeMap<String, RequestValidator>),
    problems: &mut Vec<String>,
) -> (BTreeMap<String, Model>, BTreeMap<String, RequestValidator>) {
    for planned in &plan.models {
        let id = match models.get(&planned.name) {
            Some(existing) => existing.id.clone(),
            None => {
                let taken: Vec<String> = models.values().map(|m| m.id.clone()).collect();
                cx.new_id(6, |candidate| taken.iter().any(|t| t == candidate))
            }
        };
        let model = Model {
            id,
            name: planned.name.clone(),
            description: planned.description.clone(),
            schema: planned.schema_for(api_id),
            content_type: "application/json".to_owned(),
        };
        models.insert(model.name.clone(), model);
    }
    for planned in &plan.models {
        let others = crate::ops::models::others(&models, &planned.name);
        if let Some(model) = models.get(&planned.name)
            && let Err(e) = schemas::check_schema(api_id, &model.name, &model.schema, &others)
        {
            problems.push(format!(
                "Unable to create model for '{}' at {}: {e}",
                planned.name, planned.at
            ));
        }
    }
    let mut ids_by_name = BTreeMap::new();
    for planned in &plan.request_validators {
        let existing = validators
            .values()
            .find(|v| v.name.as_deref() == Some(planned.name.as_str()))
            .map(|v| v.id.clone());
        let id = existing.unwrap_or_else(|| {
            let taken: Vec<String> = validators.keys().cloned().collect();
            cx.new_id(6, |candidate| taken.iter().any(|t| t == candidate))
        });
        validators.insert(
            id.clone(),
            RequestValidator {
                id: id.clone(),
                name: Some(planned.name.clone()),
                validate_request_body: planned.validate_request_body,
                validate_request_parameters: planned.validate_request_parameters,
            },
        );
        ids_by_name.insert(planned.name.clone(), id);
    }
    for resource in &mut plan.resources {
        for planned in resource.methods.values_mut() {
            let method = &mut planned.method;
            method.request_validator_id = method
                .request_validator_id
                .as_ref()
                .and_then(|name| ids_by_name.get(name).cloned());
        }
    }
    (models, validators)
}

/// The authorizers of an API after an import: `kept` with the plan's added, one named as an
/// authorizer of the API (`current`) updated in place, its id kept, even when overwriting.
/// The plan's methods then name authorizers by id.
fn planned_authorizers(
    cx: &mut Ctx<'_>,
    plan: &mut ImportPlan,
    mut authorizers: BTreeMap<String, Authorizer>,
    current: &BTreeMap<String, Authorizer>,
) -> BTreeMap<String, Authorizer> {
    let mut ids_by_name = BTreeMap::new();
    for planned in &plan.authorizers {
        let existing = current
            .values()
            .find(|a| a.name == planned.name)
            .map(|a| a.id.clone());
        let id = existing.unwrap_or_else(|| {
            let taken: Vec<String> = authorizers.keys().chain(current.keys()).cloned().collect();
            cx.new_id(6, |candidate| taken.iter().any(|t| t == candidate))
        });
        let mut authorizer = planned.clone();
        authorizer.id = id.clone();
        authorizers.insert(id.clone(), authorizer);
        ids_by_name.insert(planned.name.clone(), id);
    }
    for resource in &mut plan.resources {
        for planned in resource.methods.values_mut() {
            let method = &mut planned.method;
            if method.authorization_type.uses_authorizer() {
                method.authorizer_id = method
                    .authorizer_id
                    .as_ref()
                    .and_then(|name| ids_by_name.get(name).cloned());
            }
        }
    }
    authorizers
}

/// Stores the authorizers an import leaves, and deletes those of `previous` that are gone.
fn save_authorizers(
    cx: &mut Ctx<'_>,
    api_id: &str,
    authorizers: &BTreeMap<String, Authorizer>,
    previous: Option<&ApiState>,
) -> Result<(), ApiError> {
    for authorizer in authorizers.values() {
        if previous.and_then(|p| p.authorizers.get(&authorizer.id)) != Some(authorizer) {
            cx.put(
                kind::AUTHORIZER,
                format!("{api_id}/{}", authorizer.id),
                authorizer,
            )?;
        }
    }
    for id in previous.iter().flat_map(|p| p.authorizers.keys()) {
        if !authorizers.contains_key(id) {
            cx.delete(kind::AUTHORIZER, format!("{api_id}/{id}"));
        }
    }
    Ok(())
}

/// Stores the models and request validators an import leaves, and deletes those of
/// `previous` (the API before a PutRestApi) that are gone.
fn save_models_and_validators(
    cx: &mut Ctx<'_>,
    api_id: &str,
    models: &BTreeMap<String, Model>,
    validators: &BTreeMap<String, RequestValidator>,
    previous: Option<&ApiState>,
) -> Result<(), ApiError> {
    for model in models.values() {
        if previous.and_then(|p| p.models.get(&model.name)) != Some(model) {
            cx.put(kind::MODEL, format!("{api_id}/{}", model.name), model)?;
        }
    }
    for validator in validators.values() {
        if previous.and_then(|p| p.request_validators.get(&validator.id)) != Some(validator) {
            cx.put(
                kind::REQUEST_VALIDATOR,
                format!("{api_id}/{}", validator.id),
                validator,
            )?;
        }
    }
    if let Some(previous) = previous {
        for name in previous.models.keys() {
            if !models.contains_key(name) {
                cx.delete(kind::MODEL, format!("{api_id}/{name}"));
            }
        }
        for id in previous.request_validators.keys() {
            if !validators.contains_key(id) {
                cx.delete(kind::REQUEST_VALIDATOR, format!("{api_id}/{id}"));
            }
        }
    }
    Ok(())
}

/// GetExport (`GET /restapis/{id}/stages/{stage}/exports/{oas30|swagger}`): the stage's
/// deployed API as a document, JSON or YAML as `Accept` asks.
pub fn export(
    cx: &mut Ctx<'_>,
    api_id: &str,
    stage_name: &str,
    export_type: &str,
    query: &Query,
    accept: Option<&str>,
) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let stage = api
        .stages
        .get(stage_name)
        .ok_or_else(|| ApiError::not_found("Invalid stage identifier specified"))?;
    let export_type = ExportType::parse(export_type).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid export type specified: '{export_type}'. Valid options are oas30, swagger"
        ))
    })?;
    let extensions =
        Extensions::parse(&query.all("extensions").join(",")).map_err(ApiError::BadRequest)?;
    let deployment = api
        .deployments
        .get(&stage.deployment_id)
        .ok_or_else(|| ApiError::not_found("Invalid Deployment identifier specified"))?;
    let format = Format::from_accept(accept);
    let document = openapi::export(
        &deployment.snapshot,
        &ExportOptions {
            export_type,
            extensions,
            stage_name: stage_name.to_owned(),
            host: format!("{api_id}.execute-api.{}.amazonaws.com", cx.config.region),
            deployed_at: deployment.created_date,
            documentation: crate::ops::documentation::export_extension(api, stage),
        },
    );
    let body = openapi::render(&document, format)?;
    // AWS names the download after the export type and the time of the export
    // (`attachment; filename="swagger_2020-01-13T13:15:44Z.json"`).
    let disposition = format!(
        "attachment; filename=\"{}_{}.{}\"",
        export_type.as_str(),
        openapi::timestamp(cx.now),
        format.extension()
    );
    Ok(Reply {
        status: 200,
        body,
        error_code: None,
        content_type: format.content_type(),
        headers: vec![("content-disposition", disposition)],
        deferred: None,
    })
}

/// The import parameters (`basepath`, `ignore`, `failonwarnings`), as the SDKs put them in
/// the query string.
fn import_options(cx: &Ctx<'_>, query: &Query) -> Result<(ImportOptions, bool), ApiError> {
    let fail_on_warnings = match query.get("failonwarnings") {
        None => false,
        Some(text) if text.eq_ignore_ascii_case("true") => true,
        Some(text) if text.eq_ignore_ascii_case("false") => false,
        Some(text) => {
            return Err(ApiError::bad_request(format!(
                "Invalid failonwarnings value '{text}': use true or false"
            )));
        }
    };
    let base_path = match query.get("basepath") {
        None => BasePath::Ignore,
        Some(text) => BasePath::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid basepath value '{text}'. Valid options are ignore, prepend, split"
            ))
        })?,
    };
    let mut ignore_documentation = false;
    for ignored in query.all("ignore") {
        if ignored == "documentation" {
            ignore_documentation = true;
        } else {
            return Err(ApiError::bad_request(format!(
                "Invalid ignore value '{ignored}'. Valid options are documentation"
            )));
        }
    }
    Ok((
        ImportOptions {
            base_path,
            ignore_documentation,
            max_timeout_millis: cx.config.max_integration_timeout_millis,
        },
        fail_on_warnings,
    ))
}

/// `endpointConfigurationTypes` of ImportRestApi (EDGE by default, as AWS).
fn endpoint_type(query: &Query) -> Result<EndpointType, ApiError> {
    let types = query.all("endpointConfigurationTypes");
    if types.len() > 1 {
        return Err(ApiError::bad_request(
            "Cannot create an api with multiple Endpoint Types.",
        ));
    }
    match types.first() {
        None => Ok(EndpointType::Edge),
        Some(text) => EndpointType::parse(text).ok_or_else(|| {
            ApiError::bad_request(
                "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
            )
        }),
    }
}

/// A literal VPC link id must name an existing link, and a VPC link V2 needs its target, as
/// PutIntegration requires; `${stageVariables.X}` is resolved per stage when called.
fn check_vpc_links(cx: &Ctx<'_>, plan: &ImportPlan, problems: &mut Vec<String>) {
    for resource in &plan.resources {
        for (verb, planned) in &resource.methods {
            let Some(integration) = &planned.method.integration else {
                continue;
            };
            if integration.connection_type != Some(ConnectionType::VpcLink) {
                continue;
            }
            if let Some((problem, field)) = crate::ops::methods::vpc_link_problem(cx, integration) {
                problems.push(format!(
                    "Unable to put integration on '{verb}' for resource at path '{}': {problem} (at {}.x-amazon-apigateway-integration.{field})",
                    resource.path, planned.at
                ));
            }
        }
    }
}

/// Merging adds the document's new paths under the API's existing ones, so the rule that a
/// parent has at most one variable child holds across both.
fn check_merge_placement(
    current: &ApiState,
    existing: &BTreeMap<String, &Resource>,
    plan: &ImportPlan,
    problems: &mut Vec<String>,
) {
    for planned in &plan.resources {
        if existing.contains_key(&planned.path) {
            continue;
        }
        let Some(parent) = planned.parent_path.as_ref().and_then(|p| existing.get(p)) else {
            continue;
        };
        if !validate::path_part(&planned.path_part).is_ok_and(|p| p.is_variable()) {
            continue;
        }
        if matches!(
            validate::path_part(&parent.path_part),
            Ok(PathPart::Greedy(_))
        ) {
            problems.push(format!(
                "Unable to create resource at path '{}': Cannot create a child of a resource with a greedy path variable: {}",
                planned.path, parent.path_part
            ));
            continue;
        }
        if let Some(sibling) = current.children_of(&parent.id).find(|s| {
            s.path_part != planned.path_part
                && validate::path_part(&s.path_part).is_ok_and(|p| p.is_variable())
        }) {
            problems.push(format!(
                "Unable to create resource at path '{}': A sibling ({}) of this resource already has a variable path part -- only one is allowed",
                planned.path, sibling.path_part
            ));
        }
    }
}

/// The resources of an applied plan, keyed by id. A path that `existing_ids` knows keeps its
/// id (and its place in listings, from `previous`); `kept` are resources that stay as they
/// are unless the plan names them (merge), in which case the plan's methods replace theirs
/// verb by verb.
fn build_resources(
    cx: &mut Ctx<'_>,
    plan: &ImportPlan,
    existing_ids: &BTreeMap<String, String>,
    kept: &BTreeMap<String, Resource>,
    previous: &BTreeMap<String, Resource>,
) -> BTreeMap<String, Resource> {
    let mut resources = kept.clone();
    let mut ids_by_path: BTreeMap<String, String> = existing_ids.clone();
    let mut taken: BTreeSet<String> = existing_ids.values().cloned().collect();
    taken.extend(kept.keys().cloned());
    // Parents come before children in a plan, so a parent's id is always known.
    for planned in &plan.resources {
        let id = match ids_by_path.get(&planned.path) {
            Some(id) => id.clone(),
            None => {
                let len = if planned.parent_path.is_none() { 10 } else { 6 };
                let id = cx.new_id(len, |id| taken.contains(id));
                taken.insert(id.clone());
                ids_by_path.insert(planned.path.clone(), id.clone());
                id
            }
        };
        let parent_id = planned
            .parent_path
            .as_ref()
            .and_then(|p| ids_by_path.get(p).cloned());
        let resource = match resources.remove(&id) {
            Some(existing) => existing,
            None => Resource {
                id: id.clone(),
                parent_id,
                path_part: planned.path_part.clone(),
                methods: BTreeMap::new(),
                seq: match previous.get(&id) {
                    Some(old) => old.seq,
                    None => cx.next_seq(),
                },
            },
        };
        let mut resource = resource;
        for (verb, method) in planned_methods(planned, &id) {
            resource.methods.insert(verb, method);
        }
        resources.insert(id, resource);
    }
    resources
}

/// A planned resource's methods, with cache namespaces defaulting to the resource id.
fn planned_methods(planned: &PlannedResource, resource_id: &str) -> Vec<(String, Method)> {
    planned
        .methods
        .iter()
        .map(|(verb, planned)| {
            let mut method = planned.method.clone();
            if let Some(integration) = &mut method.integration
                && integration.cache_namespace.is_empty()
            {
                integration.cache_namespace = resource_id.to_owned();
            }
            (verb.clone(), method)
        })
        .collect()
}
