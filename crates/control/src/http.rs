//! The HTTP edge of the control plane: reads the body within limits, runs the operation on a
//! blocking thread (it may write to SQLite) and writes AWS's headers.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use causeway_model::ApiError;
use http_body_util::{BodyExt, Limited};

use crate::{Control, Deferred, Reply, Request};

/// The largest request body accepted (ImportRestApi definitions reach 6 MB on AWS; 10 MiB
/// leaves room for any management call).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The axum router of the control plane: every path goes to one handler that dispatches on
/// method and path itself, so that unknown routes get an AWS-shaped error too.
pub fn router(control: Arc<Control>) -> Router {
    Router::new().fallback(handle).with_state(control)
}

async fn handle(
    State(control): State<Arc<Control>>,
    request: axum::extract::Request,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            let too_large = error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let error = if too_large {
                ApiError::TooLarge(format!(
                    "The request body is larger than the {MAX_BODY_BYTES} bytes this server accepts"
                ))
            } else {
                ApiError::bad_request(format!("The request body could not be read: {error}"))
            };
            return into_response(Reply::error(&error));
        }
    };
    if let Some((region, keyring)) = control.credentials()
        && let Err(reply) = authenticate((region, &keyring), &parts, &bytes)
    {
        return into_response(reply);
    }
    let request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        body: bytes.to_vec(),
        accept: parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        target: parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let request = Arc::new(request);
    let handled = {
        let control = control.clone();
        let request = request.clone();
        tokio::task::spawn_blocking(move || control.handle(&request)).await
    };
    let mut reply = handled.unwrap_or_else(|error| {
        tracing::error!(%error, "management operation panicked");
        Reply::error(&ApiError::Internal(
            "The operation failed unexpectedly".into(),
        ))
    });
    if let Some(deferred) = reply.deferred.take() {
        reply = match deferred {
            Deferred::FetchTruststore(fetch) => {
                let body = match control.object_source() {
                    Some(source) => {
                        source
                            .get(&fetch.bucket, &fetch.key, fetch.version.as_deref())
                            .await
                    }
                    None => Err(
                        "this server reads no S3 objects: start it with --s3-endpoint naming an S3-compatible endpoint"
                            .to_owned(),
                    ),
                };
                let fetched = crate::Fetched {
                    fetch: *fetch,
                    body,
                };
                let control = control.clone();
                tokio::task::spawn_blocking(move || control.handle_fetched(&request, &fetched))
                    .await
                    .unwrap_or_else(|error| {
                        tracing::error!(%error, "management operation panicked");
                        Reply::error(&ApiError::Internal(
                            "The operation failed unexpectedly".into(),
                        ))
                    })
            }
            other => finish_deferred(&control, other).await,
        };
    }
    into_response(reply)
}

