//! The engine over real sockets: real backends on loopback, real client connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use causeway_model::elb::{
    HealthCheck, ListenerPlan, LoadBalancerPlan, LoadBalancerState, NlbPlan, Target,
    TargetGroupPlan, TargetHealthState,
};
use causeway_nlb::{Engine, EngineConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A backend that greets each connection with its name, then echoes what it reads.
async fn backend(name: &'static str) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let _ = stream.write_all(format!("{name}\n").as_bytes()).await;
                let mut buf = [0u8; 1024];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => {
                            let _ = stream.shutdown().await;
                            return;
                        }
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (addr, task)
}

fn target(addr: SocketAddr) -> Target {
    Target {
        id: addr.ip().to_string(),
        port: addr.port(),
        availability_zone: None,
    }
}

fn fast_checks() -> HealthCheck {
    HealthCheck {
        interval_seconds: 1,
        timeout_seconds: 1,
        healthy_threshold: 2,
        unhealthy_threshold: 2,
        ..HealthCheck::defaults("TCP")
    }
}

fn plan(
    address: &str,
    port: u16,
    targets: Vec<Target>,
    tune: impl FnOnce(&mut TargetGroupPlan),
) -> NlbPlan {
    let mut group = TargetGroupPlan {
        arn: "tg-1".into(),
        port: 80,
        tls: false,
        targets,
        health_check: fast_checks(),
        proxy_protocol_v2: false,
        deregistration_delay_seconds: 300,
        terminate_on_deregistration: false,
        in_use: true,
    };
    tune(&mut group);
    NlbPlan {
        load_balancers: vec![LoadBalancerPlan {
            arn: "lb-1".into(),
            dns_name: "lb-1.example".into(),
            address: address.into(),
            listeners: vec![ListenerPlan {
                arn: "listener-1".into(),
                port,
                protocol: "TCP".into(),
                target_group_arn: Some("tg-1".into()),
                tls: None,
                idle_timeout_millis: None,
            }],
        }],
        target_groups: vec![group],
    }
}

/// Connects through the load balancer and returns the backend's greeting and the stream.
async fn connect(addr: SocketAddr) -> (String, TcpStream) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut greeting = Vec::new();
    let mut byte = [0u8; 1];
    while greeting.last() != Some(&b'\n') {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "connection closed before the greeting");
        greeting.push(byte[0]);
    }
    (
        String::from_utf8(greeting).unwrap().trim().to_owned(),
        stream,
    )
}

