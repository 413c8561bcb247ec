//! API keys, usage plans and throttling on the request path.
//!
//! The settings are compiled with the rest of the snapshot: API keys by value, and for each
//! stage the usage plan of each key and the stage's method throttles. The counting itself
//! (token buckets, quotas) is the [`Limiter`]'s; this module only resolves which limits apply
//! to a request and turns the decision into a gateway response.
//!
//! Order, as AWS applies it: the API key (403 `Forbidden`), then the usage plan's method and
//! overall throttles and its quota, the stage's method throttle, and the account throttle
//! (429 `Too Many Requests`, or 429 `Limit Exceeded` for the quota).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use causeway_limits::{
    Day, Decision, Limiter, MethodRef, Nanos, Now, PlanKey, PlanLimits, PlanRequest, ThrottleConfig,
};
use causeway_model::Stage;
use causeway_model::gateway::{GatewayPlan, plan_limits, throttle_config};
use causeway_routing::RouteMatch;

use crate::errors::{Failure, Kind};

/// Where the gateway reads the time: the system clock, or one a test moves by hand.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic time for token buckets and the UTC day for quotas.
    fn now(&self) -> Now;

    /// The same at `instant`, a reading of the monotonic clock taken before (a request's
    /// arrival), so that admitting a request reads no clock of its own. A clock that is not
    /// the system's answers its own time.
    fn at(&self, instant: Instant) -> Now {
        let _ = instant;
        self.now()
    }
}

/// The real clock: one monotonic read per request; the UTC day is the start's wall-clock
/// time plus the monotonic time elapsed since (a wall-clock step after start shifts quota
/// days only until the next restart).
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
    origin_unix_seconds: i64,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        let origin_unix_seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        SystemClock {
            origin: Instant::now(),
            origin_unix_seconds,
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Now {
        self.at(Instant::now())
    }

    fn at(&self, instant: Instant) -> Now {
        let elapsed = instant.saturating_duration_since(self.origin);
        let seconds = i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX);
        Now {
            monotonic: Nanos(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)),
            today: Day::from_unix_seconds(self.origin_unix_seconds.saturating_add(seconds)),
        }
    }
}

/// A clock that only moves when told to: for tests of refills and quota periods.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicU64,
    unix_seconds: AtomicI64,
}

impl ManualClock {
    /// A clock at `unix_seconds` (UTC).
    pub fn at(unix_seconds: i64) -> ManualClock {
        ManualClock {
            nanos: AtomicU64::new(0),
            unix_seconds: AtomicI64::new(unix_seconds),
        }
    }

