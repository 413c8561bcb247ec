//! The clients that reach backends: kept-alive HTTP/1.1 ([`crate::pool`]), with TLS verified
//! against the public roots, or not verified when an integration asks for that.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tower_service::Service;

use causeway_model::gateway::BackendCertificate;

use crate::conn::{Connection, ExchangeError, Head, Io};
use crate::pool::{Pool, PooledBody};

/// How long a backend connection may wait unused before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How many unused connections to one backend are kept at most.
const MAX_IDLE_PER_BACKEND: usize = 256;

/// Load balancers by the label that route host names carry (the id at the end of the ARN,
/// [`causeway_link::tunnel_label`]), swapped whole when a plan lands.
#[derive(Debug, Default)]
pub struct Routes(arc_swap::ArcSwap<std::collections::HashMap<String, String>>);

impl Routes {
    /// Sets the load balancers routed here.
    pub fn set<'a>(&self, arns: impl IntoIterator<Item = &'a String>) {
        let routes = arns
            .into_iter()
            .map(|arn| (causeway_link::tunnel_label(arn).to_owned(), arn.clone()))
            .collect();
        self.0.store(std::sync::Arc::new(routes));
    }

    fn arn(&self, label: &str) -> Option<String> {
        self.0.load().get(label).cloned()
    }
}

/// Load balancers served by NLB nodes, reached through the tunnel: the registry of node
/// connections and the routes of the current plan.
#[derive(Debug)]
pub struct Tunnel {
    pub registry: causeway_link::tunnel::Registry,
    pub routes: Routes,
}

/// The load balancers of this process, which VPC links reach in memory: the engine and the
/// routes of the current plan.
#[derive(Debug)]
pub struct Balancers {
    pub engine: std::sync::Arc<causeway_nlb::Engine>,
    pub routes: Routes,
}

/// Dials backends: over TCP (names resolved by `getaddrinfo`), through the tunnel for
/// names made by [`causeway_link::tunnel_host`], or through a load balancer of this process
/// for names made by [`causeway_link::balancer_host`].
#[derive(Debug, Clone)]
pub struct LinkConnector {
    http: HttpConnector,
    tunnel: Option<std::sync::Arc<Tunnel>>,
    balancers: Option<std::sync::Arc<Balancers>>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for LinkConnector {
    type Response = LinkStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<LinkStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        if let Some((_, label)) = uri.host().and_then(causeway_link::split_balancer_host) {
            let Some(balancers) = self.balancers.clone() else {
                return Box::pin(std::future::ready(Err(
                    "no load balancers run in this process".into(),
                )));
            };
            let arn = balancers.routes.arn(label);
            let port = port_of(&uri);
            return Box::pin(async move {
                let arn = arn.ok_or("the load balancer is gone")?;
                let flow = balancers
                    .engine
                    .open(&arn, port, causeway_nlb::in_memory_peer())
                    .await?;
                Ok(LinkStream::Flow(hyper_util::rt::TokioIo::new(flow)))
            });
        }
        if let Some((_, label)) = uri.host().and_then(causeway_link::split_tunnel_host) {
            let Some(tunnel) = self.tunnel.clone() else {
                return Box::pin(std::future::ready(Err(
                    "no tunnel listener runs here".into()
                )));
            };
            let arn = tunnel.routes.arn(label);
            let port = port_of(&uri);
            return Box::pin(async move {
                let arn = arn.ok_or("no NLB node serves this load balancer")?;
                let stream = tunnel.registry.open(&arn, port).await?;
                Ok(LinkStream::Tunnel(hyper_util::rt::TokioIo::new(stream)))
            });
        }
        let connecting = self.http.call(uri);
        Box::pin(async move { Ok(LinkStream::Tcp(connecting.await?)) })
    }
}

/// The port a URL names, or its scheme's default.
fn port_of(uri: &Uri) -> u16 {
    uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    })
}

/// A dialled stream as a [`Connection`] reads and writes it: through tokio's traits, without
/// the hyper adapters the connectors wrap it in (each adapter layer costs every read and
/// write a conversion).
pub(crate) trait IntoIo {
    fn into_io(self) -> Box<dyn Io>;
}

