//! The data path: accepting on a listener, choosing a target, and moving bytes both ways
//! until either side closes, the connection idles out, or the target's drain ends it.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

use crate::EngineConfig;
use crate::group::Group;
use crate::proxy_protocol;
use crate::tls::Termination;

/// How a listener's connections arrive: TLS it terminates, or bytes it passes on as they are.
pub(crate) type Tls = Arc<ArcSwapOption<Termination>>;

/// Binds a listening socket (with `SO_REUSEADDR`, so a restart can rebind at once, and
/// `SO_REUSEPORT` when asked).
pub fn bind(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if reuse_port {
        socket.set_reuseport(true)?;
    }
    // Accepted sockets inherit TCP_NODELAY from the listener (Linux copies the listener's
    // options to each connection it accepts): no `setsockopt` per connection.
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Accepts connections until the task is aborted, each served in a task of its own.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    route: Arc<ArcSwapOption<Group>>,
    tls: Tls,
    idle: Arc<AtomicU64>,
    config: EngineConfig,
) {
    // Listeners bind a specific address, so every accepted connection's local address is the
    // listener's: no `getsockname` per connection.
    let Ok(local) = listener.local_addr() else {
        tracing::error!("listener has no local address; not accepting");
        return;
    };
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let route = route.clone();
                let config = EngineConfig {
                    idle_timeout: Duration::from_millis(idle.load(Ordering::Relaxed)),
                    ..config
                };
                let termination = tls.load_full();
                tokio::spawn(async move {
                    let served = match termination {
                        None => serve_socket(stream, peer, local, &route, &config).await,
                        Some(termination) => {
                            serve_terminated(stream, peer, local, &route, &termination, &config)
                                .await
                        }
                    };
                    if let Err(error) = served {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                });
            }
            // The listener was shut down (it is being removed): this task is aborted next.
            Err(error) if error.kind() == io::ErrorKind::InvalidInput => return,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// The flow hash of a connection (`protocol` 6) or UDP flow (17): the same 5-tuple always
/// picks the same target.
pub(crate) fn flow_hash(peer: SocketAddr, local: SocketAddr, protocol: u8) -> u64 {
    let mut hasher = DefaultHasher::new();
    (peer, local, protocol).hash(&mut hasher);
    hasher.finish()
}

/// Opens the backend side of a connection from `peer` to the listener at `local`: picks a
/// target of the group by the flow hash (the next one when a connection is refused, which
/// also marks that target unhealthy), connects, and sends the PROXY protocol header when
/// the group asks for it. `None` when the listener has no target group, or the target no
/// address: the load balancer then closes the client connection.
/// A connection to a target: the target, the socket, and whether its group is a TLS one.
type Opened = (Arc<crate::group::Member>, TcpStream, bool);

async fn open_target(
    peer: SocketAddr,
    local: SocketAddr,
    route: &ArcSwapOption<Group>,
    config: &EngineConfig,
) -> io::Result<Option<Opened>> {
    let Some(group) = route.load_full() else {
        // No target group behind this listener: close, as an NLB resets the connection.
        return Ok(None);
    };
    let hash = flow_hash(peer, local, 6);
    let mut attempt = 0;
    let (member, mut upstream) = loop {
        let Some((member, _)) = group.pick(hash, attempt) else {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "no target could be reached",
            ));
        };
        let Some(addr) = member.addr else {
            return Ok(None);
        };
        match tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => break (member, stream),
            Ok(Err(error)) => {
                member.passive_failure(&error);
                attempt += 1;
            }
            Err(_) => attempt += 1,
        }
    };
    upstream.set_nodelay(true)?;
    let settings = group.settings.load();
    if settings.proxy_protocol_v2 {
        upstream
            .write_all(&proxy_protocol::header(peer, local))
            .await?;
    }
    Ok(Some((member, upstream, settings.tls)))
}

/// Forwards one connection accepted on the listener to a target of the listener's group,
/// until both sides close, the connection idles out, or the target's drain ends it.
pub async fn serve_socket(
    mut client: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    route: &ArcSwapOption<Group>,
    config: &EngineConfig,
) -> io::Result<()> {
    let Some((member, mut upstream, _)) = open_target(peer, local, route, config).await? else {
        return Ok(());
    };
    let activity = Activity::new();
    let copy = crate::pump::both(&mut client, &mut upstream, &activity);
    watch_over(copy, &member, &activity, peer, config).await
}

