//! What the elbv2 API reports once the in-process NLB engine runs the configuration: real
//! target health, traffic through a listener, draining, and a load balancer that fails when
//! its listener port is taken.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::client::Waiters;
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancerStateEnum, LoadBalancerTypeEnum, ProtocolEnum, TargetDescription,
    TargetHealthDescription, TargetHealthStateEnum, TargetTypeEnum,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::*;

/// A TCP backend on a free loopback port that echoes what it reads.
async fn echo_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 || socket.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// A loopback port that nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// An NLB, a fast-checked TCP target group of `ip` targets and a listener on `port`:
/// `(load balancer ARN, its address, target group ARN)`.
async fn nlb(client: &Client, name: &str, port: i32) -> (String, String, String) {
    let nlb = create_nlb(client, name, port, 5).await;
    (nlb.arn, nlb.address, nlb.target_group)
}

/// Polls DescribeTargetHealth until `done` holds for the descriptions (at most `limit`).
async fn health_until(
    client: &Client,
    tg: &str,
    limit: Duration,
    done: impl Fn(&[TargetHealthDescription]) -> bool,
) -> Vec<TargetHealthDescription> {
    let deadline = Instant::now() + limit;
    loop {
        let out = client
            .describe_target_health()
            .target_group_arn(tg)
            .send()
            .await
            .unwrap();
        let descriptions = out.target_health_descriptions().to_vec();
        if done(&descriptions) {
            return descriptions;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting: {descriptions:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn state(d: &TargetHealthDescription) -> Option<&TargetHealthStateEnum> {
    d.target_health().and_then(|h| h.state())
}

#[tokio::test]
async fn target_turns_healthy_and_carries_traffic() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let backend = echo_backend().await;
    let (_, address, tg) = nlb(&client, "healthy", 10200).await;
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(ip_target(backend))
        .send()
        .await
        .unwrap();
    let healthy = health_until(&client, &tg, Duration::from_secs(30), |d| {
        d.len() == 1 && state(&d[0]) == Some(&TargetHealthStateEnum::Healthy)
    })
    .await;
    assert_eq!(healthy[0].target_health().and_then(|h| h.reason()), None);
    assert_eq!(
        healthy[0].health_check_port(),
        Some(backend.port().to_string().as_str())
    );
    client
        .wait_until_target_in_service()
        .target_group_arn(&tg)
        .wait(Duration::from_secs(30))
        .await
        .expect("TargetInService waiter");

    let mut socket = TcpStream::connect(format!("{address}:10200"))
        .await
        .unwrap();
    socket.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), socket.read_exact(&mut buf))
        .await
        .expect("echo within 5 s")
        .unwrap();
    assert_eq!(&buf, b"ping");
}

#[tokio::test]
async fn target_on_a_closed_port_turns_unhealthy() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let port = closed_port().await;
    let (_, _, tg) = nlb(&client, "unhealthy", 10201).await;
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(
            TargetDescription::builder()
                .id("127.0.0.1")
                .port(i32::from(port))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let unhealthy = health_until(&client, &tg, Duration::from_secs(30), |d| {
        d.len() == 1 && state(&d[0]) == Some(&TargetHealthStateEnum::Unhealthy)
    })
    .await;
    let reason = unhealthy[0]
        .target_health()
        .and_then(|h| h.reason())
        .map(|r| r.as_str().to_owned());
    assert!(
        matches!(
            reason.as_deref(),
            Some("Target.FailedHealthChecks" | "Target.Timeout")
        ),
        "{reason:?}"
    );
}

#[tokio::test]
async fn deregistered_target_drains() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let backend = echo_backend().await;
    let (_, _, tg) = nlb(&client, "draining", 10202).await;
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(ip_target(backend))
        .send()
        .await
        .unwrap();
    // Wait until the engine runs the target, so that deregistering it starts a drain.
    health_until(&client, &tg, Duration::from_secs(10), |d| {
        d.len() == 1
            && d[0]
                .target_health()
                .and_then(|h| h.reason())
                .map(|r| r.as_str())
                != Some("Elb.RegistrationInProgress")
    })
    .await;
    client
        .deregister_targets()
        .target_group_arn(&tg)
        .targets(ip_target(backend))
        .send()
        .await
        .unwrap();
    let draining = health_until(&client, &tg, Duration::from_secs(10), |d| {
        d.len() == 1 && state(&d[0]) == Some(&TargetHealthStateEnum::Draining)
    })
    .await;
    assert_eq!(
        draining[0]
            .target_health()
            .and_then(|h| h.reason())
            .map(|r| r.as_str()),
        Some("Target.DeregistrationInProgress")
    );
    assert_eq!(
        draining[0].target().and_then(|t| t.id()),
        Some(backend.ip().to_string().as_str())
    );
}

