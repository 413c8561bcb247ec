//! HTTP/2 for clients of the HTTPS listener, chosen by ALPN in the TLS handshake, as API
//! Gateway's endpoints offer it. Each stream is one request, served by the same pipeline as
//! an HTTP/1.1 request: its head is written out as an HTTP/1.1 head and read by the same
//! parser, so that every check and limit applies alike, and the answer goes back as a
//! HEADERS frame and DATA frames. Framing, flow control and HPACK are the `h2` crate's
//! (hyper's own HTTP/2 implementation).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, header};
use hyper::body::Body as _;
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::Gateway;
use crate::integration::names;
use crate::pipeline::{self, Body};
use crate::request::Incoming;
use crate::server::{BodyError, Pace, RequestBody};
use crate::upstream::Deadline;

/// Streams a client may have open at once on one connection (CloudFront's and ALB's
/// figure).
const MAX_STREAMS: u32 = 128;

/// How much of a request body a client may send ahead of the gateway's reading, per stream
/// and per connection (HTTP/2's default, 64 KiB, would hold uploads to a trickle).
const STREAM_WINDOW: u32 = 1 << 20;
const CONNECTION_WINDOW: u32 = 4 << 20;

/// What an HTTP/2 connection's streams share.
struct Connection {
    gateway: Arc<Gateway>,
    peer: Option<Arc<crate::tls::Peer>>,
    client: SocketAddr,
    local: SocketAddr,
}

/// Serves the streams of an HTTP/2 connection until the client closes it, or the server
/// stops (then the connection says GOAWAY and ends once its open streams are answered).
pub(crate) async fn serve_connection(
    gateway: Arc<Gateway>,
    stream: tokio_rustls::server::TlsStream<TcpStream>,
    peer: Option<Arc<crate::tls::Peer>>,
    (client, local): (SocketAddr, SocketAddr),
    mut stopping: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(MAX_STREAMS)
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_header_list_size(causeway_http1::MAX_HEAD_BYTES as u32);
    let handshake = builder.handshake::<_, Bytes>(stream);
    let mut connection =
        match tokio::time::timeout(gateway.config.request_head_timeout, handshake).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => return Err(io::Error::other(error)),
            Err(_) => return Ok(()),
        };
    let shared = Connection {
        gateway,
        peer,
        client,
        local,
    };
    // The streams run in the connection's task, polled as they wake, so that an answer is
    // written (by polling the connection) in the same turn it is made; they end with their
    // connection: they cannot outlive their transport.
    let mut streams = FuturesUnordered::new();
    let mut closing = false;
    loop {
        tokio::select! {
            // Every stream that can finish does before the connection is polled again, so
            // that the answers made in one turn go out together.
            biased;
            Some(()) = streams.next(), if !streams.is_empty() => {}
            accepted = connection.accept() => match accepted {
                Some(Ok((request, respond))) => {
                    streams.push(serve_stream(&shared, request, respond));
                }
                Some(Err(error)) => {
                    tracing::debug!(%error, "HTTP/2 connection with a client failed");
                    break;
                }
                None => break,
            },
            _ = stopping.wait_for(|stop| *stop), if !closing => {
                connection.graceful_shutdown();
                closing = true;
            }
        }
    }
    Ok(())
}

/// The body of a request on an HTTP/2 stream: its DATA frames.
#[derive(Debug)]
pub(crate) struct StreamBody {
    recv: RecvStream,
    /// Where the answer goes, held here while the pipeline runs: a client that asked for
    /// `100 Continue` is sent it when the body is first read, as over HTTP/1.1.
    respond: SendResponse<Bytes>,
    expect_continue: bool,
    /// The length its `content-length` declares.
    declared: Option<u64>,
    /// The body paused too long: the stream is reset rather than answered.
    abandoned: bool,
}

impl StreamBody {
    pub(crate) fn is_absent(&self) -> bool {
        self.recv.is_end_stream()
    }

