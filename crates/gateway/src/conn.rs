//! One HTTP/1.1 connection to a backend, driven by the task of the request that uses it.
//!
//! hyper's client connection ran as a task of its own, fed through a channel: each request
//! woke that task to write, and woke the request's task again with the response, and hyper
//! built and parsed every message through its general machinery. A proxy needs less: write
//! one request head, read one response head, and hand the body on. Here the request's own
//! task writes the head (and a small body) with one write and reads the answer into the
//! connection's buffer; the syntax comes from `causeway-http1`. Header values are shared
//! with the buffer they arrived in, not copied.

use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use causeway_http1::{Framing, ResponseHead};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A byte stream to a backend: TCP, TLS over TCP, a tunnel stream or a load balancer flow.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Bytes asked of each read: a typical response head and body in one.
pub(crate) const READ_SIZE: usize = 8 * 1024;

/// Request bodies up to this size go out in the same write as the head.
const INLINE_BODY: usize = 16 * 1024;

/// A kept-alive HTTP/1.1 connection to a backend.
pub(crate) struct Connection {
    io: Box<dyn Io>,
    /// Bytes read and not consumed yet.
    pub(crate) read: BytesMut,
    /// The request being written (kept for its capacity).
    write: Vec<u8>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("buffered", &self.read.len())
            .finish_non_exhaustive()
    }
}

/// Why an exchange with a backend failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExchangeError {
    /// The connection failed. `nothing_back` says that not a byte of an answer came, so a
    /// kept connection may simply have been closed by the backend as the request left.
    #[error("{error}")]
    Io {
        error: io::Error,
        nothing_back: bool,
    },
    #[error(transparent)]
    Protocol(#[from] causeway_http1::Error),
    #[error("the backend's response head has an invalid {0}")]
    Invalid(&'static str),
}

/// A response head read from a backend: the `http` parts and how its body is framed.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) parts: http::response::Parts,
    pub(crate) framing: Framing,
    pub(crate) keep_alive: bool,
    /// The headers as they came, when they go to an HTTP_PROXY client (the parts' map is
    /// then empty).
    pub(crate) raw: Option<RawHeaders>,
}

impl Connection {
    #[cfg(test)]
    pub(crate) fn new(io: impl Io + 'static) -> Connection {
        Connection::from_io(Box::new(io))
    }

    pub(crate) fn from_io(io: Box<dyn Io>) -> Connection {
        Connection {
            io,
            read: BytesMut::new(),
            write: Vec::new(),
        }
    }

    /// Whether the connection can still carry a request: nothing arrived while it waited
    /// (neither the backend's FIN nor stray bytes). Polls the stream once without waiting;
    /// tokio answers from the readiness it already holds, so an idle socket costs no
    /// system call.
    pub(crate) fn is_open(&mut self) -> bool {
        if !self.read.is_empty() {
            return false;
        }
        let mut cx = Context::from_waker(std::task::Waker::noop());
        self.read.reserve(1);
        matches!(
            tokio_util::io::poll_read_buf(Pin::new(&mut self.io), &mut cx, &mut self.read),
            Poll::Pending
        )
    }

    /// Sends a request and reads the answer's head (interim `1xx` answers are skipped).
    /// `headers` is the header section as written (`name: value\r\n` lines), without
    /// `Content-Length`, which is added here. With `remap`, the answer's headers come back
    /// as an HTTP_PROXY answer carries them to the client ([`RawHeaders`]).
    pub(crate) async fn exchange(
        &mut self,
        method: &Method,
        target: &str,
        headers: &[u8],
        body: &Bytes,
        remap: bool,
    ) -> Result<Head, ExchangeError> {
        let io_error = |error| ExchangeError::Io {
            error,
            nothing_back: true,
        };
        self.write.clear();
        // A method whose request carries content says how long it is, even when empty
        // (RFC 9110 §8.6); others say nothing of an empty body.
        let length = (!body.is_empty()
            || matches!(*method, Method::POST | Method::PUT | Method::PATCH))
        .then_some(body.len());
        causeway_http1::write_request_head(
            &mut self.write,
            method.as_str(),
            target,
            headers,
            length,
        );
        if body.len() <= INLINE_BODY {
            self.write.extend_from_slice(body);
            self.io.write_all(&self.write).await.map_err(io_error)?;
        } else {
            self.io.write_all(&self.write).await.map_err(io_error)?;
            self.io.write_all(body).await.map_err(io_error)?;
        }
        self.io.flush().await.map_err(io_error)?;
        let head_request = *method == Method::HEAD;
        let mut received = false;
        loop {
            if !self.read.is_empty() {
                received = true;
                if let Some(head) = causeway_http1::parse_response(&self.read, head_request)? {
                    let bytes = self.read.split_to(head.len).freeze();
                    if head.is_interim() {
                        continue;
                    }
                    return build(&bytes, head, remap);
                }
            }
            self.read.reserve(READ_SIZE);
            match self.io.read_buf(&mut self.read).await {
                Ok(0) => {
                    return Err(ExchangeError::Io {
                        error: io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the backend closed the connection before it answered",
                        ),
                        nothing_back: !received,
                    });
                }
                Ok(_) => {}
                Err(error) => {
                    return Err(ExchangeError::Io {
                        error,
                        nothing_back: !received,
                    });
                }
            }
        }
    }

    /// Reads more of the body into the buffer, up to `want` bytes asked. `Ok(0)` at the
    /// end of the stream.
    pub(crate) fn poll_fill(
        &mut self,
        cx: &mut Context<'_>,
        want: usize,
    ) -> Poll<io::Result<usize>> {
        self.read.reserve(want.clamp(1, 64 * 1024));
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read)
    }
}

