//! Validation rules of the AWS model, with the messages AWS gives (or, where AWS's text is
//! not known, a message that says exactly what to change).

use crate::error::ApiError;

/// A parsed resource path part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart<'a> {
    /// A literal segment (`pets`).
    Static(&'a str),
    /// A single-segment variable (`{id}`), with its name.
    Param(&'a str),
    /// A greedy variable (`{proxy+}`), with its name.
    Greedy(&'a str),
}

impl PathPart<'_> {
    /// True for `{x}` and `{x+}`.
    pub fn is_variable(&self) -> bool {
        !matches!(self, PathPart::Static(_))
    }
}

const PATH_PART_MESSAGE: &str =
    "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end.";

/// Parses a path part as AWS accepts it: letters, digits, `._-:`, or a whole-segment
/// variable `{name}` / `{name+}`.
pub fn path_part(text: &str) -> Result<PathPart<'_>, ApiError> {
    let name_ok = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    if let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        if let Some(name) = inner.strip_suffix('+') {
            if name_ok(name) {
                return Ok(PathPart::Greedy(name));
            }
        } else if name_ok(inner) {
            return Ok(PathPart::Param(inner));
        }
        return Err(ApiError::bad_request(PATH_PART_MESSAGE));
    }
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
    {
        Ok(PathPart::Static(text))
    } else {
        Err(ApiError::bad_request(PATH_PART_MESSAGE))
    }
}

/// Checks a stage name: 1–128 of `A-Za-z0-9_-`.
pub fn stage_name(name: &str) -> Result<(), ApiError> {
    if !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Stage name only allows a-zA-Z0-9_- and at most 128 characters: '{name}'"
        )))
    }
}

/// Checks a stage variable name and value against AWS's patterns.
pub fn stage_variable(name: &str, value: &str) -> Result<(), ApiError> {
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ApiError::bad_request(format!(
            "Invalid stage variable name: {name}.  Please use names with only word characters."
        )));
    }
    let value_ok = !value.is_empty()
        && value.len() <= 512
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '-' | '.' | '_' | '~' | ':' | '/' | '?' | '#' | '&' | '=' | ','
                )
        });
    if !value_ok {
        return Err(ApiError::bad_request(format!(
            "Invalid stage variable value: {value}.  Please use values with alphanumeric characters and the symbols ' ', -', '.', '_', ':', '/', '?', '&', '=', and ','."
        )));
    }
    Ok(())
}

/// Checks every variable of a stage (at most 100).
pub fn stage_variables<'a>(
    variables: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<(), ApiError> {
    let mut count = 0usize;
    for (name, value) in variables {
        stage_variable(name, value)?;
        count += 1;
    }
    if count > 100 {
        return Err(ApiError::bad_request(format!(
            "A stage can have at most 100 variables; this request has {count}"
        )));
    }
    Ok(())
}

/// Checks the value of the `_custom_id_` tag, which pins a REST API's id. It must be usable
/// as the first label of an invoke host name.
pub fn custom_id(id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 63
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid _custom_id_ tag value '{id}': use 1 to 63 letters, digits, '-' or '_', starting with a letter or digit, so that the id can stand in an invoke URL host name"
        )))
    }
}

/// Checks a status code against the model's `[1-5]\d\d`.
pub fn status_code(code: &str, field: &str) -> Result<(), ApiError> {
    let bytes = code.as_bytes();
    let ok = bytes.len() == 3
        && (b'1'..=b'5').contains(&bytes[0])
        && bytes[1].is_ascii_digit()
        && bytes[2].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(ApiError::Validation(format!(
            "1 validation error detected: Value '{code}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d"
        )))
    }
}

/// Checks the uri of an HTTP or HTTP_PROXY integration: an absolute `http`/`https` URL with
/// a host, where stage variables may stand for any part.
pub fn http_uri(uri: &str) -> Result<(), ApiError> {
    let invalid = || ApiError::bad_request("Invalid HTTP endpoint specified for URI");
    let rest = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
        .ok_or_else(invalid)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.chars().any(|c| c.is_whitespace()) {
        return Err(invalid());
    }
    if uri.chars().any(|c| c.is_control() || c == ' ') {
        return Err(invalid());
    }
    Ok(())
}

