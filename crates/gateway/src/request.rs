//! A client request's head as the pipeline reads it: the bytes it arrived in, shared, with
//! the target and header fields as ranges into them.
//!
//! `http`'s `Uri` and `HeaderMap` did this before. Building them cost about 1,500
//! instructions of a proxied request's 22,000 (a hash table for the headers, a copy of each
//! custom name, a second scan of the target), only for the pipeline to read a few headers by
//! name and hand the rest on in order. Here a lookup is a scan of a handful of names, and
//! the headers go on to a backend as the client wrote them.

use std::borrow::Cow;
use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// A client request's method, target and headers.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub method: Method,
    /// Whether the request came over TLS (the HTTPS listener): `aws:SecureTransport`.
    pub secure: bool,
    /// What the TLS handshake established, when a custom domain's own settings served it
    /// (mutual TLS, strict endpoint access).
    pub peer: Option<std::sync::Arc<crate::tls::Peer>>,
    /// Where the target's parts lie in the head.
    target: TargetParts,
    pub headers: Headers,
    /// When the head's first bytes were read: the one clock reading that times the
    /// request's admission (throttles) and dates its trace id.
    pub arrived: std::time::Instant,
}

/// Where the parts of a request target lie.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TargetParts {
    /// What comes before `?` (and `#`), or the whole target.
    path: Range<usize>,
    query: Option<Range<usize>>,
    /// The host of an absolute-form target (`GET http://host/path`).
    host: Option<Range<usize>>,
}

impl TargetParts {
    /// The same parts, `by` bytes further on.
    fn offset(self, by: usize) -> Self {
        let offset = |part: Range<usize>| part.start + by..part.end + by;
        Self {
            path: offset(self.path),
            query: self.query.map(offset),
            host: self.host.map(offset),
        }
    }
}

impl Incoming {
    /// The request in `head`, whose method and target lie at `method` and `target` and whose
    /// fields at `fields`, as `causeway_http1::parse_request` found them. `None` when the
    /// method or target cannot be served: an unknown method token, a target that is not
    /// UTF-8 or holds a byte a URI may not (`<`, `>`, and `` ` `` in the path).
    pub(crate) fn from_head(
        head: Bytes,
        method: Range<usize>,
        target: Range<usize>,
        fields: Vec<(Range<usize>, Range<usize>)>,
        arrived: std::time::Instant,
    ) -> Option<Self> {
        let method = Method::from_bytes(head.get(method)?).ok()?;
        let parts = split_target(head.get(target.clone())?)?;
        Some(Self {
            method,
            secure: false,
            peer: None,
            target: parts.offset(target.start),
            headers: Headers {
                bytes: head,
                fields,
            },
            arrived,
        })
    }

    /// The target's path (still percent-encoded) and query string (without the `?`). The
    /// target was found to be UTF-8 when the request was made, so the path is never left
    /// empty for not being so.
    pub fn path_and_query(&self) -> (&str, Option<&str>) {
        let TargetParts { path, query, .. } = &self.target;
        let start = path.start;
        let end = query.as_ref().map_or(path.end, |query| query.end);
        let text = self
            .headers
            .bytes
            .get(start..end)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or_default();
        let path_text = text.get(..path.end - start).unwrap_or_default();
        let query_text = query
            .as_ref()
            .and_then(|query| text.get(query.start - start..));
        (path_text, query_text)
    }

    /// The same request with `inserted` header fields (name, value), each replacing the
    /// fields of its name (a WAF rule's `CustomRequestHandling`). The head's bytes are
    /// copied, the new fields after them, so that every range still points where it did.
    pub(crate) fn with_inserted(&self, inserted: &[&(String, String)]) -> Incoming {
        let old = &self.headers;
        let extra: usize = inserted.iter().map(|(n, v)| n.len() + v.len()).sum();
        let mut bytes = BytesMut::with_capacity(old.bytes.len() + extra);
        bytes.put_slice(&old.bytes);
        let mut fields: Vec<(Range<usize>, Range<usize>)> = old
            .fields
            .iter()
            .filter(|(name, _)| {
                let name = old.bytes.get(name.clone()).unwrap_or_default();
                !inserted
                    .iter()
                    .any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            })
            .cloned()
            .collect();
        for (name, value) in inserted {
            let name_start = bytes.len();
            bytes.put_slice(name.as_bytes());
            let value_start = bytes.len();
            bytes.put_slice(value.as_bytes());
            fields.push((name_start..value_start, value_start..bytes.len()));
        }
        Incoming {
            method: self.method.clone(),
            secure: self.secure,
            peer: self.peer.clone(),
            target: self.target.clone(),
            headers: Headers {
                bytes: bytes.freeze(),
                fields,
            },
            arrived: self.arrived,
        }
    }

