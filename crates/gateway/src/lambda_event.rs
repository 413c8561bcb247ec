//! The request as Lambda functions see it: the proxy event of AWS_PROXY integrations
//! (payload format 1.0) and, without its body, the event of REQUEST authorizers.

use std::collections::BTreeMap;
use std::net::IpAddr;

use causeway_routing::PathParam;
use serde_json::{Map, Value};

use crate::Gateway;
use crate::request::Headers;

/// What a function may be told of a request.
pub(crate) struct Facts<'a> {
    /// Whether the request came over TLS.
    pub secure: bool,
    pub gateway: &'a Gateway,
    pub api_id: &'a str,
    pub stage: &'a str,
    pub deployment_id: &'a str,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub method: &'a str,
    pub headers: &'a Headers,
    /// The path after the stage, starting with `/`, as the client sent it.
    pub path: &'a str,
    /// Through a custom domain, the whole path the client sent (base path and all): what
    /// the event's `path` and `requestContext.path` then show.
    pub domain_path: Option<&'a str>,
    pub query: Option<&'a str>,
    pub resource_path: &'a str,
    pub resource_id: &'a str,
    pub path_params: &'a [PathParam<'a>],
    pub client: IpAddr,
    pub request_id: &'a str,
    pub host: Option<&'a str>,
    /// The identity that signed the request, for `AWS_IAM` methods.
    pub caller: Option<&'a causeway_sigv4::Identity>,
    /// The client's certificate, through a custom domain with mutual TLS.
    pub client_cert: Option<&'a causeway_model::mtls::ClientCert>,
}

/// A query string's pairs as an HTML form has them: `+` is a space, then percent-decoded.
fn form_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decoded = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decoded(k), decoded(v))
        })
        .collect()
}

/// A single-valued map (the last value of each name wins) and a multi-valued one, or
/// `null`s when there is nothing.
fn maps(pairs: Vec<(String, String)>, null_if_empty: bool) -> (Value, Value) {
    if pairs.is_empty() && null_if_empty {
        return (Value::Null, Value::Null);
    }
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        single.insert(name.clone(), Value::String(value.clone()));
        if let Value::Array(values) = multi
            .entry(name)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::String(value));
        }
    }
    (Value::Object(single), Value::Object(multi))
}

