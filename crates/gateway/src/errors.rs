//! Failures of a request and the gateway responses that answer them.

use std::borrow::Cow;
use std::collections::HashMap;

use bytes::Bytes;
use causeway_model::GatewayResponse;
use causeway_model::gateway_responses;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// A failure, classified by the gateway response type that answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: Kind,
    /// What the client sees in `message` (AWS's text).
    pub message: Cow<'static, str>,
    /// The cause, for the log only (clients never see configuration details).
    pub cause: Option<String>,
    /// What request validation found (`$context.error.validationErrorString`).
    pub validation: Option<String>,
}

/// Gateway response types this gateway produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    MissingAuthenticationToken,
    /// An `AWS_IAM` method's SigV4 signature does not match, or its scope is wrong.
    InvalidSignature,
    /// An `AWS_IAM` method's `Authorization` header lacks parts or does not read.
    IncompleteSignature,
    /// An `AWS_IAM` method's signature is too old (or too far ahead).
    ExpiredSignature,
    /// An `AWS_IAM` method's signature names an access key no identity has.
    UnrecognizedClient,
    /// The stage's WAF web ACL blocks the request.
    WafFiltered,
    Forbidden,
    /// The resource policy does not let the caller in.
    AccessDenied,
    InvalidApiKey,
    Throttled,
    QuotaExceeded,
    RequestTooLarge,
    /// The request body cannot be read as its framing says (a malformed chunked body), or
    /// does not match its model.
    BadRequestBody,
    /// A parameter the method's request validator requires is missing.
    BadRequestParameters,
    UnsupportedMediaType,
    /// An authorizer found no identity, or refused the caller (401).
    Unauthorized,
    /// An authorizer could not be asked or gave an answer that does not read (500).
    AuthorizerConfigurationError,
    ApiConfigurationError,
    IntegrationFailure,
    IntegrationTimeout,
    /// A Lambda proxy integration's function failed or answered what is not a proxy
    /// response (502, as on AWS; customised through DEFAULT_5XX).
    BadGateway,
}

impl Kind {
    /// The gateway response type that customises it.
    pub fn response_type(self) -> &'static str {
        match self {
            Kind::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            Kind::InvalidSignature | Kind::IncompleteSignature => "INVALID_SIGNATURE",
            Kind::ExpiredSignature => "EXPIRED_TOKEN",
            Kind::UnrecognizedClient => "ACCESS_DENIED",
            Kind::WafFiltered => "WAF_FILTERED",
            Kind::Forbidden | Kind::AccessDenied => "ACCESS_DENIED",
            Kind::InvalidApiKey => "INVALID_API_KEY",
            Kind::Throttled => "THROTTLED",
            Kind::QuotaExceeded => "QUOTA_EXCEEDED",
            Kind::RequestTooLarge => "REQUEST_TOO_LARGE",
            Kind::BadRequestBody => "BAD_REQUEST_BODY",
            Kind::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            Kind::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Kind::Unauthorized => "UNAUTHORIZED",
            Kind::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            Kind::ApiConfigurationError => "API_CONFIGURATION_ERROR",
            Kind::IntegrationFailure => "INTEGRATION_FAILURE",
            Kind::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            Kind::BadGateway => "DEFAULT_5XX",
        }
    }

    /// `x-amzn-ErrorType`.
    fn error_type(self) -> &'static str {
        match self {
            Kind::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Kind::InvalidSignature | Kind::ExpiredSignature => "InvalidSignatureException",
            Kind::IncompleteSignature => "IncompleteSignatureException",
            Kind::UnrecognizedClient => "AccessDeniedException",
            Kind::Forbidden | Kind::InvalidApiKey | Kind::WafFiltered => "ForbiddenException",
            Kind::AccessDenied => "AccessDeniedException",
            Kind::Throttled => "TooManyRequestsException",
            Kind::QuotaExceeded => "LimitExceededException",
            Kind::RequestTooLarge => "RequestTooLargeException",
            Kind::BadRequestBody | Kind::BadRequestParameters => "BadRequestException",
            Kind::UnsupportedMediaType => "UnsupportedMediaTypeException",
            Kind::Unauthorized => "UnauthorizedException",
            Kind::AuthorizerConfigurationError => "AuthorizerConfigurationException",
            Kind::ApiConfigurationError
            | Kind::IntegrationFailure
            | Kind::IntegrationTimeout
            | Kind::BadGateway => "InternalServerErrorException",
        }
    }

    /// AWS writes integration-phase 5xx bodies with a space after the colon
    /// (`{"message": "Internal server error"}`) and every other default compactly.
    fn spaced(self) -> bool {
        matches!(
            self,
            Kind::ApiConfigurationError
                | Kind::IntegrationFailure
                | Kind::IntegrationTimeout
                | Kind::AuthorizerConfigurationError
                | Kind::BadGateway
        )
    }

    /// The status of the failure's answer when no gateway response sets one.
    fn default_status(self) -> u16 {
        if self == Kind::BadGateway {
            return 502;
        }
        gateway_responses::response_type(self.response_type())
            .and_then(|t| t.default_status)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(500)
    }
}

