//! The gateway listener: HTTP/1.1 with keep-alive, one task per connection, graceful
//! shutdown that lets requests in flight finish.
//!
//! The connection loop is the gateway's own: read a request head (`causeway-http1`), hand
//! the request to the pipeline with a body it reads only when it needs it, and write the
//! answer's head and a whole body with one write. hyper's server did this before, through a
//! dispatcher, buffered I/O and an encoder made for any service, at about a third of the
//! gateway's work per proxied request (callgrind, `docs/benchmarks.md`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use causeway_http1::{ChunkedDecoder, RequestFraming, RequestHead};
use http::{HeaderName, Method, Response, header};
use hyper::body::Body as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::Gateway;
use crate::integration::names;
use crate::pipeline::{self, Body};
use crate::request::Incoming;
use crate::upstream::Deadline;

/// Bytes asked of each read of a request body.
const READ_SIZE: usize = 8 * 1024;

/// Room a request head is first read into; a longer head doubles it as it comes.
const HEAD_READ: usize = 1024;

/// A connection waiting for its next request keeps buffers up to this size; larger ones
/// (left by a long head, a body or a large answer) are let go first, so an idle client
/// costs little memory (`docs/benchmarks.md`: bytes per idle connection).
const IDLE_KEEP: usize = 4 * 1024;

/// A body already read that is at most this large is dropped to keep the connection when
/// the pipeline answered without reading it; a larger one closes the connection.
const DISCARD_LIMIT: usize = 64 * 1024;

/// Serves invoke requests on `listener` until `shutdown` resolves, then waits (up to 30 s)
/// for connections to finish their current request.
pub async fn serve(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    serve_with(gateway, listener, None, shutdown).await;
}

/// Serves invoke requests over TLS (HTTPS) on `listener`, as [`serve`] does over plain
/// TCP. A client gets the request head timeout to complete its handshake.
pub async fn serve_tls(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    serve_with(gateway, listener, Some(tls), shutdown).await;
}

async fn serve_with(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    // Connections hold a receiver: they close once idle after the signal, and the server
    // waits for every receiver to be dropped.
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, client) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "gateway accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let local = stream.local_addr().unwrap_or(client);
                let gateway = gateway.clone();
                let stopping = stopping.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let (stream, peer) = match tls {
                        None => (ClientStream::Tcp(stream), None),
                        Some(config) => {
                            // The ClientHello first: a custom domain may have a config of
                            // its own (security policy, mutual TLS).
                            let handshake = tokio::time::timeout(
                                gateway.config.request_head_timeout,
                                async {
                                    let start = tokio_rustls::LazyConfigAcceptor::new(
                                        tokio_rustls::rustls::server::Acceptor::default(),
                                        stream,
                                    )
                                    .await?;
                                    gateway.domain_configs.accept(start, &config).await
                                },
                            );
                            match handshake.await {
                                // A client that chose HTTP/2 (ALPN) is served by `http2`.
                                Ok(Ok((tls, peer)))
                                    if tls.get_ref().1.alpn_protocol() == Some(b"h2") =>
                                {
                                    let served = crate::http2::serve_connection(
                                        gateway, tls, peer, (client, local), stopping,
                                    );
                                    if let Err(error) = served.await {
                                        tracing::debug!(%error, "HTTP/2 connection with a client failed");
                                    }
                                    return;
                                }
                                Ok(Ok((tls, peer))) => (ClientStream::Tls(Box::new(tls)), peer),
                                Ok(Err(error)) => {
                                    tracing::debug!(%error, "TLS handshake with a client failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!("TLS handshake not complete in time");
                                    return;
                                }
                            }
                        }
                    };
                    if let Err(error) = serve_connection(&gateway, stream, peer, client, local, stopping).await {
                        tracing::debug!(%error, "gateway connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(true);
    if tokio::time::timeout(Duration::from_secs(30), stop.closed())
        .await
        .is_err()
    {
        tracing::warn!("gateway connections still open 30 s after shutdown");
    }
}

/// A client connection: plain TCP, or TLS over it (HTTPS).
pub(crate) enum ClientStream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl tokio::io::AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            ClientStream::Tls(tls) => Pin::new(tls).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientStream::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            ClientStream::Tls(tls) => Pin::new(tls).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            ClientStream::Tls(tls) => Pin::new(tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
            ClientStream::Tls(tls) => Pin::new(tls).poll_shutdown(cx),
        }
    }
}

