//! The gateway's side: the link listener that nodes dial ([`TunnelServer`]) and the
//! [`Registry`] of their live connections, through which the gateway opens streams.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use h2::client::SendRequest;
use http::{Method, Request, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::rustls;
use tokio_rustls::server::TlsStream;

use super::Batched;
use super::hello::{self, FrameError, Hello, Reply};
use super::stream::{LoadGuard, TunnelStream};
use super::{
    ALPN, CONNECTION_WINDOW, NLB_HEADER, PORT_HEADER, REASON_HEADER, STREAM_URI, STREAM_WINDOW,
    TunnelError, keepalive,
};

/// Decides which nodes may connect and which load balancers each may serve. The control
/// plane implements it over the node credentials it issued (stored hashed).
///
/// `admit` runs on the listener's task during the handshake, so it must be quick: a
/// lookup and a hash comparison, no I/O.
pub trait NodeAuthority: Send + Sync + 'static {
    /// Checks a node's credential.
    fn admit(&self, node_id: &str, token: &str) -> Result<Admission, Refusal>;
}

/// What an admitted node may serve.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Admission {
    /// The ids (ARNs) of the load balancers whose streams may go to this node.
    pub nlbs: Vec<String>,
}

/// Why a node was not admitted. The reason is sent to the node, so it should help an
/// operator without telling a stranger which part of the credential was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Sent to the node in the hello's reply.
    pub reason: String,
}

/// Limits of the link listener.
#[derive(Clone, Debug)]
pub struct TunnelServerConfig {
    /// How long a peer has to finish TLS and its hello (5 s).
    pub hello_timeout: Duration,
    /// How many peers may be in TLS or hello at once; more are dropped at accept (128).
    pub max_pending_handshakes: usize,
    /// How many connections one node may hold at once (8).
    pub max_connections_per_node: usize,
    /// The gateway's own keepalive: a PING every this often (10 s; zero turns it off) ...
    pub keepalive_interval: Duration,
    /// ... whose pong must come back within this (5 s), or the connection is dropped.
    pub keepalive_timeout: Duration,
}

impl Default for TunnelServerConfig {
    fn default() -> Self {
        TunnelServerConfig {
            hello_timeout: Duration::from_secs(5),
            max_pending_handshakes: 128,
            max_connections_per_node: 8,
            keepalive_interval: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(5),
        }
    }
}

/// How many connections `open` tries before giving up, when connections fail under it
/// (a node restarting, a connection that died and is not yet removed).
const OPEN_ATTEMPTS: usize = 3;

/// The gateway's link listener: accepts node connections, authenticates them, and puts
/// them in the [`Registry`]. Dropping it (or [`TunnelServer::shutdown`]) closes the
/// listener and every node connection it accepted.
pub struct TunnelServer {
    local_addr: SocketAddr,
    registry: Registry,
    task: JoinHandle<()>,
}

impl TunnelServer {
    /// Starts accepting nodes on `listener`. `tls` is the listener's certificate and key;
    /// its ALPN list is replaced by [`ALPN`]. Connections are registered in `registry`,
    /// which may outlive the server (and serve a new one after a restart).
    pub fn start(
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        authority: Arc<dyn NodeAuthority>,
        registry: Registry,
        config: TunnelServerConfig,
    ) -> std::io::Result<TunnelServer> {
        let local_addr = listener.local_addr()?;
        let mut tls = (*tls).clone();
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let context = Arc::new(Context {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(tls)),
            authority,
            registry: registry.clone(),
            handshakes: Arc::new(Semaphore::new(config.max_pending_handshakes)),
            config,
        });
        let task = tokio::spawn(accept_loop(listener, context));
        Ok(TunnelServer {
            local_addr,
            registry,
            task,
        })
    }

    /// The address nodes dial.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The registry this server adds connections to.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Closes the listener and every node connection, and waits until they are gone (so
    /// the port can be bound again).
    pub async fn shutdown(mut self) {
        self.task.abort();
        // The task was aborted: the result says only that.
        let _ = (&mut self.task).await;
    }
}

