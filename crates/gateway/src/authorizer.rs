//! Authorizers on the request path. A CUSTOM method asks its Lambda authorizer (TOKEN or
//! REQUEST) who the caller is and what it may invoke; a COGNITO_USER_POOLS method checks the
//! caller's token against its user pools.
//!
//! As on AWS:
//! - the identity sources are read first; a missing one (or a token that fails the
//!   authorizer's `identityValidationExpression`) is 401 `Unauthorized` without a call;
//! - a function answers with a principal, an IAM policy and a context; a function error
//!   whose message is `Unauthorized` is 401, any other failure (an unreachable endpoint, an
//!   answer that does not parse) is 500 with `AuthorizerConfigurationException`;
//! - the answer is kept for `authorizerResultTtlInSeconds` (default 300), keyed by the
//!   identity source values, per stage; the kept policy is evaluated against each request's
//!   method ARN, so a policy for one method does not open another;
//! - an explicit `Deny` is 403 `... with an explicit deny`, no matching `Allow` 403;
//! - a user pool token must be signed by one of the pool's keys, issued by one of the
//!   authorizer's pools and unexpired; without `authorizationScopes` on the method it must be
//!   an ID token, with them an access token holding one of the scopes (else 401).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use causeway_model::authorizer::{DEFAULT_TTL_SECONDS, IdentitySource};
use causeway_model::gateway::{TestAuthorizer, TestAuthorizerResult};
use causeway_model::policy::{Decision, INVOKE, Policy, Request, Scope};
use causeway_model::{Authorizer, AuthorizerType, Deployment, Stage};
use serde_json::Value;

use crate::Gateway;
use crate::cognito::{self, Pool, TokenError};
use crate::errors::{Failure, Kind};
use crate::exec_log::ExecutionLog;
use crate::lambda::{InvokeError, Invoked};
pub(crate) use crate::lambda_event::Facts;
use crate::request::Headers;

/// How long an authorizer function may take.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// How many decisions a stage keeps, about (the tables are sized for this many).
const EXPECTED_DECISIONS: usize = 10_000;
/// The most a stage's decisions may weigh: their identities (tokens can be long) and their
/// outcomes, so that callers with made-up tokens cannot grow the cache without bound.
const MAX_DECISION_BYTES: u64 = 32 * 1024 * 1024;

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
    /// Where the identity comes from (one header for TOKEN and user pools).
    sources: Vec<IdentitySource>,
    validation: Option<regex::Regex>,
    ttl_nanos: u64,
    /// The user pools of a COGNITO_USER_POOLS authorizer.
    pools: Vec<Pool>,
}

/// Who the authorizer says the caller is, and what it may do.
#[derive(Debug)]
pub struct Outcome {
    pub principal_id: String,
    /// A Lambda authorizer's policy.
    policy: Option<Policy>,
    /// `context` of the function's answer, each value as text (`$context.authorizer.KEY`).
    pub context: Vec<(String, String)>,
    /// The API key to count the request against when the API's key source is AUTHORIZER.
    pub usage_identifier_key: Option<String>,
    /// The policy as the function returned it (TestInvokeAuthorizer).
    policy_text: Option<String>,
    /// A user pool token's claims, as text (`$context.authorizer.claims.NAME`).
    pub claims: Vec<(String, String)>,
    /// A user pool token: when it expires (Unix seconds), its use and scopes.
    token: Option<TokenFacts>,
}

#[derive(Debug)]
struct TokenFacts {
    expires: i64,
    access: bool,
    scopes: Vec<String>,
}