/// Backend headers API Gateway returns renamed to HTTP_PROXY clients, with their new
/// names; `Transfer-Encoding` is the gateway's own business and does not pass.
const REMAPPED: [(&str, &str); 5] = [
    ("connection", "x-amzn-remapped-connection"),
    ("content-length", "x-amzn-remapped-content-length"),
    ("date", "x-amzn-remapped-date"),
    ("server", "x-amzn-remapped-server"),
    ("x-amzn-requestid", "x-amzn-remapped-x-amzn-requestid"),
];

/// What becomes of a backend header on an HTTP_PROXY answer: `None` when it passes as it
/// is, `Some(None)` when it is dropped, `Some(Some(name))` when it is renamed.
fn remap_name(name: &[u8]) -> Option<Option<&'static str>> {
    // By length first: most names are compared with nothing.
    let (from, to) = match name.len() {
        4 => REMAPPED[2],
        6 => REMAPPED[3],
        10 => REMAPPED[0],
        14 => REMAPPED[1],
        16 => REMAPPED[4],
        17 => ("transfer-encoding", ""),
        _ => return None,
    };
    if !causeway_http1::is_name(name, from.as_bytes()) {
        return None;
    }
    Some((!to.is_empty()).then_some(to))
}

/// [`remap_name`] for a header in a map.
pub(crate) fn remapped(name: &HeaderName) -> Option<Option<HeaderName>> {
    remap_name(name.as_str().as_bytes()).map(|to| to.map(HeaderName::from_static))
}

/// A backend's response headers as they arrived, for an HTTP_PROXY answer: nothing on the
/// way out reads them one by one, so they are written to the client from the bytes they
/// came in, renamed as [`remap_name`] says, without a header map in between.
#[derive(Debug, Clone)]
pub struct RawHeaders {
    bytes: Bytes,
    lines: Vec<(Range<usize>, Range<usize>)>,
}

impl RawHeaders {
    /// The bytes the headers are held in (the whole head they came with).
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The same headers in memory of their own: the head's bytes share the allocation of
    /// the connection's read buffer, which a kept copy must not hold on to.
    pub(crate) fn detached(&self) -> RawHeaders {
        RawHeaders {
            bytes: Bytes::copy_from_slice(&self.bytes),
            lines: self.lines.clone(),
        }
    }

    /// Whether a header named `name` (lowercase) came.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.lines
            .iter()
            .any(|(n, _)| causeway_http1::is_name(&self.bytes[n.clone()], name.as_bytes()))
    }

    /// The headers as they go to the client, name (renamed) and value, one by one.
    pub(crate) fn each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        for (name, value) in &self.lines {
            let (Some(name_bytes), Some(value)) =
                (self.bytes.get(name.clone()), self.bytes.get(value.clone()))
            else {
                continue;
            };
            match remap_name(name_bytes) {
                Some(None) => {}
                Some(Some(renamed)) => f(renamed.as_bytes(), value),
                None => f(name_bytes, value),
            }
        }
    }

    /// Writes the headers as they go to the client. `httparse` let through only token
    /// names and values without CR or LF, so the lines are sound as they are.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.lines {
            let Some(name_bytes) = self.bytes.get(name.clone()) else {
                continue;
            };
            match remap_name(name_bytes) {
                Some(None) => continue,
                Some(Some(renamed)) => out.extend_from_slice(renamed.as_bytes()),
                None => out.extend_from_slice(name_bytes),
            }
            // A line the backend wrote as `name: value\r\n` (the usual way) goes on from its
            // colon in one copy; any other spacing is written anew.
            let rest = name.end..value.end + 2;
            match self.bytes.get(rest) {
                Some(rest)
                    if value.start == name.end + 2
                        && rest.starts_with(b": ")
                        && rest.ends_with(b"\r\n") =>
                {
                    out.extend_from_slice(rest);
                }
                _ => {
                    out.extend_from_slice(b": ");
                    out.extend_from_slice(self.bytes.get(value.clone()).unwrap_or_default());
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
    }
}

/// The `http` parts of a parsed head, its header values shared with `bytes`; with `remap`,
/// the headers are kept as they came, for the client ([`RawHeaders`]).
fn build(bytes: &Bytes, head: ResponseHead, remap: bool) -> Result<Head, ExchangeError> {
    let mut response = http::Response::new(());
    *response.status_mut() =
        StatusCode::from_u16(head.status).map_err(|_| ExchangeError::Invalid("status"))?;
    *response.version_mut() = if head.minor_version == 0 {
        http::Version::HTTP_10
    } else {
        http::Version::HTTP_11
    };
    if remap {
        return Ok(Head {
            parts: response.into_parts().0,
            framing: head.framing,
            keep_alive: head.keep_alive,
            raw: Some(RawHeaders {
                bytes: bytes.clone(),
                lines: head.headers,
            }),
        });
    }
    // Room for the headers the gateway adds on the way out.
    let mut headers = HeaderMap::with_capacity(head.headers.len() + 4);
    for (name, value) in head.headers {
        let name = HeaderName::from_bytes(&bytes[name])
            .map_err(|_| ExchangeError::Invalid("header name"))?;
        let value = HeaderValue::from_maybe_shared(bytes.slice(value))
            .map_err(|_| ExchangeError::Invalid("header value"))?;
        headers.append(name, value);
    }
    *response.headers_mut() = headers;
    Ok(Head {
        parts: response.into_parts().0,
        framing: head.framing,
        keep_alive: head.keep_alive,
        raw: None,
    })
}