impl Drop for TunnelServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for TunnelServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TunnelServer")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// The live node connections, by load balancer. Cheap to clone; clones share one
/// registry. The gateway calls [`Registry::open`] per backend connection: it reads an
/// immutable snapshot of the routes, swapped in whole when a node comes or goes, so
/// opening a stream takes no lock.
#[derive(Clone)]
pub struct Registry {
    shared: Arc<Shared>,
}

struct Shared {
    /// What `open` reads: the connections of each load balancer.
    routes: ArcSwap<Routes>,
    /// What changes them (rarely: a node connects, leaves or is revoked).
    book: Mutex<Book>,
    /// The load balancers with at least one live connection.
    connected: watch::Sender<Arc<BTreeSet<String>>>,
    /// Rotates the starting point of the least-loaded choice, so ties go round-robin.
    next: AtomicUsize,
    open_timeout: Duration,
}

type Routes = HashMap<String, Vec<Arc<Connection>>>;

#[derive(Default)]
struct Book {
    connections: BTreeMap<u64, Arc<Connection>>,
    /// How many times each node was revoked: a connection admitted before a revocation
    /// but registered after it is refused (see `serve_node`).
    revocations: HashMap<String, u64>,
    next_id: u64,
}

struct Connection {
    id: u64,
    node_id: String,
    nlbs: Vec<String>,
    peer: SocketAddr,
    send: SendRequest<Bytes>,
    /// Streams open on this connection.
    load: Arc<AtomicUsize>,
    /// Tells the connection's task to drop the connection.
    close: Notify,
}