/// Checks a canary's share of traffic (0.0 to 100.0 percent).
pub fn canary_percent(percent: Option<f64>) -> Result<(), ApiError> {
    match percent {
        Some(p) if !(0.0..=100.0).contains(&p) => Err(ApiError::bad_request(
            "Canary percentTraffic must be between 0.0 and 100.0",
        )),
        _ => Ok(()),
    }
}

/// Where a stage's access logs go: the CloudWatch Logs log group
/// (`arn:aws:logs:{region}:{account}:log-group:{name}`, a trailing `:*` allowed) or the
/// Kinesis Data Firehose stream (`arn:aws:firehose:...:deliverystream/amazon-apigateway-{name}`)
/// an ARN names. Causeway writes each to a file of that name.
pub fn access_log_destination(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, _partition, service, _region, _account, rest] = parts.as_slice() else {
        return None;
    };
    if *prefix != "arn" {
        return None;
    }
    let name = match *service {
        "logs" => {
            let name = rest.strip_prefix("log-group:")?;
            name.strip_suffix(":*").unwrap_or(name)
        }
        "firehose" => rest
            .strip_prefix("deliverystream/")
            .filter(|n| n.starts_with("amazon-apigateway-"))?,
        _ => return None,
    };
    let valid = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#'));
    valid.then(|| name.to_owned())
}

/// Checks a stage's access log settings once a patch has set them: a destination Causeway can
/// write to, and a one-line format that names the request.
pub fn access_log_settings(settings: &crate::AccessLogSettings) -> Result<(), ApiError> {
    if let Some(arn) = &settings.destination_arn
        && access_log_destination(arn).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "Invalid ARN specified in the request: {arn}. Access logs go to a CloudWatch Logs log group (arn:aws:logs:REGION:ACCOUNT:log-group:NAME) or a Kinesis Data Firehose stream named amazon-apigateway-*"
        )));
    }
    if let Some(format) = &settings.format {
        if format.trim_end_matches(['\n', '\r']).contains(['\n', '\r']) {
            return Err(ApiError::bad_request(
                "Access Log format must be single line, new line character is allowed only at end of the format",
            ));
        }
        if !format.contains("$context.requestId") && !format.contains("$context.extendedRequestId")
        {
            return Err(ApiError::bad_request(
                "Access Log format must contain either $context.requestId or $context.extendedRequestId",
            ));
        }
    }
    Ok(())
}

/// Checks a stage cache size against the sizes AWS offers.
pub fn cache_cluster_size(size: &str) -> Result<(), ApiError> {
    if crate::enums::CACHE_CLUSTER_SIZES.contains(&size) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid cache cluster size '{size}'. Valid options are {}",
            crate::enums::CACHE_CLUSTER_SIZES.join(",")
        )))
    }
}

/// The longest integration timeout AWS's default quota allows (29 s).
pub const DEFAULT_MAX_TIMEOUT_MILLIS: i32 = 29_000;

/// The longest integration timeout a raised quota allows (300 s, for Regional and private
/// APIs).
pub const RAISED_MAX_TIMEOUT_MILLIS: i32 = 300_000;

/// Checks an integration timeout: 50 ms up to `max` (29 s under AWS's default quota).
pub fn timeout_in_millis(timeout: i32, max: i32) -> Result<(), ApiError> {
    if (50..=max).contains(&timeout) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Timeout should be between 50 ms and {max} ms, got {timeout}"
        )))
    }
}

/// Checks a method request parameter key (`method.request.{path|querystring|header|multivaluequerystring|multivalueheader}.NAME`).
pub fn method_request_parameter(key: &str) -> Result<(), ApiError> {
    let ok = [
        "path",
        "querystring",
        "header",
        "multivaluequerystring",
        "multivalueheader",
    ]
    .iter()
    .any(|location| {
        key.strip_prefix("method.request.")
            .and_then(|rest| rest.strip_prefix(location))
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|name| !name.is_empty())
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid method request parameter name '{key}': use method.request.path.NAME, method.request.querystring.NAME or method.request.header.NAME"
        )))
    }
}

