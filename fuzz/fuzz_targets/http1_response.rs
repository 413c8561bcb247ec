//! Fuzzes what the gateway reads from backends: response heads, and chunked bodies fed in
//! arbitrary pieces. The first byte picks HEAD or not and the piece size; the rest is the
//! backend's bytes. Nothing may panic; a head's ranges must lie inside the input; a chunked
//! body must decode to the same bytes however it is cut, and must never report more bytes
//! than it was given. A second check encodes the input as chunks and decodes it back.
#![no_main]

use causeway_http1::{ChunkedDecoder, Framing, decode_all, parse_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&options, input)) = data.split_first() else {
        return;
    };
    let head_request = options & 1 == 1;
    let piece = usize::from(options >> 1).max(1);
    if let Ok(Some(head)) = parse_response(input, head_request) {
        assert!(head.len <= input.len());
        for (name, value) in &head.headers {
            assert!(name.end <= head.len && value.end <= head.len);
        }
        if head_request {
            assert_eq!(head.framing, Framing::Empty);
        }
        if head.framing == Framing::UntilClose {
            assert!(!head.keep_alive);
        }
    }

    // Whole, then in pieces: the same answer.
    let whole = decode_all(input);
    let mut decoder = ChunkedDecoder::new();
    let mut body = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut outcome = Ok(None);
    'feed: for chunk in input.chunks(piece) {
        pending.extend_from_slice(chunk);
        loop {
            match decoder.decode(&pending) {
                Err(error) => {
                    outcome = Err(error);
                    break 'feed;
                }
                Ok(step) => {
                    assert!(step.skip + step.data <= pending.len());
                    body.extend_from_slice(&pending[step.skip..step.skip + step.data]);
                    pending.drain(..step.skip + step.data);
                    if step.done {
                        outcome = Ok(Some(body.clone()));
                        break 'feed;
                    }
                    if step.skip == 0 && step.data == 0 {
                        break;
                    }
                }
            }
        }
    }
    match (&whole, &outcome) {
        (Ok(Some((expected, _))), Ok(Some(got))) => assert_eq!(expected, got),
        (Ok(Some(_)), _) => panic!("whole it decodes, in pieces it does not: {outcome:?}"),
        (Err(_), Ok(Some(_))) => panic!("in pieces it decodes, whole it does not"),
        _ => {}
    }

    // Any bytes, sent as chunks of `piece` bytes, come back as they were.
    let mut encoded = Vec::new();
    for chunk in input.chunks(piece) {
        encoded.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        encoded.extend_from_slice(chunk);
        encoded.extend_from_slice(b"\r\n");
    }
    encoded.extend_from_slice(b"0\r\n\r\n");
    let decoded = decode_all(&encoded);
    assert_eq!(decoded, Ok(Some((input.to_vec(), encoded.len()))));
});