impl Failure {
    pub fn new(kind: Kind, message: &'static str) -> Failure {
        Failure {
            kind,
            message: Cow::Borrowed(message),
            cause: None,
            validation: None,
        }
    }

    /// ACCESS_DENIED from the resource policy (403, `AccessDeniedException`), with AWS's
    /// `User: anonymous is not authorized ...` text.
    pub fn access_denied(message: String) -> Failure {
        Failure {
            kind: Kind::AccessDenied,
            message: Cow::Owned(message),
            cause: None,
            validation: None,
        }
    }

    /// A refused SigV4 signature, with AWS's text for it.
    pub fn signature(kind: Kind, message: String) -> Failure {
        Failure {
            kind,
            message: Cow::Owned(message),
            cause: None,
            validation: None,
        }
    }

    pub fn because(mut self, cause: impl Into<String>) -> Failure {
        self.cause = Some(cause.into());
        self
    }

    /// `403 Missing Authentication Token`: no such path, method or stage.
    pub fn no_route() -> Failure {
        Failure::new(
            Kind::MissingAuthenticationToken,
            "Missing Authentication Token",
        )
    }

    /// `500 Internal server error`, with the real cause for the log.
    /// REQUEST_TOO_LARGE: a request body over the limit (413).
    pub fn too_large() -> Failure {
        Failure::new(Kind::RequestTooLarge, "Request Too Long")
    }

    /// BAD_REQUEST_BODY: a request body that cannot be read as it says it is (400).
    pub fn bad_body(cause: impl Into<String>) -> Failure {
        Failure::new(Kind::BadRequestBody, "Invalid request body").because(cause)
    }

    /// BAD_REQUEST_PARAMETERS: required parameters the request lacks (400), named as AWS
    /// names them.
    pub fn missing_parameters(names: &[&str]) -> Failure {
        let message = format!(
            "Missing required request parameters: [{}]",
            names.join(", ")
        );
        Failure {
            kind: Kind::BadRequestParameters,
            validation: Some(message.clone()),
            message: Cow::Owned(message),
            cause: None,
        }
    }

    /// BAD_REQUEST_BODY: a body that does not match its model (400). Clients see only
    /// `Invalid request body`; `detail` goes to the log and `validationErrorString`.
    pub fn invalid_body(model: &str, content_type: &str, detail: String) -> Failure {
        Failure {
            kind: Kind::BadRequestBody,
            message: Cow::Borrowed("Invalid request body"),
            cause: Some(format!(
                "Request body does not match model schema for content type {content_type} (model {model}): {detail}"
            )),
            validation: Some(format!("[{detail}]")),
        }
    }

    /// UNAUTHORIZED: the authorizer found no identity in the request, or refused it (401).
    pub fn unauthorized() -> Failure {
        Failure::new(Kind::Unauthorized, "Unauthorized")
    }

    /// AUTHORIZER_CONFIGURATION_ERROR: the authorizer could not be asked, or its answer does
    /// not read (500, `{"message": null}` as on AWS), with the real cause for the log.
    pub fn authorizer_configuration(cause: impl Into<String>) -> Failure {
        Failure::new(Kind::AuthorizerConfigurationError, "").because(cause)
    }

    pub fn configuration(cause: impl Into<String>) -> Failure {
        Failure::new(Kind::ApiConfigurationError, "Internal server error").because(cause)
    }
}

