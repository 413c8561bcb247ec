//! PutGatewayResponse, GetGatewayResponse(s), UpdateGatewayResponse, DeleteGatewayResponse.

use causeway_model::gateway_responses::{self as defaults, TYPES};
use causeway_model::{ApiError, GatewayResponse, patch, validate};
use causeway_wire::input;
use causeway_wire::output::{self, Page};

use crate::Reply;
use crate::ctx::{Ctx, Query, empty, json, paginate, patch_operations};
use crate::state::{ApiState, kind};

fn check_type(response_type: &str) -> Result<Option<&'static str>, ApiError> {
    defaults::response_type(response_type).map(|t| t.default_status).ok_or_else(|| {
        let names: Vec<&str> = TYPES.iter().map(|(name, _)| *name).collect();
        ApiError::Validation(format!(
            "1 validation error detected: Value '{response_type}' at 'responseType' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            names.join(", ")
        ))
    })
}

/// The response in force for a type: the customised one, or the default.
fn current(api: &ApiState, response_type: &str) -> Option<GatewayResponse> {
    api.gateway_responses
        .get(response_type)
        .cloned()
        .or_else(|| {
            let customised: Vec<GatewayResponse> =
                api.gateway_responses.values().cloned().collect();
            defaults::effective_default(response_type, &customised)
        })
}

pub fn list(cx: &mut Ctx<'_>, api_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let items = TYPES
        .iter()
        .filter_map(|(name, _)| current(api, name))
        .map(|r| {
            (
                r.response_type.clone(),
                output::GatewayResponse::from_model(&r),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn get(cx: &mut Ctx<'_>, api_id: &str, response_type: &str) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    check_type(response_type)?;
    let response = current(api, response_type)
        .ok_or_else(|| ApiError::not_found("Invalid gateway response type specified"))?;
    json(200, &output::GatewayResponse::from_model(&response))
}

pub fn put(
    cx: &mut Ctx<'_>,
    api_id: &str,
    response_type: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let req: input::PutGatewayResponse = causeway_wire::decode(body)?;
    let account = cx.config.account_id.clone();
    cx.state.api(&account, api_id)?;
    let default_status = check_type(response_type)?;
    if let Some(code) = &req.status_code {
        validate::status_code(code, "statusCode")?;
    }
    if let Some(parameters) = &req.response_parameters {
        validate::gateway_response_mappings(parameters)?;
    }
    let response = GatewayResponse {
        response_type: response_type.to_owned(),
        status_code: req
            .status_code
            .or_else(|| default_status.map(str::to_owned)),
        response_parameters: req.response_parameters.unwrap_or_default(),
        response_templates: req
            .response_templates
            .unwrap_or_else(defaults::default_templates),
        default_response: false,
    };
    save(cx, &account, api_id, response, 201)
}

fn save(
    cx: &mut Ctx<'_>,
    account: &str,
    api_id: &str,
    response: GatewayResponse,
    status: u16,
) -> Result<Reply, ApiError> {
    cx.put(
        kind::GATEWAY_RESPONSE,
        format!("{api_id}/{}", response.response_type),
        &response,
    )?;
    let reply = output::GatewayResponse::from_model(&response);
    cx.state
        .api_mut(account, api_id)?
        .gateway_responses
        .insert(response.response_type.clone(), response);
    json(status, &reply)
}

pub fn update(
    cx: &mut Ctx<'_>,
    api_id: &str,
    response_type: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateGatewayResponseInput")?;
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    check_type(response_type)?;
    let base = current(api, response_type)
        .ok_or_else(|| ApiError::not_found("Invalid gateway response type specified"))?;
    let updated = patch::apply_gateway_response(&base, &ops)?;
    // Checked when they change: a response stored before the check keeps taking patches.
    if updated.response_parameters != base.response_parameters {
        validate::gateway_response_mappings(&updated.response_parameters)?;
    }
    save(cx, &account, api_id, updated, 200)
}

pub fn delete(cx: &mut Ctx<'_>, api_id: &str, response_type: &str) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    check_type(response_type)?;
    if !api.gateway_responses.contains_key(response_type) {
        return Err(ApiError::not_found(
            "Gateway response type not defined on api",
        ));
    }
    cx.delete(kind::GATEWAY_RESPONSE, format!("{api_id}/{response_type}"));
    cx.state
        .api_mut(&account, api_id)?
        .gateway_responses
        .remove(response_type);
    empty(202)
}
