//! The [`Limiter`] trait the gateway calls on every request, and [`InMemoryLimiter`], its
//! single-node implementation.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Mutex, PoisonError, RwLock};

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::LimitsError;
use crate::bucket::{Nanos, SharedBucket, ThrottleConfig};
use crate::calendar::Day;
use crate::quota::{self, DayUsage, PlanLimits, UsageDay};

use state::KeyState;

/// The method key of stage method settings and usage-plan method throttles:
/// `{resourcePath}/{HTTPMETHOD}`, so `/pets/GET`, and `//GET` for the root resource.
pub fn method_key(resource_path: &str, http_method: &str) -> String {
    format!("{resource_path}/{http_method}")
}

/// The method key of a stage's default method settings.
pub const DEFAULT_METHOD_KEY: &str = "*/*";

/// The current time, as the two clocks the checks need.
#[derive(Clone, Copy, Debug)]
pub struct Now {
    /// Monotonic time, for token buckets.
    pub monotonic: Nanos,
    /// The current UTC day, for quotas.
    pub today: Day,
}

/// An API key within a usage plan: the unit of usage-plan throttling and quotas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PlanKey<'a> {
    /// The usage plan's id.
    pub plan_id: &'a str,
    /// The API key's id (not its value).
    pub key_id: &'a str,
}

/// The method a request was routed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodRef<'a> {
    /// The REST API's id.
    pub api_id: &'a str,
    /// The stage's name.
    pub stage: &'a str,
    /// The method key, `{resourcePath}/{HTTPMETHOD}` (see [`method_key`]).
    pub method_key: &'a str,
}

/// The usage-plan part of a request: present when the method requires an API key.
#[derive(Clone, Copy, Debug)]
pub struct PlanRequest<'a> {
    /// The plan and key the request's API key resolved to for this stage.
    pub key: PlanKey<'a>,
    /// The plan's limits.
    pub limits: &'a PlanLimits,
    /// The plan's throttle for this method on this stage (`apiStages[].throttle[method key]`).
    pub method_throttle: Option<ThrottleConfig>,
}

/// Everything the limiter needs to know about one request. The caller resolves the settings
/// (usually once, when it compiles its configuration), so the limiter never reads any.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The method the request was routed to.
    pub method: MethodRef<'a>,
    /// Usage-plan limits, when the method requires an API key.
    pub plan: Option<PlanRequest<'a>>,
    /// The stage's throttle for this method: its own method setting, else the stage's
    /// `*/*` default. Each method has its own bucket, shared by all clients.
    pub stage_throttle: Option<ThrottleConfig>,
    /// The account-level throttle, shared by every request ([`ThrottleConfig::ACCOUNT_DEFAULT`]
    /// in AWS).
    pub account_throttle: Option<ThrottleConfig>,
}

/// The throttling level that rejected a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// The usage plan's throttle for this method, per API key.
    PlanMethod,
    /// The usage plan's overall throttle, per API key.
    Plan,
    /// The stage's method throttle, shared by all clients.
    StageMethod,
    /// The account-level throttle.
    Account,
}

impl Level {
    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::PlanMethod => "plan-method",
            Level::Plan => "plan",
            Level::StageMethod => "stage-method",
            Level::Account => "account",
        }
    }
}

/// The outcome of a request's checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Serve the request; it has been counted.
    Allow,
    /// Reject with the THROTTLED gateway response (429 `Too Many Requests`).
    Throttled(Level),
    /// Reject with the QUOTA_EXCEEDED gateway response (429 `Limit Exceeded`).
    QuotaExceeded,
}

/// One day of one key's usage, as persisted. Values are absolute, so writing a record twice,
/// or a newer one over an older one, is harmless.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UsageRecord {
    /// The usage plan's id.
    pub plan_id: String,
    /// The API key's id.
    pub key_id: String,
    /// The day and its counts.
    pub usage: DayUsage,
}

/// The outcome of [`Limiter::admit`]: decided at once (an in-memory limiter), or to be
/// awaited (a limiter whose counters live in another process).
pub enum Checking {
    /// The decision.
    Ready(Decision),
    /// The decision, once the counters have answered.
    Pending(std::pin::Pin<Box<dyn std::future::Future<Output = Decision> + Send>>),
}