    /// The host the request is for: an absolute-form target's, else the Host header's (a
    /// server ignores the Host header of an absolute-form request, RFC 9112 §3.2.2).
    pub fn host(&self) -> Option<&str> {
        match &self.target.host {
            Some(host) => std::str::from_utf8(self.headers.bytes.get(host.clone())?).ok(),
            None => self.headers.get_str("host"),
        }
    }
}

/// Splits a request target into path, query and (for the absolute form) host, as ranges of
/// `target`. The origin form (`/path?query`) is what clients send; the absolute form
/// (`http://host/path`) is what proxies send; `*` (for `OPTIONS *`) is a path of its own.
/// A fragment (`#...`), which clients should not send, is cut off. `None` for a target that
/// is not UTF-8 or holds a byte `http`'s `Uri` refuses (`<`, `>`, and `` ` `` in the path):
/// the gateway answered 400 to those before it read targets itself, and still does.
fn split_target(target: &[u8]) -> Option<TargetParts> {
    // One pass over the bytes, by class (a table: this runs for every request).
    const NORMAL: u8 = 0;
    const QUERY: u8 = 1;
    const FRAGMENT: u8 = 2;
    const REFUSED_IN_PATH: u8 = 3;
    const REFUSED: u8 = 4;
    const HIGH: u8 = 5;
    const CLASSES: [u8; 256] = {
        let mut classes = [NORMAL; 256];
        classes[b'?' as usize] = QUERY;
        classes[b'#' as usize] = FRAGMENT;
        classes[b'`' as usize] = REFUSED_IN_PATH;
        classes[b'<' as usize] = REFUSED;
        classes[b'>' as usize] = REFUSED;
        let mut byte = 0x80;
        while byte < 256 {
            classes[byte] = HIGH;
            byte += 1;
        }
        classes
    };
    let (start, host) = match target.first() {
        Some(b'/') => (0, None),
        Some(b'*') if target.len() == 1 => {
            return Some(TargetParts {
                path: 0..1,
                query: None,
                host: None,
            });
        }
        _ => absolute_form(target)?,
    };
    let mut query_at = None;
    let mut end = target.len();
    let mut high = false;
    for (at, &byte) in target.iter().enumerate().skip(start) {
        match CLASSES[usize::from(byte)] {
            NORMAL => {}
            QUERY if query_at.is_none() => query_at = Some(at),
            QUERY => {}
            FRAGMENT => {
                end = at;
                break;
            }
            REFUSED_IN_PATH if query_at.is_some() => {}
            HIGH => high = true,
            _ => return None,
        }
    }
    // (`httparse` refuses such targets already; this keeps the function whole on its own.)
    if high && std::str::from_utf8(&target[..end]).is_err() {
        return None;
    }
    let (path, query) = match query_at {
        Some(mark) => (start..mark, Some(mark + 1..end)),
        None => (start..end, None),
    };
    Some(TargetParts { path, query, host })
}

/// Where the path of an absolute-form target (`scheme://authority/path?query`) starts, and
/// the authority's host (without user info or port, as `Uri::host` gives it).
fn absolute_form(target: &[u8]) -> Option<(usize, Option<Range<usize>>)> {
    let scheme_end = target.windows(3).position(|w| w == b"://")?;
    let authority = scheme_end + 3;
    let authority_end = authority
        + target[authority..]
            .iter()
            .position(|&b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(target.len() - authority);
    let text = &target[authority..authority_end];
    let host_start = authority + text.iter().rposition(|&b| b == b'@').map_or(0, |at| at + 1);
    let host = &target[host_start..authority_end];
    let host_end = if host.first() == Some(&b'[') {
        host_start + host.iter().position(|&b| b == b']')? + 1
    } else {
        host_start + host.iter().position(|&b| b == b':').unwrap_or(host.len())
    };
    Some((authority_end, Some(host_start..host_end)))
}

/// A request's header fields in the order they came, names as the client wrote them.
/// Lookups ignore case, as HTTP field names do.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    bytes: Bytes,
    /// Name and value of each field, as ranges of `bytes`.
    fields: Vec<(Range<usize>, Range<usize>)>,
}

