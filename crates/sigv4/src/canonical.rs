//! The canonical request and the string to sign, built from a received request the way the
//! AWS SDKs build them from the request they send (services other than S3).

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use ring::digest;

use crate::{ALGORITHM, Request};

/// What SigV4 leaves as it is: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The same, with `/` kept too: path segments.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// The canonical URI: the path as sent (already percent-encoded) with its dot segments and
/// repeated slashes removed, then percent-encoded again, as the SDKs do for every service
/// but S3.
pub(crate) fn uri(path: &str) -> String {
    let normalized = remove_dot_segments(path);
    utf8_percent_encode(&normalized, PATH).to_string()
}

/// RFC 3986's dot-segment removal, which AWS's signers also use to fold repeated slashes.
fn remove_dot_segments(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            segment => kept.push(segment),
        }
    }
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&kept.join("/"));
    if path.ends_with('/') && !kept.is_empty() {
        out.push('/');
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical query string: every parameter (but the signature itself, for a presigned
/// URL) decoded, encoded again with SigV4's rules, and sorted by name, then value.
pub(crate) fn query(query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (reencode(name), reencode(value))
        })
        .filter(|(name, _)| !(presigned && name == "X-Amz-Signature"))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len() + 8);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Decoded as a form is (`+` is a space, as the AWS SDK for Rust reads it; botocore never
/// sends a bare `+`), then encoded with SigV4's rules.
fn reencode(text: &str) -> String {
    let decoded = percent_decode_str(&text.replace('+', " ")).collect::<Vec<u8>>();
    percent_encoding::percent_encode(&decoded, UNRESERVED).to_string()
}

/// A header value as signed: trimmed, with runs of spaces folded into one.
fn push_trimmed(out: &mut String, value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    let mut space = false;
    for c in text.trim_matches(|c: char| c == ' ' || c == '\t').chars() {
        if c == ' ' || c == '\t' {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
}

/// The canonical request: method, URI, query, the signed headers' lines, their names, and the
/// payload's hash.
pub(crate) fn request(
    request: &Request<'_>,
    signed_headers: &str,
    presigned: bool,
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(256 + request.query.len() + request.path.len());
    out.push_str(request.method);
    out.push('\n');
    out.push_str(&uri(request.path));
    out.push('\n');
    out.push_str(&query(request.query, presigned));
    out.push('\n');
    for name in signed_headers.split(';') {
        out.push_str(name);
        out.push(':');
        let mut first = true;
        for value in request.header_values(name) {
            if !first {
                out.push(',');
            }
            first = false;
            push_trimmed(&mut out, value);
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// `AWS4-HMAC-SHA256`, the time, the scope and the canonical request's hash.
pub(crate) fn string_to_sign(timestamp: &str, scope: &str, canonical_request: &str) -> String {
    let mut out = String::with_capacity(160);
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(timestamp);
    out.push('\n');
    out.push_str(scope);
    out.push('\n');
    out.push_str(&hex(digest::digest(
        &digest::SHA256,
        canonical_request.as_bytes(),
    )
    .as_ref()));
    out
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The SHA-256 of a body, in hexadecimal: the last line of the canonical request.
pub fn payload_hash(body: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, body).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_then_encoded_again() {
        assert_eq!(uri(""), "/");
        assert_eq!(uri("/"), "/");
        assert_eq!(uri("//example//"), "/example/");
        assert_eq!(uri("/example/.."), "/");
        assert_eq!(uri("/./a/./b/../c"), "/a/c");
        assert_eq!(uri("/a%20b"), "/a%2520b");
        assert_eq!(uri("/é"), "/%C3%A9");
        assert_eq!(uri("/prod/pets/{id}"), "/prod/pets/%7Bid%7D");
    }

    #[test]
    fn queries_are_encoded_and_sorted() {
        assert_eq!(query("", false), "");
        assert_eq!(query("b=2&a=1&a=0", false), "a=0&a=1&b=2");
        assert_eq!(query("flag&x=", false), "flag=&x=");
        assert_eq!(
            query("q=a%20b&r=a b&s=%7e&t=a+b&u=%2B", false),
            "q=a%20b&r=a%20b&s=~&t=a%20b&u=%2B"
        );
        assert_eq!(
            query("X-Amz-Signature=abc&X-Amz-Date=1", true),
            "X-Amz-Date=1"
        );
        assert_eq!(query("X-Amz-Signature=abc", false), "X-Amz-Signature=abc");
    }

    #[test]
    fn header_values_are_trimmed_and_folded() {
        let mut out = String::new();
        push_trimmed(&mut out, b"  a   b  c ");
        assert_eq!(out, "a b c");
    }
}