/// One live node connection, as [`Registry::connections`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The node that holds the connection.
    pub node_id: String,
    /// The load balancers it was admitted for.
    pub nlbs: Vec<String>,
    /// Where the connection comes from.
    pub peer: SocketAddr,
    /// Streams open on it now.
    pub open_streams: usize,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// An empty registry whose `open` waits up to 10 s for a node to answer.
    pub fn new() -> Registry {
        Registry::with_open_timeout(Duration::from_secs(10))
    }

    /// An empty registry whose `open` waits up to `open_timeout` for the node to connect
    /// to the listener and answer.
    pub fn with_open_timeout(open_timeout: Duration) -> Registry {
        let (connected, _) = watch::channel(Arc::new(BTreeSet::new()));
        Registry {
            shared: Arc::new(Shared {
                routes: ArcSwap::from_pointee(Routes::new()),
                book: Mutex::new(Book::default()),
                connected,
                next: AtomicUsize::new(0),
                open_timeout,
            }),
        }
    }

    /// Opens a stream to listener `port` of load balancer `nlb` through one of the
    /// connections of a node admitted for it: the least loaded, ties in turn. Returns once
    /// the node has connected to the listener.
    pub async fn open(&self, nlb: &str, port: u16) -> Result<TunnelStream, TunnelError> {
        self.open_among(None, nlb, port).await
    }

    /// Like [`Registry::open`], through a connection of one node only (for what each node
    /// serving a load balancer must receive, such as its plan).
    pub async fn open_via(
        &self,
        node_id: &str,
        nlb: &str,
        port: u16,
    ) -> Result<TunnelStream, TunnelError> {
        self.open_among(Some(node_id), nlb, port).await
    }

    async fn open_among(
        &self,
        node_id: Option<&str>,
        nlb: &str,
        port: u16,
    ) -> Result<TunnelStream, TunnelError> {
        let mut tried = Vec::new();
        let mut last_error = None;
        while tried.len() < OPEN_ATTEMPTS {
            let Some(connection) = self.pick(node_id, nlb, &tried) else {
                break;
            };
            tried.push(connection.id);
            let attempt = open_on(&connection, nlb, port);
            match tokio::time::timeout(self.shared.open_timeout, attempt).await {
                Ok(Ok(stream)) => return Ok(stream),
                Ok(Err(Attempt::Final(error))) => return Err(error),
                Ok(Err(Attempt::Retry(error))) => {
                    tracing::debug!(nlb, node = %connection.node_id, %error, "tunnel stream failed; trying another connection");
                    last_error = Some(error);
                }
                Err(_) => {
                    return Err(TunnelError::TimedOut {
                        during: "opening a tunnel stream",
                    });
                }
            }
        }
        Err(last_error.unwrap_or_else(|| TunnelError::NoNode {
            nlb: nlb.to_owned(),
        }))
    }

    /// Whether a node serving `nlb` is connected (a VPC link through the tunnel is
    /// available while it is).
    pub fn is_connected(&self, nlb: &str) -> bool {
        self.shared
            .routes
            .load()
            .get(nlb)
            .is_some_and(|connections| !connections.is_empty())
    }

    /// The set of load balancers with a connected node; the receiver sees every change.
    pub fn watch_connected(&self) -> watch::Receiver<Arc<BTreeSet<String>>> {
        self.shared.connected.subscribe()
    }

    /// Drops every connection of `node_id` at once; `open` stops choosing them before this
    /// returns. Returns how many there were. The [`NodeAuthority`] must refuse the node's
    /// credential from now on, or the node simply reconnects.
    pub fn revoke(&self, node_id: &str) -> usize {
        let dropped: Vec<Arc<Connection>> = {
            let mut book = self.book();
            *book.revocations.entry(node_id.to_owned()).or_default() += 1;
            let ids: Vec<u64> = book
                .connections
                .values()
                .filter(|connection| connection.node_id == node_id)
                .map(|connection| connection.id)
                .collect();
            let dropped = ids
                .iter()
                .filter_map(|id| book.connections.remove(id))
                .collect();
            self.publish(&book);
            dropped
        };
        for connection in &dropped {
            // A stored permit: the task sees it even if it is not waiting yet.
            connection.close.notify_one();
        }
        if !dropped.is_empty() {
            tracing::info!(node = node_id, connections = dropped.len(), "node revoked");
        }
        dropped.len()
    }

    /// The live connections.
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        self.book()
            .connections
            .values()
            .map(|connection| ConnectionInfo {
                node_id: connection.node_id.clone(),
                nlbs: connection.nlbs.clone(),
                peer: connection.peer,
                open_streams: connection.load.load(Ordering::Relaxed),
            })
            .collect()
    }

    fn pick(&self, node_id: Option<&str>, nlb: &str, skip: &[u64]) -> Option<Arc<Connection>> {
        let routes = self.shared.routes.load();
        let connections = routes.get(nlb)?;
        let count = connections.len();
        let start = self.shared.next.fetch_add(1, Ordering::Relaxed);
        // `min_by_key` keeps the first of equals, and the first rotates with `start`.
        (0..count)
            .map(|i| &connections[(start + i) % count])
            .filter(|connection| !skip.contains(&connection.id))
            .filter(|connection| node_id.is_none_or(|id| connection.node_id == id))
            .min_by_key(|connection| connection.load.load(Ordering::Relaxed))
            .cloned()
    }

    fn revocations(&self, node_id: &str) -> u64 {
        self.book().revocations.get(node_id).copied().unwrap_or(0)
    }

    fn connections_of(&self, node_id: &str) -> usize {
        self.book()
            .connections
            .values()
            .filter(|connection| connection.node_id == node_id)
            .count()
    }

    /// Adds a connection, unless its node was revoked since it was admitted.
    fn register(&self, connection: Connection, revocations: u64) -> Option<Registration> {
        let connection = Arc::new(connection);
        let mut book = self.book();
        let now = book
            .revocations
            .get(&connection.node_id)
            .copied()
            .unwrap_or(0);
        if now != revocations {
            return None;
        }
        book.connections.insert(connection.id, connection.clone());
        self.publish(&book);
        Some(Registration {
            registry: self.clone(),
            connection,
        })
    }

    fn next_id(&self) -> u64 {
        let mut book = self.book();
        book.next_id += 1;
        book.next_id
    }

    fn deregister(&self, id: u64) {
        let mut book = self.book();
        if book.connections.remove(&id).is_some() {
            self.publish(&book);
        }
    }

    /// Rebuilds the routes from the book and tells watchers if the set of connected load
    /// balancers changed. Called with the book locked, so snapshots follow its order.
    fn publish(&self, book: &Book) {
        let mut routes = Routes::new();
        for connection in book.connections.values() {
            for nlb in &connection.nlbs {
                routes
                    .entry(nlb.clone())
                    .or_default()
                    .push(connection.clone());
            }
        }
        let connected: BTreeSet<String> = routes.keys().cloned().collect();
        self.shared.routes.store(Arc::new(routes));
        self.shared.connected.send_if_modified(|current| {
            if **current == connected {
                false
            } else {
                *current = Arc::new(connected);
                true
            }
        });
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        // The book is consistent after every statement that changes it, so a panic
        // elsewhere while it was held leaves nothing half-done.
        self.shared
            .book
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("connected", &*self.shared.connected.borrow())
            .finish_non_exhaustive()
    }
}

