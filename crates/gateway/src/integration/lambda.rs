//! AWS_PROXY and AWS integrations with Lambda functions, called through the Lambda Invoke
//! API endpoint the gateway is given (`--lambda-endpoint`).
//!
//! AWS_PROXY (payload format 1.0): the request goes as the proxy event, and the function's
//! `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}` is the answer. A
//! function error or an answer of another shape is 502 `Internal server error`.
//!
//! AWS (non-proxy): the mapped request (request template or passthrough) is the payload; a
//! result goes through the default integration response, a function error through the one
//! whose `selectionPattern` matches its `errorMessage` (else the default), with the result or
//! the error as `$input`.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::*;
use crate::lambda::{InvocationType, InvokeError, Invoked};

/// Headers a function's proxy answer cannot set as they are: AWS returns them renamed.
const REMAPPED: &[(&str, &str)] = &[
    ("connection", "x-amzn-remapped-connection"),
    ("content-length", "x-amzn-remapped-content-length"),
    ("date", "x-amzn-remapped-date"),
    ("server", "x-amzn-remapped-server"),
];

/// The function an integration's uri names, with the stage's variables in.
fn function(call: &Call<'_>) -> Result<String, Failure> {
    let uri = call.integration.uri.as_deref().unwrap_or_default();
    let function = causeway_model::authorizer::lambda_function(uri).ok_or_else(|| {
        Failure::configuration(format!(
            "the integration uri '{uri}' names no Lambda function"
        ))
    })?;
    substitute_stage_variables(function, &call.stage.stage.variables)
        .map(Cow::into_owned)
        .map_err(|error| Failure::configuration(format!("the integration uri: {error}")))
}

/// Invokes the function within the integration's timeout.
async fn invoke(
    call: &Call<'_>,
    function: &str,
    (payload, invocation): (Bytes, InvocationType),
) -> Result<Invoked, Failure> {
    let timeout =
        Duration::from_millis(u64::try_from(call.integration.timeout_in_millis).unwrap_or(29_000));
    if let Some(log) = call.log {
        log.line(format_args!(
            "Endpoint request URI: lambda function {function}"
        ));
        log.line(format_args!(
            "Endpoint request body after transformations: {}",
            exec_log::body_text(&payload)
        ));
    }
    let invoked = crate::lambda::invoke(
        call.upstream,
        call.gateway.config.lambda.as_ref(),
        function,
        (payload, invocation),
        timeout,
    )
    .await;
    match invoked {
        Ok(invoked) => {
            if let Some(log) = call.log {
                let (status, body) = match &invoked {
                    Invoked::Returned(body) => ("returned", body),
                    Invoked::Failed { body, .. } => ("failed", body),
                };
                log.line(format_args!(
                    "Endpoint response body before transformations ({status}): {}",
                    exec_log::body_text(body)
                ));
            }
            Ok(invoked)
        }
        Err(InvokeError::Timeout(_)) => Err(Failure::new(
            Kind::IntegrationTimeout,
            "Endpoint request timed out",
        )
        .because(format!("Lambda function {function} did not answer in time"))),
        // The Lambda API refused or could not be reached: 500, as when AWS's refuses.
        Err(error) => Err(Failure::configuration(format!(
            "Lambda function {function}: {error}"
        ))),
    }
}

/// An AWS_PROXY integration.
pub(super) async fn proxy(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    // AWS accepts another integration method when the integration is stored, and fails the
    // call with 500.
    if call.integration.http_method != Some(HttpMethod::Post) {
        return Err(Failure::configuration(
            "an AWS_PROXY integration calls its Lambda function with POST; set the integration's httpMethod to POST",
        ));
    }
    let function = function(call)?;
    let event = proxy_event(call);
    let payload = Bytes::from(serde_json::to_vec(&event).unwrap_or_default());
    let answer = match invoke(call, &function, (payload, InvocationType::RequestResponse)).await? {
        Invoked::Returned(answer) => answer,
        Invoked::Failed { message, .. } => {
            return Err(
                Failure::new(Kind::BadGateway, "Internal server error").because(format!(
                    "Lambda execution failed due to customer function error: {}",
                    message.as_deref().unwrap_or("no error message")
                )),
            );
        }
    };
    let mut response = proxy_response(call, &answer).map_err(|why| {
        Failure::new(Kind::BadGateway, "Internal server error")
            .because(format!("Malformed Lambda proxy response: {why}"))
    })??;
    if !response.headers().contains_key(&names::TRACE_ID) {
        response
            .headers_mut()
            .insert(&names::TRACE_ID, trace_id(call));
    }
    Ok(response)
}