impl IntoIo for LinkStream {
    fn into_io(self) -> Box<dyn Io> {
        match self {
            LinkStream::Tcp(io) => Box::new(io.into_inner()),
            LinkStream::Tunnel(io) => Box::new(io.into_inner()),
            LinkStream::Flow(io) => Box::new(io.into_inner()),
        }
    }
}

impl IntoIo for hyper_rustls::MaybeHttpsStream<LinkStream> {
    fn into_io(self) -> Box<dyn Io> {
        match self {
            hyper_rustls::MaybeHttpsStream::Http(stream) => stream.into_io(),
            hyper_rustls::MaybeHttpsStream::Https(tls) => Box::new(tls.into_inner()),
        }
    }
}

/// A backend connection: a TCP socket, a tunnel stream, or a flow through a load balancer
/// of this process.
#[derive(Debug)]
pub enum LinkStream {
    Tcp(hyper_util::rt::TokioIo<tokio::net::TcpStream>),
    Tunnel(hyper_util::rt::TokioIo<causeway_link::tunnel::TunnelStream>),
    Flow(hyper_util::rt::TokioIo<causeway_nlb::Flow>),
}

impl hyper_util::client::legacy::connect::Connection for LinkStream {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        match self {
            LinkStream::Tcp(io) => io.connected(),
            LinkStream::Tunnel(_) | LinkStream::Flow(_) => {
                hyper_util::client::legacy::connect::Connected::new()
            }
        }
    }
}

impl hyper::rt::Read for LinkStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            LinkStream::Tcp(io) => Pin::new(io).poll_read(cx, buf),
            LinkStream::Tunnel(io) => Pin::new(io).poll_read(cx, buf),
            LinkStream::Flow(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl hyper::rt::Write for LinkStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            LinkStream::Tcp(io) => Pin::new(io).poll_write(cx, buf),
            LinkStream::Tunnel(io) => Pin::new(io).poll_write(cx, buf),
            LinkStream::Flow(io) => Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            LinkStream::Tcp(io) => Pin::new(io).poll_flush(cx),
            LinkStream::Tunnel(io) => Pin::new(io).poll_flush(cx),
            LinkStream::Flow(io) => Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            LinkStream::Tcp(io) => Pin::new(io).poll_shutdown(cx),
            LinkStream::Tunnel(io) => Pin::new(io).poll_shutdown(cx),
            LinkStream::Flow(io) => Pin::new(io).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            LinkStream::Tcp(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            LinkStream::Tunnel(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            LinkStream::Flow(io) => Pin::new(io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            LinkStream::Tcp(io) => io.is_write_vectored(),
            LinkStream::Tunnel(io) => io.is_write_vectored(),
            LinkStream::Flow(io) => io.is_write_vectored(),
        }
    }
}

/// The TLS server name of a request: the URL's host, or for a VPC link route the backend
/// host inside it (so that SNI and certificate checks use the integration uri's host).
fn server_name(uri: &Uri) -> Result<ServerName<'static>, Box<dyn std::error::Error + Send + Sync>> {
    let host = uri.host().ok_or("the URL has no host")?;
    let host = causeway_link::split_tunnel_host(host)
        .or_else(|| causeway_link::split_balancer_host(host))
        .map(|(backend, _)| backend)
        .unwrap_or(host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(ServerName::try_from(host.to_owned())?)
}

/// The connector a request dials with, when it needs a new connection.
enum Connector<'a> {
    Plain(&'a LinkConnector),
    Tls(&'a HttpsConnector<LinkConnector>),
}

/// A client connection's timer for the integration timeouts of its requests.
///
/// `tokio::time::timeout` registers a timer for every request and removes it again, about
/// 1,400 instructions per proxied request (callgrind). A connection carries one request at a
/// time and its requests end long before their timeout, so one timer serves them all: it
/// is moved earlier only when it would fire after the request in flight must end, and when
/// it fires for a request that is long gone, it is moved on to the one in flight. It is
/// armed about once per timeout period rather than once per request.
#[derive(Debug)]
pub(crate) struct Deadline {
    sleep: std::sync::Mutex<Pin<Box<tokio::time::Sleep>>>,
}

impl Deadline {
    /// A timer that is not armed yet. Must be made within a Tokio runtime.
    pub(crate) fn new() -> Deadline {
        // Far enough that the first request moves it earlier.
        let idle = tokio::time::Instant::now() + Duration::from_secs(30 * 24 * 3600);
        Deadline {
            sleep: std::sync::Mutex::new(Box::pin(tokio::time::sleep_until(idle))),
        }
    }

    /// Runs `future` until `deadline`: its output, or `None` once the deadline has passed.
    pub(crate) async fn within<T>(
        &self,
        deadline: tokio::time::Instant,
        future: impl Future<Output = T>,
    ) -> Option<T> {
        self.within_pinned(deadline, std::pin::pin!(future)).await
    }

    /// [`Deadline::within`] for a future pinned where its caller made it, so that a large
    /// one (a backend exchange) is not moved (copied) on its way in.
    pub(crate) async fn within_pinned<F: Future>(
        &self,
        deadline: tokio::time::Instant,
        mut future: Pin<&mut F>,
    ) -> Option<F::Output> {
        let mut expiry = std::pin::pin!(self.until(deadline));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            expiry.as_mut().poll(cx).map(|()| None)
        })
        .await
    }

    /// Resolves once `deadline` has passed.
    pub(crate) fn until(
        &self,
        deadline: tokio::time::Instant,
    ) -> impl Future<Output = ()> + Send + '_ {
        std::future::poll_fn(move |cx| {
            let mut sleep = self
                .sleep
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if sleep.deadline() > deadline {
                sleep.as_mut().reset(deadline);
            }
            loop {
                match sleep.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) if tokio::time::Instant::now() >= deadline => {
                        return Poll::Ready(());
                    }
                    // Fired for an earlier request: on to this one's deadline.
                    Poll::Ready(()) => sleep.as_mut().reset(deadline),
                }
            }
        })
    }
}

