//! Memory per idle proxied connection: a load balancer engine alone in this process carries N
//! connections from clients to a backend that holds them open, each idle after one request
//! and its answer; the report is the growth of this process's resident memory divided by N.
//!
//! The clients and the backend run in a child process (this program again, with `peer`), so
//! the figure is the engine's alone. The engine holds two descriptors per connection (the
//! accepted client socket and the socket to the target); with the machine's cap of 20,000
//! descriptors per process, 9,990 connections is the most one engine process can carry here.
//!
//! ```sh
//! ulimit -n 20000
//! cargo run --release -p causeway-nlb --example idle_connections -- 9990
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use causeway_model::elb::{
    HealthCheck, ListenerPlan, LoadBalancerPlan, NlbPlan, Target, TargetGroupPlan,
};
use causeway_nlb::{Engine, EngineConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The listener the engine serves in this example.
const LISTENER: &str = "127.10.99.1:18299";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("peer") {
        let n = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0);
        peer(n).await;
        return;
    }
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(9_990);
    let exe = std::env::current_exe().unwrap();
    let mut child = tokio::process::Command::new(exe)
        .arg("peer")
        .arg(n.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut to_child = child.stdin.take().unwrap();
    let mut from_child = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let backend_port: u16 = from_child
        .next_line()
        .await
        .unwrap()
        .expect("the peer's backend port")
        .parse()
        .unwrap();

    let engine = Engine::new(EngineConfig::default());
    engine.apply(&NlbPlan {
        load_balancers: vec![LoadBalancerPlan {
            arn: "lb".into(),
            dns_name: "lb".into(),
            address: "127.10.99.1".into(),
            listeners: vec![ListenerPlan {
                arn: "l".into(),
                port: 18299,
                protocol: "TCP".into(),
                target_group_arn: Some("tg".into()),
                tls: None,
                idle_timeout_millis: None,
            }],
        }],
        target_groups: vec![TargetGroupPlan {
            arn: "tg".into(),
            port: backend_port,
            tls: false,
            targets: vec![Target {
                id: "127.0.0.1".into(),
                port: backend_port,
                availability_zone: None,
            }],
            health_check: HealthCheck {
                interval_seconds: 300,
                ..HealthCheck::defaults("TCP")
            },
            proxy_protocol_v2: false,
            deregistration_delay_seconds: 0,
            terminate_on_deregistration: false,
            in_use: true,
        }],
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let before = rss_kib();
    to_child.write_all(b"connect\n").await.unwrap();
    let connected = from_child.next_line().await.unwrap();
    assert_eq!(
        connected.as_deref(),
        Some("connected"),
        "the peer could not connect"
    );
    // Let every proxied connection reach the backend and settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib();
    let growth = after.saturating_sub(before);
    println!("connections: {n}");
    println!("engine RSS before: {before} KiB, with the connections: {after} KiB");
    println!(
        "load balancer cost per idle connection: {:.1} KiB",
        growth as f64 / n as f64
    );
    drop(to_child);
    let _ = child.wait().await;
}

/// The clients and the backend: prints the backend's port, connects `n` clients through the
/// listener when told to, says so, and holds everything open until its input closes.
async fn peer(n: usize) {
    let backend = TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", backend.local_addr().unwrap().port());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = backend.accept().await {
            // Answer the client's hello, then hold the connection until the peer closes it.
            tokio::spawn(async move {
                let mut hello = [0u8; 6];
                if s.read_exact(&mut hello).await.is_ok() && s.write_all(b"hi!\n").await.is_ok() {
                    let _ = s.read(&mut hello).await;
                }
            });
        }
    });
    let mut input = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let _ = input.next_line().await;
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        // Each connection carries a request and its answer before it goes idle, as a kept
        // connection does between requests.
        let mut client = TcpStream::connect(LISTENER).await.unwrap();
        client.write_all(b"hello\n").await.unwrap();
        let mut answer = [0u8; 4];
        client.read_exact(&mut answer).await.unwrap();
        clients.push(client);
    }
    println!("connected");
    while let Ok(Some(_)) = input.next_line().await {}
    drop(clients);
}