/// Serves a connection to a listener that terminates TLS: the handshake with the
/// listener's certificate, then the decrypted bytes to a target (in TLS again for a TLS
/// target group).
pub(crate) async fn serve_terminated<S: AsyncRead + AsyncWrite + Unpin>(
    client: S,
    peer: SocketAddr,
    local: SocketAddr,
    route: &ArcSwapOption<Group>,
    termination: &Termination,
    config: &EngineConfig,
) -> io::Result<()> {
    let client = tokio::time::timeout(
        crate::tls::HANDSHAKE_TIMEOUT,
        termination.acceptor.accept(client),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
    let Some(opened) = open_target(peer, local, route, config).await? else {
        return Ok(());
    };
    relay(client, opened, peer, config, true).await
}

/// Forwards one client connection (any byte stream handed to the load balancer, such as a
/// tunnel's) to a target of the listener's group, until either side closes, the connection
/// idles out, or the target's drain ends it.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    client: S,
    peer: SocketAddr,
    local: SocketAddr,
    route: &ArcSwapOption<Group>,
    config: &EngineConfig,
) -> io::Result<()> {
    let Some(opened) = open_target(peer, local, route, config).await? else {
        return Ok(());
    };
    relay(client, opened, peer, config, false).await
}

/// Moves bytes between a client stream and the target opened for it; `terminated` says the
/// listener took TLS off the client's bytes, so that a TLS target group's target gets them
/// in TLS again.
async fn relay<S: AsyncRead + AsyncWrite + Unpin>(
    client: S,
    (member, upstream, target_tls): Opened,
    peer: SocketAddr,
    config: &EngineConfig,
    terminated: bool,
) -> io::Result<()> {
    if terminated && target_tls {
        let connector = crate::tls::to_targets()
            .ok_or_else(|| io::Error::other("no TLS client for the target group's targets"))?;
        let name = tokio_rustls::rustls::pki_types::ServerName::IpAddress(
            upstream.peer_addr()?.ip().into(),
        );
        let upstream = tokio::time::timeout(
            crate::tls::HANDSHAKE_TIMEOUT,
            connector.connect(name, upstream),
        )
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                "TLS handshake with the target timed out",
            )
        })??;
        return copy_both(client, upstream, &member, peer, config).await;
    }
    copy_both(client, upstream, &member, peer, config).await
}

/// Copies both ways until either side closes, under the idle timeout and the target's drain.
async fn copy_both<A, B>(
    client: A,
    upstream: B,
    member: &crate::group::Member,
    peer: SocketAddr,
    config: &EngineConfig,
) -> io::Result<()>
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let activity = Activity::new();
    let mut a = Tracked {
        inner: client,
        activity: &activity,
        read_eof: false,
    };
    let mut b = Tracked {
        inner: upstream,
        activity: &activity,
        read_eof: false,
    };
    let copy = async {
        tokio::io::copy_bidirectional_with_sizes(
            &mut a,
            &mut b,
            crate::pump::BUFFER,
            crate::pump::BUFFER,
        )
        .await
        .map(drop)
    };
    watch_over(copy, member, &activity, peer, config).await
}

/// Runs a connection's copy until it ends, the connection idles out, or the target's
/// deregistration delay ends with connection termination on.
async fn watch_over(
    copy: impl std::future::Future<Output = io::Result<()>>,
    member: &crate::group::Member,
    activity: &Activity,
    peer: SocketAddr,
    config: &EngineConfig,
) -> io::Result<()> {
    let mut terminated = member.terminated();
    tokio::select! {
        result = copy => result?,
        () = activity.idle(config.idle_timeout) => {
            tracing::debug!(%peer, "closing idle connection");
        }
        () = until_terminated(&mut terminated) => {
            tracing::debug!(%peer, "closing connection at the end of its target's deregistration delay");
        }
    }
    Ok(())
}

/// When a connection last moved a byte, for its idle timeout.
pub(crate) struct Activity {
    epoch: Instant,
    /// Milliseconds from `epoch` to the last read that returned bytes.
    last: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            epoch: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// Notes that bytes moved now.
    pub(crate) fn touch(&self) {
        self.last
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// How long nothing has moved.
    pub(crate) fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }

    /// Resolves once nothing has moved for `timeout`.
    async fn idle(&self, timeout: Duration) {
        loop {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            let since = self.epoch.elapsed().saturating_sub(last);
            if since >= timeout {
                return;
            }
            tokio::time::sleep(timeout - since).await;
        }
    }
}

