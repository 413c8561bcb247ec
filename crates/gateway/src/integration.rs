//! Integrations: MOCK, HTTP_PROXY and HTTP, over the internet or through a VPC link; AWS and
//! AWS_PROXY with Lambda functions (`lambda.rs`); AWS with other AWS services
//! (`aws_service.rs`).

mod aws_service;
mod lambda;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use causeway_model::{
    ConnectionType, ContentHandling, HttpMethod, Integration, IntegrationResponse, IntegrationType,
    PassthroughBehavior, ResponseTransferMode,
};
use causeway_routing::{PathTemplate, RouteMatch, substitute_stage_variables};

use crate::templates::{self, Direction};
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use http_body_util::{Either, Full};

use crate::conn::remapped;
use crate::errors::{Failure, Kind};
use crate::exec_log::{self, ExecutionLog};
use crate::pipeline::Body;
use crate::pool::{BufferError, PooledBody};
use crate::request::Headers;
use crate::snapshot::{Snapshot, StageEntry};
use crate::upstream::{CallError, Outgoing, Upstream};

/// Everything an integration needs from the request.
pub struct Call<'a> {
    /// Whether the client's request came over TLS.
    pub secure: bool,
    pub method: &'a Method,
    pub headers: &'a Headers,
    pub query: Option<&'a str>,
    pub body: Bytes,
    pub matched: &'a RouteMatch<'a>,
    pub integration: &'a Integration,
    pub stage: &'a StageEntry,
    pub api_id: &'a str,
    pub client: SocketAddr,
    /// The gateway address the client reached (for `X-Forwarded-Port`).
    pub local: SocketAddr,
    pub request_id: &'a str,
    /// `Root=1-...` trace id sent to HTTP backends as `X-Amzn-Trace-Id`, made on first use
    /// (a proxied request that brings its own trace header needs none).
    pub trace_id: &'a OnceLock<HeaderValue>,
    /// When the request arrived (the time in its trace id).
    pub arrived: std::time::Instant,
    pub snapshot: &'a Snapshot,
    pub upstream: &'a Upstream,
    /// The execution log of a test invocation; `None` when serving.
    pub log: Option<&'a ExecutionLog>,
    /// The client connection's timer for integration timeouts; `None` for a test
    /// invocation, which times its one request itself.
    pub timer: Option<&'a crate::upstream::Deadline>,
    /// What the method's authorizer said of the caller (`$context.authorizer.*`).
    pub authorizer: Option<&'a crate::authorizer::Outcome>,
    /// The identity that signed the request, for `AWS_IAM` methods.
    pub caller: Option<&'a causeway_sigv4::Identity>,
    pub gateway: &'a crate::Gateway,
    /// The path after the stage, as the client sent it (the Lambda proxy event's `path`).
    pub path: &'a str,
    /// Through a custom domain, the whole path the client asked for (the Lambda proxy
    /// event's `path` and `requestContext.path` then, as on AWS).
    pub domain_path: Option<&'a str>,
    /// The client's certificate, through a custom domain with mutual TLS.
    pub client_cert: Option<&'a causeway_model::mtls::ClientCert>,
}

/// Runs the method's integration. The call is borrowed: it is a few hundred bytes, and
/// moving it into the future would copy it on every request.
pub async fn run(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    match call.integration.kind {
        IntegrationType::Mock => mock(call),
        IntegrationType::HttpProxy => http_proxy(call).await,
        IntegrationType::Http => http(call).await,
        // Boxed: their futures are large, and would make every integration's future (and
        // the copies of it each request makes) as large.
        IntegrationType::AwsProxy => Box::pin(lambda::proxy(call)).await,
        IntegrationType::Aws => {
            let uri = call.integration.uri.as_deref().unwrap_or_default();
            if causeway_model::authorizer::lambda_function(uri).is_some() {
                Box::pin(lambda::aws(call)).await
            } else {
                Box::pin(aws_service::call(call)).await
            }
        }
    }
}

/// Headers a proxy never forwards (hop-by-hop, or recomputed) on the way to the backend.
const DROPPED_REQUEST_HEADERS: &[&str] = &[
    "connection",
    "content-length",
    "content-md5",
    "expect",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "transfer-encoding",
    "trailer",
    "upgrade",
    "www-authenticate",
    "via",
    "host",
    "keep-alive",
    "proxy-connection",
    "content-encoding",
];

/// Header names the gateway adds, parsed once.
pub(crate) mod names {
    use http::HeaderName;

    pub static API_ID: HeaderName = HeaderName::from_static("x-amzn-apigateway-api-id");
    pub static TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");
    pub static FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
    pub static FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
    pub static FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
    pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
    pub static APIGW_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");
    pub static ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
    pub static API_KEY: HeaderName = HeaderName::from_static("x-api-key");
}

