//! TestInvokeMethod on the gateway: runs one method of the API as it is configured now with
//! a request given as data, and reports what the client would have seen with the execution
//! log. The same integration code serves real requests; only the log is extra.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_model::gateway::{TestInvoke, TestInvokeResult};
use causeway_model::{CacheClusterStatus, Stage};
use causeway_routing::CompiledApi;
use http::{Method, Response};
use http_body_util::{BodyExt, Either};

use crate::Gateway;
use crate::errors::{self, Context, Failure, Kind};
use crate::exec_log::{self, ExecutionLog};
use crate::integration;
use crate::pipeline::Body;
use crate::request::Headers;
use crate::snapshot::StageEntry;

/// The stage name test invocations run under, as on AWS.
const TEST_STAGE: &str = "test-invoke-stage";

/// The client address a test invocation reports (it has no network client).
const TEST_CLIENT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// Runs a test invocation.
pub async fn run(gateway: &Gateway, call: TestInvoke) -> TestInvokeResult {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let log = ExecutionLog::default();
    log.line(format_args!("Starting execution for request: {request_id}"));
    let snapshot = &call.deployment.snapshot;
    let api_id = snapshot.api.id.as_str();
    let routes = Arc::new(CompiledApi::compile(snapshot));
    let stage = StageEntry {
        stage: test_stage(&call),
        deployment: call.deployment.clone(),
        // Test invocations are not access-logged.
        access_log: None,
        // Test invocations validate requests, as on AWS.
        validation: Arc::new(crate::validation::compile(api_id, &routes)),
        routes,
        gateway_responses: snapshot
            .gateway_responses
            .iter()
            .map(|r| (r.response_type.clone(), r.clone()))
            .collect(),
        // Test invocations skip API keys and throttling, as on AWS.
        limits: crate::limits::StageLimits::default(),
        // Each test invocation resolves its uri itself.
        uris: crate::snapshot::MethodTable::default(),
        // A test invocation never reads or fills the stage cache.
        caching: None,
        // Test invocations skip authorization, the resource policy included, as on AWS.
        policy: None,
        authorizers: None,
        canary: None,
        is_canary: false,
        // Test invocations skip WAF, as on AWS.
        web_acl: None,
        // The certificate the call names, if any (`clientCertificateId`).
        client_certificate: call.client_certificate.clone(),
    };
    let (path, query) = match call.path_with_query_string.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (call.path_with_query_string.as_str(), None),
    };
    let headers = Headers::from_pairs(
        call.headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    // An `ANY` method is tried with a GET, the method a test client most often means.
    let method = match call.http_method.as_str() {
        "ANY" => Method::GET,
        other => Method::from_bytes(other.as_bytes()).unwrap_or(Method::GET),
    };
    let mut context = Context {
        request_id: &request_id,
        http_method: method.as_str(),
        request_headers: Some(&headers),
        query,
        stage_variables: Some(&stage.stage.variables),
        api_id,
        stage: TEST_STAGE,
        resource_path: "",
        resource_id: "",
        path,
        source_ip: Some(TEST_CLIENT.ip()),
        account_id: &gateway.config.account_id,
        is_canary: false,
        integration: None,
        authorizer: None,
        caller: None,
        client_cert: None,
        waf: None,
        custom_domain: None,
    };
    let body = Bytes::from(call.body.clone().into_bytes());
    let request = Invocation {
        method: &method,
        path,
        query,
        headers: &headers,
        body,
        request_id: &request_id,
    };
    let outcome = execute(gateway, &stage, &request, &log, &mut context).await;
    let response = match outcome {
        Ok(response) => response,
        Err(failure) => {
            let cause = failure.cause.as_deref().unwrap_or(&failure.message);
            match failure.kind {
                Kind::ApiConfigurationError => log.line(format_args!(
                    "Execution failed due to configuration error: {cause}"
                )),
                Kind::IntegrationTimeout => {
                    log.line("Execution failed due to a timeout error");
                }
                _ => log.line(format_args!("Execution failed: {cause}")),
            }
            errors::render(&failure, Some(&stage.gateway_responses), &context).map(Either::Left)
        }
    };
    let (parts, body) = response.into_parts();
    // A backend that sends its head and then stalls cannot hold the call forever.
    let limit = Duration::from_millis(
        stage
            .deployment
            .snapshot
            .resources
            .iter()
            .find_map(|r| r.resource.methods.get(&call.http_method))
            .and_then(|m| m.integration.as_ref())
            .map_or(29_000, |i| {
                u64::try_from(i.timeout_in_millis).unwrap_or(29_000)
            }),
    );
    let (status, body) = match tokio::time::timeout(limit, body.collect()).await {
        Ok(Ok(collected)) => (parts.status.as_u16(), collected.to_bytes()),
        Ok(Err(error)) => {
            log.line(format_args!(
                "Reading the endpoint response failed: {error}"
            ));
            (
                502,
                Bytes::from_static(br#"{"message": "Internal server error"}"#),
            )
        }
        Err(_) => {
            log.line("Execution failed due to a timeout error");
            (
                504,
                Bytes::from_static(br#"{"message": "Endpoint request timed out"}"#),
            )
        }
    };
    log.line(format_args!(
        "Method response body after transformations: {}",
        exec_log::body_text(&body)
    ));
    log.line(format_args!(
        "Method response headers: {}",
        exec_log::header_braces(&parts.headers)
    ));
    if status < 400 {
        log.line("Successfully completed execution");
    }
    log.line(format_args!("Method completed with status: {status}"));
    let mut single = BTreeMap::new();
    let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        single.insert(name.as_str().to_owned(), value.clone());
        multi
            .entry(name.as_str().to_owned())
            .or_default()
            .push(value);
    }
    TestInvokeResult {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
        headers: single,
        multi_value_headers: multi,
        log: format!(
            "Execution log for request {request_id}\n{}",
            log.into_text()
        ),
        latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    }
}

/// The request of a test invocation.
struct Invocation<'a> {
    method: &'a Method,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a Headers,
    body: Bytes,
    request_id: &'a str,
}

