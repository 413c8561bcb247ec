//! Reads custom domains' mutual TLS truststores from an S3-compatible endpoint
//! (`--s3-endpoint`: LocalStack, MinIO, moto, or S3 itself): a path-style `GET
//! /{bucket}/{key}[?versionId=...]`, signed with SigV4 for `s3` when credentials are in
//! the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`),
//! unsigned otherwise. The signing is the AWS SDKs' own (`aws-sigv4`), which S3's rules
//! (single percent-encoding, `x-amz-content-sha256`) need.

use std::time::Duration;

use causeway_control::objects::{ObjectFuture, ObjectSource};
use causeway_gateway::aws::{AwsCredentials, Unsigned};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How long one read may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// An S3-compatible endpoint to read objects from.
#[derive(Debug, Clone)]
pub struct S3Endpoint {
    /// `http[s]://host[:port]`, without a trailing `/`.
    pub url: String,
    /// The region requests are signed for.
    pub region: String,
    pub credentials: Option<AwsCredentials>,
}

impl S3Endpoint {
    /// Reads `http[s]://host[:port]` (a path prefix is kept).
    pub fn parse(url: &str, region: &str) -> Result<S3Endpoint, String> {
        let parsed: hyper::Uri = url
            .parse()
            .map_err(|e| format!("not a URL ({e}): give the address of an S3-compatible endpoint, such as http://localhost:4566"))?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
            return Err(
                "give an http:// or https:// address of an S3-compatible endpoint, such as http://localhost:4566".to_owned(),
            );
        }
        Ok(S3Endpoint {
            url: url.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            credentials: None,
        })
    }

    /// Takes credentials from the environment, as the AWS SDKs do.
    pub fn with_environment_credentials(mut self) -> S3Endpoint {
        self.credentials = AwsCredentials::from_environment();
        self
    }
}

/// Reads objects from an [`S3Endpoint`].
pub(crate) struct S3Objects {
    endpoint: S3Endpoint,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl std::fmt::Debug for S3Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Objects")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl S3Objects {
    pub(crate) fn new(endpoint: S3Endpoint) -> Result<S3Objects, String> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(causeway_link::tls::provider())
            .map_err(|e| format!("no TLS for the S3 endpoint: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(S3Objects {
            endpoint,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    async fn read(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~')
            .remove(b'/');
        let mut url = format!(
            "{}/{bucket}/{}",
            self.endpoint.url,
            percent_encoding::utf8_percent_encode(key, SEGMENT)
        );
        if let Some(version) = version {
            url.push_str("?versionId=");
            url.extend(percent_encoding::utf8_percent_encode(
                version,
                percent_encoding::NON_ALPHANUMERIC,
            ));
        }
        let mut request = hyper::Request::get(&url)
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("cannot make the request to {url}: {e}"))?;
        if let Some(credentials) = &self.endpoint.credentials {
            sign(&mut request, credentials, &self.endpoint.region)?;
        }
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| format!("{url} did not answer within {} s", TIMEOUT.as_secs()))?
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = response.status();
        let body = tokio::time::timeout(
            TIMEOUT,
            Limited::new(
                response.into_body(),
                causeway_model::mtls::MAX_TRUSTSTORE_BYTES + 1,
            )
            .collect(),
        )
        .await
        .map_err(|_| {
            format!(
                "{url} did not send the object within {} s",
                TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("cannot read the object from {url}: {e}"))?
        .to_bytes();
        if !status.is_success() {
            // S3's error document names the problem (NoSuchKey, AccessDenied, ...).
            let text = String::from_utf8_lossy(&body);
            let code = text
                .split_once("<Code>")
                .and_then(|(_, rest)| rest.split_once("</Code>"))
                .map_or("", |(code, _)| code);
            return Err(if code.is_empty() {
                format!("S3 answered {status}")
            } else {
                format!("S3 answered {status} ({code})")
            });
        }
        Ok(body.to_vec())
    }
}

impl ObjectSource for S3Objects {
    fn get(&self, bucket: &str, key: &str, version: Option<&str>) -> ObjectFuture {
        let this = Self {
            endpoint: self.endpoint.clone(),
            client: self.client.clone(),
        };
        let (bucket, key, version) = (
            bucket.to_owned(),
            key.to_owned(),
            version.map(str::to_owned),
        );
        Box::pin(async move { this.read(&bucket, &key, version.as_deref()).await })
    }
}

/// Signs a request for S3 with SigV4 (headers), as AWS integrations sign theirs.
fn sign(
    request: &mut hyper::Request<Empty<Bytes>>,
    credentials: &AwsCredentials,
    region: &str,
) -> Result<(), String> {
    let url = request.uri().to_string();
    let signature = causeway_gateway::aws::sign(
        &Unsigned {
            method: "GET",
            url: &url,
            headers: &[],
            body: b"",
            region,
            service: "s3",
            s3: true,
        },
        credentials,
    )?;
    for (name, value) in signature {
        let value = hyper::header::HeaderValue::from_str(&value)
            .map_err(|e| format!("cannot sign the request ({name}): {e}"))?;
        request.headers_mut().insert(name, value);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_http_urls() {
        let endpoint = S3Endpoint::parse("http://localhost:4566/", "eu-west-1").unwrap();
        assert_eq!(
            (endpoint.url.as_str(), endpoint.region.as_str()),
            ("http://localhost:4566", "eu-west-1")
        );
        assert!(S3Endpoint::parse("https://s3.eu-west-1.amazonaws.com", "eu-west-1").is_ok());
        for wrong in ["localhost:4566", "s3://bucket", "ftp://host", "http://"] {
            assert!(S3Endpoint::parse(wrong, "us-east-1").is_err(), "{wrong}");
        }
    }
}