async fn http_proxy(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    let target = backend_uri(call, None)?;
    let method = backend_method(call)?;
    let body = if matches!(*call.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        Bytes::new()
    } else {
        call.body.clone()
    };
    // The header section is written straight into the request, unless header mappings or
    // a test invocation's log need the headers as a map first.
    let mut head = Vec::with_capacity(HEAD_CAPACITY);
    let mapped = call
        .integration
        .request_parameters
        .keys()
        .any(|key| key.starts_with("integration.request.header."));
    if mapped || call.log.is_some() {
        let mut headers = HeaderMap::with_capacity(call.headers.len() + 8);
        proxy_headers(&mut headers, call, &target.host);
        apply_header_mappings(&mut headers, call)?;
        log_endpoint_request(call, &target, &headers, &body);
        write_headers(&mut head, &headers);
    } else {
        proxy_headers(&mut head, call, &target.host);
    }
    // A test invocation logs the backend's headers as they came; otherwise they are
    // remapped as they are read.
    let remap = call.log.is_none();
    let response = send(call, target.request(&method, &head, body, remap)).await?;
    let (mut parts, mut body) = response.into_parts();
    // API Gateway holds an answer whole before it sends any of it, unless the integration
    // streams (`responseTransferMode: STREAM`). A body that came whole with the head is
    // within the limit: it fit in one read buffer.
    if body.is_reading()
        && call.integration.response_transfer_mode != Some(ResponseTransferMode::Stream)
    {
        buffer_answer(call, &mut body).await?;
    }
    if let Some(log) = call.log {
        log.line(format_args!(
            "Endpoint response headers: {}",
            exec_log::header_braces(&parts.headers)
        ));
    }
    if !remap {
        let mut headers = HeaderMap::with_capacity(parts.headers.len() + 4);
        for (name, value) in parts.headers.iter() {
            match remapped(name) {
                None => headers.append(name, value.clone()),
                Some(Some(renamed)) => headers.append(renamed, value.clone()),
                Some(None) => false,
            };
        }
        parts.headers = headers;
    }
    let has_content_type = match body.raw_headers() {
        Some(raw) => raw.contains("content-type"),
        None => parts.headers.contains_key(header::CONTENT_TYPE),
    };
    if !has_content_type {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    // The client speaks HTTP/1.1 to the gateway whatever the backend spoke.
    parts.version = http::Version::HTTP_11;
    Ok(Response::from_parts(parts, Either::Right(body)))
}

/// Room for a typical backend request's header section.
const HEAD_CAPACITY: usize = 1024;

/// Where the headers of a backend request go: a map (when something needs them as one) or
/// the request's header section, written out.
trait HeaderSink {
    /// Adds a header whose value is `parts` one after the other.
    fn put_parts(&mut self, name: &[u8], parts: &[&[u8]]);

    fn put(&mut self, name: &[u8], value: &[u8]) {
        self.put_parts(name, &[value]);
    }
}

impl HeaderSink for HeaderMap {
    fn put_parts(&mut self, name: &[u8], parts: &[&[u8]]) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name),
            HeaderValue::from_bytes(&parts.concat()),
        ) {
            self.append(name, value);
        }
    }
}

impl HeaderSink for Vec<u8> {
    // Names are tokens and values hold no CR or LF: the client's were read by
    // `causeway-http1`, which accepts no other, and the gateway's own are ids, digits and
    // header values.
    fn put_parts(&mut self, name: &[u8], parts: &[&[u8]]) {
        self.extend_from_slice(name);
        self.extend_from_slice(b": ");
        for part in parts {
            self.extend_from_slice(part);
        }
        self.extend_from_slice(b"\r\n");
    }
}

/// Writes a map's headers as a header section.
fn write_headers(out: &mut Vec<u8>, headers: &HeaderMap) {
    for (name, value) in headers {
        causeway_http1::write_header(out, name.as_str(), value.as_bytes());
    }
}

/// Client headers the gateway drops (hop-by-hop or recomputed), or replaces with its own.
fn dropped(name: &[u8]) -> bool {
    DROPPED_REQUEST_HEADERS
        .iter()
        .any(|dropped| causeway_http1::is_name(name, dropped.as_bytes()))
        || [
            &names::API_ID,
            &names::FORWARDED_FOR,
            &names::FORWARDED_PROTO,
            &names::FORWARDED_PORT,
        ]
        .iter()
        .any(|replaced| causeway_http1::is_name(name, replaced.as_str().as_bytes()))
}

/// The headers of an HTTP_PROXY request: the client's (less hop-by-hop ones, a SigV4
/// signature and the ones the gateway sets), the uri's Host, and the forwarding headers.
fn proxy_headers(sink: &mut impl HeaderSink, call: &Call<'_>, host: &HeaderValue) {
    let mut client_trace = false;
    let mut forwarded_for = None;
    for (name, value) in call.headers.iter() {
        if dropped(name) {
            if forwarded_for.is_none()
                && causeway_http1::is_name(name, names::FORWARDED_FOR.as_str().as_bytes())
            {
                forwarded_for = Some(value);
            }
            continue;
        }
        // A SigV4 signature is meant for API Gateway, not the backend.
        if causeway_http1::is_name(name, b"authorization") && value.starts_with(b"AWS4-HMAC-SHA256")
        {
            continue;
        }
        // The client's own trace header passes through; otherwise the gateway starts a trace.
        client_trace |= causeway_http1::is_name(name, names::TRACE_ID.as_str().as_bytes());
        sink.put(name, value);
    }
    sink.put(b"host", host.as_bytes());
    sink.put(names::API_ID.as_str().as_bytes(), call.api_id.as_bytes());
    let mut ip = [0u8; 64];
    let client_ip = format_ip(call.client.ip(), &mut ip);
    let forwarded_for_name = names::FORWARDED_FOR.as_str().as_bytes();
    match forwarded_for.and_then(crate::request::visible_text) {
        Some(existing) => {
            sink.put_parts(forwarded_for_name, &[existing.as_bytes(), b", ", client_ip]);
        }
        None => sink.put(forwarded_for_name, client_ip),
    }
    // As the client came: the HTTPS listener's, or the plain one's.
    let proto: &[u8] = if call.secure { b"https" } else { b"http" };
    sink.put(names::FORWARDED_PROTO.as_str().as_bytes(), proto);
    let mut port = [0; 20];
    sink.put(
        names::FORWARDED_PORT.as_str().as_bytes(),
        causeway_http1::decimal(u64::from(call.local.port()), &mut port),
    );
    if !client_trace {
        sink.put(
            names::TRACE_ID.as_str().as_bytes(),
            &crate::pipeline::trace_text(call.arrived),
        );
    }
}

