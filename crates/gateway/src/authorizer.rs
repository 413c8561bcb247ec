//! Authorizers on the request path: a method with `authorizationType` CUSTOM asks its
//! Lambda authorizer (TOKEN or REQUEST) who the caller is and what it may invoke.
//!
//! As on AWS:
//! - the identity sources are read first; a missing one (or a token that fails the
//!   authorizer's `identityValidationExpression`) is 401 `Unauthorized` without a call;
//! - the function answers with a principal, an IAM policy and a context; a function error
//!   whose message is `Unauthorized` is 401, any other failure (an unreachable endpoint, an
//!   answer that does not parse) is 500 with `AuthorizerConfigurationException`;
//! - the answer is kept for `authorizerResultTtlInSeconds` (default 300), keyed by the
//!   identity source values, per stage; the kept policy is evaluated against each request's
//!   method ARN, so a policy for one method does not open another;
//! - an explicit `Deny` is 403 `... with an explicit deny`, no matching `Allow` 403.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use causeway_model::authorizer::{DEFAULT_TTL_SECONDS, IdentitySource};
use causeway_model::policy::{Decision, INVOKE, Policy, Request, Scope};
use causeway_model::{Authorizer, AuthorizerType, Deployment, Stage};
use causeway_routing::RouteMatch;
use serde_json::{Map, Value};

use crate::errors::Failure;
use crate::lambda::{InvokeError, Invoked};

/// How long an authorizer function may take.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// How many decisions a stage keeps at most.
const MAX_DECISIONS: usize = 10_000;

/// The authorizers of a stage's deployment, and the decisions they made.
#[derive(Debug)]
pub struct StageAuthorizers {
    by_id: std::collections::HashMap<String, Arc<Compiled>>,
    cache: Arc<Decisions>,
    deployment_id: String,
    /// The stage's authorizer flush count the cache was made or kept under.
    flushes: u64,
}

/// An authorizer ready to be asked.
#[derive(Debug)]
struct Compiled {
    authorizer: Authorizer,
    /// The function its uri names, with the stage's variables in; or why it has none.
    function: Result<String, String>,
    /// Where the identity comes from (one header for TOKEN).
    sources: Vec<IdentitySource>,
    validation: Option<regex::Regex>,
    ttl_nanos: u64,
}

/// Who the authorizer says the caller is, and what it may do.
#[derive(Debug)]
pub struct Outcome {
    pub principal_id: String,
    policy: Option<Policy>,
    /// `context` of the function's answer, each value as text (`$context.authorizer.KEY`).
    pub context: Vec<(String, String)>,
    /// The API key to count the request against when the API's key source is AUTHORIZER.
    pub usage_identifier_key: Option<String>,
    /// The policy as the function returned it (TestInvokeAuthorizer).
    pub policy_text: Option<String>,
}

impl Outcome {
    /// `$context.authorizer.NAME`: `principalId` or a context value.
    pub fn value(&self, name: &str) -> Option<&str> {
        if name == "principalId" {
            return Some(&self.principal_id);
        }
        self.context
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Decisions by authorizer and identity, each with the monotonic time it expires.
#[derive(Debug)]
struct Decisions(quick_cache::sync::Cache<(String, String), (u64, Arc<Outcome>)>);

impl StageAuthorizers {
    /// The authorizers of `deployment` as `stage` serves them; `None` when it has none. The
    /// decisions of `previous` are kept while the deployment and the flush count stay.
    pub(crate) fn compile(
        stage: &Stage,
        deployment: &Deployment,
        previous: Option<&StageAuthorizers>,
    ) -> Option<StageAuthorizers> {
        let authorizers = &deployment.snapshot.authorizers;
        if authorizers.is_empty() {
            return None;
        }
        let cache = match previous {
            Some(previous)
                if previous.deployment_id == deployment.id
                    && previous.flushes == stage.authorizer_flushes =>
            {
                previous.cache.clone()
            }
            _ => Arc::new(Decisions(quick_cache::sync::Cache::new(MAX_DECISIONS))),
        };
        let by_id = authorizers
            .iter()
            .map(|authorizer| {
                (
                    authorizer.id.clone(),
                    Arc::new(Compiled::new(authorizer, &stage.variables)),
                )
            })
            .collect();
        Some(StageAuthorizers {
            by_id,
            cache,
            deployment_id: deployment.id.clone(),
            flushes: stage.authorizer_flushes,
        })
    }
}

impl Compiled {
    fn new(
        authorizer: &Authorizer,
        variables: &std::collections::BTreeMap<String, String>,
    ) -> Compiled {
        let function = authorizer
            .authorizer_uri
            .as_deref()
            .and_then(causeway_model::authorizer::lambda_function)
            .ok_or_else(|| "the authorizer has no Lambda function uri".to_owned())
            .and_then(|function| {
                causeway_routing::substitute_stage_variables(function, variables)
                    .map(std::borrow::Cow::into_owned)
                    .map_err(|error| format!("the authorizer uri: {error}"))
            });
        let sources = authorizer
            .identity_source
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| IdentitySource::parse_list(s).ok())
            .unwrap_or_default();
        let validation = match authorizer.kind {
            AuthorizerType::Token => authorizer
                .identity_validation_expression
                .as_deref()
                .filter(|e| !e.is_empty())
                // Anchored: AWS matches the whole token.
                .and_then(|e| regex::Regex::new(&format!("^(?:{e})$")).ok()),
            _ => None,
        };
        let ttl = authorizer
            .authorizer_result_ttl_in_seconds
            .unwrap_or(DEFAULT_TTL_SECONDS);
        Compiled {
            authorizer: authorizer.clone(),
            function,
            sources,
            validation,
            ttl_nanos: u64::try_from(ttl)
                .unwrap_or(0)
                .saturating_mul(1_000_000_000),
        }
    }
}

/// What [`authorize`] needs about the request.
pub(crate) struct Ask<'a> {
    pub gateway: &'a crate::Gateway,
    pub stage: &'a crate::snapshot::StageEntry,
    pub api_id: &'a str,
    pub request: &'a crate::request::Incoming,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub matched: &'a RouteMatch<'a>,
    pub client: std::net::SocketAddr,
    pub request_id: &'a str,
}