impl Headers {
    /// Headers from name and value pairs (a test invocation's). Pairs a request could not
    /// carry (a name that is not a token, a value with a line break) are left out.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut bytes = BytesMut::new();
        let mut fields = Vec::new();
        for (name, value) in pairs {
            if HeaderName::from_bytes(name.as_bytes()).is_err()
                || HeaderValue::from_str(value).is_err()
            {
                continue;
            }
            let name_start = bytes.len();
            bytes.put_slice(name.as_bytes());
            let value_start = bytes.len();
            bytes.put_slice(value.as_bytes());
            fields.push((name_start..value_start, value_start..bytes.len()));
        }
        Self {
            bytes: bytes.freeze(),
            fields,
        }
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Each field's name and value, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.fields.iter().map(|(name, value)| {
            (
                self.bytes.get(name.clone()).unwrap_or_default(),
                self.bytes.get(value.clone()).unwrap_or_default(),
            )
        })
    }

    /// Each field whose name is text, as `(name, value)`: the view SigV4 and WAF read
    /// headers through.
    pub fn named(&self) -> Vec<(&str, &[u8])> {
        self.iter()
            .filter_map(|(name, value)| Some((std::str::from_utf8(name).ok()?, value)))
            .collect()
    }

    /// The value of the first field named `name` (any case).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, value)| value)
    }

    /// The value of the first field named `name`, when it is visible ASCII (what
    /// `HeaderValue::to_str` accepts).
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(visible_text)
    }

    /// The fields as a map (lowercase names), for what needs one: header mappings and the
    /// logs of test invocations.
    pub fn to_map(&self) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(self.len());
        for (name, value) in self.iter() {
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
            {
                map.append(name, value);
            }
        }
        map
    }
}

/// A field value of [`Headers`] as text when it is visible ASCII, spaces and tabs (what
/// `HeaderValue::to_str` accepts). Such values hold no other control byte (`causeway-http1`
/// and `HeaderValue` refuse them), so the check is `is_ascii`, made a word at a time.
/// The parameters of a query string, names and values percent-decoded (bytes that do not
/// decode to UTF-8 become U+FFFD), in order; empty pairs (`a&&b`) are skipped.
pub(crate) fn query_pairs(
    query: Option<&str>,
) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    let decoded = |text| percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|pair| !pair.is_empty())
        .map(move |pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decoded(k), decoded(v))
        })
}

/// The value a mapping source `method.request.{location}.{name}` reads from the request's
/// headers or query (`location_name` is what follows `method.request.`): the first value for
/// `header` and `querystring`, every value comma-joined for `multivalueheader` and
/// `multivaluequerystring`, query values decoded. `None` for other locations (the path, the
/// body), which the caller reads; `Some(None)` when the request has no such parameter.
pub(crate) fn header_or_query(
    headers: Option<&Headers>,
    query: Option<&str>,
    location_name: &str,
) -> Option<Option<String>> {
    let (location, name) = location_name.split_once('.')?;
    let query_values = || {
        query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter_map(move |pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (k == name).then(|| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                })
            })
    };
    let joined = |values: Vec<String>| (!values.is_empty()).then(|| values.join(","));
    Some(match location {
        "header" => headers.and_then(|h| h.get_str(name)).map(str::to_owned),
        "querystring" => query_values().next(),
        "multivalueheader" => joined(
            headers
                .into_iter()
                .flat_map(Headers::iter)
                .filter(|(field, _)| field.eq_ignore_ascii_case(name.as_bytes()))
                .filter_map(|(_, value)| visible_text(value).map(str::to_owned))
                .collect(),
        ),
        "multivaluequerystring" => joined(query_values().collect()),
        _ => return None,
    })
}