#[tokio::test]
async fn taken_listener_port_fails_the_load_balancer() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = client
        .create_load_balancer()
        .name("port-taken")
        .r#type(LoadBalancerTypeEnum::Network)
        .send()
        .await
        .unwrap();
    let lb = &lb.load_balancers()[0];
    let lb_arn = lb.load_balancer_arn().unwrap().to_owned();
    let address = lb.availability_zones()[0].load_balancer_addresses()[0]
        .ip_address()
        .unwrap()
        .to_owned();
    // Someone else holds the port on the load balancer's address.
    let squatter = std::net::TcpListener::bind(format!("{address}:10203")).unwrap();
    let tg = client
        .create_target_group()
        .name("port-taken")
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .vpc_id("vpc-1")
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    let listener = forward_listener(&client, &lb_arn, ProtocolEnum::Tcp, 10203, &tg).await;
    let state_of = |client: Client, arn: String| async move {
        let out = client
            .describe_load_balancers()
            .load_balancer_arns(arn)
            .send()
            .await
            .unwrap();
        let state = out.load_balancers()[0].state().cloned().unwrap();
        (state.code().cloned(), state.reason().map(str::to_owned))
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let reason = loop {
        let (code, reason) = state_of(client.clone(), lb_arn.clone()).await;
        if code == Some(LoadBalancerStateEnum::Failed) {
            break reason.unwrap_or_default();
        }
        assert!(Instant::now() < deadline, "still {code:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(reason.contains("10203"), "{reason}");

    // Without the listener the load balancer runs again.
    client
        .delete_listener()
        .listener_arn(&listener)
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, _) = state_of(client.clone(), lb_arn.clone()).await;
        if code == Some(LoadBalancerStateEnum::Active) {
            break;
        }
        assert!(Instant::now() < deadline, "still {code:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(squatter);
}

/// A backend that greets each connection with its own port, then echoes. Returns its address
/// and a handle that stops it (dropping its listener, so new connections are refused).
async fn greeting_backend() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                if socket
                    .write_all(format!("{}\n", addr.port()).as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 || socket.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (addr, task)
}

/// Connects through the load balancer and reads the backend's greeting (its port).
async fn greeted_by(addr: &str) -> (u16, TcpStream) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.last() != Some(&b'\n') {
        let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut byte))
            .await
            .expect("greeting within 5 s")
            .unwrap();
        assert!(n > 0, "closed before the greeting");
        line.push(byte[0]);
    }
    let port = String::from_utf8(line).unwrap().trim().parse().unwrap();
    (port, socket)
}

#[tokio::test]
async fn connections_spread_over_every_target() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let backends = [
        greeting_backend().await,
        greeting_backend().await,
        greeting_backend().await,
    ];
    let (_, address, tg) = nlb(&client, "spread", 10204).await;
    for (backend, _) in &backends {
        client
            .register_targets()
            .target_group_arn(&tg)
            .targets(ip_target(*backend))
            .send()
            .await
            .unwrap();
    }
    let mut seen = std::collections::HashMap::<u16, usize>::new();
    for _ in 0..45 {
        let (port, _) = greeted_by(&format!("{address}:10204")).await;
        *seen.entry(port).or_default() += 1;
    }
    assert_eq!(seen.len(), 3, "every target gets connections: {seen:?}");
}

