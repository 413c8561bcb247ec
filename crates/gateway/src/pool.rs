//! Kept-alive HTTP/1.1 connections to backends, by where they go, and the response bodies
//! that hand them back.
//!
//! A connection ([`crate::conn::Connection`]) is looked up by the dial authority with
//! foldhash, taken out for one request, and put back when its response body has ended.
//! hyper-util's pooled client did this job before, at about 8,800 instructions per proxied
//! request (callgrind, `docs/benchmarks.md`): it hashes the pool key with SipHash byte by
//! byte at checkout and again at check-in, and boxes and moves large futures on the way.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use causeway_http1::{ChunkedDecoder, Framing};
use hyper::body::{Body, Frame, SizeHint};

use crate::conn::{Connection, Head};

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
    connection: Connection,
    /// When its wait reaches the idle timeout.
    expires: Instant,
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
    /// closed.
    fn sweep(&self) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        idle.retain(|_, waiting| {
            waiting
                .idle
                .retain_mut(|c| Instant::now() < c.expires && c.connection.is_open());
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

    /// The most recently used open connection to `authority`, if one waits and has waited
    /// less than the idle timeout at `now` (its key comes with it), else the key to file a
    /// new connection under.
    pub(crate) fn take(&self, authority: &str, now: Instant) -> (Arc<str>, Option<Connection>) {
        let Ok(mut idle) = self.idle.lock() else {
            return (Arc::from(authority), None);
        };
        let Some(waiting) = idle.get_mut(authority) else {
            return (Arc::from(authority), None);
        };
        let key = waiting.key.clone();
        // The most recent first. When it waited past the idle timeout, so did every other
        // (they wait in the order they came back): all close, as the sweep would have closed
        // them, and the backend may be about to. One the backend closed is dropped here.
        while let Some(mut kept) = waiting.idle.pop() {
            if now >= kept.expires {
                waiting.idle.clear();
                break;
            }
            if kept.connection.is_open() {
                return (key, Some(kept.connection));
            }
        }
        (key, None)
    }

    /// Files a connection whose last response has ended (at `now`), for the next request
    /// to `key`.
    fn put(&self, key: Arc<str>, connection: Connection, now: Instant) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        let waiting = idle.entry(key.clone()).or_insert_with(|| Waiting {
            key,
            idle: Vec::new(),
        });
        // The oldest wait at the front: drop the ones past the idle timeout.
        let expired = waiting.idle.iter().take_while(|c| now >= c.expires).count();
        waiting.idle.drain(..expired);
        if waiting.idle.len() < self.max_idle {
            waiting.idle.push(Idle {
                connection,
                // Comparing instants is cheaper than measuring a wait at every checkout.
                expires: now.checked_add(self.idle_timeout).unwrap_or(now),
            });
        }
    }
}

/// A backend response's body. When it has been read to its end, its connection goes back
/// to the pool; dropped before that, the connection closes with it. A body that arrived
/// whole with its head is handed on as it is, and its connection is back in the pool
/// before the answer goes out.
///
/// Its state lives behind one box: a response is moved a dozen times on its way up through
/// the pipeline's layers, and a few hundred bytes of body state made each move a `memcpy`
/// call (3-4% of the gateway's CPU time per proxied request, in profiles).
#[derive(Debug)]
pub struct PooledBody(Box<Inner>);

#[derive(Debug)]
struct Inner {
    state: State,
    /// The backend's headers as they came, for an HTTP_PROXY client.
    raw: Option<crate::conn::RawHeaders>,
    /// Where the connection goes back to when the body has ended.
    home: Option<(Arc<Pool>, Arc<str>)>,
    /// When the integration's time is up: the rest of the body must have come by then.
    deadline: Option<tokio::time::Instant>,
}

/// Why a body could not be held whole.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BufferError {
    /// The body's length (declared, or read so far) is over the limit.
    #[error("the backend's answer is {0} bytes or more, over the limit")]
    TooLarge(u64),
    #[error("reading the backend's answer failed: {0}")]
    Read(io::Error),
}

#[derive(Debug)]
enum State {
    /// The whole body, in hand.
    Whole(Bytes),
    /// The body is still arriving on the connection.
    Reading {
        connection: Connection,
        framing: Reading,
        keep_alive: bool,
    },
    Done,
}

