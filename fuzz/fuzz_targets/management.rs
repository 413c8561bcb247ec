//! Fuzzes the management API: request decoding, routing and PATCH application, through
//! `Control::handle` on an in-memory store. Each input gets a fresh fixture, so a finding
//! reproduces from its input alone.
#![no_main]

use causeway_control::fuzzing::{exercise, fixture};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((control, paths)) = fixture() {
        exercise(&control, &paths, data);
    }
});