#[tokio::test]
async fn a_killed_backend_turns_unhealthy_and_gets_no_new_connections() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let (alive, _keep) = greeting_backend().await;
    let (doomed, killer) = greeting_backend().await;
    let (_, address, tg) = nlb(&client, "killed", 10205).await;
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(ip_target(alive))
        .targets(ip_target(doomed))
        .send()
        .await
        .unwrap();
    // Interval 5 s × healthy threshold 2.
    health_until(&client, &tg, Duration::from_secs(20), |d| {
        d.len() == 2
            && d.iter()
                .all(|t| state(t) == Some(&TargetHealthStateEnum::Healthy))
    })
    .await;
    killer.abort();
    let killed_at = Instant::now();
    // Interval 5 s × unhealthy threshold 2, plus one check's timeout of slack.
    let report = health_until(&client, &tg, Duration::from_secs(14), |d| {
        d.iter().any(|t| {
            t.target().and_then(|t| t.port()) == Some(i32::from(doomed.port()))
                && state(t) == Some(&TargetHealthStateEnum::Unhealthy)
        })
    })
    .await;
    assert!(killed_at.elapsed() <= Duration::from_secs(14));
    let dead = report
        .iter()
        .find(|t| t.target().and_then(|t| t.port()) == Some(i32::from(doomed.port())))
        .unwrap();
    assert_eq!(
        dead.target_health()
            .and_then(|h| h.reason())
            .map(|r| r.as_str()),
        Some("Target.FailedHealthChecks")
    );
    for _ in 0..20 {
        let (port, _) = greeted_by(&format!("{address}:10205")).await;
        assert_eq!(
            port,
            alive.port(),
            "no new connection goes to the dead target"
        );
    }
}

#[tokio::test]
async fn a_drained_connection_flows_until_the_delay_ends_then_closes() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let (backend, _keep) = greeting_backend().await;
    let (_, address, tg) = nlb(&client, "drainclose", 10206).await;
    set_target_group_attribute(&client, &tg, "deregistration_delay.timeout_seconds", "2").await;
    set_target_group_attribute(
        &client,
        &tg,
        "deregistration_delay.connection_termination.enabled",
        "true",
    )
    .await;
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(ip_target(backend))
        .send()
        .await
        .unwrap();
    let (_, mut socket) = greeted_by(&format!("{address}:10206")).await;
    client
        .deregister_targets()
        .target_group_arn(&tg)
        .targets(ip_target(backend))
        .send()
        .await
        .unwrap();
    let deregistered_at = Instant::now();
    // During the delay the connection keeps flowing.
    socket.write_all(b"still").await.unwrap();
    let mut echo = [0u8; 5];
    tokio::time::timeout(Duration::from_secs(2), socket.read_exact(&mut echo))
        .await
        .expect("echo during the delay")
        .unwrap();
    assert_eq!(&echo, b"still");
    // At the end of the delay the load balancer closes it.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(6), socket.read_to_end(&mut rest))
        .await
        .expect("closed at the end of the delay")
        .ok();
    assert!(
        deregistered_at.elapsed() >= Duration::from_millis(1900),
        "closed too early"
    );
}

#[tokio::test]
async fn proxy_protocol_v2_header_reaches_the_target() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    let (_, address, tg) = nlb(&client, "ppv2", 10207).await;
    set_target_group_attribute(&client, &tg, "proxy_protocol_v2.enabled", "true").await;
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(ip_target(backend))
        .send()
        .await
        .unwrap();
    let mut connection = TcpStream::connect(format!("{address}:10207"))
        .await
        .unwrap();
    let client_addr = connection.local_addr().unwrap();
    connection.write_all(b"hello").await.unwrap();
    // Health checks connect too and send nothing: take the connection that brings a header.
    let (mut upstream, header) = loop {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut header = [0u8; 28];
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_secs(2), socket.read_exact(&mut header)).await
        {
            break (socket, header);
        }
    };
    let (source, destination) = proxy_v2_ipv4(&header);
    assert_eq!(
        source.ip(),
        std::net::Ipv4Addr::LOCALHOST,
        "source is the client"
    );
    assert_eq!(source, client_addr, "source is the client");
    assert_eq!(
        destination,
        format!("{address}:10207").parse().unwrap(),
        "destination is the listener"
    );
    let mut payload = [0u8; 5];
    upstream.read_exact(&mut payload).await.unwrap();
    assert_eq!(&payload, b"hello");
}