async fn wait_for(engine: &Engine, tg: &str, state: TargetHealthState, count: usize) {
    for _ in 0..100 {
        if engine
            .target_health(tg)
            .iter()
            .filter(|r| r.state == state)
            .count()
            == count
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected {count} targets {state:?}, got {:?}",
        engine.target_health(tg)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_spread_over_targets_and_bytes_flow_both_ways() {
    let (a, _ta) = backend("a").await;
    let (b, _tb) = backend("b").await;
    let (c, _tc) = backend("c").await;
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan(
        "127.10.9.1",
        18200,
        vec![target(a), target(b), target(c)],
        |_| {},
    ));
    assert_eq!(
        engine.load_balancer_status("lb-1").map(|s| s.state),
        Some(LoadBalancerState::Active)
    );
    assert_eq!(
        engine.resolve("LB-1.example"),
        Some("127.10.9.1".parse::<IpAddr>().unwrap())
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    for _ in 0..60 {
        let (name, mut stream) = connect("127.10.9.1:18200".parse().unwrap()).await;
        stream.write_all(b"ping").await.unwrap();
        let mut echo = [0u8; 4];
        stream.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo, b"ping");
        *seen.entry(name).or_default() += 1;
    }
    assert_eq!(
        seen.len(),
        3,
        "every target should get connections: {seen:?}"
    );
    assert!(seen.values().all(|&n| n >= 5), "uneven spread: {seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_backend_turns_unhealthy_and_gets_no_new_connections() {
    let (a, ta) = backend("a").await;
    let (b, _tb) = backend("b").await;
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan(
        "127.10.9.2",
        18200,
        vec![target(a), target(b)],
        |_| {},
    ));
    wait_for(&engine, "tg-1", TargetHealthState::Healthy, 2).await;
    ta.abort();
    // interval 1 s × unhealthy threshold 2, plus slack.
    wait_for(&engine, "tg-1", TargetHealthState::Unhealthy, 1).await;
    let report = engine.target_health("tg-1");
    let dead = report.iter().find(|r| r.target.port == a.port()).unwrap();
    assert_eq!(dead.state, TargetHealthState::Unhealthy);
    assert_eq!(dead.reason.as_deref(), Some("Target.FailedHealthChecks"));
    for _ in 0..20 {
        let (name, _) = connect("127.10.9.2:18200".parse().unwrap()).await;
        assert_eq!(name, "b");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_healthy_target_traffic_fails_open_and_refusals_fail_over() {
    let (a, _ta) = backend("a").await;
    // A port with nothing listening: connections to it are refused.
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let engine = Engine::new(EngineConfig::default());
    let mut checks = fast_checks();
    checks.interval_seconds = 300; // no verdict during the test: every target stays initial
    engine.apply(&plan(
        "127.10.9.3",
        18200,
        vec![target(refused), target(a)],
        |g| g.health_check = checks,
    ));
    for _ in 0..20 {
        let (name, _) = connect("127.10.9.3:18200".parse().unwrap()).await;
        assert_eq!(name, "a");
    }
    let report = engine.target_health("tg-1");
    let bad = report
        .iter()
        .find(|r| r.target.port == refused.port())
        .unwrap();
    assert_eq!(
        bad.state,
        TargetHealthState::Unhealthy,
        "a refused connection is seen at once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deregistered_target_drains_then_its_connections_are_closed() {
    let (a, _ta) = backend("a").await;
    let (b, _tb) = backend("b").await;
    let engine = Engine::new(EngineConfig::default());
    let lb: SocketAddr = "127.10.9.4:18200".parse().unwrap();
    let with_delay = |g: &mut TargetGroupPlan| {
        g.deregistration_delay_seconds = 2;
        g.terminate_on_deregistration = true;
    };
    engine.apply(&plan(
        "127.10.9.4",
        18200,
        vec![target(a), target(b)],
        with_delay,
    ));
    wait_for(&engine, "tg-1", TargetHealthState::Healthy, 2).await;
    let mut open = Vec::new();
    for _ in 0..20 {
        let (name, stream) = connect(lb).await;
        if name == "a" {
            open.push(stream);
        }
    }
    assert!(!open.is_empty());
    engine.apply(&plan("127.10.9.4", 18200, vec![target(b)], with_delay));
    assert_eq!(
        engine
            .target_health("tg-1")
            .iter()
            .find(|r| r.target.port == a.port())
            .map(|r| r.state),
        Some(TargetHealthState::Draining)
    );
    // During the delay the old connection still works, and new ones avoid the target.
    let mut stream = open.pop().unwrap();
    stream.write_all(b"still").await.unwrap();
    let mut echo = [0u8; 5];
    stream.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"still");
    for _ in 0..10 {
        assert_eq!(connect(lb).await.0, "b");
    }
    // After the delay the connection is closed and the target is gone from the report.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "the drained connection should be closed after the delay"
    );
    assert!(
        engine
            .target_health("tg-1")
            .iter()
            .all(|r| r.target.port != a.port())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_termination_a_drained_connection_stays_open() {
    let (a, _ta) = backend("a").await;
    let engine = Engine::new(EngineConfig::default());
    let lb: SocketAddr = "127.10.9.5:18200".parse().unwrap();
    engine.apply(&plan("127.10.9.5", 18200, vec![target(a)], |g| {
        g.deregistration_delay_seconds = 1
    }));
    let (_, mut stream) = connect(lb).await;
    engine.apply(&plan("127.10.9.5", 18200, vec![], |g| {
        g.deregistration_delay_seconds = 1
    }));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stream.write_all(b"alive").await.unwrap();
    let mut echo = [0u8; 5];
    stream.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"alive");
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_protocol_v2_header_reaches_the_target() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_addr = listener.local_addr().unwrap();
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan(
        "127.10.9.6",
        18200,
        vec![target(backend_addr)],
        |g| g.proxy_protocol_v2 = true,
    ));
    let client = TcpStream::connect("127.10.9.6:18200").await.unwrap();
    let client_addr = client.local_addr().unwrap();
    let (mut upstream, _) = loop {
        // Health checks connect too (and send nothing); wait for the proxied connection.
        let (mut s, p) = listener.accept().await.unwrap();
        let mut header = [0u8; 28];
        if tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut header))
            .await
            .is_ok_and(|r| r.is_ok())
        {
            assert_eq!(&header[..12], &causeway_nlb::proxy_protocol::SIGNATURE);
            assert_eq!(header[12], 0x21, "version 2, PROXY command");
            assert_eq!(header[13], 0x11, "TCP over IPv4");
            assert_eq!(
                &header[16..20],
                &[127, 0, 0, 1],
                "source address is the client's"
            );
            assert_eq!(
                &header[20..24],
                &[127, 10, 9, 6],
                "destination is the listener address"
            );
            assert_eq!(
                u16::from_be_bytes([header[24], header[25]]),
                client_addr.port()
            );
            assert_eq!(u16::from_be_bytes([header[26], header[27]]), 18200);
            break (s, p);
        }
    };
    let mut client = client;
    client.write_all(b"after").await.unwrap();
    let mut body = [0u8; 5];
    upstream.read_exact(&mut body).await.unwrap();
    assert_eq!(&body, b"after");
}

