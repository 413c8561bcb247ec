//! One request from arrival to answer: resolve the API and stage, match the route, run the
//! integration, and turn any failure into the matching gateway response.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderValue, Response};
use http_body_util::{Either, Full};
use rand::Rng;

use crate::Gateway;
use crate::errors::{self, Context, Failure, Kind};
use crate::integration;
use crate::limits;
use crate::request::Incoming;
use crate::server::{BodyError, RequestBody};
use crate::snapshot::{Snapshot, StageEntry, StagePolicy};

/// What the gateway answers with: a buffered body, or a backend's body streamed through.
pub type Body = Either<Full<Bytes>, crate::pool::PooledBody>;

/// Where a request is headed, read from its Host header or its `/restapis/...` path.
#[derive(Debug, PartialEq, Eq)]
pub struct Target<'a> {
    pub api_id: &'a str,
    pub stage: &'a str,
    /// The raw path after the stage, starting with `/`.
    pub path: &'a str,
    /// When a custom domain name's mapping chose the API, the whole path the client asked
    /// for (Lambda events show it; the execute-api endpoint may be disabled, and is not asked).
    pub domain_path: Option<&'a str>,
    /// Whether the request came the ways a VPC endpoint is called (its DNS name with an
    /// `x-apigw-api-id` header, or the `{api}-{vpce}.execute-api` alias): only private APIs
    /// answer those.
    pub via_vpc_endpoint: bool,
}

/// What routed a request to a custom domain name (`$context.customDomain.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainMatch<'a> {
    /// The routing rule of this id.
    Rule(&'a str),
    /// The base path mapping of this base path (`(none)` for the root).
    BasePath(&'a str),
}

/// A request to a custom domain name: the domain's name (as stored), and where its
/// routing rules or base path mappings send it (`None`: nowhere, 403 Forbidden as on AWS).
struct DomainRouted<'a> {
    domain: &'a str,
    routed: Option<(Target<'a>, DomainMatch<'a>)>,
}

/// Where a request to a custom domain name goes: `None` when the Host is no custom domain
/// of the snapshot's. A wildcard domain (`*.example.com`) takes the names one label below
/// it that have no domain of their own.
fn domain_target<'a>(
    snapshot: &'a Snapshot,
    host: Option<&str>,
    headers: &crate::request::Headers,
    path: &'a str,
) -> Option<DomainRouted<'a>> {
    let name = without_port(host?).to_ascii_lowercase();
    let (domain, routes) = snapshot.domains.get_key_value(&name).or_else(|| {
        if !snapshot.wildcard_domains {
            return None;
        }
        let (_, parent) = name.split_once('.')?;
        snapshot.domains.get_key_value(&format!("*.{parent}"))
    })?;
    let routed =
        domain_rule(&routes.rules, headers, path).or_else(|| domain_route(&routes.mappings, path));
    Some(DomainRouted {
        domain: domain.as_str(),
        routed,
    })
}

/// The first of a domain's routing rules (lowest priority first) whose conditions all
/// hold: each header condition by a field of that name whose whole value matches its glob,
/// the base path as a mapping's matches.
fn domain_rule<'a>(
    rules: &'a [crate::snapshot::DomainRule],
    headers: &crate::request::Headers,
    path: &'a str,
) -> Option<(Target<'a>, DomainMatch<'a>)> {
    rules.iter().find_map(|rule| {
        let rest = match &rule.base_path {
            None => path,
            Some(base) => causeway_model::routing_rule::below_base_path(path, base)?,
        };
        let headers_hold = rule.headers.iter().all(|(name, glob)| {
            headers.iter().any(|(field, value)| {
                field.eq_ignore_ascii_case(name.as_bytes())
                    && (glob.matches(value)
                        || name == "host"
                            && std::str::from_utf8(value)
                                .is_ok_and(|host| glob.matches(without_port(host).as_bytes())))
            })
        });
        if !headers_hold {
            return None;
        }
        let seen = if rule.strip_base_path { rest } else { path };
        Some((
            Target {
                api_id: &rule.api_id,
                stage: &rule.stage,
                path: if seen.is_empty() { "/" } else { seen },
                domain_path: Some(path),
                via_vpc_endpoint: false,
            },
            DomainMatch::Rule(&rule.id),
        ))
    })
}