/// The proxy event of the request (payload format 1.0).
fn proxy_event(call: &Call<'_>) -> Value {
    let facts = crate::lambda_event::Facts {
        secure: call.secure,
        gateway: call.gateway,
        api_id: call.api_id,
        stage: &call.stage.stage.stage_name,
        deployment_id: &call.stage.deployment.id,
        stage_variables: &call.stage.stage.variables,
        method: call.method.as_str(),
        headers: call.headers,
        path: call.path,
        domain_path: call.domain_path,
        query: call.query,
        resource_path: &call.matched.resource.path,
        resource_id: &call.matched.resource.resource.id,
        path_params: &call.matched.path_params,
        client: call.client.ip(),
        request_id: call.request_id,
        host: call.headers.get_str("host"),
        caller: call.caller,
        client_cert: call.client_cert,
    };
    let forwarded_for = match call.headers.get_str("x-forwarded-for") {
        Some(before) => format!("{before}, {}", call.client.ip()),
        None => call.client.ip().to_string(),
    };
    let trace = call
        .headers
        .get_str("x-amzn-trace-id")
        .map(str::to_owned)
        .unwrap_or_else(|| trace_id(call).to_str().unwrap_or_default().to_owned());
    let extra = [
        ("X-Forwarded-For", forwarded_for),
        ("X-Forwarded-Port", call.local.port().to_string()),
        (
            "X-Forwarded-Proto",
            if call.secure { "https" } else { "http" }.to_owned(),
        ),
        ("X-Amzn-Trace-Id", trace),
    ];
    let mut fields = crate::lambda_event::request_fields(
        &facts,
        &extra,
        &["content-length", "connection"],
        true,
    );
    if let Some(outcome) = call.authorizer
        && let Some(Value::Object(context)) = fields.get_mut("requestContext")
    {
        let mut authorizer = Map::new();
        if outcome.claims.is_empty() {
            authorizer.insert(
                "principalId".into(),
                Value::String(outcome.principal_id.clone()),
            );
            authorizer.insert("integrationLatency".into(), Value::from(0));
            for (key, value) in &outcome.context {
                authorizer.insert(key.clone(), Value::String(value.clone()));
            }
        } else {
            let claims = outcome
                .claims
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            authorizer.insert("claims".into(), Value::Object(claims));
        }
        context.insert("authorizer".into(), Value::Object(authorizer));
    }
    let binary = call.headers.get_str("content-type").is_some_and(|ct| {
        crate::lambda_event::is_binary(ct, &call.stage.deployment.snapshot.api.binary_media_types)
    });
    let (body, encoded) = if call.body.is_empty() {
        (Value::Null, false)
    } else if binary {
        (
            Value::String(base64::engine::general_purpose::STANDARD.encode(&call.body)),
            true,
        )
    } else {
        (
            Value::String(String::from_utf8_lossy(&call.body).into_owned()),
            false,
        )
    };
    fields.insert("body".into(), body);
    fields.insert("isBase64Encoded".into(), Value::Bool(encoded));
    Value::Object(fields)
}