/// A registered connection; dropping it (the connection's task ended, or was aborted)
/// removes it from the registry.
struct Registration {
    registry: Registry,
    connection: Arc<Connection>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.deregister(self.connection.id);
    }
}

/// How one attempt of `open` failed: for good, or in a way another connection may not.
enum Attempt {
    Final(TunnelError),
    Retry(TunnelError),
}

async fn open_on(connection: &Connection, nlb: &str, port: u16) -> Result<TunnelStream, Attempt> {
    let load = LoadGuard::new(connection.load.clone());
    let request = Request::builder()
        .method(Method::POST)
        .uri(STREAM_URI)
        .header(NLB_HEADER, nlb)
        .header(PORT_HEADER, port)
        .body(())
        .map_err(|error| {
            Attempt::Final(TunnelError::Protocol(format!(
                "cannot name load balancer {nlb:?} in a request: {error}"
            )))
        })?;
    // Nothing has reached the backend before the node's answer, so failures up to it
    // can be tried again on another connection.
    let retry = |error: h2::Error| Attempt::Retry(TunnelError::Http2(error));
    let mut send = connection.send.clone().ready().await.map_err(retry)?;
    let (response, body) = send.send_request(request, false).map_err(retry)?;
    let response = response.await.map_err(retry)?;
    let reason = || {
        response
            .headers()
            .get(REASON_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("no reason given")
            .to_owned()
    };
    match response.status() {
        StatusCode::OK => Ok(TunnelStream::new(body, response.into_body(), Some(load))),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
            Err(Attempt::Final(TunnelError::Refused { reason: reason() }))
        }
        StatusCode::BAD_GATEWAY => Err(Attempt::Final(TunnelError::Unreachable {
            nlb: nlb.to_owned(),
            port,
            reason: reason(),
        })),
        status => Err(Attempt::Final(TunnelError::Protocol(format!(
            "the node answered {status}: {}",
            reason()
        )))),
    }
}

struct Context {
    acceptor: tokio_rustls::TlsAcceptor,
    authority: Arc<dyn NodeAuthority>,
    registry: Registry,
    handshakes: Arc<Semaphore>,
    config: TunnelServerConfig,
}

async fn accept_loop(listener: TcpListener, context: Arc<Context>) {
    // Owning the connections' tasks here means aborting this task ends them all.
    let mut nodes = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    // Peers still in TLS or hello are bounded: past the limit a new one
                    // is closed at once rather than queued behind slow ones.
                    let Ok(permit) = context.handshakes.clone().try_acquire_owned() else {
                        // Debug, not warn: a flood of peers must not flood the log too.
                        tracing::debug!(%peer, "too many tunnel handshakes in progress; connection dropped");
                        continue;
                    };
                    nodes.spawn(serve_node(tcp, peer, permit, context.clone()));
                }
                Err(error) => {
                    // Typically out of file descriptors: wait for some to be freed rather
                    // than spin.
                    tracing::warn!(%error, "link listener accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = nodes.join_next(), if !nodes.is_empty() => {}
        }
    }
}

/// A node that passed TLS and its hello.
struct Admitted<S> {
    tls: S,
    node_id: String,
    nlbs: Vec<String>,
    revocations: u64,
}

