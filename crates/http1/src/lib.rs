//! HTTP/1.1 as bytes, for the gateway's backend connections: request heads written, response
//! heads and chunked bodies read. No I/O: the caller owns the buffers and the sockets.
//!
//! hyper did this job before, behind a connection task and a channel per connection; the
//! gateway now drives each backend connection from the task of the request that uses it,
//! and needs only the message syntax (RFC 9112) from here. `httparse` reads the head; the
//! framing rules (RFC 9112 §6.3) and the chunked decoder are written here because they are
//! the part a proxy has to get exactly right, and no crate offers them apart from a whole
//! HTTP stack.

use std::mem::MaybeUninit;
use std::ops::Range;

/// Headers a response head may carry at most (hyper's default as well).
pub const MAX_HEADERS: usize = 100;

/// Bytes a response head may take at most.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the backend's response head is malformed: {0}")]
    Head(String),
    #[error("the backend's response head is larger than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("the backend's response has more than {MAX_HEADERS} headers")]
    TooManyHeaders,
    #[error("the backend's Content-Length is not valid")]
    ContentLength,
    #[error("the backend switched protocols, which the gateway never asks for")]
    SwitchingProtocols,
    #[error("the backend's chunked body is malformed: {0}")]
    Chunked(&'static str),
}

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: an answer to HEAD, or a 204 or 304.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the backend closes the connection.
    UntilClose,
}

/// A parsed response head. Header names and values are ranges into the parsed buffer, so
/// that the caller can share them without a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor_version: u8,
    /// The head's length in bytes, up to and including the empty line.
    pub len: usize,
    pub headers: Vec<(Range<usize>, Range<usize>)>,
    pub framing: Framing,
    /// Whether the connection can carry another request after this response's body.
    pub keep_alive: bool,
}

impl ResponseHead {
    /// An interim response (1xx other than 101): the final one follows on the connection.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status)
    }
}

/// Reads a response head from the start of `buf`. `Ok(None)` when the head is not complete
/// yet; `head_request` says whether the request was a HEAD (whose answer has no body
/// whatever its headers say).
pub fn parse_response(buf: &[u8], head_request: bool) -> Result<Option<ResponseHead>, Error> {
    // Uninitialised room for the headers: filling 100 empty headers first costs more than
    // parsing a typical head.
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut headers,
    );
    let Some(len) = complete(parsed, buf.len())? else {
        return Ok(None);
    };
    let status = response.code.unwrap_or_default();
    let minor_version = response.version.unwrap_or_default();
    if status == 101 {
        return Err(Error::SwitchingProtocols);
    }
    let Fields {
        lines: parsed,
        content_length,
        transfer_encoding,
        chunked,
        mut close,
        expect_continue: _,
    } = fields(buf, response.headers, minor_version)?;
    let framing = if head_request || status == 204 || status == 304 || (100..200).contains(&status)
    {
        Framing::Empty
    } else if transfer_encoding {
        // With both, Transfer-Encoding wins and the connection must not be reused (§6.3).
        if content_length.is_some() {
            close = true;
        }
        if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else if let Some(length) = content_length {
        Framing::Length(length)
    } else {
        Framing::UntilClose
    };
    let keep_alive = !close && framing != Framing::UntilClose;
    Ok(Some(ResponseHead {
        status,
        minor_version,
        len,
        headers: parsed,
        framing,
        keep_alive,
    }))
}

/// How a request body is delimited (RFC 9112 §6.3): a request without `Content-Length`
/// or `Transfer-Encoding` has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFraming {
    Empty,
    Length(u64),
    Chunked,
}

/// A parsed request head. The method, target, header names and values are ranges into the
/// parsed buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: Range<usize>,
    pub target: Range<usize>,
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor_version: u8,
    /// The head's length in bytes, up to and including the empty line.
    pub len: usize,
    pub headers: Vec<(Range<usize>, Range<usize>)>,
    pub framing: RequestFraming,
    /// Whether the client lets the connection carry another request after this one.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for an interim answer before the body.
    pub expect_continue: bool,
}