/// A Host value without its port (`a.example.com:8443` → `a.example.com`): on AWS a
/// custom domain is served on 443, which clients leave out of Host; here it may not be.
fn without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// The first of a domain's base path mappings that matches `path`.
fn domain_route<'a>(
    routes: &'a [crate::snapshot::DomainRoute],
    path: &'a str,
) -> Option<(Target<'a>, DomainMatch<'a>)> {
    for route in routes {
        // What follows the base path: the whole path for the root mapping.
        let rest = match &route.base_path {
            None => path,
            Some(base) => {
                let Some(rest) = causeway_model::routing_rule::below_base_path(path, base) else {
                    continue;
                };
                rest
            }
        };
        let (stage, rest) = match &route.stage {
            Some(stage) => (stage.as_str(), rest),
            None => {
                // The stage is the next segment.
                let after = rest.strip_prefix('/').unwrap_or(rest);
                let (stage, rest) = match after.bytes().position(|b| b == b'/') {
                    Some(at) => after.split_at(at),
                    None => (after, ""),
                };
                if stage.is_empty() {
                    continue;
                }
                (stage, rest)
            }
        };
        return Some((
            Target {
                api_id: &route.api_id,
                stage,
                path: if rest.is_empty() { "/" } else { rest },
                domain_path: Some(path),
                via_vpc_endpoint: false,
            },
            DomainMatch::BasePath(route.base_path.as_deref().unwrap_or("(none)")),
        ));
    }
    None
}

/// Why a request to a custom domain with TLS settings of its own is refused (403
/// Forbidden), if it is: mutual TLS needs the connection's handshake to have been made for
/// the domain with a client certificate its truststore trusts; STRICT endpoint access
/// needs the Host to be the TLS server name.
fn domain_tls_refusal(
    tls: &causeway_model::gateway::DomainTls,
    peer: Option<&crate::tls::Peer>,
    domain: &str,
) -> Option<String> {
    let Some(peer) = peer.filter(|peer| peer.domain == domain) else {
        return Some(if tls.truststore.is_some() {
            "Access denied. Reason: the custom domain has mutual TLS, and the request did not come over HTTPS with the domain as its TLS server name".to_owned()
        } else {
            "the custom domain's endpoint access mode is STRICT, and the request did not come over HTTPS with the domain as its TLS server name".to_owned()
        });
    };
    if tls.strict && peer.server_name != domain {
        return Some(format!(
            "the custom domain's endpoint access mode is STRICT, and the Host ({domain}) is not the TLS server name ({})",
            peer.server_name
        ));
    }
    if tls.truststore.is_some() {
        return peer.verdict.as_ref().err().cloned();
    }
    None
}

/// Reads the API, stage and path from `{api}.execute-api.{any domain}` hosts
/// (`/{stage}/{path}`) or from `/restapis/{api}/{stage}/_user_request_/{path}`; and the ways
/// a private API is called through a VPC endpoint: the `{api}-{vpce-id}.execute-api...`
/// alias, or any other host (the endpoint's own DNS name, `vpce-...`) with the API id in
/// `x-apigw-api-id` (`api_header`, read only when neither the host nor the path names the
/// API).
pub fn target<'a>(
    host: Option<&'a str>,
    path: &'a str,
    api_header: impl FnOnce() -> Option<&'a str>,
) -> Option<Target<'a>> {
    let host_api = host.and_then(|h| {
        let (api, rest) = split_once_byte(h, b'.')?;
        let second_label = rest.strip_prefix("execute-api")?;
        ((second_label.is_empty() || second_label.starts_with('.'))
            && !api.is_empty()
            && !api.starts_with("vpce-"))
        .then_some(api)
    });
    let by_host = host_api.map(|api| match api.split_once("-vpce-") {
        Some((api, _)) => (api, true),
        None => (api, false),
    });
    let stage_form = |api_id: &'a str, via_vpc_endpoint: bool| {
        let rest = path.strip_prefix('/')?;
        let (stage, path) = match rest.bytes().position(|b| b == b'/') {
            Some(index) => rest.split_at(index),
            None => (rest, "/"),
        };
        (!stage.is_empty() && !api_id.is_empty()).then_some(Target {
            api_id,
            stage,
            path,
            domain_path: None,
            via_vpc_endpoint,
        })
    };
    if let Some((api_id, via_vpc_endpoint)) = by_host {
        return stage_form(api_id, via_vpc_endpoint);
    }
    let path_form = || {
        let rest = path.strip_prefix("/restapis/")?;
        let (api_id, rest) = split_once_byte(rest, b'/')?;
        let (stage, rest) = split_once_byte(rest, b'/')?;
        let path = rest.strip_prefix("_user_request_")?;
        let path = if path.is_empty() { "/" } else { path };
        (path.starts_with('/') && !api_id.is_empty() && !stage.is_empty()).then_some(Target {
            api_id,
            stage,
            path,
            domain_path: None,
            via_vpc_endpoint: false,
        })
    };
    // The path form first: it names its API itself.
    path_form().or_else(|| {
        let id = api_header().filter(|id| !id.is_empty())?;
        stage_form(id, true)
    })
}

