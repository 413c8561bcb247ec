//! VPC links to load balancers of the same process. The gateway hands each backend
//! connection to the load balancer in memory (no socket pair between the gateway and the
//! listener); the load balancer still chooses the target, connects to it, writes the PROXY
//! protocol header and drains. These tests show each of those on the gateway's path, with
//! real backends on real sockets.

use aws_sdk_elasticloadbalancingv2::Client as ElbClient;

use super::*;

/// A load balancer with a listener and a target group (slow health checks: every target
/// stays `initial`, so traffic fails open to all of them and no check interferes).
struct Balanced {
    /// The load balancer's address and the listener port.
    listener: SocketAddr,
    target_group: String,
    /// What an integration uri names: `{dns name}:{port}`.
    host: String,
    nlb_arn: String,
}

async fn balanced(elb: &ElbClient, name: &str, port: u16) -> Balanced {
    let nlb = create_nlb(elb, name, i32::from(port), 300).await;
    Balanced {
        listener: SocketAddr::new(nlb.address.parse().unwrap(), port),
        target_group: nlb.target_group,
        host: format!("{}:{port}", nlb.dns_name),
        nlb_arn: nlb.arn,
    }
}

async fn register(elb: &ElbClient, tg: &str, addr: SocketAddr) {
    elb.register_targets()
        .target_group_arn(tg)
        .targets(ip_target(addr))
        .send()
        .await
        .unwrap();
}

/// An API proxying `/{proxy+}` through a VPC link to `balanced`, deployed to `prod` and
/// answering.
async fn linked_api(server: &TestServer, balanced: &Balanced) -> Invoke {
    let client = server.client();
    let link = available_link(&client, &balanced.nlb_arn).await;
    let api = vpc_link_proxy_api(
        &client,
        &link,
        &format!("http://{}/{{proxy}}", balanced.host),
    )
    .await;
    deploy(&client, &api, "prod").await;
    Invoke::new(server, &api)
}

/// GETs `/prod/{prefix}/{i}` for `i` in `0..count`, all at once.
async fn concurrently(invoke: &Invoke, prefix: &str, count: usize) -> Vec<Raw> {
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..count {
        let invoke = invoke.clone();
        let path = format!("/prod/{prefix}/{i}");
        calls.spawn(async move { invoke.get(&path).await });
    }
    calls.join_all().await
}

/// Concurrent requests open several backend connections, and the load balancer spreads
/// them over every target by flow hash.
#[tokio::test]
async fn vpc_link_connections_spread_over_every_target() {
    let server = TestServer::start().await;
    let elb = server.elbv2_client();
    // Slow answers keep requests overlapping, so each needs a connection of its own.
    let backends = [
        Backend::start(|seen| Reply::echo(seen).delay(Duration::from_millis(300))).await,
        Backend::start(|seen| Reply::echo(seen).delay(Duration::from_millis(300))).await,
        Backend::start(|seen| Reply::echo(seen).delay(Duration::from_millis(300))).await,
    ];
    let balanced = balanced(&elb, "flow-spread", 10301).await;
    for backend in &backends {
        register(&elb, &balanced.target_group, backend.addr).await;
    }
    let invoke = linked_api(&server, &balanced).await;
    invoke.ready("/prod/warmup").await;

    for raw in concurrently(&invoke, "spread", 30).await {
        assert_eq!(raw.status, 200, "body {:?}", raw.text());
    }
    let counts: Vec<usize> = backends
        .iter()
        .map(|b| {
            b.requests()
                .iter()
                .filter(|s| s.path().starts_with("/spread/"))
                .count()
        })
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), 30);
    assert!(
        counts.iter().all(|&n| n > 0),
        "every target gets connections: {counts:?}"
    );
}

