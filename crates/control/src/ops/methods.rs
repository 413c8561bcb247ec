//! Methods, method responses, integrations and integration responses: everything under
//! `/restapis/{api}/resources/{id}/methods/{verb}`.

use std::collections::BTreeMap;

use causeway_model::*;
use causeway_wire::input;
use causeway_wire::output;

use crate::Reply;
use crate::ctx::{Ctx, empty, enum_field, json, patch_operations, required};
use crate::state::kind;

/// The method an operation addresses.
#[derive(Debug)]
pub struct At<'a> {
    pub api: &'a str,
    pub resource: &'a str,
    pub method: &'a str,
}

const METHOD_NOT_FOUND: &str = "Invalid Method identifier specified";
const INTEGRATION_NOT_FOUND: &str = "Invalid Integration identifier specified";
const RESPONSE_NOT_FOUND: &str = "Invalid Response status code specified";

/// Reads the method, applies `change` to a copy, persists the resource and swaps the copy in.
/// Every write below goes through here, so a failed check never leaves a half-made change.
fn modify<T>(
    cx: &mut Ctx<'_>,
    at: &At<'_>,
    change: impl FnOnce(&mut Resource) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let api = cx.state.api_for_resource(at.api)?;
    let mut resource = api.resource(at.resource)?.clone();
    let out = change(&mut resource)?;
    cx.put(
        kind::RESOURCE,
        format!("{}/{}", at.api, at.resource),
        &resource,
    )?;
    cx.state
        .api_for_resource(at.api)?
        .resources
        .insert(at.resource.to_owned(), resource);
    Ok(out)
}

fn read<T>(
    cx: &mut Ctx<'_>,
    at: &At<'_>,
    view: impl FnOnce(&Resource) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let api = cx.state.api_for_resource(at.api)?;
    view(api.resource(at.resource)?)
}

fn method_of<'r>(resource: &'r Resource, verb: &str) -> Result<&'r Method, ApiError> {
    resource
        .methods
        .get(verb)
        .ok_or_else(|| ApiError::not_found(METHOD_NOT_FOUND))
}

fn method_of_mut<'r>(resource: &'r mut Resource, verb: &str) -> Result<&'r mut Method, ApiError> {
    resource
        .methods
        .get_mut(verb)
        .ok_or_else(|| ApiError::not_found(METHOD_NOT_FOUND))
}

fn integration_of_mut<'r>(
    resource: &'r mut Resource,
    verb: &str,
) -> Result<&'r mut Integration, ApiError> {
    method_of_mut(resource, verb)?
        .integration
        .as_mut()
        .ok_or_else(|| ApiError::not_found(INTEGRATION_NOT_FOUND))
}

/// What of the API its methods may name: request validators, models and authorizers.
#[derive(Debug, Default)]
struct Known {
    validators: Vec<String>,
    models: Vec<String>,
    authorizers: BTreeMap<String, AuthorizerType>,
}

fn known_references(cx: &Ctx<'_>, api: &str) -> Known {
    cx.state
        .apis
        .get(api)
        .map(|api| Known {
            validators: api.request_validators.keys().cloned().collect(),
            models: api.models.keys().cloned().collect(),
            authorizers: api
                .authorizers
                .values()
                .map(|a| (a.id.clone(), a.kind))
                .collect(),
        })
        .unwrap_or_default()
}

/// A CUSTOM method names a Lambda authorizer of its API, a COGNITO_USER_POOLS method a user
/// pool authorizer.
fn check_authorizer(method: &Method, known: &Known) -> Result<(), ApiError> {
    let lambda = match method.authorization_type {
        AuthorizationType::Custom => true,
        AuthorizationType::CognitoUserPools => false,
        AuthorizationType::None | AuthorizationType::AwsIam => return Ok(()),
    };
    let kind = method
        .authorizer_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .and_then(|id| known.authorizers.get(id));
    match kind {
        None => Err(ApiError::bad_request(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
        )),
        Some(AuthorizerType::CognitoUserPools) if lambda => Err(ApiError::bad_request(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM requires an authorizer of type TOKEN or REQUEST.",
        )),
        Some(AuthorizerType::Token | AuthorizerType::Request) if !lambda => {
            Err(ApiError::bad_request(
                "Invalid authorizer ID specified. Setting the authorization type to COGNITO_USER_POOLS requires an authorizer of type COGNITO_USER_POOLS.",
            ))
        }
        Some(_) => Ok(()),
    }
}

