//! Response payload compression, as API Gateway does it for an API with
//! `minimumCompressionSize`: an answer held whole, at least that long, without a
//! `Content-Encoding` of its own, goes out gzip- or deflate-encoded when the client's
//! highest-priority `Accept-Encoding` coding is one of them. A client that sends no
//! `Accept-Encoding` (or `*`, or `identity` first) gets it as it is. An answer still
//! arriving is never compressed here, and the pipeline does not ask for the answers of a
//! STREAM integration at all, even one that came whole with its head (AWS: "content
//! encoding" is not supported with STREAM).

use std::io::Write;

use bytes::Bytes;
use http::Response;
use http::header::{self, HeaderValue};
use http_body_util::{Either, Full};

use crate::pipeline::Body;

/// A content coding the gateway writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
}

/// The coding to answer with, from an `Accept-Encoding` value: the one with the highest
/// quality (the first of equals), if it is gzip or deflate. RFC 9110 §12.5.3.
pub(crate) fn chosen(accept_encoding: &str) -> Option<Coding> {
    let mut best: Option<(&str, u16)> = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        if coding.is_empty() {
            continue;
        }
        let mut quality = 1000;
        for parameter in parts {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                quality = parse_quality(value.trim()).unwrap_or(0);
            }
        }
        if quality > 0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((coding, quality));
        }
    }
    match best?.0 {
        c if c.eq_ignore_ascii_case("gzip") || c.eq_ignore_ascii_case("x-gzip") => {
            Some(Coding::Gzip)
        }
        c if c.eq_ignore_ascii_case("deflate") => Some(Coding::Deflate),
        _ => None,
    }
}

/// A quality value (`0`, `0.5`, `1.000`) in thousandths.
fn parse_quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths = 0u16;
    for (i, digit) in fraction.bytes().enumerate() {
        thousandths += u16::from(digit - b'0') * [100, 10, 1][i];
    }
    if whole == 1000 && thousandths > 0 {
        return None;
    }
    Some(whole + thousandths)
}

/// Compresses `response` when it qualifies (see the module's text); otherwise hands it back
/// as it is.
pub(crate) fn maybe(
    response: Response<Body>,
    accept_encoding: Option<&str>,
    minimum: usize,
) -> Response<Body> {
    let Some(coding) = accept_encoding.and_then(chosen) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let already_encoded = parts.headers.contains_key(header::CONTENT_ENCODING)
        || matches!(&body, Either::Right(pooled) if pooled
            .raw_headers()
            .is_some_and(|raw| raw.contains("content-encoding")));
    // Only an answer held whole: a streamed one is still arriving.
    let whole = match &body {
        _ if already_encoded => None,
        Either::Left(full) => full_bytes(full),
        Either::Right(pooled) => pooled.peek_whole(),
    };
    let Some(whole) = whole.filter(|whole| whole.len() >= minimum) else {
        return Response::from_parts(parts, body);
    };
    let Ok(encoded) = encode(&whole, coding) else {
        return Response::from_parts(parts, body);
    };
    let name = match coding {
        Coding::Gzip => "gzip",
        Coding::Deflate => "deflate",
    };
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    let body = match body {
        Either::Left(_) => Either::Left(Full::new(encoded)),
        Either::Right(mut pooled) => {
            pooled.replace_whole(encoded);
            Either::Right(pooled)
        }
    };
    Response::from_parts(parts, body)
}

/// The bytes of a whole body held in a `Full`, without taking them out.
pub(crate) fn full_bytes(full: &Full<Bytes>) -> Option<Bytes> {
    use hyper::body::Body as _;
    // A `Full` yields its one frame at once; polling a clone leaves the original intact.
    let mut copy = full.clone();
    let frame = std::pin::Pin::new(&mut copy)
        .poll_frame(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    match frame {
        std::task::Poll::Ready(Some(Ok(frame))) => frame.into_data().ok(),
        std::task::Poll::Ready(None) => Some(Bytes::new()),
        _ => None,
    }
}

/// Why a request body could not be decoded.
#[derive(Debug)]
pub(crate) enum DecodeError {
    /// Decoded, it is longer than the limit.
    TooLarge,
    /// It is not what its coding says.
    Corrupt(std::io::Error),
}

/// A request body decoded from its `Content-Encoding`, as API Gateway decodes a method
/// request's payload: `gzip` and `deflate` (zlib, or raw deflate as some clients send it),
/// at most `limit` bytes once decoded. `None` for `identity` or a coding the gateway does
/// not decode: the body goes on as it came.
pub(crate) fn decode_request(
    coding: &str,
    body: &[u8],
    limit: usize,
) -> Result<Option<Bytes>, DecodeError> {
    use std::io::Read;
    let coding = coding.trim();
    let read = |reader: &mut dyn Read| -> Result<Bytes, DecodeError> {
        let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
        reader
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(DecodeError::Corrupt)?;
        if out.len() > limit {
            return Err(DecodeError::TooLarge);
        }
        Ok(Bytes::from(out))
    };
    if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
        return read(&mut flate2::read::GzDecoder::new(body)).map(Some);
    }
    if coding.eq_ignore_ascii_case("deflate") {
        return match read(&mut flate2::read::ZlibDecoder::new(body)) {
            Err(DecodeError::Corrupt(_)) => {
                read(&mut flate2::read::DeflateDecoder::new(body)).map(Some)
            }
            decoded => decoded.map(Some),
        };
    }
    Ok(None)
}

