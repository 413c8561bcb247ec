//! HTTP/2 frames made from arbitrary bytes, written as they are on a TLS connection to the
//! gateway's HTTPS listener (ALPN `h2`), for the `gateway_http2` fuzz target and a seeded
//! random test.
//!
//! The input is read as a script of frames: requests (HEADERS, with fields picked from lists
//! of the API's paths and of fields the gateway treats specially, or taken from the input as
//! they are), bodies (DATA), trailers, CONTINUATION, RST_STREAM, WINDOW_UPDATE, SETTINGS,
//! PING, PRIORITY, GOAWAY and frames of any type with any payload. The fields are encoded
//! here (HPACK literals, a few lines) rather than by an HPACK encoder, which would refuse
//! what a hostile client sends: upper-case names, pseudo-fields out of place, bad values.
//!
//! After the script come settings that let the answers flow, and a PING. The gateway must
//! acknowledge the PING and answer every stream the client ended (or reset it, or close the
//! connection) within ten seconds, never with a 5xx, and never panic. The answers are read
//! with the `h2` crate's frame codec (its `unstable` feature), which decodes their HPACK.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::StreamExt;
use h2::frame::Frame;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use super::{ANSWER_WITHIN, Fixture, PANICKED};

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const PRIORITY: u8 = 0x2;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const CONTINUATION: u8 = 0x9;

const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The payload of the PING that ends the script.
const LAST_PING: [u8; 8] = *b"fuzzdone";
/// The largest frame the reader accepts: the largest the protocol allows, since the script
/// may raise the gateway's limit.
const MAX_FRAME: usize = (1 << 24) - 1;

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH", "get", "PURGE",
];
const PATHS: &[&str] = &[
    "/restapis/fz/prod/_user_request_/",
    "/restapis/fz/prod/_user_request_/mock",
    "/restapis/fz/prod/_user_request_/mock/",
    "/restapis/fz/prod/_user_request_/keyed",
    "/restapis/fz/prod/_user_request_/valid?q=1",
    "/restapis/fz/prod/_user_request_/private/",
    "/restapis/fz/prod/_user_request_/private/v2",
    "/restapis/fz/prod/_user_request_/queues/",
    "/prod/",
    "/mock/",
    "/v/prod/",
    "/orders/v2/mock/",
    "/",
];
const AUTHORITIES: &[&str] = &[
    "localhost",
    "localhost",
    "localhost:443",
    "127.0.0.1:443",
    "fz.execute-api.localhost",
    "fz.example",
    "mtls.fz.example",
    "strict.fz.example",
    "rules.fz.example",
];
const NAMES: &[&str] = &[
    "content-length",
    "content-type",
    "cookie",
    "expect",
    "host",
    "x-api-key",
    "user-agent",
    "x-status",
    "h",
    "x-version",
    "x-waf-test",
    "x-forwarded-for",
    "cache-control",
    "accept-encoding",
];
/// Fields that make a request malformed in HTTP/2 (RFC 9113 §8.1.1, §8.2.2): the `h2` crate
/// resets its stream.
const MALFORMED: &[&str] = &[
    ":path",
    ":method",
    ":authority",
    ":scheme",
    ":status",
    "connection",
    "transfer-encoding",
    "te",
    "keep-alive",
    "upgrade",
];
const VALUES: &[&str] = &[
    "0",
    "3",
    "-1",
    "99999999999",
    "100-continue",
    "trailers",
    "application/json",
    "text/plain",
    "fuzz-key-0123456789abcdef",
    "a=b",
    "close",
    "chunked",
    "beta-1",
    "block-me",
    "404",
    "max-age=0",
    " x ",
    "",
];
/// What the `h2` crate refuses in a field block with a connection error: bad methods, names
/// and values, unknown pseudo-fields.
const BROKEN: &[&str] = &[
    "G T",
    "",
    "Upper",
    "x y",
    ":protocol",
    ":x",
    "a\r\nb",
    "\0",
    "/a b",
    "*",
    "CONNECT",
];

/// Reads the script a byte at a time; past its end, zeros.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&first, rest)) => {
                self.0 = rest;
                first
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
}