/// Checks the request against the deployment's resource policy, before API keys and
/// throttles, so that a denied caller uses up no quota. For a method with an authorizer, only
/// an explicit deny refuses: where the policy says nothing, the authorizer decides (AWS's
/// table for a resource policy with a Lambda or Cognito authorizer).
fn authorize(
    gateway: &Gateway,
    policy: &StagePolicy,
    target: &Target<'_>,
    request: &Incoming,
    (client, authorizer_decides, caller): (SocketAddr, bool, Option<&causeway_sigv4::Identity>),
) -> Result<(), Failure> {
    use causeway_model::policy::{Decision, INVOKE, Request, Scope};
    let policy = match policy {
        StagePolicy::Valid(policy) => policy,
        StagePolicy::Invalid(reason) => {
            return Err(Failure::configuration(format!(
                "the deployment's resource policy is invalid ({reason}); fix it and deploy again"
            )));
        }
    };
    let scope = Scope {
        region: &gateway.config.region,
        account_id: &gateway.config.account_id,
        api_id: target.api_id,
    };
    let resource = scope.invoke_arn(target.stage, request.method.as_str(), target.path);
    let epoch_seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let decision = policy.evaluate(&Request {
        action: INVOKE,
        resource: &resource,
        source_ip: client.ip(),
        epoch_seconds,
        secure_transport: request.secure,
        user_agent: request.headers.get_str("user-agent"),
        referer: request.headers.get_str("referer"),
        principal: caller.map(|caller| causeway_model::policy::Principal {
            arn: &caller.arn,
            account_id: &caller.account_id,
            user_id: &caller.principal_id,
        }),
    });
    if let Some(caller) = caller {
        // IAM: an identity of the API's own account needs only its identity policy (here,
        // every identity may invoke), so the resource policy can only deny it; one of
        // another account needs the resource policy's allow too.
        let same_account = caller.account_id == gateway.config.account_id;
        return match decision {
            Decision::Allow => Ok(()),
            Decision::ImplicitDeny if same_account => Ok(()),
            Decision::ImplicitDeny => Err(iam_denied(
                gateway,
                target,
                request,
                caller,
                " because no resource-based policy allows the execute-api:Invoke action",
            )),
            Decision::ExplicitDeny => Err(iam_denied(
                gateway,
                target,
                request,
                caller,
                " with an explicit deny in a resource-based policy",
            )),
        };
    }
    let explicitly = match decision {
        Decision::Allow => return Ok(()),
        Decision::ExplicitDeny => " with an explicit deny",
        Decision::ImplicitDeny if authorizer_decides => return Ok(()),
        Decision::ImplicitDeny => "",
    };
    Err(Failure::access_denied(format!(
        "User: anonymous is not authorized to perform: {INVOKE} on resource: {}{explicitly}",
        masked_account(&resource, &gateway.config.account_id)
    ))
    .because(format!(
        "the resource policy denies {} from {}{explicitly}",
        resource,
        client.ip()
    )))
}

/// ACCESS_DENIED for an identity that signed the request, in IAM's words.
fn iam_denied(
    gateway: &Gateway,
    target: &Target<'_>,
    request: &Incoming,
    caller: &causeway_sigv4::Identity,
    why: &str,
) -> Failure {
    let scope = causeway_model::policy::Scope {
        region: &gateway.config.region,
        account_id: &gateway.config.account_id,
        api_id: target.api_id,
    };
    let resource = scope.invoke_arn(target.stage, request.method.as_str(), target.path);
    Failure::access_denied(format!(
        "User: {} is not authorized to perform: {} on resource: {}{why}",
        caller.arn,
        causeway_model::policy::INVOKE,
        masked_account(&resource, &gateway.config.account_id)
    ))
    .because(format!("{} may not invoke {resource}{why}", caller.arn))
}

/// The ARN as AWS shows it to callers: the account id masked but for its last four digits.
fn masked_account(arn: &str, account_id: &str) -> String {
    let keep = account_id.len().saturating_sub(4);
    let masked = format!(
        "{}{}",
        "*".repeat(keep),
        account_id.get(keep..).unwrap_or_default()
    );
    arn.replacen(&format!(":{account_id}:"), &format!(":{masked}:"), 1)
}

/// `text` split around the first `byte` (ASCII). A plain loop: `split_once`'s searcher cost
/// more than the search on the short strings met here.
fn split_once_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == byte)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// The text of a request id (a hyphenated UUID).
pub(crate) type RequestId = [u8; 36];