/// Checks the request's SigV4 signature against the known identities: rest-json requests
/// must be signed for `apigateway`, elbv2's (`/`) for `elasticloadbalancing`. A refusal is
/// AWS's answer in the protocol's own shape.
fn authenticate(
    (region, keyring): (&str, &causeway_sigv4::Keyring),
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<(), Reply> {
    use causeway_sigv4::{Error, Expected};
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // JSON 1.1 services (WAF, ACM) name the operation in `X-Amz-Target`.
    let json_service: Option<&[&str]> = if target.starts_with(crate::waf::TARGET_PREFIX) {
        Some(&["wafv2"])
    } else if target.starts_with(crate::acm::TARGET_PREFIX) {
        Some(&["acm"])
    } else {
        None
    };
    let json_protocol = json_service.is_some();
    let query_protocol = parts.uri.path() == "/" && !json_protocol;
    let services: &[&str] = if let Some(services) = json_service {
        services
    } else if query_protocol {
        &["elasticloadbalancing"]
    } else {
        &["apigateway"]
    };
    let request = causeway_sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let checked = causeway_sigv4::parse(&request).and_then(|signature| {
        causeway_sigv4::check_scope_and_time(
            &signature,
            &Expected {
                region,
                services,
                now,
            },
        )?;
        let identity = keyring
            .get(&signature.access_key)
            .ok_or(Error::UnknownKey)?;
        causeway_sigv4::verify(
            &request,
            &signature,
            identity,
            &causeway_sigv4::payload_hash(body),
        )
    });
    let Err(error) = checked else {
        return Ok(());
    };
    tracing::info!(
        method = %parts.method,
        path = %parts.uri.path(),
        error = error.error_type(),
        "management request refused: {}",
        error.detailed_message()
    );
    if json_protocol {
        // JSON 1.1 services name the error in the body's `__type` too.
        let status = if matches!(error, Error::Missing) {
            403
        } else {
            400
        };
        let body =
            serde_json::json!({ "__type": error.error_type(), "message": error.query_message() });
        return Err(crate::json11::reply(
            status,
            &body,
            Some(error.error_type()),
        ));
    }
    if query_protocol {
        let request_id = uuid::Uuid::new_v4().to_string();
        let message = error.query_message();
        Err(Reply {
            status: error.query_status(),
            body: causeway_wire::elbv2::output::error_envelope(
                ("Sender", error.query_code(), &message),
                &request_id,
            )
            .into_bytes(),
            error_code: None,
            content_type: "text/xml",
            headers: Vec::new(),
            deferred: None,
        })
    } else {
        Err(Reply {
            status: 403,
            body: serde_json::json!({ "message": error.detailed_message() })
                .to_string()
                .into_bytes(),
            error_code: Some(error.error_type()),
            content_type: "application/json",
            headers: Vec::new(),
            deferred: None,
        })
    }
}

/// Finishes work that had to wait outside the control plane's lock.
async fn finish_deferred(control: &Control, deferred: Deferred) -> Reply {
    match deferred {
        Deferred::TestInvoke(call) => {
            let result = match control.data_plane() {
                Some(data_plane) => data_plane.test_invoke(*call).await,
                None => crate::dataplane::no_gateway(),
            };
            crate::ctx::json(
                200,
                &causeway_wire::output::TestInvokeMethod::from_model(&result),
            )
            .unwrap_or_else(|error| Reply::error(&error))
        }
        Deferred::TestAuthorizer(call) => {
            let result = match control.data_plane() {
                Some(data_plane) => data_plane.test_authorizer(*call).await,
                None => crate::dataplane::no_gateway_authorizer(),
            };
            crate::ctx::json(
                200,
                &causeway_wire::output::TestInvokeAuthorizer::from_model(&result),
            )
            .unwrap_or_else(|error| Reply::error(&error))
        }
        // Handled where the request is at hand (it runs the operation again).
        Deferred::FetchTruststore(_) => Reply::error(&ApiError::Internal(
            "The truststore could not be read".into(),
        )),
    }
}

fn into_response(reply: Reply) -> Response<Body> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let has_body = !reply.body.is_empty();
    // An XML (elbv2) answer carries its request id in the body, where botocore reads it; the
    // Rust SDK reads the header, so both must say the same.
    let request_id = xml_request_id(&reply)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut response = (status, reply.body).into_response();
    let headers = response.headers_mut();
    if has_body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(reply.content_type),
        );
    } else {
        headers.remove(header::CONTENT_TYPE);
    }
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    if let Some(code) = reply.error_code {
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(code));
    }
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    response
}

/// The `<RequestId>` of an XML reply's body.
fn xml_request_id(reply: &Reply) -> Option<&str> {
    if reply.content_type != "text/xml" {
        return None;
    }
    let body = std::str::from_utf8(&reply.body).ok()?;
    let start = body.rfind("<RequestId>")? + "<RequestId>".len();
    let len = body[start..].find("</RequestId>")?;
    Some(&body[start..start + len])
}
