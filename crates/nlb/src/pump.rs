//! The copy loop between a client socket accepted on a listener and its target's socket.
//!
//! `tokio::io::copy_bidirectional` moves bytes between any two streams (the load balancer
//! still uses it for streams that arrive through a tunnel). This loop is made for two TCP
//! sockets, and for what a load balancer that moves many short connections pays for:
//! - **The FIN rides with the last bytes.** When the sender's FIN arrived before its last
//!   bytes were read (the socket's readiness says its read side is closed, and the read did
//!   not fill the buffer), those bytes go out with `MSG_MORE` and the FIN right after them,
//!   so the kernel sends both in one segment and the receiver acknowledges both at once.
//!   A connection that ends with a response then costs two segments fewer, and the read
//!   that would only have found the end of the stream is never made.
//! - **No buffer while idle.** A direction holds its buffer only while bytes are in flight;
//!   an idle connection costs its sockets and its task.
//! - **No zeroed buffers.** Reads go into a buffer's uninitialised capacity.
//! - **Bulk transfers stay in the kernel.** Once a read fills the buffer, the direction
//!   moves the rest with `splice(2)` through a pipe of its own (Linux), as HAProxy's
//!   `splice-auto` does: the pages go from one socket to the other without being copied
//!   into this process and back. Short exchanges never pay for the pipe.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};

use crate::proxy::Activity;

/// Size of a direction's buffer while bytes are in flight (and of each direction's buffer
/// for streams that arrive through a tunnel): large enough for typical request and
/// response bodies in a few reads.
pub(crate) const BUFFER: usize = 8 * 1024;

/// `send(2)` flag that holds the bytes back for what follows (here: the FIN).
#[cfg(any(target_os = "linux", target_os = "android"))]
const MSG_MORE: libc::c_int = libc::MSG_MORE;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const MSG_MORE: libc::c_int = 0;

/// Moves bytes both ways between `client` and `target` until both have sent their FIN,
/// forwarding each FIN (half-close) as it comes.
pub(crate) async fn both(
    client: &mut TcpStream,
    target: &mut TcpStream,
    activity: &Activity,
) -> io::Result<()> {
    let client_done = AtomicBool::new(false);
    let target_done = AtomicBool::new(false);
    let (client_read, client_write) = client.split();
    let (target_read, target_write) = target.split();
    tokio::try_join!(
        one_way(
            client_read,
            target_write,
            &client_done,
            &target_done,
            activity
        ),
        one_way(
            target_read,
            client_write,
            &target_done,
            &client_done,
            activity
        ),
    )?;
    Ok(())
}

/// Moves bytes from `from` to `to` until `from` sends its FIN, then forwards the FIN.
/// `from_done` and `to_done` say which sides have sent theirs.
async fn one_way(
    mut from: ReadHalf<'_>,
    mut to: WriteHalf<'_>,
    from_done: &AtomicBool,
    to_done: &AtomicBool,
    activity: &Activity,
) -> io::Result<()> {
    loop {
        // Wait without a buffer: an idle direction holds none.
        let ready = from.ready(Interest::READABLE).await?;
        let mut buffer = Vec::with_capacity(BUFFER);
        if from.read_buf(&mut buffer).await? == 0 {
            break;
        }
        activity.touch();
        // Readiness only ever learns of the FIN once it has arrived, and bytes never come
        // after a FIN: a short read after it took everything the sender will send.
        if ready.is_read_closed() && buffer.len() < buffer.capacity() {
            send_with_more(&to, &buffer).await?;
            break;
        }
        to.write_all(&buffer).await?;
        #[cfg(target_os = "linux")]
        if buffer.len() == buffer.capacity() {
            // A full buffer means a bulk transfer: the rest moves through a pipe, in the
            // kernel, without a copy into this process and back.
            drop(buffer);
            if splice::rest(&from, &to, activity).await? {
                break;
            }
        }
    }
    from_done.store(true, Ordering::Release);
    // Half-close is forwarded while the other side may still send. Once it has sent its
    // own FIN, both directions are over and the close that follows sends ours (and pushes
    // any bytes held back for it): a `shutdown` call would only cost a system call.
    if !to_done.load(Ordering::Acquire) {
        to.shutdown().await?;
    }
    Ok(())
}

/// Writes all of `bytes` with `MSG_MORE`, so that the kernel holds them back until the FIN
/// that follows, and sends both in one segment.
async fn send_with_more(to: &WriteHalf<'_>, mut bytes: &[u8]) -> io::Result<()> {
    let socket: &TcpStream = to.as_ref();
    while !bytes.is_empty() {
        to.writable().await?;
        match socket.try_io(Interest::WRITABLE, || {
            socket2::SockRef::from(socket).send_with_flags(bytes, MSG_MORE)
        }) {
            Ok(sent) => bytes = &bytes[sent..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")]
mod splice {
    use std::io;

    use rustix::pipe::{PipeFlags, SpliceFlags, pipe_with, splice};
    use tokio::io::Interest;
    use tokio::net::TcpStream;
    use tokio::net::tcp::{ReadHalf, WriteHalf};

    use crate::proxy::Activity;

    /// Bytes asked of each `splice` from the socket: a pipe's default capacity.
    const CHUNK: usize = 64 * 1024;

    const FLAGS: SpliceFlags = SpliceFlags::MOVE.union(SpliceFlags::NONBLOCK);

    /// Moves bytes from `from` to `to` through a pipe until `from` sends its FIN.
    /// `Ok(false)` when no pipe could be made (out of descriptors): the caller goes on
    /// copying through its buffer.
    pub(super) async fn rest(
        from: &ReadHalf<'_>,
        to: &WriteHalf<'_>,
        activity: &Activity,
    ) -> io::Result<bool> {
        let Ok((pipe_out, pipe_in)) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK) else {
            return Ok(false);
        };
        let source: &TcpStream = from.as_ref();
        let sink: &TcpStream = to.as_ref();
        loop {
            from.ready(Interest::READABLE).await?;
            // The pipe is empty here (everything it took went on), so `EAGAIN` can only
            // mean that the socket has nothing to read: `try_io` then clears its readiness.
            let moved = match source.try_io(Interest::READABLE, || {
                splice(source, None, &pipe_in, None, CHUNK, FLAGS).map_err(io::Error::from)
            }) {
                Ok(0) => return Ok(true),
                Ok(moved) => moved,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(error),
            };
            activity.touch();
            let mut left = moved;
            while left > 0 {
                match sink.try_io(Interest::WRITABLE, || {
                    splice(&pipe_out, None, sink, None, left, FLAGS).map_err(io::Error::from)
                }) {
                    Ok(0) => {
                        return Err(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the pipe gave nothing to send",
                        ));
                    }
                    Ok(sent) => left -= sent,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        to.writable().await?;
                    }
                    Err(error) => return Err(error),
                }
            }
        }
    }
}