/// AWS's answer to a parameter mapping it refuses.
fn mapping_error(detail: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : [{detail}]"
    ))
}

/// Where request parameters are, in mapping expressions.
const REQUEST_LOCATIONS: [&str; 5] = [
    "path",
    "querystring",
    "header",
    "multivaluequerystring",
    "multivalueheader",
];

/// `{location}.{name}` with a known location and a name.
fn location_and_name(rest: &str) -> Option<(&str, &str)> {
    let (location, name) = rest.split_once('.')?;
    (REQUEST_LOCATIONS.contains(&location) && !name.is_empty()).then_some((location, name))
}

/// A source any mapping may use: a `'literal'`, `stageVariables.NAME` or `context.NAME`.
fn common_source(source: &str) -> bool {
    (source.len() >= 2 && source.starts_with('\'') && source.ends_with('\''))
        || source
            .strip_prefix("stageVariables.")
            .is_some_and(|n| !n.is_empty())
        || source
            .strip_prefix("context.")
            .is_some_and(|n| !n.is_empty())
}

/// Checks an integration's `requestParameters` as AWS does when it is stored: each key
/// `integration.request.{location}.{name}`; each source a method request parameter
/// (`method.request.{location}.{name}`, which the method must declare when `declared` is
/// given), the method request's body (`method.request.body`, or a JSONPath under it), a
/// stage variable, a context variable or a `'literal'`.
pub fn request_mappings(
    parameters: &std::collections::BTreeMap<String, String>,
    declared: Option<&std::collections::BTreeMap<String, bool>>,
) -> Result<(), ApiError> {
    for (key, source) in parameters {
        if key
            .strip_prefix("integration.request.")
            .and_then(location_and_name)
            .is_none()
        {
            return Err(mapping_error(&format!(
                "Invalid mapping expression parameter specified: {key}"
            )));
        }
        if let Some(rest) = source.strip_prefix("method.request.") {
            if rest == "body" || rest.starts_with("body.") {
                continue;
            }
            let Some((location, name)) = location_and_name(rest) else {
                return Err(mapping_error(&format!(
                    "Invalid mapping expression specified: {source}"
                )));
            };
            if let Some(declared) = declared {
                // A multi-valued source reads the parameter the method declares as single.
                let single = match location {
                    "multivaluequerystring" => "querystring",
                    "multivalueheader" => "header",
                    other => other,
                };
                if !declared.contains_key(source.as_str())
                    && !declared.contains_key(&format!("method.request.{single}.{name}"))
                {
                    return Err(mapping_error(&format!(
                        "Invalid mapping expression parameter specified: {source}"
                    )));
                }
            }
        } else if !common_source(source) {
            return Err(mapping_error(&format!(
                "Invalid mapping expression specified: {source}"
            )));
        }
    }
    Ok(())
}

/// Checks an integration response's `responseParameters` as AWS does when it is stored:
/// the method response of its status must exist and declare each header mapped
/// (`method.response.header.{name}`); each source a backend header
/// (`integration.response.header.{name}`, `integration.response.multivalueheader.{name}`),
/// its body (`integration.response.body`, or a JSONPath under it), a stage variable, a
/// context variable or a `'literal'`. `declared`: the method response's parameters, `None`
/// when the method has no response of that status.
pub fn response_mappings(
    parameters: &std::collections::BTreeMap<String, String>,
    declared: Option<&std::collections::BTreeMap<String, bool>>,
) -> Result<(), ApiError> {
    if parameters.is_empty() {
        return Ok(());
    }
    let Some(declared) = declared else {
        return Err(mapping_error("No method response exists for method."));
    };
    for (key, source) in parameters {
        let header = key
            .strip_prefix("method.response.header.")
            .is_some_and(|n| !n.is_empty());
        if !header || !declared.contains_key(key.as_str()) {
            return Err(mapping_error(&format!(
                "Invalid mapping expression parameter specified: {key}"
            )));
        }
        let backend = source
            .strip_prefix("integration.response.")
            .is_some_and(|rest| {
                rest == "body"
                    || rest.starts_with("body.")
                    || ["header.", "multivalueheader."]
                        .iter()
                        .any(|location| rest.strip_prefix(location).is_some_and(|n| !n.is_empty()))
            });
        if !backend && !common_source(source) {
            return Err(mapping_error(&format!(
                "Invalid mapping expression specified: {source}"
            )));
        }
    }
    Ok(())
}

