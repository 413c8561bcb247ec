//! Several nodes on one PostgreSQL database: each serves what any of them configured, a
//! change made on one reaches the others' gateways without a restart, writes from all of
//! them at once are all kept, and a node with only the gateway role serves the private path
//! through its own NLB engine.

use std::collections::HashSet;

use causeway_server::Roles;
use causeway_store::testing::conformance;
use causeway_store::{Change, PostgresStore, PostgresWatcher, Store, StoreError};

use super::*;
use crate::harness::postgres::Postgres;

/// A node on the shared database with `roles`.
async fn node(url: &str, roles: Roles) -> TestServer {
    TestServer::start_sharing(url, move |config| config.roles = roles).await
}

fn put(key: &str) -> Change {
    Change::Put {
        kind: "restapi".into(),
        key: key.into(),
        body: "{}".into(),
    }
}

/// The store itself: the conformance checks every backend passes, a second connection
/// (another node) seeing the same data, its notification reaching a watcher at once, a stale
/// writer refused, and both surviving a restart of the server.
#[tokio::test]
async fn postgres_store_conforms_notifies_and_reconnects() {
    tokio::task::spawn_blocking(|| {
        let pg = Postgres::start();
        let url = pg.url();
        let mut a = PostgresStore::connect(&url, None).unwrap();
        conformance(&mut a).unwrap();

        let mut b = PostgresStore::connect(&url, None).unwrap();
        assert_eq!(b.revision().unwrap(), 3);
        assert_eq!(b.load_all().unwrap().len(), 1);
        let (seen, revisions) = std::sync::mpsc::channel();
        // A poll far longer than the test: only the notification can be fast.
        let watcher =
            PostgresWatcher::start(&url, None, Duration::from_secs(600), move |revision| {
                let _ = seen.send(revision);
            })
            .unwrap();
        assert_eq!(revisions.recv_timeout(Duration::from_secs(10)), Ok(3));
        let started = Instant::now();
        assert_eq!(b.apply(3, &[put("from-b")]).unwrap(), 4);
        assert_eq!(revisions.recv_timeout(Duration::from_secs(5)), Ok(4));
        assert!(started.elapsed() < Duration::from_secs(2));
        // Node a has not seen revision 4: its write is refused and changes nothing.
        match a.apply(3, &[put("from-a")]) {
            Err(StoreError::Conflict {
                expected: 3,
                found: 4,
            }) => {}
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert!(!a.load_all().unwrap().iter().any(|r| r.key == "from-a"));

        // The server goes down and comes back: reads connect again by themselves, and the
        // watcher reports what was written while it was away.
        pg.stop();
        assert!(a.revision().is_err(), "no server, no revision");
        pg.run();
        assert_eq!(a.revision().unwrap(), 4);
        assert_eq!(a.apply(4, &[put("after-restart")]).unwrap(), 5);
        assert_eq!(b.revision().unwrap(), 5);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match revisions.recv_timeout(Duration::from_millis(200)) {
                Ok(5) => break,
                _ => assert!(
                    Instant::now() < deadline,
                    "the watcher never saw revision 5"
                ),
            }
        }
        drop(watcher);
    })
    .await
    .unwrap();
}

/// With `sslmode=require` the store speaks TLS and checks the server's certificate: a
/// server that accepts TLS only serves the conformance checks and the watcher, and refuses
/// a connection without TLS; without the CA, the certificate is refused.
#[tokio::test]
async fn the_store_speaks_tls_when_asked() {
    tokio::task::spawn_blocking(|| {
        let (pg, ca) = Postgres::start_tls();
        let url = format!("{}?sslmode=require", pg.url());
        let mut store = PostgresStore::connect(&url, Some(&ca)).unwrap();
        conformance(&mut store).unwrap();
        let (seen, revisions) = std::sync::mpsc::channel();
        let _watcher =
            PostgresWatcher::start(&url, Some(&ca), Duration::from_secs(600), move |r| {
                let _ = seen.send(r);
            })
            .unwrap();
        assert_eq!(revisions.recv_timeout(Duration::from_secs(10)), Ok(3));
        store.apply(3, &[put("over-tls")]).unwrap();
        assert_eq!(revisions.recv_timeout(Duration::from_secs(5)), Ok(4));

        let plain = PostgresStore::connect(&pg.url(), None)
            .unwrap_err()
            .to_string();
        assert!(
            plain.contains("no encryption") || plain.contains("pg_hba"),
            "{plain}"
        );
        let untrusted = PostgresStore::connect(&url, None).unwrap_err().to_string();
        assert!(
            untrusted.to_lowercase().contains("certificate"),
            "{untrusted}"
        );
    })
    .await
    .unwrap();
}

