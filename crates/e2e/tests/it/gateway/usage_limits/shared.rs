//! Throttles and quotas shared by several nodes through Redis (`--redis-url`): two nodes on
//! one PostgreSQL database and one Redis server enforce a usage plan's quota, report and
//! reset its usage, and share a stage's throttle as one gateway would; while Redis is down
//! requests are let through, and counting resumes when it is back.
//!
//! Buckets run on Redis's clock, so the throttles here use a rate far below anything the test
//! can refill (one request per 1,000 s); quotas count by the nodes' UTC day, which the test
//! freezes.

use super::*;
use crate::harness::postgres::Postgres;
use crate::harness::redis::Redis;

/// How long the nodes here wait for Redis's answer before they let a request through
/// uncounted. The counts below are exact, so a slow answer on a loaded machine must not
/// pass for an outage (as it would after the default 250 ms); a server that is gone still
/// fails at once.
const REDIS_ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// A node on the shared database and Redis, on the frozen clock.
async fn shared_node(pg: &Postgres, redis: &Redis, clock: &Arc<ManualClock>) -> TestServer {
    let (counters, clock) = (redis.url(), clock.clone());
    TestServer::start_sharing(&pg.url(), move |config| {
        config.redis = Some(counters.clone());
        config.redis_answer_timeout = REDIS_ANSWER_TIMEOUT;
        config.clock = clock.clone();
    })
    .await
}

async fn with_key(invoke: &Invoke, count: usize, key: &str) -> Vec<Raw> {
    burst(invoke, count, Some(key)).await
}