#[derive(Debug)]
enum Reading {
    /// Bytes left.
    Length(u64),
    Chunked(ChunkedDecoder),
    UntilClose,
}

impl PooledBody {
    /// The body that follows `head` on `connection`, which goes back to `pool` (filed under
    /// `key`) once the body has been read. `now` is a recent clock reading (when the
    /// request left): a body that came with its head puts the connection back as idle
    /// since then, a little early, without reading the clock again.
    pub(crate) fn new(
        mut connection: Connection,
        head: &mut Head,
        pool: Arc<Pool>,
        key: Arc<str>,
        now: Instant,
    ) -> Result<PooledBody, crate::conn::ExchangeError> {
        let home = Some((pool, key));
        let raw = head.raw.take();
        let reading = match head.framing {
            Framing::Empty => None,
            Framing::Length(length) if (connection.read.len() as u64) >= length => {
                let whole = connection.read.split_to(length as usize).freeze();
                let mut body = PooledBody::with(State::Whole(whole), raw, home);
                body.check_in(connection, head.keep_alive, now);
                return Ok(body);
            }
            Framing::Length(length) => Some(Reading::Length(length)),
            Framing::Chunked => Some(Reading::Chunked(ChunkedDecoder::new())),
            Framing::UntilClose => Some(Reading::UntilClose),
        };
        let mut body = PooledBody::with(State::Done, raw, home);
        match reading {
            None => body.check_in(connection, head.keep_alive, now),
            Some(framing) => {
                body.0.state = State::Reading {
                    connection,
                    framing,
                    keep_alive: head.keep_alive,
                };
            }
        }
        Ok(body)
    }

    fn with(
        state: State,
        raw: Option<crate::conn::RawHeaders>,
        home: Option<(Arc<Pool>, Arc<str>)>,
    ) -> PooledBody {
        PooledBody(Box::new(Inner {
            state,
            raw,
            home,
            deadline: None,
        }))
    }

    /// A body held whole, with no connection behind it.
    #[cfg(test)]
    pub(crate) fn whole(bytes: Bytes) -> PooledBody {
        PooledBody::with(State::Whole(bytes), None, None)
    }

    /// An answer the stage cache kept: whole, with the backend's headers as they came, and
    /// no connection behind it.
    pub(crate) fn kept(raw: crate::conn::RawHeaders, bytes: Bytes) -> PooledBody {
        PooledBody::with(State::Whole(bytes), Some(raw), None)
    }

    /// When the rest of the body must have come: the integration's timeout counts from
    /// when the request left, and covers the whole answer, as AWS's does.
    pub(crate) fn deadline(&self) -> Option<tokio::time::Instant> {
        match self.0.state {
            State::Reading { .. } => self.0.deadline,
            _ => None,
        }
    }

    pub(crate) fn set_deadline(&mut self, deadline: tokio::time::Instant) {
        self.0.deadline = Some(deadline);
    }

    /// The backend's headers as they came, when they go to the client without a map.
    pub(crate) fn raw_headers(&self) -> Option<&crate::conn::RawHeaders> {
        self.0.raw.as_ref()
    }

    /// Whether part of the body is still to come from the backend.
    pub(crate) fn is_reading(&self) -> bool {
        matches!(self.0.state, State::Reading { .. })
    }