    /// Reads the whole body, refusing one larger than `limit` bytes (before reading it when
    /// its length is declared). Each DATA frame must come within the pause a body may make.
    pub(crate) async fn collect(
        &mut self,
        limit: usize,
        (timer, pause): (&Deadline, Duration),
    ) -> Result<Bytes, BodyError> {
        if self.declared.is_some_and(|length| length > limit as u64) {
            return Err(BodyError::TooLarge(limit));
        }
        if std::mem::take(&mut self.expect_continue) && !self.recv.is_end_stream() {
            let mut interim = Response::new(());
            *interim.status_mut() = StatusCode::CONTINUE;
            let _ = self.respond.send_informational(interim);
        }
        let mut body = BytesMut::new();
        loop {
            let deadline = tokio::time::Instant::now() + pause;
            let Some(data) = timer.within(deadline, self.recv.data()).await else {
                self.abandoned = true;
                return Err(BodyError::Paused(pause));
            };
            let data = match data {
                None => return Ok(body.freeze()),
                Some(Ok(data)) => data,
                Some(Err(error)) => return Err(BodyError::Read(io::Error::other(error))),
            };
            let _ = self.recv.flow_control().release_capacity(data.len());
            if body.len() + data.len() > limit {
                return Err(BodyError::TooLarge(limit));
            }
            if body.is_empty() && self.recv.is_end_stream() {
                return Ok(data);
            }
            body.extend_from_slice(&data);
        }
    }
}

