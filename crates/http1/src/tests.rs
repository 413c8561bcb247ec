use super::*;

fn head(text: &str) -> ResponseHead {
    parse_response(text.as_bytes(), false).unwrap().unwrap()
}

fn header<'b>(buf: &'b [u8], head: &ResponseHead, name: &str) -> Option<&'b [u8]> {
    head.headers
        .iter()
        .find(|(n, _)| buf[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| &buf[v.clone()])
}

#[test]
fn a_response_head_gives_status_headers_and_length() {
    let text = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Thing:  a b \r\n\r\nhello";
    let parsed = head(text);
    assert_eq!(parsed.status, 201);
    assert_eq!(parsed.minor_version, 1);
    assert_eq!(parsed.len, text.len() - 5);
    assert_eq!(parsed.framing, Framing::Length(5));
    assert!(parsed.keep_alive);
    assert_eq!(
        header(text.as_bytes(), &parsed, "x-thing"),
        Some(&b"a b"[..])
    );
    assert_eq!(parsed.headers.len(), 2);
}

#[test]
fn an_incomplete_head_asks_for_more_and_an_endless_one_is_refused() {
    assert_eq!(
        parse_response(b"HTTP/1.1 200 OK\r\nContent-Le", false),
        Ok(None)
    );
    let mut endless = b"HTTP/1.1 200 OK\r\n".to_vec();
    while endless.len() <= MAX_HEAD_BYTES {
        endless.extend_from_slice(b"x-filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    assert!(matches!(
        parse_response(&endless, false),
        Err(Error::HeadTooLarge | Error::TooManyHeaders)
    ));
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..=MAX_HEADERS {
        many.extend_from_slice(format!("x-{i}: 1\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert_eq!(parse_response(&many, false), Err(Error::TooManyHeaders));
    assert!(matches!(
        parse_response(b"HTTP/1.1 2x0 OK\r\n\r\n", false),
        Err(Error::Head(_))
    ));
    assert!(matches!(
        parse_response(b"garbage\r\n\r\n", false),
        Err(Error::Head(_))
    ));
}

#[test]
fn framing_follows_rfc_9112() {
    assert_eq!(
        head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").framing,
        Framing::Chunked
    );
    assert_eq!(
        head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").framing,
        Framing::Chunked
    );
    // A coding other than chunked last: the body runs until the close.
    let gzip = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
    assert_eq!(gzip.framing, Framing::UntilClose);
    assert!(!gzip.keep_alive);
    // Both: Transfer-Encoding wins, and the connection is not reused.
    let both = head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(both.framing, Framing::Chunked);
    assert!(!both.keep_alive);
    // Neither: until the close.
    let neither = head("HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(neither.framing, Framing::UntilClose);
    assert!(!neither.keep_alive);
    // No body whatever the headers say.
    for status in ["204 No Content", "304 Not Modified", "100 Continue"] {
        let parsed = head(&format!("HTTP/1.1 {status}\r\nContent-Length: 10\r\n\r\n"));
        assert_eq!(parsed.framing, Framing::Empty, "{status}");
    }
    assert!(head("HTTP/1.1 100 Continue\r\n\r\n").is_interim());
    let to_head = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true)
        .unwrap()
        .unwrap();
    assert_eq!(to_head.framing, Framing::Empty);
    assert!(to_head.keep_alive);
    assert_eq!(
        parse_response(b"HTTP/1.1 101 Switching Protocols\r\n\r\n", false),
        Err(Error::SwitchingProtocols)
    );
}

#[test]
fn content_length_must_be_one_number() {
    assert_eq!(
        head("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n").framing,
        Framing::Length(7)
    );
    assert_eq!(
        head("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n").framing,
        Framing::Length(7)
    );
    for bad in [
        "Content-Length: 7, 8",
        "Content-Length: -1",
        "Content-Length: 1e3",
        "Content-Length: ",
        "Content-Length: 99999999999999999999",
        "Content-Length: 7\r\nContent-Length: 8",
    ] {
        assert_eq!(
            parse_response(
                format!("HTTP/1.1 200 OK\r\n{bad}\r\n\r\n").as_bytes(),
                false
            ),
            Err(Error::ContentLength),
            "{bad}"
        );
    }
}

#[test]
fn connection_reuse_follows_the_version_and_the_connection_header() {
    assert!(!head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").keep_alive);
    assert!(
        !head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: upgrade, Close\r\n\r\n")
            .keep_alive
    );
    assert!(!head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
    assert!(
        head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n").keep_alive
    );
    assert!(
        head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n").keep_alive
    );
}

#[test]
fn request_heads_are_written_with_a_length() {
    let mut headers = Vec::new();
    write_header(&mut headers, "host", b"example.com");
    write_header(&mut headers, "x-a", b"1");
    let mut out = Vec::new();
    write_request_head(&mut out, "POST", "/pets?a=1", &headers, Some(1234567));
    assert_eq!(
        out,
        b"POST /pets?a=1 HTTP/1.1\r\nhost: example.com\r\nx-a: 1\r\ncontent-length: 1234567\r\n\r\n"
    );
    out.clear();
    write_request_head(&mut out, "GET", "/", b"", Some(0));
    assert_eq!(out, b"GET / HTTP/1.1\r\ncontent-length: 0\r\n\r\n");
    out.clear();
    write_request_head(&mut out, "GET", "/", b"", None);
    assert_eq!(out, b"GET / HTTP/1.1\r\n\r\n");
    out.clear();
    write_decimal(&mut out, 0);
    write_decimal(&mut out, u64::MAX);
    assert_eq!(out, b"018446744073709551615");
    out.clear();
    write_chunk_size(&mut out, 0);
    write_chunk_size(&mut out, 10_000);
    assert_eq!(out, b"0\r\n2710\r\n");
    assert_eq!(
        decode_all(b"2\r\nok\r\n0\r\n\r\n").unwrap().unwrap().0,
        b"ok"
    );
}

#[test]
fn chunked_bodies_decode_whole_and_byte_by_byte() {
    let encoded =
        b"5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\nNEXT".as_slice();
    let (body, used) = decode_all(encoded).unwrap().unwrap();
    assert_eq!(body, b"hello, world");
    assert_eq!(
        &encoded[used..],
        b"NEXT",
        "the bytes after the body are left"
    );
    // Fed one byte at a time.
    let mut decoder = ChunkedDecoder::new();
    let mut body = Vec::new();
    for (i, byte) in encoded.iter().enumerate() {
        if decoder.is_done() {
            assert_eq!(&encoded[i..], b"NEXT");
            break;
        }
        let step = decoder.decode(std::slice::from_ref(byte)).unwrap();
        assert!(step.skip + step.data <= 1);
        if step.data == 1 {
            body.push(*byte);
        }
    }
    assert!(decoder.is_done());
    assert_eq!(body, b"hello, world");
    assert_eq!(
        decode_all(b"A\r\n0123456789\r\n0\r\n\r\n")
            .unwrap()
            .unwrap()
            .0,
        b"0123456789"
    );
    assert_eq!(decode_all(b"0\r\n\r\n").unwrap().unwrap().0, b"");
}

#[test]
fn incomplete_chunked_bodies_wait_and_malformed_ones_fail() {
    assert_eq!(decode_all(b"5\r\nhel"), Ok(None));
    assert_eq!(decode_all(b"5\r\nhello\r\n0\r\n"), Ok(None));
    for bad in [
        &b"x\r\n"[..],
        b"\r\n",
        b"5\nhello",
        b"5\r\nhelloX\r\n",
        b"5\r\nhello\rX",
        b"11111111111111111\r\n",
        b"0\r\n\r\r",
        b"5;\n",
    ] {
        assert!(
            matches!(decode_all(bad), Err(Error::Chunked(_))),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let mut long_extension = b"1;".to_vec();
    long_extension.resize(MAX_EXTENSION_BYTES + 10, b'a');
    assert!(decode_all(&long_extension).is_err());
    let mut long_trailer = b"0\r\n".to_vec();
    long_trailer.resize(MAX_TRAILER_BYTES + 10, b'a');
    assert!(decode_all(&long_trailer).is_err());
    let mut zeros = vec![b'0'; 100];
    zeros.extend_from_slice(b"1\r\n");
    assert!(decode_all(&zeros).is_err());
    // 16 hex digits fit a u64.
    assert_eq!(decode_all(b"000000000000000F\r\n"), Ok(None));
}

fn request(text: &str) -> Result<Option<RequestHead>, Error> {
    parse_request(text.as_bytes())
}

#[test]
fn request_heads_give_method_target_headers_and_framing() {
    let text = "POST /pets?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    let head = request(text).unwrap().unwrap();
    assert_eq!(&text[head.method.clone()], "POST");
    assert_eq!(&text[head.target.clone()], "/pets?x=1");
    assert_eq!(head.len, text.len() - 3);
    assert_eq!(head.framing, RequestFraming::Length(3));
    assert!(head.keep_alive);
    assert!(!head.expect_continue);
    assert_eq!(head.headers.len(), 2);
    assert_eq!(request("GET / HTTP/1.1\r\nHost: a\r\n"), Ok(None));
    let get = request("GET / HTTP/1.1\r\n\r\n").unwrap().unwrap();
    assert_eq!(get.framing, RequestFraming::Empty);
    let chunked =
        request("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
            .unwrap()
            .unwrap();
    assert_eq!(chunked.framing, RequestFraming::Chunked);
    assert!(chunked.expect_continue);
    let both = request("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(both.framing, RequestFraming::Chunked);
    assert!(!both.keep_alive);
    assert!(
        !request("GET / HTTP/1.0\r\n\r\n")
            .unwrap()
            .unwrap()
            .keep_alive
    );
    assert!(
        request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap()
            .unwrap()
            .keep_alive
    );
    assert!(
        !request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap()
            .keep_alive
    );
}

#[test]
fn requests_whose_end_is_unclear_are_refused() {
    for bad in [
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
    ] {
        assert!(request(bad).is_err(), "{bad:?}");
    }
    let mut endless = b"GET / HTTP/1.1\r\n".to_vec();
    while endless.len() <= MAX_HEAD_BYTES {
        endless.extend_from_slice(b"x-filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    assert!(parse_request(&endless).is_err());
}

#[test]
fn status_lines() {
    let mut out = Vec::new();
    write_status_line(&mut out, 404, "Not Found");
    assert_eq!(out, b"HTTP/1.1 404 Not Found\r\n");
}

#[test]
fn empty_values_lie_inside_the_head() {
    for text in [
        "HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Blank:   \r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\nX-Empty:\nContent-Length: 0\n\n",
    ] {
        let parsed = head(text);
        for (name, value) in &parsed.headers {
            assert!(
                name.end <= parsed.len && value.end <= parsed.len,
                "{text:?}"
            );
            assert!(value.start >= name.end, "{text:?}");
        }
        assert_eq!(header(text.as_bytes(), &parsed, "x-empty"), Some(&b""[..]));
    }
    let text = "GET / HTTP/1.1\r\nX-Empty:\r\nX-Blank: \t \r\n\r\n";
    let parsed = request(text).unwrap().unwrap();
    for (name, value) in &parsed.headers {
        assert!(name.end <= parsed.len && value.start >= name.end && value.is_empty());
    }
}

#[test]
fn field_names_match_in_any_case_and_only_exactly() {
    assert!(is_name(b"Content-Length", b"content-length"));
    assert!(is_name(b"CONNECTION", b"connection"));
    assert!(!is_name(b"Content-Lengt", b"content-length"));
    assert!(!is_name(b"Content_Length", b"content-length"));
    assert!(!is_name(b"Content-Lengthx", b"content-length"));
    assert!(!is_name(b"expecT!", b"expect"));
    // Every token byte against every letter and `-`: bit 5 folds only letters.
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    for a in (0..=255u8).filter(|&b| token(b)) {
        for b in (b'a'..=b'z').chain([b'-']) {
            assert_eq!(is_name(&[a], &[b]), a.to_ascii_lowercase() == b, "{a} {b}");
        }
    }
}
