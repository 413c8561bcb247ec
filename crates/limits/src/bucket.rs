//! Token buckets, the throttling arithmetic of API Gateway: `rateLimit` tokens per second
//! refill a bucket that holds at most `burstLimit`, and each request takes one token.
//!
//! A bucket is one `u64` in the form of the generic cell rate algorithm (GCRA): instead of
//! a token count and a timestamp it stores the instant at which the bucket will be full
//! again. That makes a shared bucket a single atomic updated by compare-and-swap, with no
//! lock, and the plain and atomic buckets share the same two pure functions.

use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonic instant in nanoseconds, from an origin the caller chooses (process start, say).
/// The arithmetic assumes it stays below 2^62 ns, 146 years after the origin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nanos(pub u64);

/// Throttle settings (`ThrottleSettings`, or a stage's `throttling/*` method settings).
///
/// `burst_limit` 0 lets no request through, whatever the rate: the bucket holds no token.
/// A rate of 0 (or negative, or NaN) never refills, so exactly `burst_limit` requests pass
/// for as long as the bucket lives. AWS does not document either case; this is what the token
/// bucket it describes does, and setting a stage's rate and burst to 0 is a known way to shut
/// an API off. "No throttling" is the absence of a `ThrottleConfig`, not a value of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleConfig {
    /// Steady refill, in requests per second.
    pub rate_limit: f64,
    /// Capacity of the bucket: the most requests that can pass at one instant.
    pub burst_limit: u64,
}

impl ThrottleConfig {
    /// AWS's default account-level limits: 10,000 requests per second, bursts of 5,000.
    pub const ACCOUNT_DEFAULT: ThrottleConfig = ThrottleConfig {
        rate_limit: 10_000.0,
        burst_limit: 5_000,
    };
}

/// A token bucket owned by one thread at a time (kept under a lock with other state).
/// A new bucket is full.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenBucket(u64);

impl TokenBucket {
    /// Takes a token if there is one; `false` means the request is throttled.
    pub fn try_take(&mut self, config: &ThrottleConfig, now: Nanos) -> bool {
        match take(self.0, config, now) {
            Some(next) => {
                self.0 = next;
                true
            }
            None => false,
        }
    }

    /// Puts back the token of a request that was rejected further on, so that a rejected
    /// request costs nothing. Never fills the bucket beyond its capacity.
    pub fn refund(&mut self, config: &ThrottleConfig, now: Nanos) {
        self.0 = give_back(self.0, config, now);
    }
}

/// A token bucket shared by many threads: a stage method's or the account's.
#[derive(Debug, Default)]
pub struct SharedBucket(AtomicU64);

impl SharedBucket {
    /// Takes a token if there is one; `false` means the request is throttled.
    pub fn try_take(&self, config: &ThrottleConfig, now: Nanos) -> bool {
        // Relaxed is enough: the bucket publishes no other memory, and every update is a
        // read-modify-write of the one word, so none is lost.
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |state| {
                take(state, config, now)
            })
            .is_ok()
    }

    /// See [`TokenBucket::refund`].
    pub fn refund(&self, config: &ThrottleConfig, now: Nanos) {
        // The closure always returns `Some`, so the update cannot fail.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |state| {
                Some(give_back(state, config, now))
            });
    }
}

/// The top bit marks a bucket that never refills (rate 0); the other bits then count the
/// tokens taken. Without it, the bucket's word is the instant (in nanoseconds) at which it is
/// full again. A change of rate between zero and non-zero therefore refills the bucket.
const NO_REFILL: u64 = 1 << 63;
const TIME_LIMIT: u64 = NO_REFILL - 1;

