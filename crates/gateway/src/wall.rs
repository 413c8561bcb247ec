//! The wall clock's second without a system-clock reading per request.
//!
//! A proxied request read the system clock for its trace id's time and again for its
//! answer's `Date`; about 20 ns each on this kind of host, a few per request. The second
//! changes once a second: each thread keeps the one it read last, with the span of
//! monotonic time it holds for, and reads the system clock again only past that span, so
//! a step of the system clock shows within a second. Trace ids (at the request's arrival)
//! and answers' `Date` (at the answer) both take their second from here.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

thread_local! {
    /// The second last read: its Unix time, and the monotonic instants it begins and ends at.
    static SECOND: Cell<Option<(u64, Instant, Instant)>> = const { Cell::new(None) };
}

/// The Unix time in whole seconds at `instant`, a reading of the monotonic clock taken
/// lately (a request's arrival, or now).
pub(crate) fn unix_seconds_at(instant: Instant) -> u64 {
    SECOND.with(|cached| {
        if let Some((seconds, begins, ends)) = cached.get()
            && instant >= begins
            && instant < ends
        {
            return seconds;
        }
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let read = Instant::now();
        let into = Duration::from_nanos(u64::from(wall.subsec_nanos()));
        let begins = read.checked_sub(into).unwrap_or(read);
        // A millisecond early: the two clocks may run apart a little (NTP slews the wall
        // clock by up to half a millisecond a second), so the last one of each second reads
        // the system clock again rather than answer a second that may have ended.
        let ends = read + (Duration::from_secs(1) - into).saturating_sub(Duration::from_millis(1));
        cached.set(Some((wall.as_secs(), begins, ends)));
        wall.as_secs()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn system_seconds() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn follows_the_system_clock_across_seconds() {
        for _ in 0..6 {
            let before = system_seconds();
            let seconds = unix_seconds_at(Instant::now());
            let after = system_seconds();
            assert!(
                (before..=after).contains(&seconds),
                "{before} {seconds} {after}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}