/// A method may only name request validators, models and authorizers its API has. Against
/// `before` (an update), only what changed is checked.
fn check_references(
    method: &Method,
    before: Option<&Method>,
    known: &Known,
) -> Result<(), ApiError> {
    let Known {
        validators, models, ..
    } = known;
    if before.is_none_or(|b| {
        b.authorization_type != method.authorization_type || b.authorizer_id != method.authorizer_id
    }) {
        check_authorizer(method, known)?;
    }
    if let Some(id) = &method.request_validator_id
        && before.is_none_or(|b| b.request_validator_id.as_ref() != Some(id))
        && !validators.contains(id)
    {
        return Err(ApiError::bad_request(
            "Invalid Request Validator identifier specified",
        ));
    }
    check_models(
        &method.request_models,
        before.map(|b| &b.request_models),
        models,
    )
}

/// The models a method request or response names (by content type) must exist; against
/// `before`, only the changed ones are checked.
fn check_models(
    named: &StringMap,
    before: Option<&StringMap>,
    models: &[String],
) -> Result<(), ApiError> {
    for (content_type, model) in named {
        let unchanged = before.is_some_and(|b| b.get(content_type) == Some(model));
        if !unchanged && !models.contains(model) {
            return Err(ApiError::bad_request(format!(
                "Invalid model identifier specified: {model}"
            )));
        }
    }
    Ok(())
}

fn http_method(text: &str) -> Result<HttpMethod, ApiError> {
    HttpMethod::parse(text).ok_or_else(|| {
        ApiError::bad_request("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
    })
}

pub fn put_method(cx: &mut Ctx<'_>, at: &At<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::PutMethod = causeway_wire::decode(body)?;
    let verb = http_method(at.method)?;
    let authorization_type = match req.authorization_type.as_deref() {
        None => return Err(required("putMethodInput.authorizationType")),
        Some(v) => enum_field(
            v,
            "putMethodInput.authorizationType",
            AuthorizationType::parse,
            AuthorizationType::options(", "),
        )?,
    };
    let request_parameters = req.request_parameters.unwrap_or_default();
    for key in request_parameters.keys() {
        validate::method_request_parameter(key)?;
    }
    let method = Method {
        http_method: verb,
        authorization_type,
        authorizer_id: req
            .authorizer_id
            .filter(|_| authorization_type.uses_authorizer()),
        api_key_required: req.api_key_required.unwrap_or(false),
        request_validator_id: req.request_validator_id.filter(|id| !id.is_empty()),
        operation_name: req.operation_name,
        request_parameters,
        request_models: req.request_models.unwrap_or_default(),
        method_responses: BTreeMap::new(),
        integration: None,
        authorization_scopes: req.authorization_scopes.unwrap_or_default(),
    };
    check_references(&method, None, &known_references(cx, at.api))?;
    let reply = output::Method::from_model(&method);
    modify(cx, at, |resource| {
        if resource.methods.contains_key(verb.as_str()) {
            return Err(ApiError::conflict(
                "Method already exists for this resource",
            ));
        }
        resource.methods.insert(verb.as_str().to_owned(), method);
        Ok(())
    })?;
    json(201, &reply)
}

pub fn get_method(cx: &mut Ctx<'_>, at: &At<'_>) -> Result<Reply, ApiError> {
    let method = read(cx, at, |r| {
        method_of(r, at.method).map(output::Method::from_model)
    })?;
    json(200, &method)
}

pub fn update_method(cx: &mut Ctx<'_>, at: &At<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateMethodInput")?;
    let known = known_references(cx, at.api);
    let method = modify(cx, at, |resource| {
        let method = method_of_mut(resource, at.method)?;
        let updated = patch::apply_method(method, &ops)?;
        check_references(&updated, Some(method), &known)?;
        *method = updated;
        Ok(output::Method::from_model(method))
    })?;
    json(200, &method)
}

pub fn delete_method(cx: &mut Ctx<'_>, at: &At<'_>) -> Result<Reply, ApiError> {
    modify(cx, at, |resource| {
        resource
            .methods
            .remove(at.method)
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found(METHOD_NOT_FOUND))
    })?;
    empty(204)
}