/// A request for a backend, its head written out.
#[derive(Debug)]
pub(crate) struct Outgoing<'a> {
    pub(crate) method: &'a http::Method,
    /// Whether to speak TLS.
    pub(crate) https: bool,
    /// Where to dial: `host[:port]`, or a route name ([`LinkConnector`]).
    pub(crate) authority: &'a str,
    /// What to ask for: path and query string.
    pub(crate) target: &'a str,
    /// The header section: `name: value\r\n` lines, without `Content-Length`.
    pub(crate) headers: &'a [u8],
    pub(crate) body: Bytes,
    /// Whether the answer's headers come back as an HTTP_PROXY client sees them
    /// ([`crate::conn::remapped`]).
    pub(crate) remap: bool,
}

/// A TLS client: its connector and the pool of its connections.
type TlsClient = (HttpsConnector<LinkConnector>, std::sync::Arc<Pool>);

/// The gateway's backend clients: a connector and a pool for each kind of connection.
#[derive(Debug)]
pub struct Upstream {
    runs_balancers: bool,
    plain: (LinkConnector, std::sync::Arc<Pool>),
    verified: Option<TlsClient>,
    unverified: Option<TlsClient>,
    /// TLS clients that show a client certificate, by the certificate's id: made when a
    /// request first needs one, dropped when no stage names the certificate any more
    /// ([`Upstream::keep_client_certificates`]). Each has pools of its own, so a connection
    /// made with one identity never carries a request of another.
    identified: std::sync::Mutex<std::collections::HashMap<String, Identified>>,
}

/// The TLS clients of one client certificate.
#[derive(Debug)]
struct Identified {
    certificate: std::sync::Arc<BackendCertificate>,
    verified: Option<std::sync::Arc<TlsClient>>,
    unverified: Option<std::sync::Arc<TlsClient>>,
}

/// How a backend call speaks TLS, when its uri is `https`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tls<'a> {
    /// Accept any server certificate (`tlsConfig.insecureSkipVerification`).
    pub(crate) skip_verification: bool,
    /// The certificate to show a server that asks for one (the stage's client certificate).
    pub(crate) client_certificate: Option<&'a std::sync::Arc<BackendCertificate>>,
}

/// Why a backend call failed.
#[derive(Debug)]
pub enum CallError {
    Timeout,
    Connect(String),
    Tls(String),
}

