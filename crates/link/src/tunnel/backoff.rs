//! Reconnection delays: exponential growth, a cap, and jitter supplied by the caller.

use std::time::Duration;

/// How long a node waits between attempts to reach the gateway.
///
/// The ceiling doubles from `initial` after each failed attempt up to `max`; the delay
/// actually slept is a random point in the upper half of the ceiling ("equal jitter"), so
/// that nodes cut off by the same gateway restart do not all come back at the same
/// instant, yet none waits longer than `max` once the gateway is back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The ceiling of the first delay.
    pub initial: Duration,
    /// The ceiling of every delay.
    pub max: Duration,
}

impl Default for BackoffPolicy {
    /// 100 ms, doubling up to 2 s: after an outage of any length, traffic flows again
    /// at most 2 s after the gateway comes back.
    fn default() -> Self {
        BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        }
    }
}

/// The state of one connection's retries.
#[derive(Debug)]
pub(crate) struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(policy: BackoffPolicy) -> Backoff {
        Backoff { policy, attempt: 0 }
    }

    /// The delay before the next attempt. `jitter` is a random number in `[0, 1)`: the
    /// caller draws it, so that tests can pin it.
    pub(crate) fn next_delay(&mut self, jitter: f64) -> Duration {
        // 2^16 × any sensible initial delay is far past any sensible cap; stopping the
        // exponent there keeps the arithmetic away from overflow.
        let factor = 1u32 << self.attempt.min(16);
        self.attempt = self.attempt.saturating_add(1);
        let ceiling = self
            .policy
            .initial
            .saturating_mul(factor)
            .min(self.policy.max);
        // Integer arithmetic, so that no float rounding can push a delay past the cap.
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let per_mille = 500 + (jitter * 500.0) as u128;
        let nanos = ceiling.as_nanos() * per_mille.min(1000) / 1000;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Starts again from the initial delay (after a connection that held).
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let mut backoff = Backoff::new(BackoffPolicy {
            initial: ms(100),
            max: ms(1000),
        });
        let ceilings: Vec<Duration> = (0..6).map(|_| backoff.next_delay(0.999_999)).collect();
        let expected = [100, 200, 400, 800, 1000, 1000];
        for (got, want) in ceilings.iter().zip(expected) {
            assert!(
                *got <= ms(want) && *got > ms(want) * 99 / 100,
                "{got:?} vs {want}"
            );
        }
        backoff.reset();
        assert_eq!(backoff.next_delay(0.0), ms(50));
        assert_eq!(backoff.next_delay(0.5), ms(150));
    }

    #[test]
    fn hostile_inputs_stay_within_bounds() {
        let mut backoff = Backoff::new(BackoffPolicy {
            initial: Duration::MAX,
            max: Duration::MAX,
        });
        for jitter in [f64::NAN, f64::INFINITY, -1.0, 2.0] {
            assert!(backoff.next_delay(jitter) <= Duration::MAX);
        }
        let mut backoff = Backoff::new(BackoffPolicy::default());
        for _ in 0..100 {
            assert!(backoff.next_delay(0.7) <= ms(2000));
        }
    }
}
