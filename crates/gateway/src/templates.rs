//! Mapping templates on the invoke path: a request template shapes the integration request
//! (or, for MOCK, picks the status), a response template the method response. The
//! language is `causeway_vtl`'s; this module gives a template its scope: the payload, the
//! method request's parameters, `$context` and `$stageVariables`.

use std::time::{SystemTime, UNIX_EPOCH};

use causeway_vtl::{Scope, Template, Value};

use crate::errors::Failure;
use crate::integration::Call;

/// Which way a template maps, for the reason a failure gives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Direction {
    Request,
    Response,
}

/// A rendered template with the overrides it set.
#[derive(Debug, Default)]
pub(crate) struct Mapped {
    pub text: String,
    /// `$context.responseOverride.status`, when a response template set one from 100 to
    /// 599 (other values are ignored, as on AWS).
    pub status: Option<u16>,
    /// `$context.requestOverride.header.*` (request templates) or
    /// `$context.responseOverride.header.*` (response templates).
    pub headers: Vec<(String, String)>,
    /// `$context.requestOverride.querystring.*`: query parameters of the integration request.
    pub querystring: Vec<(String, String)>,
    /// `$context.requestOverride.path.*`: values for the integration uri's `{name}`s.
    pub path: Vec<(String, String)>,
}