impl Upstream {
    pub fn new(
        tunnel: Option<std::sync::Arc<Tunnel>>,
        balancers: Option<std::sync::Arc<Balancers>>,
    ) -> Upstream {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let runs_balancers = balancers.is_some();
        let http = LinkConnector {
            http,
            tunnel,
            balancers,
        };
        let pool = || Pool::new(IDLE_TIMEOUT, MAX_IDLE_PER_BACKEND);
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
            .map(|connector| (connector, pool()));
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
                (connector, pool())
            });
        Upstream {
            runs_balancers,
            plain: (http, pool()),
            verified,
            unverified,
            identified: std::sync::Mutex::default(),
        }
    }

    /// The TLS client that shows `certificate`, checking the server's certificate or not.
    fn identified(
        &self,
        certificate: &std::sync::Arc<BackendCertificate>,
        skip_verification: bool,
    ) -> Result<std::sync::Arc<TlsClient>, String> {
        let mut identified = self
            .identified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = match identified.get_mut(certificate.id.as_str()) {
            // The same id with other contents (deleted and made again) starts afresh.
            Some(entry) if *entry.certificate == **certificate => entry,
            _ => {
                identified.insert(
                    certificate.id.clone(),
                    Identified {
                        certificate: certificate.clone(),
                        verified: None,
                        unverified: None,
                    },
                );
                identified
                    .get_mut(certificate.id.as_str())
                    .ok_or("the client certificate's connections are gone")?
            }
        };
        let slot = if skip_verification {
            &mut entry.unverified
        } else {
            &mut entry.verified
        };
        if let Some(client) = slot {
            return Ok(client.clone());
        }
        let client = std::sync::Arc::new(self.showing(certificate, skip_verification)?);
        *slot = Some(client.clone());
        Ok(client)
    }

    /// A new TLS client that shows `certificate` to servers that ask for a client
    /// certificate.
    fn showing(
        &self,
        certificate: &BackendCertificate,
        skip_verification: bool,
    ) -> Result<TlsClient, String> {
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let id = &certificate.id;
        let chain = CertificateDer::pem_slice_iter(certificate.certificate_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| format!("client certificate {id} does not read: {error}"))?;
        let key = PrivateKeyDer::from_pem_slice(certificate.private_key_pem.as_bytes()).map_err(
            |error| format!("the key of client certificate {id} does not read: {error}"),
        )?;
        let roots = (!skip_verification).then(|| tokio_rustls::rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
        let config = causeway_link::tls::showing_identity(roots, (chain, key))
            .map_err(|error| format!("client certificate {id} cannot be used: {error}"))?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .with_server_name_resolver(server_name)
            .enable_http1()
            .wrap_connector(self.plain.0.clone());
        Ok((connector, Pool::new(IDLE_TIMEOUT, MAX_IDLE_PER_BACKEND)))
    }

    /// Drops the TLS clients (and their kept connections) of certificates not in `ids`.
    pub(crate) fn keep_client_certificates(&self, ids: &std::collections::HashSet<&str>) {
        self.identified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|id, _| ids.contains(id.as_str()));
    }

    /// Whether load balancers of this process take VPC link connections in memory.
    pub fn runs_balancers(&self) -> bool {
        self.runs_balancers
    }

    /// Sends a request and waits for the response head, at most `timeout`, timed by
    /// `timer` when the request comes with one (its client connection's). Over TLS, the
    /// server's certificate is checked unless `tls.skip_verification`, and
    /// `tls.client_certificate` is shown to servers that ask for one.
    pub(crate) async fn call(
        &self,
        request: Outgoing<'_>,
        timeout: Duration,
        tls: Tls<'_>,
        timer: Option<&Deadline>,
    ) -> Result<http::Response<PooledBody>, CallError> {
        let https = request.https;
        let skip_verification = tls.skip_verification;
        let identified;
        let (connector, pool) = if !https {
            (Connector::Plain(&self.plain.0), &self.plain.1)
        } else if let Some(certificate) = tls.client_certificate {
            identified = self
                .identified(certificate, skip_verification)
                .map_err(CallError::Tls)?;
            (Connector::Tls(&identified.0), &identified.1)
        } else {
            let client = if skip_verification {
                &self.unverified
            } else {
                &self.verified
            };
            let Some((connector, pool)) = client else {
                return Err(CallError::Tls("TLS is not available".to_owned()));
            };
            (Connector::Tls(connector), pool)
        };
        // One clock reading both times the request and ages the pool's connections.
        let now = tokio::time::Instant::now();
        let mut sending = std::pin::pin!(async {
            match connector {
                Connector::Plain(connector) => send(connector, pool, request, now.into_std()).await,
                Connector::Tls(connector) => send(connector, pool, request, now.into_std()).await,
            }
        });
        let sent = match timer {
            Some(timer) => timer.within_pinned(now + timeout, sending.as_mut()).await,
            None => tokio::time::timeout(timeout, sending).await.ok(),
        };
        match sent {
            None => Err(CallError::Timeout),
            Some(Ok(mut response)) => {
                response.body_mut().set_deadline(now + timeout);
                Ok(response)
            }
            Some(Err(error)) => {
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

/// Sends `request` over a kept connection to its uri's authority when one waits, else over
/// a new one. A kept connection found closed before the request goes out, or that waited
/// past the pool's idle timeout at `now`, is dropped. One
/// that fails before a byte of an answer came back (the backend may have closed it just as
/// the request left) is retried once on a new connection when the method is idempotent
/// (RFC 9110 §9.2.2), as nginx retries such requests on its next upstream.
async fn send<C>(
    connector: &C,
    pool: &std::sync::Arc<Pool>,
    request: Outgoing<'_>,
    now: std::time::Instant,
) -> Result<http::Response<PooledBody>, BoxError>
where
    C: Service<Uri> + Clone + Send + Sync,
    C::Response: IntoIo,
    C::Error: Into<BoxError>,
    C::Future: Send,
{
    let Outgoing {
        method,
        https,
        authority,
        target,
        headers,
        body,
        remap,
    } = request;
    let (key, kept) = pool.take(authority, now);
    if let Some(mut connection) = kept {
        match connection
            .exchange(method, target, headers, &body, remap)
            .await
        {
            Ok(head) => return respond(connection, head, pool, key, now),
            Err(ExchangeError::Io {
                nothing_back: true, ..
            }) if method.is_idempotent() => {}
            Err(error) => return Err(error.into()),
        }
    }
    // Only a new connection needs a connector of its own.
    let mut connector = connector.clone();
    std::future::poll_fn(|cx| connector.poll_ready(cx))
        .await
        .map_err(Into::into)?;
    // The connector needs a URL: only a new connection makes one.
    let scheme = if https { "https" } else { "http" };
    let uri: Uri = format!("{scheme}://{authority}/").parse()?;
    let stream = connector.call(uri).await.map_err(Into::into)?;
    let mut connection = Connection::from_io(stream.into_io());
    let head = connection
        .exchange(method, target, headers, &body, remap)
        .await?;
    respond(connection, head, pool, key, now)
}

fn respond(
    connection: Connection,
    mut head: Head,
    pool: &std::sync::Arc<Pool>,
    key: std::sync::Arc<str>,
    now: std::time::Instant,
) -> Result<http::Response<PooledBody>, BoxError> {
    let body = PooledBody::new(connection, &mut head, pool.clone(), key, now)?;
    Ok(http::Response::from_parts(head.parts, body))
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream::new(None, None)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[tokio::test]
    async fn one_timer_times_request_after_request() {
        let timer = Deadline::new();
        // A request with a long timeout arms the timer far ahead...
        let long = Instant::now() + Duration::from_secs(10);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), timer.until(long))
                .await
                .is_err()
        );
        // ...and the next, with a short one, moves it earlier.
        let started = Instant::now();
        tokio::time::timeout(
            Duration::from_secs(5),
            timer.until(started + Duration::from_millis(50)),
        )
        .await
        .expect("the short deadline must fire, not the long one");
        assert!(started.elapsed() >= Duration::from_millis(50));

        // A deadline of a request long gone fires while a later request waits: that one
        // still gets its whole time.
        let gone = Instant::now() + Duration::from_millis(30);
        assert!(
            tokio::time::timeout(Duration::from_millis(5), timer.until(gone))
                .await
                .is_err()
        );
        let started = Instant::now();
        let until = started + Duration::from_millis(200);
        tokio::time::timeout(Duration::from_secs(5), timer.until(until))
            .await
            .expect("the deadline must fire");
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "fired after {:?}",
            started.elapsed()
        );
    }
}