#[tokio::test(flavor = "multi_thread")]
async fn half_close_lets_the_response_through() {
    // A backend that reads to EOF, then answers with the byte count.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut all = Vec::new();
                if s.read_to_end(&mut all).await.is_ok() {
                    let _ = s.write_all(format!("got {}", all.len()).as_bytes()).await;
                }
            });
        }
    });
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan("127.10.9.7", 18200, vec![target(addr)], |_| {}));
    let mut client = TcpStream::connect("127.10.9.7:18200").await.unwrap();
    client.write_all(&vec![7u8; 100_000]).await.unwrap();
    client.shutdown().await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), client.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer, "got 100000");
}

/// A target that greets each connection, without reading, then closes it.
/// `one_segment` holds the greeting back (`MSG_MORE`) so that it leaves with the FIN.
/// Each connection is served by a blocking socket on a thread of its own (the flags go to
/// `send(2)` as they are); health checks that connect and leave end theirs early.
async fn greeter(greeting: Vec<u8>, one_segment: bool) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(s) = s else { return };
            let greeting = greeting.clone();
            std::thread::spawn(move || {
                let socket = socket2::SockRef::from(&s);
                let flags = if one_segment { libc::MSG_MORE } else { 0 };
                let mut rest = &greeting[..];
                while !rest.is_empty() {
                    let Ok(sent) = socket.send_with_flags(rest, flags) else {
                        return;
                    };
                    rest = &rest[sent..];
                }
                let _ = socket.shutdown(std::net::Shutdown::Write);
                // Keep the socket until the client is done, so that the close sends nothing more.
                std::thread::sleep(Duration::from_secs(5));
            });
        }
    });
    addr
}