/// Serves one request. The answer goes with the request's id: the server writes it, and
/// an `x-amz-apigw-id`, on every answer (they are not in the answer's map).
pub async fn handle(
    gateway: &Gateway,
    request: &Incoming,
    body: RequestBody<'_>,
    (client, local): (SocketAddr, SocketAddr),
    timer: &crate::upstream::Deadline,
) -> (Response<Body>, RequestId) {
    let mut id: RequestId = [0; 36];
    let request_id: &str = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut id);
    let snapshot = gateway.snapshot();
    let (path, query) = request.path_and_query();
    // The request with the headers a web ACL inserts, when it inserts any (it outlives the
    // context, which refers to it then; boxed, to keep every request's future small).
    let with_waf_headers = std::sync::OnceLock::new();
    let mut context = Context {
        request_id,
        http_method: request.method.as_str(),
        request_headers: Some(&request.headers),
        query,
        path,
        source_ip: Some(client.ip()),
        account_id: &gateway.config.account_id,
        ..Context::default()
    };
    let routed = if snapshot.domains.is_empty() {
        None
    } else {
        domain_target(&snapshot, request.host(), &request.headers, path)
    };
    // A request the custom domain's TLS settings refuse: answered once the stage is known,
    // so that its gateway responses and access log see it (with the client's certificate,
    // which AWS's access logs show when mutual TLS fails).
    let mut refused = None;
    let target = match routed {
        Some(DomainRouted {
            domain,
            routed: Some((target, matched)),
        }) => {
            context.custom_domain = Some(matched);
            if let Some(tls) = snapshot.domain_tls.get(domain) {
                let peer = request.peer.as_deref();
                if tls.truststore.is_some() {
                    context.client_cert = peer.and_then(|peer| peer.client_cert.as_deref());
                }
                refused = domain_tls_refusal(tls, peer, domain)
                    .map(|cause| Failure::new(Kind::Forbidden, "Forbidden").because(cause));
            }
            target
        }
        Some(DomainRouted { routed: None, .. }) => {
            let failure = Failure::new(Kind::Forbidden, "Forbidden").because(
                "no routing rule or base path mapping of the custom domain name matches the request",
            );
            return finish(
                errors::render(&failure, None, &context).map(Either::Left),
                request_id,
            );
        }
        None => match target(request.host(), path, || {
            request.headers.get_str("x-apigw-api-id")
        }) {
            Some(target) => target,
            None => {
                return finish(
                    errors::render(&Failure::no_route(), None, &context).map(Either::Left),
                    request_id,
                );
            }
        },
    };
    context.api_id = target.api_id;
    context.stage = target.stage;
    let Some(api) = snapshot.apis.get(target.api_id) else {
        let failure = Failure::new(Kind::Forbidden, "Forbidden").because("no such API");
        return finish(
            errors::render(&failure, None, &context).map(Either::Left),
            request_id,
        );
    };
    if target.via_vpc_endpoint
        && !api
            .api
            .endpoint_configuration
            .types
            .contains(&causeway_model::EndpointType::Private)
    {
        let failure = Failure::new(Kind::Forbidden, "Forbidden")
            .because("only private APIs are called through a VPC endpoint");
        return finish(
            errors::render(&failure, None, &context).map(Either::Left),
            request_id,
        );
    }
    if api.api.disable_execute_api_endpoint && target.domain_path.is_none() {
        let failure = Failure::new(Kind::Forbidden, "Forbidden")
            .because("the execute-api endpoint is disabled");
        return finish(
            errors::render(&failure, None, &context).map(Either::Left),
            request_id,
        );
    }
    let Some(stage) = api.stages.get(target.stage) else {
        return finish(
            errors::render(&Failure::no_route(), None, &context).map(Either::Left),
            request_id,
        );
    };
    // A stage with a canary release sends its share of requests to the canary deployment.
    let stage = match &stage.canary {
        Some(canary) if canary.share > 0.0 && rand::rng().random::<f64>() < canary.share => {
            &canary.entry
        }
        _ => stage,
    };
    context.stage_variables = Some(&stage.stage.variables);
    context.is_canary = stage.is_canary;
    let started = stage.access_log.is_some().then(std::time::Instant::now);
    let result = match refused {
        Some(failure) => Err(failure),
        None => {
            serve_stage(
                gateway,
                (stage, api.api.minimum_compression_size),
                &target,
                (request, query, &with_waf_headers),
                body,
                (client, local),
                request_id,
                &snapshot,
                &mut context,
                timer,
            )
            .await
        }
    };
    let mut error = None;
    let response = match result {
        Ok(response) => response,
        Err(failure) => {
            // A denial or a request that fails validation is the API working, not a fault: at
            // debug level, so that a caller knocking over and over cannot flood the log.
            if let Some(cause) = &failure.cause
                && (matches!(failure.kind, Kind::AccessDenied | Kind::Forbidden)
                    || failure.validation.is_some())
            {
                tracing::debug!(request_id = %request_id, api = %target.api_id, %cause, "request refused");
            } else if let Some(cause) = &failure.cause {
                tracing::warn!(
                    request_id = %request_id,
                    api = %target.api_id,
                    stage = %target.stage,
                    kind = failure.kind.response_type(),
                    %cause,
                    "request failed"
                );
            }
            let response = errors::render(&failure, Some(&stage.gateway_responses), &context)
                .map(Either::Left);
            error = Some(failure);
            response
        }
    };
    if let (Some(log), Some(sink), Some(started)) =
        (&stage.access_log, &gateway.config.access_logs, started)
    {
        use hyper::body::Body as _;
        let outcome = crate::access_log::Outcome {
            status: response.status().as_u16(),
            response_length: response.body().size_hint().exact(),
            started,
            integration: context.integration,
            error: error.as_ref(),
        };
        log.write(&**sink, &context, &outcome);
    }
    finish(response, request_id)
}