/// One stream: one request and its answer.
async fn serve_stream(
    connection: &Connection,
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) {
    let arrived = std::time::Instant::now();
    let (parts, recv) = request.into_parts();
    let head = match http1_head(&parts) {
        Ok(head) => head,
        Err(status) => return refuse(&mut respond, status),
    };
    let parsed = match causeway_http1::parse_request(&head) {
        Ok(Some(parsed)) => parsed,
        Err(causeway_http1::Error::HeadTooLarge | causeway_http1::Error::TooManyHeaders) => {
            return refuse(&mut respond, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
        Ok(None) | Err(_) => return refuse(&mut respond, StatusCode::BAD_REQUEST),
    };
    let Some(mut request) = Incoming::from_head(
        head.freeze(),
        parsed.method,
        parsed.target,
        parsed.headers,
        arrived,
    ) else {
        return refuse(&mut respond, StatusCode::BAD_REQUEST);
    };
    request.secure = true;
    request.peer.clone_from(&connection.peer);
    let head_request = request.method == Method::HEAD;
    let gateway = &connection.gateway;
    let timer = Deadline::new();
    let mut body = StreamBody {
        recv,
        respond,
        expect_continue: parsed.expect_continue,
        declared: match parsed.framing {
            causeway_http1::RequestFraming::Length(length) => Some(length),
            _ => None,
        },
        abandoned: false,
    };
    let pause = (&timer, gateway.config.request_body_timeout);
    let (response, request_id) = pipeline::handle(
        gateway,
        &request,
        RequestBody::http2(&mut body, pause),
        (connection.client, connection.local),
        &timer,
    )
    .await;
    let StreamBody {
        mut respond,
        abandoned,
        ..
    } = body;
    if abandoned {
        tracing::debug!(client = %connection.client, "request body paused too long; resetting the stream");
        respond.send_reset(Reason::CANCEL);
        return;
    }
    if let Err(error) = answer(
        &mut respond,
        response,
        request_id,
        head_request,
        (&timer, gateway),
    )
    .await
    {
        tracing::debug!(%error, "HTTP/2 answer not sent whole");
        respond.send_reset(Reason::INTERNAL_ERROR);
    }
}

/// The stream's request as an HTTP/1.1 head: the method, the `:path`, `Host` from
/// `:authority` (else the request's own `host`), and the fields as they came, except that
/// the `cookie` fields HTTP/2 sends apart are joined into one, as RFC 9113 says.
fn http1_head(parts: &http::request::Parts) -> Result<BytesMut, StatusCode> {
    let target = parts
        .uri
        .path_and_query()
        .map(|target| target.as_str())
        .filter(|target| !target.is_empty())
        .ok_or(StatusCode::BAD_REQUEST)?;
    let mut head = BytesMut::with_capacity(512);
    head.extend_from_slice(parts.method.as_str().as_bytes());
    head.extend_from_slice(b" ");
    head.extend_from_slice(target.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\n");
    let authority = parts.uri.authority();
    if let Some(authority) = authority {
        field(&mut head, b"host", authority.as_str().as_bytes());
    }
    let mut cookies = parts.headers.get_all(header::COOKIE).iter();
    if let Some(first) = cookies.next() {
        let mut joined = first.as_bytes().to_vec();
        for more in cookies {
            joined.extend_from_slice(b"; ");
            joined.extend_from_slice(more.as_bytes());
        }
        field(&mut head, b"cookie", &joined);
    }
    for (name, value) in &parts.headers {
        if name == header::COOKIE || (name == header::HOST && authority.is_some()) {
            continue;
        }
        field(&mut head, name.as_str().as_bytes(), value.as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    // A head over the limit is the parser's to refuse, as over HTTP/1.1.
    Ok(head)
}

fn field(head: &mut BytesMut, name: &[u8], value: &[u8]) {
    head.extend_from_slice(name);
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

/// Answers a stream whose request cannot be read.
fn refuse(respond: &mut SendResponse<Bytes>, status: StatusCode) {
    let mut answer = Response::new(());
    *answer.status_mut() = status;
    answer
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    let _ = respond.send_response(answer, true);
}

/// Fields HTTP/2 forbids (RFC 9113 §8.2.2): the connection's own, whose work the framing does.
fn connection_specific(name: &HeaderName) -> bool {
    name == header::CONNECTION
        || name == header::TRANSFER_ENCODING
        || name == header::UPGRADE
        || name == header::TE
        || name == "keep-alive"
        || name == "proxy-connection"
}

/// Sends the pipeline's answer: the head (with the ids API Gateway puts on every answer),
/// then the body as it comes, within the stream's and the connection's flow control.
async fn answer(
    respond: &mut SendResponse<Bytes>,
    response: Response<Body>,
    request_id: pipeline::RequestId,
    head_request: bool,
    (timer, gateway): (&Deadline, &Gateway),
) -> io::Result<()> {
    let (parts, mut body) = response.into_parts();
    let mut head = Response::new(());
    *head.status_mut() = parts.status;
    let headers = head.headers_mut();
    for (name, value) in &parts.headers {
        if !connection_specific(name)
            && name != header::CONTENT_LENGTH
            && !crate::server::id_header(name)
        {
            headers.append(name.clone(), value.clone());
        }
    }
    put(headers, names::REQUEST_ID.clone(), &request_id);
    put(headers, names::APIGW_ID.clone(), &pipeline::apigw_id());
    if let http_body_util::Either::Right(pooled) = &body
        && let Some(raw) = pooled.raw_headers()
    {
        raw.each(|name, value| {
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
                && !connection_specific(&name)
            {
                // `raw.each` has already renamed the backend's `Content-Length`.
                headers.append(name, value);
            }
        });
    }
    put(headers, header::DATE, &crate::server::date::now());
    let length = body.size_hint().exact();
    match length {
        // A HEAD answer says nothing of a body it does not know.
        Some(0) if head_request => {}
        Some(length) => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        None => {}
    }
    let done = head_request || body.is_end_stream();
    let mut send = respond
        .send_response(head, done)
        .map_err(io::Error::other)?;
    if done {
        return Ok(());
    }
    let config = &gateway.config;
    let mut pace = Pace::for_answer(&body, config.stream_bandwidth);
    loop {
        let frame = if body.is_end_stream() {
            None
        } else {
            crate::server::next_frame(&mut body, timer, config.stream_idle_timeout).await
        };
        match frame {
            None => break,
            Some(Err(error)) => return Err(io::Error::other(error)),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if let Some(pace) = &mut pace {
                    pace.take(data.len()).await;
                }
                // The last frame ends the stream itself, rather than an empty one after it.
                let last = body.is_end_stream();
                send_data(&mut send, data, last, (timer, config.send_timeout)).await?;
                if last {
                    return Ok(());
                }
            }
        }
    }
    send.send_data(Bytes::new(), true).map_err(io::Error::other)
}

/// A header the server writes itself, from bytes it made (always valid field values).
fn put(headers: &mut HeaderMap, name: HeaderName, value: &[u8]) {
    if let Ok(value) = HeaderValue::from_bytes(value) {
        headers.insert(name, value);
    }
}

/// Sends `data` (ending the stream with it when `end`) as the stream's flow control lets
/// it go: each part must find room within the send timeout (a client that takes none of
/// the answer for that long loses the stream, as it would its HTTP/1.1 connection).
async fn send_data(
    send: &mut SendStream<Bytes>,
    mut data: Bytes,
    end: bool,
    (timer, limit): (&Deadline, Duration),
) -> io::Result<()> {
    if data.is_empty() && end {
        return send.send_data(data, true).map_err(io::Error::other);
    }
    while !data.is_empty() {
        send.reserve_capacity(data.len());
        let mut room = send.capacity();
        if room == 0 {
            let deadline = tokio::time::Instant::now() + limit;
            let capacity = std::future::poll_fn(|cx| send.poll_capacity(cx));
            room = match timer.within(deadline, capacity).await {
                Some(Some(Ok(room))) => room,
                Some(Some(Err(error))) => return Err(io::Error::other(error)),
                Some(None) => return Err(io::ErrorKind::BrokenPipe.into()),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client took none of the answer within the send timeout",
                    ));
                }
            };
        }
        if room == 0 {
            continue;
        }
        let part = data.split_to(room.min(data.len()));
        send.send_data(part, end && data.is_empty())
            .map_err(io::Error::other)?;
    }
    Ok(())
}