async fn http(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    let (target, method, head, body) = http_request(call)?;
    let response = send(call, target.request(&method, &head, body, false)).await?;
    http_answer(call, response).await
}

/// The backend request of a non-proxy HTTP integration: target, method, header section and
/// body. Made apart from the wait for the answer, so that nothing it needs (the request
/// template's overrides, the header map) makes the integration's future, and with it
/// every request's, larger.
fn http_request<'c>(
    call: &Call<'c>,
) -> Result<(BackendTarget<'c>, http::Method, Vec<u8>, Bytes), Failure> {
    // The request template first: what it sets in `$context.requestOverride` shapes the
    // integration request.
    let (body, overrides) = request_body(call)?;
    let target = backend_uri(call, Some(&overrides))?;
    let method = backend_method(call)?;
    let mut headers = request_headers(call, target.host.clone(), true);
    map_headers(&mut headers, call, &overrides)?;
    log_endpoint_request(call, &target, &headers, &body);
    let mut head = Vec::with_capacity(HEAD_CAPACITY);
    write_headers(&mut head, &headers);
    Ok((target, method, head, body))
}

/// The headers API Gateway puts on a non-proxy integration request: `Host`, `Accept:
/// application/json`, `User-Agent: AmazonAPIGateway_{api}`, the API id (to HTTP backends)
/// and `X-Amzn-Trace-Id`.
fn request_headers(call: &Call<'_>, host: HeaderValue, api_id: bool) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(12);
    headers.insert(header::HOST, host);
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    if let Ok(agent) = HeaderValue::from_str(&format!("AmazonAPIGateway_{}", call.api_id)) {
        headers.insert(header::USER_AGENT, agent);
    }
    if api_id && let Ok(id) = HeaderValue::from_str(call.api_id) {
        headers.insert(&names::API_ID, id);
    }
    headers.insert(&names::TRACE_ID, trace_id(call));
    headers
}

/// The integration's `integration.request.header.*` mappings, then the request template's
/// `$context.requestOverride.header.*`, which win.
fn map_headers(
    headers: &mut HeaderMap,
    call: &Call<'_>,
    overrides: &templates::Mapped,
) -> Result<(), Failure> {
    apply_header_mappings(headers, call)?;
    apply_overrides(headers, &overrides.headers);
    Ok(())
}

/// The method response of a non-proxy HTTP integration, from the backend's answer.
async fn http_answer(
    call: &Call<'_>,
    response: http::Response<crate::pool::PooledBody>,
) -> Result<Response<Body>, Failure> {
    let status = response.status();
    let (parts, mut body) = response.into_parts();
    let backend_headers = parts.headers;
    buffer_answer(call, &mut body).await?;
    let backend_body = body.take_whole().unwrap_or_default();
    if let Some(log) = call.log {
        log.line(format_args!(
            "Endpoint response headers: {}",
            exec_log::header_braces(&backend_headers)
        ));
        log.line(format_args!(
            "Endpoint response body before transformations: {}",
            exec_log::body_text(&backend_body)
        ));
    }
    let chosen = select_response(call.integration, status.as_str())?;
    let mut response = respond(call, chosen, Some(&backend_headers), backend_body)?;
    // Non-proxy HTTP answers carry the trace id; MOCK and HTTP_PROXY answers do not.
    response
        .headers_mut()
        .insert(&names::TRACE_ID, trace_id(call));
    Ok(response)
}

/// The request's trace id header, made on first use.
fn trace_id(call: &Call<'_>) -> HeaderValue {
    call.trace_id
        .get_or_init(|| crate::pipeline::trace_id(call.arrived))
        .clone()
}

/// Logs the request about to go to the backend (test invocations only).
fn log_endpoint_request(
    call: &Call<'_>,
    target: &BackendTarget<'_>,
    headers: &HeaderMap,
    body: &Bytes,
) {
    let Some(log) = call.log else {
        return;
    };
    log.line(format_args!("Endpoint request URI: {}", target.url()));
    log.line(format_args!(
        "Endpoint request headers: {}",
        exec_log::header_braces(headers)
    ));
    log.line(format_args!(
        "Endpoint request body after transformations: {}",
        exec_log::body_text(body)
    ));
}

fn mock(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    let content_type = request_content_type(call.headers);
    let status = match template_for(&call.integration.request_templates, &content_type) {
        None => "200".to_owned(),
        Some(template) => {
            let rendered = templates::render(call, template, &call.body, Direction::Request)?;
            let value: serde_json::Value = serde_json::from_str(&rendered.text).map_err(|e| {
                Failure::configuration(format!("the MOCK request template is not JSON: {e}"))
            })?;
            match &value["statusCode"] {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s.clone(),
                _ => "200".to_owned(),
            }
        }
    };
    let chosen = select_response(call.integration, &status)?;
    respond(call, chosen, None, Bytes::new())
}

/// Picks the integration response whose `selectionPattern` matches the whole status (as
/// Java's `String.matches` does on AWS), else the default one.
fn select_response<'i>(
    integration: &'i Integration,
    status: &str,
) -> Result<&'i IntegrationResponse, Failure> {
    let mut default = None;
    for response in integration.integration_responses.values() {
        match response.selection_pattern.as_deref() {
            None | Some("") => default = default.or(Some(response)),
            Some(pattern) => {
                let regex = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                    Failure::configuration(format!("invalid selectionPattern '{pattern}': {e}"))
                })?;
                if regex.is_match(status) {
                    return Ok(response);
                }
            }
        }
    }
    default.ok_or_else(|| {
        Failure::configuration(format!(
            "no integration response matches status {status} and none is the default"
        ))
    })
}