/// The client's side of a connection: the bytes to send, and what it awaits.
#[derive(Default)]
struct Script {
    bytes: Vec<u8>,
    /// The id the next new stream gets (made odd: the first is 1).
    next: u32,
    /// The streams opened, newest last.
    opened: Vec<u32>,
    /// The streams the client ended (END_STREAM) and did not reset: each must be answered.
    ended: BTreeSet<u32>,
    /// The streams the client reset.
    reset: BTreeSet<u32>,
}

impl Script {
    fn frame(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let length = u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .min(1 << 14);
        self.bytes.extend_from_slice(&length.to_be_bytes()[1..]);
        self.bytes.push(kind);
        self.bytes.push(flags);
        self.bytes
            .extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
        self.bytes
            .extend_from_slice(&payload[..payload.len().min(1 << 14)]);
        if flags & END_STREAM != 0 && matches!(kind, DATA | HEADERS) {
            self.end(stream);
        }
        if kind == RST_STREAM {
            // The gateway need not answer a stream its client reset.
            self.reset.insert(stream);
            self.ended.remove(&stream);
        }
    }

    fn end(&mut self, stream: u32) {
        if self.opened.contains(&stream) && !self.reset.contains(&stream) {
            self.ended.insert(stream);
        }
    }

    /// A stream the input names: one of the four newest; with `chaos`, now and then any
    /// id. `None` when there is no stream to name.
    fn stream(&self, input: &mut Input<'_>, chaos: bool) -> Option<u32> {
        let choice = usize::from(input.byte());
        match self.opened.len() {
            _ if chaos && choice >= 192 => Some(u32::from(input.byte())),
            0 => None,
            n => Some(self.opened[n - 1 - (choice % n.min(4))]),
        }
    }

    /// A stream the client may still send on (opened, not ended, not reset): one of the
    /// four newest; with `chaos`, any stream.
    fn sending(&self, input: &mut Input<'_>, chaos: bool) -> Option<u32> {
        if chaos {
            return self.stream(input, chaos);
        }
        let open: Vec<u32> = self
            .opened
            .iter()
            .rev()
            .filter(|id| !self.ended.contains(id) && !self.reset.contains(id))
            .take(4)
            .copied()
            .collect();
        let choice = usize::from(input.byte());
        (!open.is_empty()).then(|| open[choice % open.len()])
    }

    /// Opens a stream: usually the next id, now and then one out of order.
    fn open(&mut self, input: &mut Input<'_>, chaos: bool) -> u32 {
        let id = if !chaos || input.byte() < 128 {
            self.next | 1
        } else {
            u32::from(input.byte())
        };
        self.next = self.next.max(id.saturating_add(2));
        if id % 2 == 1 && self.opened.last().is_none_or(|&last| id > last) {
            self.opened.push(id);
        }
        id
    }
}

/// An HPACK integer with an `N`-bit prefix (RFC 7541 §5.1).
fn integer(out: &mut Vec<u8>, first: u8, prefix: u32, value: usize) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(first | u8::try_from(value).unwrap_or(0));
        return;
    }
    out.push(first | u8::try_from(max).unwrap_or(0));
    let mut rest = value - max;
    while rest >= 0x80 {
        out.push(u8::try_from(rest & 0x7f).unwrap_or(0) | 0x80);
        rest >>= 7;
    }
    out.push(u8::try_from(rest).unwrap_or(0));
}

/// A field as an HPACK literal without indexing, with a new name, neither string Huffman
/// coded (RFC 7541 §6.2.2).
fn literal(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(0x00);
    integer(out, 0, 7, name.len());
    out.extend_from_slice(name);
    integer(out, 0, 7, value.len());
    out.extend_from_slice(value);
}

/// Where a string goes, for what bytes it may hold when it is not meant to break anything.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Name,
    Value,
    Path,
    Host,
}

/// A string from a list, or bytes of the input; with `chaos`, now and then one that breaks
/// the field block, and the input's bytes as they are.
fn text<'a>(input: &mut Input<'a>, list: &[&'a str], part: Part, chaos: bool) -> Vec<u8> {
    let choice = input.byte();
    if choice < 224 {
        let list = if chaos && choice.is_multiple_of(4) {
            BROKEN
        } else {
            list
        };
        return list[usize::from(choice) % list.len()].as_bytes().to_vec();
    }
    let n = usize::from(input.byte() % 48);
    clean(input.take(n), part, chaos)
}