/// Runs the method's authorizer: the caller's outcome, or the failure to answer with.
pub(crate) async fn authorize(ask: &Ask<'_>) -> Result<Arc<Outcome>, Failure> {
    let method = ask.matched.method;
    let id = method.authorizer_id.as_deref().unwrap_or_default();
    let compiled = ask
        .stage
        .authorizers
        .as_ref()
        .and_then(|a| a.by_id.get(id).map(|c| (a, c)));
    let Some((authorizers, compiled)) = compiled else {
        return Err(Failure::authorizer_configuration(format!(
            "the method names authorizer '{id}', which the deployment does not have"
        )));
    };
    let identity = identity(compiled, ask)?;
    let method_arn = Scope {
        region: &ask.gateway.config.region,
        account_id: &ask.gateway.config.account_id,
        api_id: ask.api_id,
    }
    .invoke_arn(
        &ask.stage.stage.stage_name,
        ask.request.method.as_str(),
        ask.path,
    );
    let now = ask.gateway.clock.now().monotonic.0;
    let key = (compiled.authorizer.id.clone(), identity.key);
    let cached = (compiled.ttl_nanos > 0)
        .then(|| authorizers.cache.0.get(&key))
        .flatten()
        .filter(|(expires, _)| *expires > now)
        .map(|(_, outcome)| outcome);
    let outcome = match cached {
        Some(outcome) => outcome,
        None => {
            let outcome = Arc::new(call(compiled, ask, &identity.event, &method_arn).await?);
            if compiled.ttl_nanos > 0 {
                authorizers.cache.0.insert(
                    key,
                    (now.saturating_add(compiled.ttl_nanos), outcome.clone()),
                );
            }
            outcome
        }
    };
    let Some(policy) = &outcome.policy else {
        return Ok(outcome);
    };
    let epoch_seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let decision = policy.evaluate(&Request {
        action: INVOKE,
        resource: &method_arn,
        source_ip: ask.client.ip(),
        epoch_seconds,
        secure_transport: false,
        user_agent: ask.request.headers.get_str("user-agent"),
        referer: ask.request.headers.get_str("referer"),
    });
    match decision {
        Decision::Allow => Ok(outcome),
        Decision::ExplicitDeny => Err(Failure::access_denied(
            "User is not authorized to access this resource with an explicit deny".to_owned(),
        )
        .because(format!(
            "authorizer '{}' denies {method_arn} to principal '{}'",
            compiled.authorizer.name, outcome.principal_id
        ))),
        Decision::ImplicitDeny => Err(Failure::access_denied(
            "User is not authorized to access this resource".to_owned(),
        )
        .because(format!(
            "the policy of authorizer '{}' for principal '{}' allows nothing that matches {method_arn}",
            compiled.authorizer.name, outcome.principal_id
        ))),
    }
}

/// The identity of a request: the cache key, and the event the function gets.
struct Identity {
    key: String,
    event: Event,
}

enum Event {
    Token(String),
    Request,
}