    /// Reads the rest of the body into memory (an answer API Gateway buffers): afterwards it
    /// is whole, its length known, and the connection back in the pool. A body that says or
    /// turns out to be longer than `limit` bytes, or that cannot be read to its end, fails;
    /// its connection closes. The caller bounds the wait (the integration's deadline).
    pub(crate) async fn buffer(&mut self, limit: usize) -> Result<(), BufferError> {
        let declared = match &self.0.state {
            State::Reading {
                framing: Reading::Length(left),
                ..
            } => Some(*left),
            State::Reading { .. } => None,
            State::Whole(bytes) => Some(bytes.len() as u64),
            State::Done => return Ok(()),
        };
        if let Some(length) = declared
            && length > limit as u64
        {
            self.0.state = State::Done;
            return Err(BufferError::TooLarge(length));
        }
        if !self.is_reading() {
            return Ok(());
        }
        let mut whole = bytes::BytesMut::with_capacity(
            declared.map_or(crate::conn::READ_SIZE, |length| length as usize),
        );
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut *self).poll_frame(cx)).await
        {
            let Ok(data) = frame.map_err(BufferError::Read)?.into_data() else {
                continue;
            };
            if whole.len() + data.len() > limit {
                self.0.state = State::Done;
                return Err(BufferError::TooLarge((whole.len() + data.len()) as u64));
            }
            whole.extend_from_slice(&data);
        }
        self.0.state = State::Whole(whole.freeze());
        Ok(())
    }

    /// A copy of the whole body, when it is in hand.
    pub(crate) fn peek_whole(&self) -> Option<Bytes> {
        match &self.0.state {
            State::Whole(bytes) => Some(bytes.clone()),
            State::Done => Some(Bytes::new()),
            State::Reading { .. } => None,
        }
    }

    /// Puts `bytes` in place of a body in hand (its compressed form); the backend's headers
    /// stay. Does nothing to a body still arriving.
    pub(crate) fn replace_whole(&mut self, bytes: Bytes) {
        if !self.is_reading() {
            self.0.state = State::Whole(bytes);
        }
    }

    /// The whole body, when it is in hand (after [`PooledBody::buffer`]); empty once taken.
    pub(crate) fn take_whole(&mut self) -> Option<Bytes> {
        match std::mem::replace(&mut self.0.state, State::Done) {
            State::Whole(bytes) => Some(bytes),
            State::Done => Some(Bytes::new()),
            reading @ State::Reading { .. } => {
                self.0.state = reading;
                None
            }
        }
    }

    /// Puts the connection back, if the backend allows it and sent nothing past the body,
    /// as idle since `now`.
    fn check_in(&mut self, mut connection: Connection, keep_alive: bool, now: Instant) {
        if let Some((pool, key)) = self.0.home.take()
            && keep_alive
            && connection.read.is_empty()
        {
            connection.read.clear();
            pool.put(key, connection, now);
        }
    }

    /// Ends the body: the connection goes back when `reusable`.
    fn end(&mut self, reusable: bool) {
        if let State::Reading {
            connection,
            keep_alive,
            ..
        } = std::mem::replace(&mut self.0.state, State::Done)
            && reusable
        {
            self.check_in(connection, keep_alive, Instant::now());
        }
    }

    fn fail(&mut self, error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
        self.0.state = State::Done;
        io::Error::other(error)
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        loop {
            let (connection, framing) = match &mut this.0.state {
                State::Done => return Poll::Ready(None),
                State::Whole(_) => {
                    let State::Whole(bytes) = std::mem::replace(&mut this.0.state, State::Done)
                    else {
                        return Poll::Ready(None);
                    };
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                State::Reading {
                    connection,
                    framing,
                    ..
                } => (connection, framing),
            };
            let want = match framing {
                Reading::Length(left) => {
                    if !connection.read.is_empty() {
                        let take = (*left).min(connection.read.len() as u64) as usize;
                        let data = connection.read.split_to(take).freeze();
                        *left -= take as u64;
                        if *left == 0 {
                            this.end(true);
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    usize::try_from(*left).unwrap_or(usize::MAX)
                }
                Reading::Chunked(decoder) => {
                    if !connection.read.is_empty() {
                        let step = match decoder.decode(&connection.read) {
                            Ok(step) => step,
                            Err(error) => return Poll::Ready(Some(Err(this.fail(error)))),
                        };
                        connection.read.advance(step.skip);
                        if step.data > 0 {
                            let data = connection.read.split_to(step.data).freeze();
                            return Poll::Ready(Some(Ok(Frame::data(data))));
                        }
                        if step.done {
                            this.end(true);
                            return Poll::Ready(None);
                        }
                        if step.skip > 0 {
                            continue;
                        }
                    }
                    crate::conn::READ_SIZE
                }
                Reading::UntilClose => {
                    if !connection.read.is_empty() {
                        let data = connection.read.split().freeze();
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    crate::conn::READ_SIZE
                }
            };
            match connection.poll_fill(cx, want) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => {
                    if matches!(framing, Reading::UntilClose) {
                        this.end(false);
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(
                        this.fail("the backend closed the connection before the body ended")
                    )));
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(error)) => return Poll::Ready(Some(Err(this.fail(error)))),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0.state {
            State::Done => true,
            State::Whole(bytes) => bytes.is_empty(),
            State::Reading { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0.state {
            State::Done => SizeHint::with_exact(0),
            State::Whole(bytes) => SizeHint::with_exact(bytes.len() as u64),
            State::Reading {
                framing: Reading::Length(left),
                ..
            } => SizeHint::with_exact(*left),
            State::Reading { .. } => SizeHint::default(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::conn::remapped;
    use http::{HeaderName, Method};
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Sends `method` (a DELETE with the answer's headers remapped) over a new connection (one end of an in-memory pipe standing for the
    /// socket) whose backend answers with `answer`, in pieces of `piece` bytes; returns the
    /// response, what the backend received, and the backend's end.
    async fn ask(
        pool: &Arc<Pool>,
        method: Method,
        body: &'static [u8],
        answer: &'static [u8],
        piece: usize,
    ) -> (http::Response<PooledBody>, Vec<u8>, DuplexStream) {
        let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
        let mut connection = Connection::new(ours);
        let body = Bytes::from_static(body);
        let remap = method == Method::DELETE;
        let sending = connection.exchange(&method, "/x?y=1", b"host: backend\r\n", &body, remap);
        let backend = async {
            let mut received = vec![0u8; 4096];
            let n = theirs.read(&mut received).await.unwrap();
            received.truncate(n);
            for chunk in answer.chunks(piece) {
                theirs.write_all(chunk).await.unwrap();
                tokio::task::yield_now().await;
            }
            received
        };
        // The answer may come in pieces after the head: the body reads the rest.
        let (head, received) = tokio::join!(sending, backend);
        let mut head = head.unwrap();
        let body = PooledBody::new(
            connection,
            &mut head,
            pool.clone(),
            Arc::from("backend:80"),
            Instant::now(),
        )
        .unwrap();
        (
            http::Response::from_parts(head.parts, body),
            received,
            theirs,
        )
    }

    #[tokio::test]
    async fn a_connection_goes_back_when_its_body_ends_and_closes_when_idle_too_long() -> TestResult
    {
        let pool = Pool::new(Duration::from_millis(200), 8);
        let (response, _, mut backend) = ask(
            &pool,
            Method::GET,
            b"",
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
            1000,
        )
        .await;
        assert_eq!(response.into_body().collect().await?.to_bytes(), "ok");
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
    async fn a_waiting_connection_serves_the_next_request_unless_its_backend_closed_it()
    -> TestResult {
        let pool = Pool::new(Duration::from_secs(60), 8);
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        let (response, _, _backend) = ask(&pool, Method::GET, b"", answer, 1000).await;
        assert_eq!(response.into_body().collect().await?.to_bytes(), "ok");
        let (_, kept) = pool.take("backend:80", Instant::now());
        assert!(kept.is_some());
        assert_eq!(pool.waiting(), 0, "taken out while it serves a request");

        let (response, _, backend) = ask(&pool, Method::GET, b"", answer, 1000).await;
        response.into_body().collect().await?;
        assert_eq!(pool.waiting(), 1);
        drop(backend);
        let (_, kept) = pool.take("backend:80", Instant::now());
        assert!(
            kept.is_none(),
            "a connection its backend closed is not handed out"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_buffered_body_is_whole_with_its_length_and_over_the_limit_fails() -> TestResult {
        let pool = Pool::new(Duration::from_secs(60), 8);
        // Chunks that come one byte at a time: held whole, their length known, the
        // connection back in the pool.
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let (response, _, _backend) = ask(&pool, Method::GET, b"", chunked, 1).await;
        let mut body = response.into_body();
        assert!(body.is_reading());
        body.buffer(5).await?;
        assert!(!body.is_reading());
        assert_eq!(body.size_hint().exact(), Some(5));
        assert_eq!(pool.waiting(), 1);
        assert_eq!(body.take_whole(), Some(Bytes::from_static(b"abcde")));

        // A declared length over the limit fails before anything is read; the connection
        // is not kept.
        let long = b"HTTP/1.1 200 OK\r\ncontent-length: 6000\r\n\r\nabcdef";
        let (_, kept) = pool.take("backend:80", Instant::now());
        drop(kept);
        let (response, _, _backend) = ask(&pool, Method::GET, b"", long, 1).await;
        let mut body = response.into_body();
        assert!(matches!(
            body.buffer(5).await,
            Err(BufferError::TooLarge(6000))
        ));
        assert_eq!(pool.waiting(), 0);

        // Chunks that add up to more than the limit fail when they pass it.
        let (response, _, _backend) = ask(&pool, Method::GET, b"", chunked, 1).await;
        let mut body = response.into_body();
        assert!(matches!(
            body.buffer(4).await,
            Err(BufferError::TooLarge(5))
        ));
        assert_eq!(pool.waiting(), 0);

        // A body cut short by the backend fails to read.
        let cut = b"HTTP/1.1 200 OK\r\ncontent-length: 4000\r\n\r\nabc";
        let (response, _, backend) = ask(&pool, Method::GET, b"", cut, 1).await;
        drop(backend);
        let mut body = response.into_body();
        assert!(matches!(body.buffer(5000).await, Err(BufferError::Read(_))));
        Ok(())
    }

    #[tokio::test]
    async fn a_connection_that_waited_past_the_idle_timeout_is_not_handed_out() -> TestResult {
        // The sweep runs every half timeout: a minute leaves it out of this test.
        let pool = Pool::new(Duration::from_secs(60), 8);
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        let mut backends = Vec::new();
        for _ in 0..3 {
            let (response, _, backend) = ask(&pool, Method::GET, b"", answer, 1000).await;
            response.into_body().collect().await?;
            backends.push(backend);
        }
        assert_eq!(pool.waiting(), 3);
        let (_, kept) = pool.take("backend:80", Instant::now() + Duration::from_secs(59));
        assert!(kept.is_some(), "59 s of waiting is within the timeout");
        assert_eq!(pool.waiting(), 2);

        let (_, kept) = pool.take("backend:80", Instant::now() + Duration::from_secs(60));
        assert!(kept.is_none(), "a minute of waiting is past it");
        assert_eq!(pool.waiting(), 0, "the older connection closes with it");
        for backend in &mut backends[..2] {
            let mut rest = Vec::new();
            tokio::time::timeout(Duration::from_secs(2), backend.read_to_end(&mut rest)).await??;
        }
        Ok(())
    }

    #[tokio::test]
    async fn request_heads_say_the_length_of_content() {
        let pool = Pool::new(Duration::from_secs(60), 8);
        let answer = b"HTTP/1.1 204 No Content\r\n\r\n";
        let (_, received, _b) = ask(&pool, Method::GET, b"", answer, 1000).await;
        assert_eq!(received, b"GET /x?y=1 HTTP/1.1\r\nhost: backend\r\n\r\n");
        let (_, received, _b) = ask(&pool, Method::POST, b"", answer, 1000).await;
        assert_eq!(
            received,
            b"POST /x?y=1 HTTP/1.1\r\nhost: backend\r\ncontent-length: 0\r\n\r\n"
        );
        let (_, received, _b) = ask(&pool, Method::PUT, b"{}", answer, 1000).await;
        assert_eq!(
            received,
            b"PUT /x?y=1 HTTP/1.1\r\nhost: backend\r\ncontent-length: 2\r\n\r\n{}"
        );
    }

    #[tokio::test]
    async fn every_framing_gives_the_whole_body_and_reuse_follows_the_backend() -> TestResult {
        let cases: [(&[u8], &[u8], usize); 7] = [
            // Length, arriving in pieces after the head.
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world",
                b"hello world",
                1,
            ),
            // Chunked, in pieces, with an extension and a trailer.
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nx-t: 1\r\n\r\n",
                b"hello world",
                3,
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n",
                b"hello world",
                1000,
            ),
            // An interim answer first.
            (
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
                b"ok",
                1000,
            ),
            // No body.
            (b"HTTP/1.1 304 Not Modified\r\ncontent-length: 9\r\n\r\n", b"", 1000),
            // Not reused: the backend says close, or sends more than the body.
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                b"ok",
                1000,
            ),
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA",
                b"ok",
                1000,
            ),
        ];
        for (i, (answer, body, piece)) in cases.into_iter().enumerate() {
            let pool = Pool::new(Duration::from_secs(60), 8);
            let (response, _, _backend) = ask(&pool, Method::GET, b"", answer, piece).await;
            let got = response.into_body().collect().await?.to_bytes();
            assert_eq!(got, body, "case {i}");
            let reused = i < 5;
            assert_eq!(pool.waiting(), usize::from(reused), "case {i}");
        }
        // Until the close: the body ends with the connection, which is not kept.
        let pool = Pool::new(Duration::from_secs(60), 8);
        let (response, _, backend) = ask(
            &pool,
            Method::GET,
            b"",
            b"HTTP/1.1 200 OK\r\n\r\nall of it",
            2,
        )
        .await;
        drop(backend);
        assert_eq!(
            response.into_body().collect().await?.to_bytes(),
            "all of it"
        );
        assert_eq!(pool.waiting(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn cut_and_malformed_bodies_fail_and_close_their_connection() {
        for answer in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort"[..],
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        ] {
            let pool = Pool::new(Duration::from_secs(60), 8);
            let (response, _, backend) = ask(&pool, Method::GET, b"", answer, 1000).await;
            drop(backend);
            assert!(response.into_body().collect().await.is_err());
            assert_eq!(pool.waiting(), 0);
        }
    }

    #[tokio::test]
    async fn proxied_answers_carry_the_backends_headers_remapped() {
        let pool = Pool::new(Duration::from_secs(60), 8);
        let answer = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: today\r\nConnection: keep-alive\r\nX-Amzn-RequestId: theirs\r\nTransfer-Encoding: chunked\r\nX-Own: 1\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n";
        let (response, _, _b) = ask(&pool, Method::DELETE, b"", answer, 1000).await;
        assert!(
            response.headers().is_empty(),
            "the headers stay as they came"
        );
        let raw = response.body().raw_headers().unwrap().clone();
        assert!(raw.contains("x-own") && raw.contains("server") && !raw.contains("x-other"));
        let mut written = Vec::new();
        raw.write(&mut written);
        assert_eq!(
            String::from_utf8(written).unwrap(),
            "x-amzn-remapped-server: nginx\r\nx-amzn-remapped-date: today\r\n\
             x-amzn-remapped-connection: keep-alive\r\nx-amzn-remapped-x-amzn-requestid: theirs\r\n\
             X-Own: 1\r\nx-amzn-remapped-content-length: 2\r\n"
        );
        assert_eq!(
            response.into_body().collect().await.unwrap().to_bytes(),
            "ok"
        );
        // Not remapped: in a map, as the backend sent them.
        let (response, _, _b) = ask(&pool, Method::GET, b"", answer, 1000).await;
        assert!(response.body().raw_headers().is_none());
        assert_eq!(response.headers()["server"], "nginx");
        assert_eq!(response.headers()["transfer-encoding"], "chunked");
        assert_eq!(
            remapped(&HeaderName::from_static("date")),
            Some(Some(HeaderName::from_static("x-amzn-remapped-date")))
        );
        assert_eq!(remapped(&http::header::TRANSFER_ENCODING), Some(None));
        assert_eq!(remapped(&http::header::CONTENT_TYPE), None);
    }

    /// A proxied answer is moved a dozen times on its way up through the pipeline: it stays
    /// small enough (two cache lines) for those moves to be a few register stores rather
    /// than `memcpy` calls.
    #[test]
    fn a_backend_answer_is_small_to_move() {
        assert_eq!(std::mem::size_of::<PooledBody>(), 8);
        assert!(std::mem::size_of::<http::Response<PooledBody>>() <= 128);
        assert!(std::mem::size_of::<crate::pipeline::Body>() <= 40);
    }

    #[test]
    fn whole_bodies_say_their_size() {
        let body = PooledBody::whole(Bytes::from_static(b"abc"));
        assert_eq!(body.size_hint().exact(), Some(3));
        assert!(!body.is_end_stream());
        assert!(PooledBody::whole(Bytes::new()).is_end_stream());
    }
}