impl Outcome {
    /// `$context.authorizer.NAME`: `principalId`, a context value, or `claims.NAME`.
    pub fn value(&self, name: &str) -> Option<&str> {
        if name == "principalId" {
            return Some(&self.principal_id);
        }
        if let Some(claim) = name.strip_prefix("claims.") {
            return self
                .claims
                .iter()
                .find(|(key, _)| key == claim)
                .map(|(_, value)| value.as_str());
        }
        self.context
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

type DecisionKey = (String, String);
type Kept = (u64, Arc<Outcome>);

/// Decisions by authorizer and identity, each with the monotonic time it expires, bounded
/// by their weight ([`MAX_DECISION_BYTES`]).
#[derive(Debug)]
struct Decisions(quick_cache::sync::Cache<DecisionKey, Kept, DecisionWeight>);

#[derive(Debug, Clone)]
struct DecisionWeight;

impl quick_cache::Weighter<DecisionKey, Kept> for DecisionWeight {
    fn weight(&self, key: &DecisionKey, (_, outcome): &Kept) -> u64 {
        let texts = |pairs: &[(String, String)]| -> usize {
            pairs.iter().map(|(k, v)| k.len() + v.len()).sum()
        };
        let bytes = key.0.len()
            + key.1.len()
            + outcome.principal_id.len()
            + outcome.policy_text.as_ref().map_or(0, String::len)
            + texts(&outcome.context)
            + texts(&outcome.claims)
            // The policy parsed, the maps and the entry itself.
            + 512;
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }
}

impl Decisions {
    fn new() -> Decisions {
        Decisions(quick_cache::sync::Cache::with_weighter(
            EXPECTED_DECISIONS,
            MAX_DECISION_BYTES,
            DecisionWeight,
        ))
    }
}

impl StageAuthorizers {
    /// The authorizers of `deployment` as `stage` serves them; `None` when it has none. The
    /// decisions of `previous` are kept while the deployment and the flush count stay.
    pub(crate) fn compile(
        stage: &Stage,
        deployment: &Deployment,
        previous: Option<&StageAuthorizers>,
        cognito_endpoint: Option<&cognito::HttpUrl>,
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
            _ => Arc::new(Decisions::new()),
        };
        let by_id = authorizers
            .iter()
            .map(|authorizer| {
                (
                    authorizer.id.clone(),
                    Arc::new(Compiled::new(
                        authorizer,
                        &stage.variables,
                        cognito_endpoint,
                    )),
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
        variables: &BTreeMap<String, String>,
        cognito_endpoint: Option<&cognito::HttpUrl>,
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
        // Anchored: AWS matches the whole token (the `aud` of a user pool token).
        let validation = authorizer
            .identity_validation_expression
            .as_deref()
            .filter(|e| !e.is_empty() && authorizer.kind != AuthorizerType::Request)
            .and_then(|e| regex::Regex::new(&format!("^(?:{e})$")).ok());
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
            pools: authorizer
                .provider_arns
                .iter()
                .filter_map(|arn| Pool::of(arn, cognito_endpoint))
                .collect(),
        }
    }
}

impl Facts<'_> {
    fn method_arn(&self) -> String {
        Scope {
            region: &self.gateway.config.region,
            account_id: &self.gateway.config.account_id,
            api_id: self.api_id,
        }
        .invoke_arn(self.stage, self.method, self.path)
    }
}

/// What an authorizer decided about a request: who the caller is, and whether it may go on
/// (a denied caller is still known to gateway response templates).
pub(crate) struct Decided {
    pub outcome: Arc<Outcome>,
    pub verdict: Result<(), Failure>,
}

/// Runs authorizer `id` of the stage for a method (whose `authorizationScopes` are
/// `scopes`): its decision, or the failure to answer with when it made none.
pub(crate) async fn authorize(
    facts: &Facts<'_>,
    authorizers: Option<&StageAuthorizers>,
    id: &str,
    scopes: &[String],
) -> Result<Decided, Failure> {
    let found = authorizers.and_then(|a| a.by_id.get(id).map(|c| (a, c)));
    let Some((authorizers, compiled)) = found else {
        return Err(Failure::authorizer_configuration(format!(
            "the method names authorizer '{id}', which the deployment does not have"
        )));
    };
    let identity = identity(compiled, facts)?;
    let method_arn = facts.method_arn();
    let now = facts.gateway.clock.now().monotonic.0;
    let key = (compiled.authorizer.id.clone(), identity.key);
    let cached = (compiled.ttl_nanos > 0)
        .then(|| authorizers.cache.0.get(&key))
        .flatten()
        .filter(|(expires, _)| *expires > now)
        .map(|(_, outcome)| outcome);
    let outcome = match cached {
        Some(outcome) => outcome,
        None => {
            let outcome =
                Arc::new(decide(compiled, facts, &identity.event, &method_arn, None).await?);
            if compiled.ttl_nanos > 0 {
                authorizers.cache.0.insert(
                    key,
                    (now.saturating_add(compiled.ttl_nanos), outcome.clone()),
                );
            }
            outcome
        }
    };
    let verdict = check(compiled, &outcome, facts, &method_arn, scopes);
    Ok(Decided { outcome, verdict })
}

/// What is checked of a decision on every request, kept or new: a Lambda authorizer's
/// policy against the method ARN; a user pool token's expiry and the method's scopes.
fn check(
    compiled: &Compiled,
    outcome: &Outcome,
    facts: &Facts<'_>,
    method_arn: &str,
    scopes: &[String],
) -> Result<(), Failure> {
    let name = &compiled.authorizer.name;
    if let Some(token) = &outcome.token {
        if token.expires <= unix_now() {
            return Err(Failure::unauthorized().because("the user pool token has expired"));
        }
        let allowed = if scopes.is_empty() {
            !token.access
        } else {
            token.access && token.scopes.iter().any(|s| scopes.contains(s))
        };
        if !allowed {
            return Err(Failure::unauthorized().because(if scopes.is_empty() {
                "the method takes an ID token, and this is an access token".to_owned()
            } else {
                format!("the method needs an access token with one of the scopes {scopes:?}")
            }));
        }
    }
    let Some(policy) = &outcome.policy else {
        return Ok(());
    };
    let decision = policy.evaluate(&Request {
        action: INVOKE,
        resource: method_arn,
        source_ip: facts.client,
        epoch_seconds: unix_now(),
        secure_transport: facts.secure,
        user_agent: facts.headers.get_str("user-agent"),
        referer: facts.headers.get_str("referer"),
        principal: None,
    });
    match decision {
        Decision::Allow => Ok(()),
        Decision::ExplicitDeny => Err(Failure::access_denied(
            "User is not authorized to access this resource with an explicit deny".to_owned(),
        )
        .because(format!(
            "authorizer '{name}' denies {method_arn} to principal '{}'",
            outcome.principal_id
        ))),
        Decision::ImplicitDeny => Err(Failure::access_denied(
            "User is not authorized to access this resource".to_owned(),
        )
        .because(format!(
            "the policy of authorizer '{name}' for principal '{}' allows nothing that matches {method_arn}",
            outcome.principal_id
        ))),
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The identity of a request: the cache key, and what the authorizer is given.
struct Identity {
    key: String,
    event: Event,
}

enum Event {
    /// A TOKEN authorizer's token, or a user pool token.
    Token(String),
    Request,
}

/// Reads the authorizer's identity sources from the request: 401 when one is missing.
fn identity(compiled: &Compiled, facts: &Facts<'_>) -> Result<Identity, Failure> {
    let unauthorized = |why: String| Failure::unauthorized().because(why);
    match compiled.authorizer.kind {
        AuthorizerType::Token | AuthorizerType::CognitoUserPools => {
            let Some(IdentitySource::Header(name)) = compiled.sources.first() else {
                return Err(Failure::authorizer_configuration(format!(
                    "authorizer '{}' has no header as its identity source",
                    compiled.authorizer.name
                )));
            };
            let mut token = facts
                .headers
                .get_str(name)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| unauthorized(format!("the request has no {name} header")))?;
            if compiled.authorizer.kind == AuthorizerType::CognitoUserPools {
                // User pool authorizers take the token with or without `Bearer `.
                if let (Some(scheme), Some(rest)) = (token.get(..7), token.get(7..))
                    && scheme.eq_ignore_ascii_case("bearer ")
                    && !rest.is_empty()
                {
                    token = rest.trim_start();
                }
            } else if let Some(validation) = &compiled.validation
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
                let value = source_value(source, facts)
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
    }
}

/// The value of one identity source of the request.
fn source_value(source: &IdentitySource, facts: &Facts<'_>) -> Option<String> {
    match source {
        IdentitySource::Header(name) | IdentitySource::MultiValueHeader(name) => {
            let values: Vec<&str> = facts
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
                .filter_map(|(_, v)| std::str::from_utf8(v).ok())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        }
        IdentitySource::Query(name) | IdentitySource::MultiValueQuery(name) => {
            let values: Vec<String> = crate::request::query_pairs(facts.query)
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        }
        IdentitySource::StageVariable(name) => facts.stage_variables.get(name).cloned(),
        IdentitySource::Context(name) => context_value(name, facts),
    }
}

/// The `$context` variables a REQUEST authorizer may take as identity sources.
fn context_value(name: &str, facts: &Facts<'_>) -> Option<String> {
    Some(match name {
        "requestId" | "extendedRequestId" => facts.request_id.to_owned(),
        "apiId" => facts.api_id.to_owned(),
        "accountId" => facts.gateway.config.account_id.clone(),
        "stage" => facts.stage.to_owned(),
        "httpMethod" => facts.method.to_owned(),
        "resourcePath" => facts.resource_path.to_owned(),
        "resourceId" => facts.resource_id.to_owned(),
        "path" => facts.path.to_owned(),
        "identity.sourceIp" => facts.client.to_string(),
        "identity.userAgent" => facts.headers.get_str("user-agent")?.to_owned(),
        "identity.apiKey" => facts.headers.get_str("x-api-key")?.to_owned(),
        "domainName" => facts.host?.to_owned(),
        _ => return None,
    })
}

/// Asks the authorizer: calls its function, or checks a user pool token.
async fn decide(
    compiled: &Compiled,
    facts: &Facts<'_>,
    event: &Event,
    method_arn: &str,
    log: Option<&ExecutionLog>,
) -> Result<Outcome, Failure> {
    if compiled.authorizer.kind == AuthorizerType::CognitoUserPools {
        let Event::Token(token) = event else {
            return Err(Failure::authorizer_configuration(
                "a user pool authorizer without a token",
            ));
        };
        return user_pool_token(compiled, facts, token).await;
    }
    let name = &compiled.authorizer.name;
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
        Event::Request => request_event(facts, method_arn),
    };
    let payload = serde_json::to_vec(&payload).unwrap_or_default();
    if let Some(log) = log {
        log.line(format_args!(
            "Endpoint request body after transformations: {}",
            String::from_utf8_lossy(&payload)
        ));
        log.line(format_args!("Sending request to function {function}"));
    }
    let invoked = crate::lambda::invoke(
        &facts.gateway.upstream,
        facts.gateway.config.lambda.as_ref(),
        function,
        (
            Bytes::from(payload),
            crate::lambda::InvocationType::RequestResponse,
        ),
        FUNCTION_TIMEOUT,
    )
    .await;
    match invoked {
        Ok(Invoked::Returned(body)) => {
            if let Some(log) = log {
                log.line(format_args!(
                    "Authorizer result body before parsing: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            parse_answer(&body, facts).map_err(|why| {
                Failure::authorizer_configuration(format!(
                    "authorizer '{name}' ({function}) answered what is not an authorizer result: {why}"
                ))
            })
        }
        Ok(Invoked::Failed {
            message: Some(message),
            ..
        }) if message == "Unauthorized" => Err(Failure::unauthorized().because(format!(
            "authorizer '{name}' ({function}) refused the caller"
        ))),
        Ok(Invoked::Failed { message, .. }) => Err(Failure::authorizer_configuration(format!(
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

/// Checks a user pool token; its claims become the outcome.
async fn user_pool_token(
    compiled: &Compiled,
    facts: &Facts<'_>,
    token: &str,
) -> Result<Outcome, Failure> {
    let name = &compiled.authorizer.name;
    if compiled.pools.is_empty() {
        return Err(Failure::authorizer_configuration(format!(
            "authorizer '{name}' names no user pool"
        )));
    }
    let verified = facts
        .gateway
        .key_sets
        .verify(&facts.gateway.upstream, &compiled.pools, token)
        .await
        .map_err(|error| match error {
            TokenError::Invalid(why) => {
                Failure::unauthorized().because(format!("authorizer '{name}': {why}"))
            }
            TokenError::Keys(why) => {
                Failure::authorizer_configuration(format!("authorizer '{name}': {why}"))
            }
        })?;
    let claims = verified.claims;
    let text = |key: &str| claims.get(key).and_then(Value::as_str).unwrap_or_default();
    let access = match text("token_use") {
        "access" => true,
        "id" => false,
        other => {
            return Err(Failure::unauthorized().because(format!(
                "authorizer '{name}': token_use is '{other}', neither id nor access"
            )));
        }
    };
    // The validation expression is matched against the ID token's audience (its app client).
    if let Some(validation) = &compiled.validation {
        let audience = if access {
            text("client_id")
        } else {
            text("aud")
        };
        if !validation.is_match(audience) {
            return Err(Failure::unauthorized().because(format!(
                "authorizer '{name}': the token's audience '{audience}' does not match the identity validation expression"
            )));
        }
    }
    let expires = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    Ok(Outcome {
        principal_id: text("sub").to_owned(),
        policy: None,
        context: Vec::new(),
        usage_identifier_key: None,
        policy_text: None,
        token: Some(TokenFacts {
            expires,
            access,
            scopes: text("scope")
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }),
        claims: claims
            .iter()
            .map(|(key, value)| (key.clone(), cognito::claim_text(key, value)))
            .collect(),
    })
}

/// The REQUEST event: the request as a Lambda proxy event has it, without the body.
fn request_event(facts: &Facts<'_>, method_arn: &str) -> Value {
    let mut fields = crate::lambda_event::request_fields(facts, &[], &[], false);
    fields.insert("type".into(), Value::String("REQUEST".to_owned()));
    fields.insert("methodArn".into(), Value::String(method_arn.to_owned()));
    Value::Object(fields)
}

/// Reads a function's result: `principalId`, `policyDocument`, `context` (string, number
/// and boolean values only) and `usageIdentifierKey`.
fn parse_answer(body: &[u8], facts: &Facts<'_>) -> Result<Outcome, String> {
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
        region: &facts.gateway.config.region,
        account_id: &facts.gateway.config.account_id,
        api_id: facts.api_id,
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
        claims: Vec::new(),
        token: None,
    })
}

/// The stage test invocations of authorizers run under.
const TEST_STAGE: &str = "test-invoke-stage";

/// TestInvokeAuthorizer: asks the authorizer as configured now, with the request given,
/// and reports its answer and the execution log. Nothing is kept.
pub async fn test(gateway: &Gateway, call: TestAuthorizer) -> TestAuthorizerResult {
    let started = std::time::Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let log = ExecutionLog::default();
    let authorizer = &call.authorizer;
    log.line(format_args!(
        "Starting authorizer: {} for request: {request_id}",
        authorizer.id
    ));
    let cognito = gateway.cognito_endpoint();
    let compiled = Compiled::new(authorizer, &call.stage_variables, cognito.as_ref());
    let headers = Headers::from_pairs(call.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let (path, query) = match call.path_with_query_string.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (call.path_with_query_string.as_str(), None),
    };
    let facts = Facts {
        // A test invocation has no connection: as AWS's, it counts as HTTPS.
        secure: true,
        gateway,
        api_id: &call.api_id,
        stage: TEST_STAGE,
        stage_variables: &call.stage_variables,
        method: "GET",
        headers: &headers,
        path,
        query,
        resource_path: path,
        resource_id: "",
        deployment_id: "",
        domain_path: None,
        path_params: &[],
        client: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        request_id: &request_id,
        host: headers.get_str("host"),
        caller: None,
        client_cert: None,
    };
    let decided = async {
        let identity = identity(&compiled, &facts)?;
        if let Event::Token(token) = &identity.event {
            log.line(format_args!("Incoming identity: {token}"));
        }
        decide(
            &compiled,
            &facts,
            &identity.event,
            &facts.method_arn(),
            Some(&log),
        )
        .await
    }
    .await;
    let mut result = TestAuthorizerResult::default();
    match decided {
        Ok(outcome) => {
            if outcome.policy.is_some() {
                log.line(format_args!(
                    "Using valid authorizer policy for principal: {}",
                    outcome.principal_id
                ));
            }
            log.line(format_args!("Successfully completed authorizer execution"));
            result.client_status = 0;
            result.principal_id = Some(outcome.principal_id.clone()).filter(|p| !p.is_empty());
            result.policy = outcome.policy_text.clone();
            result.claims = outcome.claims.iter().cloned().collect();
        }
        Err(failure) => {
            let cause = failure.cause.as_deref().unwrap_or_default();
            match failure.kind {
                Kind::AuthorizerConfigurationError => {
                    log.line(format_args!(
                        "Execution failed due to configuration error: {cause}"
                    ));
                    log.line(format_args!("AuthorizerConfigurationException"));
                }
                _ => log.line(format_args!("Unauthorized request: {cause}")),
            }
            result.client_status = crate::errors::default_status(failure.kind);
        }
    }
    result.latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    result.log = log.into_text();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_bounded_by_their_weight() {
        let decisions = Decisions::new();
        let outcome = Arc::new(Outcome {
            principal_id: "p".to_owned(),
            policy: None,
            context: Vec::new(),
            usage_identifier_key: None,
            policy_text: None,
            claims: Vec::new(),
            token: None,
        });
        // Made-up tokens of 60 KiB each, far more than fit.
        for i in 0..2_000 {
            let token = format!("{i:06}{}", "x".repeat(60 * 1024));
            decisions
                .0
                .insert(("a".to_owned(), token), (u64::MAX, outcome.clone()));
        }
        assert!(decisions.0.weight() <= MAX_DECISION_BYTES);
        assert!(decisions.0.len() < 2_000);
        assert!(!decisions.0.is_empty());
    }
}