/// Reads the authorizer's identity sources from the request: 401 when one is missing.
fn identity(compiled: &Compiled, ask: &Ask<'_>) -> Result<Identity, Failure> {
    let unauthorized = |why: String| Failure::unauthorized().because(why);
    match compiled.authorizer.kind {
        AuthorizerType::Token => {
            let Some(IdentitySource::Header(name)) = compiled.sources.first() else {
                return Err(Failure::authorizer_configuration(
                    "the TOKEN authorizer has no header as its identity source",
                ));
            };
            let token = ask
                .request
                .headers
                .get_str(name)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| unauthorized(format!("the request has no {name} header")))?;
            if let Some(validation) = &compiled.validation
                && !validation.is_match(token)
            {
                return Err(unauthorized(format!(
                    "the {name} header does not match the authorizer's identity validation expression"
                )));
            }
            Ok(Identity {
                key: token.to_owned(),
                event: Event::Token(token.to_owned()),
            })
        }
        AuthorizerType::Request => {
            let mut key = String::new();
            for source in &compiled.sources {
                let value = source_value(source, ask)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        unauthorized(format!("the identity source {source:?} is missing"))
                    })?;
                key.push_str(&value);
                key.push('\u{0}');
            }
            Ok(Identity {
                key,
                event: Event::Request,
            })
        }
        AuthorizerType::CognitoUserPools => Err(Failure::authorizer_configuration(
            "a CUSTOM method names a COGNITO_USER_POOLS authorizer",
        )),
    }
}

/// The value of one identity source of the request.
fn source_value(source: &IdentitySource, ask: &Ask<'_>) -> Option<String> {
    match source {
        IdentitySource::Header(name) | IdentitySource::MultiValueHeader(name) => {
            let values: Vec<&str> = ask
                .request
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
                .filter_map(|(_, v)| std::str::from_utf8(v).ok())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        }
        IdentitySource::Query(name) | IdentitySource::MultiValueQuery(name) => {
            let values: Vec<String> = crate::request::query_pairs(ask.query)
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        }
        IdentitySource::StageVariable(name) => ask.stage.stage.variables.get(name).cloned(),
        IdentitySource::Context(name) => context_value(name, ask),
    }
}

/// The `$context` variables a REQUEST authorizer may take as identity sources.
fn context_value(name: &str, ask: &Ask<'_>) -> Option<String> {
    Some(match name {
        "requestId" | "extendedRequestId" => ask.request_id.to_owned(),
        "apiId" => ask.api_id.to_owned(),
        "accountId" => ask.gateway.config.account_id.clone(),
        "stage" => ask.stage.stage.stage_name.clone(),
        "httpMethod" => ask.request.method.as_str().to_owned(),
        "resourcePath" => ask.matched.resource.path.clone(),
        "resourceId" => ask.matched.resource.resource.id.clone(),
        "path" => ask.path.to_owned(),
        "identity.sourceIp" => ask.client.ip().to_string(),
        "identity.userAgent" => ask.request.headers.get_str("user-agent")?.to_owned(),
        "identity.apiKey" => ask.request.headers.get_str("x-api-key")?.to_owned(),
        "domainName" => ask.request.host()?.to_owned(),
        _ => return None,
    })
}

/// Calls the authorizer's function and reads its answer.
async fn call(
    compiled: &Compiled,
    ask: &Ask<'_>,
    event: &Event,
    method_arn: &str,
) -> Result<Outcome, Failure> {
    let function = compiled
        .function
        .as_deref()
        .map_err(|why| Failure::authorizer_configuration(why.clone()))?;
    let payload = match event {
        Event::Token(token) => serde_json::json!({
            "type": "TOKEN",
            "authorizationToken": token,
            "methodArn": method_arn,
        }),
        Event::Request => request_event(ask, method_arn),
    };
    let payload = Bytes::from(serde_json::to_vec(&payload).unwrap_or_default());
    let invoked = crate::lambda::invoke(
        &ask.gateway.upstream,
        ask.gateway.config.lambda.as_ref(),
        function,
        payload,
        FUNCTION_TIMEOUT,
    )
    .await;
    let name = &compiled.authorizer.name;
    match invoked {
        Ok(Invoked::Returned(body)) => parse_answer(&body, ask).map_err(|why| {
            Failure::authorizer_configuration(format!(
                "authorizer '{name}' ({function}) answered what is not an authorizer result: {why}"
            ))
        }),
        Ok(Invoked::Failed(Some(message))) if message == "Unauthorized" => {
            Err(Failure::unauthorized().because(format!(
                "authorizer '{name}' ({function}) refused the caller"
            )))
        }
        Ok(Invoked::Failed(message)) => Err(Failure::authorizer_configuration(format!(
            "authorizer '{name}' ({function}) failed: {}",
            message.as_deref().unwrap_or("no error message")
        ))),
        Err(error @ InvokeError::NoEndpoint) => Err(Failure::authorizer_configuration(format!(
            "authorizer '{name}' ({function}) cannot be called: {error}"
        ))),
        Err(error) => Err(Failure::authorizer_configuration(format!(
            "authorizer '{name}' ({function}): {error}"
        ))),
    }
}