/// Opens a [`Flow`]: a connection through the listener at `local` that its caller, in the
/// same process, drives itself.
pub(crate) async fn open_flow(
    peer: SocketAddr,
    local: SocketAddr,
    route: &ArcSwapOption<Group>,
    termination: Option<Arc<Termination>>,
    config: &EngineConfig,
) -> io::Result<Flow> {
    let Some(opened) = open_target(peer, local, route, config).await? else {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "the load balancer closed the connection (no target behind the listener)",
        ));
    };
    match termination {
        None => {
            let (member, upstream, _) = opened;
            let mut terminated = member.terminated();
            Ok(Flow {
                upstream: FlowStream::Target(upstream),
                terminated: Box::pin(async move { until_terminated(&mut terminated).await }),
                ended: false,
            })
        }
        // A listener that terminates TLS: the client's TLS ends at the listener's
        // certificate, in a task of the load balancer's own, as for a socket it accepted.
        Some(termination) => {
            let (near, far) = tokio::io::duplex(crate::pump::BUFFER);
            let config = *config;
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(
                    crate::tls::HANDSHAKE_TIMEOUT,
                    termination.acceptor.accept(far),
                )
                .await;
                let served = match handshake {
                    Ok(Ok(client)) => relay(client, opened, peer, &config, true).await,
                    Ok(Err(error)) => Err(error),
                    Err(_) => Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "TLS handshake timed out",
                    )),
                };
                if let Err(error) = served {
                    tracing::debug!(%peer, %error, "flow ended with an error");
                }
            });
            Ok(Flow {
                upstream: FlowStream::Terminated(near),
                // The load balancer's task ends the flow at the end of the target's drain.
                terminated: Box::pin(std::future::pending()),
                ended: false,
            })
        }
    }
}

/// Where a [`Flow`]'s bytes go: the target's socket, or the load balancer's task that
/// terminates the listener's TLS.
#[derive(Debug)]
enum FlowStream {
    Target(TcpStream),
    Terminated(tokio::io::DuplexStream),
}

/// A connection through a load balancer whose client lives in the same process (the
/// gateway's VPC links): the load balancer chose the target, connected, sent the PROXY
/// protocol header, and ends the flow when the target's deregistration delay ends; the
/// bytes then go straight between the client and the target's socket.
///
/// This is what [`serve`] does for a socket accepted on the listener, without the
/// listener's socket pair and the copy between them: the same target choice, health,
/// PROXY protocol and draining. The idle timeout (350 s) is the client's to keep: the
/// gateway closes idle backend connections well before that.
pub struct Flow {
    upstream: FlowStream,
    terminated: Pin<Box<dyn std::future::Future<Output = ()> + Send + Sync>>,
    ended: bool,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("upstream", &self.upstream)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Flow {
    /// Fails once the target's deregistration delay has ended.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.ended && self.terminated.as_mut().poll(cx).is_ready() {
            self.ended = true;
            tracing::debug!("closing flow at the end of its target's deregistration delay");
        }
        if self.ended {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the target's deregistration delay ended",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for Flow {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        match &mut this.upstream {
            FlowStream::Target(s) => Pin::new(s).poll_read(cx, buf),
            FlowStream::Terminated(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Flow {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        match &mut this.upstream {
            FlowStream::Target(s) => Pin::new(s).poll_write(cx, buf),
            FlowStream::Terminated(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        match &mut this.upstream {
            FlowStream::Target(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            FlowStream::Terminated(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.upstream {
            FlowStream::Target(s) => s.is_write_vectored(),
            FlowStream::Terminated(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().upstream {
            FlowStream::Target(s) => Pin::new(s).poll_flush(cx),
            FlowStream::Terminated(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().upstream {
            FlowStream::Target(s) => Pin::new(s).poll_shutdown(cx),
            FlowStream::Terminated(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

pub(crate) async fn until_terminated(receiver: &mut watch::Receiver<bool>) {
    loop {
        if *receiver.borrow_and_update() {
            return;
        }
        if receiver.changed().await.is_err() {
            // The target is gone without a termination order: never resolve.
            std::future::pending::<()>().await;
        }
    }
}

/// A stream that notes when it last read a byte, for the idle timeout, and whether its own
/// reading has ended.
struct Tracked<'a, S> {
    inner: S,
    activity: &'a Activity,
    /// This side has sent its FIN (a read returned end of file).
    read_eof: bool,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<'_, S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) {
            if buf.filled().len() > before {
                this.activity.touch();
            } else if buf.remaining() > 0 {
                this.read_eof = true;
            }
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<'_, S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Half-close is forwarded while this side may still send. Once it has sent its own
        // FIN, both directions are over and the close that follows sends ours: a
        // `shutdown` call here would only cost a system call per connection.
        if this.read_eof {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_connections_inherit_nodelay_from_the_listener() -> io::Result<()> {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)), false)?;
        let client = TcpStream::connect(listener.local_addr()?).await?;
        let (accepted, _) = listener.accept().await?;
        assert!(accepted.nodelay()?);
        drop(client);
        Ok(())
    }
}