/// Builds the method response from a chosen integration response.
fn respond(
    call: &Call<'_>,
    chosen: &IntegrationResponse,
    backend_headers: Option<&HeaderMap>,
    backend_body: Bytes,
) -> Result<Response<Body>, Failure> {
    let status = chosen
        .status_code
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| {
            Failure::configuration(format!("invalid status code {}", chosen.status_code))
        })?;
    // The template for the client's first Accept type, else application/json, else the
    // first one.
    let accepted = call
        .headers
        .get_str("accept")
        .and_then(|accept| accept.split(',').next())
        .and_then(|first| first.split(';').next())
        .map(str::trim)
        .filter(|first| !first.is_empty() && *first != "*/*");
    let binary_types = &call.stage.deployment.snapshot.api.binary_media_types;
    let payload_binary = !binary_types.is_empty()
        && backend_headers
            .and_then(|h| h.get(header::CONTENT_TYPE))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| crate::lambda_event::is_binary(ct, binary_types));
    let accept_binary = !binary_types.is_empty()
        && call
            .headers
            .get_str("accept")
            .and_then(|accept| accept.split(',').next())
            .is_some_and(|first| crate::lambda_event::is_binary(first, binary_types));
    let (payload, binary) =
        match response_conversion(payload_binary, accept_binary, chosen.content_handling) {
            Conversion::Unchanged => (backend_body.clone(), payload_binary),
            Conversion::Decode => (
                base64_decode(&backend_body).map_err(|why| {
                    Failure::configuration(format!(
                        "Unable to convert the integration response to binary: {why}"
                    ))
                })?,
                true,
            ),
            Conversion::Encode => {
                use base64::Engine as _;
                (
                    Bytes::from(base64::engine::general_purpose::STANDARD.encode(&backend_body)),
                    false,
                )
            }
        };
    // A binary answer goes as it is; a text one through the template.
    let templates = &chosen.response_templates;
    let template = accepted
        .and_then(|accepted| {
            templates
                .iter()
                .find(|(ct, _)| ct.eq_ignore_ascii_case(accepted))
        })
        .or_else(|| templates.get_key_value("application/json"))
        .or_else(|| templates.iter().next())
        .filter(|_| !binary);
    let mut overrides = templates::Mapped::default();
    let body = match template {
        Some((_, template)) => {
            overrides = templates::render(call, template, &payload, Direction::Response)?;
            Bytes::from(std::mem::take(&mut overrides.text))
        }
        None => payload,
    };
    let mut response = Response::new(Either::Left(Full::new(body)));
    *response.status_mut() = overrides
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(status);
    let headers = response.headers_mut();
    // The answer is of the type its template makes.
    let content_type = template
        .and_then(|(ct, _)| HeaderValue::from_str(ct).ok())
        .unwrap_or_else(|| HeaderValue::from_static("application/json"));
    headers.insert(header::CONTENT_TYPE, content_type);
    for (key, source) in &chosen.response_parameters {
        let Some(name) = key.strip_prefix("method.response.header.") else {
            continue;
        };
        let value = if let Some(text) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\''))
        {
            Some(text.to_owned())
        } else if let Some(from) = source.strip_prefix("integration.response.header.") {
            backend_headers
                .and_then(|h| h.get(from))
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        } else if let Some(from) = source.strip_prefix("integration.response.multivalueheader.") {
            backend_headers.map(|h| {
                h.get_all(from)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect::<Vec<_>>()
                    .join(",")
            })
        } else if source.starts_with("stageVariables.") || source.starts_with("context.") {
            parameter_value(call, source)?
        } else if source == "integration.response.body" {
            Some(String::from_utf8_lossy(&backend_body).into_owned())
        } else if let Some(path) = source.strip_prefix("integration.response.body.") {
            // `integration.response.body.JSONPath`, with or without its leading `$.`.
            let path = if path.starts_with('$') {
                path.to_owned()
            } else {
                format!("$.{path}")
            };
            let body = String::from_utf8_lossy(&backend_body);
            let found = causeway_vtl::json_path(&body, &path)
                .map_err(|e| Failure::configuration(format!("response parameter {source}: {e}")))?;
            found.map(|value| match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            })
        } else {
            return Err(Failure::configuration(format!(
                "response parameter source '{source}' is not supported yet (use 'static', integration.response.header.NAME or integration.response.body[.JSONPath])"
            )));
        };
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::try_from(name),
            value.map(|v| HeaderValue::from_str(&v)),
        ) {
            headers.insert(name, value);
        }
    }
    apply_overrides(headers, &overrides.headers);
    Ok(response)
}

