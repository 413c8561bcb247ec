//! VPC links to load balancers that an NLB node serves elsewhere, reached through the
//! outbound tunnel: the node dials the server's link listener, receives its load
//! balancers' plans, runs them, and carries the gateway's streams to their listeners.
//!
//! The node runs in this process here (on loopback); the isolation test with network
//! namespaces is the one that proves the gateway cannot reach the private side directly.

use causeway_server::node::{Node, NodeConfig};

use super::*;

/// Admits a node for `nlb_arn`; returns its id and token.
async fn admit(server: &TestServer, nlb_arn: &str) -> (String, String) {
    let raw = server
        .post(
            "/causeway/nodes",
            &json!({"name": "private-a", "loadBalancerArns": [nlb_arn]}).to_string(),
        )
        .await;
    raw.assert_status(201);
    let node = raw.json();
    (
        node["id"].as_str().unwrap().to_owned(),
        node["token"].as_str().unwrap().to_owned(),
    )
}

fn start_node(server: &TestServer, id: &str, token: &str) -> Node {
    let link = server.server().link_addr().expect("link listener");
    Node::start(NodeConfig {
        gateways: vec![link.to_string()],
        server_name: "localhost".to_owned(),
        ca_pem: std::fs::read(server.server().link_certificate()).unwrap(),
        node_id: id.to_owned(),
        token: token.to_owned(),
    })
    .unwrap()
}

/// A VPC link to `nlb_arn` (it stays PENDING until a node serving the load balancer connects).
async fn create_link(client: &Client, name: &str, nlb_arn: &str) -> String {
    client
        .create_vpc_link()
        .name(name)
        .target_arns(nlb_arn)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned()
}

async fn link_status(client: &Client, link: &str) -> (VpcLinkStatus, String) {
    let got = client
        .get_vpc_link()
        .vpc_link_id(link)
        .send()
        .await
        .unwrap();
    (
        got.status().cloned().unwrap(),
        got.status_message().unwrap_or_default().to_owned(),
    )
}