/// The client side of a connection: its socket, the bytes read and not used yet, and what
/// is left of the current request's body.
pub(crate) struct Client {
    stream: ClientStream,
    read: BytesMut,
    body: Pending,
    /// The client waits for `100 Continue` before it sends the body.
    expect_continue: bool,
    /// The body paused too long: the connection closes without an answer.
    abandoned: bool,
}

/// What is left to read of a request body.
#[derive(Debug)]
enum Pending {
    None,
    Length(u64),
    Chunked(ChunkedDecoder),
    /// Reading it failed part way: where the next request starts is unknown, so the
    /// connection closes after the answer.
    Broken,
}

/// A request body, read when the pipeline asks for it.
pub(crate) struct RequestBody<'a> {
    source: BodySource<'a>,
    /// The connection's timer and how long one read of the body may wait.
    pause: (&'a Deadline, Duration),
}

/// Where a request body comes from.
enum BodySource<'a> {
    /// The HTTP/1.1 connection's bytes.
    Http1(&'a mut Client),
    /// An HTTP/2 stream's DATA frames.
    Http2(&'a mut crate::http2::StreamBody),
}

impl<'a> RequestBody<'a> {
    /// The body of an HTTP/2 stream.
    pub(crate) fn http2(
        stream: &'a mut crate::http2::StreamBody,
        pause: (&'a Deadline, Duration),
    ) -> RequestBody<'a> {
        RequestBody {
            source: BodySource::Http2(stream),
            pause,
        }
    }
}

impl std::fmt::Debug for RequestBody<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody").finish_non_exhaustive()
    }
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("reading the request body failed: {0}")]
    Read(#[from] io::Error),
    #[error("the request body paused for longer than {0:?}")]
    Paused(Duration),
    #[error("{0}")]
    Malformed(#[from] causeway_http1::Error),
}

impl RequestBody<'_> {
    /// Whether the request has no body to read (no length, no chunks): known without
    /// reading, so that such a request skips making the future that would read one.
    pub(crate) fn is_absent(&self) -> bool {
        match &self.source {
            BodySource::Http1(client) => matches!(client.body, Pending::None),
            BodySource::Http2(stream) => stream.is_absent(),
        }
    }

    /// Reads the whole body, refusing one larger than `limit` bytes (before reading it when
    /// its length is declared).
    pub(crate) async fn collect(self, limit: usize) -> Result<Bytes, BodyError> {
        let client = match self.source {
            BodySource::Http1(client) => client,
            BodySource::Http2(stream) => return stream.collect(limit, self.pause).await,
        };
        let collected = Self::read(client, limit, self.pause).await;
        match &collected {
            Err(BodyError::Paused(_)) => {
                client.body = Pending::Broken;
                client.abandoned = true;
            }
            Err(_) if !matches!(client.body, Pending::Length(_)) => client.body = Pending::Broken,
            _ => {}
        }
        collected
    }

    /// Reads the body from `client`, leaving its state untouched when the body is refused
    /// for its declared length (nothing of it has been read).
    async fn read(
        client: &mut Client,
        limit: usize,
        pause: (&Deadline, Duration),
    ) -> Result<Bytes, BodyError> {
        if let Pending::Length(length) = client.body
            && length > limit as u64
        {
            return Err(BodyError::TooLarge(limit));
        }
        if std::mem::take(&mut client.expect_continue) && !matches!(client.body, Pending::None) {
            // A client that does not take it within the pause a body may make is let go.
            send(&mut client.stream, b"HTTP/1.1 100 Continue\r\n\r\n", pause).await?;
        }
        match std::mem::replace(&mut client.body, Pending::None) {
            Pending::None => Ok(Bytes::new()),
            Pending::Broken => {
                client.body = Pending::Broken;
                Err(BodyError::Read(io::ErrorKind::InvalidData.into()))
            }
            Pending::Length(length) => {
                let length = length as usize;
                while client.read.len() < length {
                    client
                        .read
                        .reserve((length - client.read.len()).min(1 << 20));
                    if read_some(client, pause).await? == 0 {
                        return Err(BodyError::Read(io::ErrorKind::UnexpectedEof.into()));
                    }
                }
                Ok(client.read.split_to(length).freeze())
            }
            Pending::Chunked(mut decoder) => {
                let mut body = BytesMut::new();
                loop {
                    let step = decoder.decode(&client.read)?;
                    client.read.advance(step.skip);
                    if body.len() + step.data > limit {
                        return Err(BodyError::TooLarge(limit));
                    }
                    body.extend_from_slice(&client.read[..step.data]);
                    client.read.advance(step.data);
                    if step.done {
                        return Ok(body.freeze());
                    }
                    if step.skip == 0 && step.data == 0 {
                        client.read.reserve(READ_SIZE);
                        if read_some(client, pause).await? == 0 {
                            return Err(BodyError::Read(io::ErrorKind::UnexpectedEof.into()));
                        }
                    }
                }
            }
        }
    }
}