/// Headers a template set through `$context.requestOverride.header.*` or
/// `$context.responseOverride.header.*`; they replace any of the same name.
fn apply_overrides(headers: &mut HeaderMap, overrides: &[(String, String)]) {
    for (name, value) in overrides {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
}

/// The body of a non-proxy HTTP request, as the passthrough behaviour decides, and what its
/// request template set in `$context.requestOverride` (the template's text taken out).
fn request_body(call: &Call<'_>) -> Result<(Bytes, templates::Mapped), Failure> {
    let templates = &call.integration.request_templates;
    let content_type = request_content_type(call.headers);
    // A binary payload (its type one of the API's binary media types) and
    // `contentHandling`, as AWS's conversion table has them: text is base64-decoded for
    // CONVERT_TO_BINARY, binary base64-encoded for CONVERT_TO_TEXT; binary that stays
    // binary passes through, templates aside.
    let binary_types = &call.stage.deployment.snapshot.api.binary_media_types;
    let binary = !binary_types.is_empty()
        && call
            .headers
            .get_str("content-type")
            .is_some_and(|ct| crate::lambda_event::is_binary(ct, binary_types));
    let body = match (call.integration.content_handling, binary) {
        (Some(ContentHandling::ConvertToBinary), false) => {
            let decoded = base64_decode(&call.body).map_err(|why| {
                Failure::configuration(format!(
                    "Unable to convert the request body to binary (CONVERT_TO_BINARY): {why}"
                ))
            })?;
            return Ok((decoded, templates::Mapped::default()));
        }
        (Some(ContentHandling::ConvertToText), true) => {
            use base64::Engine as _;
            Bytes::from(base64::engine::general_purpose::STANDARD.encode(&call.body))
        }
        (_, true) => return passthrough(call, call.body.clone(), false),
        (_, false) => call.body.clone(),
    };
    if let Some(template) = template_for(templates, &content_type) {
        let mut mapped = templates::render(call, template, &body, Direction::Request)?;
        let text = std::mem::take(&mut mapped.text);
        return Ok((Bytes::from(text), mapped));
    }
    passthrough(call, body, !templates.is_empty())
}

/// A request body no template maps, as the passthrough behaviour allows it.
fn passthrough(
    call: &Call<'_>,
    body: Bytes,
    has_templates: bool,
) -> Result<(Bytes, templates::Mapped), Failure> {
    let behavior = call
        .integration
        .passthrough_behavior
        .unwrap_or(PassthroughBehavior::WhenNoMatch);
    match behavior {
        PassthroughBehavior::WhenNoMatch => Ok((body, templates::Mapped::default())),
        PassthroughBehavior::WhenNoTemplates if !has_templates => {
            Ok((body, templates::Mapped::default()))
        }
        _ => Err(Failure::new(
            Kind::UnsupportedMediaType,
            "Unsupported Media Type",
        )),
    }
}

/// Base64 text (surrounding white space aside) decoded.
fn base64_decode(text: &[u8]) -> Result<Bytes, String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim_ascii())
        .map(Bytes::from)
        .map_err(|e| format!("it is not base64 ({e})"))
}

/// How an integration's answer is converted on its way to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conversion {
    Unchanged,
    /// Base64 text made binary.
    Decode,
    /// Binary made base64 text.
    Encode,
}

/// AWS's response conversion table: the integration's payload (binary when its
/// `Content-Type` is one of the API's binary media types), the client's first `Accept`
/// type (binary likewise), and the integration response's `contentHandling`. Without
/// binary media types every payload is text.
fn response_conversion(
    payload_binary: bool,
    accept_binary: bool,
    content_handling: Option<ContentHandling>,
) -> Conversion {
    match (payload_binary, content_handling) {
        (false, Some(ContentHandling::ConvertToBinary)) => Conversion::Decode,
        (false, Some(ContentHandling::ConvertToText)) => Conversion::Unchanged,
        (false, None) if accept_binary => Conversion::Decode,
        (false, None) => Conversion::Unchanged,
        (true, Some(ContentHandling::ConvertToText)) => Conversion::Encode,
        (true, Some(ContentHandling::ConvertToBinary)) => Conversion::Unchanged,
        (true, None) if accept_binary => Conversion::Unchanged,
        (true, None) => Conversion::Encode,
    }
}

fn request_content_type(headers: &Headers) -> String {
    headers
        .get_str("content-type")
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/json".to_owned())
}

fn template_for<'t>(
    templates: &'t std::collections::BTreeMap<String, String>,
    content_type: &str,
) -> Option<&'t String> {
    templates
        .iter()
        .find(|(ct, _)| ct.eq_ignore_ascii_case(content_type))
        .map(|(_, t)| t)
}

/// Where a backend request goes.
struct BackendTarget<'c> {
    https: bool,
    /// What to dial: the uri's `host[:port]`, or for a VPC link the route name that leads
    /// to the load balancer.
    authority: Cow<'c, str>,
    /// The request target: path and query string.
    target: String,
    /// The Host header: the uri's authority.
    host: HeaderValue,
}

impl BackendTarget<'_> {
    /// The request to send there, its header section written out.
    fn request<'r>(
        &'r self,
        method: &'r Method,
        headers: &'r [u8],
        body: Bytes,
        remap: bool,
    ) -> Outgoing<'r> {
        Outgoing {
            method,
            https: self.https,
            authority: &self.authority,
            target: &self.target,
            headers,
            body,
            remap,
        }
    }

    /// The URL as logs show it.
    fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.target)
    }
}