#[allow(clippy::too_many_arguments)]
async fn serve_stage<'a>(
    gateway: &Gateway,
    (stage, minimum_compression_size): (&'a StageEntry, Option<i32>),
    target: &Target<'a>,
    (request, query, with_waf_headers): (
        &'a Incoming,
        Option<&'a str>,
        &'a std::sync::OnceLock<Box<Incoming>>,
    ),
    body: RequestBody<'_>,
    (client, local): (SocketAddr, SocketAddr),
    request_id: &'a str,
    snapshot: &Snapshot,
    context: &mut Context<'a>,
    timer: &crate::upstream::Deadline,
) -> Result<Response<Body>, Failure> {
    let mut request = request;
    // WAF rules that inspect the body, or an AWS_IAM signature that covers it, read it
    // before the integration does.
    let mut body = LazyBody {
        unread: Some(body),
        read: None,
    };
    let limit = gateway.config.max_body_bytes;
    // WAF looks at every request first, before routing, authorization and limits (AWS).
    if let Some(acl) = &stage.web_acl {
        if acl.inspects_body {
            body.peek(&request.headers, limit).await?;
        }
        let now = gateway.waf_seconds();
        // The path as AWS WAF sees it: as sent to the stage's execute-api host
        // (`/{stage}/...`, whichever URL form reached it), or to the custom domain.
        let path: std::borrow::Cow<'_, str> = match target.domain_path {
            Some(path) => std::borrow::Cow::Borrowed(path),
            None => std::borrow::Cow::Owned(format!("/{}{}", target.stage, target.path)),
        };
        let screened = crate::waf::screen(
            acl,
            &gateway.waf_rates,
            (request, &path, query, body.read.as_deref()),
            client.ip(),
            now,
        );
        context.waf = Some((
            acl.arn.as_str(),
            !matches!(screened, Ok(crate::waf::Screened::Pass(_))),
        ));
        match screened? {
            crate::waf::Screened::Answer(answer) => return Ok(*answer),
            crate::waf::Screened::Pass(inserted) if !inserted.is_empty() => {
                // The headers WAF inserts are the request's from here on.
                let augmented: &'a Incoming =
                    with_waf_headers.get_or_init(|| Box::new(request.with_inserted(&inserted)));
                request = augmented;
                context.request_headers = Some(&augmented.headers);
            }
            crate::waf::Screened::Pass(_) => {}
        }
    }
    let matched = stage
        .routes
        .route(request.method.as_str(), target.path)
        .map_err(|_| Failure::no_route())?;
    context.resource_path = matched.resource_path();
    context.resource_id = &matched.resource.resource.id;
    let method = matched.method;
    let uses_authorizer = method.authorization_type.uses_authorizer();
    // AWS_IAM: the caller is whoever signed the request, and the signature covers the body,
    // so the body is read first.
    let caller = if method.authorization_type == causeway_model::AuthorizationType::AwsIam {
        let bytes = body.peek(&request.headers, limit).await?;
        let caller = crate::iam::authenticate(gateway, request, bytes)?;
        context.caller = Some(caller.clone());
        Some(caller)
    } else {
        None
    };
    match &stage.policy {
        Some(policy) => authorize(
            gateway,
            policy,
            target,
            request,
            (client, uses_authorizer, caller.as_deref()),
        )?,
        // Without a resource policy, only identities of the API's own account get in.
        None => {
            if let Some(caller) = &caller
                && caller.account_id != gateway.config.account_id
            {
                return Err(iam_denied(
                    gateway,
                    target,
                    request,
                    caller,
                    " because no resource-based policy allows the execute-api:Invoke action",
                ));
            }
        }
    }
    let authorized = if uses_authorizer {
        // Boxed, with what it needs made inside, so that requests without an authorizer do
        // not carry its large future.
        Some(
            Box::pin(ask_authorizer(
                gateway,
                stage,
                target,
                (request, query),
                &matched,
                (client, request_id, context),
            ))
            .await?,
        )
    } else {
        None
    };
    let admission = limits::Admission {
        api_id: target.api_id,
        stage: target.stage,
        matched: &matched,
        headers: &request.headers,
        keys: &snapshot.keys,
        limits: &stage.limits,
        account_throttle: gateway.config.account_throttle,
        // AUTHORIZER: the key is the one the authorizer named (`usageIdentifierKey`).
        authorizer_key: (stage.deployment.snapshot.api.api_key_source
            == causeway_model::ApiKeySource::Authorizer)
            .then(|| {
                authorized
                    .as_ref()
                    .and_then(|a| a.usage_identifier_key.as_deref())
            }),
        arrived: request.arrived,
    };
    limits::admit(&admission, &*gateway.limiter, &*gateway.clock).await?;
    let validation = stage.validation.get(&matched);
    if let Some(validation) = validation {
        crate::validation::check_parameters(validation, &matched, &request.headers, query)?;
    }
    let body = body.into_bytes(&request.headers, limit).await?;
    if let Some(validation) = validation {
        crate::validation::check_body(validation, &request.headers, &body)?;
    }
    let Some(integration) = method.integration.as_ref() else {
        return Err(Failure::configuration("the method has no integration"));
    };
    // A cached method answers from the stage cache, unless the client asks for a fresh
    // answer; what the integration answers is kept for the next request.
    let cached = stage.caching.as_ref().and_then(|caching| {
        let (key, ttl) = caching.key(&matched, request.method.as_str(), query, &request.headers)?;
        Some((&caching.store, key, ttl))
    });
    let now = match &cached {
        Some((store, key, _)) => {
            let now = gateway.clock.now().monotonic.0;
            if !crate::cache::refresh_requested(&request.headers)
                && let Some(entry) = store.get(key, now)
            {
                return Ok(compressed(
                    entry.response(),
                    minimum_compression_size,
                    request,
                ));
            }
            now
        }
        None => 0,
    };
    let trace_id = std::sync::OnceLock::new();
    let call = integration::Call {
        secure: request.secure,
        method: &request.method,
        headers: &request.headers,
        query,
        body,
        matched: &matched,
        integration,
        stage,
        api_id: target.api_id,
        client,
        local,
        request_id,
        trace_id: &trace_id,
        arrived: request.arrived,
        snapshot,
        upstream: &gateway.upstream,
        log: None,
        timer: Some(timer),
        authorizer: authorized.as_deref(),
        caller: caller.as_deref(),
        gateway,
        path: target.path,
        // Through a custom domain, Lambda events show the whole path asked for.
        domain_path: target.domain_path,
        client_cert: context.client_cert,
    };
    let called = stage.access_log.is_some().then(std::time::Instant::now);
    let response = integration::run(&call).await?;
    if let Some(called) = called {
        context.integration = Some((response.status().as_u16(), called.elapsed()));
    }
    let response = match cached {
        Some((store, key, ttl)) => store.keep(key, response, now.saturating_add(ttl)),
        None => response,
    };
    // A streamed answer is never compressed, even one that came whole with its head (AWS:
    // content encoding is not supported with STREAM).
    if integration.response_transfer_mode == Some(causeway_model::ResponseTransferMode::Stream) {
        return Ok(response);
    }
    Ok(compressed(response, minimum_compression_size, request))
}