/// The input's bytes for a part of a field: as they are with `chaos`, else mapped onto
/// bytes the part may hold.
fn clean(raw: &[u8], part: Part, chaos: bool) -> Vec<u8> {
    const NAME: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_";
    const PATH: &[u8] = b"abcxyz0123456789-._~!$&'()*+,;=:@/?%{}";
    const HOST: &[u8] = b"abcxyz0123456789-.:";
    if chaos {
        return raw.to_vec();
    }
    raw.iter()
        .map(|&byte| match part {
            Part::Name => NAME[usize::from(byte) % NAME.len()],
            Part::Path => PATH[usize::from(byte) % PATH.len()],
            Part::Host => HOST[usize::from(byte) % HOST.len()],
            // Any byte a field value may hold (RFC 9110 §5.5), spaces and tabs inside.
            Part::Value => match byte {
                0x20..=0x7e | 0x80..=0xff | b'\t' => byte,
                _ => b'.',
            },
        })
        .collect()
}

/// A request's field block: the pseudo-fields (now and then one missing or doubled; with
/// `chaos`, now and then after the other fields), then a few fields.
fn request_block(input: &mut Input<'_>, chaos: bool) -> Vec<u8> {
    let mut block = Vec::new();
    let shape = input.byte();
    let mut path = text(input, PATHS, Part::Path, chaos);
    if !chaos && !path.starts_with(b"/") {
        path.insert(0, b'/');
    }
    let n = usize::from(input.byte() % 24);
    path.extend(clean(input.take(n), Part::Path, chaos));
    let method = text(input, METHODS, Part::Name, chaos);
    let authority = text(input, AUTHORITIES, Part::Host, chaos);
    let mut pseudo = vec![
        (b":method".to_vec(), method),
        (
            b":scheme".to_vec(),
            if shape & 0x10 == 0 {
                b"https".to_vec()
            } else {
                b"http".to_vec()
            },
        ),
        (b":path".to_vec(), path),
    ];
    if shape & 0x01 == 0 {
        pseudo.push((b":authority".to_vec(), authority));
    }
    if shape & 0xf0 == 0xf0 {
        let drop = usize::from(shape & 0x06) % pseudo.len();
        pseudo.remove(drop);
    }
    let mut fields = Vec::new();
    for _ in 0..input.byte() % 6 {
        let names = if input.byte() >= 240 {
            MALFORMED
        } else {
            NAMES
        };
        let name = text(input, names, Part::Name, chaos);
        let value = if name == b"content-length" && input.byte() < 224 {
            input.byte().to_string().into_bytes()
        } else {
            text(input, VALUES, Part::Value, chaos)
        };
        fields.push((name, value));
    }
    if shape & 0x3e == 0x3e {
        // A well-known field by its index in the static table (:method GET or POST): a
        // second :method.
        block.push(0x82 | (shape >> 6 & 0x01));
    }
    let late = chaos && shape & 0xc0 == 0xc0;
    if !late {
        for (name, value) in &pseudo {
            literal(&mut block, name, value);
        }
    }
    for (name, value) in &fields {
        literal(&mut block, name, value);
    }
    if late {
        for (name, value) in &pseudo {
            literal(&mut block, name, value);
        }
    }
    block
}