/// Resolves the integration uri: stage variables, path parameters, query strings, and for a
/// VPC link the load balancer route to dial. A uri the stage compiled (`CompiledUri`) only
/// needs its path parameters and query filled in; any other is resolved and parsed here,
/// and says why it cannot be used.
fn backend_uri<'c>(
    call: &Call<'c>,
    overrides: Option<&templates::Mapped>,
) -> Result<BackendTarget<'c>, Failure> {
    let compiled = call.stage.uris.get(call.matched);
    let path_value = |name: &str| placeholder_value(call, overrides, name);
    // The request target starts with the path, placeholders filled in.
    let mut target = String::with_capacity(128);
    // The uri's parts: scheme, authority, Host, own query.
    let parsed;
    let (https, authority, host, own_query): (bool, &http::uri::Authority, _, _) = match compiled {
        Some(uri) => {
            uri.path.write(&mut target, path_value);
            (
                uri.https,
                &uri.authority,
                uri.host.clone(),
                uri.query.as_deref(),
            )
        }
        None => {
            let template = call
                .integration
                .uri
                .as_deref()
                .ok_or_else(|| Failure::configuration("the integration has no uri"))?;
            let variables = &call.stage.stage.variables;
            let resolved = substitute_stage_variables(template, variables)
                .map_err(|e| Failure::configuration(format!("integration uri: {e}")))?;
            let mut filled = String::with_capacity(resolved.len());
            PathTemplate::parse(&resolved).write(&mut filled, path_value);
            let uri: Uri = filled.parse().map_err(|e| {
                Failure::configuration(format!(
                    "integration uri '{filled}' is not a valid URL: {e}"
                ))
            })?;
            parsed = uri;
            let authority = parsed.authority().ok_or_else(|| {
                Failure::configuration(format!("integration uri '{filled}' has no host"))
            })?;
            let host = HeaderValue::from_str(authority.as_str())
                .map_err(|e| Failure::configuration(format!("invalid host '{authority}': {e}")))?;
            target.push_str(parsed.path());
            (
                parsed.scheme_str() == Some("https"),
                authority,
                host,
                parsed.query().filter(|q| !q.is_empty()),
            )
        }
    };
    if !target.starts_with('/') {
        target.insert(0, '/');
    }
    append_query(call, overrides, &mut target, own_query)?;
    let link_arn = match call.integration.connection_type {
        Some(ConnectionType::VpcLink) => Some(vpc_link_arn(call)?),
        _ => None,
    };
    let authority = match link_arn {
        None => match compiled {
            Some(uri) => Cow::Borrowed(uri.authority.as_str()),
            None => Cow::Owned(authority.as_str().to_owned()),
        },
        Some(arn) => {
            let arn = arn.as_ref();
            let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
            let label = causeway_link::tunnel_label(arn);
            // A load balancer served by an NLB node elsewhere: through the tunnel.
            let name = if call.snapshot.remote_load_balancers.contains(arn) {
                causeway_link::tunnel_host(authority.host(), label)
            } else {
                // A load balancer of this process: the connection is handed to it in
                // memory, to the listener on the uri port (TLS, if any, runs end to end
                // with the target).
                if !call.snapshot.load_balancers.contains_key(arn) {
                    return Err(Failure::configuration(format!(
                        "the network load balancer {arn} is gone"
                    )));
                }
                if !call.upstream.runs_balancers() {
                    return Err(Failure::configuration(format!(
                        "the network load balancer {arn} runs in no engine this gateway can reach"
                    )));
                }
                causeway_link::balancer_host(authority.host(), label)
            };
            Cow::Owned(format!("{name}:{port}"))
        }
    };
    Ok(BackendTarget {
        https,
        authority,
        target,
        host,
    })
}

/// Adds the uri's own query, the mapped query parameters (and, for HTTP_PROXY, the
/// client's query string) to a backend request target, and checks that the whole is valid
/// in a request line. Inlined: every proxied request runs it.
#[inline]
fn append_query(
    call: &Call<'_>,
    overrides: Option<&templates::Mapped>,
    target: &mut String,
    own_query: Option<&str>,
) -> Result<(), Failure> {
    let mut separator = '?';
    let mut add = |part: &str| {
        target.push(separator);
        separator = '&';
        target.push_str(part);
    };
    if let Some(own) = own_query {
        add(own);
    }
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, QUERY).to_string();
    for (key, source) in &call.integration.request_parameters {
        if let Some(name) = key.strip_prefix("integration.request.querystring.")
            && !overrides.is_some_and(|o| o.querystring.iter().any(|(n, _)| n == name))
            && let Some(value) = parameter_value(call, source)?
        {
            add(&format!("{}={}", encode(name), encode(&value)));
        }
    }
    // `$context.requestOverride.querystring.NAME` replaces a mapped parameter of that name.
    for (name, value) in overrides.iter().flat_map(|o| &o.querystring) {
        add(&format!("{}={}", encode(name), encode(value)));
    }
    if call.integration.kind == IntegrationType::HttpProxy
        && let Some(client) = call.query.filter(|q| !q.is_empty())
    {
        add(client);
    }
    // Every part is valid in a request line already (a compiled uri parsed with its
    // placeholders filled in; path parameters and the query string as the client sent them;
    // mapped values percent-encoded); this keeps it so whatever changes.
    // (A fold rather than `any`: it runs over every request's target, and without an early
    // exit the compiler checks many bytes at once.)
    if target
        .bytes()
        .fold(false, |bad, b| bad | (b <= b' ') | (b == 0x7f))
    {
        return Err(Failure::configuration(format!(
            "the backend URL's path and query '{target}' are not valid in a request"
        )));
    }
    Ok(())
}

/// Characters escaped in mapped query values.
const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The value for a `{name}` placeholder of the integration uri:
/// `$context.requestOverride.path.NAME` from the request template, else [`path_value`].
#[inline]
fn placeholder_value<'c>(
    call: &'c Call<'_>,
    overrides: Option<&'c templates::Mapped>,
    name: &str,
) -> Option<&'c str> {
    overrides
        .and_then(|o| o.path.iter().find(|(n, _)| n == name))
        .map(|(_, v)| v.as_str())
        .or_else(|| path_value(call, name))
}

/// The value for a `{name}` placeholder of the integration uri: an
/// `integration.request.path.NAME` mapping's (from a method path parameter or a literal),
/// else the method's own path parameter of that name, as the client sent it.
fn path_value<'c>(call: &'c Call<'_>, name: &str) -> Option<&'c str> {
    for (key, source) in &call.integration.request_parameters {
        if key.strip_prefix("integration.request.path.") != Some(name) {
            continue;
        }
        if let Some(param) = source.strip_prefix("method.request.path.") {
            if let Some(param) = call.matched.path_param(param) {
                return Some(param.raw.as_ref());
            }
        } else if let Some(text) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            return Some(text);
        }
    }
    call.matched
        .path_param(name)
        .map(|param| param.raw.as_ref())
}