pub fn put_method_response(
    cx: &mut Ctx<'_>,
    at: &At<'_>,
    code: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let req: input::PutMethodResponse = causeway_wire::decode(body)?;
    validate::status_code(code, "statusCode")?;
    let response = MethodResponse {
        status_code: code.to_owned(),
        response_parameters: req.response_parameters.unwrap_or_default(),
        response_models: req.response_models.unwrap_or_default(),
    };
    let models = known_references(cx, at.api).models;
    check_models(&response.response_models, None, &models)?;
    let reply = output::MethodResponse::from_model(&response);
    modify(cx, at, |resource| {
        method_of_mut(resource, at.method)?
            .method_responses
            .insert(code.to_owned(), response);
        Ok(())
    })?;
    json(201, &reply)
}

pub fn get_method_response(cx: &mut Ctx<'_>, at: &At<'_>, code: &str) -> Result<Reply, ApiError> {
    let response = read(cx, at, |r| {
        method_of(r, at.method)?
            .method_responses
            .get(code)
            .map(output::MethodResponse::from_model)
            .ok_or_else(|| ApiError::not_found(RESPONSE_NOT_FOUND))
    })?;
    json(200, &response)
}

pub fn update_method_response(
    cx: &mut Ctx<'_>,
    at: &At<'_>,
    code: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateMethodResponseInput")?;
    let models = known_references(cx, at.api).models;
    let response = modify(cx, at, |resource| {
        let response = method_of_mut(resource, at.method)?
            .method_responses
            .get_mut(code)
            .ok_or_else(|| ApiError::not_found(RESPONSE_NOT_FOUND))?;
        let updated = patch::apply_method_response(response, &ops)?;
        check_models(
            &updated.response_models,
            Some(&response.response_models),
            &models,
        )?;
        *response = updated;
        Ok(output::MethodResponse::from_model(response))
    })?;
    // AWS answers UpdateMethodResponse with 201, unlike every other update.
    json(201, &response)
}

pub fn delete_method_response(
    cx: &mut Ctx<'_>,
    at: &At<'_>,
    code: &str,
) -> Result<Reply, ApiError> {
    modify(cx, at, |resource| {
        method_of_mut(resource, at.method)?
            .method_responses
            .remove(code)
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found(RESPONSE_NOT_FOUND))
    })?;
    empty(204)
}

pub fn put_integration(cx: &mut Ctx<'_>, at: &At<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::PutIntegration = causeway_wire::decode(body)?;
    let kind = match req.kind.as_deref() {
        None => return Err(required("putIntegrationInput.type")),
        Some(v) => enum_field(
            v,
            "putIntegrationInput.type",
            IntegrationType::parse,
            IntegrationType::options(", "),
        )?,
    };
    let http_method = match req.http_method.as_deref() {
        None | Some("") => None,
        Some(v) => Some(http_method(v)?),
    };
    let connection_type = match req.connection_type.as_deref() {
        None => None,
        Some(v) => Some(enum_field(
            v,
            "putIntegrationInput.connectionType",
            ConnectionType::parse,
            ConnectionType::options(", "),
        )?),
    };
    let passthrough_behavior = match req.passthrough_behavior.as_deref() {
        None => PassthroughBehavior::WhenNoMatch,
        Some(v) => enum_field(
            v,
            "putIntegrationInput.passthroughBehavior",
            PassthroughBehavior::parse,
            PassthroughBehavior::options(", "),
        )?,
    };
    let content_handling = match req.content_handling.as_deref() {
        None => None,
        Some(v) => Some(enum_field(
            v,
            "putIntegrationInput.contentHandling",
            ContentHandling::parse,
            ContentHandling::options(", "),
        )?),
    };
    let response_transfer_mode = match req.response_transfer_mode.as_deref() {
        None => None,
        Some(v) => Some(enum_field(
            v,
            "putIntegrationInput.responseTransferMode",
            ResponseTransferMode::parse,
            ResponseTransferMode::options(", "),
        )?),
    };
    let mut integration = Integration {
        kind,
        http_method: if kind == IntegrationType::Mock {
            None
        } else {
            http_method
        },
        uri: req.uri.filter(|u| !u.is_empty()),
        connection_type,
        connection_id: req.connection_id.filter(|c| !c.is_empty()),
        credentials: req.credentials,
        request_parameters: req.request_parameters.unwrap_or_default(),
        request_templates: req.request_templates.unwrap_or_default(),
        passthrough_behavior: Some(passthrough_behavior),
        content_handling,
        timeout_in_millis: req.timeout_in_millis.unwrap_or(29_000),
        cache_namespace: req
            .cache_namespace
            .unwrap_or_else(|| at.resource.to_owned()),
        cache_key_parameters: req.cache_key_parameters.unwrap_or_default(),
        integration_responses: BTreeMap::new(),
        tls_config: req.tls_config.map(|t| TlsConfig {
            insecure_skip_verification: t.insecure_skip_verification.unwrap_or(false),
        }),
        response_transfer_mode,
        integration_target: req.integration_target,
    };
    patch::check_integration(&integration, cx.config.max_integration_timeout_millis)?;
    check_vpc_link_reference(cx, &integration)?;
    let reply = modify(cx, at, |resource| {
        let method = method_of_mut(resource, at.method)?;
        validate::request_mappings(
            &integration.request_parameters,
            Some(&method.request_parameters),
        )?;
        // Re-putting an integration keeps the responses already declared for it.
        if let Some(existing) = &method.integration {
            integration.integration_responses = existing.integration_responses.clone();
        }
        let reply = output::Integration::from_model(&integration);
        method.integration = Some(integration);
        Ok(reply)
    })?;
    json(201, &reply)
}

