//! The gateway response types and the defaults AWS reports for an API that customised none.

use crate::entities::{GatewayResponse, StringMap};

/// Every gateway response type with its default status (`None` for the two catch-alls).
pub const TYPES: &[(&str, Option<&str>)] = &[
    ("ACCESS_DENIED", Some("403")),
    ("API_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_FAILURE", Some("500")),
    ("BAD_REQUEST_BODY", Some("400")),
    ("BAD_REQUEST_PARAMETERS", Some("400")),
    ("DEFAULT_4XX", None),
    ("DEFAULT_5XX", None),
    ("EXPIRED_TOKEN", Some("403")),
    ("INTEGRATION_FAILURE", Some("504")),
    ("INTEGRATION_TIMEOUT", Some("504")),
    ("INVALID_API_KEY", Some("403")),
    ("INVALID_SIGNATURE", Some("403")),
    ("MISSING_AUTHENTICATION_TOKEN", Some("403")),
    ("QUOTA_EXCEEDED", Some("429")),
    ("REQUEST_TOO_LARGE", Some("413")),
    ("RESOURCE_NOT_FOUND", Some("404")),
    ("THROTTLED", Some("429")),
    ("UNAUTHORIZED", Some("401")),
    ("UNSUPPORTED_MEDIA_TYPE", Some("415")),
    ("WAF_FILTERED", Some("403")),
];

/// The body template AWS fills in for every default gateway response.
pub const DEFAULT_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

/// A known response type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseType {
    /// The AWS name (`THROTTLED`).
    pub name: &'static str,
    /// Its default status; `None` for `DEFAULT_4XX` and `DEFAULT_5XX`.
    pub default_status: Option<&'static str>,
}

/// Looks up a response type by name; `None` when AWS has no such type.
pub fn response_type(name: &str) -> Option<ResponseType> {
    TYPES
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(name, status)| ResponseType {
            name,
            default_status: *status,
        })
}

/// The default templates (`application/json` → [`DEFAULT_TEMPLATE`]).
pub fn default_templates() -> StringMap {
    StringMap::from([("application/json".to_owned(), DEFAULT_TEMPLATE.to_owned())])
}

/// The response AWS reports for `response_type` when the API did not customise it. A
/// customised `DEFAULT_4XX`/`DEFAULT_5XX` lends its parameters and templates to the
/// non-customised types of its class.
pub fn effective_default(
    response_type: &str,
    customised: &[GatewayResponse],
) -> Option<GatewayResponse> {
    let status = self::response_type(response_type)?.default_status;
    let class = match status {
        Some(code) if code.starts_with('5') => Some("DEFAULT_5XX"),
        Some(_) => Some("DEFAULT_4XX"),
        None => None,
    };
    let parent = class.and_then(|class| customised.iter().find(|r| r.response_type == class));
    Some(GatewayResponse {
        response_type: response_type.to_owned(),
        status_code: status.map(str::to_owned),
        response_parameters: parent
            .map(|p| p.response_parameters.clone())
            .unwrap_or_default(),
        response_templates: parent
            .map(|p| p.response_templates.clone())
            .unwrap_or_else(default_templates),
        default_response: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_have_aws_statuses() {
        let status = |name| response_type(name).map(|t| t.default_status);
        assert_eq!(status("MISSING_AUTHENTICATION_TOKEN"), Some(Some("403")));
        assert_eq!(status("DEFAULT_5XX"), Some(None));
        assert_eq!(status("NOPE"), None);
    }

    #[test]
    fn customised_default_4xx_lends_its_templates() {
        let custom = GatewayResponse {
            response_type: "DEFAULT_4XX".into(),
            status_code: None,
            response_parameters: StringMap::from([(
                "gatewayresponse.header.a".into(),
                "'b'".into(),
            )]),
            response_templates: StringMap::new(),
            default_response: false,
        };
        let throttled = effective_default("THROTTLED", std::slice::from_ref(&custom))
            .unwrap_or_else(|| unreachable!());
        assert_eq!(throttled.status_code.as_deref(), Some("429"));
        assert_eq!(throttled.response_parameters, custom.response_parameters);
        let five =
            effective_default("INTEGRATION_FAILURE", &[custom]).unwrap_or_else(|| unreachable!());
        assert_eq!(five.response_templates, default_templates());
    }
}