/// The value of a request parameter mapping source.
fn parameter_value(call: &Call<'_>, source: &str) -> Result<Option<String>, Failure> {
    if let Some(text) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Ok(Some(text.to_owned()));
    }
    if let Some(location_name) = source.strip_prefix("method.request.")
        && let Some(value) =
            crate::request::header_or_query(Some(call.headers), call.query, location_name)
    {
        return Ok(value);
    }
    if let Some(name) = source.strip_prefix("method.request.path.") {
        return Ok(call
            .matched
            .path_param(name)
            .map(|p| p.value.clone().into_owned()));
    }
    if source == "method.request.body" {
        return Ok(Some(String::from_utf8_lossy(&call.body).into_owned()));
    }
    if let Some(path) = source.strip_prefix("method.request.body.") {
        let path = if path.starts_with('$') {
            path.to_owned()
        } else {
            format!("$.{path}")
        };
        let body = String::from_utf8_lossy(&call.body);
        let found = causeway_vtl::json_path(&body, &path)
            .map_err(|e| Failure::configuration(format!("request parameter {source}: {e}")))?;
        return Ok(found.map(|value| match value {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        }));
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return Ok(call.stage.stage.variables.get(name).cloned());
    }
    if let Some(name) = source.strip_prefix("context.authorizer.") {
        return Ok(call
            .authorizer
            .and_then(|a| a.value(name))
            .map(str::to_owned));
    }
    match source {
        "context.requestId" => Ok(Some(call.request_id.to_owned())),
        "context.apiId" => Ok(Some(call.api_id.to_owned())),
        "context.stage" => Ok(Some(call.stage.stage.stage_name.clone())),
        "context.identity.sourceIp" => Ok(Some(call.client.ip().to_string())),
        "context.identity.accountId" => Ok(call.caller.map(|c| c.account_id.clone())),
        "context.identity.caller" | "context.identity.user" => {
            Ok(call.caller.map(|c| c.principal_id.clone()))
        }
        "context.identity.userArn" => Ok(call.caller.map(|c| c.arn.clone())),
        "context.identity.accessKey" => Ok(call.caller.map(|c| c.access_key.clone())),
        "context.identity.clientCert.clientCertPem" => {
            Ok(call.client_cert.map(|c| c.client_cert_pem.clone()))
        }
        "context.identity.clientCert.subjectDN" => {
            Ok(call.client_cert.map(|c| c.subject_dn.clone()))
        }
        "context.identity.clientCert.issuerDN" => Ok(call.client_cert.map(|c| c.issuer_dn.clone())),
        "context.identity.clientCert.serialNumber" => {
            Ok(call.client_cert.map(|c| c.serial_number.clone()))
        }
        "context.identity.clientCert.validity.notBefore" => {
            Ok(call.client_cert.map(|c| c.validity.not_before.clone()))
        }
        "context.identity.clientCert.validity.notAfter" => {
            Ok(call.client_cert.map(|c| c.validity.not_after.clone()))
        }
        "context.httpMethod" => Ok(Some(call.method.to_string())),
        _ => Err(Failure::configuration(format!(
            "request parameter source '{source}' is not supported"
        ))),
    }
}

fn apply_header_mappings(headers: &mut HeaderMap, call: &Call<'_>) -> Result<(), Failure> {
    for (key, source) in &call.integration.request_parameters {
        let Some(name) = key.strip_prefix("integration.request.header.") else {
            continue;
        };
        if let Some(value) = parameter_value(call, source)? {
            let name = HeaderName::try_from(name).map_err(|e| {
                Failure::configuration(format!("invalid header name '{name}': {e}"))
            })?;
            let value = HeaderValue::from_str(&value).map_err(|e| {
                Failure::configuration(format!("invalid value for header {name}: {e}"))
            })?;
            headers.insert(name, value);
        }
    }
    Ok(())
}

/// Writes `ip` into `buffer` and returns the text's bytes. IPv4 is written by hand: the
/// `Display` implementation goes through the formatting machinery, which showed up in
/// profiles of the proxied request.
fn format_ip(ip: std::net::IpAddr, buffer: &mut [u8; 64]) -> &[u8] {
    let len = match ip {
        std::net::IpAddr::V4(v4) => {
            let mut len = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buffer[len] = b'.';
                    len += 1;
                }
                if octet >= 100 {
                    buffer[len] = b'0' + octet / 100;
                    len += 1;
                }
                if octet >= 10 {
                    buffer[len] = b'0' + octet / 10 % 10;
                    len += 1;
                }
                buffer[len] = b'0' + octet % 10;
                len += 1;
            }
            len
        }
        std::net::IpAddr::V6(v6) => {
            use std::io::Write;
            let mut cursor = std::io::Cursor::new(&mut buffer[..]);
            // 45 characters at most: always fits.
            let _ = write!(cursor, "{v6}");
            cursor.position() as usize
        }
    };
    &buffer[..len]
}

fn backend_method(call: &Call<'_>) -> Result<Method, Failure> {
    match call.integration.http_method {
        None | Some(HttpMethod::Any) => Ok(call.method.clone()),
        Some(method) => Method::from_bytes(method.as_str().as_bytes())
            .map_err(|e| Failure::configuration(format!("invalid integration method: {e}"))),
    }
}