/// A literal VPC link id must name an existing link; `${stageVariables.X}` is resolved per
/// stage at invoke time, so it is not checked here.
fn check_vpc_link_reference(cx: &Ctx<'_>, integration: &Integration) -> Result<(), ApiError> {
    match vpc_link_problem(cx, integration) {
        Some((problem, _)) => Err(ApiError::bad_request(problem)),
        None => Ok(()),
    }
}

/// What is wrong with an integration's VPC link and load balancer, if anything:
/// - a literal connection id must name a VPC link, V1 or V2;
/// - a VPC link V2 needs `integrationTarget`, the ARN of the network load balancer to reach
///   (AWS also takes application load balancers, which this server does not run);
/// - `integrationTarget` goes only with VPC links V2.
///
/// Ids and targets with `${stageVariables.X}` are resolved per stage when called.
pub(crate) fn vpc_link_problem(
    cx: &Ctx<'_>,
    integration: &Integration,
) -> Option<(String, &'static str)> {
    const TARGET: &str = "integrationTarget";
    const CONNECTION_ID: &str = "connectionId";
    let target = integration
        .integration_target
        .as_deref()
        .filter(|t| !t.is_empty());
    if integration.connection_type != Some(ConnectionType::VpcLink) {
        return target.map(|_| {
            (
                "IntegrationTarget is only used with a VPC link V2: set connectionType to VPC_LINK and connectionId to the VPC link's id".to_owned(),
                TARGET,
            )
        });
    }
    let id = integration.connection_id.as_deref()?;
    if !id.contains("${") {
        match (
            cx.state.vpc_links.contains_key(id),
            cx.state.vpc_links_v2.contains_key(id),
        ) {
            (false, false) => {
                return Some((
                    format!("Invalid connection id specified: VPC link '{id}' does not exist"),
                    CONNECTION_ID,
                ));
            }
            (true, _) if target.is_some() => {
                return Some((
                    format!(
                        "IntegrationTarget is only used with a VPC link V2: VPC link '{id}' is a VPC link V1, which reaches the network load balancer it was created for"
                    ),
                    TARGET,
                ));
            }
            (_, true) if target.is_none() => {
                return Some((
                    format!("IntegrationTarget is required for VpcLinkV2 {id}."),
                    TARGET,
                ));
            }
            _ => {}
        }
    }
    let target = target?;
    if target.contains("${") {
        return None;
    }
    let problem = match causeway_model::arn::parse_load_balancer_arn(target) {
        None => Some(format!(
            "Invalid IntegrationTarget '{target}': it must be the ARN of a load balancer"
        )),
        Some(parsed) if parsed.kind != "net" => Some(format!(
            "Invalid IntegrationTarget '{target}': only network load balancers run on this server, not '{}' load balancers",
            parsed.kind
        )),
        Some(_) if !cx.state.load_balancers.contains_key(target) => Some(format!(
            "Invalid IntegrationTarget '{target}': the load balancer does not exist"
        )),
        Some(_) => None,
    };
    problem.map(|p| (p, TARGET))
}

pub fn get_integration(cx: &mut Ctx<'_>, at: &At<'_>) -> Result<Reply, ApiError> {
    let integration = read(cx, at, |r| {
        method_of(r, at.method)?
            .integration
            .as_ref()
            .map(output::Integration::from_model)
            .ok_or_else(|| ApiError::not_found(INTEGRATION_NOT_FOUND))
    })?;
    json(200, &integration)
}

