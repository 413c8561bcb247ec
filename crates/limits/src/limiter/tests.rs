//! Tests of `InMemoryLimiter`: the order of levels, what a rejection costs, quota periods,
//! UpdateUsage, persistence and concurrency.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on the unexpected")]

use super::*;
use crate::{Period, QuotaConfig};

const SECOND: u64 = 1_000_000_000;

fn day(text: &str) -> Day {
    Day::parse(text).unwrap()
}

fn throttle(rate_limit: f64, burst_limit: u64) -> Option<ThrottleConfig> {
    Some(ThrottleConfig {
        rate_limit,
        burst_limit,
    })
}

fn quota(limit: u64, offset: u64, period: Period) -> Option<QuotaConfig> {
    Some(QuotaConfig {
        limit,
        offset,
        period,
    })
}

fn plan(throttle: Option<ThrottleConfig>, quota: Option<QuotaConfig>) -> PlanLimits {
    PlanLimits {
        throttle,
        quota,
        quota_start: day("2020-01-01"),
    }
}

const KEY: PlanKey<'static> = PlanKey {
    plan_id: "plan1",
    key_id: "key1",
};

const PETS: MethodRef<'static> = MethodRef {
    api_id: "api1",
    stage: "prod",
    method_key: "/pets/GET",
};

fn keyed<'a>(key: PlanKey<'a>, limits: &'a PlanLimits) -> Request<'a> {
    Request {
        method: PETS,
        plan: Some(PlanRequest {
            key,
            limits,
            method_throttle: None,
        }),
        stage_throttle: None,
        account_throttle: None,
    }
}

fn at(secs: u64, today: &str) -> Now {
    Now {
        monotonic: Nanos(secs * SECOND),
        today: day(today),
    }
}

/// The decisions of `count` identical requests.
fn run(limiter: &dyn Limiter, request: &Request<'_>, now: Now, count: usize) -> Vec<Decision> {
    (0..count).map(|_| limiter.check(request, now)).collect()
}

fn allowed(decisions: &[Decision]) -> usize {
    decisions.iter().filter(|d| **d == Decision::Allow).count()
}

fn used_on(limiter: &dyn Limiter, key: PlanKey<'_>, limits: &PlanLimits, on: &str) -> [u64; 2] {
    let report = limiter.usage(key, limits, day(on), day(on));
    [report[0].used, report[0].remaining.unwrap_or(u64::MAX)]
}

#[test]
fn plan_throttle_passes_the_burst_then_refills() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(throttle(1.0, 3), None);
    let request = keyed(KEY, &limits);
    let decisions = run(&limiter, &request, at(10, "2024-01-01"), 5);
    assert_eq!(allowed(&decisions), 3);
    assert_eq!(decisions[3], Decision::Throttled(Level::Plan));
    assert_eq!(
        allowed(&run(&limiter, &request, at(11, "2024-01-01"), 5)),
        1
    );
    // Another key of the same plan has its own bucket.
    let other = PlanKey {
        key_id: "key2",
        ..KEY
    };
    assert_eq!(
        allowed(&run(
            &limiter,
            &keyed(other, &limits),
            at(11, "2024-01-01"),
            5
        )),
        3
    );
}

#[test]
fn method_throttle_and_plan_throttle_both_apply() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(throttle(0.0, 4), None);
    let mut request = keyed(KEY, &limits);
    if let Some(plan) = &mut request.plan {
        plan.method_throttle = throttle(0.0, 2);
    }
    let now = at(1, "2024-01-01");
    let decisions = run(&limiter, &request, now, 3);
    assert_eq!(allowed(&decisions), 2);
    assert_eq!(decisions[2], Decision::Throttled(Level::PlanMethod));
    // Another method of the key, without a method throttle, draws on the same plan bucket;
    // so does the same method on another stage of the plan.
    let mut other = keyed(KEY, &limits);
    other.method.method_key = "/pets/POST";
    assert_eq!(limiter.check(&other, now), Decision::Allow);
    other.method = MethodRef {
        stage: "beta",
        ..PETS
    };
    assert_eq!(limiter.check(&other, now), Decision::Allow);
    assert_eq!(limiter.check(&other, now), Decision::Throttled(Level::Plan));
}

