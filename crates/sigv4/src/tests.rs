#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use super::*;

const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 20150830T123600Z, the time of AWS's SigV4 test suite.
const SUITE_TIME: i64 = 1_440_938_160;

fn identity(token: Option<&str>) -> Identity {
    Identity::new(
        "default",
        (KEY, SECRET, token),
        "arn:aws:iam::123456789012:user/alice",
        None,
    )
    .unwrap()
}

fn expected(service: &'static [&'static str], now: i64) -> Expected<'static> {
    Expected {
        region: "us-east-1",
        services: service,
        now,
    }
}

fn request<'a>(
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &[(&'a str, &'a str)],
) -> Request<'a> {
    Request {
        method,
        path,
        query,
        headers: headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect(),
    }
}

/// The hash of the canonical request, the last line of the string to sign, for the cases
/// of AWS's SigV4 test suite (service `service`, key `AKIDEXAMPLE`).
#[test]
fn canonical_requests_match_aws_test_suite() {
    let host = ("Host", "example.amazonaws.com");
    let date = ("X-Amz-Date", "20150830T123600Z");
    let empty = payload_hash(b"");
    for (name, req, signed, hash) in [
        (
            "get-vanilla",
            request("GET", "/", "", &[host, date]),
            "host;x-amz-date",
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        ),
        (
            "get-vanilla-empty-query-key",
            request("GET", "/", "Param1=value1", &[host, date]),
            "host;x-amz-date",
            "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
        ),
        (
            "post-vanilla-query",
            request("POST", "/", "Param1=value1", &[host, date]),
            "host;x-amz-date",
            "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
        ),
        (
            "get-utf8",
            request("GET", "/ሴ", "", &[host, date]),
            "host;x-amz-date",
            "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
        ),
        (
            "get-slashes (normalize-path)",
            request("GET", "//example//", "", &[host, date]),
            "host;x-amz-date",
            "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
        ),
        (
            "get-slash-pointless-dot (normalize-path)",
            request("GET", "/./example", "", &[host, date]),
            "host;x-amz-date",
            "214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
        ),
    ] {
        let canonical = canonical::request(&req, signed, false, &empty);
        let sts = canonical::string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/service/aws4_request",
            &canonical,
        );
        assert_eq!(sts.lines().last(), Some(hash), "{name}:\n{canonical}");
    }
}

/// The first SigV4 test suite's `get-vanilla` (2011), which sends `Date`, not
/// `X-Amz-Date`: the header is signed as sent, and its time goes into the string to sign in
/// the basic format.
#[test]
fn a_date_header_stands_for_x_amz_date() {
    let authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470";
    let headers = [
        ("Date", "Mon, 09 Sep 2011 23:36:00 GMT"),
        ("Host", "host.foo.com"),
        ("Authorization", authorization),
    ];
    let req = request("GET", "/", "", &headers);
    let signature = parse(&req).unwrap();
    assert_eq!(signature.timestamp, "20110909T233600Z");
    check_scope_and_time(&signature, &expected(&["host"], 1_315_611_360)).unwrap();
    verify(&req, &signature, &identity(None), &payload_hash(b"")).unwrap();
    let later = [
        ("Date", "Mon, 09 Sep 2011 23:36:01 GMT"),
        ("Host", "host.foo.com"),
        ("Authorization", authorization),
    ];
    let changed = request("GET", "/", "", &later);
    let signature = parse(&changed).unwrap();
    assert!(verify(&changed, &signature, &identity(None), &payload_hash(b"")).is_err());
    // A `Date` that is not an HTTP date is refused as AWS refuses it.
    let bad = [
        ("Date", "yesterday"),
        ("Host", "host.foo.com"),
        ("Authorization", authorization),
    ];
    let error = parse(&request("GET", "/", "", &bad)).unwrap_err();
    assert!(
        matches!(&error, Error::Incomplete(m) if m.contains("ISO-8601")),
        "{error:?}"
    );
}

