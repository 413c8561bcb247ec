//! [`TunnelStream`]: one HTTP/2 stream of a tunnel connection seen as a byte stream.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use h2::{Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most handed to HTTP/2 in one write. It bounds both the copy made of the caller's
/// buffer and the send capacity asked for at once.
const MAX_WRITE: usize = 64 * 1024;

/// One backend connection carried by a tunnel: bytes written go to the node, which writes
/// them to the load balancer's listener; bytes the listener sends come back to be read.
///
/// `poll_shutdown` ends the write side only (HTTP/2 `END_STREAM`), like a TCP half-close:
/// the far end reads EOF and can still answer. Dropping the stream before both directions
/// have ended resets it, as closing a socket with unread data does.
pub struct TunnelStream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// Received data that the reader has not taken yet (at most one DATA frame).
    pending: Bytes,
    read_done: bool,
    write_done: bool,
    _load: Option<LoadGuard>,
}

impl TunnelStream {
    pub(crate) fn new(
        send: SendStream<Bytes>,
        recv: RecvStream,
        load: Option<LoadGuard>,
    ) -> TunnelStream {
        TunnelStream {
            send,
            recv,
            pending: Bytes::new(),
            read_done: false,
            write_done: false,
            _load: load,
        }
    }

    /// The error that ended the send side: the reason of a reset, or the connection's
    /// error. Only called once the stream can no longer send.
    fn poll_send_error(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        Poll::Ready(match ready!(self.send.poll_reset(cx)) {
            Ok(reason) => reset_error(reason),
            Err(error) => h2_to_io(error),
        })
    }
}

impl fmt::Debug for TunnelStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TunnelStream")
            .field("stream_id", &self.send.stream_id().as_u32())
            .field("read_done", &self.read_done)
            .field("write_done", &self.write_done)
            .finish_non_exhaustive()
    }
}

impl AsyncRead for TunnelStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.pending.is_empty() {
                let n = this.pending.len().min(buf.remaining());
                buf.put_slice(&this.pending.split_to(n));
                return Poll::Ready(Ok(()));
            }
            if this.read_done || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            match ready!(this.recv.poll_data(cx)) {
                None => this.read_done = true,
                Some(Ok(data)) => {
                    // Hand the window back as soon as a frame arrives: this side holds at
                    // most one frame, so what the peer may have in flight stays bounded by
                    // the window we advertise plus that frame.
                    if let Err(error) = this.recv.flow_control().release_capacity(data.len()) {
                        return Poll::Ready(Err(h2_to_io(error)));
                    }
                    this.pending = data;
                }
                Some(Err(error)) => return Poll::Ready(Err(h2_to_io(error))),
            }
        }
    }
}

impl AsyncWrite for TunnelStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.write_done {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown of the tunnel stream",
            )));
        }
        let wanted = buf.len().min(MAX_WRITE);
        // Ask for exactly what this write needs; h2 assigns it from the stream's and the
        // connection's windows as the peer's WINDOW_UPDATEs arrive.
        this.send.reserve_capacity(wanted);
        let mut granted = this.send.capacity();
        if granted == 0 {
            // `poll_capacity` only reports increases, so capacity already assigned is
            // taken above and this waits only when there is none.
            granted = match ready!(this.send.poll_capacity(cx)) {
                Some(Ok(granted)) => granted,
                Some(Err(error)) => return Poll::Ready(Err(h2_to_io(error))),
                None => return this.poll_send_error(cx).map(Err),
            };
        }
        let n = granted.min(wanted);
        match this
            .send
            .send_data(Bytes::copy_from_slice(&buf[..n]), false)
        {
            Ok(()) => Poll::Ready(Ok(n)),
            Err(_) => this.poll_send_error(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Data handed to h2 is written out by the connection's task; there is nothing
        // buffered here to push.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.write_done {
            return Poll::Ready(Ok(()));
        }
        match this.send.send_data(Bytes::new(), true) {
            Ok(()) => {
                this.write_done = true;
                Poll::Ready(Ok(()))
            }
            Err(_) => match ready!(this.send.poll_reset(cx)) {
                // The peer finished and asked us to stop sending: our side is over too.
                Ok(Reason::NO_ERROR) => {
                    this.write_done = true;
                    Poll::Ready(Ok(()))
                }
                Ok(reason) => Poll::Ready(Err(reset_error(reason))),
                Err(error) => Poll::Ready(Err(h2_to_io(error))),
            },
        }
    }
}

/// Counts a stream against its connection's load while it lives.
#[derive(Debug)]
pub(crate) struct LoadGuard(Arc<AtomicUsize>);

impl LoadGuard {
    pub(crate) fn new(load: Arc<AtomicUsize>) -> LoadGuard {
        load.fetch_add(1, Ordering::Relaxed);
        LoadGuard(load)
    }
}

impl Drop for LoadGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn reset_error(reason: Reason) -> io::Error {
    let kind = match reason {
        Reason::NO_ERROR | Reason::CANCEL | Reason::STREAM_CLOSED => io::ErrorKind::BrokenPipe,
        _ => io::ErrorKind::ConnectionReset,
    };
    io::Error::new(kind, format!("tunnel stream reset: {reason}"))
}

/// An h2 error as the `io::Error` that `AsyncRead`/`AsyncWrite` callers expect: the
/// underlying I/O error when there is one, a reset as `ConnectionReset`.
pub(crate) fn h2_to_io(error: h2::Error) -> io::Error {
    if error.is_io() {
        return error
            .into_io()
            .unwrap_or_else(|| io::Error::other("tunnel connection failed"));
    }
    let kind = if error.is_reset() || error.is_go_away() {
        io::ErrorKind::ConnectionReset
    } else {
        io::ErrorKind::Other
    };
    io::Error::new(kind, error)
}