/// Asks the method's authorizer about the request.
async fn ask_authorizer(
    gateway: &Gateway,
    stage: &StageEntry,
    target: &Target<'_>,
    (request, query): (&Incoming, Option<&str>),
    matched: &causeway_routing::RouteMatch<'_>,
    (client, request_id, context): (SocketAddr, &str, &mut Context<'_>),
) -> Result<std::sync::Arc<crate::authorizer::Outcome>, Failure> {
    let facts = crate::authorizer::Facts {
        secure: request.secure,
        gateway,
        api_id: target.api_id,
        stage: &stage.stage.stage_name,
        deployment_id: &stage.deployment.id,
        stage_variables: &stage.stage.variables,
        method: request.method.as_str(),
        headers: &request.headers,
        path: target.path,
        domain_path: target.domain_path,
        query,
        resource_path: &matched.resource.path,
        resource_id: &matched.resource.resource.id,
        path_params: &matched.path_params,
        client: client.ip(),
        request_id,
        host: request.host(),
        caller: None,
        client_cert: context.client_cert,
    };
    let method = matched.method;
    let decided = crate::authorizer::authorize(
        &facts,
        stage.authorizers.as_ref(),
        method.authorizer_id.as_deref().unwrap_or_default(),
        &method.authorization_scopes,
    )
    .await?;
    // A denied caller is still known to gateway response templates.
    context.authorizer = Some(decided.outcome.clone());
    decided.verdict?;
    Ok(decided.outcome)
}

/// The answer, compressed for a client that asks when the API sets
/// `minimumCompressionSize`.
fn compressed(
    response: Response<Body>,
    minimum: Option<i32>,
    request: &Incoming,
) -> Response<Body> {
    match minimum {
        None => response,
        Some(minimum) => crate::compress::maybe(
            response,
            request.headers.get_str("accept-encoding"),
            usize::try_from(minimum).unwrap_or(0),
        ),
    }
}

/// The request body, at most `limit` bytes, decoded from its `Content-Encoding` (a
/// compressed payload is decoded before the integration sees it, as API Gateway does).
/// A request body read once, by whatever first needs it.
struct LazyBody<'b> {
    unread: Option<RequestBody<'b>>,
    read: Option<Bytes>,
}

