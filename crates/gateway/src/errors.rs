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
}

/// Gateway response types this gateway produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    MissingAuthenticationToken,
    Forbidden,
    /// The resource policy does not let the caller in.
    AccessDenied,
    InvalidApiKey,
    Throttled,
    QuotaExceeded,
    RequestTooLarge,
    /// The request body cannot be read as its framing says (a malformed chunked body).
    BadRequestBody,
    UnsupportedMediaType,
    ApiConfigurationError,
    IntegrationFailure,
    IntegrationTimeout,
}

impl Kind {
    /// The gateway response type that customises it.
    pub fn response_type(self) -> &'static str {
        match self {
            Kind::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            Kind::Forbidden | Kind::AccessDenied => "ACCESS_DENIED",
            Kind::InvalidApiKey => "INVALID_API_KEY",
            Kind::Throttled => "THROTTLED",
            Kind::QuotaExceeded => "QUOTA_EXCEEDED",
            Kind::RequestTooLarge => "REQUEST_TOO_LARGE",
            Kind::BadRequestBody => "BAD_REQUEST_BODY",
            Kind::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Kind::ApiConfigurationError => "API_CONFIGURATION_ERROR",
            Kind::IntegrationFailure => "INTEGRATION_FAILURE",
            Kind::IntegrationTimeout => "INTEGRATION_TIMEOUT",
        }
    }

    /// `x-amzn-ErrorType`.
    fn error_type(self) -> &'static str {
        match self {
            Kind::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Kind::Forbidden | Kind::InvalidApiKey => "ForbiddenException",
            Kind::AccessDenied => "AccessDeniedException",
            Kind::Throttled => "TooManyRequestsException",
            Kind::QuotaExceeded => "LimitExceededException",
            Kind::RequestTooLarge => "RequestTooLargeException",
            Kind::BadRequestBody => "BadRequestException",
            Kind::UnsupportedMediaType => "UnsupportedMediaTypeException",
            Kind::ApiConfigurationError | Kind::IntegrationFailure | Kind::IntegrationTimeout => {
                "InternalServerErrorException"
            }
        }
    }

    /// AWS writes integration-phase 5xx bodies with a space after the colon
    /// (`{"message": "Internal server error"}`) and every other default compactly.
    fn spaced(self) -> bool {
        matches!(
            self,
            Kind::ApiConfigurationError | Kind::IntegrationFailure | Kind::IntegrationTimeout
        )
    }
}

impl Failure {
    pub fn new(kind: Kind, message: &'static str) -> Failure {
        Failure {
            kind,
            message: Cow::Borrowed(message),
            cause: None,
        }
    }

    /// ACCESS_DENIED from the resource policy (403, `AccessDeniedException`), with AWS's
    /// `User: anonymous is not authorized ...` text.
    pub fn access_denied(message: String) -> Failure {
        Failure {
            kind: Kind::AccessDenied,
            message: Cow::Owned(message),
            cause: None,
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

    pub fn configuration(cause: impl Into<String>) -> Failure {
        Failure::new(Kind::ApiConfigurationError, "Internal server error").because(cause)
    }
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
    pub http_method: &'a str,
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
    let default_status = gateway_responses::response_type(response_type)
        .and_then(|t| t.default_status)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(500);
    // A customised DEFAULT_4XX / DEFAULT_5XX lends its status too, to every type of its
    // class that is not customised itself.
    let status = customised
        .and_then(|c| c.status_code.as_deref())
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(default_status);
    let message_string =
        serde_json::to_string(&*failure.message).unwrap_or_else(|_| "\"\"".to_owned());
    let body = match customised.and_then(|c| c.response_templates.get("application/json")) {
        Some(template) => render_template(template, failure, &message_string, context),
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
/// `method.request.querystring.X` or `stageVariables.X`.
fn header_value(source: &str, context: &Context<'_>) -> Option<String> {
    if let Some(text) = source.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return Some(text.to_owned());
    }
    if let Some(name) = source.strip_prefix("method.request.header.") {
        return context.request_headers?.get_str(name).map(str::to_owned);
    }
    if let Some(name) = source.strip_prefix("method.request.querystring.") {
        return context.query?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        });
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return context.stage_variables?.get(name).cloned();
    }
    None
}

/// Fills the `$context` references a gateway response template uses. Templates are taken
/// literally otherwise (VTL directives are not evaluated here).
fn render_template(
    template: &str,
    failure: &Failure,
    message_string: &str,
    context: &Context<'_>,
) -> String {
    let mut text = template.to_owned();
    if let Some(variables) = context.stage_variables {
        // Longest names first, so that `$stageVariables.ab` is not cut short by `.a`.
        let mut names: Vec<&String> = variables.keys().collect();
        names.sort_by_key(|name| std::cmp::Reverse(name.len()));
        for name in names {
            for form in [
                format!("$stageVariables.{name}"),
                format!("$stageVariables['{name}']"),
            ] {
                if text.contains(&form) {
                    text = text.replace(&form, &variables[name]);
                }
            }
        }
    }
    text.replace("$context.error.messageString", message_string)
        .replace("$context.error.message", &failure.message)
        .replace("$context.error.responseType", failure.kind.response_type())
        .replace("$context.requestId", context.request_id)
        .replace("$context.apiId", context.api_id)
        .replace("$context.stage", context.stage)
        .replace("$context.resourcePath", context.resource_path)
        .replace("$context.httpMethod", context.http_method)
}

#[cfg(test)]
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
