//! TestInvokeMethod: runs one method as it is configured now, deployed or not, and answers
//! with what the client would have seen plus the execution log.
//!
//! The checks happen here, under the control plane's lock; the call itself runs on the
//! gateway, outside the lock ([`crate::Deferred::TestInvoke`]).

use std::sync::Arc;

use causeway_model::gateway::TestInvoke;
use causeway_model::{ApiError, DeployedResource, Deployment, validate};
use causeway_routing::CompiledApi;
use causeway_wire::input;

use crate::ctx::Ctx;
use crate::ops::methods::At;
use crate::{Deferred, Reply};

/// The headers of a test call, in order: `headers`, then `multiValueHeaders` (a header given
/// both ways is sent with the multi-valued list only); every name and value must be one a
/// request could carry.
pub(crate) fn request_headers(
    single: Option<std::collections::BTreeMap<String, String>>,
    multi: Option<std::collections::BTreeMap<String, Vec<String>>>,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut headers: Vec<(String, String)> = single.unwrap_or_default().into_iter().collect();
    for (name, values) in multi.unwrap_or_default() {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        for value in values {
            headers.push((name.clone(), value));
        }
    }
    for (name, value) in &headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(ApiError::bad_request(format!(
                "Invalid header name '{name}'"
            )));
        }
        if http::HeaderValue::from_str(value).is_err() {
            return Err(ApiError::bad_request(format!(
                "Invalid value for header '{name}'"
            )));
        }
    }
    Ok(headers)
}

pub fn test_invoke(cx: &mut Ctx<'_>, at: &At<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::TestInvokeMethod = causeway_wire::decode(body)?;
    let api = cx.state.api(&cx.config.account_id, at.api)?;
    let resource = api.resource(at.resource)?;
    if !resource.methods.contains_key(at.method) {
        return Err(ApiError::not_found("Invalid Method identifier specified"));
    }
    let resource_path = api.path_of(resource);
    let path_with_query_string = match req.path_with_query_string {
        Some(path) if !path.is_empty() => path,
        _ => resource_path.clone(),
    };
    if !path_with_query_string.starts_with('/') {
        return Err(ApiError::bad_request(format!(
            "pathWithQueryString must start with '/', got '{path_with_query_string}'"
        )));
    }
    let stage_variables = req.stage_variables.unwrap_or_default();
    validate::stage_variables(&stage_variables)?;
    let headers = request_headers(req.headers, req.multi_value_headers)?;
    let client_certificate = match req.client_certificate_id.as_deref() {
        None | Some("") => None,
        Some(id) => Some(Arc::new(
            cx.state
                .client_certificates
                .get(id)
                .ok_or_else(|| ApiError::not_found(crate::ops::client_certificates::NOT_FOUND))?
                .into(),
        )),
    };
    // The resource under test, with only the method under test, and its ancestors without
    // their methods: the route tree has the whole path and only this method answers.
    let mut under_test = resource.clone();
    under_test.methods.retain(|verb, _| verb == at.method);
    let mut resources = vec![DeployedResource {
        path: resource_path.clone(),
        resource: under_test,
    }];
    let mut parent = resource.parent_id.as_deref();
    while let Some(id) = parent
        && resources.len() <= api.resources.len()
    {
        let Ok(ancestor) = api.resource(id) else {
            break;
        };
        let mut bare = ancestor.clone();
        bare.methods.clear();
        resources.push(DeployedResource {
            path: api.path_of(ancestor),
            resource: bare,
        });
        parent = ancestor.parent_id.as_deref();
    }
    resources.sort_by_key(|r| r.resource.seq);
    let snapshot = api.snapshot_with(resources);
    // The path must be one the resource answers, so that path parameters have values.
    let path = path_with_query_string
        .split_once('?')
        .map_or(path_with_query_string.as_str(), |(path, _)| path);
    let routes = CompiledApi::compile(&snapshot);
    // `ANY` is tried with a GET (the gateway does the same).
    let verb = if at.method == "ANY" { "GET" } else { at.method };
    if routes.route(verb, path).is_err() {
        return Err(ApiError::bad_request(format!(
            "The path '{path}' does not match the resource path '{resource_path}'"
        )));
    }
    let call = TestInvoke {
        deployment: Arc::new(Deployment {
            id: "test-invoke".to_owned(),
            description: None,
            created_date: cx.now,
            snapshot,
        }),
        http_method: at.method.to_owned(),
        path_with_query_string,
        stage_variables,
        headers,
        body: req.body.unwrap_or_default(),
        client_certificate,
    };
    Ok(Reply {
        status: 200,
        body: Vec::new(),
        error_code: None,
        content_type: "application/json",
        headers: Vec::new(),
        deferred: Some(Deferred::TestInvoke(Box::new(call))),
    })
}