async fn until_link(client: &Client, link: &str, want: VpcLinkStatus) -> (VpcLinkStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = link_status(client, link).await;
        if status.0 == want || Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn private_integration_through_a_node_and_the_tunnel() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let nlb = private_nlb(&server, &backend).await;
    let (node_id, token) = admit(&server, &nlb.arn).await;
    // The server no longer runs that load balancer itself: the node does.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server
        .server()
        .engine()
        .load_balancer_status(&nlb.arn)
        .is_some()
    {
        assert!(
            Instant::now() < deadline,
            "the in-process engine kept the load balancer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let link = create_link(&client, "to-node", &nlb.arn).await;
    // A new link starts PENDING without a message; the reconciler then says what it waits for.
    let deadline = Instant::now() + Duration::from_secs(5);
    let message = loop {
        let (status, message) = link_status(&client, &link).await;
        assert_eq!(status, VpcLinkStatus::Pending);
        if !message.is_empty() || Instant::now() >= deadline {
            break message;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(message.contains("No NLB node"), "{message}");

    let node = start_node(&server, &node_id, &token);
    let (status, message) = until_link(&client, &link, VpcLinkStatus::Available).await;
    assert_eq!(status, VpcLinkStatus::Available, "{message}");
    // The load balancer's state comes from the node that runs it (the server's own engine
    // does not run it, so without the node's report it would stay `provisioning`).
    let elb = server.elbv2_client();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let described = elb
            .describe_load_balancers()
            .load_balancer_arns(&nlb.arn)
            .send()
            .await
            .unwrap();
        let state = described.load_balancers()[0]
            .state()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_owned());
        if state.as_deref() == Some("active") {
            break;
        }
        assert!(Instant::now() < deadline, "state {state:?}, never active");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

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
    let invoke = Invoke::new(&server, &api);
    let raw = invoke
        .until("GET", "/prod/orders/1?x=y", |raw| raw.status == 200)
        .await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    let seen = backend.last();
    assert_eq!(seen.path(), "/orders/1");
    assert_eq!(seen.query(), Some("x=y"));
    assert_eq!(seen.header("host"), Some(nlb.host().as_str()));
    // The node's own engine runs the load balancer and its listener.
    assert!(node.engine().load_balancer_status(&nlb.arn).is_some());
    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/upload")
                // Printable, so that the echoed answer stays under the 10 MB a buffered
                // answer may hold.
                .body(vec![b'7'; 3 * 1024 * 1024]),
        )
        .await;
    assert_eq!(raw.status, 200);
    assert_eq!(backend.last().body.len(), 3 * 1024 * 1024);

    // Revoking the node drops its tunnel: the link waits for a node and requests fail with
    // AWS's 500.
    server
        .delete(&format!("/causeway/nodes/{node_id}"))
        .await
        .assert_status(202);
    let (status, _) = until_link(&client, &link, VpcLinkStatus::Pending).await;
    assert_eq!(status, VpcLinkStatus::Pending);
    assert_internal_error(&invoke.get("/prod/orders/2").await);
    let listed = server
        .get(&format!("/causeway/nodes/{node_id}"))
        .await
        .json();
    assert_eq!(listed["revoked"], true);
    // The revoked node is refused when it dials again, and the link keeps waiting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(node.status().borrow().connected, 0);
    assert_eq!(link_status(&client, &link).await.0, VpcLinkStatus::Pending);
    node.shutdown();
}

#[tokio::test]
async fn a_node_with_a_bad_credential_is_refused() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let nlb = private_nlb(&server, &backend).await;
    let (node_id, _) = admit(&server, &nlb.arn).await;
    let node = start_node(&server, &node_id, "not-the-token");
    let mut status = node.status();
    let deadline = Instant::now() + Duration::from_secs(5);
    let error = loop {
        if let Some(error) = status.borrow_and_update().last_error.clone() {
            break error.to_string();
        }
        assert!(Instant::now() < deadline, "the node was never refused");
        let _ = tokio::time::timeout(Duration::from_millis(200), status.changed()).await;
    };
    assert!(error.contains("wrong credential"), "{error}");
    assert_eq!(status.borrow().connected, 0);
    let link = create_link(&client, "to-node", &nlb.arn).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(link_status(&client, &link).await.0, VpcLinkStatus::Pending);
    node.shutdown();
}

#[tokio::test]
async fn nodes_are_listed_without_their_credential_and_checked() {
    let server = TestServer::start().await;
    let backend = Backend::echo().await;
    let nlb = private_nlb(&server, &backend).await;
    let (node_id, token) = admit(&server, &nlb.arn).await;
    let listed = server.get("/causeway/nodes").await;
    listed.assert_status(200);
    let text = listed.text();
    assert!(text.contains(&node_id));
    assert!(
        !text.contains(&token),
        "the credential is never shown again"
    );
    let raw = server
        .post(
            "/causeway/nodes",
            r#"{"loadBalancerArns":["arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/none/0000000000000000"]}"#,
        )
        .await;
    assert!(raw.assert_status(404).contains("was not found"));
    server
        .post("/causeway/nodes", "{}")
        .await
        .assert_status(400);
    server
        .delete("/causeway/nodes/nosuchnode")
        .await
        .assert_status(404);
}

/// Two nodes serve one load balancer: both get its plan, traffic flows through either, and
/// revoking one leaves the other serving.
#[tokio::test]
async fn two_nodes_serve_one_load_balancer() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let nlb = private_nlb(&server, &backend).await;
    let (first_id, first_token) = admit(&server, &nlb.arn).await;
    let (second_id, second_token) = admit(&server, &nlb.arn).await;
    let first = start_node(&server, &first_id, &first_token);
    let second = start_node(&server, &second_id, &second_token);
    let link = create_link(&client, "to-nodes", &nlb.arn).await;
    assert_eq!(
        until_link(&client, &link, VpcLinkStatus::Available).await.0,
        VpcLinkStatus::Available
    );
    // Each node runs the load balancer (each received the plan).
    let deadline = Instant::now() + Duration::from_secs(5);
    while first.engine().load_balancer_status(&nlb.arn).is_none()
        || second.engine().load_balancer_status(&nlb.arn).is_none()
    {
        assert!(Instant::now() < deadline, "a node never received the plan");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Both run it, even on one host (the nodes' listeners share the port).
    for node in [&first, &second] {
        let status = node.engine().load_balancer_status(&nlb.arn);
        assert_eq!(
            status.map(|s| format!("{:?}", s.state)).as_deref(),
            Some("Active")
        );
    }
    let api = vpc_link_proxy_api(&client, &link, &format!("http://{}/{{proxy}}", nlb.host())).await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke
        .until("GET", "/prod/a", |raw| raw.status == 200)
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    for i in 0..20 {
        assert_eq!(invoke.get(&format!("/prod/n{i}")).await.status, 200);
    }
    server
        .delete(&format!("/causeway/nodes/{first_id}"))
        .await
        .assert_status(202);
    for i in 0..20 {
        let raw = invoke.get(&format!("/prod/after{i}")).await;
        assert_eq!(
            raw.status,
            200,
            "request {i} after revoking one node: {}",
            raw.text()
        );
    }
    assert_eq!(
        link_status(&client, &link).await.0,
        VpcLinkStatus::Available
    );
    first.shutdown();
    second.shutdown();
}

/// Several gateway nodes on one database: a node dials one of them; revoking it through
/// another drops its tunnel within about a second, and it is refused when it dials again.
#[tokio::test]
async fn revoking_a_node_through_another_gateway_node_drops_its_tunnel() {
    use crate::harness::postgres::Postgres;

    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let a = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let b = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let backend = Backend::echo().await;
    let nlb = private_nlb(&a, &backend).await;
    let (node_id, token) = admit(&a, &nlb.arn).await;
    let node = start_node(&b, &node_id, &token);
    let mut status = node.status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while status.borrow_and_update().connected == 0 {
        assert!(Instant::now() < deadline, "the node never connected to b");
        let _ = tokio::time::timeout(Duration::from_millis(100), status.changed()).await;
    }

    a.delete(&format!("/causeway/nodes/{node_id}"))
        .await
        .assert_status(202);
    let deadline = Instant::now() + Duration::from_secs(5);
    while status.borrow_and_update().connected > 0 {
        assert!(
            Instant::now() < deadline,
            "b kept the tunnel of a node revoked through a"
        );
        let _ = tokio::time::timeout(Duration::from_millis(100), status.changed()).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(status.borrow().connected, 0, "the revoked node got back in");
    node.shutdown();
}

/// Several gateway nodes on one database, an NLB node dialled into one of them: every node
/// settles the VPC link alike (AVAILABLE while the tunnel is up, PENDING once it is gone),
/// instead of each writing what it sees on its own.
#[tokio::test]
async fn every_gateway_node_agrees_on_a_link_to_a_node_dialled_into_one() {
    use crate::harness::postgres::Postgres;

    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let a = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let b = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let (ca, cb) = (a.client(), b.client());
    let backend = Backend::echo().await;
    let nlb = private_nlb(&a, &backend).await;
    let (node_id, token) = admit(&a, &nlb.arn).await;
    let node = start_node(&b, &node_id, &token);
    let link = create_link(&ca, "to-node", &nlb.arn).await;
    let (status, message) = until_link(&ca, &link, VpcLinkStatus::Available).await;
    assert_eq!(status, VpcLinkStatus::Available, "{message}");

    // Settled: for two seconds, nobody writes the link again, and both nodes report it
    // AVAILABLE.
    let revision = a.server().control().revision();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(link_status(&ca, &link).await.0, VpcLinkStatus::Available);
    assert_eq!(link_status(&cb, &link).await.0, VpcLinkStatus::Available);
    assert_eq!(
        a.server().control().revision(),
        revision,
        "the nodes kept rewriting the link"
    );

    node.shutdown();
    let (status, message) = until_link(&ca, &link, VpcLinkStatus::Pending).await;
    assert_eq!(status, VpcLinkStatus::Pending, "{message}");
    assert!(message.contains("No NLB node"), "{message}");
    let revision = a.server().control().revision();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(link_status(&cb, &link).await.0, VpcLinkStatus::Pending);
    assert_eq!(
        a.server().control().revision(),
        revision,
        "the nodes kept rewriting the link"
    );
}

/// An NLB node given every gateway node keeps a tunnel to each, so the private path works
/// through any of them.
#[tokio::test]
async fn a_node_dialling_every_gateway_node_serves_through_each() {
    use crate::harness::postgres::Postgres;

    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let a = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let b = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let client = a.client();
    let backend = Backend::echo().await;
    let nlb = private_nlb(&a, &backend).await;
    let (node_id, token) = admit(&a, &nlb.arn).await;
    // Each gateway node made its own link certificate: the node trusts both.
    let mut ca_pem = std::fs::read(a.server().link_certificate()).unwrap();
    ca_pem.extend(std::fs::read(b.server().link_certificate()).unwrap());
    let node = Node::start(NodeConfig {
        gateways: [&a, &b]
            .iter()
            .map(|server| server.server().link_addr().unwrap().to_string())
            .collect(),
        server_name: "localhost".to_owned(),
        ca_pem,
        node_id,
        token,
    })
    .unwrap();
    let link = create_link(&client, "to-node", &nlb.arn).await;
    let (status, message) = until_link(&client, &link, VpcLinkStatus::Available).await;
    assert_eq!(status, VpcLinkStatus::Available, "{message}");
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
    for (name, server) in [("a", &a), ("b", &b)] {
        let invoke = Invoke::new(server, &api);
        let raw = invoke
            .until("GET", &format!("/prod/via/{name}"), |r| r.status == 200)
            .await;
        assert_eq!(raw.status, 200, "through {name}: {}", raw.text());
        assert_eq!(backend.last().path(), format!("/via/{name}"));
    }
    assert!(node.statuses().iter().all(|s| s.borrow().connected > 0));
    node.shutdown();
}

/// A TLS listener of a load balancer a node serves terminates TLS on the node, with the
/// certificate imported into ACM here (its plan carries it through the tunnel).
#[tokio::test]
async fn a_node_terminates_tls_with_the_listener_certificate() {
    use aws_sdk_elasticloadbalancingv2::types::ProtocolEnum;
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (nlb, _, _) =
        tls_terminating_nlb(&server, "node-tls", 10446, ProtocolEnum::Tcp, backend.addr).await;
    let (node_id, token) = admit(&server, &nlb).await;
    let link = create_link(&client, "to-node-tls", &nlb).await;
    let node = start_node(&server, &node_id, &token);
    let (status, message) = until_link(&client, &link, VpcLinkStatus::Available).await;
    assert_eq!(status, VpcLinkStatus::Available, "{message}");
    // AVAILABLE says the node's tunnel is up; the node runs the load balancer (its TLS
    // listener bound, with the certificate) once its plan has come too.
    let deadline = Instant::now() + Invoke::PATIENCE;
    loop {
        let status = node.engine().load_balancer_status(&nlb);
        if status
            .as_ref()
            .is_some_and(|s| format!("{:?}", s.state) == "Active")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the node never ran the load balancer: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let api = https_api(
        &client,
        "https://backend.internal:10446/{proxy}",
        Some(&link),
        true,
    )
    .await;
    let raw = Invoke::new(&server, &api)
        .until("GET", "/prod/through/node", |raw| raw.status == 200)
        .await;
    assert_eq!(raw.json()["path"], "/through/node");
    // Plain HTTP to it fails: the node's listener speaks TLS.
    let plain = https_api(
        &client,
        "http://backend.internal:10446/{proxy}",
        Some(&link),
        true,
    )
    .await;
    let raw = Invoke::new(&server, &plain).ready("/prod/plain").await;
    assert!(raw.status >= 500, "{} {}", raw.status, raw.text());
}