pub fn update_integration(cx: &mut Ctx<'_>, at: &At<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateIntegrationInput")?;
    let current = read(cx, at, |r| {
        method_of(r, at.method)?
            .integration
            .clone()
            .ok_or_else(|| ApiError::not_found(INTEGRATION_NOT_FOUND))
    })?;
    let updated =
        patch::apply_integration(&current, &ops, cx.config.max_integration_timeout_millis)?;
    check_vpc_link_reference(cx, &updated)?;
    let reply = output::Integration::from_model(&updated);
    modify(cx, at, |resource| {
        let method = method_of_mut(resource, at.method)?;
        if updated.request_parameters != current.request_parameters {
            validate::request_mappings(
                &updated.request_parameters,
                Some(&method.request_parameters),
            )?;
        }
        *integration_of_mut(resource, at.method)? = updated;
        Ok(())
    })?;
    json(200, &reply)
}

pub fn delete_integration(cx: &mut Ctx<'_>, at: &At<'_>) -> Result<Reply, ApiError> {
    modify(cx, at, |resource| {
        method_of_mut(resource, at.method)?
            .integration
            .take()
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found(INTEGRATION_NOT_FOUND))
    })?;
    empty(204)
}

pub fn put_integration_response(
    cx: &mut Ctx<'_>,
    at: &At<'_>,
    code: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let req: input::PutIntegrationResponse = causeway_wire::decode(body)?;
    validate::status_code(code, "statusCode")?;
    let content_handling = match req.content_handling.as_deref() {
        None => None,
        Some(v) => Some(enum_field(
            v,
            "putIntegrationResponseInput.contentHandling",
            ContentHandling::parse,
            ContentHandling::options(", "),
        )?),
    };
    let response = IntegrationResponse {
        status_code: code.to_owned(),
        selection_pattern: req.selection_pattern.filter(|p| !p.is_empty()),
        response_parameters: req.response_parameters.unwrap_or_default(),
        response_templates: req.response_templates.unwrap_or_default(),
        content_handling,
    };
    let reply = output::IntegrationResponse::from_model(&response);
    modify(cx, at, |resource| {
        let declared = method_of(resource, at.method)?
            .method_responses
            .get(code)
            .map(|r| &r.response_parameters);
        validate::response_mappings(&response.response_parameters, declared)?;
        integration_of_mut(resource, at.method)?
            .integration_responses
            .insert(code.to_owned(), response);
        Ok(())
    })?;
    json(201, &reply)
}

pub fn get_integration_response(
    cx: &mut Ctx<'_>,
    at: &At<'_>,
    code: &str,
) -> Result<Reply, ApiError> {
    let response = read(cx, at, |r| {
        method_of(r, at.method)?
            .integration
            .as_ref()
            .ok_or_else(|| ApiError::not_found(INTEGRATION_NOT_FOUND))?
            .integration_responses
            .get(code)
            .map(output::IntegrationResponse::from_model)
            .ok_or_else(|| ApiError::not_found(RESPONSE_NOT_FOUND))
    })?;
    json(200, &response)
}

pub fn update_integration_response(
    cx: &mut Ctx<'_>,
    at: &At<'_>,
    code: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateIntegrationResponseInput")?;
    let response = modify(cx, at, |resource| {
        let declared = method_of(resource, at.method)?
            .method_responses
            .get(code)
            .map(|r| r.response_parameters.clone());
        let response = integration_of_mut(resource, at.method)?
            .integration_responses
            .get_mut(code)
            .ok_or_else(|| ApiError::not_found(RESPONSE_NOT_FOUND))?;
        let updated = patch::apply_integration_response(response, &ops)?;
        if updated.response_parameters != response.response_parameters {
            validate::response_mappings(&updated.response_parameters, declared.as_ref())?;
        }
        *response = updated;
        Ok(output::IntegrationResponse::from_model(response))
    })?;
    json(200, &response)
}

pub fn delete_integration_response(
    cx: &mut Ctx<'_>,
    at: &At<'_>,
    code: &str,
) -> Result<Reply, ApiError> {
    modify(cx, at, |resource| {
        integration_of_mut(resource, at.method)?
            .integration_responses
            .remove(code)
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found(RESPONSE_NOT_FOUND))
    })?;
    empty(204)
}