/// The REQUEST event: the request as a Lambda proxy event has it, without the body.
fn request_event(ask: &Ask<'_>, method_arn: &str) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: Map<String, Value> = Map::new();
    for (name, value) in ask.request.headers.iter() {
        let name = String::from_utf8_lossy(name).into_owned();
        let value = String::from_utf8_lossy(value).into_owned();
        headers.insert(name.clone(), Value::String(value.clone()));
        if let Value::Array(values) = multi_headers
            .entry(name)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::String(value));
        }
    }
    let mut query = Map::new();
    let mut multi_query: Map<String, Value> = Map::new();
    for (name, value) in crate::request::query_pairs(ask.query) {
        query.insert(name.to_string(), Value::String(value.to_string()));
        if let Value::Array(values) = multi_query
            .entry(name.into_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::String(value.into_owned()));
        }
    }
    let path_parameters: Map<String, Value> = ask
        .matched
        .path_params
        .iter()
        .map(|p| (p.name.to_owned(), Value::String(p.value.to_string())))
        .collect();
    let stage_variables: Map<String, Value> = ask
        .stage
        .stage
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let host = ask.request.host().unwrap_or_default();
    let null_if_empty = |map: Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    serde_json::json!({
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": ask.matched.resource.path,
        "path": ask.path,
        "httpMethod": ask.request.method.as_str(),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": null_if_empty(query),
        "multiValueQueryStringParameters": null_if_empty(multi_query),
        "pathParameters": path_parameters,
        "stageVariables": null_if_empty(stage_variables),
        "requestContext": {
            "resourceId": ask.matched.resource.resource.id,
            "resourcePath": ask.matched.resource.path,
            "httpMethod": ask.request.method.as_str(),
            "extendedRequestId": ask.request_id,
            "requestTime": crate::templates::common_log_time(now.as_secs()),
            "path": format!("/{}{}", ask.stage.stage.stage_name, ask.path),
            "accountId": ask.gateway.config.account_id,
            "protocol": "HTTP/1.1",
            "stage": ask.stage.stage.stage_name,
            "domainPrefix": host.split('.').next().unwrap_or_default(),
            "requestTimeEpoch": u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
            "requestId": ask.request_id,
            "identity": {
                "sourceIp": ask.client.ip().to_string(),
                "userAgent": ask.request.headers.get_str("user-agent"),
                "apiKey": ask.request.headers.get_str("x-api-key"),
            },
            "domainName": host,
            "apiId": ask.api_id,
        },
    })
}

/// Reads a function's result: `principalId`, `policyDocument`, `context` (string, number
/// and boolean values only) and `usageIdentifierKey`.
fn parse_answer(body: &[u8], ask: &Ask<'_>) -> Result<Outcome, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("it is not JSON ({e})"))?;
    let Value::Object(fields) = value else {
        return Err("it is not a JSON object".to_owned());
    };
    let principal_id = match fields.get("principalId") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("it has no principalId".to_owned()),
    };
    let document = fields
        .get("policyDocument")
        .filter(|d| d.is_object())
        .ok_or("it has no policyDocument object")?;
    let policy_text = document.to_string();
    let scope = Scope {
        region: &ask.gateway.config.region,
        account_id: &ask.gateway.config.account_id,
        api_id: ask.api_id,
    };
    let policy = Policy::parse_identity(&policy_text, scope)
        .map_err(|e| format!("Could not parse policy: {e}"))?;
    let mut context = Vec::new();
    match fields.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(values)) => {
            for (key, value) in values {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => continue,
                    Value::Array(_) | Value::Object(_) => {
                        return Err(format!(
                            "context value '{key}' is an array or object; only strings, numbers and booleans are allowed"
                        ));
                    }
                };
                context.push((key.clone(), text));
            }
        }
        Some(_) => return Err("its context is not an object".to_owned()),
    }
    let usage_identifier_key = match fields.get("usageIdentifierKey") {
        Some(Value::String(key)) => Some(key.clone()),
        _ => None,
    };
    Ok(Outcome {
        principal_id,
        policy: Some(policy),
        context,
        usage_identifier_key,
        policy_text: Some(policy_text),
    })
}
