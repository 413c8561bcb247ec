//! The *tunnel* transport of VPC links: the load balancer's node dials out to the
//! gateway, so the private network needs no inbound port.
//!
//! # Protocol
//!
//! 1. The node opens TCP to the gateway's link listener and starts TLS as the client
//!    (ALPN [`ALPN`]); it checks the gateway's certificate against the roots it was given.
//! 2. The node sends a hello with its id and credential; the gateway answers before
//!    anything else happens, and closes on a refusal (see `hello.rs`). The gateway bounds
//!    this step in time and size, so a silent or hostile peer holds nothing for long.
//! 3. HTTP/2 runs on the same TLS stream with the roles reversed: the gateway is the
//!    HTTP/2 *client* (it opens streams) and the node the *server* (it accepts them, at
//!    most `max_concurrent_streams` at once per connection). Pushes are off, so a node can
//!    open nothing.
//! 4. One stream per backend connection: a `POST` whose headers name the load balancer
//!    (`causeway-nlb`) and the listener port (`causeway-port`). The node answers `200` once
//!    it has connected to that listener, `403` when it does not serve that load balancer,
//!    `502` when the listener could not be reached (`causeway-reason` says why). After a
//!    `200`, the request body carries bytes to the backend and the response body bytes
//!    back; `END_STREAM` is a half-close.
//! 5. Both sides send HTTP/2 PINGs and drop a connection whose pong is late.
//!
//! The node keeps several such connections (two by default) and redials each with
//! backoff and jitter; the gateway spreads new streams over a load balancer's connections
//! by their number of open streams.
//!
//! [`TunnelServer`] and [`Registry`] are the gateway's side, [`TunnelClient`] the node's.

mod backoff;
mod client;
mod hello;
mod server;
mod stream;

use std::time::Duration;

use h2::{Ping, PingPong};

pub use backoff::BackoffPolicy;
pub use client::{ClientStatus, ConnectError, Connector, TunnelClient, TunnelClientConfig};
pub use hello::MAX_HELLO_BYTES;
pub use server::{
    Admission, ConnectionInfo, NodeAuthority, Refusal, Registry, TunnelServer, TunnelServerConfig,
};
pub use stream::TunnelStream;

/// The TLS application protocol of tunnel connections. Both sides set it, so that a TLS
/// client that is not a Causeway node fails the handshake instead of reaching the hello.
pub const ALPN: &[u8] = b"causeway-tunnel/1";

/// The request header naming the load balancer a stream is for.
const NLB_HEADER: &str = "causeway-nlb";
/// The request header naming the listener port a stream is for.
const PORT_HEADER: &str = "causeway-port";
/// The response header that says why a node refused a stream.
const REASON_HEADER: &str = "causeway-reason";
/// The request uri of every stream (HTTP/2 needs one; the headers carry the target).
const STREAM_URI: &str = "http://tunnel.invalid/stream";

/// HTTP/2 flow-control window of each stream, both ways: how much one side may send
/// before the other reads. Enough for tens of MB/s per stream across a WAN round trip.
const STREAM_WINDOW: u32 = 512 * 1024;

/// HTTP/2 flow-control window of each connection. Data received but not yet read counts
/// against it as well as against its stream's window, so a connection window smaller
/// than the sum of its streams' windows lets a few stalled readers (clients that stop
/// reading their responses) freeze every other stream of the connection. This one covers
/// the default 256 streams at full windows; memory is only used by data actually sent.
const CONNECTION_WINDOW: u32 = 256 * STREAM_WINDOW;

/// Where a tunnel stream goes: a listener of a load balancer that the node serves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// The load balancer's id (its ARN).
    pub nlb: String,
    /// The listener port.
    pub port: u16,
}

/// What can go wrong in the tunnel. Each variant tells the gateway which AWS 5xx answer
/// to give; [`TunnelError::is_retryable`] tells whether trying again at once may help.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    /// No node serving this load balancer is connected.
    #[error("no node is connected for load balancer {nlb}")]
    NoNode {
        /// The load balancer asked for.
        nlb: String,
    },
    /// The other side refused: the gateway refused the node's hello, or the node refused
    /// a stream for a load balancer it does not serve.
    #[error("refused: {reason}")]
    Refused {
        /// The other side's words.
        reason: String,
    },
    /// The node serves the load balancer but could not connect to the listener.
    #[error("the node could not reach listener {port} of {nlb}: {reason}")]
    Unreachable {
        /// The load balancer asked for.
        nlb: String,
        /// The listener port asked for.
        port: u16,
        /// Why the node could not connect, in its words.
        reason: String,
    },
    /// A step did not finish in time.
    #[error("timed out {during}")]
    TimedOut {
        /// The step, as a phrase: "opening a tunnel stream".
        during: &'static str,
    },
    /// The connection failed (TCP or TLS).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The HTTP/2 layer failed: a reset, a GOAWAY, a broken connection.
    #[error("HTTP/2: {0}")]
    Http2(#[from] h2::Error),
    /// The peer does not speak the tunnel protocol as this side does.
    #[error("tunnel protocol: {0}")]
    Protocol(String),
}

impl TunnelError {
    /// Whether trying again right away (on another connection, or after a reconnect) may
    /// succeed. Refusals and unreachable listeners are answers, not accidents.
    pub fn is_retryable(&self) -> bool {
        match self {
            TunnelError::NoNode { .. }
            | TunnelError::TimedOut { .. }
            | TunnelError::Io(_)
            | TunnelError::Http2(_) => true,
            TunnelError::Refused { .. }
            | TunnelError::Unreachable { .. }
            | TunnelError::Protocol(_) => false,
        }
    }
}

/// Pings the peer every `interval` and returns when a pong takes longer than `timeout`
/// (or the connection fails): the caller then drops the connection. A zero interval
/// turns keepalives off. The connection itself must be driven concurrently, since that
/// is what reads the pong.
async fn keepalive(
    ping_pong: Option<PingPong>,
    interval: Duration,
    timeout: Duration,
) -> TunnelError {
    let Some(mut ping_pong) = ping_pong.filter(|_| !interval.is_zero()) else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(interval).await;
        match tokio::time::timeout(timeout, ping_pong.ping(Ping::opaque())).await {
            Ok(Ok(_pong)) => {}
            Ok(Err(error)) => return TunnelError::Http2(error),
            Err(_) => {
                return TunnelError::TimedOut {
                    during: "waiting for a keepalive pong",
                };
            }
        }
    }
}

/// A tunnel connection's TLS stream as HTTP/2 sees it: the same stream, except that it does
/// not offer vectored writes.
///
/// h2 copies a DATA payload into its write buffer only below a threshold (256 bytes with
/// vectored writes, 1 KiB without); a larger payload is written on its own, and TLS turns
/// every write into a record and a system call. A proxied HTTP request is often just over
/// 256 bytes, so with vectored writes each request crossed the tunnel in its own write;
/// without them, the frames of many streams go out together in one record and one call.
#[derive(Debug)]
pub(crate) struct Batched<T>(pub(crate) T);

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Batched<T> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Batched<T> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::AsyncWrite;

    /// A writer that offers vectored writes, as a TLS stream does.
    struct Vectored;

    impl AsyncWrite for Vectored {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
    }

    #[test]
    fn batched_streams_do_not_offer_vectored_writes() {
        // h2 batches payloads under 1 KiB only for writers without vectored writes.
        assert!(Vectored.is_write_vectored());
        assert!(!super::Batched(Vectored).is_write_vectored());
    }
}