fn encode(data: &[u8], coding: Coding) -> std::io::Result<Bytes> {
    let level = flate2::Compression::default();
    let out = Vec::with_capacity(data.len() / 2 + 64);
    let out = match coding {
        Coding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(out, level);
            encoder.write_all(data)?;
            encoder.finish()?
        }
        Coding::Deflate => {
            // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2).
            let mut encoder = flate2::write::ZlibEncoder::new(out, level);
            encoder.write_all(data)?;
            encoder.finish()?
        }
    };
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_quality_coding_is_chosen_if_the_gateway_writes_it() {
        assert_eq!(chosen("gzip"), Some(Coding::Gzip));
        assert_eq!(chosen("deflate, gzip"), Some(Coding::Deflate));
        assert_eq!(chosen("gzip;q=0.5, deflate"), Some(Coding::Deflate));
        assert_eq!(chosen("GZIP ; Q=1.0"), Some(Coding::Gzip));
        assert_eq!(chosen("x-gzip"), Some(Coding::Gzip));
        // Browsers' usual header: gzip comes first of the equals.
        assert_eq!(chosen("gzip, deflate, br"), Some(Coding::Gzip));
        // Nothing the gateway writes is preferred: no compression.
        assert_eq!(chosen("br, gzip;q=0.8"), None);
        assert_eq!(chosen("identity"), None);
        assert_eq!(chosen("*"), None);
        assert_eq!(chosen(""), None);
        assert_eq!(chosen("gzip;q=0"), None);
        assert_eq!(
            chosen("gzip;q=2, br;q=0.1"),
            None,
            "a bad quality counts as 0"
        );
        assert_eq!(chosen("gzip;q=0.001, deflate;q=0.0005"), Some(Coding::Gzip));
    }

    #[test]
    fn request_bodies_are_decoded_within_the_limit() -> std::io::Result<()> {
        let plain = b"a request body, ".repeat(50);
        let gzip = encode(&plain, Coding::Gzip)?;
        let zlib = encode(&plain, Coding::Deflate)?;
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        raw.write_all(&plain)?;
        let raw = raw.finish()?;
        for (coding, body) in [
            ("gzip", &gzip[..]),
            ("X-GZIP", &gzip[..]),
            ("deflate", &zlib[..]),
            ("deflate", &raw[..]),
        ] {
            let decoded = decode_request(coding, body, plain.len()).ok().flatten();
            assert_eq!(decoded.as_deref(), Some(&plain[..]), "{coding}");
        }
        assert!(matches!(
            decode_request("gzip", &gzip, plain.len() - 1),
            Err(DecodeError::TooLarge)
        ));
        assert!(matches!(
            decode_request("gzip", b"not gzip", 1000),
            Err(DecodeError::Corrupt(_))
        ));
        assert!(matches!(decode_request("identity", b"x", 10), Ok(None)));
        assert!(matches!(decode_request("br", b"x", 10), Ok(None)));
        Ok(())
    }

    /// The body of `response`, and its `Content-Encoding`.
    fn body_of(response: Response<Body>) -> (Option<String>, Bytes) {
        let encoding = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let Either::Left(full) = response.into_body() else {
            panic!("not a whole body");
        };
        (encoding, full_bytes(&full).unwrap_or_default())
    }

    #[test]
    fn a_whole_answer_is_compressed_from_the_minimum_on() -> std::io::Result<()> {
        use std::io::Read;
        let answer = Bytes::from(b"mapped answer ".repeat(100));
        let respond = || Response::new(Either::Left(Full::new(answer.clone())));
        let (encoding, body) = body_of(maybe(respond(), Some("gzip"), answer.len()));
        assert_eq!(encoding.as_deref(), Some("gzip"));
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut plain)?;
        assert_eq!(plain, answer);

        let (encoding, body) = body_of(maybe(respond(), Some("gzip"), answer.len() + 1));
        assert_eq!(
            (encoding, body),
            (None, answer.clone()),
            "under the minimum"
        );
        let (encoding, body) = body_of(maybe(respond(), None, 0));
        assert_eq!((encoding, body), (None, answer.clone()), "not asked for");
        Ok(())
    }
}