    /// Moves both clocks forward.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(
            u64::try_from(by.as_nanos()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
        self.unix_seconds.fetch_add(
            i64::try_from(by.as_secs()).unwrap_or(i64::MAX),
            Ordering::SeqCst,
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Now {
        Now {
            monotonic: Nanos(self.nanos.load(Ordering::SeqCst)),
            today: Day::from_unix_seconds(self.unix_seconds.load(Ordering::SeqCst)),
        }
    }
}

/// An API key as the gateway sees it.
#[derive(Debug)]
pub struct KeyEntry {
    pub id: Arc<str>,
    pub enabled: bool,
}

/// The usage plan that governs one key on one stage.
#[derive(Debug)]
pub struct StagePlan {
    pub plan_id: Arc<str>,
    pub limits: PlanLimits,
    /// The plan's per-method throttles for this stage, by `{resourcePath}/{METHOD}`.
    pub method_throttles: HashMap<String, ThrottleConfig>,
}

/// A stage's limits: the usage plan of each key, and the method throttles.
#[derive(Debug, Default)]
pub struct StageLimits {
    /// By API key id.
    pub plans: crate::snapshot::FastMap<Arc<str>, Arc<StagePlan>>,
    /// The stage's `*/*` throttle.
    pub default_throttle: Option<ThrottleConfig>,
    /// Method throttles by `{resourcePath}/{METHOD}`.
    pub method_throttles: HashMap<String, ThrottleConfig>,
}

/// API keys by value.
pub fn compile_keys(plan: &GatewayPlan) -> crate::snapshot::FastMap<String, KeyEntry> {
    plan.api_keys
        .values()
        .map(|key| {
            (
                key.value.clone(),
                KeyEntry {
                    id: Arc::from(key.id.as_str()),
                    enabled: key.enabled,
                },
            )
        })
        .collect()
}

/// The limits of one stage.
pub fn compile_stage(plan: &GatewayPlan, api_id: &str, stage: &Stage) -> StageLimits {
    let mut limits = StageLimits::default();
    for entry in plan.usage_plans.values() {
        let Some(api_stage) = entry.plan.api_stage(api_id, &stage.stage_name) else {
            continue;
        };
        let compiled = Arc::new(StagePlan {
            plan_id: Arc::from(entry.plan.id.as_str()),
            limits: plan_limits(&entry.plan),
            method_throttles: api_stage
                .throttle
                .iter()
                .map(|(key, settings)| (key.clone(), throttle_config(settings)))
                .collect(),
        });
        for key_id in &entry.key_ids {
            limits
                .plans
                .insert(Arc::from(key_id.as_str()), compiled.clone());
        }
    }
    for (key, setting) in &stage.method_settings {
        // A negative limit turns stage throttling off for the method.
        if setting.throttling_rate_limit < 0.0 || setting.throttling_burst_limit < 0 {
            continue;
        }
        let config = ThrottleConfig {
            rate_limit: setting.throttling_rate_limit,
            burst_limit: u64::try_from(setting.throttling_burst_limit).unwrap_or(0),
        };
        if key == "*/*" {
            limits.default_throttle = Some(config);
        } else {
            // Stored as AWS reports them, `~1pets/GET`; matched as `/pets/GET`.
            limits
                .method_throttles
                .insert(causeway_model::patch::unescape_segment(key), config);
        }
    }
    limits
}

/// What [`admit`] needs about the request.
pub struct Admission<'a> {
    pub api_id: &'a str,
    pub stage: &'a str,
    pub matched: &'a RouteMatch<'a>,
    pub headers: &'a crate::request::Headers,
    pub keys: &'a crate::snapshot::FastMap<String, KeyEntry>,
    pub limits: &'a StageLimits,
    pub account_throttle: Option<ThrottleConfig>,
    /// For an API whose key source is AUTHORIZER: the key its authorizer gave, if any.
    pub authorizer_key: Option<Option<&'a str>>,
    /// When the request arrived: the instant it is counted at.
    pub arrived: Instant,
}

/// Checks the API key and counts the request against every limit that applies; a refusal is
/// the failure to answer with. Waits only for a limiter whose counters are elsewhere.
pub async fn admit(
    admission: &Admission<'_>,
    limiter: &dyn Limiter,
    clock: &dyn Clock,
) -> Result<(), Failure> {
    let matched = admission.matched;
    let plan = if matched.method.api_key_required {
        let value = match admission.authorizer_key {
            Some(key) => key.ok_or_else(|| {
                forbidden("the API's key source is AUTHORIZER and its authorizer gave no usageIdentifierKey")
            })?,
            None => admission
                .headers
                .get_str(crate::integration::names::API_KEY.as_str())
                .ok_or_else(|| forbidden("no x-api-key header"))?,
        };
        let key = admission
            .keys
            .get(value)
            .ok_or_else(|| forbidden("unknown API key"))?;
        if !key.enabled {
            return Err(forbidden("the API key is disabled"));
        }
        let plan = admission
            .limits
            .plans
            .get(&key.id)
            .ok_or_else(|| forbidden("the API key is in no usage plan of this stage"))?;
        Some((key, plan))
    } else {
        None
    };
    let stage_has_methods = !admission.limits.method_throttles.is_empty();
    let plan_has_methods = plan.is_some_and(|(_, p)| !p.method_throttles.is_empty());
    // The method key is only spelled out when some bucket is kept per method.
    let per_method =
        stage_has_methods || plan_has_methods || admission.limits.default_throttle.is_some();
    let method_key = if per_method {
        causeway_limits::method_key(matched.resource_path(), matched.method_key)
    } else {
        String::new()
    };
    let stage_throttle = if stage_has_methods {
        admission
            .limits
            .method_throttles
            .get(&method_key)
            .copied()
            .or(admission.limits.default_throttle)
    } else {
        admission.limits.default_throttle
    };
    let request = causeway_limits::Request {
        method: MethodRef {
            api_id: admission.api_id,
            stage: admission.stage,
            method_key: &method_key,
        },
        plan: plan.map(|(key, plan)| PlanRequest {
            key: PlanKey {
                plan_id: &plan.plan_id,
                key_id: &key.id,
            },
            limits: &plan.limits,
            method_throttle: if plan_has_methods {
                plan.method_throttles.get(&method_key).copied()
            } else {
                None
            },
        }),
        stage_throttle,
        account_throttle: admission.account_throttle,
    };
    let decision = match limiter.admit(&request, clock.at(admission.arrived)) {
        causeway_limits::Checking::Ready(decision) => decision,
        causeway_limits::Checking::Pending(decision) => decision.await,
    };
    match decision {
        Decision::Allow => Ok(()),
        Decision::Throttled(level) => Err(Failure::new(Kind::Throttled, "Too Many Requests")
            .because(format!("throttled at the {} level", level.as_str()))),
        Decision::QuotaExceeded => Err(Failure::new(Kind::QuotaExceeded, "Limit Exceeded")
            .because("the API key's quota for this period is used up")),
    }
}

fn forbidden(cause: &str) -> Failure {
    Failure::new(Kind::InvalidApiKey, "Forbidden").because(cause)
}