/// Renders `source` against `payload` (the request body for a request template, the
/// integration's answer for a response template). A template that cannot be parsed or
/// rendered is the API's configuration error (500), as on AWS ("Unable to transform").
pub(crate) fn render(
    call: &Call<'_>,
    source: &str,
    payload: &[u8],
    direction: Direction,
) -> Result<Mapped, Failure> {
    let what = match direction {
        Direction::Request => "request",
        Direction::Response => "response",
    };
    let failed =
        |e: causeway_vtl::Error| Failure::configuration(format!("Unable to transform {what}: {e}"));
    let template = Template::parse(source).map_err(failed)?;
    if let Some(text) = template.literal() {
        return Ok(Mapped {
            text: text.to_owned(),
            ..Mapped::default()
        });
    }
    let rendered = template
        .render_with_context(&scope(call, payload))
        .map_err(failed)?;
    let overrides = rendered.context.get(match direction {
        Direction::Request => "requestOverride",
        Direction::Response => "responseOverride",
    });
    let entries = |group: &str| match overrides.and_then(|o| o.get(group)) {
        Some(Value::Map(entries)) => entries
            .iter()
            .map(|(name, value)| (name.clone(), value.to_text()))
            .collect(),
        _ => Vec::new(),
    };
    let headers = entries("header");
    let (querystring, path) = match direction {
        Direction::Request => (entries("querystring"), entries("path")),
        Direction::Response => (Vec::new(), Vec::new()),
    };
    let status = match (direction, overrides.and_then(|o| o.get("status"))) {
        (Direction::Response, Some(Value::Int(n))) => u16::try_from(*n).ok(),
        (Direction::Response, Some(Value::Str(s))) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|status| (100..=599).contains(status));
    Ok(Mapped {
        text: rendered.text,
        status,
        headers,
        querystring,
        path,
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scope(call: &Call<'_>, payload: &[u8]) -> Scope {
    // One value per name, as `$input.params(name)` and `method.request.querystring.NAME`
    // take it (the first): `$input.params().querystring` is a map, whose keys are unique.
    let mut querystring: Vec<(String, String)> = Vec::new();
    for (name, value) in crate::request::query_pairs(call.query) {
        if !querystring.iter().any(|(seen, _)| *seen == name) {
            querystring.push((name.into_owned(), value.into_owned()));
        }
    }
    let header: Vec<(String, String)> = call
        .headers
        .iter()
        .map(|(name, value)| (text(name), text(value)))
        .collect();
    let header_value = |name: &str| {
        header
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
            .to_owned()
    };
    let host = header_value("host");
    let domain_prefix = host.split('.').next().unwrap_or_default().to_owned();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let s = |v: &str| Value::Str(v.to_owned());
    let mut identity = vec![
        ("sourceIp".to_owned(), s(&call.client.ip().to_string())),
        ("userAgent".to_owned(), s(&header_value("user-agent"))),
        ("apiKey".to_owned(), s(&header_value("x-api-key"))),
    ];
    if let Some(caller) = call.caller {
        identity.extend([
            ("accountId".to_owned(), s(&caller.account_id)),
            ("caller".to_owned(), s(&caller.principal_id)),
            ("user".to_owned(), s(&caller.principal_id)),
            ("userArn".to_owned(), s(&caller.arn)),
            ("accessKey".to_owned(), s(&caller.access_key)),
        ]);
    }
    if let Some(cert) = call.client_cert {
        identity.push((
            "clientCert".to_owned(),
            Value::Map(vec![
                ("clientCertPem".to_owned(), s(&cert.client_cert_pem)),
                ("subjectDN".to_owned(), s(&cert.subject_dn)),
                ("issuerDN".to_owned(), s(&cert.issuer_dn)),
                ("serialNumber".to_owned(), s(&cert.serial_number)),
                (
                    "validity".to_owned(),
                    Value::Map(vec![
                        ("notBefore".to_owned(), s(&cert.validity.not_before)),
                        ("notAfter".to_owned(), s(&cert.validity.not_after)),
                    ]),
                ),
            ]),
        ));
    }
    let identity = Value::Map(identity);
    // `/{stage}/{path}` on the execute-api endpoint; through a custom domain, the path the
    // client asked for (as the Lambda proxy event's `requestContext.path`).
    let path = call.domain_path.map_or_else(
        || format!("/{}{}", call.stage.stage.stage_name, call.path),
        str::to_owned,
    );
    let context = Value::Map(vec![
        ("accountId".to_owned(), s(&call.gateway.config.account_id)),
        ("deploymentId".to_owned(), s(&call.stage.deployment.id)),
        ("path".to_owned(), Value::Str(path)),
        ("requestId".to_owned(), s(call.request_id)),
        ("extendedRequestId".to_owned(), s(call.request_id)),
        ("apiId".to_owned(), s(call.api_id)),
        ("stage".to_owned(), s(&call.stage.stage.stage_name)),
        (
            "resourceId".to_owned(),
            s(&call.matched.resource.resource.id),
        ),
        ("resourcePath".to_owned(), s(&call.matched.resource.path)),
        ("httpMethod".to_owned(), s(call.method.as_str())),
        ("protocol".to_owned(), s("HTTP/1.1")),
        ("domainName".to_owned(), s(&host)),
        ("domainPrefix".to_owned(), s(&domain_prefix)),
        ("requestTime".to_owned(), s(&common_log_time(now.as_secs()))),
        (
            "requestTimeEpoch".to_owned(),
            Value::Int(i64::try_from(now.as_millis()).unwrap_or(i64::MAX)),
        ),
        ("identity".to_owned(), identity),
        (
            "authorizer".to_owned(),
            Value::Map(
                call.authorizer
                    .map(|outcome| {
                        let claims = outcome.claims.iter().map(|(k, v)| (k.clone(), s(v)));
                        std::iter::once(("principalId".to_owned(), s(&outcome.principal_id)))
                            .chain(outcome.context.iter().map(|(k, v)| (k.clone(), s(v))))
                            .chain(std::iter::once((
                                "claims".to_owned(),
                                Value::Map(claims.collect()),
                            )))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        ),
        (
            "isCanaryRequest".to_owned(),
            Value::Bool(call.stage.is_canary),
        ),
        (
            "requestOverride".to_owned(),
            Value::Map(vec![
                ("header".to_owned(), Value::Map(Vec::new())),
                ("querystring".to_owned(), Value::Map(Vec::new())),
                ("path".to_owned(), Value::Map(Vec::new())),
            ]),
        ),
        (
            "responseOverride".to_owned(),
            Value::Map(vec![("header".to_owned(), Value::Map(Vec::new()))]),
        ),
    ]);
    Scope {
        body: text(payload),
        path: call
            .matched
            .path_params
            .iter()
            .map(|p| (p.name.to_owned(), p.value.clone().into_owned()))
            .collect(),
        querystring,
        header,
        context,
        stage_variables: Value::string_map(
            call.stage
                .stage
                .variables
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        ),
    }
}

/// `$context.requestTime`: Common Log Format, `26/Nov/2026:17:30:00 +0000`.
pub(crate) fn common_log_time(unix_seconds: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let seconds = i64::try_from(unix_seconds).unwrap_or(0);
    let (year, month, day) = causeway_limits::Day::from_unix_seconds(seconds).ymd();
    let of_day = seconds.rem_euclid(86_400);
    let month = MONTHS
        .get(month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    format!(
        "{day:02}/{month}/{year}:{:02}:{:02}:{:02} +0000",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_time_is_in_common_log_format() {
        // 2015-04-09 12:34:56 UTC, AWS's own example.
        assert_eq!(common_log_time(1_428_582_896), "09/Apr/2015:12:34:56 +0000");
        assert_eq!(common_log_time(0), "01/Jan/1970:00:00:00 +0000");
    }
}
