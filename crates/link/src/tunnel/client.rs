//! The node's side: [`TunnelClient`] dials out to the gateway, keeps its connections up,
//! and splices each stream the gateway opens with a connection to a local listener.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2::RecvStream;
use h2::server::SendResponse;
use http::{HeaderValue, Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::ServerName;

use super::Batched;
use super::backoff::{Backoff, BackoffPolicy};
use super::hello::{self, FrameError, Hello, Reply};
use super::stream::TunnelStream;
use super::{
    ALPN, CONNECTION_WINDOW, NLB_HEADER, PORT_HEADER, REASON_HEADER, STREAM_WINDOW, Target,
    TunnelError, keepalive,
};

/// How a node reaches its gateway.
#[derive(Clone)]
pub struct TunnelClientConfig {
    /// The gateway's link listener, `host:port` (resolved again at every attempt).
    pub gateway: String,
    /// The name the gateway's certificate must carry.
    pub server_name: ServerName<'static>,
    /// TLS settings: [`crate::tls::verified`] with the roots that signed the gateway's
    /// certificate, or [`crate::tls::accept_any_certificate`] for tests only. Its ALPN list
    /// is replaced by [`super::ALPN`].
    pub tls: Arc<rustls::ClientConfig>,
    /// The node's id, as the control plane issued it.
    pub node_id: String,
    /// The node's credential.
    pub token: String,
    /// Connections kept open at once (2): a stream survives the loss of one only by
    /// being reopened, but new streams always have somewhere to go.
    pub connections: usize,
    /// Streams the gateway may have open at once on one connection (256).
    pub max_concurrent_streams: u32,
    /// A PING every this often (10 s; zero turns keepalives off) ...
    pub keepalive_interval: Duration,
    /// ... whose pong must come back within this (5 s), or the connection is dropped and
    /// dialled again.
    pub keepalive_timeout: Duration,
    /// How long TCP, TLS, the hello and the HTTP/2 preface may take together (5 s).
    pub handshake_timeout: Duration,
    /// Delays between attempts.
    pub backoff: BackoffPolicy,
}

impl TunnelClientConfig {
    /// A configuration with the defaults above.
    pub fn new(
        gateway: impl Into<String>,
        server_name: ServerName<'static>,
        tls: Arc<rustls::ClientConfig>,
        node_id: impl Into<String>,
        token: impl Into<String>,
    ) -> TunnelClientConfig {
        TunnelClientConfig {
            gateway: gateway.into(),
            server_name,
            tls,
            node_id: node_id.into(),
            token: token.into(),
            connections: 2,
            max_concurrent_streams: 256,
            keepalive_interval: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(5),
            backoff: BackoffPolicy::default(),
        }
    }
}

impl fmt::Debug for TunnelClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No token: configurations end up in logs.
        f.debug_struct("TunnelClientConfig")
            .field("gateway", &self.gateway)
            .field("server_name", &self.server_name)
            .field("node_id", &self.node_id)
            .field("connections", &self.connections)
            .field("max_concurrent_streams", &self.max_concurrent_streams)
            .field("keepalive_interval", &self.keepalive_interval)
            .field("keepalive_timeout", &self.keepalive_timeout)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

/// Connects a stream that the gateway opened to the local listener it names, then carries
/// it. The node implements it over its load balancer engine (which takes the tunnel stream
/// itself, with no socket or pipe in between); a closure `Fn(Target) -> impl Future` that
/// connects a stream works too, and is spliced with the tunnel stream.
pub trait Connector: Send + Sync + 'static {
    /// What [`Connector::connect`] hands to [`Connector::serve`]: usually a connected stream.
    type Stream: Send + 'static;

    /// Connects to `target`, or says why not. The gateway learns the answer before any byte
    /// flows.
    fn connect(
        &self,
        target: &Target,
    ) -> impl Future<Output = Result<Self::Stream, ConnectError>> + Send;

    /// Carries the accepted `tunnel` stream until both directions have ended.
    fn serve(
        &self,
        target: Target,
        local: Self::Stream,
        tunnel: TunnelStream,
    ) -> impl Future<Output = ()> + Send;
}

