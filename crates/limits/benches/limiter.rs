//! The per-request check of `InMemoryLimiter` with 10,000 API keys in a plan: key lookup,
//! plan bucket and quota count; the same with the stage and account buckets; and all levels
//! from two threads at once.

use std::hint::black_box;
use std::time::{Duration, Instant};

use causeway_limits::{
    Day, Decision, InMemoryLimiter, Limiter, MethodRef, Nanos, Now, Period, PlanKey, PlanLimits,
    PlanRequest, QuotaConfig, Request, ThrottleConfig, TokenBucket,
};
use criterion::{Criterion, criterion_group, criterion_main};

const KEYS: usize = 10_000;

/// Generous limits, so that every check passes and the bench measures the path of a request
/// that is served.
const WIDE: ThrottleConfig = ThrottleConfig {
    rate_limit: 1e9,
    burst_limit: 1_000_000,
};

const METHOD: MethodRef<'static> = MethodRef {
    api_id: "a1b2c3d4e5",
    stage: "prod",
    method_key: "/pets/{id}/GET",
};

struct Setup {
    limiter: InMemoryLimiter,
    limits: PlanLimits,
    key_ids: Vec<String>,
}

impl Setup {
    fn new() -> Setup {
        let setup = Setup {
            limiter: InMemoryLimiter::new(),
            limits: PlanLimits {
                throttle: Some(WIDE),
                quota: Some(QuotaConfig {
                    limit: u64::MAX / 2,
                    offset: 0,
                    period: Period::Month,
                }),
                quota_start: Day(0),
            },
            // API key ids are 10 lowercase alphanumerics, like AWS's.
            key_ids: (0..KEYS).map(|i| format!("k{i:09}")).collect(),
        };
        // Every key has state already: the bench measures lookups, not first requests.
        for i in 0..KEYS {
            let decision = setup.limiter.check(&setup.request(i, false), now(0));
            assert_eq!(decision, Decision::Allow);
        }
        setup
    }

    fn request(&self, i: usize, shared_levels: bool) -> Request<'_> {
        Request {
            method: METHOD,
            plan: Some(PlanRequest {
                key: PlanKey {
                    plan_id: "usageplan1",
                    key_id: &self.key_ids[i % KEYS],
                },
                limits: &self.limits,
                method_throttle: None,
            }),
            stage_throttle: shared_levels.then_some(WIDE),
            account_throttle: shared_levels.then_some(WIDE),
        }
    }
}

fn now(tick: u64) -> Now {
    Now {
        monotonic: Nanos(1_000 * tick),
        today: Day(20_000),
    }
}

/// Keys are visited in a scattered order, as requests from many clients would be.
fn scatter(i: u64) -> usize {
    (i.wrapping_mul(7_919) % KEYS as u64) as usize
}

fn bench_check(c: &mut Criterion) {
    let setup = Setup::new();
    let mut group = c.benchmark_group("check_10k_keys");
    for (name, shared_levels) in [("plan_and_quota", false), ("all_levels", true)] {
        let mut tick = 0_u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                tick += 1;
                let request = setup.request(scatter(tick), shared_levels);
                black_box(setup.limiter.check(black_box(&request), now(tick)))
            })
        });
    }
    let mut tick = 0_u64;
    group.bench_function("no_api_key", |b| {
        b.iter(|| {
            tick += 1;
            let request = Request {
                plan: None,
                ..setup.request(0, true)
            };
            black_box(setup.limiter.check(black_box(&request), now(tick)))
        })
    });
    // Both cores at once, all levels: the stage and account buckets are shared atomics.
    group.bench_function("all_levels_2_threads", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for thread in 0..2_u64 {
                    let setup = &setup;
                    scope.spawn(move || {
                        for i in 0..iters {
                            let tick = i * 2 + thread;
                            let request = setup.request(scatter(tick), true);
                            black_box(setup.limiter.check(&request, now(tick)));
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    group.finish();

    let mut bucket = TokenBucket::default();
    let mut tick = 0_u64;
    c.bench_function("token_bucket_take", |b| {
        b.iter(|| {
            tick += 1;
            black_box(bucket.try_take(black_box(&WIDE), Nanos(tick)))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bench_check
}
criterion_main!(benches);