#[test]
fn a_method_throttle_above_the_plan_throttle_is_capped_by_it() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(throttle(0.0, 2), None);
    let mut request = keyed(KEY, &limits);
    if let Some(plan) = &mut request.plan {
        plan.method_throttle = throttle(0.0, 3);
    }
    let now = at(1, "2024-01-01");
    let decisions = run(&limiter, &request, now, 3);
    assert_eq!(decisions[2], Decision::Throttled(Level::Plan));
    // The rejected request gave its method token back: with a bigger plan, one more passes.
    let bigger = plan(throttle(0.0, 10), None);
    let mut request = keyed(KEY, &bigger);
    if let Some(plan) = &mut request.plan {
        plan.method_throttle = throttle(0.0, 3);
    }
    assert_eq!(allowed(&run(&limiter, &request, now, 5)), 1);
}

#[test]
fn quota_counts_only_requests_that_pass() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(throttle(0.0, 2), quota(5, 0, Period::Day));
    let request = keyed(KEY, &limits);
    let decisions = run(&limiter, &request, at(1, "2024-01-01"), 10);
    assert_eq!(allowed(&decisions), 2);
    assert_eq!(used_on(&limiter, KEY, &limits, "2024-01-01"), [2, 3]);
}

#[test]
fn quota_exhaustion_and_daily_reset_at_midnight_utc() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(throttle(1000.0, 1000), quota(3, 0, Period::Day));
    let request = keyed(KEY, &limits);
    let decisions = run(&limiter, &request, at(1, "2024-02-29"), 5);
    assert_eq!(allowed(&decisions), 3);
    assert_eq!(decisions[3], Decision::QuotaExceeded);
    assert_eq!(allowed(&run(&limiter, &request, at(2, "2024-03-01"), 5)), 3);
}

#[test]
fn a_request_over_quota_takes_no_plan_token() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(throttle(0.0, 5), quota(3, 0, Period::Day));
    let request = keyed(KEY, &limits);
    let decisions = run(&limiter, &request, at(1, "2024-01-01"), 5);
    assert_eq!(allowed(&decisions), 3);
    assert_eq!(decisions[3..], [Decision::QuotaExceeded; 2]);
    // Two tokens are left for the next day.
    let decisions = run(&limiter, &request, at(2, "2024-01-02"), 3);
    assert_eq!(allowed(&decisions), 2);
    assert_eq!(decisions[2], Decision::Throttled(Level::Plan));
}

#[test]
fn weekly_quota_resets_on_sunday() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(None, quota(2, 0, Period::Week));
    let request = keyed(KEY, &limits);
    assert_eq!(allowed(&run(&limiter, &request, at(1, "2024-01-08"), 1)), 1);
    assert_eq!(allowed(&run(&limiter, &request, at(2, "2024-01-13"), 3)), 1);
    assert_eq!(allowed(&run(&limiter, &request, at(3, "2024-01-14"), 3)), 2);
}

#[test]
fn monthly_quota_with_offset_across_the_new_year() {
    let limiter = InMemoryLimiter::new();
    let mut limits = plan(None, quota(3, 1, Period::Month));
    limits.quota_start = day("2023-12-15");
    let request = keyed(KEY, &limits);
    // December is the first period: 3 - 1.
    assert_eq!(allowed(&run(&limiter, &request, at(1, "2023-12-15"), 5)), 2);
    assert_eq!(allowed(&run(&limiter, &request, at(2, "2023-12-31"), 5)), 0);
    assert_eq!(allowed(&run(&limiter, &request, at(3, "2024-01-01"), 5)), 3);
    assert_eq!(allowed(&run(&limiter, &request, at(4, "2024-02-29"), 5)), 3);
    assert_eq!(allowed(&run(&limiter, &request, at(5, "2024-03-01"), 5)), 3);
}

#[test]
fn a_stage_rejection_costs_nothing_at_earlier_levels() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(throttle(0.0, 2), quota(10, 0, Period::Day));
    let mut request = keyed(KEY, &limits);
    request.stage_throttle = throttle(0.0, 1);
    let now = at(1, "2024-01-01");
    let decisions = run(&limiter, &request, now, 4);
    assert_eq!(decisions[0], Decision::Allow);
    assert!(decisions[1..] == [Decision::Throttled(Level::StageMethod); 3]);
    assert_eq!(used_on(&limiter, KEY, &limits, "2024-01-01"), [1, 9]);
    // The plan bucket still has its second token.
    request.stage_throttle = None;
    assert_eq!(limiter.check(&request, now), Decision::Allow);
    assert_eq!(
        limiter.check(&request, now),
        Decision::Throttled(Level::Plan)
    );
}