async fn serve_node(
    tcp: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
    context: Arc<Context>,
) {
    // Small frames (pings, window updates, short requests) must not wait for Nagle.
    let _ = tcp.set_nodelay(true);
    let handshake = handshake(tcp, &context);
    let admitted = match tokio::time::timeout(context.config.hello_timeout, handshake).await {
        Ok(Ok(admitted)) => admitted,
        Ok(Err(error)) => {
            tracing::info!(%peer, %error, "tunnel peer not admitted");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "tunnel peer dropped: no hello in time");
            return;
        }
    };
    drop(permit);

    let mut builder = h2::client::Builder::new();
    builder
        .enable_push(false)
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW);
    let (send, mut h2) = match builder.handshake::<_, Bytes>(Batched(admitted.tls)).await {
        Ok(pair) => pair,
        Err(error) => {
            tracing::info!(%peer, %error, "tunnel HTTP/2 handshake failed");
            return;
        }
    };
    let ping_pong = h2.ping_pong();
    let connection = Connection {
        id: context.registry.next_id(),
        node_id: admitted.node_id,
        nlbs: admitted.nlbs,
        peer,
        send,
        load: Arc::new(AtomicUsize::new(0)),
        close: Notify::new(),
    };
    let Some(registration) = context.registry.register(connection, admitted.revocations) else {
        tracing::info!(%peer, "tunnel node revoked during its handshake");
        return;
    };
    let connection = &registration.connection;
    tracing::info!(%peer, node = %connection.node_id, nlbs = ?connection.nlbs, "tunnel node connected");
    let keepalive = keepalive(
        ping_pong,
        context.config.keepalive_interval,
        context.config.keepalive_timeout,
    );
    let end = tokio::select! {
        result = &mut h2 => result.err().map(TunnelError::Http2),
        () = connection.close.notified() => None,
        error = keepalive => Some(error),
    };
    match end {
        Some(error) => {
            tracing::info!(%peer, node = %connection.node_id, %error, "tunnel node connection lost")
        }
        None => tracing::info!(%peer, node = %connection.node_id, "tunnel node disconnected"),
    }
    // Dropping the registration removes the connection; dropping `h2` closes it.
}

/// TLS, then the hello, then the authority's decision; the reply is sent either way.
async fn handshake(
    tcp: TcpStream,
    context: &Context,
) -> Result<Admitted<TlsStream<TcpStream>>, TunnelError> {
    let mut tls = context.acceptor.accept(tcp).await?;
    let hello: Hello = match hello::read(&mut tls).await {
        Ok(hello) => hello,
        Err(FrameError::Io(error)) => return Err(TunnelError::Io(error)),
        Err(error) => return Err(refuse(&mut tls, error.to_string()).await),
    };
    if hello.version != hello::VERSION {
        let reason = format!("unsupported tunnel version {}", hello.version);
        return Err(refuse(&mut tls, reason).await);
    }
    // Read before asking the authority, so a revocation that lands in between is seen at
    // registration even though the authority said yes.
    let revocations = context.registry.revocations(&hello.node_id);
    let admission = match context.authority.admit(&hello.node_id, &hello.token) {
        Ok(admission) => admission,
        Err(refusal) => return Err(refuse(&mut tls, refusal.reason).await),
    };
    if context.registry.connections_of(&hello.node_id) >= context.config.max_connections_per_node {
        let reason = format!(
            "node {} already has {} connections",
            hello.node_id, context.config.max_connections_per_node
        );
        return Err(refuse(&mut tls, reason).await);
    }
    hello::write(&mut tls, &Reply::accepted()).await?;
    Ok(Admitted {
        tls,
        node_id: hello.node_id,
        nlbs: admission.nlbs,
        revocations,
    })
}

/// Tells the peer why, closes, and returns the refusal as an error for the log.
async fn refuse<S>(tls: &mut S, reason: String) -> TunnelError
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Best effort: the peer may already be gone, and the connection is closed regardless.
    let _ = hello::write(tls, &Reply::refused(reason.clone())).await;
    let _ = tls.shutdown().await;
    TunnelError::Refused { reason }
}
