//! Memory per idle proxied connection: opens N client connections through a load balancer
//! listener to a backend that holds them open, then reports the growth of the process's
//! resident memory divided by N. Client, engine and backend share this process, so the figure
//! is an upper bound for the engine alone (it includes the client's and backend's sockets).
//!
//! ```sh
//! ulimit -n 20000   # four descriptors per proxied connection live in this one process
//! cargo run --release -p causeway-nlb --example idle_connections -- 4500
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use causeway_model::elb::{
    HealthCheck, ListenerPlan, LoadBalancerPlan, NlbPlan, Target, TargetGroupPlan,
};
use causeway_nlb::{Engine, EngineConfig};
use tokio::io::AsyncReadExt;
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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(4_500);
    // Backend: holds every connection open until its peer closes it. Its own per-connection
    // cost is measured separately below and subtracted.
    let backend = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_addr = backend.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = backend.accept().await {
            // Hold the connection until the peer closes it.
            tokio::spawn(async move {
                let mut byte = [0u8; 1];
                let _ = s.read(&mut byte).await;
            });
        }
    });
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
            }],
        }],
        target_groups: vec![TargetGroupPlan {
            arn: "tg".into(),
            port: backend_addr.port(),
            targets: vec![Target {
                id: backend_addr.ip().to_string(),
                port: backend_addr.port(),
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
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Baseline: the same number of direct client→backend connections (no load balancer).
    let before_direct = rss_kib();
    let mut direct = Vec::with_capacity(n);
    for _ in 0..n {
        direct.push(TcpStream::connect(backend_addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let direct_cost = rss_kib().saturating_sub(before_direct);
    drop(direct);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let before = rss_kib();
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(TcpStream::connect("127.10.99.1:18299").await.unwrap());
    }
    // Let every proxied connection reach the backend and settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let proxied_cost = rss_kib().saturating_sub(before);
    let engine_cost = proxied_cost.saturating_sub(direct_cost);
    println!("connections: {n}");
    println!("RSS growth with direct connections (client + backend sockets): {direct_cost} KiB");
    println!("RSS growth through the load balancer: {proxied_cost} KiB");
    println!(
        "load balancer cost per idle connection: {:.1} KiB",
        engine_cost as f64 / n as f64
    );
    // Keep everything alive until here.
    let mut probe = [0u8; 1];
    let _ = tokio::time::timeout(Duration::from_millis(10), clients[0].read(&mut probe)).await;
}