#[test]
fn get_vanilla_verifies_and_a_changed_request_does_not() {
    let authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", authorization),
    ];
    let req = request("GET", "/", "", &headers);
    let signature = parse(&req).unwrap();
    assert_eq!(signature.access_key, "AKIDEXAMPLE");
    assert_eq!(signature.scope(), "20150830/us-east-1/service/aws4_request");
    check_scope_and_time(&signature, &expected(&["service"], SUITE_TIME)).unwrap();
    verify(&req, &signature, &identity(None), &payload_hash(b"")).unwrap();

    // Another path, another query, another host, another body, another secret: refused.
    for changed in [
        request("GET", "/x", "", &headers),
        request("GET", "/", "a=b", &headers),
        request("POST", "/", "", &headers),
    ] {
        let error = verify(&changed, &signature, &identity(None), &payload_hash(b"")).unwrap_err();
        assert!(matches!(error, Error::Mismatch { .. }), "{error:?}");
    }
    let error = verify(&req, &signature, &identity(None), &payload_hash(b"x")).unwrap_err();
    let Error::Mismatch {
        canonical_request,
        string_to_sign,
    } = error
    else {
        panic!("{error:?}");
    };
    assert!(canonical_request.starts_with("GET\n/\n\nhost:example.amazonaws.com\n"));
    assert!(string_to_sign.starts_with("AWS4-HMAC-SHA256\n20150830T123600Z\n"));
    let other = Identity::new(
        "x",
        (KEY, "another", None),
        "arn:aws:iam::123456789012:user/x",
        None,
    )
    .unwrap();
    assert!(matches!(
        verify(&req, &signature, &other, &payload_hash(b"")),
        Err(Error::Mismatch { .. })
    ));
    // A session token the identity does not have, or lacks: unknown.
    assert_eq!(
        verify(&req, &signature, &identity(Some("t")), &payload_hash(b"")),
        Err(Error::UnknownKey)
    );
}

#[test]
fn scope_and_time_are_checked_before_the_key() {
    let sig = |credential: &str, date: &str| {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host;x-amz-date, Signature=00"
        );
        let headers = [
            ("X-Amz-Date", date),
            ("Authorization", authorization.as_str()),
        ];
        let req = request("GET", "/", "", &headers);
        let signature = parse(&req).map(|s| Signature {
            access_key: Cow::Owned(s.access_key.into_owned()),
            date: Cow::Owned(s.date.into_owned()),
            region: Cow::Owned(s.region.into_owned()),
            service: Cow::Owned(s.service.into_owned()),
            terminator: Cow::Owned(s.terminator.into_owned()),
            signed_headers: Cow::Owned(s.signed_headers.into_owned()),
            signature: Cow::Owned(s.signature.into_owned()),
            timestamp: Cow::Owned(s.timestamp.into_owned()),
            expires: s.expires,
            security_token: None,
        });
        signature.and_then(|s| check_scope_and_time(&s, &expected(&["execute-api"], SUITE_TIME)))
    };
    let ok = "AKID/20150830/us-east-1/execute-api/aws4_request";
    assert_eq!(sig(ok, "20150830T123600Z"), Ok(()));
    assert_eq!(sig(ok, "20150830T123100Z"), Ok(()));
    assert_eq!(
        sig(ok, "20150830T123059Z"),
        Err(Error::Expired(
            "Signature expired: 20150830T123059Z is now earlier than 20150830T123100Z (20150830T123600Z - 5 min.)".into()
        ))
    );
    assert_eq!(
        sig(ok, "20150830T124101Z"),
        Err(Error::NotYetCurrent(
            "Signature not yet current: 20150830T124101Z is still later than 20150830T124100Z (20150830T123600Z + 5 min.)".into()
        ))
    );
    assert_eq!(
        sig(
            "AKID/20150830/eu-west-1/execute-api/aws4_request",
            "20150830T123600Z"
        ),
        Err(Error::Invalid(
            "Credential should be scoped to a valid region. ".into()
        ))
    );
    assert_eq!(
        sig("AKID/20150830/eu-west-1/apigateway/aws4_request", "20150830T123600Z"),
        Err(Error::Invalid("Credential should be scoped to a valid region. Credential should be scoped to correct service: 'execute-api'. ".into()))
    );
    assert!(matches!(
        sig("AKID/20150829/us-east-1/execute-api/aws4_request", "20150830T123600Z"),
        Err(Error::Invalid(m)) if m.contains("Date in Credential scope")
    ));
    assert!(matches!(
        sig("AKID/us-east-1/execute-api/aws4_request", "20150830T123600Z"),
        Err(Error::Incomplete(m)) if m.starts_with("Credential must have exactly 5 slash-delimited elements")
    ));
    assert!(matches!(
        sig(ok, "yesterday"),
        Err(Error::Incomplete(m)) if m.contains("ISO-8601")
    ));
}