/// Turns the input into the frames a client sends. Most frames are well-formed, so that
/// conversations go on long enough to reach the gateway's streams; two values of the byte
/// that picks a frame (`chaos`) let its fields break the protocol, which mostly ends the
/// connection.
fn script(data: &[u8]) -> Script {
    let mut input = Input(data);
    let mut script = Script::default();
    script.bytes.extend_from_slice(PREFACE);
    script.frame(SETTINGS, 0, 0, &[]);
    while !input.0.is_empty() && script.bytes.len() < 1 << 20 {
        let op = input.byte();
        let chaos = op >= 0xfe;
        match op % 32 {
            // A request, its fields in one HEADERS frame; ended now (no body) or not.
            0..=11 | 30 | 31 if !(chaos && op % 32 >= 30) => {
                let id = script.open(&mut input, chaos);
                let block = request_block(&mut input, chaos);
                let flags = END_HEADERS | (input.byte() & END_STREAM);
                script.frame(HEADERS, flags, id, &block);
            }
            // A request whose fields continue in CONTINUATION frames (or, in chaos, never end).
            12 | 13 => {
                let id = script.open(&mut input, chaos);
                let block = request_block(&mut input, chaos);
                let cut = usize::from(input.byte()) % (block.len() + 1);
                let flags = input.byte() & END_STREAM;
                script.frame(HEADERS, flags, id, &block[..cut]);
                let end = if chaos { 0 } else { END_HEADERS };
                script.frame(CONTINUATION, end, id, &block[cut..]);
            }
            // Body bytes, now and then padded, now and then the last.
            14..=20 => {
                let Some(stream) = script.sending(&mut input, chaos) else {
                    continue;
                };
                let flags = input.byte() & (END_STREAM | PADDED);
                let n = usize::from(input.byte()) * usize::from(input.byte() % 4 + 1);
                let mut payload = Vec::new();
                if flags & PADDED != 0 {
                    payload.push(input.byte() % 8);
                }
                payload.extend_from_slice(input.take(n));
                if flags & PADDED != 0 {
                    payload.resize(payload.len() + usize::from(payload[0]), 0);
                }
                script.frame(DATA, flags, stream, &payload);
            }
            // Trailers, which end the stream.
            21 | 22 => {
                let Some(stream) = script.sending(&mut input, chaos) else {
                    continue;
                };
                let mut block = Vec::new();
                for _ in 0..input.byte() % 3 + 1 {
                    let name = text(&mut input, NAMES, Part::Name, chaos);
                    let value = text(&mut input, VALUES, Part::Value, chaos);
                    literal(&mut block, &name, &value);
                }
                script.frame(HEADERS, END_HEADERS | END_STREAM, stream, &block);
            }
            23 => {
                let Some(stream) = script.stream(&mut input, chaos) else {
                    continue;
                };
                let code = u32::from(input.byte() % 14);
                script.frame(RST_STREAM, 0, stream, &code.to_be_bytes());
            }
            24 | 25 => {
                let stream = if input.byte() % 2 == 0 {
                    0
                } else {
                    script.stream(&mut input, chaos).unwrap_or(0)
                };
                let mut increment = input.u32() >> (input.byte() % 32);
                if !chaos {
                    increment = (increment & 0x00ff_ffff).max(1);
                }
                script.frame(WINDOW_UPDATE, 0, stream, &increment.to_be_bytes());
            }
            26 => {
                let mut payload = Vec::new();
                let ack = u8::from(chaos && input.byte() % 2 == 0);
                for _ in 0..input.byte() % 4 {
                    let id = u16::from(input.byte() % 10);
                    let mut value = input.u32() >> (input.byte() % 32);
                    match id {
                        // The reader's HPACK table is the default 4,096 bytes.
                        1 => value = value.min(4096),
                        2 if !chaos => value = 0,
                        4 if !chaos => value &= 0x7fff_ffff,
                        5 if !chaos => value = value.clamp(1 << 14, (1 << 24) - 1),
                        _ => {}
                    }
                    payload.extend_from_slice(&id.to_be_bytes());
                    payload.extend_from_slice(&value.to_be_bytes());
                }
                script.frame(SETTINGS, ack, 0, &payload);
            }
            27 => {
                let payload = input.take(8).to_vec();
                let (flags, stream) = if chaos {
                    (
                        input.byte() & 0x01,
                        script.stream(&mut input, chaos).unwrap_or(0),
                    )
                } else {
                    (0, 0)
                };
                script.frame(PING, flags, stream, &payload);
            }
            28 => {
                let stream = script.stream(&mut input, chaos).unwrap_or(script.next);
                let mut payload = (input.u32() & 0x7fff_fffe).to_be_bytes().to_vec();
                payload.push(input.byte());
                if input.byte() % 2 == 0 {
                    script.frame(PRIORITY, 0, stream, &payload);
                } else {
                    // A request that carries a priority.
                    let id = script.open(&mut input, chaos);
                    payload.extend_from_slice(&request_block(&mut input, chaos));
                    let flags = PRIORITY_FLAG | END_HEADERS | (input.byte() & END_STREAM);
                    script.frame(HEADERS, flags, id, &payload);
                }
            }
            29 => {
                let last = script.opened.last().copied().unwrap_or(0);
                let mut goaway = last.to_be_bytes().to_vec();
                goaway.extend_from_slice(&u32::from(input.byte() % 14).to_be_bytes());
                script.frame(GOAWAY, 0, 0, &goaway);
            }
            // Any frame: type, flags, stream and payload as the input has them.
            _ => {
                let kind = input.byte() % 12;
                let flags = input.byte();
                let stream = script.stream(&mut input, true).unwrap_or(0);
                let n = usize::from(input.byte());
                let payload = input.take(n).to_vec();
                script.frame(kind, flags, stream, &payload);
            }
        }
    }
    // Settings under which every answer can flow, then the PING that must come back.
    let mut settings = Vec::new();
    for (id, value) in [(0x1u16, 4096u32), (0x4, 1 << 20), (0x5, 1 << 14)] {
        settings.extend_from_slice(&id.to_be_bytes());
        settings.extend_from_slice(&value.to_be_bytes());
    }
    script.frame(SETTINGS, 0, 0, &settings);
    script.frame(WINDOW_UPDATE, 0, 0, &(1u32 << 24).to_be_bytes());
    script.frame(PING, 0, 0, &LAST_PING);
    script
}