/// The answer a function's proxy result makes. The outer error is a result of another
/// shape (502); the inner one a body that should be decoded and is not base64 (500).
fn proxy_response(
    call: &Call<'_>,
    answer: &[u8],
) -> Result<Result<Response<Body>, Failure>, String> {
    let value: Value =
        serde_json::from_slice(answer).map_err(|e| format!("it is not JSON ({e})"))?;
    let Value::Object(fields) = value else {
        return Err(format!("it is {}, not an object", kind_of(&value)));
    };
    if let Some(key) = fields.keys().find(|k| {
        !matches!(
            k.as_str(),
            "statusCode" | "headers" | "multiValueHeaders" | "body" | "isBase64Encoded"
        )
    }) {
        return Err(format!("it has a key '{key}' a proxy result cannot have"));
    }
    let status = match fields.get("statusCode") {
        None | Some(Value::Null) => 200,
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| format!("statusCode {n} is no HTTP status"))?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<u16>()
            .map_err(|_| format!("statusCode '{s}' is no HTTP status"))?,
        Some(other) => return Err(format!("statusCode is {}", kind_of(other))),
    };
    let status = StatusCode::from_u16(status)
        .map_err(|_| format!("statusCode {status} is no HTTP status"))?;
    let text = |value: &Value| -> Result<Option<String>, String> {
        match value {
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            Value::Null => Ok(None),
            other => Err(format!("a header value is {}", kind_of(other))),
        }
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    match fields.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(headers)) => {
            for (name, value) in headers {
                if let Some(value) = text(value)? {
                    pairs.push((name.clone(), value));
                }
            }
        }
        Some(other) => return Err(format!("headers is {}", kind_of(other))),
    }
    match fields.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(headers)) => {
            for (name, values) in headers {
                let Value::Array(values) = values else {
                    return Err(format!("multiValueHeaders '{name}' is not a list"));
                };
                // Values of a name given both ways come from multiValueHeaders.
                pairs.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                for value in values {
                    if let Some(value) = text(value)? {
                        pairs.push((name.clone(), value));
                    }
                }
            }
        }
        Some(other) => return Err(format!("multiValueHeaders is {}", kind_of(other))),
    }
    let body = match fields.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(body)) => body.clone(),
        Some(other) => return Err(format!("body is {}, not a string", kind_of(other))),
    };
    let encoded = match fields.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("isBase64Encoded is {}", kind_of(other))),
    };
    // The body is decoded only for a client whose first Accept type is a binary media type
    // of the API; otherwise the base64 text goes as it is.
    let accepts_binary = call
        .headers
        .get_str("accept")
        .and_then(|accept| accept.split(',').next())
        .is_some_and(|first| {
            crate::lambda_event::is_binary(
                first,
                &call.stage.deployment.snapshot.api.binary_media_types,
            )
        });
    let body = if encoded && accepts_binary {
        match base64::engine::general_purpose::STANDARD.decode(body.trim()) {
            Ok(bytes) => Bytes::from(bytes),
            Err(error) => {
                return Ok(Err(Failure::configuration(format!(
                    "the Lambda proxy response's body is not base64 ({error})"
                ))));
            }
        }
    } else {
        Bytes::from(body)
    };
    let mut response = Response::new(Either::Left(Full::new(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in pairs {
        let lower = name.to_ascii_lowercase();
        if lower == "transfer-encoding" {
            continue;
        }
        let name = REMAPPED
            .iter()
            .find(|(from, _)| *from == lower)
            .map_or(lower, |(_, to)| (*to).to_owned());
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            headers.append(name, value);
        }
    }
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(Ok(response))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// An AWS (non-proxy) integration with a Lambda function.
pub(super) async fn aws(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    let function = function(call)?;
    let (payload, _) = request_body(call)?;
    let invocation = invocation_type(call)?;
    let (error, body) = match invoke(call, &function, (payload, invocation)).await? {
        Invoked::Returned(body) => (None, body),
        Invoked::Failed { message, body } => (Some(message.unwrap_or_default()), body),
    };
    let chosen = match &error {
        // A result goes through the default response.
        None => match default_response(call.integration) {
            Some(default) => default,
            None => select_response(call.integration, "")?,
        },
        Some(message) => select_response(call.integration, message)?,
    };
    let mut response = respond(call, chosen, None, body)?;
    response
        .headers_mut()
        .insert(&names::TRACE_ID, trace_id(call));
    Ok(response)
}

/// How a non-proxy integration invokes its function: as its request parameters map
/// `X-Amz-Invocation-Type` (`Event` for an asynchronous call, as AWS documents), else
/// `RequestResponse`.
fn invocation_type(call: &Call<'_>) -> Result<InvocationType, Failure> {
    let mapped = call.integration.request_parameters.iter().find(|(key, _)| {
        key.strip_prefix("integration.request.header.")
            .is_some_and(|name| name.eq_ignore_ascii_case("x-amz-invocation-type"))
    });
    let Some((_, source)) = mapped else {
        return Ok(InvocationType::RequestResponse);
    };
    let Some(value) = parameter_value(call, source)? else {
        return Ok(InvocationType::RequestResponse);
    };
    InvocationType::parse(&value).ok_or_else(|| {
        Failure::configuration(format!(
            "X-Amz-Invocation-Type '{value}' is none of RequestResponse, Event, DryRun"
        ))
    })
}

/// The integration response without a `selectionPattern`.
fn default_response(integration: &Integration) -> Option<&IntegrationResponse> {
    integration
        .integration_responses
        .values()
        .find(|r| r.selection_pattern.as_deref().is_none_or(str::is_empty))
}
