//! CreateRestApi, GetRestApi(s), UpdateRestApi, DeleteRestApi.

use std::collections::BTreeMap;

use causeway_model::{
    ApiError, ApiKeySource, EndpointConfiguration, EndpointType, Model, Resource, RestApi, patch,
    schemas, validate,
};
use causeway_wire::input;
use causeway_wire::output::{self, Page, TagsField};

use crate::Reply;
use crate::ctx::{Ctx, Query, check_tags, empty, enum_field, json, paginate, patch_operations};
use crate::state::{ApiState, kind};

/// The tag that pins a new API's id, as LocalStack users rely on.
pub const CUSTOM_ID_TAG: &str = "_custom_id_";

pub fn create(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateRestApi = causeway_wire::decode(body)?;
    let name = req.name.filter(|n| !n.is_empty()).ok_or_else(|| {
        ApiError::bad_request("Invalid REST API name specified: the name cannot be empty")
    })?;
    if req.description.as_deref() == Some("") {
        return Err(ApiError::bad_request(
            "Description cannot be an empty string",
        ));
    }
    let api_key_source = match req.api_key_source.as_deref() {
        None => ApiKeySource::Header,
        Some(v) => enum_field(
            v,
            "createRestApiInput.apiKeySource",
            ApiKeySource::parse,
            ApiKeySource::options(", "),
        )?,
    };
    let endpoint_configuration = endpoint_configuration(req.endpoint_configuration)?;
    if let Some(size) = req.minimum_compression_size
        && !(0..=10_485_760).contains(&size)
    {
        return Err(ApiError::bad_request(
            "Invalid minimum compression size, must be between 0 and 10485760",
        ));
    }
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    let id = match tags.get(CUSTOM_ID_TAG) {
        Some(custom) => {
            validate::custom_id(custom)?;
            if cx.state.apis.contains_key(custom) {
                return Err(ApiError::conflict(format!(
                    "A REST API with id '{custom}' already exists: the {CUSTOM_ID_TAG} tag must be unique"
                )));
            }
            custom.clone()
        }
        None => {
            let apis = &cx.state.apis;
            let taken: Vec<String> = apis.keys().cloned().collect();
            cx.new_id(10, |id| taken.iter().any(|t| t == id))
        }
    };
    let source = match &req.clone_from {
        Some(source_id) => Some(cx.state.api(&cx.config.account_id, source_id)?.clone()),
        None => None,
    };

    // Resources of the new API: a fresh root, or a copy of the source's tree with new ids.
    let mut resources = BTreeMap::new();
    let root_id;
    match &source {
        None => {
            root_id = fresh_resource_id(cx, &resources, 10);
            let seq = cx.next_seq();
            resources.insert(
                root_id.clone(),
                Resource {
                    id: root_id.clone(),
                    parent_id: None,
                    path_part: String::new(),
                    methods: BTreeMap::new(),
                    seq,
                },
            );
        }
        Some(source) => {
            let mut new_ids = BTreeMap::new();
            let mut ordered: Vec<&Resource> = source.resources.values().collect();
            ordered.sort_by_key(|r| r.seq);
            for resource in &ordered {
                let len = if resource.parent_id.is_none() { 10 } else { 6 };
                let new_id = fresh_resource_id(cx, &resources, len);
                new_ids.insert(resource.id.clone(), new_id.clone());
                // Reserve the id at once so the next draw cannot reuse it.
                resources.insert(new_id, (*resource).clone());
            }
            let mut copied = BTreeMap::new();
            for resource in ordered {
                let seq = cx.next_seq();
                let id = new_ids.get(&resource.id).cloned().unwrap_or_default();
                let mut copy = resource.clone();
                copy.id = id.clone();
                copy.parent_id = resource
                    .parent_id
                    .as_ref()
                    .and_then(|p| new_ids.get(p).cloned());
                copy.seq = seq;
                for method in copy.methods.values_mut() {
                    if let Some(integration) = &mut method.integration
                        && integration.cache_namespace == resource.id
                    {
                        integration.cache_namespace = id.clone();
                    }
                }
                copied.insert(id, copy);
            }
            resources = copied;
            root_id = new_ids
                .get(&source.api.root_resource_id)
                .cloned()
                .unwrap_or_default();
        }
    }

    let api = RestApi {
        id: id.clone(),
        name,
        description: req.description,
        created_date: cx.now,
        version: req.version,
        binary_media_types: req
            .binary_media_types
            .or_else(|| source.as_ref().map(|s| s.api.binary_media_types.clone()))
            .unwrap_or_default(),
        minimum_compression_size: req.minimum_compression_size,
        api_key_source,
        endpoint_configuration,
        policy: req
            .policy
            .as_deref()
            .map(|text| stored_policy(cx, &id, text))
            .transpose()?,
        tags,
        disable_execute_api_endpoint: req.disable_execute_api_endpoint.unwrap_or(false),
        root_resource_id: root_id,
        security_policy: req.security_policy,
        endpoint_access_mode: req.endpoint_access_mode,
    };
    cx.put(kind::REST_API, id.clone(), &api)?;
    for resource in resources.values() {
        cx.put(kind::RESOURCE, format!("{id}/{}", resource.id), resource)?;
    }
    // Models: a new API starts with AWS's two defaults; a clone gets its source's models (their
    // references to each other now name the clone) and request validators.
    let (models, request_validators) = match &source {
        None => {
            let mut models = BTreeMap::new();
            for (name, description, schema) in schemas::DEFAULT_MODELS {
                let taken: Vec<String> = models.values().map(|m: &Model| m.id.clone()).collect();
                let model_id = cx.new_id(6, |candidate| taken.iter().any(|t| t == candidate));
                let model = Model {
                    id: model_id,
                    name: name.to_owned(),
                    description: Some(description.to_owned()),
                    schema: schema.to_owned(),
                    content_type: "application/json".to_owned(),
                };
                models.insert(model.name.clone(), model);
            }
            (models, BTreeMap::new())
        }
        Some(source) => {
            let from = schemas::model_url(&source.api.id, "");
            let to = schemas::model_url(&id, "");
            let models = source
                .models
                .iter()
                .map(|(name, model)| {
                    let mut copy = model.clone();
                    copy.schema = copy.schema.replace(&from, &to);
                    (name.clone(), copy)
                })
                .collect();
            (models, source.request_validators.clone())
        }
    };
    for model in models.values() {
        cx.put(kind::MODEL, format!("{id}/{}", model.name), model)?;
    }
    let authorizers = source
        .as_ref()
        .map(|s| s.authorizers.clone())
        .unwrap_or_default();
    for authorizer in authorizers.values() {
        cx.put(
            kind::AUTHORIZER,
            format!("{id}/{}", authorizer.id),
            authorizer,
        )?;
    }
    for validator in request_validators.values() {
        cx.put(
            kind::REQUEST_VALIDATOR,
            format!("{id}/{}", validator.id),
            validator,
        )?;
    }
    // A clone has the source's documentation parts (not its versions, which belong to the
    // source's stages).
    let documentation_parts = source
        .as_ref()
        .map(|s| s.documentation_parts.clone())
        .unwrap_or_default();
    for part in documentation_parts.values() {
        cx.put(kind::DOCUMENTATION_PART, format!("{id}/{}", part.id), part)?;
    }
    let gateway_responses = source.map(|s| s.gateway_responses).unwrap_or_default();
    for response in gateway_responses.values() {
        cx.put(
            kind::GATEWAY_RESPONSE,
            format!("{id}/{}", response.response_type),
            response,
        )?;
    }
    let reply = output::RestApi::from_model(&api, TagsField::IfAny);
    let mut state = ApiState::new(api, resources, gateway_responses);
    state.models = models;
    state.request_validators = request_validators;
    state.authorizers = authorizers;
    state.documentation_parts = documentation_parts;
    cx.state.apis.insert(id, state);
    json(201, &reply)
}