/// Nanoseconds per token, or `None` for a bucket that never refills.
///
/// The interval is capped so that `burst_limit` intervals stay below 2^62 ns (146 years);
/// only rates far below one request a day with large bursts reach that cap.
fn interval(config: &ThrottleConfig) -> Option<u64> {
    if config.rate_limit.is_nan() || config.rate_limit <= 0.0 {
        return None;
    }
    // Rounded by adding a half (the quotient is positive; `f64::round` is a libm call on
    // baseline x86-64). `as` saturates an infinite quotient to u64::MAX, which the cap bounds.
    let step = ((1e9 / config.rate_limit + 0.5) as u64).max(1);
    // The float product only decides whether the (slower) integer cap is needed.
    if step as f64 * (config.burst_limit as f64 + 1.0) < (1_u64 << 61) as f64 {
        return Some(step);
    }
    let cap = ((1_u64 << 62) / config.burst_limit.saturating_add(1)).max(1);
    Some(step.min(cap))
}

/// The bucket after taking one token, or `None` if it is empty.
///
/// With `full_at` the instant the bucket is full, it holds `burst - (full_at - now) / interval`
/// tokens, so a token is available while `full_at - now <= (burst - 1) * interval`; taking it
/// moves `full_at` one interval later (from `now` if the bucket is already full, which is
/// what caps the tokens of a long-idle bucket at `burst`).
fn take(state: u64, config: &ThrottleConfig, now: Nanos) -> Option<u64> {
    let burst = config.burst_limit.min(TIME_LIMIT);
    if burst == 0 {
        return None;
    }
    let Some(step) = interval(config) else {
        let taken = if state & NO_REFILL != 0 {
            state & !NO_REFILL
        } else {
            0
        };
        return (taken < burst).then_some(NO_REFILL | (taken + 1));
    };
    let now = now.0.min(TIME_LIMIT);
    let full_at = if state & NO_REFILL != 0 { 0 } else { state };
    let debt = u128::from(full_at.saturating_sub(now));
    if debt > u128::from(burst - 1) * u128::from(step) {
        return None;
    }
    let next = u128::from(full_at.max(now)) + u128::from(step);
    Some(u64::try_from(next).map_or(TIME_LIMIT, |next| next.min(TIME_LIMIT)))
}