/// One read of a request body, waiting at most the pause the body may make.
async fn read_some(
    client: &mut Client,
    (timer, pause): (&Deadline, Duration),
) -> Result<usize, BodyError> {
    let read = client.stream.read_buf(&mut client.read);
    match timer
        .within(tokio::time::Instant::now() + pause, read)
        .await
    {
        Some(read) => Ok(read?),
        None => Err(BodyError::Paused(pause)),
    }
}

/// Serves the requests of one connection, one after the other, until the client closes it,
/// a request or answer says to, or the server stops.
async fn serve_connection(
    gateway: &Gateway,
    stream: ClientStream,
    peer: Option<Arc<crate::tls::Peer>>,
    client_addr: SocketAddr,
    local: SocketAddr,
    stopping: watch::Receiver<bool>,
) -> io::Result<()> {
    // The stop signal, waited for between requests: one future for the connection's life
    // rather than a new waiter on the channel for every request.
    let mut signal = stopping.clone();
    let stopped = async move {
        let _ = signal.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stopped);
    let mut client = Client {
        stream,
        read: BytesMut::new(),
        body: Pending::None,
        expect_continue: false,
        abandoned: false,
    };
    let mut out = Vec::new();
    let timer = Deadline::new();
    loop {
        if client.read.is_empty() {
            if client.read.capacity() > IDLE_KEEP {
                client.read = BytesMut::new();
            }
            if out.capacity() > IDLE_KEEP {
                out = Vec::new();
            }
        }
        let head_timing = (&timer, gateway.config.request_head_timeout);
        let (head, arrived) = match read_head(&mut client, &stopping, stopped.as_mut(), head_timing)
            .await?
        {
            Some(Ok(head)) => head,
            Some(Err(error)) => {
                let status = match error {
                    causeway_http1::Error::HeadTooLarge | causeway_http1::Error::TooManyHeaders => {
                        "431 Request Header Fields Too Large"
                    }
                    _ => "400 Bad Request",
                };
                tracing::debug!(%client_addr, %error, "malformed request");
                return refuse(
                    &mut client.stream,
                    status,
                    (&timer, gateway.config.send_timeout),
                )
                .await;
            }
            None => return Ok(()),
        };
        let bytes = client.read.split_to(head.len).freeze();
        let Some(mut request) =
            Incoming::from_head(bytes, head.method, head.target, head.headers, arrived)
        else {
            return refuse(
                &mut client.stream,
                "400 Bad Request",
                (&timer, gateway.config.send_timeout),
            )
            .await;
        };
        request.secure = matches!(client.stream, ClientStream::Tls(_));
        request.peer.clone_from(&peer);
        let head_request = request.method == Method::HEAD;
        let http10 = head.minor_version == 0;
        let mut keep_alive = head.keep_alive;
        client.body = match head.framing {
            RequestFraming::Empty => Pending::None,
            RequestFraming::Length(length) => Pending::Length(length),
            RequestFraming::Chunked => Pending::Chunked(ChunkedDecoder::new()),
        };
        client.expect_continue = head.expect_continue;
        let body = RequestBody {
            source: BodySource::Http1(&mut client),
            pause: (&timer, gateway.config.request_body_timeout),
        };
        let (response, request_id) =
            pipeline::handle(gateway, &request, body, (client_addr, local), &timer).await;
        if client.abandoned {
            tracing::debug!(%client_addr, "request body paused too long; closing the connection");
            return Ok(());
        }
        // A body the pipeline did not read: dropped if it is all here and small, else the
        // connection closes after the answer.
        match client.body {
            Pending::None => {}
            Pending::Length(length)
                if !client.expect_continue
                    && length <= DISCARD_LIMIT as u64
                    && client.read.len() as u64 >= length =>
            {
                client.read.advance(length as usize);
                client.body = Pending::None;
            }
            _ => keep_alive = false,
        }
        if *stopping.borrow() {
            keep_alive = false;
        }
        // An HTTP/1.0 client knows no chunks: a body of unknown length ends with the
        // connection.
        let chunks = !http10;
        if http10 && response.body().size_hint().exact().is_none() {
            keep_alive = false;
        }
        write_response(
            &mut client.stream,
            &mut out,
            (&timer, gateway.config.send_timeout),
            response,
            Answer {
                head_request,
                keep_alive,
                chunks,
                request_id,
                stream_idle: gateway.config.stream_idle_timeout,
                stream_bandwidth: gateway.config.stream_bandwidth,
            },
        )
        .await?;
        if !keep_alive {
            let _ = client.stream.shutdown().await;
            return Ok(());
        }
    }
}