/// A UDP listener made through the API carries datagrams to a UDP target and its answers
/// back; the target group's health checks still use TCP, as AWS requires for UDP.
#[tokio::test]
async fn udp_listener_carries_datagrams_both_ways() {
    let server = TestServer::start().await;
    let elb = server.elbv2_client();
    // The target answers each datagram with `echo:` and the datagram.
    let target = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target_addr = target.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buffer = [0u8; 2048];
        while let Ok((len, from)) = target.recv_from(&mut buffer).await {
            let mut answer = b"echo:".to_vec();
            answer.extend_from_slice(&buffer[..len]);
            let _ = target.send_to(&answer, from).await;
        }
    });
    let (lb_arn, _, address) = network_load_balancer(&elb, "udp").await;
    let tg = elb
        .create_target_group()
        .name("udp")
        .protocol(ProtocolEnum::Udp)
        .port(i32::from(target_addr.port()))
        .vpc_id("vpc-1")
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap();
    let tg = tg.target_groups()[0].target_group_arn().unwrap().to_owned();
    elb.register_targets()
        .target_group_arn(&tg)
        .targets(ip_target(target_addr))
        .send()
        .await
        .unwrap();
    forward_listener(&elb, &lb_arn, ProtocolEnum::Udp, 18353, &tg).await;
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(format!("{address}:18353")).await.unwrap();
    let mut buffer = [0u8; 2048];
    // The plan reaches the engine a moment after CreateListener answers.
    let deadline = Instant::now() + Duration::from_secs(5);
    let answer = loop {
        client.send(b"query").await.unwrap();
        match tokio::time::timeout(Duration::from_millis(200), client.recv(&mut buffer)).await {
            Ok(Ok(len)) => break buffer[..len].to_vec(),
            _ if Instant::now() < deadline => continue,
            other => panic!("no answer through the UDP listener: {other:?}"),
        }
    };
    assert_eq!(answer, b"echo:query");
    // A UDP listener takes no TCP connection.
    assert!(
        TcpStream::connect(format!("{address}:18353"))
            .await
            .is_err()
    );
}

/// Connects with TLS to `port` on `address`, asking for `name` and trusting only `ca`;
/// writes `ping` and reads what comes back.
/// A root store that trusts the certificates of `ca` (PEM).
fn roots(ca: &str) -> tokio_rustls::rustls::RootCertStore {
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    roots
}

async fn tls_ping(address: &str, port: u16, name: &str, ca: &str) -> std::io::Result<Vec<u8>> {
    use tokio_rustls::rustls;
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots(ca))
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let socket = TcpStream::connect(format!("{address}:{port}")).await?;
    let name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
    let mut tls = connector.connect(name, socket).await?;
    tls.write_all(b"ping").await?;
    let mut buf = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), tls.read_exact(&mut buf))
        .await
        .map_err(|_| std::io::Error::other("no echo within 5 s"))??;
    Ok(buf.to_vec())
}

/// Where a load balancer's listeners bind (its address, by its DNS name).
async fn listener_address(server: &TestServer, elb: &Client, arn: &str) -> String {
    let lb = elb
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
        .unwrap();
    let dns = lb.load_balancers()[0].dns_name().unwrap().to_owned();
    server.server().engine().resolve(&dns).unwrap().to_string()
}

/// [`tls_ping`] until it succeeds (a change reaches the listener a moment after the API
/// answers), at most ~5 s.
async fn until_tls_echo(address: &str, port: u16, name: &str, ca: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match tls_ping(address, port, name, ca).await {
            Ok(echoed) => {
                assert_eq!(echoed, b"ping");
                return;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("no TLS echo from {address}:{port} as {name}: {error}"),
        }
    }
}