#[tokio::test]
async fn two_nodes_share_a_usage_plan_quota() {
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let redis = tokio::task::spawn_blocking(Redis::start).await.unwrap();
    let clock = Arc::new(ManualClock::at(NOON));
    let a = shared_node(&pg, &redis, &clock).await;
    let b = shared_node(&pg, &redis, &clock).await;
    let (ca, cb) = (a.client(), b.client());
    let (api, _) = keyed_api(&ca, true).await;
    let (key, value) = api_key(&ca, "k", true).await;
    let plan = plan(&ca, &api, None, Some(6), None).await;
    add_key(&ca, &plan, &key).await;
    let (on_a, on_b) = (Invoke::new(&a, &api), Invoke::new(&b, &api));
    // One request each once the plan has reached both gateways: 2 of 6 used.
    assert_eq!(until_status(&on_a, Some(&value), 200).await.status, 200);
    assert_eq!(until_status(&on_b, Some(&value), 200).await.status, 200);

    assert_eq!(count(&with_key(&on_a, 2, &value).await, 200), 2);
    let answers = with_key(&on_b, 4, &value).await;
    assert_eq!(
        count(&answers, 200),
        2,
        "the quota counts both nodes' requests"
    );
    for raw in answers.iter().filter(|a| a.status == 429) {
        assert_quota_exceeded(raw);
    }
    assert_quota_exceeded(&with_key(&on_a, 1, &value).await[0]);

    // Either node reports the usage of both.
    let usage = cb
        .get_usage()
        .usage_plan_id(&plan)
        .start_date("2026-11-26")
        .end_date("2026-11-26")
        .send()
        .await
        .unwrap();
    assert_eq!(usage.items().unwrap().get(&key).unwrap(), &vec![vec![6, 0]]);

    // UpdateUsage on b grants one more, which a's gateway lets through.
    cb.update_usage()
        .usage_plan_id(&plan)
        .key_id(&key)
        .patch_operations(replace("/remaining", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_key(&on_a, 1, &value).await[0].status, 200);
    assert_quota_exceeded(&with_key(&on_b, 1, &value).await[0]);
    let usage = ca
        .get_usage()
        .usage_plan_id(&plan)
        .start_date("2026-11-26")
        .end_date("2026-11-26")
        .send()
        .await
        .unwrap();
    assert_eq!(usage.items().unwrap().get(&key).unwrap(), &vec![vec![7, 0]]);

    // A new UTC day is a new period on both nodes.
    clock.advance(Duration::from_secs(12 * 3600));
    let answers = with_key(&on_b, 4, &value).await;
    assert_eq!(count(&answers, 200), 4);
    let answers = with_key(&on_a, 3, &value).await;
    assert_eq!(count(&answers, 200), 2);
}

#[tokio::test]
async fn two_nodes_share_a_stage_throttle_and_survive_redis_going_away() {
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let mut redis = tokio::task::spawn_blocking(Redis::start).await.unwrap();
    let clock = Arc::new(ManualClock::at(NOON));
    let a = shared_node(&pg, &redis, &clock).await;
    let b = shared_node(&pg, &redis, &clock).await;
    let ca = a.client();
    let (api, items) = keyed_api(&ca, false).await;
    // A probe of its own, `POST /items`, tells when the throttle is in force on a node
    // without spending `GET /items`'s bucket.
    mock_route(&ca, &api, &items, "POST", "probe").await;
    deploy(&ca, &api, "prod").await;
    let (on_a, on_b) = (Invoke::new(&a, &api), Invoke::new(&b, &api));
    for invoke in [&on_a, &on_b] {
        let probe = invoke
            .until("POST", "/prod/items", |raw| raw.status == 200)
            .await;
        assert_eq!(route_of(&probe), "probe");
    }
    ca.update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace("/*/*/throttling/burstLimit", "4"))
        .patch_operations(replace("/*/*/throttling/rateLimit", "0.001"))
        .send()
        .await
        .unwrap();
    // The stage reaches b's gateway through the database's notification. Once it is in
    // force on a node, the probe's own bucket of 4 (shared with the other node) runs dry
    // there; before, nothing throttles it.
    for invoke in [&on_a, &on_b] {
        let deadline = Instant::now() + Invoke::PATIENCE;
        loop {
            let raw = invoke.call("POST", "/prod/items").await;
            if raw.status == 429 {
                assert_throttled(&raw);
                break;
            }
            assert_eq!(raw.status, 200, "{}", raw.text());
            assert!(
                Instant::now() < deadline,
                "the stage throttle never reached {}",
                invoke.gateway
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut answers = burst(&on_a, 3, None).await;
    answers.extend(burst(&on_b, 3, None).await);
    assert_eq!(count(&answers, 200), 4, "one bucket of 4 for both nodes");
    for raw in answers.iter().filter(|a| a.status == 429) {
        assert_throttled(raw);
    }

    // Redis goes away: requests are let through rather than refused.
    redis.stop();
    let answers = burst(&on_b, 2, None).await;
    assert_eq!(count(&answers, 200), 2);
    // It comes back (empty): the nodes reconnect and throttle again.
    let redis = tokio::task::spawn_blocking(move || {
        redis.run();
        redis
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let raw = on_a.get("/prod/items").await;
        if raw.status == 429 {
            assert_throttled(&raw);
            break;
        }
        assert_eq!(raw.status, 200, "{}", raw.text());
        assert!(
            Instant::now() < deadline,
            "the nodes never counted in Redis again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(redis);
}

/// TLS to Redis (`rediss://`): two nodes that count through a Redis server requiring TLS and
/// a client certificate share one quota, and the server's certificate and the client's are
/// both checked.
#[tokio::test]
async fn two_nodes_count_in_redis_over_tls() {
    use causeway_server::RedisTls;
    use causeway_server::redis_limiter::RedisLimiter;

    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let redis = tokio::task::spawn_blocking(Redis::start_tls).await.unwrap();
    let tls = redis.tls();
    let settings = RedisTls {
        ca_pem: Some(tls.ca_pem.clone().into_bytes()),
        client: Some((
            tls.client_cert_pem.clone().into_bytes(),
            tls.client_key_pem.clone().into_bytes(),
        )),
    };
    let clock = Arc::new(ManualClock::at(NOON));
    let store = pg.url();
    let node = || {
        let (url, settings, clock) = (redis.tls_url(), settings.clone(), clock.clone());
        TestServer::start_sharing(&store, move |config| {
            config.redis = Some(url.clone());
            config.redis_tls = settings.clone();
            config.redis_answer_timeout = REDIS_ANSWER_TIMEOUT;
            config.clock = clock.clone();
        })
    };
    let a = node().await;
    let b = node().await;
    let ca = a.client();
    let (api, _) = keyed_api(&ca, true).await;
    let (key, value) = api_key(&ca, "k", true).await;
    let plan = plan(&ca, &api, None, Some(4), None).await;
    add_key(&ca, &plan, &key).await;
    let (on_a, on_b) = (Invoke::new(&a, &api), Invoke::new(&b, &api));
    assert_eq!(until_status(&on_a, Some(&value), 200).await.status, 200);
    assert_eq!(until_status(&on_b, Some(&value), 200).await.status, 200);
    let answers = with_key(&on_a, 3, &value).await;
    assert_eq!(
        count(&answers, 200),
        2,
        "the quota counts both nodes' requests"
    );
    assert_quota_exceeded(&with_key(&on_b, 1, &value).await[0]);
    // The counts are in the server (read here through its plain port).
    assert!(!redis.keys("cw:*").is_empty());

    // Without the client certificate the server refuses the connection, and without the
    // CA its certificate is not trusted.
    let url = redis.tls_url();
    let without_client = RedisTls {
        ca_pem: settings.ca_pem.clone(),
        client: None,
    };
    assert!(RedisLimiter::connect(&url, &without_client).await.is_err());
    let without_ca = RedisTls {
        ca_pem: None,
        client: settings.client.clone(),
    };
    assert!(RedisLimiter::connect(&url, &without_ca).await.is_err());
    // TLS settings with a plain URL are a mistake, said at once.
    let plain = RedisLimiter::connect(&redis.url(), &settings).await;
    assert!(
        plain
            .err()
            .is_some_and(|e| e.to_string().contains("rediss://"))
    );
    assert!(RedisLimiter::connect(&url, &settings).await.is_ok());
}

/// The limiter's own calls that no invoke makes: restoring usage kept by the store (a node
/// that counted in memory before), reporting it, the blocking check, and forgetting the state
/// of a deleted key, plan or stage.
#[tokio::test]
async fn the_redis_limiter_restores_reports_and_forgets() {
    use causeway_limits::{
        Checking, Day, DayUsage, Decision, Forget, Limiter, MethodRef, Now, Period, PlanKey,
        PlanLimits, PlanRequest, QuotaConfig, Request, ThrottleConfig, UsageRecord,
    };
    use causeway_server::redis_limiter::RedisLimiter;

    let redis = tokio::task::spawn_blocking(Redis::start).await.unwrap();
    let limiter = Arc::new(
        RedisLimiter::connect(&redis.url(), &Default::default())
            .await
            .unwrap(),
    );
    let today = Day::parse("2026-11-26").unwrap();
    let limits = PlanLimits {
        throttle: Some(ThrottleConfig {
            rate_limit: 0.001,
            burst_limit: 10,
        }),
        quota: Some(QuotaConfig {
            limit: 5,
            offset: 0,
            period: Period::Week,
        }),
        quota_start: Day(today.0 - 30),
    };
    let limiter_ = limiter.clone();
    tokio::task::spawn_blocking(move || {
        let limiter = limiter_;
        // Yesterday's 3 requests, from the store: the week (from Sunday the 22nd) has 2 left.
        limiter.restore(vec![UsageRecord {
            plan_id: "p1".into(),
            key_id: "k1".into(),
            usage: DayUsage {
                day: Day(today.0 - 1),
                used: 3,
                adjustment: 0,
            },
        }]);
        let key = PlanKey {
            plan_id: "p1",
            key_id: "k1",
        };
        let request = Request {
            method: MethodRef {
                api_id: "api1",
                stage: "prod",
                method_key: "/items/GET",
            },
            plan: Some(PlanRequest {
                key,
                limits: &limits,
                method_throttle: Some(ThrottleConfig {
                    rate_limit: 0.001,
                    burst_limit: 10,
                }),
            }),
            stage_throttle: Some(ThrottleConfig {
                rate_limit: 0.001,
                burst_limit: 10,
            }),
            account_throttle: None,
        };
        let now = Now {
            monotonic: causeway_limits::Nanos(0),
            today,
        };
        // A request with nothing to count makes no round trip; others go to Redis.
        let free = Request {
            plan: None,
            stage_throttle: None,
            account_throttle: None,
            ..request
        };
        assert!(matches!(
            limiter.admit(&free, now),
            Checking::Ready(Decision::Allow)
        ));
        assert!(matches!(limiter.admit(&request, now), Checking::Pending(_)));
        let decisions: Vec<Decision> = (0..3).map(|_| limiter.check(&request, now)).collect();
        assert_eq!(
            decisions,
            [Decision::Allow, Decision::Allow, Decision::QuotaExceeded]
        );
        let days = limiter.usage(key, &limits, Day(today.0 - 1), today);
        let report: Vec<(u64, Option<u64>)> = days.iter().map(|d| (d.used, d.remaining)).collect();
        assert_eq!(report, [(3, Some(2)), (2, Some(0))]);
        // Restoring again never counts a day twice.
        limiter.restore(vec![UsageRecord {
            plan_id: "p1".into(),
            key_id: "k1".into(),
            usage: DayUsage {
                day: Day(today.0 - 1),
                used: 3,
                adjustment: 0,
            },
        }]);
        assert_eq!(
            limiter.usage(key, &limits, today, today)[0].remaining,
            Some(0)
        );

        assert_eq!(
            redis.keys("cw:*"),
            [
                "cw:b:p:p1/k1",
                "cw:b:pm:p1/k1/api1/prod//items/GET",
                "cw:b:s:api1/prod//items/GET",
                "cw:u:p1/k1",
            ]
        );
        limiter.forget(Forget::Stage {
            api_id: "api1",
            stage: "prod",
        });
        assert_eq!(redis.keys("cw:*"), ["cw:b:p:p1/k1", "cw:u:p1/k1"]);
        limiter.forget(Forget::Key("k1"));
        assert_eq!(redis.keys("cw:*"), Vec::<String>::new());
    })
    .await
    .unwrap();
}

/// Without Redis, nodes sharing a store each count for themselves, and each keeps its own
/// usage records: neither overwrites the other's counts, and each finds its own after a
/// restart.
#[tokio::test]
async fn without_redis_each_node_keeps_its_own_usage() {
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let clock = Arc::new(ManualClock::at(NOON));
    let frozen = |clock: &Arc<ManualClock>| {
        let clock = clock.clone();
        move |config: &mut causeway_server::Config| config.clock = clock.clone()
    };
    let mut a = TestServer::start_sharing(&pg.url(), frozen(&clock)).await;
    let mut b = TestServer::start_sharing(&pg.url(), frozen(&clock)).await;
    let ca = a.client();
    let (api, _) = keyed_api(&ca, true).await;
    let (key, value) = api_key(&ca, "k", true).await;
    let plan = plan(&ca, &api, None, Some(100), None).await;
    add_key(&ca, &plan, &key).await;
    assert_eq!(
        until_status(&Invoke::new(&a, &api), Some(&value), 200)
            .await
            .status,
        200
    );
    assert_eq!(
        until_status(&Invoke::new(&b, &api), Some(&value), 200)
            .await
            .status,
        200
    );
    assert_eq!(
        count(&with_key(&Invoke::new(&a, &api), 1, &value).await, 200),
        1
    );
    assert_eq!(
        count(&with_key(&Invoke::new(&b, &api), 2, &value).await, 200),
        2
    );

    // The shutdown writes each node's counts; the restart reads them back.
    a.restart().await;
    b.restart().await;
    for (server, used) in [(&a, 2), (&b, 3)] {
        let usage = server
            .client()
            .get_usage()
            .usage_plan_id(&plan)
            .start_date("2026-11-26")
            .end_date("2026-11-26")
            .send()
            .await
            .unwrap();
        assert_eq!(
            usage.items().unwrap().get(&key).unwrap(),
            &vec![vec![used, 100 - used]]
        );
    }
}
