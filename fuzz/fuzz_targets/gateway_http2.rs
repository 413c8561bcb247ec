//! Fuzzes the gateway's HTTP/2 over its HTTPS listener: each input is a script of frames
//! (requests with fields picked from the API's paths and from fields the gateway treats
//! specially, bodies, trailers, CONTINUATION, resets, window updates, settings, pings,
//! GOAWAY, and now and then frames that break the protocol), written on a new TLS
//! connection that chose `h2`, through one server started for the session. A panic, a
//! stream the client ended and never answered, a PING not acknowledged, or a 5xx is a
//! finding (see `causeway_server::fuzzing::http2`).
#![no_main]

use std::sync::OnceLock;

use causeway_server::fuzzing::http2::exercise_http2;
use causeway_server::fuzzing::{Fixture, fixture};
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Some(fixture) = FIXTURE.get_or_init(fixture) {
        exercise_http2(fixture, data);
    }
});