impl<F, Fut, S> Connector for F
where
    F: Fn(Target) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<S, ConnectError>> + Send,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = S;

    fn connect(&self, target: &Target) -> impl Future<Output = Result<S, ConnectError>> + Send {
        self(target.clone())
    }

    async fn serve(&self, target: Target, mut local: S, mut tunnel: TunnelStream) {
        let spliced = tokio::io::copy_bidirectional_with_sizes(
            &mut local,
            &mut tunnel,
            SPLICE_BUFFER,
            SPLICE_BUFFER,
        )
        .await;
        if let Err(error) = spliced {
            tracing::debug!(nlb = %target.nlb, port = target.port, %error, "tunnel stream ended with an error");
        }
    }
}

/// Why a node did not connect a stream. The gateway sees the first as
/// [`TunnelError::Refused`], the second as [`TunnelError::Unreachable`].
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The node does not serve this load balancer (or this listener).
    #[error("this node does not serve the load balancer")]
    NotServed,
    /// The listener could not be reached.
    #[error(transparent)]
    Unreachable(#[from] std::io::Error),
}

/// What a node's connections are doing.
#[derive(Clone, Debug, Default)]
pub struct ClientStatus {
    /// Connections that passed the hello and are up.
    pub connected: usize,
    /// The most recent failure of any connection, kept after later successes; a
    /// [`TunnelError::Refused`] here carries the gateway's reason.
    pub last_error: Option<Arc<TunnelError>>,
}

/// A node's tunnel: `connections` connections to the gateway, each redialled with
/// backoff when it fails. Dropping it closes them all.
#[derive(Debug)]
pub struct TunnelClient {
    status: watch::Receiver<ClientStatus>,
    _connections: JoinSet<()>,
}

impl TunnelClient {
    /// Starts dialling (on the current tokio runtime). Streams go to `connector`.
    pub fn start<C: Connector>(config: TunnelClientConfig, connector: C) -> TunnelClient {
        let mut tls = (*config.tls).clone();
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let (status, status_rx) = watch::channel(ClientStatus::default());
        let context = Arc::new(ClientContext {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
            connector: Arc::new(connector),
            status,
            config,
        });
        let mut connections = JoinSet::new();
        for _ in 0..context.config.connections {
            connections.spawn(keep_connected(context.clone()));
        }
        TunnelClient {
            status: status_rx,
            _connections: connections,
        }
    }

    /// The connections' state; the receiver sees every change.
    pub fn status(&self) -> watch::Receiver<ClientStatus> {
        self.status.clone()
    }
}

struct ClientContext<C> {
    tls: tokio_rustls::TlsConnector,
    connector: Arc<C>,
    status: watch::Sender<ClientStatus>,
    config: TunnelClientConfig,
}

/// A connection that stayed up this long counts as healthy: the next failure starts the
/// delays from the beginning again. Shorter ones keep growing them, so a gateway that
/// admits and then drops a node is not hammered.
const HEALTHY_AFTER: Duration = Duration::from_secs(1);

/// Buffer sizes of the splice between a stream and its local connection.
const SPLICE_BUFFER: usize = 64 * 1024;

/// One of the node's connections, for the life of the client.
async fn keep_connected<C: Connector>(context: Arc<ClientContext<C>>) {
    let config = &context.config;
    let mut backoff = Backoff::new(config.backoff);
    loop {
        let started = Instant::now();
        let error = match tokio::time::timeout(config.handshake_timeout, dial(&context)).await {
            Ok(Ok(h2)) => {
                tracing::info!(gateway = %config.gateway, node = %config.node_id, "tunnel connected");
                context.status.send_modify(|status| status.connected += 1);
                let error = serve(h2, &context).await;
                context
                    .status
                    .send_modify(|status| status.connected = status.connected.saturating_sub(1));
                if started.elapsed() >= HEALTHY_AFTER {
                    backoff.reset();
                }
                error
            }
            Ok(Err(error)) => error,
            Err(_) => TunnelError::TimedOut {
                during: "connecting to the gateway",
            },
        };
        tracing::warn!(gateway = %config.gateway, node = %config.node_id, %error, "tunnel connection failed");
        context
            .status
            .send_modify(|status| status.last_error = Some(Arc::new(error)));
        tokio::time::sleep(backoff.next_delay(rand::random::<f64>())).await;
    }
}