/// The fields the proxy event and the REQUEST authorizer event share. `extra_headers` are
/// added to the client's (the proxy event's `X-Forwarded-*`); `drop_headers` are left out.
pub(crate) fn request_fields(
    facts: &Facts<'_>,
    extra_headers: &[(&str, String)],
    drop_headers: &[&str],
    null_if_empty: bool,
) -> Map<String, Value> {
    let mut header_pairs: Vec<(String, String)> = facts
        .headers
        .iter()
        .filter(|(name, _)| {
            let dropped = drop_headers
                .iter()
                .any(|d| name.eq_ignore_ascii_case(d.as_bytes()));
            // An IAM caller's signature is spent: AWS leaves it out of the event.
            let spent = facts.caller.is_some() && name.eq_ignore_ascii_case(b"authorization");
            !dropped && !spent
        })
        .map(|(name, value)| {
            (
                String::from_utf8_lossy(name).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            )
        })
        .collect();
    for (name, value) in extra_headers {
        header_pairs.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        header_pairs.push(((*name).to_owned(), value.clone()));
    }
    let (headers, multi_headers) = maps(header_pairs, false);
    let (query, multi_query) = maps(form_pairs(facts.query), true);
    let path_parameters: Map<String, Value> = facts
        .path_params
        .iter()
        .map(|p| (p.name.to_owned(), Value::String(p.raw.to_string())))
        .collect();
    let path_parameters = if path_parameters.is_empty() && null_if_empty {
        Value::Null
    } else {
        Value::Object(path_parameters)
    };
    let stage_variables = if facts.stage_variables.is_empty() {
        Value::Null
    } else {
        Value::Object(
            facts
                .stage_variables
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let host = facts.host.unwrap_or_default();
    let request_context = serde_json::json!({
        "resourceId": facts.resource_id,
        "resourcePath": facts.resource_path,
        "httpMethod": facts.method,
        "extendedRequestId": facts.request_id,
        "requestTime": crate::templates::common_log_time(now.as_secs()),
        "path": facts
            .domain_path
            .map_or_else(|| format!("/{}{}", facts.stage, facts.path), str::to_owned),
        "accountId": facts.gateway.config.account_id,
        "protocol": "HTTP/1.1",
        "stage": facts.stage,
        "domainPrefix": host.split('.').next().unwrap_or_default(),
        "requestTimeEpoch": u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
        "requestId": facts.request_id,
        "identity": {
            "cognitoIdentityPoolId": null,
            "accountId": facts.caller.map(|c| &c.account_id),
            "cognitoIdentityId": null,
            "caller": facts.caller.map(|c| &c.principal_id),
            "sourceIp": facts.client.to_string(),
            "principalOrgId": null,
            "accessKey": facts.caller.map(|c| &c.access_key),
            "cognitoAuthenticationType": null,
            "cognitoAuthenticationProvider": null,
            "userArn": facts.caller.map(|c| &c.arn),
            "userAgent": facts.headers.get_str("user-agent"),
            "user": facts.caller.map(|c| &c.principal_id),
            "apiKey": facts.headers.get_str("x-api-key"),
        },
        "domainName": host,
        "deploymentId": facts.deployment_id,
        "apiId": facts.api_id,
    });
    let mut request_context = request_context;
    if let Some(cert) = facts.client_cert
        && let Some(identity) = request_context
            .get_mut("identity")
            .and_then(Value::as_object_mut)
    {
        identity.insert(
            "clientCert".into(),
            serde_json::to_value(cert).unwrap_or(Value::Null),
        );
    }
    let mut fields = Map::new();
    fields.insert(
        "resource".into(),
        Value::String(facts.resource_path.to_owned()),
    );
    fields.insert(
        "path".into(),
        Value::String(facts.domain_path.unwrap_or(facts.path).to_owned()),
    );
    fields.insert("httpMethod".into(), Value::String(facts.method.to_owned()));
    fields.insert("headers".into(), headers);
    fields.insert("multiValueHeaders".into(), multi_headers);
    fields.insert("queryStringParameters".into(), query);
    fields.insert("multiValueQueryStringParameters".into(), multi_query);
    fields.insert("pathParameters".into(), path_parameters);
    fields.insert("stageVariables".into(), stage_variables);
    fields.insert("requestContext".into(), request_context);
    fields
}

/// Whether a media type is one of an API's binary media types (`type/subtype`, or
/// `type/*` for every subtype, or `*/*`), its parameters aside.
pub(crate) fn is_binary(media_type: &str, binary_media_types: &[String]) -> bool {
    let media_type = media_type.split(';').next().unwrap_or_default().trim();
    let Some((kind, _)) = media_type.split_once('/') else {
        return false;
    };
    binary_media_types.iter().any(|entry| {
        let entry = entry.trim();
        entry == "*/*"
            || entry.eq_ignore_ascii_case(media_type)
            || entry
                .strip_suffix("/*")
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(kind))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_media_types_match_as_aws_matches_them() {
        let types = vec!["image/png".to_owned(), "application/*".to_owned()];
        assert!(is_binary("image/png", &types));
        assert!(is_binary("IMAGE/PNG; q=0.8", &types));
        assert!(is_binary("application/octet-stream", &types));
        assert!(!is_binary("image/webp", &types));
        assert!(!is_binary("*/*", &types));
        assert!(!is_binary("image/*", &types));
        assert!(!is_binary("application", &types));
        assert!(is_binary("text/plain", &["*/*".to_owned()]));
        assert!(!is_binary("text/plain", &["*/plain".to_owned()]));
    }

    #[test]
    fn form_pairs_read_plus_as_space() {
        assert_eq!(
            form_pairs(Some("a=1+2&b=%2B&&c")),
            vec![
                ("a".to_owned(), "1 2".to_owned()),
                ("b".to_owned(), "+".to_owned()),
                ("c".to_owned(), String::new()),
            ]
        );
    }
}
