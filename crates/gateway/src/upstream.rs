//! The clients that reach backends: pooled keep-alive HTTP/1.1, with TLS verified against
//! the public roots, or not verified when an integration asks for that.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The gateway's backend clients.
#[derive(Debug)]
pub struct Upstream {
    verified: Option<HttpsClient>,
    unverified: Option<HttpsClient>,
    plain: Client<HttpConnector, Full<Bytes>>,
}

/// Why a backend call failed.
#[derive(Debug)]
pub enum CallError {
    Timeout,
    Connect(String),
    Tls(String),
}

impl Upstream {
    pub fn new() -> Upstream {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let pool = |builder: &mut hyper_util::client::legacy::Builder| {
            builder
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(256);
        };
        let mut plain_builder = Client::builder(TokioExecutor::new());
        pool(&mut plain_builder);
        let plain = plain_builder.build(http.clone());
        let verified = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(causeway_link::tls::provider())
            .map(|b| {
                b.https_or_http()
                    .enable_http1()
                    .wrap_connector(http.clone())
            })
            .map_err(|error| tracing::error!(%error, "no TLS for HTTPS integrations"))
            .ok()
            .map(|connector| {
                let mut builder = Client::builder(TokioExecutor::new());
                pool(&mut builder);
                builder.build(connector)
            });
        let unverified = causeway_link::tls::accept_any_certificate()
            .map_err(|error| tracing::error!(%error, "no TLS for unverified HTTPS integrations"))
            .ok()
            .map(|config| {
                let connector = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(config)
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(http.clone());
                let mut builder = Client::builder(TokioExecutor::new());
                pool(&mut builder);
                builder.build(connector)
            });
        Upstream {
            verified,
            unverified,
            plain,
        }
    }

    /// Sends a request and waits for the response head, at most `timeout`.
    pub async fn call(
        &self,
        request: http::Request<Full<Bytes>>,
        timeout: Duration,
        skip_verification: bool,
    ) -> Result<http::Response<Incoming>, CallError> {
        let https = request.uri().scheme_str() == Some("https");
        let sent = if !https {
            tokio::time::timeout(timeout, self.plain.request(request)).await
        } else {
            let client = if skip_verification {
                &self.unverified
            } else {
                &self.verified
            };
            let Some(client) = client else {
                return Err(CallError::Tls("TLS is not available".to_owned()));
            };
            tokio::time::timeout(timeout, client.request(request)).await
        };
        match sent {
            Err(_) => Err(CallError::Timeout),
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => {
                let text = format!("{error:?}");
                if https
                    && (text.contains("Tls")
                        || text.contains("certificate")
                        || text.contains("InvalidCertificate"))
                {
                    Err(CallError::Tls(text))
                } else {
                    Err(CallError::Connect(text))
                }
            }
        }
    }
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream::new()
    }
}