impl LazyBody<'_> {
    /// The body, read now if it was not yet, and kept for later readers.
    async fn peek(
        &mut self,
        headers: &crate::request::Headers,
        limit: usize,
    ) -> Result<&Bytes, Failure> {
        if let Some(unread) = self.unread.take()
            && !unread.is_absent()
        {
            self.read = Some(read_body(unread, headers, limit).await?);
        }
        Ok(self.read.get_or_insert_with(Bytes::new))
    }

    /// The body, for its last reader.
    async fn into_bytes(
        self,
        headers: &crate::request::Headers,
        limit: usize,
    ) -> Result<Bytes, Failure> {
        match (self.read, self.unread) {
            (Some(read), _) => Ok(read),
            (None, Some(unread)) if !unread.is_absent() => read_body(unread, headers, limit).await,
            (None, _) => Ok(Bytes::new()),
        }
    }
}

async fn read_body(
    body: RequestBody<'_>,
    headers: &crate::request::Headers,
    limit: usize,
) -> Result<Bytes, Failure> {
    let body = collect_body(body, limit).await?;
    let Some(coding) = headers
        .get_str("content-encoding")
        .filter(|_| !body.is_empty())
    else {
        return Ok(body);
    };
    match crate::compress::decode_request(coding, &body, limit) {
        Ok(decoded) => Ok(decoded.unwrap_or(body)),
        Err(crate::compress::DecodeError::TooLarge) => {
            Err(Failure::too_large().because("the request body is over the limit once decoded"))
        }
        Err(crate::compress::DecodeError::Corrupt(error)) => Err(Failure::bad_body(format!(
            "the request body is not {coding}: {error}"
        ))),
    }
}

async fn collect_body(body: RequestBody<'_>, limit: usize) -> Result<Bytes, Failure> {
    match body.collect(limit).await {
        Ok(body) => Ok(body),
        Err(BodyError::TooLarge(_)) => Err(Failure::too_large()),
        // The client's framing is broken: its fault, answered as a bad body (400), and the
        // connection closes after the answer.
        Err(BodyError::Malformed(error)) => {
            let detail = match error {
                causeway_http1::Error::Chunked(what) => what.to_owned(),
                other => other.to_string(),
            };
            Err(Failure::bad_body(format!(
                "the request's chunked body is malformed: {detail}"
            )))
        }
        // The client stopped sending (or its connection failed) before the body's end: its
        // fault too, never the integration's.
        Err(error) => {
            let cause = match error {
                BodyError::Read(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                    "the client ended its side of the connection before the request body's end"
                        .to_owned()
                }
                other => other.to_string(),
            };
            Err(Failure::bad_body(cause))
        }
    }
}

/// The answer with its request id.
fn finish(response: Response<Body>, request_id: &str) -> (Response<Body>, RequestId) {
    let mut id: RequestId = [0; 36];
    let len = request_id.len().min(id.len());
    id[..len].copy_from_slice(&request_id.as_bytes()[..len]);
    (response, id)
}

/// An X-Ray style trace id header for a request that arrived at `arrived`:
/// `Root=1-{epoch seconds, hex}-{96 random bits, hex}`.
pub(crate) fn trace_id(arrived: std::time::Instant) -> HeaderValue {
    HeaderValue::from_bytes(&trace_text(arrived))
        .unwrap_or_else(|_| HeaderValue::from_static("Root=1-00000000-000000000000000000000000"))
}

/// The text of a new trace id (see [`trace_id`]).
pub(crate) fn trace_text(arrived: std::time::Instant) -> [u8; 40] {
    let seconds = crate::wall::unix_seconds_at(arrived);
    let mut rng = rand::rng();
    // `Root=1-{seconds:08x}-{96 random bits in hex}`, written in place: `format!` showed up in
    // profiles of the proxied request.
    let mut text = *b"Root=1-00000000-000000000000000000000000";
    write_hex(&mut text[7..15], seconds);
    write_hex(&mut text[16..24], u64::from(rng.random::<u32>()));
    write_hex(&mut text[24..40], rng.random::<u64>());
    text
}