/// What the gateway sent back on one connection.
#[derive(Debug, Default)]
pub(super) struct Answers {
    /// The status of each stream's final answer, by stream.
    pub(super) statuses: Vec<(u32, u16)>,
    /// Streams the client ended that got no whole answer, no reset, and were not cut off
    /// by GOAWAY or the connection's end.
    pub(super) unanswered: Vec<u32>,
    pub(super) ping_acknowledged: bool,
    /// The streams the gateway reset, and why.
    pub(super) resets: Vec<(u32, h2::Reason)>,
    /// The reason of the gateway's GOAWAY, if it sent one.
    pub(super) goaway: Option<h2::Reason>,
    pub(super) closed: bool,
}

/// A TLS client that offers only `h2` and trusts the gateway's generated certificate.
pub(super) fn client_config(certificate: &Path) -> Option<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(certificate).ok()? {
        roots.add(certificate.ok()?).ok()?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .ok()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Some(Arc::new(config))
}

/// Sends the script's bytes on a new connection and reads the answers until every ended
/// stream is answered and the last PING acknowledged, or the connection ends; else why not.
async fn converse(
    address: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    script: &Script,
) -> Result<Answers, String> {
    let socket = TcpStream::connect(address)
        .await
        .map_err(|error| format!("connecting failed: {error}"))?;
    let name = ServerName::try_from("localhost").map_err(|error| error.to_string())?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, socket)
        .await
        .map_err(|error| format!("TLS handshake failed: {error}"))?;
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err("the listener did not choose h2".to_owned());
    }
    let mut codec: h2::Codec<_, &'static [u8]> = h2::Codec::new(stream);
    codec.set_max_recv_frame_size(MAX_FRAME);
    // The gateway may close as soon as it reads something it refuses: a failed write is fine.
    let _ = codec.get_mut().write_all(&script.bytes).await;
    let _ = codec.get_mut().flush().await;

    let mut answers = Answers::default();
    let mut awaited = script.ended.clone();
    let mut answered = BTreeSet::new();
    loop {
        if answers.ping_acknowledged && awaited.is_empty() {
            break;
        }
        let Some(frame) = codec.next().await else {
            answers.closed = true;
            break;
        };
        let frame = match frame {
            Ok(frame) => frame,
            // A reset or a close without GOAWAY, as when the gateway stops reading a client
            // that broke the protocol.
            Err(h2::proto::Error::Io(..)) => {
                answers.closed = true;
                break;
            }
            Err(error) => return Err(format!("the gateway's frames do not decode: {error}")),
        };
        match frame {
            Frame::Headers(headers) => {
                let id = u32::from(headers.stream_id());
                let end = headers.is_end_stream();
                let (pseudo, _) = headers.into_parts();
                if let Some(status) = pseudo.status
                    && status.as_u16() >= 200
                    && answered.insert(id)
                {
                    answers.statuses.push((id, status.as_u16()));
                }
                if end {
                    awaited.remove(&id);
                }
            }
            Frame::Data(data) => {
                let id = u32::from(data.stream_id());
                if data.is_end_stream() {
                    awaited.remove(&id);
                }
                // Give the window back, so that long answers keep coming.
                let n = u32::try_from(data.payload().len()).unwrap_or(0);
                if n > 0 {
                    let mut update = Vec::with_capacity(26);
                    for stream in [0, id] {
                        update.extend_from_slice(&[0, 0, 4, WINDOW_UPDATE, 0]);
                        update.extend_from_slice(&stream.to_be_bytes());
                        update.extend_from_slice(&n.to_be_bytes());
                    }
                    let _ = codec.get_mut().write_all(&update).await;
                }
            }
            Frame::Reset(reset) => {
                let id = u32::from(reset.stream_id());
                answers.resets.push((id, reset.reason()));
                awaited.remove(&id);
            }
            Frame::GoAway(goaway) => {
                answers.goaway = Some(goaway.reason());
                let last = u32::from(goaway.last_stream_id());
                awaited.retain(|&id| id <= last);
            }
            Frame::Ping(ping) if ping.is_ack() && *ping.payload() == LAST_PING => {
                answers.ping_acknowledged = true;
            }
            _ => {}
        }
    }
    if !answers.closed {
        answers.unanswered = awaited.into_iter().collect();
    }
    Ok(answers)
}