/// Reads the next request head, with the instant its first bytes were read (the
/// request's arrival, for the clock readings that follow). `None` when the client closed
/// the connection between requests, or the server stops while the connection waits for one.
async fn read_head(
    client: &mut Client,
    stopping: &watch::Receiver<bool>,
    mut stopped: Pin<&mut impl std::future::Future<Output = ()>>,
    (timer, head_timeout): (&Deadline, Duration),
) -> io::Result<Option<Result<(RequestHead, std::time::Instant), causeway_http1::Error>>> {
    // Once a head has begun, it must be complete within `head_timeout`: a client that
    // sends a head byte by byte, or stops half way, does not hold the connection forever.
    let mut head_deadline = None;
    let mut arrived = None;
    loop {
        if !client.read.is_empty() {
            match causeway_http1::parse_request(&client.read) {
                Ok(Some(head)) => {
                    // A head already read with the request before (pipelined) arrives now.
                    let arrived = arrived.unwrap_or_else(std::time::Instant::now);
                    return Ok(Some(Ok((head, arrived))));
                }
                Ok(None) => {}
                Err(error) => return Ok(Some(Err(error))),
            }
        }
        // Room for the head: a first kilobyte, then as much again as has come.
        client.read.reserve(HEAD_READ.max(client.read.len()));
        let idle = client.read.is_empty();
        let read = if idle {
            if *stopping.borrow() {
                return Ok(None);
            }
            tokio::select! {
                read = client.stream.read_buf(&mut client.read) => read,
                () = stopped.as_mut() => return Ok(None),
            }
        } else {
            let deadline =
                *head_deadline.get_or_insert_with(|| tokio::time::Instant::now() + head_timeout);
            match timer
                .within(deadline, client.stream.read_buf(&mut client.read))
                .await
            {
                Some(read) => read,
                None => {
                    tracing::debug!("request head not complete in time; closing the connection");
                    return Ok(None);
                }
            }
        };
        if idle && matches!(read, Ok(n) if n > 0) {
            let now = std::time::Instant::now();
            arrived = Some(now);
            head_deadline = Some(tokio::time::Instant::from_std(now) + head_timeout);
        }
        match read {
            Ok(0) if idle => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => {}
            Err(error) if idle => {
                tracing::debug!(%error, "gateway connection closed between requests");
                return Ok(None);
            }
            Err(error) => return Err(error),
        }
    }
}

/// Answers a request that cannot be read, and closes the connection.
async fn refuse(
    stream: &mut ClientStream,
    status: &str,
    sending: (&Deadline, Duration),
) -> io::Result<()> {
    let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    send(stream, answer.as_bytes(), sending).await?;
    let _ = stream.shutdown().await;
    Ok(())
}

/// Writes all of `bytes` to the client. Each write must make progress within the
/// timeout (nginx's `send_timeout`): a client that takes none of the answer for that long
/// does not hold the connection, or the backend connection behind it, forever. A write
/// the socket takes at once reads no clock. Over TLS, the whole of `bytes` (encrypted and
/// flushed) must go within the timeout.
async fn send(
    stream: &mut ClientStream,
    bytes: &[u8],
    (timer, limit): (&Deadline, Duration),
) -> io::Result<()> {
    match stream {
        ClientStream::Tcp(tcp) => send_tcp(tcp, bytes, (timer, limit)).await,
        ClientStream::Tls(tls) => {
            let writing = async {
                tls.write_all(bytes).await?;
                tls.flush().await
            };
            let deadline = tokio::time::Instant::now() + limit;
            match timer.within(deadline, writing).await {
                Some(written) => written,
                None => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client took none of the answer within the send timeout",
                )),
            }
        }
    }
}