#[test]
fn malformed_authorization_headers_are_incomplete() {
    let parse_with = |authorization: &str, date: Option<&str>| {
        let mut headers = vec![("Authorization", authorization)];
        if let Some(date) = date {
            headers.push(("X-Amz-Date", date));
        }
        parse(&request("GET", "/", "", &headers)).map(|_| ())
    };
    assert_eq!(parse(&request("GET", "/", "", &[])), Err(Error::Missing));
    let Err(Error::Incomplete(message)) = parse_with("Bearer abc.def", None) else {
        panic!()
    };
    assert_eq!(
        message,
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc.def"
    );
    let Err(Error::Incomplete(message)) = parse_with(
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host",
        Some("20150830T123600Z"),
    ) else {
        panic!()
    };
    assert!(message.starts_with("Authorization header requires 'Signature' parameter."));
    let Err(Error::Incomplete(message)) = parse_with("AWS4-HMAC-SHA256 abc", Some("x")) else {
        panic!()
    };
    assert_eq!(
        message,
        "'abc' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 abc'."
    );
}

/// Requests signed by the AWS SDK for Rust's own signer verify, with and without a body,
/// a query, odd paths and a session token, by header and presigned.
#[test]
fn what_the_aws_sdk_signs_verifies() {
    let now = 1_700_000_000;
    let cases: &[(&str, &str, &[u8])] = &[
        (
            "GET",
            "https://abc123.execute-api.us-east-1.amazonaws.com/prod/pets",
            b"",
        ),
        (
            "POST",
            "https://h.example/prod/pets?b=2&a=1&a=0&empty=&flag",
            b"{\"name\":\"rex\"}",
        ),
        (
            "PUT",
            "https://h.example/prod/a%20b/%C3%A9/x%2Fy/~t",
            b"\x00\x01binary",
        ),
        (
            "GET",
            "https://h.example:8080/restapis/abc/prod/_user_request_/q?x=a%2Bb&y=%3D&z=%20&p=a+b",
            b"",
        ),
        ("DELETE", "https://h.example/prod//double//slashes/", b""),
    ];
    for token in [None, Some("session-token")] {
        for presign in [false, true] {
            for (method, url, body) in cases {
                let credentials = aws_credential_types::Credentials::new(
                    KEY,
                    SECRET,
                    token.map(str::to_owned),
                    None,
                    "test",
                );
                let identity_ = credentials.into();
                let mut settings = SigningSettings::default();
                if presign {
                    settings.signature_location =
                        aws_sigv4::http_request::SignatureLocation::QueryParams;
                    settings.expires_in = Some(Duration::from_secs(300));
                }
                let params = v4::SigningParams::builder()
                    .identity(&identity_)
                    .region("us-east-1")
                    .name("execute-api")
                    .time(UNIX_EPOCH + Duration::from_secs(now as u64))
                    .settings(settings)
                    .build()
                    .unwrap()
                    .into();
                let headers = [
                    ("content-type", "application/json"),
                    ("x-custom", "  a   b "),
                ];
                let signable = SignableRequest::new(
                    method,
                    *url,
                    headers.iter().copied(),
                    SignableBody::Bytes(body),
                )
                .unwrap();
                let (instructions, _) = sign(signable, &params).unwrap().into_parts();
                let mut http_request = http::Request::builder().method(*method).uri(*url);
                for (name, value) in headers {
                    http_request = http_request.header(name, value);
                }
                let mut http_request = http_request.body(()).unwrap();
                instructions.apply_to_request_http1x(&mut http_request);
                let host = http_request.uri().authority().unwrap().as_str().to_owned();
                let mut header_lines: Vec<(&str, &[u8])> = http_request
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_bytes()))
                    .collect();
                header_lines.push(("Host", host.as_bytes()));
                let received = Request {
                    method,
                    path: http_request.uri().path(),
                    query: http_request.uri().query().unwrap_or_default(),
                    headers: header_lines,
                };
                let what = format!("{method} {url} token={token:?} presign={presign}");
                let signature = parse(&received).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(signature.presigned(), presign, "{what}");
                check_scope_and_time(&signature, &expected(&["execute-api"], now + 60))
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                verify(&received, &signature, &identity(token), &payload_hash(body))
                    .unwrap_or_else(|e| panic!("{what}: {e:?}"));
                // The same request with another body, or after its time: refused.
                assert!(
                    verify(
                        &received,
                        &signature,
                        &identity(token),
                        &payload_hash(b"tampered")
                    )
                    .is_err(),
                    "{what}"
                );
                let late = check_scope_and_time(&signature, &expected(&["execute-api"], now + 400));
                assert!(matches!(late, Err(Error::Expired(_))), "{what}: {late:?}");
            }
        }
    }
}