/// With `proxy_protocol_v2.enabled`, the target reads a PROXY v2 header before the
/// gateway's request: the destination is the listener the VPC link reaches.
#[tokio::test]
async fn vpc_link_target_reads_the_proxy_protocol_header_first() {
    let server = TestServer::start().await;
    let elb = server.elbv2_client();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    let headers: Arc<Mutex<Vec<[u8; 28]>>> = Arc::default();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let accept = tokio::spawn({
        let headers = headers.clone();
        let seen = seen.clone();
        async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let headers = headers.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut header = [0u8; 28];
                    // Health checks connect and send nothing.
                    let read = tokio::time::timeout(
                        Duration::from_secs(2),
                        socket.read_exact(&mut header),
                    )
                    .await;
                    if !matches!(read, Ok(Ok(_))) {
                        return;
                    }
                    headers.lock().unwrap().push(header);
                    let handler: Handler = Arc::new(Reply::echo);
                    serve_backend(socket, handler, seen).await;
                });
            }
        }
    });
    let balanced = balanced(&elb, "flow-ppv2", 10302).await;
    set_target_group_attribute(
        &elb,
        &balanced.target_group,
        "proxy_protocol_v2.enabled",
        "true",
    )
    .await;
    register(&elb, &balanced.target_group, backend).await;
    let invoke = linked_api(&server, &balanced).await;

    let raw = invoke.ready("/prod/behind/proxy-protocol").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.json()["path"], "/behind/proxy-protocol");
    let header = headers.lock().unwrap()[0];
    let (source, destination) = proxy_v2_ipv4(&header);
    assert_eq!(source.ip(), std::net::Ipv4Addr::LOCALHOST, "source");
    assert_eq!(destination, balanced.listener, "destination: the listener");
    assert_eq!(seen.lock().unwrap()[0].path(), "/behind/proxy-protocol");
    accept.abort();
}

/// A deregistered target gets no new connection; with connection termination on, the
/// gateway's kept connection to it ends with the deregistration delay, and requests flow
/// on to the other target without an error.
#[tokio::test]
async fn vpc_link_connection_to_a_drained_target_ends_with_the_delay() {
    let server = TestServer::start().await;
    let elb = server.elbv2_client();
    let first = Backend::echo().await;
    let second = Backend::echo().await;
    let balanced = balanced(&elb, "flow-drain", 10303).await;
    set_target_group_attribute(
        &elb,
        &balanced.target_group,
        "deregistration_delay.timeout_seconds",
        "1",
    )
    .await;
    set_target_group_attribute(
        &elb,
        &balanced.target_group,
        "deregistration_delay.connection_termination.enabled",
        "true",
    )
    .await;
    register(&elb, &balanced.target_group, first.addr).await;
    let invoke = linked_api(&server, &balanced).await;
    invoke.ready("/prod/before").await;
    assert!(!first.requests().is_empty());

    register(&elb, &balanced.target_group, second.addr).await;
    elb.deregister_targets()
        .target_group_arn(&balanced.target_group)
        .targets(ip_target(first.addr))
        .send()
        .await
        .unwrap();
    let deregistered = Instant::now();
    // After the delay, the kept connection to the first target is closed by the load
    // balancer and every request reaches the second one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = first.requests().len();
    for i in 0..10 {
        let raw = invoke.get(&format!("/prod/after/{i}")).await;
        assert_eq!(raw.status, 200, "request {i}: body {:?}", raw.text());
    }
    assert_eq!(
        first.requests().len(),
        before,
        "a drained target gets nothing after its delay"
    );
    assert!(
        second
            .requests()
            .iter()
            .filter(|s| s.path().starts_with("/after/"))
            .count()
            == 10
    );
    assert!(deregistered.elapsed() >= Duration::from_millis(1500));
}

/// A target that refuses connections is skipped and marked unhealthy at once (passive
/// detection): each request goes on to the next target.
#[tokio::test]
async fn vpc_link_skips_a_target_that_refuses() {
    let server = TestServer::start().await;
    let elb = server.elbv2_client();
    // Slow answers keep requests overlapping, so each opens a connection of its own and
    // some of them hash to the refusing target first.
    let alive = Backend::start(|seen| Reply::echo(seen).delay(Duration::from_millis(300))).await;
    let refused = {
        let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
        socket.local_addr().unwrap()
    };
    let balanced = balanced(&elb, "flow-refused", 10304).await;
    register(&elb, &balanced.target_group, refused).await;
    register(&elb, &balanced.target_group, alive.addr).await;
    let invoke = linked_api(&server, &balanced).await;
    invoke.ready("/prod/warmup").await;
    for raw in concurrently(&invoke, "refused", 12).await {
        assert_eq!(raw.status, 200, "body {:?}", raw.text());
    }
    assert_eq!(
        alive
            .requests()
            .iter()
            .filter(|s| s.path().starts_with("/refused/"))
            .count(),
        12
    );
    let health = elb
        .describe_target_health()
        .target_group_arn(&balanced.target_group)
        .send()
        .await
        .unwrap();
    let state = health
        .target_health_descriptions()
        .iter()
        .find(|d| d.target().and_then(|t| t.port()) == Some(i32::from(refused.port())))
        .and_then(|d| d.target_health())
        .and_then(|h| h.state())
        .cloned();
    assert_eq!(
        state,
        Some(aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum::Unhealthy)
    );
}