/// Reads a request head from the start of `buf`. `Ok(None)` when the head is not complete
/// yet. A request whose body cannot be delimited safely (a transfer coding other than a
/// final `chunked`, or a bad `Content-Length`) is refused, as RFC 9112 §6.3 asks of a
/// server, so that no two readers can disagree on where it ends.
pub fn parse_request(buf: &[u8]) -> Result<Option<RequestHead>, Error> {
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut []);
    let parsed = request.parse_with_uninit_headers(buf, &mut headers);
    let Some(len) = complete(parsed, buf.len())? else {
        return Ok(None);
    };
    let method = range(buf, request.method.unwrap_or_default().as_bytes());
    let target = range(buf, request.path.unwrap_or_default().as_bytes());
    let minor_version = request.version.unwrap_or_default();
    let Fields {
        lines: parsed,
        content_length,
        transfer_encoding,
        chunked,
        mut close,
        expect_continue,
    } = fields(buf, request.headers, minor_version)?;
    let framing = if transfer_encoding {
        if !chunked || minor_version == 0 {
            return Err(Error::Head(
                "a request body must end with the chunked transfer coding".to_owned(),
            ));
        }
        // With both, Transfer-Encoding wins and the connection closes after (§6.3).
        if content_length.is_some() {
            close = true;
        }
        RequestFraming::Chunked
    } else {
        match content_length {
            None | Some(0) => RequestFraming::Empty,
            Some(length) => RequestFraming::Length(length),
        }
    };
    Ok(Some(RequestHead {
        method,
        target,
        minor_version,
        len,
        headers: parsed,
        framing,
        keep_alive: !close,
        expect_continue,
    }))
}

