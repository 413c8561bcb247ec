//! Fuzzes the management API: request decoding, routing and PATCH application, through
//! `Control::handle` on an in-memory store.
#![no_main]

use std::sync::OnceLock;

use causeway_control::Control;
use causeway_control::fuzzing::{exercise, fixture};
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<Option<(Control, Vec<String>)>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Some((control, paths)) = FIXTURE.get_or_init(fixture) {
        exercise(control, paths, data);
    }
});
