//! AWS integrations with services other than Lambda (S3, SQS, DynamoDB, Step Functions,
//! Kinesis, SNS, EventBridge, ...), called at the endpoint `--aws-endpoint` gives for the
//! service.
//!
//! The request is built as for a non-proxy HTTP integration (request template or
//! passthrough, mapped headers and query parameters, `$context.requestOverride`), sent to
//! the service's path-based API (`path/...`) or action-based API (`action/...`), and signed
//! with SigV4 for the uri's region and service. The service's answer goes through the
//! integration responses by its status, as a backend's does.

use causeway_model::aws_service::{self, CALLER_CREDENTIALS};

use super::*;
use crate::aws::{AwsCredentials, Unsigned};

/// An AWS integration with a service other than Lambda.
pub(super) async fn call(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    let (target, method, head, body) = request(call)?;
    let response = send(call, target.request(&method, &head, body, false)).await?;
    http_answer(call, response).await
}

/// The request to the service: where it goes, its method, its signed header section and
/// its body.
fn request<'c>(
    call: &Call<'c>,
) -> Result<(BackendTarget<'c>, http::Method, Vec<u8>, Bytes), Failure> {
    let (body, overrides) = request_body(call)?;
    let template = call
        .integration
        .uri
        .as_deref()
        .ok_or_else(|| Failure::configuration("the integration has no uri"))?;
    let resolved = substitute_stage_variables(template, &call.stage.stage.variables)
        .map_err(|e| Failure::configuration(format!("integration uri: {e}")))?;
    let mut filled = String::with_capacity(resolved.len());
    PathTemplate::parse(&resolved).write(&mut filled, |name| {
        placeholder_value(call, Some(&overrides), name)
    });
    let uri = aws_service::parse(&filled).ok_or_else(|| {
        Failure::configuration(format!(
            "the integration uri '{filled}' names no AWS service API: write arn:aws:apigateway:{{region}}:{{service}}:path/{{path}} or arn:aws:apigateway:{{region}}:{{service}}:action/{{Action}}"
        ))
    })?;
    let services = call.gateway.config.aws.as_ref().ok_or_else(|| {
        Failure::configuration(format!(
            "the integration calls the AWS service '{}', and no endpoint is set for AWS services: start causeway serve with --aws-endpoint URL (LocalStack, moto) or --aws-endpoint {}=URL",
            uri.service, uri.service
        ))
    })?;
    let endpoint = services.endpoint(uri.service).ok_or_else(|| {
        Failure::configuration(format!(
            "no endpoint is set for the AWS service '{}': start causeway serve with --aws-endpoint {}=URL, or --aws-endpoint URL for every service",
            uri.service, uri.service
        ))
    })?;
    let credentials = credentials(call, services.credentials())?;

    let service_target = uri.request_target();
    let (path, own_query) = match service_target.split_once('?') {
        Some((path, query)) => (path, Some(query).filter(|q| !q.is_empty())),
        None => (service_target.as_str(), None),
    };
    let mut target = String::with_capacity(endpoint.path.len() + service_target.len() + 32);
    target.push_str(&endpoint.path);
    target.push_str(path);
    append_query(call, Some(&overrides), &mut target, own_query)?;

    let method = backend_method(call)?;
    // No body with methods that take none (S3 and others refuse or misread one).
    let body = if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        Bytes::new()
    } else {
        body
    };
    let host = HeaderValue::from_str(&endpoint.authority).map_err(|e| {
        Failure::configuration(format!(
            "invalid endpoint host '{}': {e}",
            endpoint.authority
        ))
    })?;
    let mut headers = request_headers(call, host.clone(), false);
    let headers = &mut headers;
    // The action's target for the JSON-protocol services API Gateway knows; a mapping of
    // `X-Amz-Target` wins.
    if let Some(amz_target) = uri.amz_target()
        && let Ok(value) = HeaderValue::from_str(&amz_target)
    {
        headers.insert(HeaderName::from_static("x-amz-target"), value);
    }
    map_headers(headers, call, &overrides)?;

    let scheme = if endpoint.https { "https" } else { "http" };
    let url = format!("{scheme}://{}{target}", endpoint.authority);
    let signed: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "host" | "user-agent" | "accept"))
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let signature = crate::aws::sign(
        &Unsigned {
            method: method.as_str(),
            url: &url,
            headers: &signed,
            body: &body,
            region: uri.region,
            service: uri.signing_name(),
            s3: uri.is_s3(),
        },
        &credentials,
    )
    .map_err(|why| Failure::configuration(format!("AWS service '{}': {why}", uri.service)))?;
    drop(signed);
    for (name, value) in signature {
        let value = HeaderValue::from_str(&value)
            .map_err(|e| Failure::configuration(format!("signing header {name}: {e}")))?;
        headers.insert(HeaderName::from_static(name), value);
    }

    let target = BackendTarget {
        https: endpoint.https,
        authority: Cow::Owned(endpoint.authority.clone()),
        target,
        host,
    };
    if call.log.is_some() {
        log_endpoint_request(call, &target, &masked(headers), &body);
    }
    let mut head = Vec::with_capacity(HEAD_CAPACITY);
    write_headers(&mut head, headers);
    Ok((target, method, head, body))
}

/// The headers as the execution log shows them: the signature and the session token
/// masked but for their last 6 characters, as AWS's logs show them.
fn masked(headers: &HeaderMap) -> HeaderMap {
    let mut shown = headers.clone();
    for name in [
        header::AUTHORIZATION,
        HeaderName::from_static("x-amz-security-token"),
    ] {
        if let Some(text) = shown.get(&name).and_then(|v| v.to_str().ok()) {
            let kept = text.len().saturating_sub(6);
            let mask = format!("{}{}", "*".repeat(kept), &text[kept..]);
            if let Ok(value) = HeaderValue::from_str(&mask) {
                shown.insert(name, value);
            }
        }
    }
    shown
}

/// The credentials the request is signed with. The integration's `credentials` role is
/// not assumed (nothing here issues a role's credentials): the server's own stand in for
/// it. `arn:aws:iam::*:user/*` signs with the caller's own, as on AWS, which only an
/// `AWS_IAM` method has.
fn credentials<'c>(
    call: &Call<'c>,
    server: &'c AwsCredentials,
) -> Result<std::borrow::Cow<'c, AwsCredentials>, Failure> {
    if call.integration.credentials.as_deref() != Some(CALLER_CREDENTIALS) {
        return Ok(std::borrow::Cow::Borrowed(server));
    }
    let caller = call.caller.ok_or_else(|| {
        Failure::configuration(
            "the integration's credentials are the caller's (arn:aws:iam::*:user/*), and the request was not signed: set the method's authorizationType to AWS_IAM",
        )
    })?;
    Ok(std::borrow::Cow::Owned(AwsCredentials {
        access_key_id: caller.access_key.clone(),
        secret_access_key: caller.secret().to_owned(),
        session_token: caller.session_token.clone(),
    }))
}