/// A policy as AWS keeps it for API `api_id`: checked (so that no deployment ever carries one
/// the gateway cannot evaluate), `execute-api:/` written out as the API's ARN, compact and
/// escaped (see `policy::normalize`).
pub(crate) fn stored_policy(cx: &Ctx<'_>, api_id: &str, text: &str) -> Result<String, ApiError> {
    let scope = causeway_model::policy::Scope {
        region: &cx.config.region,
        account_id: &cx.config.account_id,
        api_id,
    };
    causeway_model::policy::normalize(text, scope).map_err(|e| ApiError::bad_request(e.0))
}

fn fresh_resource_id(cx: &mut Ctx<'_>, pending: &BTreeMap<String, Resource>, len: usize) -> String {
    // Resource ids need only be unique within their API: 10 characters for a root, 6 for
    // the others, as on AWS.
    cx.new_id(len, |id| pending.contains_key(id))
}

fn endpoint_configuration(
    config: Option<input::EndpointConfiguration>,
) -> Result<EndpointConfiguration, ApiError> {
    let config = config.unwrap_or_default();
    let types = match config.types {
        None => vec![EndpointType::Edge],
        Some(types) => {
            if types.len() > 1 {
                return Err(ApiError::bad_request(
                    "Cannot create an api with multiple Endpoint Types.",
                ));
            }
            types
                .iter()
                .map(|t| {
                    EndpointType::parse(t).ok_or_else(|| {
                        ApiError::bad_request("Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let types = if types.is_empty() {
        vec![EndpointType::Edge]
    } else {
        types
    };
    let private = types.contains(&EndpointType::Private);
    let ip_address_type = match config.ip_address_type.as_deref() {
        None if private => "dualstack".to_owned(),
        None => "ipv4".to_owned(),
        Some("ipv4") if private => {
            return Err(ApiError::bad_request(
                "Only dualstack ipAddressType is supported for Private APIs.",
            ));
        }
        Some(value @ ("ipv4" | "dualstack")) => value.to_owned(),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid ipAddressType '{other}'. Valid options are ipv4,dualstack"
            )));
        }
    };
    Ok(EndpointConfiguration {
        types,
        ip_address_type,
        vpc_endpoint_ids: config.vpc_endpoint_ids.unwrap_or_default(),
    })
}

pub fn get(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, id)?;
    json(
        200,
        &output::RestApi::from_model(&api.api, TagsField::Include),
    )
}

pub fn list(cx: &mut Ctx<'_>, query: &Query) -> Result<Reply, ApiError> {
    let items = cx
        .state
        .apis
        .values()
        .map(|a| {
            (
                a.api.id.clone(),
                output::RestApi::from_model(&a.api, TagsField::IfAny),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn update(cx: &mut Ctx<'_>, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateRestApiInput")?;
    let account = cx.config.account_id.clone();
    let current = &cx.state.api(&account, id)?.api;
    let mut updated = patch::apply_rest_api(current, &ops)?;
    if updated.endpoint_configuration.types != current.endpoint_configuration.types {
        crate::ops::domain_names::refuse_edge_behind_mutual_tls(cx, id, &updated)?;
    }
    if updated.policy != current.policy
        && let Some(text) = &updated.policy
    {
        updated.policy = Some(stored_policy(cx, id, text)?);
    }
    cx.put(kind::REST_API, id.to_owned(), &updated)?;
    let reply = output::RestApi::from_model(&updated, TagsField::Include);
    cx.state.api_mut(&account, id)?.api = updated;
    json(200, &reply)
}

pub fn delete(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    cx.state.api(&cx.config.account_id, id)?;
    crate::ops::domain_names::refuse_if_mapped(cx, id, None)?;
    cx.delete(kind::REST_API, id.to_owned());
    for child in [
        kind::RESOURCE,
        kind::DEPLOYMENT,
        kind::STAGE,
        kind::GATEWAY_RESPONSE,
        kind::MODEL,
        kind::REQUEST_VALIDATOR,
        kind::AUTHORIZER,
        kind::DOCUMENTATION_PART,
        kind::DOCUMENTATION_VERSION,
    ] {
        cx.delete_prefix(child, format!("{id}/"));
    }
    crate::ops::usageplans::forget_stages(cx, id, None)?;
    cx.state.apis.remove(id);
    empty(202)
}