/// The status a failure answers with when its gateway response is not customised.
pub fn default_status(kind: Kind) -> u16 {
    kind.default_status()
}

/// Values of `$context` a gateway response template may use.
#[derive(Debug, Default)]
pub struct Context<'a> {
    pub request_id: &'a str,
    /// The method request's headers and query, for `method.request.*` header values.
    pub request_headers: Option<&'a crate::request::Headers>,
    pub query: Option<&'a str>,
    /// The stage's variables, for `$stageVariables.NAME` in templates.
    pub stage_variables: Option<&'a std::collections::BTreeMap<String, String>>,
    pub api_id: &'a str,
    pub stage: &'a str,
    pub resource_path: &'a str,
    pub resource_id: &'a str,
    pub http_method: &'a str,
    /// The request's path as sent (`$context.path`).
    pub path: &'a str,
    /// The client's address (`$context.identity.sourceIp`).
    pub source_ip: Option<std::net::IpAddr>,
    pub account_id: &'a str,
    /// Whether the stage's canary serves the request (`$context.isCanaryRequest`).
    pub is_canary: bool,
    /// The integration's status and how long it took, once it answered (measured only for
    /// stages that write access logs).
    pub integration: Option<(u16, std::time::Duration)>,
    /// What the method's authorizer said of the caller (`$context.authorizer.*`).
    pub authorizer: Option<std::sync::Arc<crate::authorizer::Outcome>>,
    /// The identity that signed the request, for `AWS_IAM` methods (`$context.identity.*`).
    pub caller: Option<std::sync::Arc<causeway_sigv4::Identity>>,
    /// The stage's web ACL and whether it blocked the request (`$context.webaclArn`,
    /// `$context.wafResponseCode`).
    pub waf: Option<(&'a str, bool)>,
    /// The client's certificate, through a custom domain with mutual TLS
    /// (`$context.identity.clientCert.*`).
    pub client_cert: Option<&'a causeway_model::mtls::ClientCert>,
    /// The routing rule or base path mapping that routed a request to a custom domain name
    /// (`$context.customDomain.*`).
    pub custom_domain: Option<crate::pipeline::DomainMatch<'a>>,
}

/// Renders the gateway response for `failure`, as customised in `custom` (by type) or by
/// default.
pub fn render(
    failure: &Failure,
    custom: Option<&HashMap<String, GatewayResponse>>,
    context: &Context<'_>,
) -> Response<Full<Bytes>> {
    let response_type = failure.kind.response_type();
    let customised = custom.and_then(|map| {
        map.get(response_type).or_else(|| {
            let status = gateway_responses::response_type(response_type)?.default_status?;
            let class = if status.starts_with('5') {
                "DEFAULT_5XX"
            } else {
                "DEFAULT_4XX"
            };
            map.get(class)
        })
    });
    let default_status = failure.kind.default_status();
    // A customised DEFAULT_4XX / DEFAULT_5XX lends its status too, to every type of its
    // class that is not customised itself.
    let status = customised
        .and_then(|c| c.status_code.as_deref())
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(default_status);
    // AWS's authorizer errors carry no message: `$context.error.messageString` is `null`.
    let message_string = if failure.kind == Kind::AuthorizerConfigurationError {
        "null".to_owned()
    } else {
        serde_json::to_string(&*failure.message).unwrap_or_else(|_| "\"\"".to_owned())
    };
    let body = match customised.and_then(|c| c.response_templates.get("application/json")) {
        Some(template) => render_template(
            template,
            &|name| error_variable(name, failure, &message_string),
            context,
        ),
        None if failure.kind.spaced() => format!("{{\"message\": {message_string}}}"),
        // Denials from IAM-style policies are written by IAM's code, with a capital M.
        None if failure.kind == Kind::AccessDenied => format!("{{\"Message\":{message_string}}}"),
        None => format!("{{\"message\":{message_string}}}"),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        crate::integration::names::ERROR_TYPE.clone(),
        HeaderValue::from_static(failure.kind.error_type()),
    );
    if let Some(customised) = customised {
        for (key, value) in &customised.response_parameters {
            let Some(name) = key.strip_prefix("gatewayresponse.header.") else {
                continue;
            };
            let Some(text) = header_value(value, context) else {
                continue;
            };
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name), HeaderValue::from_str(&text))
            {
                headers.insert(name, value);
            }
        }
    }
    response
}

