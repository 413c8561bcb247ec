//! Fuzzes the gateway's invoke listener over real TCP connections: request lines, targets,
//! headers, bodies (by length and chunked), pipelining, routing and every integration type
//! of a small API, through one server started for the whole session. The first input byte
//! picks the start of a request aimed at the API; the rest follows as it is. A panic, a
//! connection neither answered nor closed, an answer that is no response or a 5xx is a
//! finding (see `causeway_server::fuzzing`).
#![no_main]

use std::sync::OnceLock;

use causeway_server::fuzzing::{Fixture, exercise, fixture};
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Some(fixture) = FIXTURE.get_or_init(fixture) {
        exercise(fixture, data);
    }
});