#[test]
fn stage_buckets_are_per_method_and_shared_by_all_clients() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(None, None);
    let now = at(1, "2024-01-01");
    let mut first = keyed(KEY, &limits);
    first.stage_throttle = throttle(0.0, 2);
    let mut second = first;
    if let Some(plan) = &mut second.plan {
        plan.key.key_id = "key2";
    }
    let anonymous = Request {
        plan: None,
        ..first
    };
    assert_eq!(limiter.check(&first, now), Decision::Allow);
    assert_eq!(limiter.check(&second, now), Decision::Allow);
    assert_eq!(
        limiter.check(&anonymous, now),
        Decision::Throttled(Level::StageMethod)
    );
    let post = Request {
        method: MethodRef {
            method_key: "/pets/POST",
            ..PETS
        },
        ..anonymous
    };
    assert_eq!(limiter.check(&post, now), Decision::Allow);
}

#[test]
fn account_rejection_refunds_the_stage_bucket() {
    let limiter = InMemoryLimiter::new();
    let now = at(1, "2024-01-01");
    let request = Request {
        method: PETS,
        plan: None,
        stage_throttle: throttle(0.0, 2),
        account_throttle: throttle(0.0, 1),
    };
    assert_eq!(limiter.check(&request, now), Decision::Allow);
    assert_eq!(
        limiter.check(&request, now),
        Decision::Throttled(Level::Account)
    );
    let stage_only = Request {
        account_throttle: None,
        ..request
    };
    assert_eq!(limiter.check(&stage_only, now), Decision::Allow);
    assert_eq!(
        limiter.check(&stage_only, now),
        Decision::Throttled(Level::StageMethod)
    );
    assert_eq!(Level::Account.as_str(), "account");
    assert_eq!(method_key("/", "GET"), "//GET");
    assert_eq!(method_key("/pets", "GET"), "/pets/GET");
}

#[test]
fn update_usage_grants_and_resets() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(None, quota(3, 0, Period::Month));
    let request = keyed(KEY, &limits);
    assert_eq!(allowed(&run(&limiter, &request, at(1, "2024-01-10"), 5)), 3);
    // Grant two more for this month.
    limiter
        .set_remaining(KEY, &limits, 2, day("2024-01-11"))
        .unwrap();
    assert_eq!(used_on(&limiter, KEY, &limits, "2024-01-11"), [0, 2]);
    assert_eq!(allowed(&run(&limiter, &request, at(2, "2024-01-11"), 5)), 2);
    // Cut it to nothing.
    limiter
        .set_remaining(KEY, &limits, 10, day("2024-01-12"))
        .unwrap();
    limiter
        .set_remaining(KEY, &limits, 0, day("2024-01-12"))
        .unwrap();
    assert_eq!(allowed(&run(&limiter, &request, at(3, "2024-01-12"), 5)), 0);
    // The report keeps the history, and February starts afresh.
    let report = limiter.usage(KEY, &limits, day("2024-01-10"), day("2024-02-01"));
    let pairs: Vec<_> = report
        .iter()
        .map(|d| [d.used, d.remaining.unwrap()])
        .collect();
    assert_eq!(&pairs[..3], [[3, 0], [2, 0], [0, 0]]);
    assert_eq!(pairs[22], [0, 3]);
    assert_eq!(allowed(&run(&limiter, &request, at(4, "2024-02-01"), 5)), 3);
    let no_quota = plan(None, None);
    let refused = limiter.set_remaining(KEY, &no_quota, 1, day("2024-02-01"));
    assert_eq!(refused, Err(LimitsError::NoQuota));
}

