//! Fuzzes SigV4 checking, which reads what any caller sends to the management APIs and to
//! AWS_IAM methods: the input, split at newlines, is a method, a path, a query, header lines
//! (`name: value`) and, after an empty line, a body. Reading the signature, checking its
//! scope and time and verifying it must never panic, and must decide the same way twice.
#![no_main]

use causeway_sigv4::{Expected, Identity, Keyring, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or("GET");
    let path = lines.next().unwrap_or("/");
    let query = lines.next().unwrap_or("");
    let headers: Vec<(&str, &[u8])> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name, value.trim_start().as_bytes()))
        .collect();
    let request = Request {
        method,
        path,
        query,
        headers,
    };
    let keyring = Keyring::of([Identity::new(
        "alice",
        ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None),
        "arn:aws:iam::123456789012:user/alice",
        None,
    )
    .expect("a valid identity")]);
    let decide = || {
        let signature = causeway_sigv4::parse(&request)?;
        causeway_sigv4::check_scope_and_time(
            &signature,
            &Expected {
                region: "us-east-1",
                services: &["execute-api", "service"],
                now: 1_440_938_160,
            },
        )?;
        let identity = keyring
            .get(&signature.access_key)
            .ok_or(causeway_sigv4::Error::UnknownKey)?;
        causeway_sigv4::verify(
            &request,
            &signature,
            identity,
            &causeway_sigv4::payload_hash(body),
        )
    };
    let first = decide();
    assert_eq!(first, decide());
    if let Err(error) = first {
        let _ = (error.detailed_message(), error.query_message(), error.error_type());
    }
});