/// The value of a gateway response header: `'static'`, `method.request.header.X`,
/// `method.request.querystring.X` (the first), `method.request.multivalueheader.X` and
/// `method.request.multivaluequerystring.X` (every value, comma-joined),
/// `stageVariables.X` or `context.X`.
fn header_value(source: &str, context: &Context<'_>) -> Option<String> {
    if let Some(text) = source.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return Some(text.to_owned());
    }
    if let Some(location_name) = source.strip_prefix("method.request.") {
        return crate::request::header_or_query(
            context.request_headers,
            context.query,
            location_name,
        )
        .flatten();
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return context.stage_variables?.get(name).cloned();
    }
    if let Some(name) = source.strip_prefix("context.") {
        return context_variable(name, context).map(std::borrow::Cow::into_owned);
    }
    None
}

/// Fills in the variables of a gateway response template. AWS documents these templates as
/// "not processed by the VTL engine", "supporting only simple variable substitutions":
/// `$context.X` and `$stageVariables.X` (or `$stageVariables['X']`). A reference to a variable
/// that does not exist stays as written.
pub(crate) fn render_template<'a, 'o>(
    template: &str,
    own: &dyn Fn(&str) -> Option<std::borrow::Cow<'o, str>>,
    context: &Context<'a>,
) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match variable(tail, own, context) {
            Some((value, used)) => {
                out.push_str(&value);
                rest = &tail[used..];
            }
            None => {
                out.push('$');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of the variable `tail` starts with, and how many bytes of `tail` name it.
fn variable<'r, 'a: 'r, 'o: 'r>(
    tail: &str,
    own: &dyn Fn(&str) -> Option<std::borrow::Cow<'o, str>>,
    context: &Context<'a>,
) -> Option<(std::borrow::Cow<'r, str>, usize)> {
    let name_len = |text: &str| {
        let len = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(text.len());
        // A sentence may end right after a reference: the dot is not the name's.
        text[..len].trim_end_matches('.').len()
    };
    if let Some(rest) = tail.strip_prefix("$context.") {
        let name = &rest[..name_len(rest)];
        let value: std::borrow::Cow<'r, str> = match own(name) {
            Some(value) => value,
            None => context_variable(name, context)?,
        };
        return Some((value, "$context.".len() + name.len()));
    }
    let variables = context.stage_variables?;
    if let Some(rest) = tail.strip_prefix("$stageVariables['") {
        let end = rest.find("']")?;
        let value = variables.get(&rest[..end])?;
        return Some((value.as_str().into(), "$stageVariables['".len() + end + 2));
    }
    let rest = tail.strip_prefix("$stageVariables.")?;
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let value = variables.get(&rest[..len])?;
    Some((value.as_str().into(), "$stageVariables.".len() + len))
}

/// The `$context.error.*` values of a failure.
fn error_variable<'a>(
    name: &str,
    failure: &'a Failure,
    message_string: &'a str,
) -> Option<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow::Borrowed;
    Some(match name {
        "error.message" => Borrowed(&*failure.message),
        "error.messageString" => Borrowed(message_string),
        "error.responseType" => Borrowed(failure.kind.response_type()),
        "error.validationErrorString" => Borrowed(failure.validation.as_deref().unwrap_or("")),
        _ => return None,
    })
}