/// Checks a gateway response's `responseParameters` as AWS does when it is stored: each key
/// `gatewayresponse.header.{name}`; each source a method request parameter
/// (`method.request.{location}.{name}`), a stage variable, a context variable or a
/// `'literal'`.
pub fn gateway_response_mappings(
    parameters: &std::collections::BTreeMap<String, String>,
) -> Result<(), ApiError> {
    for (key, source) in parameters {
        if key
            .strip_prefix("gatewayresponse.header.")
            .is_none_or(str::is_empty)
        {
            return Err(mapping_error(&format!(
                "Invalid mapping expression parameter specified: {key}"
            )));
        }
        let request = source
            .strip_prefix("method.request.")
            .and_then(location_and_name)
            .is_some();
        if !request && !common_source(source) {
            return Err(mapping_error(&format!(
                "Invalid mapping expression specified: {source}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_response_mappings_are_headers_from_the_request_or_literals() {
        use std::collections::BTreeMap;
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let good = map(&[
            ("gatewayresponse.header.Access-Control-Allow-Origin", "'*'"),
            ("gatewayresponse.header.x-request-id", "context.requestId"),
            ("gatewayresponse.header.x-stage", "stageVariables.name"),
            (
                "gatewayresponse.header.x-echo",
                "method.request.header.x-trace",
            ),
            (
                "gatewayresponse.header.x-tags",
                "method.request.multivaluequerystring.tag",
            ),
        ]);
        assert_eq!(gateway_response_mappings(&good), Ok(()));
        let message = |pairs: &[(&str, &str)]| {
            gateway_response_mappings(&map(pairs))
                .err()
                .map(|e| e.message().to_owned())
                .unwrap_or_default()
        };
        assert_eq!(
            message(&[("gatewayresponse.header.x", "*")]),
            "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: *]"
        );
        assert!(
            message(&[("method.response.header.x", "'a'")]).contains(
                "Invalid mapping expression parameter specified: method.response.header.x"
            )
        );
        assert!(
            message(&[("gatewayresponse.header.x", "integration.response.header.y")])
                .contains("Invalid mapping expression specified: integration.response.header.y")
        );
    }

    #[test]
    fn mapping_expressions_are_those_aws_reads() {
        use std::collections::BTreeMap;
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let declared: BTreeMap<String, bool> = [
            ("method.request.path.id".to_owned(), true),
            ("method.request.querystring.tag".to_owned(), false),
        ]
        .into();
        let good = map(&[
            ("integration.request.path.id", "method.request.path.id"),
            (
                "integration.request.querystring.t",
                "method.request.multivaluequerystring.tag",
            ),
            (
                "integration.request.header.Content-Type",
                "'application/x-www-form-urlencoded'",
            ),
            ("integration.request.header.X-Stage", "stageVariables.name"),
            ("integration.request.header.X-Id", "context.requestId"),
            (
                "integration.request.header.X-Body",
                "method.request.body.user.name",
            ),
        ]);
        assert_eq!(request_mappings(&good, Some(&declared)), Ok(()));
        let message = |result: Result<(), ApiError>| result.err().map(|e| e.message().to_owned());
        assert_eq!(
            message(request_mappings(
                &map(&[(
                    "integration.request.header.Content-Type",
                    "application/json"
                )]),
                Some(&declared)
            ))
            .as_deref(),
            Some(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: application/json]"
            )
        );
        assert_eq!(
            message(request_mappings(
                &map(&[("integration.request.header.X", "method.request.header.nope")]),
                Some(&declared)
            ))
            .as_deref(),
            Some(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: method.request.header.nope]"
            )
        );
        // Without the method's declarations (OpenAPI import), only the syntax is checked.
        assert_eq!(
            request_mappings(
                &map(&[("integration.request.header.X", "method.request.header.nope")]),
                None
            ),
            Ok(())
        );
        for (key, source) in [
            ("integration.request.body.x", "'a'"),
            ("integration.request.header.", "'a'"),
            ("method.request.header.X", "'a'"),
            ("integration.request.header.X", "'a"),
            ("integration.request.header.X", "method.request.cookie.a"),
            ("integration.request.header.X", "stageVariables."),
        ] {
            assert!(
                request_mappings(&map(&[(key, source)]), None).is_err(),
                "{key} = {source}"
            );
        }

        let headers: BTreeMap<String, bool> =
            [("method.response.header.Content-Type".to_owned(), false)].into();
        let mapped = map(&[(
            "method.response.header.Content-Type",
            "integration.response.header.Content-Type",
        )]);
        assert_eq!(response_mappings(&mapped, Some(&headers)), Ok(()));
        assert_eq!(
            message(response_mappings(&mapped, None)).as_deref(),
            Some(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [No method response exists for method.]"
            )
        );
        assert_eq!(response_mappings(&BTreeMap::new(), None), Ok(()));
        assert_eq!(
            message(response_mappings(
                &map(&[("method.response.header.X-Nope", "'x'")]),
                Some(&headers)
            ))
            .as_deref(),
            Some(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: method.response.header.X-Nope]"
            )
        );
        assert_eq!(
            message(response_mappings(
                &map(&[(
                    "method.response.header.Content-Type",
                    "'Content-Type',Authorization"
                )]),
                Some(&headers)
            ))
            .as_deref(),
            Some(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: 'Content-Type',Authorization]"
            )
        );
        for source in [
            "integration.response.body",
            "integration.response.body.a.b",
            "integration.response.multivalueheader.X",
            "'text/plain'",
            "context.requestId",
        ] {
            assert_eq!(
                response_mappings(
                    &map(&[("method.response.header.Content-Type", source)]),
                    Some(&headers)
                ),
                Ok(()),
                "{source}"
            );
        }
    }

    #[test]
    fn path_parts() {
        assert_eq!(path_part("pets"), Ok(PathPart::Static("pets")));
        assert_eq!(path_part("v1.0_a-b:c"), Ok(PathPart::Static("v1.0_a-b:c")));
        assert_eq!(path_part("{id}"), Ok(PathPart::Param("id")));
        assert_eq!(path_part("{proxy+}"), Ok(PathPart::Greedy("proxy")));
        for bad in [
            "", "a b", "a/b", "{x", "x}", "{}", "{+}", "a{b}", "{a b}", "é",
        ] {
            assert!(path_part(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn stage_variables_follow_aws_patterns() {
        assert!(stage_variable("VPCNLB", "my-nlb-0123.elb.us-east-1.amazonaws.com").is_ok());
        assert!(stage_variable("a-b", "x").is_err());
        assert!(stage_variable("ok", "a b").is_err());
        assert!(stage_variable("ok", "").is_err());
        let message = stage_variable("a-b", "x")
            .err()
            .map(|e| e.message().to_owned());
        assert_eq!(
            message.as_deref(),
            Some("Invalid stage variable name: a-b.  Please use names with only word characters.")
        );
    }

    #[test]
    fn uris_and_codes() {
        assert!(http_uri("http://${stageVariables.VPCNLB}/{proxy}").is_ok());
        assert!(http_uri("https://example.com").is_ok());
        assert!(http_uri("not a url").is_err());
        assert!(http_uri("http:///path").is_err());
        assert!(status_code("200", "statusCode").is_ok());
        assert!(status_code("600", "statusCode").is_err());
        assert!(status_code("20", "statusCode").is_err());
    }

    #[test]
    fn stage_names_and_custom_ids() {
        assert!(stage_name("prod_v-2").is_ok());
        assert!(stage_name("bad name!").is_err());
        assert!(custom_id("myapi123").is_ok());
        assert!(custom_id("my api").is_err());
        assert!(custom_id("a/b").is_err());
        assert!(custom_id("-a").is_err());
    }
}