/// The bucket with one token put back.
fn give_back(state: u64, config: &ThrottleConfig, now: Nanos) -> u64 {
    if state & NO_REFILL != 0 {
        return NO_REFILL | (state & !NO_REFILL).saturating_sub(1);
    }
    match interval(config) {
        Some(step) if state > now.0 => state.saturating_sub(step).max(now.0),
        _ => state,
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails loudly on the unexpected")]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn config(rate_limit: f64, burst_limit: u64) -> ThrottleConfig {
        ThrottleConfig {
            rate_limit,
            burst_limit,
        }
    }

    /// How many of `count` requests at instant `at` pass.
    fn burst(bucket: &mut TokenBucket, config: &ThrottleConfig, at: u64, count: u64) -> u64 {
        (0..count)
            .filter(|_| bucket.try_take(config, Nanos(at)))
            .count() as u64
    }

    #[test]
    fn a_new_bucket_passes_exactly_the_burst() {
        for burst_limit in [1, 2, 7, 5_000] {
            let c = config(10.0, burst_limit);
            let mut bucket = TokenBucket::default();
            assert_eq!(
                burst(&mut bucket, &c, SECOND, burst_limit + 10),
                burst_limit
            );
        }
    }

    #[test]
    fn refill_follows_the_rate() {
        let c = config(10.0, 5);
        let mut bucket = TokenBucket::default();
        assert_eq!(burst(&mut bucket, &c, 0, 5), 5);
        // 10 rps: one token per 100 ms.
        assert!(!bucket.try_take(&c, Nanos(99_999_999)));
        assert!(bucket.try_take(&c, Nanos(100_000_000)));
        assert!(!bucket.try_take(&c, Nanos(100_000_000)));
        // Another 350 ms bring three tokens (and a half, which stays in the bucket).
        assert_eq!(burst(&mut bucket, &c, 450_000_000, 10), 3);
        assert!(bucket.try_take(&c, Nanos(500_000_000)));
    }

    #[test]
    fn fractional_rates() {
        let c = config(0.5, 1);
        let mut bucket = TokenBucket::default();
        assert!(bucket.try_take(&c, Nanos(0)));
        assert!(!bucket.try_take(&c, Nanos(SECOND)));
        assert!(!bucket.try_take(&c, Nanos(2 * SECOND - 1)));
        assert!(bucket.try_take(&c, Nanos(2 * SECOND)));
        // Over a minute at 0.5 rps and burst 1: 30 requests.
        let mut bucket = TokenBucket::default();
        let passed = (0..600).filter(|i| bucket.try_take(&c, Nanos(i * SECOND / 10)));
        assert_eq!(passed.count(), 30);
    }

    #[test]
    fn long_idle_does_not_overfill() {
        let c = config(100.0, 3);
        let mut bucket = TokenBucket::default();
        assert_eq!(burst(&mut bucket, &c, 0, 3), 3);
        let day_later = 86_400 * SECOND;
        assert_eq!(burst(&mut bucket, &c, day_later, 10), 3);
    }

    #[test]
    fn zero_burst_passes_nothing_and_zero_rate_never_refills() {
        let mut bucket = TokenBucket::default();
        assert_eq!(burst(&mut bucket, &config(1_000.0, 0), 0, 10), 0);
        let c = config(0.0, 2);
        let mut bucket = TokenBucket::default();
        assert_eq!(burst(&mut bucket, &c, 0, 5), 2);
        assert_eq!(burst(&mut bucket, &c, 1_000_000 * SECOND, 5), 0);
        // Non-finite or negative rates behave like 0.
        for rate in [f64::NAN, -1.0] {
            let mut bucket = TokenBucket::default();
            assert_eq!(burst(&mut bucket, &config(rate, 2), 0, 5), 2);
        }
        // An infinite rate refills a token a nanosecond, the finest step there is.
        let mut bucket = TokenBucket::default();
        assert_eq!(burst(&mut bucket, &config(f64::INFINITY, 2), 0, 5), 2);
        assert_eq!(burst(&mut bucket, &config(f64::INFINITY, 2), 1, 5), 1);
        assert_eq!(burst(&mut bucket, &config(f64::INFINITY, 2), 10, 5), 2);
    }

    #[test]
    fn tiny_rates_with_large_bursts_do_not_overflow() {
        let c = config(1e-30, 1_000_000);
        let mut bucket = TokenBucket::default();
        assert_eq!(burst(&mut bucket, &c, 1_000 * SECOND, 1_000_010), 1_000_000);
        assert_eq!(burst(&mut bucket, &c, 2_000 * SECOND, 10), 0);
    }

    #[test]
    fn refund_restores_a_token_but_never_beyond_capacity() {
        let c = config(1.0, 2);
        let mut bucket = TokenBucket::default();
        assert_eq!(burst(&mut bucket, &c, 0, 2), 2);
        bucket.refund(&c, Nanos(0));
        assert_eq!(burst(&mut bucket, &c, 0, 5), 1);
        // Refunding a full bucket leaves it full.
        let mut bucket = TokenBucket::default();
        bucket.refund(&c, Nanos(10 * SECOND));
        assert_eq!(burst(&mut bucket, &c, 10 * SECOND, 5), 2);
        // Same for a bucket that never refills.
        let c = config(0.0, 2);
        let mut bucket = TokenBucket::default();
        assert_eq!(burst(&mut bucket, &c, 0, 2), 2);
        bucket.refund(&c, Nanos(0));
        bucket.refund(&c, Nanos(0));
        bucket.refund(&c, Nanos(0));
        assert_eq!(burst(&mut bucket, &c, 0, 5), 2);
    }

    #[test]
    fn shared_bucket_counts_every_thread() {
        let c = config(0.0, 1_000);
        let bucket = SharedBucket::default();
        let passed: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| (0..500).filter(|_| bucket.try_take(&c, Nanos(0))).count()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(passed, 1_000);
        bucket.refund(&c, Nanos(0));
        assert!(bucket.try_take(&c, Nanos(0)));
        assert!(!bucket.try_take(&c, Nanos(0)));
    }
}
