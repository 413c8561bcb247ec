//! The clients that reach backends: pooled keep-alive HTTP/1.1, with TLS verified against
//! the public roots, or not verified when an integration asks for that.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::rt::TokioExecutor;
use tokio_rustls::rustls::pki_types::ServerName;

type Connector = HttpConnector<LinkResolver>;
type HttpsClient = Client<HttpsConnector<Connector>, Full<Bytes>>;

/// Name resolution that knows VPC link routes: a name made by [`causeway_link::link_host`]
/// resolves to its load balancer's address; any other name goes to `getaddrinfo`.
#[derive(Debug, Clone)]
pub struct LinkResolver {
    gai: GaiResolver,
}

type Resolved = std::vec::IntoIter<SocketAddr>;

impl tower_service::Service<Name> for LinkResolver {
    type Response = Resolved;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Resolved, std::io::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        if let Some((_, address)) = causeway_link::split_link_host(name.as_str()) {
            // The connector puts the URL's port on the address.
            let resolved = vec![SocketAddr::new(address, 0)].into_iter();
            return Box::pin(std::future::ready(Ok(resolved)));
        }
        let lookup = self.gai.call(name);
        Box::pin(async move { Ok(lookup.await?.collect::<Vec<_>>().into_iter()) })
    }
}

/// The TLS server name of a request: the URL's host, or for a VPC link route the backend
/// host inside it (so that SNI and certificate checks use the integration uri's host).
fn server_name(uri: &Uri) -> Result<ServerName<'static>, Box<dyn std::error::Error + Send + Sync>> {
    let host = uri.host().ok_or("the URL has no host")?;
    let host = causeway_link::split_link_host(host).map_or(host, |(backend, _)| backend);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(ServerName::try_from(host.to_owned())?)
}

/// The gateway's backend clients.
#[derive(Debug)]
pub struct Upstream {
    verified: Option<HttpsClient>,
    unverified: Option<HttpsClient>,
    plain: Client<Connector, Full<Bytes>>,
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
        let mut http = HttpConnector::new_with_resolver(LinkResolver {
            gai: GaiResolver::new(),
        });
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
                    .with_server_name_resolver(server_name)
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
                    .with_server_name_resolver(server_name)
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