pub(crate) fn visible_text(value: &[u8]) -> Option<&str> {
    if value.is_ascii() {
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The request in `head`; `None` when it is refused (by `causeway-http1` or here).
    fn parsed(head: &'static [u8]) -> Option<Incoming> {
        let parsed = causeway_http1::parse_request(head).ok()??;
        Incoming::from_head(
            Bytes::from_static(head),
            parsed.method,
            parsed.target,
            parsed.headers,
            std::time::Instant::now(),
        )
    }

    #[test]
    fn targets_split_into_path_query_and_host() {
        let request =
            parsed(b"GET /a/b%20c?x=1&y=%3F HTTP/1.1\r\nHost: api.example\r\nX-Two: 2\r\n\r\n")
                .unwrap();
        assert_eq!(request.method, Method::GET);
        assert_eq!(request.path_and_query(), ("/a/b%20c", Some("x=1&y=%3F")));
        assert_eq!(request.host(), Some("api.example"));

        let request = parsed(b"GET /p#frag HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(request.path_and_query(), ("/p", None));
        let request = parsed(b"GET /p?#frag HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(request.path_and_query(), ("/p", Some("")));

        let request =
            parsed(b"GET http://user@abc.execute-api.local:8080/prod/x?q HTTP/1.1\r\n\r\n")
                .unwrap();
        assert_eq!(request.path_and_query(), ("/prod/x", Some("q")));
        assert_eq!(request.host(), Some("abc.execute-api.local"));
        let request = parsed(b"GET http://[::1]:80?q HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(request.path_and_query(), ("", Some("q")));
        assert_eq!(request.host(), Some("[::1]"));

        assert!(split_target(b"/\xff").is_none());
        assert!(split_target(b"/\xff#\xff").is_none());
        let request = parsed(b"OPTIONS * HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(request.path_and_query(), ("*", None));
        let request = parsed(b"GET /caf\xc3\xa9?q=\xc3\xa9 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(request.path_and_query(), ("/café", Some("q=é")));

        for refused in [
            &b"GET /a<b HTTP/1.1\r\n\r\n"[..],
            b"GET /a?x=> HTTP/1.1\r\n\r\n",
            b"GET /a` HTTP/1.1\r\n\r\n",
            b"GET example.com:443 HTTP/1.1\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
        ] {
            let head: &'static [u8] = Box::leak(refused.to_vec().into_boxed_slice());
            assert!(parsed(head).is_none(), "{}", String::from_utf8_lossy(head));
        }
        // `` ` `` is allowed in a query, as `Uri` allows it.
        assert!(parsed(b"GET /a?`x HTTP/1.1\r\n\r\n").is_some());
    }

    #[test]
    fn headers_keep_their_order_and_case_and_are_found_in_any_case() {
        let request = parsed(
            b"POST / HTTP/1.1\r\nHost: h\r\nX-Multi: 1\r\nContent-Type: text/plain\r\nx-multi: 2\r\nX-Bin: \xe9t\xe9\r\n\r\n",
        )
        .unwrap();
        let headers = &request.headers;
        assert_eq!(headers.len(), 5);
        let names: Vec<&[u8]> = headers.iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                &b"Host"[..],
                b"X-Multi",
                b"Content-Type",
                b"x-multi",
                b"X-Bin"
            ]
        );
        assert_eq!(headers.get("x-multi"), Some(&b"1"[..]));
        assert_eq!(headers.get_str("CONTENT-TYPE"), Some("text/plain"));
        assert_eq!(headers.get("x-bin"), Some(&b"\xe9t\xe9"[..]));
        assert_eq!(headers.get_str("x-bin"), None);
        assert_eq!(headers.get("accept"), None);
        let map = headers.to_map();
        assert_eq!(map.get_all("x-multi").iter().count(), 2);
        assert_eq!(map["content-type"], "text/plain");
    }

    #[test]
    fn headers_from_pairs_leave_out_what_a_request_cannot_carry() {
        let headers = Headers::from_pairs([
            ("Accept", "text/html"),
            ("bad name", "x"),
            ("X-Split", "a\r\nb"),
        ]);
        assert_eq!(headers.len(), 1);
        assert_eq!(headers.get_str("accept"), Some("text/html"));
    }
}