/// A TLS listener with an imported certificate terminates TLS on its own socket: clients
/// see its certificate, the plain target sees plain bytes; a re-imported certificate is
/// served to new connections; and ACM will not delete a certificate a listener uses.
#[tokio::test]
async fn a_tls_listener_terminates_tls_with_its_imported_certificate() {
    use crate::acm::{acm, acm_ok, b64, issued};
    let server = TestServer::start().await;
    let elb = server.elbv2_client();
    let backend = echo_backend().await;
    let (arn, certificate, ca) = crate::gateway::tls_terminating_nlb(
        &server,
        "tls-socket",
        10445,
        ProtocolEnum::Tcp,
        backend,
    )
    .await;
    let address = listener_address(&server, &elb, &arn).await;
    until_tls_echo(&address, 10445, "backend.internal", &ca).await;
    // Bytes that are not TLS get no answer from the target.
    let mut socket = TcpStream::connect(format!("{address}:10445"))
        .await
        .unwrap();
    socket.write_all(b"ping\r\n\r\n").await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut buf)).await;
    assert!(
        !matches!(read, Ok(Ok(_)) if buf.starts_with(b"ping")),
        "{buf:?}"
    );

    // In use: not deleted.
    let described = acm_ok(
        &server,
        "DescribeCertificate",
        serde_json::json!({"CertificateArn": certificate}),
    )
    .await;
    assert_eq!(
        described["Certificate"]["InUseBy"],
        serde_json::json!([arn])
    );
    let (status, answer) = acm(
        &server,
        "DeleteCertificate",
        serde_json::json!({"CertificateArn": certificate}),
    )
    .await;
    assert_eq!(
        (status, answer["__type"].as_str()),
        (400, Some("ResourceInUseException"))
    );

    // Re-imported from another CA: new connections get the new certificate.
    let (ca2, leaf2, key2) = issued("NLB CA two", &["backend.internal"]);
    acm_ok(
        &server,
        "ImportCertificate",
        serde_json::json!({"CertificateArn": certificate, "Certificate": b64(&leaf2),
            "PrivateKey": b64(&key2), "CertificateChain": b64(&ca2)}),
    )
    .await;
    until_tls_echo(&address, 10445, "backend.internal", &ca2).await;
    assert!(
        tls_ping(&address, 10445, "backend.internal", &ca)
            .await
            .is_err()
    );
}