/// The `$context` values every template of the gateway's own may use.
pub(crate) fn context_variable<'a>(
    name: &str,
    context: &Context<'a>,
) -> Option<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow::{Borrowed, Owned};
    let header = |name: &str| {
        context
            .request_headers
            .and_then(|h| h.get_str(name))
            .unwrap_or_default()
    };
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    };
    Some(match name {
        "requestId" | "extendedRequestId" => Borrowed(context.request_id),
        "apiId" => Borrowed(context.api_id),
        "stage" => Borrowed(context.stage),
        "resourcePath" => Borrowed(context.resource_path),
        "resourceId" => Borrowed(context.resource_id),
        "httpMethod" => Borrowed(context.http_method),
        "path" => Borrowed(context.path),
        "accountId" => Borrowed(context.account_id),
        "protocol" => Borrowed("HTTP/1.1"),
        "isCanaryRequest" => Borrowed(if context.is_canary { "true" } else { "false" }),
        "domainName" => Owned(header("host").to_owned()),
        "domainPrefix" => Owned(
            header("host")
                .split('.')
                .next()
                .unwrap_or_default()
                .to_owned(),
        ),
        "identity.sourceIp" => Owned(
            context
                .source_ip
                .map(|ip| ip.to_string())
                .unwrap_or_default(),
        ),
        "identity.userAgent" => Owned(header("user-agent").to_owned()),
        "identity.apiKey" => Owned(header("x-api-key").to_owned()),
        "identity.accountId" => Owned(context.caller.as_ref()?.account_id.clone()),
        "identity.caller" | "identity.user" => Owned(context.caller.as_ref()?.principal_id.clone()),
        "identity.userArn" => Owned(context.caller.as_ref()?.arn.clone()),
        "webaclArn" => Borrowed(context.waf?.0),
        "wafResponseCode" => Borrowed(if context.waf?.1 {
            "WAF_BLOCK"
        } else {
            "WAF_ALLOW"
        }),
        "identity.accessKey" => Owned(context.caller.as_ref()?.access_key.clone()),
        "identity.clientCert.clientCertPem" => Borrowed(&context.client_cert?.client_cert_pem),
        "identity.clientCert.subjectDN" => Borrowed(&context.client_cert?.subject_dn),
        "identity.clientCert.issuerDN" => Borrowed(&context.client_cert?.issuer_dn),
        "identity.clientCert.serialNumber" => Borrowed(&context.client_cert?.serial_number),
        "identity.clientCert.validity.notBefore" => {
            Borrowed(&context.client_cert?.validity.not_before)
        }
        "identity.clientCert.validity.notAfter" => {
            Borrowed(&context.client_cert?.validity.not_after)
        }
        "customDomain.routingRuleIdMatched" => match context.custom_domain? {
            crate::pipeline::DomainMatch::Rule(id) => Borrowed(id),
            crate::pipeline::DomainMatch::BasePath(_) => return None,
        },
        "customDomain.basePathMatched" => match context.custom_domain? {
            crate::pipeline::DomainMatch::BasePath(path) => Borrowed(path),
            crate::pipeline::DomainMatch::Rule(_) => return None,
        },
        "requestTime" => Owned(crate::templates::common_log_time(now().as_secs())),
        "requestTimeEpoch" => Owned(now().as_millis().to_string()),
        _ => {
            let name = name.strip_prefix("authorizer.")?;
            Owned(context.authorizer.as_ref()?.value(name)?.to_owned())
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn body(response: Response<Full<Bytes>>) -> (u16, String) {
        let status = response.status().as_u16();
        let bytes = futures_body(response.into_body());
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn futures_body(body: Full<Bytes>) -> Bytes {
        // Full is ready at once; poll it without a runtime.
        use hyper::body::Body as _;
        let mut body = body;
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match std::pin::Pin::new(&mut body).poll_frame(&mut cx) {
            std::task::Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
            _ => Bytes::new(),
        }
    }

    #[test]
    fn defaults_match_aws_bytes() {
        let (status, text) = body(render(&Failure::no_route(), None, &Context::default()));
        assert_eq!(
            (status, text.as_str()),
            (403, r#"{"message":"Missing Authentication Token"}"#)
        );
        let (status, text) = body(render(
            &Failure::configuration("x"),
            None,
            &Context::default(),
        ));
        assert_eq!(
            (status, text.as_str()),
            (500, r#"{"message": "Internal server error"}"#)
        );
    }

    #[test]
    fn templates_fill_in_simple_variables_only() {
        let headers = crate::request::Headers::from_pairs([
            ("Host", "a1b2c3.execute-api.localhost:8080"),
            ("User-Agent", "curl/8.5.0"),
        ]);
        let variables = std::collections::BTreeMap::from([
            ("env".to_owned(), "test".to_owned()),
            ("envx".to_owned(), "longer".to_owned()),
        ]);
        let context = Context {
            request_id: "r-1",
            request_headers: Some(&headers),
            stage_variables: Some(&variables),
            api_id: "a1b2c3",
            stage: "prod",
            resource_path: "/pets/{id}",
            resource_id: "abc123",
            http_method: "GET",
            path: "/prod/pets/7",
            source_ip: Some("203.0.113.9".parse().unwrap()),
            account_id: "123456789012",
            ..Context::default()
        };
        let failure = Failure::new(Kind::Throttled, "Too Many Requests");
        let template = concat!(
            "$context.error.messageString|$context.error.message|$context.error.responseType|",
            "$context.identity.sourceIp|$context.identity.userAgent|$context.domainName|",
            "$context.domainPrefix|$context.path|$context.resourcePath|$context.resourceId|",
            "$context.stage.|$stageVariables.env|$stageVariables.envx|$stageVariables['env']|",
            "$context.accountId|$context.nothing|$stageVariables.none|$5|$context.error.validationErrorString|",
            "$context.isCanaryRequest"
        );
        let own = |name: &str| error_variable(name, &failure, "\"Too Many Requests\"");
        let text = render_template(template, &own, &context);
        assert_eq!(
            text,
            concat!(
                "\"Too Many Requests\"|Too Many Requests|THROTTLED|203.0.113.9|curl/8.5.0|",
                "a1b2c3.execute-api.localhost:8080|a1b2c3|/prod/pets/7|/pets/{id}|abc123|prod.|",
                "test|longer|test|123456789012|$context.nothing|$stageVariables.none|$5||false"
            )
        );
        let time = render_template(
            "$context.requestTime $context.requestTimeEpoch",
            &|name| error_variable(name, &failure, ""),
            &context,
        );
        let (clf, epoch) = time.rsplit_once(' ').unwrap();
        assert!(clf.ends_with(" +0000") && clf.len() == 26, "{clf}");
        assert!(epoch.parse::<u64>().unwrap() > 1_700_000_000_000, "{epoch}");
    }

    #[test]
    fn the_client_certificate_is_in_context_through_mutual_tls() {
        let cert = causeway_model::mtls::ClientCert {
            client_cert_pem: "-----BEGIN CERTIFICATE-----\n...".into(),
            subject_dn: "C=US,CN=client".into(),
            issuer_dn: "C=US,CN=CA".into(),
            serial_number: "0f:ac".into(),
            validity: causeway_model::mtls::Validity {
                not_before: "May 28 12:30:02 2019 GMT".into(),
                not_after: "Aug  5 09:36:04 2031 GMT".into(),
            },
        };
        let template = concat!(
            "$context.identity.clientCert.subjectDN|$context.identity.clientCert.issuerDN|",
            "$context.identity.clientCert.serialNumber|$context.identity.clientCert.validity.notBefore|",
            "$context.identity.clientCert.validity.notAfter"
        );
        let failure = Failure::new(Kind::Forbidden, "Forbidden");
        let own = |name: &str| error_variable(name, &failure, "");
        let with = Context {
            client_cert: Some(&cert),
            ..Context::default()
        };
        assert_eq!(
            render_template(template, &own, &with),
            "C=US,CN=client|C=US,CN=CA|0f:ac|May 28 12:30:02 2019 GMT|Aug  5 09:36:04 2031 GMT"
        );
        // Without mutual TLS the variables are not there.
        assert_eq!(
            render_template(
                "$context.identity.clientCert.subjectDN",
                &own,
                &Context::default()
            ),
            "$context.identity.clientCert.subjectDN"
        );
    }

    #[test]
    fn customised_status_headers_and_template() {
        let custom = HashMap::from([(
            "MISSING_AUTHENTICATION_TOKEN".to_owned(),
            GatewayResponse {
                response_type: "MISSING_AUTHENTICATION_TOKEN".into(),
                status_code: Some("404".into()),
                response_parameters: [("gatewayresponse.header.x-why".to_owned(), "'nothing here'".to_owned())].into(),
                response_templates: [(
                    "application/json".to_owned(),
                    r#"{"error":$context.error.messageString,"type":"$context.error.responseType"}"#.to_owned(),
                )]
                .into(),
                default_response: false,
            },
        )]);
        let response = render(&Failure::no_route(), Some(&custom), &Context::default());
        assert_eq!(response.headers()["x-why"], "nothing here");
        let (status, text) = body(response);
        assert_eq!(status, 404);
        assert_eq!(
            text,
            r#"{"error":"Missing Authentication Token","type":"MISSING_AUTHENTICATION_TOKEN"}"#
        );
    }
}