/// Segments a connected socket has received so far (`segs_in` in `ss -ti`).
fn segments_received(local: SocketAddr) -> u64 {
    let out = std::process::Command::new("ss")
        .args(["-tinH", "src", &local.to_string()])
        .output()
        .expect("ss (iproute2) is needed for this test");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find_map(|field| field.strip_prefix("segs_in:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no segs_in for {local} in: {text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_targets_last_bytes_reach_the_client_in_one_segment_with_the_fin() {
    let addr = greeter(b"220 ready, bye\r\n".to_vec(), true).await;
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan("127.10.9.11", 18200, vec![target(addr)], |_| {}));
    let mut client = TcpStream::connect("127.10.9.11:18200").await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer, b"220 ready, bye\r\n");
    // The SYN-ACK, then the greeting and the FIN together (three segments when the FIN
    // follows on its own).
    assert_eq!(segments_received(client.local_addr().unwrap()), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_answer_that_ends_with_the_fin_arrives_whole() {
    let answer: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for one_segment in [true, false] {
        let addr = greeter(answer.clone(), one_segment).await;
        let engine = Engine::new(EngineConfig::default());
        engine.apply(&plan("127.10.9.12", 18200, vec![target(addr)], |_| {}));
        // Read slowly at first, so that the load balancer waits on the client's window
        // with bytes in hand.
        let mut client = TcpStream::connect("127.10.9.12:18200").await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.len(), answer.len());
        assert!(got == answer, "the bytes changed on the way");
        drop(engine);
    }
}

/// The pipes this process holds, by their `pipe:[inode]` names.
fn pipes() -> std::collections::HashSet<String> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .map(|target| target.to_string_lossy().into_owned())
        .filter(|target| target.starts_with("pipe:"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_transfers_both_ways_arrive_intact() {
    // A target that sends megabytes while it reads megabytes, both in large writes: past the
    // first full buffer the load balancer moves each direction with splice(2).
    const SIZE: usize = 6_000_000;
    let pattern = |seed: u32| -> Vec<u8> {
        (0..SIZE as u32)
            .map(|i| (i.wrapping_mul(seed) % 251) as u8)
            .collect()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (received_tx, mut received_rx) = tokio::sync::mpsc::unbounded_channel();
    // The target reads nothing until the pipes have been seen.
    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        // Health checks connect too: every connection gets the same treatment, and the one
        // that brings bytes reports them.
        while let Ok((stream, _)) = listener.accept().await {
            let received_tx = received_tx.clone();
            let mut go = go_rx.clone();
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.into_split();
                tokio::spawn(async move {
                    for chunk in pattern(7).chunks(100_000) {
                        if writer.write_all(chunk).await.is_err() {
                            return;
                        }
                    }
                    let _ = writer.shutdown().await;
                });
                // Nor does the target read for a while.
                let _ = go.wait_for(|&go| go).await;
                let mut received = Vec::new();
                if reader.read_to_end(&mut received).await.is_ok() && !received.is_empty() {
                    let _ = received_tx.send(received);
                }
            });
        }
    });
    let before = pipes();
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan("127.10.9.13", 18200, vec![target(addr)], |_| {}));
    let stream = TcpStream::connect("127.10.9.13:18200").await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        for chunk in pattern(3).chunks(100_000) {
            writer.write_all(chunk).await.unwrap();
        }
        writer.shutdown().await.unwrap();
    });
    // The client reads nothing for a while either: both directions fill up, each past a
    // full buffer, and each holds its pipe (both ends of a pipe share one name) while it
    // waits for the reader.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut new_pipes = 0;
    while new_pipes < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        new_pipes = pipes().difference(&before).count();
    }
    assert!(
        new_pipes >= 2,
        "each direction should splice through a pipe of its own: {new_pipes} new pipes"
    );
    go_tx.send_replace(true);
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    writing.await.unwrap();
    assert!(got == pattern(7), "the target's bytes changed on the way");
    let received = tokio::time::timeout(Duration::from_secs(5), received_rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        received == pattern(3),
        "the client's bytes changed on the way"
    );
}

/// A UDP target that answers each datagram with `{name}:{the datagram}` and notes where
/// the datagrams came from.
async fn udp_echo(
    name: &'static str,
    port: u16,
) -> (SocketAddr, Arc<std::sync::Mutex<Vec<SocketAddr>>>) {
    let socket = tokio::net::UdpSocket::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let addr = socket.local_addr().unwrap();
    let sources = Arc::new(std::sync::Mutex::new(Vec::new()));
    tokio::spawn({
        let sources = sources.clone();
        async move {
            let mut buffer = [0u8; 2048];
            while let Ok((len, from)) = socket.recv_from(&mut buffer).await {
                sources.lock().unwrap().push(from);
                let mut answer = format!("{name}:").into_bytes();
                answer.extend_from_slice(&buffer[..len]);
                let _ = socket.send_to(&answer, from).await;
            }
        }
    });
    (addr, sources)
}

/// Sends `datagram` from `client` and waits (at most 5 s) for the answer.
async fn ask(client: &tokio::net::UdpSocket, datagram: &[u8]) -> String {
    client.send(datagram).await.unwrap();
    let mut buffer = [0u8; 2048];
    let len = tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buffer))
        .await
        .expect("no answer through the UDP listener")
        .unwrap();
    String::from_utf8_lossy(&buffer[..len]).into_owned()
}