/// Runs a script on a new connection, within [`ANSWER_WITHIN`].
fn run(fixture: &Fixture, script: &Script) -> Result<Answers, String> {
    let (address, tls) = fixture.https.clone();
    fixture.runtime.block_on(async {
        tokio::time::timeout(ANSWER_WITHIN, converse(address, tls, script))
            .await
            .map_err(|_| format!("no end of the conversation within {ANSWER_WITHIN:?}"))?
    })
}

/// Sends the frames `data` makes and checks what the gateway answers.
pub fn exercise_http2(fixture: &Fixture, data: &[u8]) {
    let script = script(data);
    let answers = match run(fixture, &script) {
        Ok(answers) => answers,
        Err(why) => panic!("{why}\nframes {:?}", String::from_utf8_lossy(&script.bytes)),
    };
    assert!(
        !PANICKED.load(Ordering::SeqCst),
        "the server panicked on {:?}",
        String::from_utf8_lossy(&script.bytes)
    );
    assert!(
        answers.closed || answers.ping_acknowledged,
        "the last PING was not acknowledged: {answers:?}"
    );
    assert!(
        answers.unanswered.is_empty(),
        "streams ended and never answered: {answers:?}\nframes {:?}",
        String::from_utf8_lossy(&script.bytes)
    );
    if let Some((stream, status)) = answers.statuses.iter().find(|(_, status)| *status >= 500) {
        panic!(
            "status {status} on stream {stream}\nframes {:?}",
            String::from_utf8_lossy(&script.bytes)
        );
    }
    if fixture.sent.fetch_add(1, Ordering::Relaxed) % 256 == 255 {
        check_alive_http2(fixture);
    }
}

/// Asserts that the gateway still answers well-formed requests over HTTP/2.
pub fn check_alive_http2(fixture: &Fixture) {
    let mut script = Script::default();
    script.bytes.extend_from_slice(PREFACE);
    script.frame(SETTINGS, 0, 0, &[]);
    for (id, path) in [
        (1, "/restapis/fz/prod/_user_request_/alive"),
        (3, "/restapis/fz/prod/_user_request_/mock"),
        (5, "/restapis/fz/prod/_user_request_/private/alive"),
    ] {
        let mut block = Vec::new();
        for (name, value) in [
            (":method", "GET"),
            (":scheme", "https"),
            (":path", path),
            (":authority", "localhost"),
        ] {
            literal(&mut block, name.as_bytes(), value.as_bytes());
        }
        script.opened.push(id);
        script.frame(HEADERS, END_HEADERS | END_STREAM, id, &block);
    }
    script.frame(PING, 0, 0, &LAST_PING);
    let answers = run(fixture, &script).unwrap_or_else(|why| panic!("{why}"));
    let mut statuses = answers.statuses.clone();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [(1, 200), (3, 200), (5, 200)],
        "the server stopped serving HTTP/2: {answers:?}"
    );
}
