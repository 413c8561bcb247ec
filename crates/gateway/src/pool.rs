//! Kept-alive HTTP/1.1 connections to backends, by where they go.
//!
//! hyper does the protocol (`hyper::client::conn::http1`); this module only keeps the
//! connections between requests. hyper-util's pooled client did that job before, at about
//! 8,800 instructions per proxied request (callgrind, `docs/benchmarks.md`): it hashes the
//! pool key with SipHash byte by byte at checkout and again at check-in, and boxes and moves
//! large futures on the way. Here a connection is looked up by the dial authority with
//! foldhash, taken out for one request, and put back when its response body has ended.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;

type Sender = SendRequest<Full<Bytes>>;

/// Idle connections of one kind (plain, TLS verified, TLS unverified), by dial authority.
#[derive(Debug)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<Arc<str>, Waiting, foldhash::fast::RandomState>>,
    /// How long a connection may wait unused before it is closed.
    idle_timeout: Duration,
    /// How many connections per authority wait at most.
    max_idle: usize,
}

/// The connections waiting for one authority, with the key they are filed under (handed to
/// each response body, so that checking in allocates nothing).
#[derive(Debug)]
struct Waiting {
    key: Arc<str>,
    idle: Vec<Idle>,
}

#[derive(Debug)]
struct Idle {
    sender: Sender,
    since: Instant,
}

impl Pool {
    /// A pool whose connections close after `idle_timeout` unused. Within a Tokio runtime, a
    /// task sweeps the pool every half timeout (until the pool is dropped), so that
    /// connections to a backend that gets no more requests do not stay open.
    pub(crate) fn new(idle_timeout: Duration, max_idle: usize) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            idle: Mutex::new(HashMap::default()),
            idle_timeout,
            max_idle,
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&pool);
            let every = (idle_timeout / 2).max(Duration::from_millis(1));
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let Some(pool) = weak.upgrade() else {
                        return;
                    };
                    pool.sweep();
                }
            });
        }
        pool
    }

    /// Closes the connections that waited past the idle timeout or that their backend
    /// closed (dropping a connection's sender ends its connection task, which closes it).
    fn sweep(&self) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        idle.retain(|_, waiting| {
            waiting
                .idle
                .retain(|c| !c.sender.is_closed() && c.since.elapsed() < self.idle_timeout);
            !waiting.idle.is_empty()
        });
    }

    /// Connections waiting, over all authorities.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.idle
            .lock()
            .map(|idle| idle.values().map(|w| w.idle.len()).sum())
            .unwrap_or(0)
    }

    /// The most recently used open connection to `authority`, if one waits (its key comes
    /// with it), else the key to file a new connection under.
    pub(crate) fn take(&self, authority: &str) -> (Arc<str>, Option<Sender>) {
        let Ok(mut idle) = self.idle.lock() else {
            return (Arc::from(authority), None);
        };
        let Some(waiting) = idle.get_mut(authority) else {
            return (Arc::from(authority), None);
        };
        let key = waiting.key.clone();
        while let Some(connection) = waiting.idle.pop() {
            if !connection.sender.is_closed() && connection.since.elapsed() < self.idle_timeout {
                return (key, Some(connection.sender));
            }
        }
        (key, None)
    }

    /// Files a connection whose last response has ended, for the next request to `key`.
    fn put(&self, key: Arc<str>, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        let waiting = idle.entry(key.clone()).or_insert_with(|| Waiting {
            key,
            idle: Vec::new(),
        });
        // The oldest wait at the front: drop the ones past the idle timeout.
        let expired = waiting
            .idle
            .iter()
            .take_while(|c| c.since.elapsed() >= self.idle_timeout)
            .count();
        waiting.idle.drain(..expired);
        if waiting.idle.len() < self.max_idle {
            waiting.idle.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }
}

/// A backend response's body. When it has been read to its end, its connection goes back
/// to the pool; dropped before that, the connection closes with it.
#[derive(Debug)]
pub struct PooledBody {
    inner: Incoming,
    keep: Option<(Arc<Pool>, Arc<str>, Sender)>,
}

impl PooledBody {
    pub(crate) fn new(inner: Incoming, pool: Arc<Pool>, key: Arc<str>, sender: Sender) -> Self {
        let mut body = PooledBody {
            inner,
            keep: Some((pool, key, sender)),
        };
        if body.inner.is_end_stream() {
            body.check_in();
        }
        body
    }

    fn check_in(&mut self) {
        if let Some((pool, key, sender)) = self.keep.take() {
            pool.put(key, sender);
        }
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        // Read to its end without a last poll: the connection is still good.
        if self.inner.is_end_stream() {
            self.check_in();
        }
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.check_in(),
            Poll::Ready(Some(Err(_))) => this.keep = None,
            // hyper's server stops polling once a body says it has ended.
            Poll::Ready(Some(Ok(_))) if this.inner.is_end_stream() => this.check_in(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A kept connection to a backend (one end of an in-memory pipe standing for the
    /// socket) that has answered one request, and the backend's end of it.
    async fn answered(
        pool: &Arc<Pool>,
    ) -> Result<tokio::io::DuplexStream, Box<dyn std::error::Error>> {
        let (ours, mut theirs) = tokio::io::duplex(4096);
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(ours)).await?;
        tokio::spawn(connection);
        let request = http::Request::builder()
            .uri("/")
            .header("host", "backend")
            .body(Full::new(Bytes::new()))?;
        let (response, _) = tokio::join!(sender.send_request(request), async {
            let mut head = [0u8; 1024];
            let _ = theirs.read(&mut head).await;
            let _ = theirs
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await;
        });
        let (key, _) = pool.take("backend:80");
        let body = PooledBody::new(response?.into_body(), pool.clone(), key, sender);
        assert_eq!(body.collect().await?.to_bytes(), "ok");
        Ok(theirs)
    }

    #[tokio::test]
    async fn a_connection_goes_back_when_its_body_ends_and_closes_when_idle_too_long()
    -> Result<(), Box<dyn std::error::Error>> {
        let pool = Pool::new(Duration::from_millis(200), 8);
        let mut backend = answered(&pool).await?;
        assert_eq!(
            pool.waiting(),
            1,
            "the connection waits for the next request"
        );
        // Nobody asks for it: the sweep closes it, and the backend sees the end.
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(2), backend.read_to_end(&mut rest)).await??;
        assert_eq!(pool.waiting(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn a_waiting_connection_serves_the_next_request() -> Result<(), Box<dyn std::error::Error>>
    {
        let pool = Pool::new(Duration::from_secs(60), 8);
        let _backend = answered(&pool).await?;
        let (_, kept) = pool.take("backend:80");
        assert!(kept.is_some_and(|sender| !sender.is_closed()));
        assert_eq!(pool.waiting(), 0, "taken out while it serves a request");
        Ok(())
    }
}