fn with_protocol(mut plan: NlbPlan, protocol: &str) -> NlbPlan {
    for lb in &mut plan.load_balancers {
        for listener in &mut lb.listeners {
            listener.protocol = protocol.into();
        }
    }
    plan
}

#[tokio::test(flavor = "multi_thread")]
async fn udp_listeners_carry_each_clients_datagrams_as_one_flow() {
    let (target_addr, sources) = udp_echo("t", 0).await;
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&with_protocol(
        plan("127.10.9.14", 18200, vec![target(target_addr)], |_| {}),
        "UDP",
    ));
    let listener: SocketAddr = "127.10.9.14:18200".parse().unwrap();
    // A UDP listener takes no TCP connection.
    assert!(TcpStream::connect(listener).await.is_err());
    let first = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    first.connect(listener).await.unwrap();
    let second = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    second.connect(listener).await.unwrap();
    assert_eq!(ask(&first, b"one").await, "t:one");
    assert_eq!(ask(&second, b"two").await, "t:two");
    assert_eq!(ask(&first, b"three").await, "t:three");
    // Answers come from the listener's address, and each client's datagrams reach the
    // target from one source of their own.
    let seen = sources.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0], seen[2], "one client, one flow");
    assert_ne!(seen[0], seen[1], "two clients, two flows");
}

#[tokio::test(flavor = "multi_thread")]
async fn tcp_udp_listeners_serve_both_on_one_port() {
    let (tcp_target, _t) = backend("both").await;
    let (udp_target, _) = udp_echo("both", tcp_target.port()).await;
    assert_eq!(tcp_target.port(), udp_target.port());
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&with_protocol(
        plan("127.10.9.15", 18200, vec![target(tcp_target)], |_| {}),
        "TCP_UDP",
    ));
    let (greeting, _stream) = connect("127.10.9.15:18200".parse().unwrap()).await;
    assert_eq!(greeting, "both");
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect("127.10.9.15:18200").await.unwrap();
    assert_eq!(ask(&client, b"ping").await, "both:ping");
    // Made TCP only, the listener stops taking datagrams and keeps its TCP socket.
    engine.apply(&with_protocol(
        plan("127.10.9.15", 18200, vec![target(tcp_target)], |_| {}),
        "TCP",
    ));
    // The datagram loop ends with its task, a moment after the plan lands.
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.send(b"lost").await.unwrap();
    let mut buffer = [0u8; 64];
    let answer = tokio::time::timeout(Duration::from_millis(500), client.recv(&mut buffer)).await;
    assert!(
        !matches!(answer, Ok(Ok(_))),
        "a TCP listener must not answer datagrams"
    );
    let (greeting, _stream) = connect("127.10.9.15:18200".parse().unwrap()).await;
    assert_eq!(greeting, "both");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_that_cannot_be_bound_fails_the_load_balancer_with_a_reason() {
    let _squatter = std::net::TcpListener::bind("127.10.9.8:18200").unwrap();
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan("127.10.9.8", 18200, vec![], |_| {}));
    let status = engine.load_balancer_status("lb-1").unwrap();
    assert_eq!(status.state, LoadBalancerState::Failed);
    assert!(status.reason.unwrap().contains("18200"));
}

/// Connects (blocking, so that no other task runs meanwhile) and reads the target's line.
fn greeting_through(addr: &str) -> std::io::Result<String> {
    use std::io::BufRead;
    let stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    std::io::BufReader::new(stream).read_line(&mut line)?;
    Ok(line)
}