/// The load balancer behind the integration's VPC link, once the link is usable: a VPC
/// link V1's own, or, through a VPC link V2, the integration's `integrationTarget`.
fn vpc_link_arn<'c>(call: &Call<'c>) -> Result<Cow<'c, str>, Failure> {
    let raw =
        call.integration.connection_id.as_deref().ok_or_else(|| {
            Failure::configuration("VPC_LINK integration without a connection id")
        })?;
    let id = substitute_stage_variables(raw, &call.stage.stage.variables)
        .map_err(|e| Failure::configuration(format!("connection id: {e}")))?;
    let Some(link) = call.snapshot.vpc_links.get(id.as_ref()) else {
        return vpc_link_v2_target(call, &id);
    };
    if link.status != causeway_model::VpcLinkStatus::Available {
        return Err(Failure::configuration(format!(
            "VPC link '{id}' is {} ({})",
            link.status,
            link.status_message
                .as_deref()
                .unwrap_or("no status message")
        )));
    }
    let arn = link
        .target_arns
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    Ok(Cow::Borrowed(arn))
}

/// The load balancer an integration reaches through the VPC link V2 `id`: its
/// `integrationTarget`, stage variables filled in.
fn vpc_link_v2_target<'c>(call: &Call<'c>, id: &str) -> Result<Cow<'c, str>, Failure> {
    let link = call
        .snapshot
        .vpc_links_v2
        .get(id)
        .ok_or_else(|| Failure::configuration(format!("VPC link '{id}' does not exist")))?;
    if link.status != causeway_model::VpcLinkStatus::Available {
        return Err(Failure::configuration(format!(
            "VPC link '{id}' is {} ({})",
            link.status,
            link.status_message
                .as_deref()
                .unwrap_or("no status message")
        )));
    }
    let raw = call
        .integration
        .integration_target
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Failure::configuration(format!("IntegrationTarget is required for VpcLinkV2 {id}."))
        })?;
    substitute_stage_variables(raw, &call.stage.stage.variables)
        .map_err(|e| Failure::configuration(format!("integration target: {e}")))
}

/// The most an integration's answer may hold, as on AWS (10 MB), unless it streams.
const MAX_ANSWER_BYTES: usize = 10 * 1024 * 1024;

/// Reads the rest of a backend's answer into memory, within the integration's timeout
/// (which counts from when the request left, and covers the whole answer, as AWS's does).
async fn buffer_answer(call: &Call<'_>, body: &mut PooledBody) -> Result<(), Failure> {
    let buffered = match body.deadline() {
        // Whole already (the usual case for a small answer), so only its length is
        // checked; or a body without a deadline (none is made without one).
        None => body.buffer(MAX_ANSWER_BYTES).await,
        Some(deadline) => {
            let buffering = body.buffer(MAX_ANSWER_BYTES);
            let within = match call.timer {
                Some(timer) => timer.within(deadline, buffering).await,
                None => tokio::time::timeout_at(deadline, buffering).await.ok(),
            };
            within.ok_or_else(|| {
                Failure::new(Kind::IntegrationTimeout, "Endpoint request timed out")
                    .because("the backend's answer did not end within the integration timeout")
            })?
        }
    };
    buffered.map_err(|error| match error {
        // AWS logs "Execution failed due to configuration error: Integration response of
        // reported length N is larger than allowed maximum of 10485760 bytes."
        BufferError::TooLarge(length) => Failure::configuration(format!(
            "Integration response of reported length {length} is larger than allowed maximum of {MAX_ANSWER_BYTES} bytes"
        )),
        BufferError::Read(error) => Failure::new(Kind::IntegrationFailure, "Internal server error")
            .because(format!("reading the backend response failed: {error}")),
    })
}

async fn send(
    call: &Call<'_>,
    request: Outgoing<'_>,
) -> Result<http::Response<crate::pool::PooledBody>, Failure> {
    let timeout =
        Duration::from_millis(u64::try_from(call.integration.timeout_in_millis).unwrap_or(29_000));
    let tls = crate::upstream::Tls {
        skip_verification: call
            .integration
            .tls_config
            .as_ref()
            .is_some_and(|t| t.insecure_skip_verification),
        client_certificate: call.stage.client_certificate.as_ref(),
    };
    let started = call.log.map(|_| std::time::Instant::now());
    if let Some(log) = call.log {
        let scheme = if request.https { "https" } else { "http" };
        log.line(format_args!(
            "Sending request to {scheme}://{}{}",
            request.authority, request.target
        ));
    }
    match call.upstream.call(request, timeout, tls, call.timer).await {
        Ok(response) => {
            if let (Some(log), Some(started)) = (call.log, started) {
                log.line(format_args!(
                    "Received response. Status: {}, Integration latency: {} ms",
                    response.status().as_u16(),
                    started.elapsed().as_millis()
                ));
            }
            Ok(response)
        }
        Err(CallError::Timeout) => Err(Failure::new(
            Kind::IntegrationTimeout,
            "Endpoint request timed out",
        )),
        // AWS reports certificate problems as configuration errors (500), e.g. "PKIX path
        // building failed" or "Host name ... does not match the certificate subject".
        Err(CallError::Tls(cause)) => Err(Failure::configuration(format!(
            "TLS with the backend failed (its certificate refused, or the stage's client certificate unusable): {cause}"
        ))),
        Err(CallError::Connect(cause)) => Err(Failure::configuration(format!(
            "cannot reach the backend: {cause}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn client_addresses_are_written_as_display_writes_them() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.0.100.255",
            "192.168.9.10",
            "255.255.255.255",
            "::1",
            "2001:db8::8a2e:370:7334",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "::ffff:192.0.2.128",
        ] {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            let mut buffer = [0u8; 64];
            assert_eq!(format_ip(ip, &mut buffer), ip.to_string().as_bytes());
        }
    }
}
