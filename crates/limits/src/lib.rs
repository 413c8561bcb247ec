//! Pure rate limiting for Causeway: the token buckets, usage-plan quotas and usage reports of
//! API Gateway REST APIs, with time always passed in.
//!
//! # Model
//!
//! A request is checked by [`Limiter::check`] against up to five limits, in the order AWS
//! documents ("API Gateway throttling-related settings are applied in the following order",
//! developer guide, *Throttle requests to your REST APIs*):
//!
//! 1. the usage plan's throttle for this method on this stage
//!    (`apiStages[].throttle["/pets/GET"]`), per API key;
//! 2. the usage plan's overall throttle, per API key, shared by all stages of the plan
//!    ("throttling and quota limits apply to requests for individual API keys that are
//!    aggregated across all API stages within a usage plan"). It applies even where a method
//!    throttle exists: an AWS engineer on re:Post, "if you set method level throttling inside
//!    the plan, that doesn't change the fact that the overall usage plan limit is still
//!    global to that key";
//! 3. the usage plan's quota, per API key (over quota: [`Decision::QuotaExceeded`], 429
//!    `Limit Exceeded`);
//! 4. the stage's throttle for the method (its method setting, else the stage's `*/*`
//!    default), one bucket per method shared by all clients;
//! 5. the account-level throttle (AWS's default: 10,000 requests per second, bursts of 5,000).
//!
//! Levels 1–3 apply only to methods that require an API key. A throttled request gets
//! [`Decision::Throttled`] (429 `Too Many Requests`) with the level that rejected it.
//!
//! **A rejected request costs nothing.** AWS does not say whether a throttled request counts
//! against the quota, or whether one rejected at a later level has used tokens at earlier
//! ones; here, the least surprising answer holds: tokens taken at earlier levels are put back
//! and only requests that pass every level are counted as used.
//!
//! Token buckets ([`bucket`]) start full, refill at `rateLimit` per second and hold at most
//! `burstLimit`. Quotas ([`quota`]) count requests per UTC day, week (from Sunday) or month
//! (from the 1st); the `offset` is taken off the limit of the first period only. GetUsage and
//! UpdateUsage are [`Limiter::usage`] and [`Limiter::set_remaining`].
//!
//! # Persistence
//!
//! The limiter keeps usage in memory, per plan, key and UTC day. The caller persists it in
//! batches: [`Limiter::drain_dirty`] hands over the days that changed since the last drain,
//! as absolute counts, and [`Limiter::restore`] loads them back on start. A crash loses the
//! requests counted since the last drain whose batch was not written: those keys get that much
//! more quota. Buckets are not persisted; they restart full.
//!
//! The crate does no I/O and reads no clock: bucket time is a monotonic [`Nanos`] and quota
//! time a UTC [`Day`], both in [`Now`].

pub mod bucket;
pub mod calendar;
mod limiter;
pub mod quota;

pub use bucket::{Nanos, SharedBucket, ThrottleConfig, TokenBucket};
pub use calendar::{Day, Period};
pub use limiter::{
    Checking, DEFAULT_METHOD_KEY, Decision, Forget, InMemoryLimiter, Level, Limiter, MethodRef,
    Now, PlanKey, PlanRequest, Request, UsageRecord, method_key,
};
pub use quota::{DayUsage, PlanLimits, QuotaConfig, UsageDay, daily_usage};

/// Errors of the limiter's management operations. The per-request check has none: its
/// outcome is a [`Decision`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitsError {
    /// UpdateUsage on a plan without a quota.
    #[error("the usage plan has no quota")]
    NoQuota,
    /// A date that is not a valid `yyyy-mm-dd`.
    #[error("invalid date {0:?}: expected yyyy-mm-dd")]
    InvalidDate(String),
    /// The counters are kept elsewhere (Redis) and could not be reached.
    #[error("the usage counters are unavailable: {0}")]
    Unavailable(String),
}
