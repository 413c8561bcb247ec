//! The stage cache (`cacheClusterEnabled` and the stage's `caching/*` method settings),
//! observed through a backend that numbers its answers: an answer with a number the client
//! already saw came from the cache. The server runs on a `ManualClock`, so time to live is
//! tested by moving the clock, not by waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_apigateway::types::PatchOperation;
use causeway_server::ManualClock;

use super::*;

/// 2026-11-26 12:00:00 UTC.
const NOON: i64 = 1_795_694_400;

/// A backend whose every answer carries the next number: `{"n":N,"target":"/..."}`, with
/// a header of its own. `/status/{code}` answers with that status; `/size/{bytes}` with a
/// body of that many bytes (the number in the first line); `/slow-once` waits 500 ms
/// before its first answer only.
async fn numbering_backend() -> (Backend, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let slow_done = Arc::new(AtomicBool::new(false));
    let backend = Backend::start({
        let count = count.clone();
        move |seen: &Seen| {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            let path = seen.path().to_owned();
            if let Some(size) = path.strip_prefix("/size/") {
                let size: usize = size.parse().unwrap();
                let mut body = format!("{n}\n").into_bytes();
                body.resize(size, b'x');
                return Reply::new(200)
                    .header("Content-Type", "text/plain")
                    .body(body);
            }
            let status = path
                .strip_prefix("/status/")
                .map_or(200, |code| code.parse().unwrap());
            let reply = Reply::new(status)
                .header("Content-Type", "application/json")
                .header("X-Backend", "numbering")
                .body(json!({"n": n, "target": seen.target}).to_string());
            if path == "/slow-once" && !slow_done.swap(true, Ordering::SeqCst) {
                reply.delay(Duration::from_millis(500))
            } else {
                reply
            }
        }
    })
    .await;
    (backend, count)
}

/// The number in an answer from the numbering backend.
fn number(raw: &Raw) -> u64 {
    assert_eq!(
        raw.header("x-backend").as_deref(),
        Some("numbering"),
        "{}",
        raw.text()
    );
    raw.json()["n"].as_u64().unwrap()
}

/// The caching fixture, deployed to `prod`:
///
/// ```text
/// /items/{id}      GET, POST  HTTP_PROXY → /items/{id}; cache key: path id, query color,
///                             header x-tenant
/// /plain           GET        HTTP_PROXY → /plain; no cache key parameters
/// /shared-a, /shared-b  GET   HTTP_PROXY → /shared-a, /shared-b; one cacheNamespace
/// /status/{code}   GET        HTTP_PROXY → /status/{code}; key: path code
/// /size/{bytes}    GET        HTTP_PROXY → /size/{bytes}; key: path bytes
/// /streamed        GET        HTTP_PROXY (STREAM) → /plain
/// /slow-once       GET        HTTP_PROXY → /slow-once, 200 ms timeout
/// /http            GET        HTTP → /plain, passthrough
/// ```
async fn caching_api(client: &Client, base: &str) -> String {
    let (api, root) = create_api(client, "cached").await;
    let items = create_resource(client, &api, &root, "items").await;
    let item = create_resource(client, &api, &items, "{id}").await;
    for verb in ["GET", "POST"] {
        client
            .put_method()
            .rest_api_id(&api)
            .resource_id(&item)
            .http_method(verb)
            .authorization_type("NONE")
            .request_parameters("method.request.path.id", true)
            .request_parameters("method.request.querystring.color", false)
            .request_parameters("method.request.header.x-tenant", false)
            .send()
            .await
            .unwrap();
        client
            .put_integration()
            .rest_api_id(&api)
            .resource_id(&item)
            .http_method(verb)
            .r#type(IntegrationType::HttpProxy)
            .integration_http_method(verb)
            .uri(format!("{base}/items/{{id}}"))
            .request_parameters("integration.request.path.id", "method.request.path.id")
            .cache_key_parameters("method.request.path.id")
            .cache_key_parameters("method.request.querystring.color")
            .cache_key_parameters("method.request.header.x-tenant")
            .send()
            .await
            .unwrap();
    }
    let plain = create_resource(client, &api, &root, "plain").await;
    proxy_route(client, &api, &plain, "GET", &format!("{base}/plain"), &[]).await;
    for name in ["shared-a", "shared-b"] {
        let resource = create_resource(client, &api, &root, name).await;
        put_method(client, &api, &resource, "GET").await;
        client
            .put_integration()
            .rest_api_id(&api)
            .resource_id(&resource)
            .http_method("GET")
            .r#type(IntegrationType::HttpProxy)
            .integration_http_method("GET")
            .uri(format!("{base}/{name}"))
            .cache_namespace("shared")
            .send()
            .await
            .unwrap();
    }
    // GET routes to the backend, each with one change to its integration.
    let key = |param: &str| add_path(&format!("/cacheKeyParameters/method.request.path.{param}"));
    for (part, param) in [("status", "code"), ("size", "bytes")] {
        let parent = create_resource(client, &api, &root, part).await;
        let resource = create_resource(client, &api, &parent, &format!("{{{param}}}")).await;
        let uri = format!("{base}/{part}/{{{param}}}");
        patched_route(client, &api, &resource, &uri, &[param], key(param)).await;
    }
    for (part, path, operation) in [
        (
            "streamed",
            "plain",
            replace("/responseTransferMode", "STREAM"),
        ),
        ("slow-once", "slow-once", replace("/timeoutInMillis", "200")),
    ] {
        let resource = create_resource(client, &api, &root, part).await;
        let uri = format!("{base}/{path}");
        patched_route(client, &api, &resource, &uri, &[], operation).await;
    }
    let http = create_resource(client, &api, &root, "http").await;
    HttpIntegration::new("GET", format!("{base}/plain"))
        .put(client, &api, &http)
        .await;
    deploy(client, &api, "prod").await;
    api
}

