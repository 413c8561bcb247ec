//! Calls Lambda functions through an endpoint that speaks Lambda's Invoke API
//! (`POST /2015-03-31/functions/{FunctionName}/invocations`): LocalStack, `sam local
//! start-lambda`, or a function's Runtime Interface Emulator. Causeway runs no functions
//! itself; `--lambda-endpoint` says where they run.

use std::time::Duration;

use bytes::Bytes;

use crate::upstream::{CallError, Outgoing, Upstream};

/// The most a function's answer may hold (Lambda's synchronous payload limit, 6 MB).
const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Where functions are invoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaEndpoint {
    /// The path is what comes before `/2015-03-31/...`, without a trailing `/`; or, for a
    /// URL that already ends in `/invocations` (one function's emulator), that whole path,
    /// used for every function.
    url: crate::endpoint::HttpUrl,
    fixed: bool,
}

impl LambdaEndpoint {
    /// Reads `http[s]://host[:port][/prefix]`, or the full invocation URL of a single
    /// function's emulator (`http://localhost:9000/2015-03-31/functions/function/invocations`).
    pub fn parse(url: &str) -> Result<LambdaEndpoint, String> {
        let url = crate::endpoint::HttpUrl::parse(url)
            .map_err(|why| format!("{why}: give the address of a Lambda Invoke API endpoint"))?;
        Ok(LambdaEndpoint {
            fixed: url.path.ends_with("/invocations"),
            url,
        })
    }

    /// The request target that invokes `function`.
    fn target(&self, function: &str) -> String {
        if self.fixed {
            return self.url.path.clone();
        }
        // As the AWS SDKs write a path label: all but unreserved characters encoded (`:` as
        // `%3A`).
        const LABEL: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let name: String = percent_encoding::utf8_percent_encode(function, LABEL).collect();
        format!("{}/2015-03-31/functions/{name}/invocations", self.url.path)
    }
}

/// How a function is invoked (`X-Amz-Invocation-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    /// Wait for the result.
    RequestResponse,
    /// Queue the event and answer at once (202, no result).
    Event,
    /// Only check that the call would be allowed.
    DryRun,
}

impl InvocationType {
    /// Reads Lambda's spelling.
    pub fn parse(text: &str) -> Option<InvocationType> {
        match text {
            "RequestResponse" => Some(InvocationType::RequestResponse),
            "Event" => Some(InvocationType::Event),
            "DryRun" => Some(InvocationType::DryRun),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            InvocationType::RequestResponse => "RequestResponse",
            InvocationType::Event => "Event",
            InvocationType::DryRun => "DryRun",
        }
    }
}

/// What a function answered.
#[derive(Debug)]
pub enum Invoked {
    /// Its result.
    Returned(Bytes),
    /// It failed: the `errorMessage` of its error, if it gave one, and the whole error.
    Failed {
        message: Option<String>,
        body: Bytes,
    },
}

/// Why a function could not be called.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("no Lambda endpoint is configured (causeway serve --lambda-endpoint URL)")]
    NoEndpoint,
    #[error("the Lambda endpoint did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the Lambda endpoint: {0}")]
    Unreachable(String),
    #[error("the Lambda endpoint answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("reading the function's answer failed: {0}")]
    Read(String),
}

/// Invokes `function` with `payload` (JSON), synchronously, waiting at most `timeout`.
pub async fn invoke(
    upstream: &Upstream,
    endpoint: Option<&LambdaEndpoint>,
    function: &str,
    (payload, invocation): (Bytes, InvocationType),
    timeout: Duration,
) -> Result<Invoked, InvokeError> {
    let endpoint = endpoint.ok_or(InvokeError::NoEndpoint)?;
    let target = endpoint.target(function);
    let mut headers = Vec::with_capacity(128);
    causeway_http1::write_header(&mut headers, "host", endpoint.url.authority.as_bytes());
    causeway_http1::write_header(&mut headers, "content-type", b"application/json");
    causeway_http1::write_header(
        &mut headers,
        "x-amz-invocation-type",
        invocation.as_str().as_bytes(),
    );
    let request = Outgoing {
        method: &http::Method::POST,
        https: endpoint.url.https,
        authority: &endpoint.url.authority,
        target: &target,
        headers: &headers,
        body: payload,
        remap: false,
    };
    let started = tokio::time::Instant::now();
    let mut response = upstream
        .call(request, timeout, crate::upstream::Tls::default(), None)
        .await
        .map_err(|error| match error {
            CallError::Timeout => InvokeError::Timeout(timeout),
            CallError::Connect(cause) | CallError::Tls(cause) => InvokeError::Unreachable(cause),
        })?;
    let body = response.body_mut();
    tokio::time::timeout_at(started + timeout, body.buffer(MAX_PAYLOAD_BYTES))
        .await
        .map_err(|_| InvokeError::Timeout(timeout))?
        .map_err(|error| InvokeError::Read(format!("{error:?}")))?;
    let bytes = body.take_whole().unwrap_or_default();
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(InvokeError::Refused {
            status,
            body: String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned(),
        });
    }
    if response.headers().contains_key("x-amz-function-error") {
        return Ok(Invoked::Failed {
            message: error_message(&bytes),
            body: bytes,
        });
    }
    // The Runtime Interface Emulator sends a function's error as a plain result: an object
    // with `errorMessage` and `errorType` (and a stack trace) is one.
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(&bytes)
        && fields.contains_key("errorType")
        && fields.contains_key("errorMessage")
        && fields.keys().all(|k| {
            matches!(
                k.as_str(),
                "errorType" | "errorMessage" | "stackTrace" | "trace"
            )
        })
    {
        return Ok(Invoked::Failed {
            message: fields
                .get("errorMessage")
                .and_then(|m| m.as_str())
                .map(str::to_owned),
            body: bytes,
        });
    }
    Ok(Invoked::Returned(bytes))
}

/// The `errorMessage` of a function error's body.
fn error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("errorMessage")?.as_str().map(str::to_owned)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_the_function_or_are_its_whole_url() {
        let endpoint = LambdaEndpoint::parse("http://localhost:4566").unwrap();
        assert_eq!(
            endpoint.target("arn:aws:lambda:us-east-1:000000000000:function:auth:live"),
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aauth%3Alive/invocations"
        );
        let prefixed = LambdaEndpoint::parse("https://lambda.internal/base/").unwrap();
        assert!(prefixed.url.https);
        assert_eq!(
            prefixed.target("auth"),
            "/base/2015-03-31/functions/auth/invocations"
        );
        let emulator = LambdaEndpoint::parse(
            "http://127.0.0.1:9000/2015-03-31/functions/function/invocations",
        )
        .unwrap();
        assert_eq!(
            emulator.target("anything"),
            "/2015-03-31/functions/function/invocations"
        );
        for bad in [
            "localhost:4566",
            "ftp://x",
            "http://",
            "http://a b",
            "http://x/?q=1",
        ] {
            assert!(LambdaEndpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