async fn send_tcp(
    stream: &mut TcpStream,
    mut bytes: &[u8],
    (timer, limit): (&Deadline, Duration),
) -> io::Result<()> {
    while !bytes.is_empty() {
        match stream.try_write(bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                let deadline = tokio::time::Instant::now() + limit;
                match timer.within(deadline, stream.writable()).await {
                    Some(ready) => ready?,
                    None => {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the client took none of the answer within the send timeout",
                        ));
                    }
                }
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Why a streamed answer was cut: the backend's body stalled past the integration's deadline.
const BACKEND_LATE: &str = "the backend's streamed answer did not end within the integration timeout, or sent nothing for the idle timeout";

/// Headers the connection sets itself: the framing and the connection's fate.
fn connection_header(name: &HeaderName) -> bool {
    name == header::CONTENT_LENGTH
        || name == header::TRANSFER_ENCODING
        || name == header::CONNECTION
}

/// How an answer is to be written.
#[derive(Debug, Clone, Copy)]
struct Answer {
    /// The request was a HEAD: no body.
    head_request: bool,
    /// The connection stays open after the answer.
    keep_alive: bool,
    /// The client reads chunked bodies (HTTP/1.1).
    chunks: bool,
    request_id: pipeline::RequestId,
    /// How long a streamed answer may go without a byte from the backend.
    stream_idle: Duration,
    /// How fast a streamed answer may go past its first bytes.
    stream_bandwidth: Option<crate::StreamBandwidth>,
}

/// The ids the server writes itself: one the answer carries would be a second copy.
pub(crate) fn id_header(name: &HeaderName) -> bool {
    name == names::REQUEST_ID || name == names::APIGW_ID
}

/// Writes an answer: the head and a whole body in one write; a body still arriving from
/// a backend goes on as it comes, with its length when known, else chunked (or, for an
/// HTTP/1.0 client, until the connection closes).
async fn write_response(
    stream: &mut ClientStream,
    out: &mut Vec<u8>,
    sending: (&Deadline, Duration),
    response: Response<Body>,
    Answer {
        head_request,
        keep_alive,
        chunks,
        request_id,
        stream_idle,
        stream_bandwidth,
    }: Answer,
) -> io::Result<()> {
    let (parts, mut body) = response.into_parts();
    out.clear();
    // A head's worth at once, rather than growing from nothing on a connection's first answer.
    out.reserve(512);
    causeway_http1::write_status_line(
        out,
        parts.status.as_u16(),
        parts.status.canonical_reason().unwrap_or(""),
    );
    for (name, value) in &parts.headers {
        if !connection_header(name) && !id_header(name) {
            causeway_http1::write_header(out, name.as_str(), value.as_bytes());
        }
    }
    // The ids API Gateway puts on every answer.
    causeway_http1::write_header(out, names::REQUEST_ID.as_str(), &request_id);
    causeway_http1::write_header(out, names::APIGW_ID.as_str(), &pipeline::apigw_id());
    if let http_body_util::Either::Right(pooled) = &body
        && let Some(raw) = pooled.raw_headers()
    {
        raw.write(out);
    }
    causeway_http1::write_header(out, "date", &date::now());
    if !keep_alive {
        out.extend_from_slice(b"connection: close\r\n");
    } else if !chunks {
        // An HTTP/1.0 client that asked to keep the connection learns that it may.
        out.extend_from_slice(b"connection: keep-alive\r\n");
    }
    let length = body.size_hint().exact();
    let chunked = length.is_none() && chunks;
    match length {
        // A HEAD answer says nothing of a body it does not know.
        Some(0) if head_request => {}
        Some(length) => {
            out.extend_from_slice(b"content-length: ");
            causeway_http1::write_decimal(out, length);
            out.extend_from_slice(b"\r\n");
        }
        None if chunks => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        None => {}
    }
    out.extend_from_slice(b"\r\n");
    if head_request {
        return send(stream, out, sending).await;
    }
    let mut pace = Pace::for_answer(&body, stream_bandwidth);
    // Frames already in hand go out with the head.
    loop {
        let frame = if body.is_end_stream() {
            None
        } else {
            // What is in hand comes at once; before waiting for more, what is written so
            // far (the head, at first) goes out.
            let polled = Pin::new(&mut body).poll_frame(&mut Context::from_waker(Waker::noop()));
            match polled {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    if !out.is_empty() {
                        send(stream, out, sending).await?;
                        out.clear();
                    }
                    next_frame(&mut body, sending.0, stream_idle).await
                }
            }
        };
        match frame {
            None => break,
            Some(Err(error)) => {
                // The answer is cut: the client sees the connection end early.
                send(stream, out, sending).await?;
                return Err(io::Error::other(error));
            }
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if data.is_empty() {
                    continue;
                }
                if let Some(pace) = &mut pace {
                    pace.take(data.len()).await;
                }
                if chunked {
                    causeway_http1::write_chunk_size(out, data.len());
                }
                if out.len() + data.len() <= 64 * 1024 {
                    out.extend_from_slice(&data);
                } else {
                    send(stream, out, sending).await?;
                    out.clear();
                    send(stream, &data, sending).await?;
                }
                if chunked {
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
    }
    if chunked {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    if !out.is_empty() {
        send(stream, out, sending).await?;
    }
    Ok(())
}

/// The next frame of an answer's body. A backend whose streamed answer stalls past the
/// integration's timeout, or for the idle timeout, gives an error: the answer is cut, and
/// the client sees it end early.
pub(crate) async fn next_frame(
    body: &mut Body,
    timer: &Deadline,
    stream_idle: Duration,
) -> Option<Result<hyper::body::Frame<Bytes>, Box<dyn std::error::Error + Send + Sync>>> {
    let deadline = match &*body {
        http_body_util::Either::Right(pooled) => pooled.deadline(),
        http_body_util::Either::Left(_) => None,
    };
    let next = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx));
    match deadline {
        None => next.await,
        Some(deadline) => {
            let deadline = deadline.min(tokio::time::Instant::now() + stream_idle);
            let late = || io::Error::new(io::ErrorKind::TimedOut, BACKEND_LATE);
            (timer.within(deadline, next).await).unwrap_or_else(|| Some(Err(late().into())))
        }
    }
}

/// Paces a streamed answer: the bytes past the unthrottled ones go no faster than the set
/// rate, counted from when the first of them went.
pub(crate) struct Pace {
    bandwidth: crate::StreamBandwidth,
    sent: u64,
    since: Option<tokio::time::Instant>,
}

impl Pace {
    /// The pace of an answer: a streamed answer's bytes past the unthrottled ones go at the
    /// set pace; a whole answer (every buffered one: at most 10 MB) is never paced.
    pub(crate) fn for_answer(
        body: &Body,
        bandwidth: Option<crate::StreamBandwidth>,
    ) -> Option<Pace> {
        match (body, bandwidth) {
            (http_body_util::Either::Right(pooled), Some(bandwidth)) if pooled.is_reading() => {
                Some(Pace {
                    bandwidth,
                    sent: 0,
                    since: None,
                })
            }
            _ => None,
        }
    }

    /// Waits until `len` more bytes may go.
    pub(crate) async fn take(&mut self, len: usize) {
        self.sent += len as u64;
        let Some(over) = self.sent.checked_sub(self.bandwidth.unthrottled_bytes) else {
            return;
        };
        let now = tokio::time::Instant::now();
        let since = *self.since.get_or_insert(now);
        let rate = self.bandwidth.bytes_per_second.max(1) as f64;
        let due = since + Duration::from_secs_f64(over as f64 / rate);
        if due > now {
            // Boxed: the timer is large, and only a paced stream needs one, so every other
            // answer's future stays small.
            Box::pin(tokio::time::sleep_until(due)).await;
        }
    }
}

/// The `Date` header's value, formatted once per second.
pub(crate) mod date {
    use std::cell::RefCell;
    use std::time::{Duration, Instant, UNIX_EPOCH};

    thread_local! {
        static CACHED: RefCell<(u64, [u8; 29])> = const { RefCell::new((u64::MAX, [0; 29])) };
    }

    /// Now, as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
    pub(crate) fn now() -> [u8; 29] {
        let second = crate::wall::unix_seconds_at(Instant::now());
        CACHED.with(|cached| {
            let mut cached = cached.borrow_mut();
            if cached.0 != second {
                let text = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(second));
                if text.len() == 29 {
                    cached.1.copy_from_slice(text.as_bytes());
                    cached.0 = second;
                }
            }
            cached.1
        })
    }
}