async fn execute<'a>(
    gateway: &Gateway,
    stage: &'a StageEntry,
    request: &Invocation<'a>,
    log: &ExecutionLog,
    context: &mut Context<'a>,
) -> Result<Response<Body>, Failure> {
    let matched = stage
        .routes
        .route(request.method.as_str(), request.path)
        .map_err(|_| Failure::no_route())?;
    context.resource_path = matched.resource_path();
    context.resource_id = &matched.resource.resource.id;
    log.line(format_args!(
        "HTTP Method: {}, Resource Path: {}",
        request.method, request.path
    ));
    log.line(format_args!(
        "Method request path: {}",
        exec_log::braces(
            matched
                .path_params
                .iter()
                .map(|p| (p.name, p.value.as_ref()))
        )
    ));
    let query_pairs: Vec<(String, String)> = request.query.map(form_pairs).unwrap_or_default();
    log.line(format_args!(
        "Method request query string: {}",
        exec_log::braces(query_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    ));
    log.line(format_args!(
        "Method request headers: {}",
        exec_log::header_braces(&request.headers.to_map())
    ));
    log.line(format_args!(
        "Method request body before transformations: {}",
        exec_log::body_text(&request.body)
    ));
    if let Some(validation) = stage.validation.get(&matched) {
        crate::validation::check_parameters(validation, &matched, request.headers, request.query)
            .and_then(|()| {
                crate::validation::check_body(validation, request.headers, &request.body)
            })
            .inspect_err(|failure| {
                if let Some(found) = &failure.validation {
                    log.line(format_args!("Request validation failed: {found}"));
                }
            })?;
        log.line("Request validation succeeded");
    }
    let Some(integration) = matched.method.integration.as_ref() else {
        return Err(Failure::configuration("the method has no integration"));
    };
    let trace_id = std::sync::OnceLock::new();
    let snapshot = gateway.snapshot();
    integration::run(&integration::Call {
        secure: true,
        method: request.method,
        headers: request.headers,
        query: request.query,
        body: request.body.clone(),
        matched: &matched,
        integration,
        stage,
        api_id: context.api_id,
        client: TEST_CLIENT,
        local: SocketAddr::new(TEST_CLIENT.ip(), 443),
        request_id: request.request_id,
        trace_id: &trace_id,
        arrived: std::time::Instant::now(),
        snapshot: &snapshot,
        upstream: &gateway.upstream,
        log: Some(log),
        timer: None,
        authorizer: None,
        caller: None,
        gateway,
        path: request.path,
        domain_path: None,
        client_cert: None,
    })
    .await
}

/// Decoded `name=value` pairs of a query string.
fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(name), decode(value))
        })
        .collect()
}

/// The stage a test invocation runs under: only its variables matter.
fn test_stage(call: &TestInvoke) -> Stage {
    Stage {
        stage_name: TEST_STAGE.to_owned(),
        deployment_id: call.deployment.id.clone(),
        description: None,
        client_certificate_id: None,
        cache_cluster_enabled: false,
        cache_cluster_size: None,
        cache_cluster_status: CacheClusterStatus::NotAvailable,
        method_settings: BTreeMap::new(),
        variables: call.stage_variables.clone(),
        documentation_version: None,
        access_log_settings: None,
        canary_settings: None,
        tracing_enabled: false,
        web_acl_arn: None,
        tags: BTreeMap::new(),
        created_date: call.deployment.created_date,
        last_updated_date: call.deployment.created_date,
        cache_flushes: 0,
        authorizer_flushes: 0,
    }
}