/// The length of a head `httparse` parsed, `None` while it is incomplete; a head over the
/// limits is an error.
fn complete(parsed: httparse::Result<usize>, buffered: usize) -> Result<Option<usize>, Error> {
    match parsed {
        Ok(httparse::Status::Complete(len)) if len > MAX_HEAD_BYTES => Err(Error::HeadTooLarge),
        Ok(httparse::Status::Complete(len)) => Ok(Some(len)),
        Ok(httparse::Status::Partial) if buffered > MAX_HEAD_BYTES => Err(Error::HeadTooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(Error::TooManyHeaders),
        Err(error) => Err(Error::Head(error.to_string())),
    }
}

/// What the header fields of a head say about its message, and where they are.
struct Fields {
    /// Names and values as ranges into the parsed buffer.
    lines: Vec<(Range<usize>, Range<usize>)>,
    content_length: Option<u64>,
    transfer_encoding: bool,
    /// The last transfer coding is `chunked`.
    chunked: bool,
    /// The connection ends after this message (by version and `Connection`).
    close: bool,
    /// `Expect: 100-continue`.
    expect_continue: bool,
}

/// Where `part`, a slice `httparse` took from `buf`, lies in `buf`.
fn range(buf: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - buf.as_ptr() as usize;
    start..start + part.len()
}

/// Reads the fields both kinds of head share: `Content-Length` (a single number, or a list
/// of one number), `Transfer-Encoding`, `Connection` and `Expect`.
fn fields(
    buf: &[u8],
    headers: &[httparse::Header<'_>],
    minor_version: u8,
) -> Result<Fields, Error> {
    let mut fields = Fields {
        lines: Vec::with_capacity(headers.len()),
        content_length: None,
        transfer_encoding: false,
        chunked: false,
        close: minor_version == 0,
        expect_continue: false,
    };
    for header in headers {
        let name = header.name.as_bytes();
        let value = header.value;
        if is_name(name, b"content-length") {
            let length = parse_content_length(value)?;
            if fields.content_length.is_some_and(|known| known != length) {
                return Err(Error::ContentLength);
            }
            fields.content_length = Some(length);
        } else if is_name(name, b"transfer-encoding") {
            fields.transfer_encoding = true;
            // Only the last coding says whether the body is chunked.
            fields.chunked = value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| trim(last).eq_ignore_ascii_case(b"chunked"));
        } else if is_name(name, b"connection") {
            for token in value.split(|&b| b == b',').map(trim) {
                if token.eq_ignore_ascii_case(b"close") {
                    fields.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && minor_version == 0 {
                    fields.close = false;
                }
            }
        } else if is_name(name, b"expect") {
            fields.expect_continue = trim(value).eq_ignore_ascii_case(b"100-continue");
        }
        fields.lines.push((range(buf, name), range(buf, value)));
    }
    Ok(fields)
}

/// Whether the field name `name` (a token, as `httparse` lets through) is `lower` in any
/// case, where `lower` holds only lowercase letters, digits and `-`. Setting bit 5
/// lowercases a letter and leaves digits, `-` and every other token byte that could match
/// as they are; the fold has no early exit, so the compiler compares many bytes at once.
/// Every field of every head goes through here.
#[inline]
pub fn is_name(name: &[u8], lower: &[u8]) -> bool {
    name.len() == lower.len()
        && name
            .iter()
            .zip(lower)
            .fold(0, |differ, (&a, &b)| differ | ((a | 0x20) ^ b))
            == 0
}

/// Writes a response's status line.
pub fn write_status_line(out: &mut Vec<u8>, status: u16, reason: &str) {
    out.extend_from_slice(b"HTTP/1.1 ");
    write_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A `Content-Length` value: digits, or a list of equal values (§6.3 lets a recipient take
/// a list of identical values as one).
fn parse_content_length(value: &[u8]) -> Result<u64, Error> {
    let mut length = None;
    for part in value.split(|&b| b == b',').map(trim) {
        if part.is_empty() || part.len() > 19 || !part.iter().all(u8::is_ascii_digit) {
            return Err(Error::ContentLength);
        }
        let parsed = part
            .iter()
            .fold(0u64, |n, &digit| n * 10 + u64::from(digit - b'0'));
        if length.is_some_and(|known| known != parsed) {
            return Err(Error::ContentLength);
        }
        length = Some(parsed);
    }
    length.ok_or(Error::ContentLength)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Writes a request head into `out`: the request line, the header section `headers`
/// (`name: value\r\n` lines, see [`write_header`]) as it is, and a `Content-Length` when
/// `content_length` is given. The caller passes a method and target that are valid already
/// (`http`'s types are), so nothing here can split the head.
pub fn write_request_head(
    out: &mut Vec<u8>,
    method: &str,
    target: &str,
    headers: &[u8],
    content_length: Option<usize>,
) {
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    out.extend_from_slice(headers);
    if let Some(length) = content_length {
        out.extend_from_slice(b"content-length: ");
        write_decimal(out, length as u64);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Writes one header line. Names and values come from `http`'s types, which hold no CR or
/// LF, so a line never splits.
pub fn write_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Writes the line that opens a chunk of `len` bytes (size in hex, CRLF).
pub fn write_chunk_size(out: &mut Vec<u8>, len: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut at = digits.len();
    let mut n = len;
    loop {
        at -= 1;
        digits[at] = DIGITS[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n");
}

/// Writes `n` in decimal.
pub fn write_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    out.extend_from_slice(decimal(n, &mut digits));
}

/// `n` in decimal, written at the end of `digits`.
pub fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &digits[at..]
}

/// Extension bytes a chunk-size line may carry at most (they are skipped).
const MAX_EXTENSION_BYTES: usize = 4096;
/// Trailer bytes a chunked body may end with at most (they are skipped).
const MAX_TRAILER_BYTES: usize = 16 * 1024;

/// Reads a chunked body (RFC 9112 §7.1) incrementally: call [`ChunkedDecoder::decode`]
/// with whatever has arrived; it never needs a byte twice.
#[derive(Debug, Clone, Default)]
pub struct ChunkedDecoder {
    state: State,
    /// Data bytes left in the current chunk, or the size being read.
    size: u64,
    /// Digits read of the size, extension bytes of its line, or trailer bytes so far.
    count: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Size,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    Trailer,
    TrailerLf,
    EndLf,
    Done,
}

/// What one [`ChunkedDecoder::decode`] call found at the front of its input: `skip` bytes of
/// framing, then `data` bytes of the body. Both zero (and not `done`) means more input is
/// needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    pub skip: usize,
    pub data: usize,
    /// The body ended with the bytes consumed so far.
    pub done: bool,
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Reads framing from the front of `input` up to the next run of body bytes, which it
    /// reports without consuming past it. The caller drops `skip` bytes, takes `data` bytes
    /// as body, and calls again with what follows.
    pub fn decode(&mut self, input: &[u8]) -> Result<Decoded, Error> {
        let mut at = 0;
        while at < input.len() {
            let byte = input[at];
            match self.state {
                State::Size => match hex(byte) {
                    Some(digit) => {
                        // 16 hex digits fill a u64; leading zeros are allowed.
                        if self.size >> 60 != 0 {
                            return Err(Error::Chunked("chunk size too large"));
                        }
                        self.size = self.size << 4 | u64::from(digit);
                        self.count += 1;
                        if self.count > 64 {
                            return Err(Error::Chunked("chunk size too long"));
                        }
                    }
                    None if self.count == 0 => {
                        return Err(Error::Chunked("chunk size expected"));
                    }
                    None => match byte {
                        b';' | b' ' | b'\t' => {
                            self.count = 0;
                            self.state = State::Extension;
                        }
                        b'\r' => self.state = State::SizeLf,
                        _ => return Err(Error::Chunked("invalid chunk size")),
                    },
                },
                State::Extension => {
                    if byte == b'\r' {
                        self.state = State::SizeLf;
                    } else if byte == b'\n' {
                        return Err(Error::Chunked("bare LF in chunk extension"));
                    } else {
                        self.count += 1;
                        if self.count > MAX_EXTENSION_BYTES {
                            return Err(Error::Chunked("chunk extension too long"));
                        }
                    }
                }
                State::SizeLf => {
                    if byte != b'\n' {
                        return Err(Error::Chunked("CRLF expected after chunk size"));
                    }
                    self.count = 0;
                    self.state = if self.size == 0 {
                        State::TrailerStart
                    } else {
                        State::Data
                    };
                }
                State::Data => {
                    let available = (input.len() - at) as u64;
                    let take = self.size.min(available) as usize;
                    self.size -= take as u64;
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                    return Ok(Decoded {
                        skip: at,
                        data: take,
                        done: false,
                    });
                }
                State::DataCr => {
                    if byte != b'\r' {
                        return Err(Error::Chunked("CRLF expected after chunk data"));
                    }
                    self.state = State::DataLf;
                }
                State::DataLf => {
                    if byte != b'\n' {
                        return Err(Error::Chunked("CRLF expected after chunk data"));
                    }
                    self.size = 0;
                    self.count = 0;
                    self.state = State::Size;
                }
                State::TrailerStart => {
                    if byte == b'\r' {
                        self.state = State::EndLf;
                    } else {
                        self.state = State::Trailer;
                        self.count_trailer()?;
                    }
                }
                State::Trailer => {
                    if byte == b'\r' {
                        self.state = State::TrailerLf;
                    } else {
                        self.count_trailer()?;
                    }
                }
                State::TrailerLf => {
                    if byte != b'\n' {
                        return Err(Error::Chunked("CRLF expected after a trailer field"));
                    }
                    self.state = State::TrailerStart;
                }
                State::EndLf => {
                    if byte != b'\n' {
                        return Err(Error::Chunked("CRLF expected at the end of the body"));
                    }
                    self.state = State::Done;
                    return Ok(Decoded {
                        skip: at + 1,
                        data: 0,
                        done: true,
                    });
                }
                State::Done => {
                    return Ok(Decoded {
                        skip: at,
                        data: 0,
                        done: true,
                    });
                }
            }
            at += 1;
        }
        Ok(Decoded {
            skip: at,
            data: 0,
            done: self.state == State::Done,
        })
    }

    fn count_trailer(&mut self) -> Result<(), Error> {
        self.count += 1;
        if self.count > MAX_TRAILER_BYTES {
            return Err(Error::Chunked("trailer section too long"));
        }
        Ok(())
    }
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes a whole chunked body held in `input`, for tests and fuzzing: the body, and the
/// bytes consumed, once it is complete; `None` while incomplete.
pub fn decode_all(input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, Error> {
    let mut decoder = ChunkedDecoder::new();
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let step = decoder.decode(&input[at..])?;
        at += step.skip;
        body.extend_from_slice(&input[at..at + step.data]);
        at += step.data;
        if step.done {
            return Ok(Some((body, at)));
        }
        if step.skip == 0 && step.data == 0 {
            return Ok(None);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