/// Writes the low `out.len()` hex digits of `value` into `out` (lowercase, zero-padded).
fn write_hex(out: &mut [u8], mut value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in out.iter_mut().rev() {
        *byte = DIGITS[(value & 0xf) as usize];
        value >>= 4;
    }
}

/// An opaque id like AWS's `x-amz-apigw-id` (16 base64 characters ending in `=`), from one
/// 128-bit draw: 6 bits per character.
pub(crate) fn apigw_id() -> [u8; 16] {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u128 = rand::rng().random();
    let mut id = [b'='; 16];
    for byte in &mut id[..15] {
        *byte = ALPHABET[(bits & 63) as usize];
        bits >>= 6;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn trace_ids_have_the_x_ray_shape() {
        let id = trace_id(std::time::Instant::now());
        let text = id.to_str().unwrap();
        assert_eq!(text.len(), 40, "{text}");
        let parts: Vec<&str> = text.split('-').collect();
        assert_eq!(parts[0], "Root=1");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let seconds = u64::from_str_radix(parts[1], 16).unwrap();
        assert!(now.abs_diff(seconds) <= 2, "{text}");
        assert_eq!(parts[2].len(), 24);
        assert!(
            parts[2]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(
            trace_id(std::time::Instant::now()),
            id,
            "each request gets its own trace"
        );
        let apigw = apigw_id();
        assert_eq!(apigw[15], b'=');
        assert!(
            apigw[..15]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        );
        assert_ne!(apigw_id(), apigw);
        let mut out = [0u8; 8];
        write_hex(&mut out, 0x1234_abcd);
        assert_eq!(&out, b"1234abcd");
        write_hex(&mut out, 0xff);
        assert_eq!(&out, b"000000ff");
    }

    #[test]
    fn targets_from_host_and_path() {
        assert_eq!(
            target(
                Some("abc123.execute-api.localhost:8080"),
                "/prod/pets/1",
                || None
            ),
            Some(Target {
                api_id: "abc123",
                stage: "prod",
                path: "/pets/1",
                domain_path: None,
                via_vpc_endpoint: false
            })
        );
        assert_eq!(
            target(
                Some("abc.execute-api.localhost.localstack.cloud:4566"),
                "/dev",
                || None
            ),
            Some(Target {
                api_id: "abc",
                stage: "dev",
                path: "/",
                domain_path: None,
                via_vpc_endpoint: false
            })
        );
        assert_eq!(
            target(
                Some("127.0.0.1:8080"),
                "/restapis/abc/prod/_user_request_/x/y",
                || None
            ),
            Some(Target {
                api_id: "abc",
                stage: "prod",
                path: "/x/y",
                domain_path: None,
                via_vpc_endpoint: false
            })
        );
        assert_eq!(
            target(None, "/restapis/abc/prod/_user_request_", || None),
            Some(Target {
                api_id: "abc",
                stage: "prod",
                path: "/",
                domain_path: None,
                via_vpc_endpoint: false
            })
        );
        assert_eq!(target(Some("localhost"), "/prod/x", || None), None);
        assert_eq!(target(Some("abc.execute-api.x"), "/", || None), None);
        assert_eq!(
            target(Some("abc.execute-api"), "/dev/x", || None).map(|t| t.api_id),
            Some("abc")
        );
        assert_eq!(
            target(Some("abc.execute-apix.local"), "/dev/x", || None),
            None
        );
        assert_eq!(target(Some(".execute-api.local"), "/dev/x", || None), None);

        // A private API through a VPC endpoint: the alias, and the endpoint's own name with
        // the API id in `x-apigw-api-id` (which an execute-api host outranks).
        let private = |host, header| {
            target(Some(host), "/prod/pets", move || header).map(|t| (t.api_id, t.via_vpc_endpoint))
        };
        assert_eq!(
            private(
                "abc123-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com",
                None
            ),
            Some(("abc123", true))
        );
        assert_eq!(
            private(
                "vpce-0123456789abcdef0-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com",
                Some("abc123")
            ),
            Some(("abc123", true))
        );
        assert_eq!(
            private("localhost:8080", Some("abc123")),
            Some(("abc123", true))
        );
        assert_eq!(
            private("abc123.execute-api.localhost", Some("other")),
            Some(("abc123", false))
        );
        assert_eq!(
            private(
                "vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com",
                None
            ),
            None
        );
        assert_eq!(private("localhost", Some("")), None);
    }
}