#[test]
fn drain_returns_changes_once_and_restore_brings_them_back() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(None, quota(5, 0, Period::Week));
    let request = keyed(KEY, &limits);
    run(&limiter, &request, at(1, "2024-01-08"), 2);
    run(&limiter, &request, at(2, "2024-01-09"), 3);
    limiter
        .set_remaining(KEY, &limits, 1, day("2024-01-09"))
        .unwrap();
    let mut records = limiter.drain_dirty();
    records.sort_by_key(|r| r.usage.day);
    let expected = [(day("2024-01-08"), 2, 0), (day("2024-01-09"), 3, 1)];
    let got: Vec<_> = records
        .iter()
        .map(|r| (r.usage.day, r.usage.used, r.usage.adjustment))
        .collect();
    assert_eq!(got, expected);
    assert!(
        records
            .iter()
            .all(|r| r.plan_id == "plan1" && r.key_id == "key1")
    );
    assert!(limiter.drain_dirty().is_empty());

    // A fresh limiter (a restarted gateway) picks up where the first left off.
    let restarted: Box<dyn Limiter> = Box::new(InMemoryLimiter::new());
    restarted.restore(records.clone());
    assert_eq!(
        restarted.usage(KEY, &limits, day("2024-01-08"), day("2024-01-09")),
        limiter.usage(KEY, &limits, day("2024-01-08"), day("2024-01-09"))
    );
    assert!(restarted.drain_dirty().is_empty());
    assert_eq!(
        allowed(&run(restarted.as_ref(), &request, at(3, "2024-01-10"), 3)),
        1
    );
    let again = restarted.drain_dirty();
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].usage,
        DayUsage {
            day: day("2024-01-10"),
            used: 1,
            adjustment: 0
        }
    );
}

#[test]
fn old_days_leave_memory_once_drained() {
    let limiter = InMemoryLimiter::with_retention(31);
    let limits = plan(None, quota(5, 0, Period::Day));
    let request = keyed(KEY, &limits);
    run(&limiter, &request, at(1, "2024-01-01"), 1);
    // Not drained yet: kept even past retention.
    run(&limiter, &request, at(2, "2024-03-01"), 1);
    assert_eq!(used_on(&limiter, KEY, &limits, "2024-01-01")[0], 1);
    assert_eq!(limiter.drain_dirty().len(), 2);
    run(&limiter, &request, at(3, "2024-03-02"), 1);
    assert_eq!(used_on(&limiter, KEY, &limits, "2024-01-01")[0], 0);
    assert_eq!(used_on(&limiter, KEY, &limits, "2024-03-01")[0], 1);
}

#[test]
fn forget_drops_keys_plans_and_stages() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(throttle(0.0, 1), quota(5, 0, Period::Day));
    let now = at(1, "2024-01-01");
    let other = PlanKey {
        plan_id: "plan2",
        ..KEY
    };
    let mut request = keyed(KEY, &limits);
    request.stage_throttle = throttle(0.0, 1);
    assert_eq!(limiter.check(&request, now), Decision::Allow);
    assert_eq!(limiter.check(&keyed(other, &limits), now), Decision::Allow);
    limiter.forget(Forget::Stage {
        api_id: "api1",
        stage: "prod",
    });
    limiter.forget(Forget::PlanKey(KEY));
    assert_eq!(used_on(&limiter, KEY, &limits, "2024-01-01"), [0, 5]);
    assert_eq!(used_on(&limiter, other, &limits, "2024-01-01"), [1, 4]);
    // Both buckets start full again.
    assert_eq!(limiter.check(&request, now), Decision::Allow);
    limiter.forget(Forget::Key("key1"));
    let records = limiter.drain_dirty();
    assert!(records.is_empty(), "{records:?}");
    assert_eq!(limiter.check(&keyed(other, &limits), now), Decision::Allow);
    limiter.forget(Forget::Plan("plan2"));
    assert!(limiter.drain_dirty().is_empty());
}

#[test]
fn concurrent_requests_never_overrun_a_quota() {
    let limiter = InMemoryLimiter::new();
    let limits = plan(throttle(1e9, 1_000_000), quota(1_000, 0, Period::Day));
    let now = at(1, "2024-01-01");
    let passed: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|thread| {
                let limiter = &limiter;
                let limits = &limits;
                scope.spawn(move || {
                    let keys: Vec<String> = (0..50).map(|i| format!("other{thread}-{i}")).collect();
                    let mut passed = 0;
                    for i in 0..600 {
                        // Interleave the shared key with keys of this thread.
                        let other = PlanKey {
                            plan_id: "plan1",
                            key_id: &keys[i % keys.len()],
                        };
                        limiter.check(&keyed(other, limits), now);
                        if limiter.check(&keyed(KEY, limits), now) == Decision::Allow {
                            passed += 1;
                        }
                    }
                    passed
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(passed, 1_000);
    assert_eq!(used_on(&limiter, KEY, &limits, "2024-01-01"), [1_000, 0]);
}
