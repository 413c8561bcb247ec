//! CreateAuthorizer, GetAuthorizer(s), UpdateAuthorizer, DeleteAuthorizer.

use causeway_model::{ApiError, Authorizer, AuthorizerType, authorizer, patch};
use causeway_wire::input;
use causeway_wire::output::{self, Page};

use crate::Reply;
use crate::ctx::{Ctx, Query, empty, enum_field, json, paginate, patch_operations, required};
use crate::state::kind;

pub(crate) const NOT_FOUND: &str = "Invalid Authorizer identifier specified";

fn find<'a>(cx: &'a Ctx<'_>, api_id: &str, id: &str) -> Result<&'a Authorizer, ApiError> {
    cx.state
        .api(&cx.config.account_id, api_id)?
        .authorizers
        .get(id)
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

pub fn create(cx: &mut Ctx<'_>, api_id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateAuthorizer = causeway_wire::decode(body)?;
    let account = cx.config.account_id.clone();
    // AWS answers a create on an API that does not exist with a conflict (recorded).
    let api = cx.state.apis.get(api_id).ok_or_else(|| {
        ApiError::conflict(
            "Unable to complete operation due to concurrent modification. Please try again later.",
        )
    })?;
    let Some(name) = req.name else {
        return Err(required("createAuthorizerInput.name"));
    };
    let kind = match req.kind.as_deref() {
        None => return Err(required("createAuthorizerInput.type")),
        Some(text) => enum_field(
            text,
            "createAuthorizerInput.type",
            AuthorizerType::parse,
            AuthorizerType::options(", "),
        )?,
    };
    let taken: Vec<String> = api.authorizers.keys().cloned().collect();
    let id = cx.new_id(6, |candidate| taken.iter().any(|t| t == candidate));
    // AWS fills in `authType` when the request leaves it out.
    let auth_type = req.auth_type.or_else(|| {
        Some(match kind {
            AuthorizerType::Token | AuthorizerType::Request => "custom".to_owned(),
            AuthorizerType::CognitoUserPools => "cognito_user_pools".to_owned(),
        })
    });
    let created = Authorizer {
        id,
        name,
        kind,
        provider_arns: req.provider_arns.unwrap_or_default(),
        auth_type,
        authorizer_uri: req.authorizer_uri,
        authorizer_credentials: req.authorizer_credentials,
        identity_source: req.identity_source,
        identity_validation_expression: req.identity_validation_expression,
        // Kept as given: unset reads back absent, and caches for the default 300 s.
        authorizer_result_ttl_in_seconds: req.authorizer_result_ttl_in_seconds,
    };
    authorizer::check(&created)?;
    save(cx, &account, api_id, created, 201)
}

fn save(
    cx: &mut Ctx<'_>,
    account: &str,
    api_id: &str,
    authorizer: Authorizer,
    status: u16,
) -> Result<Reply, ApiError> {
    cx.put(
        kind::AUTHORIZER,
        format!("{api_id}/{}", authorizer.id),
        &authorizer,
    )?;
    let reply = output::Authorizer::from_model(&authorizer);
    cx.state
        .api_mut(account, api_id)?
        .authorizers
        .insert(authorizer.id.clone(), authorizer);
    json(status, &reply)
}

pub fn list(cx: &mut Ctx<'_>, api_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let items = api
        .authorizers
        .values()
        .map(|a| (a.id.clone(), output::Authorizer::from_model(a)))
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn get(cx: &mut Ctx<'_>, api_id: &str, id: &str) -> Result<Reply, ApiError> {
    json(200, &output::Authorizer::from_model(find(cx, api_id, id)?))
}

pub fn update(cx: &mut Ctx<'_>, api_id: &str, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateAuthorizerInput")?;
    let account = cx.config.account_id.clone();
    let current = find(cx, api_id, id)?;
    let updated = patch::apply_authorizer(current, &ops)?;
    authorizer::check(&updated)?;
    if updated.kind != current.kind
        && let Some(user) = first_user(cx, api_id, id)?
    {
        return Err(ApiError::conflict(format!(
            "Cannot change the type of authorizer {id}: it is used by method {user}"
        )));
    }
    save(cx, &account, api_id, updated, 200)
}

/// TestInvokeAuthorizer: checks the call here, under the lock; the gateway asks the
/// authorizer outside it ([`crate::Deferred::TestAuthorizer`]).
pub fn test_invoke(
    cx: &mut Ctx<'_>,
    api_id: &str,
    id: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let req: input::TestInvokeAuthorizer = causeway_wire::decode(body)?;
    let authorizer = find(cx, api_id, id)?.clone();
    let stage_variables = req.stage_variables.unwrap_or_default();
    causeway_model::validate::stage_variables(&stage_variables)?;
    let headers = crate::ops::test_invoke::request_headers(req.headers, req.multi_value_headers)?;
    let path_with_query_string = req
        .path_with_query_string
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/".to_owned());
    if !path_with_query_string.starts_with('/') {
        return Err(ApiError::bad_request(format!(
            "pathWithQueryString must start with '/', got '{path_with_query_string}'"
        )));
    }
    let call = causeway_model::gateway::TestAuthorizer {
        api_id: api_id.to_owned(),
        authorizer,
        headers,
        path_with_query_string,
        stage_variables,
    };
    Ok(Reply {
        status: 200,
        body: Vec::new(),
        error_code: None,
        content_type: "application/json",
        headers: Vec::new(),
        deferred: Some(crate::Deferred::TestAuthorizer(Box::new(call))),
    })
}

/// An authorizer that a method of the API names cannot go: AWS refuses with a conflict.
pub fn delete(cx: &mut Ctx<'_>, api_id: &str, id: &str) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    let name = find(cx, api_id, id)?.name.clone();
    if let Some(user) = first_user(cx, api_id, id)? {
        return Err(ApiError::conflict(format!(
            "Cannot delete authorizer '{name}', is referenced in method: {user}"
        )));
    }
    cx.delete(kind::AUTHORIZER, format!("{api_id}/{id}"));
    cx.state.api_mut(&account, api_id)?.authorizers.remove(id);
    empty(202)
}

/// The first method (`{VERB}/{path}`, `GET//pets` as AWS writes it) of the API's working
/// copy that names authorizer `id`.
fn first_user(cx: &Ctx<'_>, api_id: &str, id: &str) -> Result<Option<String>, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    Ok(api.resources.values().find_map(|resource| {
        resource
            .methods
            .iter()
            .find(|(_, method)| method.authorizer_id.as_deref() == Some(id))
            .map(|(verb, _)| format!("{verb}/{}", api.path_of(resource)))
    }))
}
