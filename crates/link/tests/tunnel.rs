//! The tunnel transport over real sockets on 127.0.0.1 and real TLS: a gateway
//! (`TunnelServer` + `Registry`), nodes (`TunnelClient`), local echo backends, and raw
//! peers that misbehave.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use causeway_link::tunnel::{
    ALPN, Admission, ClientStatus, ConnectError, Connector, NodeAuthority, Refusal, Registry,
    Target, TunnelClient, TunnelClientConfig, TunnelError, TunnelServer, TunnelServerConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

const NLB_A: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/a/1";
const NLB_B: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/b/2";
const NLB_C: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/c/3";

/// Listener ports the test node maps to local backends.
const ECHO_PORT: u16 = 80;
const COUNT_PORT: u16 = 81;
const DEAD_PORT: u16 = 82;
const SOURCE_PORT: u16 = 83;

// ---------------------------------------------------------------------------------------
// Harness

struct Tls {
    server: Arc<rustls::ServerConfig>,
    /// Verifies the gateway's certificate against the self-signed root.
    client: Arc<rustls::ClientConfig>,
}

fn tls() -> Tls {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(causeway_link::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = causeway_link::tls::verified(roots).unwrap();
    Tls {
        server: Arc::new(server),
        client: Arc::new(client),
    }
}

/// Node credentials in memory: node id → (token, load balancers).
#[derive(Default)]
struct Authority {
    nodes: Mutex<HashMap<String, (String, Vec<String>)>>,
}

impl Authority {
    fn with(node_id: &str, token: &str, nlbs: &[&str]) -> Arc<Authority> {
        let authority = Authority::default();
        authority.nodes.lock().unwrap().insert(
            node_id.to_owned(),
            (
                token.to_owned(),
                nlbs.iter().map(|n| (*n).to_owned()).collect(),
            ),
        );
        Arc::new(authority)
    }

    fn forget(&self, node_id: &str) {
        self.nodes.lock().unwrap().remove(node_id);
    }
}

impl NodeAuthority for Authority {
    fn admit(&self, node_id: &str, token: &str) -> Result<Admission, Refusal> {
        match self.nodes.lock().unwrap().get(node_id) {
            Some((expected, nlbs)) if expected == token => Ok(Admission { nlbs: nlbs.clone() }),
            _ => Err(Refusal {
                reason: "unknown node or bad token".to_owned(),
            }),
        }
    }
}

struct Gateway {
    server: TunnelServer,
    registry: Registry,
}

async fn gateway(tls: &Tls, authority: Arc<Authority>, config: TunnelServerConfig) -> Gateway {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    gateway_on(listener, tls, authority, config)
}

fn gateway_on(
    listener: TcpListener,
    tls: &Tls,
    authority: Arc<Authority>,
    config: TunnelServerConfig,
) -> Gateway {
    let registry = Registry::with_open_timeout(Duration::from_secs(5));
    let server = TunnelServer::start(
        listener,
        tls.server.clone(),
        authority,
        registry.clone(),
        config,
    )
    .unwrap();
    Gateway { server, registry }
}

fn node_config(gateway: SocketAddr, tls: &Tls, node_id: &str, token: &str) -> TunnelClientConfig {
    TunnelClientConfig::new(
        gateway.to_string(),
        ServerName::try_from("localhost").unwrap(),
        tls.client.clone(),
        node_id,
        token,
    )
}

/// Local backends of the test node.
#[derive(Clone, Copy)]
struct Backends {
    /// Echoes everything, then half-closes when its input ends.
    echo: SocketAddr,
    /// Reads until EOF, then answers with the number of bytes it read.
    count: SocketAddr,
    /// Sends 1 MiB at once, then waits for EOF.
    source: SocketAddr,
}

async fn backends() -> Backends {
    Backends {
        echo: backend(|mut stream| async move {
            let (mut read, mut write) = stream.split();
            tokio::io::copy(&mut read, &mut write).await.unwrap();
            write.shutdown().await.unwrap();
        })
        .await,
        count: backend(|mut stream| async move {
            let mut received = Vec::new();
            stream.read_to_end(&mut received).await.unwrap();
            stream
                .write_all(received.len().to_string().as_bytes())
                .await
                .unwrap();
            stream.shutdown().await.unwrap();
        })
        .await,
        source: backend(|mut stream| async move {
            let (mut read, mut write) = stream.split();
            // Errors are expected: the test drops these streams unread.
            let _ = write.write_all(&pattern(1024 * 1024, 3)).await;
            let _ = tokio::io::copy(&mut read, &mut tokio::io::sink()).await;
        })
        .await,
    }
}

async fn backend<F, Fut>(serve: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    addr
}

/// A node's connector serving every load balancer (the gateway decides which streams
/// reach it) except `NLB_C`, with ports mapped to the backends.
fn connector(backends: Backends) -> impl Connector<Stream = TcpStream> {
    move |target: Target| async move {
        if target.nlb == NLB_C {
            return Err(ConnectError::NotServed);
        }
        let addr = match target.port {
            ECHO_PORT => backends.echo,
            COUNT_PORT => backends.count,
            SOURCE_PORT => backends.source,
            _ => {
                return Err(ConnectError::Unreachable(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "connection refused",
                )));
            }
        };
        Ok(TcpStream::connect(addr).await?)
    }
}