impl fmt::Debug for Checking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Checking::Ready(decision) => f.debug_tuple("Ready").field(decision).finish(),
            Checking::Pending(_) => f.write_str("Pending"),
        }
    }
}

/// State to drop when configuration goes away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Forget<'a> {
    /// A deleted API key, in every plan.
    Key(&'a str),
    /// A deleted usage plan.
    Plan(&'a str),
    /// A key removed from one plan.
    PlanKey(PlanKey<'a>),
    /// A deleted stage: its method buckets.
    Stage {
        /// The REST API's id.
        api_id: &'a str,
        /// The stage's name.
        stage: &'a str,
    },
}

/// Rate limiting and quota accounting for the gateway. The in-memory implementation serves a
/// single node; one on a shared store (Redis, say) would serve several.
pub trait Limiter: Send + Sync + fmt::Debug {
    /// Checks a request against every level, in AWS's order, and counts it if it passes.
    /// Blocks for as long as the counters take: the gateway calls [`Limiter::admit`].
    fn check(&self, request: &Request<'_>, now: Now) -> Decision;

    /// [`Limiter::check`] for the gateway's hot path: a limiter whose counters are elsewhere
    /// answers with a future (which owns what it needs) instead of blocking.
    fn admit(&self, request: &Request<'_>, now: Now) -> Checking {
        Checking::Ready(self.check(request, now))
    }

    /// GetUsage for one key: a `[used, remaining]` entry for every day of `from..=to`.
    fn usage(&self, key: PlanKey<'_>, limits: &PlanLimits, from: Day, to: Day) -> Vec<UsageDay>;

    /// UpdateUsage (`replace /remaining`): sets what remains of the current period's quota.
    fn set_remaining(
        &self,
        key: PlanKey<'_>,
        limits: &PlanLimits,
        remaining: u64,
        today: Day,
    ) -> Result<(), LimitsError>;

    /// The usage days that changed since the last call, for the caller to persist. A crash
    /// loses what has not been drained and written yet. Records hold absolute counts: a
    /// caller that retries a failed write should keep only the newest record of each plan,
    /// key and day.
    fn drain_dirty(&self) -> Vec<UsageRecord>;

    /// Loads persisted usage, typically on start before serving. A record replaces the day it
    /// names; other days are kept.
    fn restore(&self, records: Vec<UsageRecord>);

    /// Drops the state of deleted keys, plans or stages, including usage not yet drained.
    fn forget(&self, what: Forget<'_>);
}

/// The single-node [`Limiter`]: state in sharded hash tables, buckets shared by all clients
/// as atomics.
///
/// State is created for each plan key, stage method and plan method a request names, so the
/// ids must come from configuration (an API key already resolved to its plan), never straight
/// from client input; [`Limiter::forget`] removes what configuration no longer has.
pub struct InMemoryLimiter {
    hasher: RandomState,
    keys: Box<[KeyShard]>,
    stages: Box<[StageShard]>,
    account: SharedBucket,
    retention_days: i32,
}

/// Shards keep threads on different keys from contending on one lock. A power of two.
const SHARDS: usize = 64;

/// Aligned so that two shards' locks never share a cache line.
#[repr(align(128))]
#[derive(Default)]
struct KeyShard(Mutex<HashTable<KeyState>>);

#[repr(align(128))]
#[derive(Default)]
struct StageShard(RwLock<HashTable<StageBucket>>);

struct StageBucket {
    hash: u64,
    api_id: Box<str>,
    stage: Box<str>,
    method_key: Box<str>,
    bucket: SharedBucket,
}

impl InMemoryLimiter {
    /// Usage days are kept in memory for this many days by default (about three months);
    /// older ones live only in the caller's store.
    pub const DEFAULT_RETENTION_DAYS: u32 = 93;

    /// An empty limiter.
    pub fn new() -> InMemoryLimiter {
        InMemoryLimiter::with_retention(InMemoryLimiter::DEFAULT_RETENTION_DAYS)
    }

    /// An empty limiter keeping `days` days of usage in memory (at least 31, so that a whole
    /// month is always there to compute what remains of it).
    pub fn with_retention(days: u32) -> InMemoryLimiter {
        InMemoryLimiter {
            hasher: RandomState::default(),
            keys: (0..SHARDS).map(|_| KeyShard::default()).collect(),
            stages: (0..SHARDS).map(|_| StageShard::default()).collect(),
            account: SharedBucket::default(),
            retention_days: i32::try_from(days.max(31)).unwrap_or(i32::MAX),
        }
    }

    fn key_hash(&self, key: PlanKey<'_>) -> u64 {
        self.hasher.hash_one((key.plan_id, key.key_id))
    }

    /// The shard of a hash. The bits come from the middle of the hash: hashbrown uses the
    /// top seven for its control bytes and the low ones for the bucket index.
    fn shard(hash: u64) -> usize {
        (hash >> 40) as usize & (SHARDS - 1)
    }

    fn key_shard(&self, hash: u64) -> std::sync::MutexGuard<'_, HashTable<KeyState>> {
        // Nothing panics while holding the lock, and the state stays consistent even if
        // something did, so a poisoned lock is used as is.
        self.keys[Self::shard(hash)]
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Levels 3 and 4: the stage method's bucket, then the account's.
    fn check_shared(&self, request: &Request<'_>, now: Now) -> Decision {
        let method = &request.method;
        let mut stage_taken = None;
        if let Some(config) = &request.stage_throttle {
            if !self.with_stage_bucket(method, |bucket| bucket.try_take(config, now.monotonic)) {
                return Decision::Throttled(Level::StageMethod);
            }
            stage_taken = Some(config);
        }
        if let Some(config) = &request.account_throttle
            && !self.account.try_take(config, now.monotonic)
        {
            if let Some(stage) = stage_taken {
                self.with_stage_bucket(method, |bucket| bucket.refund(stage, now.monotonic));
            }
            return Decision::Throttled(Level::Account);
        }
        Decision::Allow
    }

    /// Runs `f` on the method's stage bucket, creating it (full) if needed.
    fn with_stage_bucket<T>(
        &self,
        method: &MethodRef<'_>,
        f: impl FnOnce(&SharedBucket) -> T,
    ) -> T {
        let hash = self
            .hasher
            .hash_one((method.api_id, method.stage, method.method_key));
        let shard = &self.stages[Self::shard(hash)].0;
        let is = |entry: &StageBucket| {
            &*entry.method_key == method.method_key
                && &*entry.stage == method.stage
                && &*entry.api_id == method.api_id
        };
        {
            let table = shard.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = table.find(hash, is) {
                return f(&entry.bucket);
            }
        }
        let mut table = shard.write().unwrap_or_else(PoisonError::into_inner);
        let entry = match table.entry(hash, is, |entry| entry.hash) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry
                .insert(StageBucket {
                    hash,
                    api_id: method.api_id.into(),
                    stage: method.stage.into(),
                    method_key: method.method_key.into(),
                    bucket: SharedBucket::default(),
                })
                .into_mut(),
        };
        f(&entry.bucket)
    }

    /// Runs `f` on a key's state, creating it if needed.
    fn with_key<T>(&self, key: PlanKey<'_>, f: impl FnOnce(&mut KeyState) -> T) -> T {
        let hash = self.key_hash(key);
        let mut table = self.key_shard(hash);
        let state = match table.entry(hash, |state| state.is(key), |state| state.hash) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(KeyState::new(hash, key)).into_mut(),
        };
        f(state)
    }
}

impl Default for InMemoryLimiter {
    fn default() -> Self {
        InMemoryLimiter::new()
    }
}

impl fmt::Debug for InMemoryLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryLimiter")
            .field("retention_days", &self.retention_days)
            .finish_non_exhaustive()
    }
}

impl Limiter for InMemoryLimiter {
    /// Checks, in order: the plan's method throttle, the plan's throttle, the quota, the
    /// stage method's throttle, the account's throttle. A request rejected at any level
    /// takes nothing: tokens taken at earlier levels are put back, and only a request that
    /// passes is counted against the quota.
    fn check(&self, request: &Request<'_>, now: Now) -> Decision {
        let Some(plan) = &request.plan else {
            return self.check_shared(request, now);
        };
        // The key's lock is held through the shared levels too, so that the quota count and
        // the decision are one step: concurrent requests of a key can never overrun its quota.
        self.with_key(plan.key, |state| {
            let mut method_bucket = None;
            if let Some(config) = &plan.method_throttle {
                let index = state.method_bucket(&request.method);
                if !state.methods[index].bucket.try_take(config, now.monotonic) {
                    return Decision::Throttled(Level::PlanMethod);
                }
                method_bucket = Some((index, config));
            }
            let refund = |state: &mut KeyState, plan_taken: bool| {
                if let Some((index, config)) = method_bucket {
                    state.methods[index].bucket.refund(config, now.monotonic);
                }
                if let (true, Some(config)) = (plan_taken, &plan.limits.throttle) {
                    state.bucket.refund(config, now.monotonic);
                }
            };
            if let Some(config) = &plan.limits.throttle
                && !state.bucket.try_take(config, now.monotonic)
            {
                refund(state, false);
                return Decision::Throttled(Level::Plan);
            }
            if let Some(quota) = &plan.limits.quota
                && state.remaining(
                    quota,
                    plan.limits.quota_start,
                    now.today,
                    self.retention_days,
                ) == 0
            {
                refund(state, true);
                return Decision::QuotaExceeded;
            }
            let decision = self.check_shared(request, now);
            if decision == Decision::Allow {
                state.count(now.today);
            } else {
                refund(state, true);
            }
            decision
        })
    }

    fn usage(&self, key: PlanKey<'_>, limits: &PlanLimits, from: Day, to: Day) -> Vec<UsageDay> {
        let hash = self.key_hash(key);
        let days: Vec<DayUsage> = self
            .key_shard(hash)
            .find(hash, |state| state.is(key))
            .map(|state| state.days().collect())
            .unwrap_or_default();
        quota::daily_usage(limits, &days, from, to)
    }

    fn set_remaining(
        &self,
        key: PlanKey<'_>,
        limits: &PlanLimits,
        remaining: u64,
        today: Day,
    ) -> Result<(), LimitsError> {
        let quota = limits.quota.as_ref().ok_or(LimitsError::NoQuota)?;
        self.with_key(key, |state| {
            state.set_remaining(
                quota,
                limits.quota_start,
                today,
                self.retention_days,
                remaining,
            );
        });
        Ok(())
    }

    fn drain_dirty(&self) -> Vec<UsageRecord> {
        let mut records = Vec::new();
        for shard in &self.keys {
            let mut table = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
            for state in table.iter_mut().filter(|state| state.dirty) {
                let (plan_id, key_id) = (state.plan_id().to_owned(), state.key_id().to_owned());
                state.drain(|usage| {
                    records.push(UsageRecord {
                        plan_id: plan_id.clone(),
                        key_id: key_id.clone(),
                        usage,
                    });
                });
            }
        }
        records
    }

    fn restore(&self, records: Vec<UsageRecord>) {
        for record in records {
            let key = PlanKey {
                plan_id: &record.plan_id,
                key_id: &record.key_id,
            };
            self.with_key(key, |state| state.restore(record.usage));
        }
    }

    fn forget(&self, what: Forget<'_>) {
        if let Forget::Stage { api_id, stage } = what {
            for shard in &self.stages {
                let mut table = shard.0.write().unwrap_or_else(PoisonError::into_inner);
                table.retain(|entry| !(&*entry.api_id == api_id && &*entry.stage == stage));
            }
            for shard in &self.keys {
                let mut table = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
                for state in table.iter_mut() {
                    state.forget_stage(api_id, stage);
                }
            }
            return;
        }
        let keep = |state: &mut KeyState| match what {
            Forget::Key(key_id) => state.key_id() != key_id,
            Forget::Plan(plan_id) => state.plan_id() != plan_id,
            Forget::PlanKey(key) => !state.is(key),
            Forget::Stage { .. } => true,
        };
        for shard in &self.keys {
            let mut table = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
            table.retain(keep);
        }
    }
}

mod state;
#[cfg(test)]
mod tests;
