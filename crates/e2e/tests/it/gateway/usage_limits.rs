//! API keys, usage plans, stage and account throttling, enforced on invoke.
//!
//! Throttle and quota tests run on a `ManualClock` that only moves when the test says so:
//! with time frozen, a bucket of burst B lets exactly B requests through and refills by
//! exactly what the test advances, so the counts below are exact, not approximate.

use std::sync::Arc;

use aws_sdk_apigateway::types::{
    ApiStage, Op, PatchOperation, QuotaPeriodType, QuotaSettings, ThrottleSettings,
};
use causeway_server::ManualClock;

use super::*;

/// 2026-11-26 12:00:00 UTC.
const NOON: i64 = 1_795_694_400;

/// An API whose `GET /items` (MOCK, 200) requires an API key, deployed to `prod`; returns
/// the API id and the resource id.
async fn keyed_api(client: &Client, api_key_required: bool) -> (String, String) {
    let (api, root) = create_api(client, "keyed").await;
    let items = create_resource(client, &api, &root, "items").await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&items)
        .http_method("GET")
        .authorization_type("NONE")
        .api_key_required(api_key_required)
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&items)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&items)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", r#"{"ok": true}"#)
        .send()
        .await
        .unwrap();
    deploy(client, &api, "prod").await;
    (api, items)
}

async fn api_key(client: &Client, name: &str, enabled: bool) -> (String, String) {
    let key = client
        .create_api_key()
        .name(name)
        .enabled(enabled)
        .send()
        .await
        .unwrap();
    (
        key.id().unwrap().to_owned(),
        key.value().unwrap().to_owned(),
    )
}

/// A usage plan on `api`'s `prod` stage.
async fn plan(
    client: &Client,
    api: &str,
    throttle: Option<(f64, i32)>,
    quota: Option<i32>,
    method_throttle: Option<(&str, f64, i32)>,
) -> String {
    let mut stage = ApiStage::builder().api_id(api).stage("prod");
    if let Some((method, rate, burst)) = method_throttle {
        stage = stage.throttle(
            method,
            ThrottleSettings::builder()
                .rate_limit(rate)
                .burst_limit(burst)
                .build(),
        );
    }
    let mut request = client
        .create_usage_plan()
        .name("plan")
        .api_stages(stage.build());
    if let Some((rate, burst)) = throttle {
        request = request.throttle(
            ThrottleSettings::builder()
                .rate_limit(rate)
                .burst_limit(burst)
                .build(),
        );
    }
    if let Some(limit) = quota {
        request = request.quota(
            QuotaSettings::builder()
                .limit(limit)
                .period(QuotaPeriodType::Day)
                .build(),
        );
    }
    request.send().await.unwrap().id().unwrap().to_owned()
}

async fn add_key(client: &Client, plan: &str, key: &str) {
    client
        .create_usage_plan_key()
        .usage_plan_id(plan)
        .key_id(key)
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
}

/// Sends `count` requests at once with `key` (if any); returns the statuses in order.
async fn burst(invoke: &Invoke, count: usize, key: Option<&str>) -> Vec<Raw> {
    let requests = (0..count).map(|_| {
        let mut request = invoke.request("GET", "/prod/items");
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        invoke.send(request)
    });
    let mut answers = Vec::new();
    for answer in futures_join_all(requests).await {
        answers.push(answer);
    }
    answers
}

/// Runs futures concurrently on the current task (no extra dependency for join_all).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => {
                        *result = Some(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(results.into_iter().flatten());
    outputs
}

fn count(answers: &[Raw], status: u16) -> usize {
    let n = answers.iter().filter(|a| a.status == status).count();
    if n == 0 || n < answers.len() {
        // The whole burst, for when a count does not match.
        let seen: Vec<(u16, String)> = answers.iter().map(|a| (a.status, a.text())).collect();
        eprintln!("burst answers: {seen:?}");
    }
    n
}