/// TCP, TLS, the hello, and the HTTP/2 server preface.
async fn dial<C>(
    context: &ClientContext<C>,
) -> Result<h2::server::Connection<Batched<TlsStream<TcpStream>>, Bytes>, TunnelError> {
    let config = &context.config;
    let tcp = TcpStream::connect(&config.gateway).await?;
    let _ = tcp.set_nodelay(true);
    let mut tls = context.tls.connect(config.server_name.clone(), tcp).await?;
    let hello = Hello {
        version: hello::VERSION,
        node_id: config.node_id.clone(),
        token: config.token.clone(),
    };
    hello::write(&mut tls, &hello).await?;
    let reply: Reply = hello::read(&mut tls).await.map_err(|error| match error {
        FrameError::Io(error) => TunnelError::Io(error),
        other => TunnelError::Protocol(other.to_string()),
    })?;
    if !reply.ok {
        return Err(TunnelError::Refused {
            reason: reply
                .reason
                .unwrap_or_else(|| "refused without a reason".to_owned()),
        });
    }
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(config.max_concurrent_streams)
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW);
    Ok(builder.handshake(Batched(tls)).await?)
}

/// Accepts streams until the connection fails; returns why it ended.
async fn serve<C: Connector>(
    mut h2: h2::server::Connection<Batched<TlsStream<TcpStream>>, Bytes>,
    context: &ClientContext<C>,
) -> TunnelError {
    let config = &context.config;
    let keepalive = keepalive(
        h2.ping_pong(),
        config.keepalive_interval,
        config.keepalive_timeout,
    );
    tokio::pin!(keepalive);
    // The streams of this connection end with it: they cannot outlive their transport.
    let mut streams = JoinSet::new();
    loop {
        tokio::select! {
            accepted = h2.accept() => match accepted {
                Some(Ok((request, respond))) => {
                    streams.spawn(serve_stream(request, respond, context.connector.clone()));
                }
                Some(Err(error)) => return TunnelError::Http2(error),
                None => {
                    return TunnelError::Io(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "the gateway closed the connection",
                    ));
                }
            },
            error = &mut keepalive => return error,
            Some(_) = streams.join_next(), if !streams.is_empty() => {}
        }
    }
}

/// One stream: connect to the listener it names, answer, and carry it until both
/// directions have ended.
async fn serve_stream<C: Connector>(
    request: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    connector: Arc<C>,
) {
    let Some(target) = target_of(&request) else {
        answer(
            &mut respond,
            StatusCode::BAD_REQUEST,
            "missing or malformed causeway-nlb or causeway-port",
        );
        return;
    };
    let local = match connector.connect(&target).await {
        Ok(local) => local,
        Err(ConnectError::NotServed) => {
            let reason = format!("this node does not serve load balancer {}", target.nlb);
            answer(&mut respond, StatusCode::FORBIDDEN, &reason);
            return;
        }
        Err(ConnectError::Unreachable(error)) => {
            answer(&mut respond, StatusCode::BAD_GATEWAY, &error.to_string());
            return;
        }
    };
    let send = match respond.send_response(Response::new(()), false) {
        Ok(send) => send,
        Err(error) => {
            tracing::debug!(%error, "tunnel stream gone before it was answered");
            return;
        }
    };
    let tunnel = TunnelStream::new(send, request.into_body(), None);
    connector.serve(target, local, tunnel).await;
}

fn target_of(request: &Request<RecvStream>) -> Option<Target> {
    let header = |name| request.headers().get(name)?.to_str().ok();
    Some(Target {
        nlb: header(NLB_HEADER)?.to_owned(),
        port: header(PORT_HEADER)?.parse().ok()?,
    })
}

/// Refuses a stream with a status and a reason header.
fn answer(respond: &mut SendResponse<Bytes>, status: StatusCode, reason: &str) {
    // Header values are visible ASCII; a reason from an io::Error may not be.
    let printable: String = reason
        .chars()
        .take(256)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    let mut response = Response::new(());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&printable) {
        response.headers_mut().insert(REASON_HEADER, value);
    }
    if let Err(error) = respond.send_response(response, true) {
        tracing::debug!(%error, "tunnel stream gone before it was refused");
    }
}
