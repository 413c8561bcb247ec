//! CreateRequestValidator, GetRequestValidator(s), UpdateRequestValidator,
//! DeleteRequestValidator.

use causeway_model::{ApiError, RequestValidator, patch};
use causeway_wire::input;
use causeway_wire::output::{self, Page};

use crate::Reply;
use crate::ctx::{Ctx, Query, empty, json, paginate, patch_operations};
use crate::state::kind;

const NOT_FOUND: &str = "Invalid Request Validator identifier specified";

fn validator<'a>(
    cx: &'a Ctx<'_>,
    api_id: &str,
    id: &str,
) -> Result<&'a RequestValidator, ApiError> {
    cx.state
        .apis
        .get(api_id)
        .and_then(|api| api.request_validators.get(id))
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

pub fn create(cx: &mut Ctx<'_>, api_id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateRequestValidator = causeway_wire::decode(body)?;
    let account = cx.config.account_id.clone();
    let api = cx
        .state
        .apis
        .get(api_id)
        .ok_or_else(|| ApiError::bad_request("Invalid REST API identifier specified"))?;
    let taken: Vec<String> = api.request_validators.keys().cloned().collect();
    let id = cx.new_id(6, |candidate| taken.iter().any(|t| t == candidate));
    let validator = RequestValidator {
        id,
        name: req.name.filter(|n| !n.is_empty()),
        validate_request_body: req.validate_request_body.unwrap_or(false),
        validate_request_parameters: req.validate_request_parameters.unwrap_or(false),
    };
    save(cx, &account, api_id, validator, 201)
}

fn save(
    cx: &mut Ctx<'_>,
    account: &str,
    api_id: &str,
    validator: RequestValidator,
    status: u16,
) -> Result<Reply, ApiError> {
    cx.put(
        kind::REQUEST_VALIDATOR,
        format!("{api_id}/{}", validator.id),
        &validator,
    )?;
    let reply = output::RequestValidator::from_model(&validator);
    cx.state
        .api_mut(account, api_id)?
        .request_validators
        .insert(validator.id.clone(), validator);
    json(status, &reply)
}

pub fn list(cx: &mut Ctx<'_>, api_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let items = api
        .request_validators
        .values()
        .map(|v| (v.id.clone(), output::RequestValidator::from_model(v)))
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn get(cx: &mut Ctx<'_>, api_id: &str, id: &str) -> Result<Reply, ApiError> {
    let validator = validator(cx, api_id, id)?;
    json(200, &output::RequestValidator::from_model(validator))
}

pub fn update(cx: &mut Ctx<'_>, api_id: &str, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateRequestValidatorInput")?;
    let account = cx.config.account_id.clone();
    let updated = patch::apply_request_validator(validator(cx, api_id, id)?, &ops)?;
    save(cx, &account, api_id, updated, 200)
}

/// Methods that still name the validator keep its id and are no longer validated, until they
/// name another (deleting it is not refused).
pub fn delete(cx: &mut Ctx<'_>, api_id: &str, id: &str) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    validator(cx, api_id, id)?;
    cx.delete(kind::REQUEST_VALIDATOR, format!("{api_id}/{id}"));
    cx.state
        .api_mut(&account, api_id)?
        .request_validators
        .remove(id);
    empty(202)
}