fn assert_throttled(raw: &Raw) {
    assert_gateway_error(
        raw,
        429,
        "TooManyRequestsException",
        r#"{"message":"Too Many Requests"}"#,
    );
}

fn assert_quota_exceeded(raw: &Raw) {
    assert_gateway_error(
        raw,
        429,
        "LimitExceededException",
        r#"{"message":"Limit Exceeded"}"#,
    );
}

fn assert_forbidden(raw: &Raw) {
    assert_gateway_error(raw, 403, "ForbiddenException", r#"{"message":"Forbidden"}"#);
}

/// Calls until the answer for `key` has `status`, and returns it (plans reach the gateway a
/// moment after the management call returns). Fails with the last answer after
/// [`Invoke::PATIENCE`].
async fn until_status(invoke: &Invoke, key: Option<&str>, status: u16) -> Raw {
    let deadline = Instant::now() + Invoke::PATIENCE;
    loop {
        let mut request = invoke.request("GET", "/prod/items");
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let raw = invoke.send(request).await;
        if raw.status == status {
            return raw;
        }
        assert!(
            Instant::now() < deadline,
            "GET /prod/items: no {status} after {:?}; the last was {} {:?}: {}",
            Invoke::PATIENCE,
            raw.status,
            raw.error_type(),
            raw.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn api_key_must_be_valid_enabled_and_in_a_plan_of_the_stage() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = keyed_api(&client, true).await;
    let (good, good_value) = api_key(&client, "good", true).await;
    let (disabled, disabled_value) = api_key(&client, "disabled", false).await;
    let (_, planless_value) = api_key(&client, "planless", true).await;
    let plan = plan(&client, &api, None, None, None).await;
    add_key(&client, &plan, &good).await;
    add_key(&client, &plan, &disabled).await;
    let invoke = Invoke::new(&server, &api);
    assert_eq!(
        until_status(&invoke, Some(&good_value), 200).await.status,
        200
    );

    for key in [
        None,
        Some("no-such-key-value-0123456789"),
        Some(disabled_value.as_str()),
        Some(planless_value.as_str()),
    ] {
        let mut request = invoke.request("GET", "/prod/items");
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        assert_forbidden(&invoke.send(request).await);
    }
    // The header name is case-insensitive.
    let raw = invoke
        .send(
            invoke
                .request("GET", "/prod/items")
                .header("X-API-Key", &good_value),
        )
        .await;
    assert_eq!(raw.status, 200);

    // Enabling a key, or taking one out of the plan, takes effect without a restart.
    client
        .update_api_key()
        .api_key(&disabled)
        .patch_operations(replace("/enabled", "true"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        until_status(&invoke, Some(&disabled_value), 200)
            .await
            .status,
        200
    );
    client
        .delete_usage_plan_key()
        .usage_plan_id(&plan)
        .key_id(&good)
        .send()
        .await
        .unwrap();
    assert_forbidden(&until_status(&invoke, Some(&good_value), 403).await);
}

#[tokio::test]
async fn methods_without_api_key_required_ignore_keys_and_plans() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = keyed_api(&client, false).await;
    let (key, value) = api_key(&client, "k", true).await;
    let plan = plan(&client, &api, Some((1.0, 1)), Some(1), None).await;
    add_key(&client, &plan, &key).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/items").await;
    let answers = burst(&invoke, 5, Some(&value)).await;
    assert_eq!(count(&answers, 200), 5);
}

fn frozen_server_config(
    clock: &Arc<ManualClock>,
) -> impl Fn(&mut causeway_server::Config) + Send + Sync + 'static {
    let clock = clock.clone();
    move |config| config.clock = clock.clone()
}

/// A burst of N concurrent requests against a plan with burst B: exactly B pass while the
/// clock stands still, the rest get 429 `Too Many Requests`; after one second at rate R,
/// exactly min(R, B) more pass.
#[tokio::test]
async fn usage_plan_burst_and_rate() {
    let clock = Arc::new(ManualClock::at(NOON));
    let server = TestServer::start_with(frozen_server_config(&clock)).await;
    let client = server.client();
    let (api, _) = keyed_api(&client, true).await;
    let (key, value) = api_key(&client, "k", true).await;
    let plan = plan(&client, &api, Some((3.0, 5)), None, None).await;
    add_key(&client, &plan, &key).await;
    let invoke = Invoke::new(&server, &api);
    // Wait for the plan without spending tokens: a key outside it is refused first.
    let (_, other) = api_key(&client, "other", true).await;
    let _ = other;
    let probe = until_status(&invoke, Some(&value), 200).await;
    assert_eq!(probe.status, 200);

    let answers = burst(&invoke, 20, Some(&value)).await;
    assert_eq!(
        count(&answers, 200),
        4,
        "burst 5, one token spent by the probe"
    );
    assert_eq!(count(&answers, 429), 16);
    for raw in answers.iter().filter(|a| a.status == 429) {
        assert_throttled(raw);
    }
    clock.advance(Duration::from_secs(1));
    let answers = burst(&invoke, 10, Some(&value)).await;
    assert_eq!(
        count(&answers, 200),
        3,
        "one second at 3 requests per second"
    );
}

/// A per-method throttle in the plan applies on top of the plan's own.
#[tokio::test]
async fn usage_plan_method_throttle() {
    let clock = Arc::new(ManualClock::at(NOON));
    let server = TestServer::start_with(frozen_server_config(&clock)).await;
    let client = server.client();
    let (api, _) = keyed_api(&client, true).await;
    let (key, value) = api_key(&client, "k", true).await;
    let plan = plan(
        &client,
        &api,
        Some((100.0, 100)),
        None,
        Some(("/items/GET", 1.0, 2)),
    )
    .await;
    add_key(&client, &plan, &key).await;
    let invoke = Invoke::new(&server, &api);
    assert_eq!(until_status(&invoke, Some(&value), 200).await.status, 200);
    let answers = burst(&invoke, 5, Some(&value)).await;
    assert_eq!(count(&answers, 200), 1);
    assert_eq!(count(&answers, 429), 4);
}

/// Quotas: exhaustion, GetUsage, UpdateUsage, reset at the next UTC day, and counts that
/// survive a restart.
#[tokio::test]
async fn usage_plan_quota_usage_and_reset() {
    let clock = Arc::new(ManualClock::at(NOON));
    let mut server = TestServer::start_with(frozen_server_config(&clock)).await;
    let client = server.client();
    let (api, _) = keyed_api(&client, true).await;
    let (key, value) = api_key(&client, "k", true).await;
    let plan = plan(&client, &api, None, Some(5), None).await;
    add_key(&client, &plan, &key).await;
    let invoke = Invoke::new(&server, &api);
    assert_eq!(until_status(&invoke, Some(&value), 200).await.status, 200);
    let answers = burst(&invoke, 6, Some(&value)).await;
    assert_eq!(count(&answers, 200), 4);
    for raw in answers.iter().filter(|a| a.status == 429) {
        assert_quota_exceeded(raw);
    }
    let usage = |server: &TestServer| {
        let client = server.client();
        let plan = plan.clone();
        async move {
            client
                .get_usage()
                .usage_plan_id(&plan)
                .start_date("2026-11-25")
                .end_date("2026-11-26")
                .send()
                .await
                .unwrap()
        }
    };
    let raw = server
        .get(&format!(
            "/usageplans/{plan}/usage?startDate=2026-11-25&endDate=2026-11-26"
        ))
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let got = usage(&server).await;
    assert_eq!(got.start_date(), Some("2026-11-25"), "raw {}", raw.text());
    assert!(
        got.items().unwrap().contains_key(&key),
        "raw {}",
        raw.text()
    );
    let days = got.items().unwrap().get(&key).unwrap();
    assert_eq!(days, &vec![vec![0, 5], vec![5, 0]]);

    // UpdateUsage grants two more for today.
    client
        .update_usage()
        .usage_plan_id(&plan)
        .key_id(&key)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/remaining")
                .value("2")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let answers = burst(&invoke, 3, Some(&value)).await;
    assert_eq!(count(&answers, 200), 2);
    assert_eq!(count(&answers, 429), 1);

    // The counts survive a restart (the shutdown writes them).
    server.restart().await;
    let invoke = Invoke::new(&server, &api);
    let got = usage(&server).await;
    assert_eq!(got.items().unwrap().get(&key).unwrap()[1], vec![7, 0]);
    assert_quota_exceeded(&until_status(&invoke, Some(&value), 429).await);

    // A new UTC day is a new period.
    clock.advance(Duration::from_secs(12 * 3600));
    let answers = burst(&invoke, 6, Some(&value)).await;
    assert_eq!(count(&answers, 200), 5);
    assert_eq!(count(&answers, 429), 1);
}

/// Stage method settings throttle every client of a method, with or without API keys.
#[tokio::test]
async fn stage_method_throttling() {
    let clock = Arc::new(ManualClock::at(NOON));
    let server = TestServer::start_with(frozen_server_config(&clock)).await;
    let client = server.client();
    let (api, _) = keyed_api(&client, false).await;
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace("/*/*/throttling/burstLimit", "3"))
        .patch_operations(replace("/*/*/throttling/rateLimit", "1"))
        .send()
        .await
        .unwrap();
    let invoke = Invoke::new(&server, &api);
    // Until the stage settings arrive, requests pass freely; then at most 3 do.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let raw = invoke.get("/prod/items").await;
        if raw.status == 429 {
            assert_throttled(&raw);
            break;
        }
        assert!(Instant::now() < deadline, "stage throttling never applied");
    }
    clock.advance(Duration::from_secs(10));
    let answers = burst(&invoke, 6, None).await;
    assert_eq!(count(&answers, 200), 3);

    // A per-method setting overrides `*/*` for its method.
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace("/~1items/GET/throttling/burstLimit", "1"))
        .send()
        .await
        .unwrap();
    // Each round starts from a full bucket: 3 pass until the override arrives (2 if it comes
    // in the middle of a round), then 1.
    let deadline = Instant::now() + Invoke::PATIENCE;
    loop {
        clock.advance(Duration::from_secs(10));
        let passed = count(&burst(&invoke, 4, None).await, 200);
        if passed == 1 {
            break;
        }
        assert!(
            matches!(passed, 2 | 3),
            "{passed} passed under the stage's */* setting"
        );
        assert!(
            Instant::now() < deadline,
            "the per-method setting never applied"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    clock.advance(Duration::from_secs(10));
    let answers = burst(&invoke, 4, None).await;
    assert_eq!(count(&answers, 200), 1);
}

/// The account-level throttle (`--account-burst-limit`) caps every API.
#[tokio::test]
async fn account_throttle() {
    let clock = Arc::new(ManualClock::at(NOON));
    let frozen = clock.clone();
    let server = TestServer::start_with(move |config| {
        config.clock = frozen.clone();
        config.account_throttle = Some(causeway_server::AccountThrottle {
            rate_limit: 1.0,
            burst_limit: 4,
        });
    })
    .await;
    let client = server.client();
    let (api, _) = keyed_api(&client, false).await;
    let invoke = Invoke::new(&server, &api);
    clock.advance(Duration::from_secs(10));
    let answers = burst(&invoke, 8, None).await;
    // Answers before the deployment arrived are 403s and cost nothing.
    assert_eq!(
        count(&answers, 429) + count(&answers, 200) + count(&answers, 403),
        8
    );
    assert!(count(&answers, 200) <= 4);
    clock.advance(Duration::from_secs(10));
    let _ = invoke.ready("/prod/items").await;
    clock.advance(Duration::from_secs(10));
    let answers = burst(&invoke, 8, None).await;
    assert_eq!(count(&answers, 200), 4);
    assert_eq!(count(&answers, 429), 4);
}

mod shared;