/// A TLS listener's other certificates (AddListenerCertificates) are served to clients whose
/// server name they cover, the default to everyone else; DescribeListeners shows the
/// default only, DescribeListenerCertificates all of them; the default cannot be removed.
#[tokio::test]
async fn listener_certificates_are_chosen_by_server_name() {
    use crate::acm::{import, issued};
    use aws_sdk_elasticloadbalancingv2::types::Certificate;
    let server = TestServer::start().await;
    let elb = server.elbv2_client();
    let backend = echo_backend().await;
    let (arn, default_certificate, ca) =
        crate::gateway::tls_terminating_nlb(&server, "sni", 10447, ProtocolEnum::Tcp, backend)
            .await;
    let listener = elb
        .describe_listeners()
        .load_balancer_arn(&arn)
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .clone();
    let listener_arn = listener.listener_arn().unwrap().to_owned();
    let (other_ca, other_leaf, other_key) = issued("Other CA", &["*.other.internal"]);
    let other = import(&server, &other_leaf, &other_key, None).await;
    // Only certificates imported into ACM.
    elb.add_listener_certificates()
        .listener_arn(&listener_arn)
        .certificates(
            Certificate::builder()
                .certificate_arn("arn:aws:acm:us-east-1:000000000000:certificate/never-imported")
                .build(),
        )
        .send()
        .await
        .expect_error(
            "CertificateNotFound",
            "Certificate 'arn:aws:acm:us-east-1:000000000000:certificate/never-imported' not found",
        );
    let added = elb
        .add_listener_certificates()
        .listener_arn(&listener_arn)
        .certificates(Certificate::builder().certificate_arn(&other).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        added.certificates()[0].certificate_arn(),
        Some(other.as_str())
    );
    assert_eq!(added.certificates()[0].is_default(), Some(false));
    let listed = elb
        .describe_listener_certificates()
        .listener_arn(&listener_arn)
        .send()
        .await
        .unwrap();
    let listed: Vec<(Option<&str>, Option<bool>)> = listed
        .certificates()
        .iter()
        .map(|c| (c.certificate_arn(), c.is_default()))
        .collect();
    assert_eq!(
        listed,
        [
            (Some(default_certificate.as_str()), Some(true)),
            (Some(other.as_str()), Some(false))
        ]
    );
    let described = elb
        .describe_listeners()
        .listener_arns(&listener_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.listeners()[0].certificates().len(), 1);

    let address = listener_address(&server, &elb, &arn).await;
    until_tls_echo(&address, 10447, "api.other.internal", &other_ca).await;
    assert_eq!(
        tls_ping(&address, 10447, "backend.internal", &ca)
            .await
            .unwrap(),
        b"ping"
    );

    let error = elb
        .remove_listener_certificates()
        .listener_arn(&listener_arn)
        .certificates(
            Certificate::builder()
                .certificate_arn(&default_certificate)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata::code(&error),
        Some("OperationNotPermitted")
    );
    elb.remove_listener_certificates()
        .listener_arn(&listener_arn)
        .certificates(Certificate::builder().certificate_arn(&other).build())
        .send()
        .await
        .unwrap();
    // The other name now gets the default certificate, which the other CA did not sign.
    let deadline = Instant::now() + Duration::from_secs(5);
    while tls_ping(&address, 10447, "api.other.internal", &other_ca)
        .await
        .is_ok()
    {
        assert!(
            Instant::now() < deadline,
            "the removed certificate is still served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A TLS handshake with a listener by a client that offers `suites` (in its order of
/// preference) and `versions`: the version and cipher suite agreed, or the failure.
async fn handshake(
    address: &str,
    port: u16,
    ca: &str,
    suites: &[tokio_rustls::rustls::CipherSuite],
    versions: &[&'static tokio_rustls::rustls::SupportedProtocolVersion],
) -> std::io::Result<(
    tokio_rustls::rustls::ProtocolVersion,
    tokio_rustls::rustls::CipherSuite,
)> {
    use tokio_rustls::rustls;
    let all = rustls::crypto::ring::default_provider();
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: suites
            .iter()
            .filter_map(|wanted| {
                all.cipher_suites
                    .iter()
                    .find(|s| s.suite() == *wanted)
                    .copied()
            })
            .collect(),
        ..all.clone()
    };
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots(ca))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let socket = TcpStream::connect(format!("{address}:{port}")).await?;
    let name = rustls::pki_types::ServerName::try_from("backend.internal").unwrap();
    let tls = connector.connect(name, socket).await?;
    let session = tls.get_ref().1;
    Ok((
        session.protocol_version().unwrap(),
        session.negotiated_cipher_suite().unwrap().suite(),
    ))
}

/// A TLS listener's security policy decides the versions and ciphers it takes, in the
/// policy's order rather than the client's: ELBSecurityPolicy-2016-08 (the default) stops
/// at TLS 1.2 and has no ChaCha20; TLS13-1-3 takes TLS 1.3 only; a changed policy applies
/// to new connections; an unknown policy is `SSLPolicyNotFound`.
#[tokio::test]
async fn a_tls_listeners_security_policy_sets_its_versions_and_ciphers() {
    use tokio_rustls::rustls::{CipherSuite as S, ProtocolVersion, version};
    let server = TestServer::start().await;
    let elb = server.elbv2_client();
    let backend = echo_backend().await;
    let (arn, _, ca) =
        crate::gateway::tls_terminating_nlb(&server, "policy", 10448, ProtocolEnum::Tcp, backend)
            .await;
    let address = listener_address(&server, &elb, &arn).await;
    until_tls_echo(&address, 10448, "backend.internal", &ca).await;
    let both = [&version::TLS13, &version::TLS12];
    let every = [
        S::TLS13_AES_256_GCM_SHA384,
        S::TLS13_CHACHA20_POLY1305_SHA256,
        S::TLS13_AES_128_GCM_SHA256,
        S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        S::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ];
    // The default policy: TLS 1.2, and its first cipher though the client prefers others.
    assert_eq!(
        handshake(&address, 10448, &ca, &every, &both)
            .await
            .unwrap(),
        (
            ProtocolVersion::TLSv1_2,
            S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        )
    );
    let chacha_only = [S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256];
    assert!(
        handshake(&address, 10448, &ca, &chacha_only, &[&version::TLS12])
            .await
            .is_err(),
        "ELBSecurityPolicy-2016-08 has no ChaCha20"
    );

    let listener = elb
        .describe_listeners()
        .load_balancer_arn(&arn)
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .listener_arn()
        .unwrap()
        .to_owned();
    elb.modify_listener()
        .listener_arn(&listener)
        .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
        .send()
        .await
        .unwrap();
    // TLS 1.3 now, with the policy's first TLS 1.3 suite.
    let deadline = Instant::now() + Duration::from_secs(10);
    let agreed = loop {
        let agreed = handshake(&address, 10448, &ca, &every, &both)
            .await
            .unwrap();
        if agreed.0 == ProtocolVersion::TLSv1_3 || Instant::now() > deadline {
            break agreed;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        agreed,
        (ProtocolVersion::TLSv1_3, S::TLS13_AES_128_GCM_SHA256)
    );
    let described = elb
        .describe_listeners()
        .listener_arns(&listener)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.listeners()[0].ssl_policy(),
        Some("ELBSecurityPolicy-TLS13-1-2-2021-06")
    );

    elb.modify_listener()
        .listener_arn(&listener)
        .ssl_policy("ELBSecurityPolicy-TLS13-1-3-2021-06")
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let tls12 = handshake(&address, 10448, &ca, &every, &[&version::TLS12]).await;
        if tls12.is_err() || Instant::now() > deadline {
            break tls12;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(refused.is_err(), "TLS13-1-3 refuses TLS 1.2: {refused:?}");
    assert_eq!(
        handshake(&address, 10448, &ca, &every, &both)
            .await
            .unwrap()
            .0,
        ProtocolVersion::TLSv1_3
    );

    elb.modify_listener()
        .listener_arn(&listener)
        .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-6")
        .send()
        .await
        .expect_error(
            "SSLPolicyNotFound",
            "SSL policy 'ELBSecurityPolicy-TLS13-1-2-2021-6' not found",
        );
}

/// DescribeSSLPolicies: every policy in AWS's order, by name, by load balancer type and
/// page by page; an unknown name is `SSLPolicyNotFound`.
#[tokio::test]
async fn ssl_policies_are_described() {
    let server = TestServer::start().await;
    let elb = server.elbv2_client();
    let all = elb.describe_ssl_policies().send().await.unwrap();
    let names: Vec<&str> = all.ssl_policies().iter().filter_map(|p| p.name()).collect();
    assert_eq!(names.len(), 46);
    assert_eq!(names[0], "ELBSecurityPolicy-2016-08");
    assert!(all.next_marker().is_none());
    let one = elb
        .describe_ssl_policies()
        .names("ELBSecurityPolicy-TLS13-1-2-Res-2021-06")
        .send()
        .await
        .unwrap();
    let policy = &one.ssl_policies()[0];
    assert_eq!(policy.ssl_protocols(), ["TLSv1.2", "TLSv1.3"]);
    let ciphers: Vec<(&str, i32)> = policy
        .ciphers()
        .iter()
        .map(|c| (c.name().unwrap(), c.priority().unwrap()))
        .collect();
    assert_eq!(
        ciphers,
        [
            ("TLS_AES_128_GCM_SHA256", 1),
            ("TLS_AES_256_GCM_SHA384", 2),
            ("TLS_CHACHA20_POLY1305_SHA256", 3),
            ("ECDHE-ECDSA-AES128-GCM-SHA256", 4),
            ("ECDHE-RSA-AES128-GCM-SHA256", 5),
            ("ECDHE-ECDSA-AES256-GCM-SHA384", 6),
            ("ECDHE-RSA-AES256-GCM-SHA384", 7),
        ]
    );
    assert_eq!(
        policy.supported_load_balancer_types(),
        ["application", "network"]
    );
    let network = elb
        .describe_ssl_policies()
        .load_balancer_type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
        .send()
        .await
        .unwrap();
    assert_eq!(network.ssl_policies().len(), 46);
    let gateway = elb
        .describe_ssl_policies()
        .load_balancer_type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Gateway)
        .send()
        .await
        .unwrap();
    assert!(gateway.ssl_policies().is_empty());
    // Page by page, following NextMarker.
    let mut paged: Vec<String> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = elb
            .describe_ssl_policies()
            .page_size(10)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        assert!(page.ssl_policies().len() <= 10);
        paged.extend(
            page.ssl_policies()
                .iter()
                .map(|p| p.name().unwrap().to_owned()),
        );
        match page.next_marker() {
            Some(next) => marker = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, names);
    elb.describe_ssl_policies()
        .names("ELBSecurityPolicy-2016-08")
        .names("NoSuchPolicy")
        .send()
        .await
        .expect_error("SSLPolicyNotFound", "SSL policy 'NoSuchPolicy' not found");
}