/// While another node's writer holds the database's writers' lock, reads (apigateway GETs,
/// elbv2 Describe calls) answer at once, and a write waits for it, then goes through.
#[tokio::test]
async fn reads_never_wait_for_another_nodes_writer() {
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let a = node(&pg.url(), Roles::default()).await;
    let client = a.client();
    let url = pg.url();
    let mut other = tokio::task::spawn_blocking(move || {
        let mut other = PostgresStore::connect(&url, None).unwrap();
        other.lock_writers().unwrap();
        other
    })
    .await
    .unwrap();

    let started = Instant::now();
    client.get_rest_apis().send().await.unwrap();
    a.elbv2_client()
        .describe_load_balancers()
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "reads waited");

    let create = tokio::spawn({
        let client = client.clone();
        async move { client.create_rest_api().name("waits").send().await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !create.is_finished(),
        "a write went ahead of another node's writer"
    );
    other = tokio::task::spawn_blocking(move || {
        other.unlock_writers();
        other
    })
    .await
    .unwrap();
    let created = create.await.unwrap().unwrap();
    assert_eq!(created.name(), Some("waits"));
    drop(other);
}

/// Two all-in-one nodes on one database: an API made on one is served by the other's
/// gateway, management reads on either see every write at once, a redeploy on either
/// reaches both gateways, concurrent writers lose nothing, and a delete is seen everywhere.
#[tokio::test]
async fn two_nodes_serve_one_configuration() {
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let a = node(&pg.url(), Roles::default()).await;
    let b = node(&pg.url(), Roles::default()).await;
    let (ca, cb) = (a.client(), b.client());

    let api = mock_api(&ca, r#"{"statusCode": 200}"#).await;
    // Read your writes through the other node: no waiting.
    let got = cb.get_rest_api().rest_api_id(&api).send().await.unwrap();
    assert_eq!(got.name(), Some("mock"));
    let on_b = Invoke::new(&b, &api);
    let raw = on_b.until("GET", "/prod/mock", |r| r.status == 200).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.json(), json!({"ok": true, "items": [1, 2]}));

    // A change and a redeploy on b reach a's gateway.
    let resources = cb.get_resources().rest_api_id(&api).send().await.unwrap();
    let mock = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/mock"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    cb.put_integration_response()
        .rest_api_id(&api)
        .resource_id(&mock)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", r#"{"from": "b"}"#)
        .send()
        .await
        .unwrap();
    deploy(&cb, &api, "prod").await;
    let on_a = Invoke::new(&a, &api);
    let raw = on_a
        .until("GET", "/prod/mock", |r| r.text().contains("from"))
        .await;
    assert_eq!(raw.json(), json!({"from": "b"}));
    let raw = on_b.get("/prod/mock").await;
    assert_eq!(raw.json(), json!({"from": "b"}));

    // Writers on both nodes at once: each write lands on the latest state, none is lost.
    let root = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    let mut writers = Vec::new();
    for (name, client) in [("a", ca.clone()), ("b", cb.clone())] {
        for i in 0..12 {
            let (client, api, root) = (client.clone(), api.clone(), root.clone());
            writers.push(tokio::spawn(async move {
                create_resource(&client, &api, &root, &format!("{name}{i}")).await
            }));
        }
    }
    let mut made = HashSet::new();
    for writer in writers {
        made.insert(writer.await.unwrap());
    }
    assert_eq!(made.len(), 24, "every write got its own resource");
    for client in [&ca, &cb] {
        let paths: HashSet<String> = client
            .get_resources()
            .rest_api_id(&api)
            .limit(500)
            .send()
            .await
            .unwrap()
            .items()
            .iter()
            .filter_map(|r| r.path().map(str::to_owned))
            .collect();
        for name in ["a", "b"] {
            for i in 0..12 {
                assert!(
                    paths.contains(&format!("/{name}{i}")),
                    "/{name}{i} in {paths:?}"
                );
            }
        }
        assert_eq!(paths.len(), 26, "{paths:?}");
    }

    // Deleted on a: gone for b's management API at once, and from b's gateway.
    ca.delete_rest_api().rest_api_id(&api).send().await.unwrap();
    let gone = cb.get_rest_api().rest_api_id(&api).send().await;
    assert_eq!(
        gone.unwrap_err().into_service_error().meta().code(),
        Some("NotFoundException")
    );
    let raw = on_b.until("GET", "/prod/mock", |r| r.status == 403).await;
    assert_gateway_error(&raw, 403, "ForbiddenException", FORBIDDEN);
}

/// A node with only the gateway role (no management API) learns everything from the shared
/// database and serves DESIGN §2's private path through its own NLB engine, which shares
/// the load balancer's address with the other node's (`SO_REUSEPORT`).
#[tokio::test]
async fn a_gateway_only_node_serves_the_private_path() {
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let control = node(&pg.url(), Roles::default()).await;
    let gateway = node(
        &pg.url(),
        Roles {
            control: false,
            gateway: true,
        },
    )
    .await;
    assert!(gateway.server().admin_addr().is_none());

    let client = control.client();
    let backend = Backend::echo().await;
    let nlb = private_nlb(&control, &backend).await;
    let link = available_link(&client, &nlb.arn).await;
    let api = vpc_link_proxy_api(
        &client,
        "${stageVariables.VPCLINK}",
        "http://${stageVariables.VPCNLB}/{proxy}",
    )
    .await;
    deploy_with(
        &client,
        &api,
        "prod",
        &[("VPCLINK", &link), ("VPCNLB", &nlb.host())],
    )
    .await;
    let invoke = Invoke::new(&gateway, &api);
    let raw = invoke
        .until("GET", "/prod/orders/7", |r| r.status == 200)
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.json()["path"], "/orders/7");
    assert_eq!(backend.last().header("host"), Some(nlb.host().as_str()));
    // The gateway-only node's own engine runs the load balancer and checks its target.
    let engine = gateway.server().engine();
    let deadline = Instant::now() + Duration::from_secs(10);
    while engine.load_balancer_status(&nlb.arn).is_none() {
        assert!(
            Instant::now() < deadline,
            "the node's engine never ran the NLB"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // With the control node gone, the gateway node keeps serving what it has.
    control.stop().await;
    let raw = invoke.get("/prod/orders/8").await;
    assert_eq!(raw.status, 200, "{}", raw.text());
}