/// GET on `resource` as HTTP_PROXY to `uri`, then `operation` on its integration.
async fn patched_route(
    client: &Client,
    api: &str,
    resource: &str,
    uri: &str,
    params: &[&str],
    operation: PatchOperation,
) {
    proxy_route(client, api, resource, "GET", uri, params).await;
    client
        .update_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .patch_operations(operation)
        .send()
        .await
        .unwrap();
}

/// GETs `path` until two answers in a row carry the same number (the cache is on and
/// serves it), or (`cached` false) differ; returns the last answer.
async fn until_caching(invoke: &Invoke, path: &str, cached: bool) -> Raw {
    let deadline = Instant::now() + Invoke::PATIENCE;
    let mut previous = number(&invoke.get(path).await);
    loop {
        let raw = invoke.get(path).await;
        let n = number(&raw);
        if (n == previous) == cached {
            return raw;
        }
        assert!(
            Instant::now() < deadline,
            "the stage cache did not turn {}",
            if cached { "on" } else { "off" }
        );
        previous = n;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A server on a manual clock with the caching fixture deployed and answering, before any
/// cache setting.
struct Cached {
    /// Kept for as long as the test runs: dropping them stops the server and the backend.
    _server: TestServer,
    clock: Arc<ManualClock>,
    client: Client,
    _backend: Backend,
    count: Arc<AtomicUsize>,
    api: String,
    invoke: Invoke,
}

impl Cached {
    async fn start() -> Cached {
        let (server, clock) = cached_server().await;
        let client = server.client();
        let (backend, count) = numbering_backend().await;
        let api = caching_api(&client, &backend.base()).await;
        let invoke = Invoke::new(&server, &api);
        invoke.ready("/prod/plain").await;
        Cached {
            _server: server,
            clock,
            client,
            _backend: backend,
            count,
            api,
            invoke,
        }
    }

    /// Applies `operations` to the stage and waits until GET `path` is served from the
    /// cache.
    async fn cache(&self, operations: Vec<PatchOperation>, path: &str) -> Raw {
        update_stage(&self.client, &self.api, operations).await;
        until_caching(&self.invoke, path, true).await
    }

    /// GETs `path` until its number is no longer `old` (a change reached the gateway);
    /// returns the new number.
    async fn until_not(&self, path: &str, old: u64, what: &str) -> u64 {
        let deadline = Instant::now() + Invoke::PATIENCE;
        loop {
            let n = number(&self.invoke.get(path).await);
            if n != old {
                return n;
            }
            assert!(Instant::now() < deadline, "{what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn cached_server() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(NOON));
    let server = TestServer::start_with({
        let clock = clock.clone();
        move |config| config.clock = clock.clone()
    })
    .await;
    (server, clock)
}

/// With the stage cache on and `*/*` caching enabled, GET answers come from the cache until
/// their time to live ends, under a key made of the cache key parameters only; other verbs
/// reach the backend every time; `Cache-Control: max-age=0` refreshes an entry.
#[tokio::test]
async fn the_stage_cache_answers_get_requests_by_their_key_until_the_ttl() {
    let fixture = Cached::start().await;
    let Cached {
        clock,
        client,
        count,
        api,
        invoke,
        ..
    } = &fixture;

    // Without a cache, every request reaches the backend.
    let first = number(&invoke.get("/prod/plain").await);
    assert_ne!(number(&invoke.get("/prod/plain").await), first);

    let kept = fixture
        .cache(
            vec![
                replace("/cacheClusterEnabled", "true"),
                replace("/*/*/caching/enabled", "true"),
                replace("/*/*/caching/ttlInSeconds", "60"),
            ],
            "/prod/plain",
        )
        .await;
    let stage = client
        .get_stage()
        .rest_api_id(api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.cache_cluster_size().map(|s| s.as_str()), Some("0.5"));
    let kept_n = number(&kept);

    // A hit is the kept answer: status, the backend's headers and body, with ids of its own.
    let hits_before = count.load(Ordering::SeqCst);
    let hit = invoke.get("/prod/plain?page=2").await;
    assert_eq!(hit.status, 200);
    assert_eq!(
        number(&hit),
        kept_n,
        "a query string outside the key is ignored"
    );
    assert_eq!(hit.body, kept.body);
    assert_eq!(
        hit.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_ne!(
        hit.header("x-amzn-requestid"),
        kept.header("x-amzn-requestid")
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        hits_before,
        "no backend request"
    );

    // The key: path parameter, query parameter (every value) and header, nothing else.
    let red = number(&invoke.get("/prod/items/1?color=red").await);
    assert_eq!(
        number(&invoke.get("/prod/items/1?color=red&size=9").await),
        red
    );
    assert_eq!(
        number(&invoke.get("/prod/items/1?size=1&color=red").await),
        red
    );
    let blue = number(&invoke.get("/prod/items/1?color=blue").await);
    assert_ne!(blue, red);
    let two = number(&invoke.get("/prod/items/2?color=red").await);
    assert_ne!(two, red);
    let both = number(&invoke.get("/prod/items/1?color=red&color=blue").await);
    assert!(![red, blue].contains(&both), "every value counts");
    let none = number(&invoke.get("/prod/items/1").await);
    let empty = number(&invoke.get("/prod/items/1?color=").await);
    assert_ne!(none, empty, "an empty value is not an absent one");
    let tenant = |name: &'static str| {
        invoke.send(
            invoke
                .request("GET", "/prod/items/1?color=red")
                .header("x-tenant", name),
        )
    };
    let tenant_a = number(&tenant("a").await);
    assert!(![red, blue, two].contains(&tenant_a));
    assert_eq!(number(&tenant("a").await), tenant_a);
    assert_ne!(number(&tenant("b").await), tenant_a);
    assert_eq!(
        invoke.get("/prod/items/1?color=red").await.json()["target"],
        "/items/1?color=red",
        "the kept answer is the first request's"
    );

    // `*/*` covers GET only.
    let post = |path: &'static str| invoke.send(invoke.request("POST", path).body("{}"));
    let p1 = number(&post("/prod/items/1?color=red").await);
    let p2 = number(&post("/prod/items/1?color=red").await);
    assert_ne!(p1, p2);

    // Resources with one cacheNamespace share their entries.
    let shared = invoke.get("/prod/shared-a").await;
    let from_b = invoke.get("/prod/shared-b").await;
    assert_eq!(number(&from_b), number(&shared));
    assert_eq!(from_b.json()["target"], "/shared-a");

    // `Cache-Control: max-age=0` reaches the backend and refreshes the entry.
    let fresh = invoke
        .send(
            invoke
                .request("GET", "/prod/plain")
                .header("Cache-Control", "no-transform, max-age=0"),
        )
        .await;
    let fresh_n = number(&fresh);
    assert_ne!(fresh_n, kept_n);
    assert_eq!(number(&invoke.get("/prod/plain").await), fresh_n);

    // The entry lives for its time to live on the gateway's clock.
    clock.advance(Duration::from_secs(59));
    assert_eq!(number(&invoke.get("/prod/plain").await), fresh_n);
    clock.advance(Duration::from_secs(1));
    let after = number(&invoke.get("/prod/plain").await);
    assert_ne!(after, fresh_n, "expired after 60 s");
    assert_eq!(number(&invoke.get("/prod/plain").await), after);
}

/// What is kept: integration answers of any status (as AWS keeps them), bodies up to
/// 1 MiB, HTTP integrations too; never a streamed answer or a gateway failure.
#[tokio::test]
async fn the_stage_cache_keeps_whole_answers_up_to_1_mib_and_never_failures() {
    let fixture = Cached::start().await;
    let Cached { count, invoke, .. } = &fixture;
    fixture
        .cache(
            vec![
                replace("/cacheClusterEnabled", "true"),
                replace("/*/*/caching/enabled", "true"),
            ],
            "/prod/plain",
        )
        .await;

    // A backend error is an answer, and kept.
    let error = invoke.get("/prod/status/503").await;
    assert_eq!(error.status, 503);
    let again = invoke.get("/prod/status/503").await;
    assert_eq!(again.status, 503);
    assert_eq!(number(&again), number(&error));

    // 1 MiB is kept; one byte more is not.
    let first_line = |raw: &Raw| -> String {
        assert_eq!(raw.status, 200);
        String::from_utf8_lossy(&raw.body)
            .lines()
            .next()
            .unwrap()
            .to_owned()
    };
    let at_limit = invoke.get("/prod/size/1048576").await;
    assert_eq!(at_limit.body.len(), 1_048_576);
    let at_limit_again = invoke.get("/prod/size/1048576").await;
    assert_eq!(first_line(&at_limit_again), first_line(&at_limit));
    assert_eq!(at_limit_again.body, at_limit.body);
    let over = invoke.get("/prod/size/1048577").await;
    assert_eq!(over.body.len(), 1_048_577);
    assert_ne!(
        first_line(&invoke.get("/prod/size/1048577").await),
        first_line(&over)
    );

    // A streamed answer is never kept.
    let s1 = number(&invoke.get("/prod/streamed").await);
    assert_ne!(number(&invoke.get("/prod/streamed").await), s1);

    // A timeout is the gateway's failure, not an answer: the next request reaches the
    // backend.
    let timed_out = invoke.get("/prod/slow-once").await;
    assert_gateway_error(&timed_out, 504, "InternalServerErrorException", TIMED_OUT);
    let before = count.load(Ordering::SeqCst);
    let answered = invoke.get("/prod/slow-once").await;
    assert_eq!(answered.status, 200);
    assert_eq!(count.load(Ordering::SeqCst), before + 1);

    // HTTP (non-proxy) answers are kept too.
    let h1 = invoke.get("/prod/http").await;
    assert_eq!(h1.status, 200);
    let h2 = invoke.get("/prod/http").await;
    assert_eq!(h2.body, h1.body);
    assert_eq!(h1.json()["target"], "/plain");
}

/// Method overrides turn caching on for other verbs or off for one method (TTL 0);
/// FlushStageCache, a new deployment, a new cache size and turning the cache off each
/// leave no entry served; the stage throttle still counts hits.
#[tokio::test]
async fn overrides_flushes_redeploys_and_throttles_apply_to_the_stage_cache() {
    let fixture = Cached::start().await;
    let Cached {
        client,
        count,
        api,
        invoke,
        ..
    } = &fixture;
    fixture
        .cache(
            vec![
                replace("/cacheClusterEnabled", "true"),
                replace("/*/*/caching/enabled", "true"),
                replace("/~1items~1{id}/POST/caching/enabled", "true"),
                replace("/~1plain/GET/caching/ttlInSeconds", "0"),
            ],
            "/prod/items/7",
        )
        .await;

    // POST is cached by its override, apart from GET.
    let post = || invoke.send(invoke.request("POST", "/prod/items/7").body("{}"));
    let p1 = post().await;
    assert_eq!(p1.json()["target"], "/items/7");
    assert_eq!(number(&post().await), number(&p1));
    assert_ne!(
        number(&invoke.get("/prod/items/7").await),
        number(&p1),
        "GET and POST have entries of their own"
    );
    // TTL 0 turns caching off for /plain.
    let plain = number(&invoke.get("/prod/plain").await);
    assert_ne!(number(&invoke.get("/prod/plain").await), plain);

    // FlushStageCache empties the cache at once.
    let kept = number(&invoke.get("/prod/items/7").await);
    assert_eq!(number(&invoke.get("/prod/items/7").await), kept);
    client
        .flush_stage_cache()
        .rest_api_id(api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let flushed = number(&invoke.get("/prod/items/7").await);
    assert_ne!(flushed, kept);
    assert_eq!(number(&invoke.get("/prod/items/7").await), flushed);

    // A new deployment serves nothing kept for the old one.
    deploy(client, api, "prod").await;
    let redeployed = fixture
        .until_not(
            "/prod/items/7",
            flushed,
            "the new deployment still answered from the cache",
        )
        .await;
    assert_eq!(number(&invoke.get("/prod/items/7").await), redeployed);

    // A new size is a new, empty cache (AWS recreates it).
    update_stage(client, api, vec![replace("/cacheClusterSize", "1.6")]).await;
    let resized = fixture
        .until_not(
            "/prod/items/7",
            redeployed,
            "the resized cache kept its entries",
        )
        .await;
    assert_eq!(number(&invoke.get("/prod/items/7").await), resized);

    // Turned off, the cache answers nothing.
    update_stage(client, api, vec![replace("/cacheClusterEnabled", "false")]).await;
    until_caching(invoke, "/prod/items/7", false).await;
    let stage = client
        .get_stage()
        .rest_api_id(api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert!(!stage.cache_cluster_enabled());

    // Back on, the stage throttle still counts hits: with the clock frozen, a burst of 2
    // lets two requests through, and the rest are refused before the cache.
    update_stage(client, api, vec![replace("/cacheClusterEnabled", "true")]).await;
    until_caching(invoke, "/prod/items/7", true).await;
    update_stage(
        client,
        api,
        vec![
            replace("/*/*/throttling/burstLimit", "2"),
            replace("/*/*/throttling/rateLimit", "1"),
        ],
    )
    .await;
    let deadline = Instant::now() + Invoke::PATIENCE;
    while invoke.get("/prod/items/7").await.status != 429 {
        assert!(Instant::now() < deadline, "the throttle never applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = count.load(Ordering::SeqCst);
    assert_eq!(invoke.get("/prod/items/7").await.status, 429);
    assert_eq!(count.load(Ordering::SeqCst), before);
}

/// A canary taking every request reads and fills the stage cache only with `useStageCache`.
#[tokio::test]
async fn a_canary_uses_the_stage_cache_only_when_told() {
    let fixture = Cached::start().await;
    let Cached {
        client,
        api,
        invoke,
        ..
    } = &fixture;
    fixture
        .cache(
            vec![
                replace("/cacheClusterEnabled", "true"),
                replace("/*/*/caching/enabled", "true"),
            ],
            "/prod/plain",
        )
        .await;
    let canary = |use_stage_cache: bool| {
        client
            .create_deployment()
            .rest_api_id(api)
            .stage_name("prod")
            .canary_settings(
                aws_sdk_apigateway::types::DeploymentCanarySettings::builder()
                    .percent_traffic(100.0)
                    .use_stage_cache(use_stage_cache)
                    .build(),
            )
            .send()
    };
    // Two GETs in a row, until they agree (or not) on the backend's number.
    let until_cached = |cached: bool| async move {
        let deadline = Instant::now() + Invoke::PATIENCE;
        loop {
            let first = number(&invoke.get("/prod/plain").await);
            let second = number(&invoke.get("/prod/plain").await);
            if (first == second) == cached {
                return;
            }
            assert!(Instant::now() < deadline, "cached should be {cached}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    canary(false).await.unwrap();
    until_cached(false).await;
    for _ in 0..5 {
        let first = number(&invoke.get("/prod/plain").await);
        assert_ne!(number(&invoke.get("/prod/plain").await), first);
    }
    canary(true).await.unwrap();
    until_cached(true).await;
}

/// A canary sharing the stage cache keeps entries of its own: an answer its deployment put
/// in the cache never answers a request the stage's deployment serves.
#[tokio::test]
async fn a_canary_and_its_stage_never_answer_from_each_others_entries() {
    let fixture = Cached::start().await;
    let Cached {
        client,
        api,
        invoke,
        ..
    } = &fixture;
    let before = number(
        &fixture
            .cache(
                vec![
                    replace("/cacheClusterEnabled", "true"),
                    replace("/*/*/caching/enabled", "true"),
                ],
                "/prod/plain",
            )
            .await,
    );
    // The first canary deployment is the stage's too; the second is the canary alone.
    for _ in 0..2 {
        client
            .create_deployment()
            .rest_api_id(api)
            .stage_name("prod")
            .canary_settings(
                aws_sdk_apigateway::types::DeploymentCanarySettings::builder()
                    .percent_traffic(100.0)
                    .use_stage_cache(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    // Every request is the canary's (never answered from the stage's entry), and it answers
    // from its own.
    fixture
        .until_not(
            "/prod/plain",
            before,
            "the canary answered with the stage's entry",
        )
        .await;
    let canary = number(&until_caching(invoke, "/prod/plain", true).await);
    // Every request is the stage's: its deployment has no entry yet.
    update_stage(
        client,
        api,
        vec![replace("/canarySettings/percentTraffic", "0")],
    )
    .await;
    let stage = fixture
        .until_not(
            "/prod/plain",
            canary,
            "the stage answered with the canary's entry",
        )
        .await;
    assert_eq!(
        number(&invoke.get("/prod/plain").await),
        stage,
        "kept for the stage"
    );
}

/// Nodes sharing one configuration each keep their own copy of a stage's cache (in their
/// memory); FlushStageCache through any node empties every node's copy.
#[tokio::test]
async fn flush_stage_cache_through_one_node_empties_every_nodes_copy() {
    use crate::harness::postgres::Postgres;

    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let a = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let b = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let client = a.client();
    let (backend, _) = numbering_backend().await;
    let api = caching_api(&client, &backend.base()).await;
    update_stage(
        &client,
        &api,
        vec![
            replace("/cacheClusterEnabled", "true"),
            replace("/*/*/caching/enabled", "true"),
        ],
    )
    .await;
    let (on_a, on_b) = (Invoke::new(&a, &api), Invoke::new(&b, &api));
    on_a.ready("/prod/plain").await;
    on_b.ready("/prod/plain").await;
    let kept_a = number(&until_caching(&on_a, "/prod/plain", true).await);
    let kept_b = number(&until_caching(&on_b, "/prod/plain", true).await);
    assert_ne!(kept_a, kept_b, "each node keeps its own copy");

    client
        .flush_stage_cache()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_ne!(number(&on_a.get("/prod/plain").await), kept_a);
    let deadline = Instant::now() + Invoke::PATIENCE;
    while number(&on_b.get("/prod/plain").await) == kept_b {
        assert!(Instant::now() < deadline, "b's copy was never emptied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // GetStage does not show the flush.
    let raw = b.get(&format!("/restapis/{api}/stages/prod")).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert!(!raw.text().contains("lush"), "{}", raw.text());
}