/// Waits (up to `limit`) until `ready` holds for the node's status.
async fn status_until(
    client: &TunnelClient,
    limit: Duration,
    ready: impl Fn(&ClientStatus) -> bool,
) -> ClientStatus {
    let mut status = client.status();
    tokio::time::timeout(limit, status.wait_for(|s| ready(s)))
        .await
        .expect("node status did not reach the expected state in time")
        .unwrap()
        .clone()
}

/// Polls `check` every 10 ms for up to `limit`.
async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}

/// A gateway with one node admitted for `NLB_A` and `NLB_C`, both connections up.
async fn connected() -> (Tls, Arc<Authority>, Gateway, TunnelClient) {
    let tls = tls();
    let authority = Authority::with("node-1", "s3cret", &[NLB_A, NLB_C]);
    let gateway = gateway(&tls, authority.clone(), TunnelServerConfig::default()).await;
    let config = node_config(gateway.server.local_addr(), &tls, "node-1", "s3cret");
    let client = TunnelClient::start(config, connector(backends().await));
    status_until(&client, Duration::from_secs(5), |s| s.connected == 2).await;
    let registry = gateway.registry.clone();
    assert!(eventually(Duration::from_secs(2), || registry.connections().len() == 2).await);
    (tls, authority, gateway, client)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Streams

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_carries_eight_mebibytes_each_way_at_once() {
    let (_tls, _authority, gateway, _client) = connected().await;
    let stream = gateway.registry.open(NLB_A, ECHO_PORT).await.unwrap();
    let (mut read, mut write) = tokio::io::split(stream);
    let sent = pattern(8 * 1024 * 1024, 7);
    let expected = sent.clone();
    let writer = tokio::spawn(async move {
        // Uneven chunks, to cross frame and window boundaries at odd places.
        for chunk in sent.chunks(100_003) {
            write.write_all(chunk).await.unwrap();
        }
        write.shutdown().await.unwrap();
    });
    let mut received = Vec::new();
    // The echo backend half-closes only after our shutdown reached it, so reaching EOF
    // here also shows the half-close crossing the tunnel both ways.
    read.read_to_end(&mut received).await.unwrap();
    writer.await.unwrap();
    assert_eq!(received.len(), expected.len());
    assert!(received == expected, "echoed bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_close_is_seen_as_eof_and_the_answer_still_comes_back() {
    let (_tls, _authority, gateway, _client) = connected().await;
    let mut stream = gateway.registry.open(NLB_A, COUNT_PORT).await.unwrap();
    let sent = pattern(3 * 1024 * 1024 + 17, 1);
    stream.write_all(&sent).await.unwrap();
    stream.shutdown().await.unwrap();
    // The backend answers only once it has read EOF, after our shutdown.
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert_eq!(answer, sent.len().to_string());
    // Writing after the shutdown is an error, not a silent loss.
    assert!(stream.write_all(b"late").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_streams_spread_over_both_connections() {
    let (_tls, _authority, gateway, _client) = connected().await;
    let mut opening = JoinSet::new();
    for _ in 0..200 {
        let registry = gateway.registry.clone();
        opening.spawn(async move { registry.open(NLB_A, ECHO_PORT).await.unwrap() });
    }
    let streams = opening.join_all().await;
    assert_eq!(streams.len(), 200);

    // All 200 are open at once; the gateway spread them over the node's two connections.
    let connections = gateway.registry.connections();
    assert_eq!(connections.len(), 2);
    let open: Vec<usize> = connections.iter().map(|c| c.open_streams).collect();
    assert_eq!(open.iter().sum::<usize>(), 200, "{open:?}");
    assert!(open.iter().all(|n| *n >= 50), "uneven spread: {open:?}");

    let mut echoing = JoinSet::new();
    for (i, mut stream) in streams.into_iter().enumerate() {
        echoing.spawn(async move {
            let message = format!("stream {i} ").repeat(1000);
            stream.write_all(message.as_bytes()).await.unwrap();
            stream.shutdown().await.unwrap();
            let mut back = String::new();
            stream.read_to_string(&mut back).await.unwrap();
            assert_eq!(back, message);
        });
    }
    echoing.join_all().await;
    assert!(
        eventually(Duration::from_secs(1), || gateway
            .registry
            .connections()
            .iter()
            .all(|c| c.open_streams == 0))
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_whose_readers_stall_do_not_hold_up_the_others() {
    let (_tls, _authority, gateway, _client) = connected().await;
    // Forty clients that never read: each backend pushes 1 MiB, of which a stream window
    // waits unread at the gateway, 20 windows per connection.
    let mut stalled = Vec::new();
    for _ in 0..40 {
        stalled.push(gateway.registry.open(NLB_A, SOURCE_PORT).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let exchange = async {
        let mut stream = gateway.registry.open(NLB_A, ECHO_PORT).await.unwrap();
        let sent = pattern(256 * 1024, 9);
        stream.write_all(&sent).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut back = Vec::new();
        stream.read_to_end(&mut back).await.unwrap();
        assert!(back == sent);
    };
    tokio::time::timeout(Duration::from_secs(3), exchange)
        .await
        .expect("stalled streams held up a new one");
    drop(stalled);
}

// ---------------------------------------------------------------------------------------
// Admission and refusals

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_refused_before_any_stream_opens() {
    let tls = tls();
    let authority = Authority::with("node-1", "s3cret", &[NLB_A]);
    let gateway = gateway(&tls, authority, TunnelServerConfig::default()).await;
    let watch = gateway.registry.watch_connected();
    let config = node_config(gateway.server.local_addr(), &tls, "node-1", "wrong");
    let client = TunnelClient::start(config, connector(backends().await));

    let status = status_until(&client, Duration::from_secs(5), |s| s.last_error.is_some()).await;
    match status.last_error.as_deref() {
        Some(TunnelError::Refused { reason }) => assert_eq!(reason, "unknown node or bad token"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(status.connected, 0);
    assert!(gateway.registry.connections().is_empty());
    assert!(!gateway.registry.is_connected(NLB_A));
    assert!(!watch.has_changed().unwrap());
    assert!(matches!(
        gateway.registry.open(NLB_A, ECHO_PORT).await,
        Err(TunnelError::NoNode { nlb }) if nlb == NLB_A
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_checks_the_gateway_certificate() {
    let tls = tls();
    let authority = Authority::with("node-1", "s3cret", &[NLB_A]);
    let gateway = gateway(&tls, authority, TunnelServerConfig::default()).await;
    let mut config = node_config(gateway.server.local_addr(), &tls, "node-1", "s3cret");
    config.server_name = ServerName::try_from("gateway.example").unwrap();
    let client = TunnelClient::start(config, connector(backends().await));
    let status = status_until(&client, Duration::from_secs(5), |s| s.last_error.is_some()).await;
    let error = status.last_error.unwrap();
    assert!(matches!(*error, TunnelError::Io(_)), "{error}");
    assert!(error.to_string().contains("certificate"), "{error}");
    assert!(gateway.registry.connections().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_serves_only_what_it_was_admitted_for_and_what_it_serves() {
    let (_tls, _authority, gateway, _client) = connected().await;
    let registry = &gateway.registry;
    assert!(registry.is_connected(NLB_A));
    assert_eq!(
        registry
            .watch_connected()
            .borrow()
            .iter()
            .collect::<Vec<_>>(),
        [NLB_A, NLB_C]
    );

    // Not admitted for B: the gateway never sends it there, whatever the node would do.
    assert!(!registry.is_connected(NLB_B));
    let error = registry.open(NLB_B, ECHO_PORT).await.unwrap_err();
    assert!(
        matches!(&error, TunnelError::NoNode { nlb } if nlb == NLB_B),
        "{error}"
    );
    assert!(error.is_retryable());

    // Admitted for C, but the node does not serve it: a 403 from the node.
    let error = registry.open(NLB_C, ECHO_PORT).await.unwrap_err();
    match &error {
        TunnelError::Refused { reason } => {
            assert_eq!(
                reason,
                &format!("this node does not serve load balancer {NLB_C}")
            )
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(!error.is_retryable());

    // Served, but nothing listens on that port: a 502 from the node.
    let error = registry.open(NLB_A, DEAD_PORT).await.unwrap_err();
    match &error {
        TunnelError::Unreachable { nlb, port, reason } => {
            assert_eq!((nlb.as_str(), *port), (NLB_A, DEAD_PORT));
            assert_eq!(reason, "connection refused");
        }
        other => panic!("expected unreachable, got {other}"),
    }

    // Refused streams leave the connections as they were.
    let mut stream = registry.open(NLB_A, ECHO_PORT).await.unwrap();
    stream.write_all(b"still here").await.unwrap();
    stream.shutdown().await.unwrap();
    let mut back = Vec::new();
    stream.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"still here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_node_drops_its_connections_at_once() {
    let (_tls, authority, gateway, client) = connected().await;
    let registry = &gateway.registry;
    let mut watch = registry.watch_connected();
    let mut open = registry.open(NLB_A, ECHO_PORT).await.unwrap();

    // The control plane forgets the credential, then revokes.
    authority.forget("node-1");
    assert_eq!(registry.revoke("node-1"), 2);
    assert!(!registry.is_connected(NLB_A));
    assert!(registry.connections().is_empty());
    assert!(matches!(
        registry.open(NLB_A, ECHO_PORT).await,
        Err(TunnelError::NoNode { .. })
    ));
    assert!(watch.has_changed().unwrap());
    assert!(watch.borrow_and_update().is_empty());

    // The stream that was open dies with its connection.
    let mut buffer = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(2), open.read(&mut buffer))
        .await
        .expect("open stream still alive after revocation");
    assert!(matches!(read, Err(_) | Ok(0)), "{read:?}");

    // The node notices, tries again, and is refused.
    let status = status_until(&client, Duration::from_secs(5), |s| {
        s.connected == 0 && matches!(s.last_error.as_deref(), Some(TunnelError::Refused { .. }))
    })
    .await;
    assert_eq!(status.connected, 0);
    assert!(registry.connections().is_empty());
}

// ---------------------------------------------------------------------------------------
// Failures and recovery

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_comes_back_within_two_seconds_of_a_gateway_restart() {
    let (tls, authority, gateway, client) = connected().await;
    let addr = gateway.server.local_addr();
    let old_registry = gateway.registry.clone();
    drop(gateway);

    // During the outage the gateway answers at once that no node is there.
    assert!(eventually(Duration::from_secs(2), || !old_registry.is_connected(NLB_A)).await);
    let started = Instant::now();
    assert!(matches!(
        old_registry.open(NLB_A, ECHO_PORT).await,
        Err(TunnelError::NoNode { .. })
    ));
    assert!(started.elapsed() < Duration::from_millis(100));
    status_until(&client, Duration::from_secs(2), |s| s.connected == 0).await;

    // A new gateway process on the same port, with a registry of its own.
    let listener = bind_again(addr).await;
    let restarted = Instant::now();
    let gateway = gateway_on(listener, &tls, authority, TunnelServerConfig::default());
    let mut watch = gateway.registry.watch_connected();
    tokio::time::timeout(
        Duration::from_secs(2),
        watch.wait_for(|set| set.contains(NLB_A)),
    )
    .await
    .expect("node did not reconnect within 2 s")
    .unwrap();
    let mut stream = gateway.registry.open(NLB_A, ECHO_PORT).await.unwrap();
    assert!(
        restarted.elapsed() < Duration::from_secs(2),
        "{:?}",
        restarted.elapsed()
    );
    stream.write_all(b"back").await.unwrap();
    stream.shutdown().await.unwrap();
    let mut back = Vec::new();
    stream.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"back");
}

/// Binds `addr` again, waiting for the old listener's task to have let it go.
async fn bind_again(addr: SocketAddr) -> TcpListener {
    for _ in 0..100 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("could not bind {addr} again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_is_dropped_after_the_hello_timeout() {
    let tls = tls();
    let config = TunnelServerConfig {
        hello_timeout: Duration::from_millis(300),
        ..TunnelServerConfig::default()
    };
    let gateway = gateway(&tls, Authority::with("node-1", "s3cret", &[NLB_A]), config).await;
    let mut peer = TcpStream::connect(gateway.server.local_addr())
        .await
        .unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(3), peer.read(&mut buffer))
        .await
        .expect("a silent peer was kept past the hello timeout");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "dropped too early: {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_hello_length_is_refused_without_waiting_for_it() {
    let tls = tls();
    // The default 5 s timeout: the refusal must come long before it.
    let gateway = gateway(
        &tls,
        Authority::with("node-1", "s3cret", &[NLB_A]),
        TunnelServerConfig::default(),
    )
    .await;
    let mut peer = raw_tls_peer(gateway.server.local_addr()).await;
    let started = Instant::now();
    peer.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    peer.flush().await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(1), peer.read_to_end(&mut reply))
        .await
        .expect("the gateway waited for a 4 GiB hello")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    let json =
        br#"{"ok":false,"reason":"preface message of 4294967295 bytes is larger than 16384"}"#;
    assert_eq!(&reply[..4], &(json.len() as u32).to_be_bytes());
    assert_eq!(&reply[4..], json);
    assert!(gateway.registry.connections().is_empty());
}

/// A TLS client that speaks the tunnel's ALPN but nothing of its protocol.
async fn raw_tls_peer(addr: SocketAddr) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut config = causeway_link::tls::accept_any_certificate().unwrap();
    config.alpn_protocols = vec![ALPN.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

/// Writes one preface message: a 4-byte big-endian length, then the JSON.
async fn write_preface(io: &mut (impl AsyncWriteExt + Unpin), json: &str) {
    io.write_all(&(json.len() as u32).to_be_bytes())
        .await
        .unwrap();
    io.write_all(json.as_bytes()).await.unwrap();
    io.flush().await.unwrap();
}

/// Reads one preface message and returns its JSON.
async fn read_preface(io: &mut (impl AsyncReadExt + Unpin)) -> String {
    let length = io.read_u32().await.unwrap();
    let mut body = vec![0u8; length as usize];
    io.read_exact(&mut body).await.unwrap();
    String::from_utf8(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_drops_a_gateway_that_stops_answering_pings() {
    let tls = tls();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut server_tls = (*tls.server).clone();
    server_tls.alpn_protocols = vec![ALPN.to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_tls));
    // A gateway that admits the node, starts HTTP/2 (preface and empty SETTINGS) and
    // then goes silent, as a host that vanished from the network would.
    let fake = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.unwrap();
            read_preface(&mut tls).await;
            write_preface(&mut tls, r#"{"ok":true}"#).await;
            tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
                .await
                .unwrap();
            tls.flush().await.unwrap();
            held.push(tls);
        }
    });
    let mut config = node_config(addr, &tls, "node-1", "s3cret");
    config.connections = 1;
    config.keepalive_interval = Duration::from_millis(100);
    config.keepalive_timeout = Duration::from_millis(200);
    let client = TunnelClient::start(config, connector(backends().await));
    status_until(&client, Duration::from_secs(2), |s| s.connected == 1).await;
    let status = status_until(&client, Duration::from_secs(2), |s| s.last_error.is_some()).await;
    let error = status.last_error.unwrap();
    assert!(
        matches!(*error, TunnelError::TimedOut { during } if during.contains("pong")),
        "{error}"
    );
    fake.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_drops_a_node_that_stops_answering_pings() {
    let tls = tls();
    let config = TunnelServerConfig {
        keepalive_interval: Duration::from_millis(100),
        keepalive_timeout: Duration::from_millis(200),
        ..TunnelServerConfig::default()
    };
    let gateway = gateway(&tls, Authority::with("node-1", "s3cret", &[NLB_A]), config).await;
    let mut watch = gateway.registry.watch_connected();
    // A node that passes the hello and then never reads again.
    let mut peer = raw_tls_peer(gateway.server.local_addr()).await;
    write_preface(
        &mut peer,
        r#"{"version":1,"node_id":"node-1","token":"s3cret"}"#,
    )
    .await;
    assert_eq!(read_preface(&mut peer).await, r#"{"ok":true}"#);
    tokio::time::timeout(
        Duration::from_secs(2),
        watch.wait_for(|set| set.contains(NLB_A)),
    )
    .await
    .unwrap()
    .unwrap();
    tokio::time::timeout(Duration::from_secs(2), watch.wait_for(|set| set.is_empty()))
        .await
        .expect("the gateway kept a node that does not answer pings")
        .unwrap();
    assert!(!gateway.registry.is_connected(NLB_A));
    drop(peer);
}