// A single-threaded runtime: the tasks the engine aborts are not dropped (and their sockets
// not closed) until the test awaits, so whatever happens must happen inside `drop`/`apply`.
#[tokio::test]
async fn a_stopped_engine_stops_listening_before_drop_returns() {
    let (a, _ta) = backend("a").await;
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan("127.10.9.16", 18200, vec![target(a)], |_| {}));
    drop(engine);
    // Without the shutdown, the kernel would still complete this handshake on the old
    // listening socket, and the connection would be reset once the task is dropped.
    let error = std::net::TcpStream::connect("127.10.9.16:18200").unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    // A new engine binds the port at once.
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan("127.10.9.16", 18200, vec![target(a)], |_| {}));
    let status = engine.load_balancer_status("lb-1").unwrap();
    assert_eq!(
        status.state,
        LoadBalancerState::Active,
        "{:?}",
        status.reason
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listener_replaced_on_the_same_port_in_one_plan_serves_at_once() {
    let (a, _ta) = backend("a").await;
    let (b, _tb) = backend("b").await;
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan("127.10.9.17", 18200, vec![target(a)], |_| {}));
    let addr = "127.10.9.17:18200";
    assert_eq!(
        tokio::task::spawn_blocking(move || greeting_through(addr))
            .await
            .unwrap()
            .unwrap(),
        "a\n"
    );
    // Another listener (another ARN) on the same port, to another target: the old one
    // stops before the new one binds.
    let mut replaced = plan("127.10.9.17", 18200, vec![target(b)], |_| {});
    replaced.load_balancers[0].listeners[0].arn = "listener-2".into();
    engine.apply(&replaced);
    let status = engine.load_balancer_status("lb-1").unwrap();
    assert_eq!(
        status.state,
        LoadBalancerState::Active,
        "{:?}",
        status.reason
    );
    assert_eq!(
        tokio::task::spawn_blocking(move || greeting_through(addr))
            .await
            .unwrap()
            .unwrap(),
        "b\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_plan_keeps_established_connections_and_health() {
    let (a, _ta) = backend("a").await;
    let (b, _tb) = backend("b").await;
    let engine = Engine::new(EngineConfig::default());
    engine.apply(&plan("127.10.9.9", 18200, vec![target(a)], |_| {}));
    wait_for(&engine, "tg-1", TargetHealthState::Healthy, 1).await;
    let (_, mut stream) = connect("127.10.9.9:18200".parse().unwrap()).await;
    // Add a target and change an attribute: the listener and the open connection stay.
    engine.apply(&plan(
        "127.10.9.9",
        18200,
        vec![target(a), target(b)],
        |g| g.deregistration_delay_seconds = 10,
    ));
    let report = engine.target_health("tg-1");
    assert_eq!(
        report
            .iter()
            .find(|r| r.target.port == a.port())
            .map(|r| r.state),
        Some(TargetHealthState::Healthy)
    );
    assert_eq!(
        report
            .iter()
            .find(|r| r.target.port == b.port())
            .map(|r| r.state),
        Some(TargetHealthState::Initial)
    );
    stream.write_all(b"same").await.unwrap();
    let mut echo = [0u8; 4];
    stream.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"same");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let (a, _ta) = backend("a").await;
    let engine = Engine::new(EngineConfig {
        idle_timeout: Duration::from_millis(500),
        ..EngineConfig::default()
    });
    engine.apply(&plan("127.10.9.10", 18200, vec![target(a)], |_| {}));
    let (_, mut stream) = connect("127.10.9.10:18200".parse().unwrap()).await;
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "an idle connection must be closed");
}

/// A listener's own idle timeout (a TCP listener's `tcp.idle_timeout.seconds`) replaces the
/// engine's default, and a new plan changes it for the connections accepted from then on.
#[tokio::test(flavor = "multi_thread")]
async fn a_listener_idle_timeout_overrides_the_default_and_follows_new_plans() {
    let (a, _ta) = backend("a").await;
    let engine = Engine::new(EngineConfig::default());
    let addr: SocketAddr = "127.10.9.11:18201".parse().unwrap();
    let with_idle = |millis: u64| {
        let mut plan = plan("127.10.9.11", 18201, vec![target(a)], |_| {});
        plan.load_balancers[0].listeners[0].idle_timeout_millis = Some(millis);
        plan
    };
    engine.apply(&with_idle(400));
    let (_, mut stream) = connect(addr).await;
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "the listener's 400 ms must close an idle connection"
    );

    engine.apply(&with_idle(60_000));
    let (_, mut kept) = connect(addr).await;
    let mut byte = [0u8; 1];
    let quiet = tokio::time::timeout(Duration::from_millis(1500), kept.read(&mut byte)).await;
    assert!(
        quiet.is_err(),
        "a connection under the new 60 s timeout stays open"
    );
    kept.write_all(b"live").await.unwrap();
    let mut echo = [0u8; 4];
    kept.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"live");
}
