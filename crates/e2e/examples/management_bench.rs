//! Management-API benchmark: builds an API of 1,000 resources, each with a method, through
//! the HTTP API of a real `causeway serve` process, then lists them page by page. Prints p50
//! and p99 per call and the server's resident memory, idle and after the load.
//!
//! ```sh
//! cargo build --release -p causeway-cli
//! cargo run --release -p causeway-e2e --example management_bench -- target/release/causeway
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RESOURCES: usize = 1000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let binary = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/release/causeway".into());
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(&binary)
        .args([
            "serve",
            "--admin-listen",
            "127.0.0.1:0",
            "--gateway-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("CAUSEWAY_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        anyhow::ensure!(reader.read_line(&mut line)? > 0, "serve exited");
        if let Some(a) = line.trim().strip_prefix("admin listening on ") {
            break a.to_owned();
        }
    };
    std::thread::spawn(move || for _ in reader.lines() {});
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = rss_kib(child.id());

    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let api: serde_json::Value = client
        .post(format!("{base}/restapis"))
        .body(r#"{"name":"bench"}"#)
        .send()
        .await?
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b))??;
    let api_id = api["id"].as_str().unwrap().to_owned();
    let root = api["rootResourceId"].as_str().unwrap().to_owned();

    let mut create_resource = Vec::with_capacity(RESOURCES);
    let mut put_method = Vec::with_capacity(RESOURCES);
    let started = Instant::now();
    for i in 0..RESOURCES {
        let t = Instant::now();
        let response = client
            .post(format!("{base}/restapis/{api_id}/resources/{root}"))
            .body(format!(r#"{{"pathPart":"r{i}"}}"#))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 201,
            "CreateResource: {}",
            response.status()
        );
        let resource: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
        create_resource.push(t.elapsed());
        let id = resource["id"].as_str().unwrap();
        let t = Instant::now();
        let response = client
            .put(format!(
                "{base}/restapis/{api_id}/resources/{id}/methods/GET"
            ))
            .body(r#"{"authorizationType":"NONE"}"#)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 201, "PutMethod: {}", response.status());
        response.bytes().await?;
        put_method.push(t.elapsed());
    }
    let build_time = started.elapsed();

    let mut pages = Vec::new();
    let mut listed = 0;
    for limit in [25, 500] {
        let mut position: Option<String> = None;
        loop {
            let mut url = format!("{base}/restapis/{api_id}/resources?limit={limit}");
            if let Some(p) = &position {
                url.push_str(&format!("&position={p}"));
            }
            let t = Instant::now();
            let page: serde_json::Value =
                serde_json::from_slice(&client.get(url).send().await?.bytes().await?)?;
            pages.push((limit, t.elapsed()));
            listed += page["item"].as_array().map_or(0, Vec::len);
            match page["position"].as_str() {
                Some(p) => position = Some(p.to_owned()),
                None => break,
            }
        }
    }
    anyhow::ensure!(listed == 2 * (RESOURCES + 1), "listed {listed} resources");
    let loaded_rss = rss_kib(child.id());
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();

    println!("| measurement | calls | p50 | p99 |");
    println!("|---|---|---|---|");
    row("CreateResource", &mut create_resource);
    row("PutMethod", &mut put_method);
    for limit in [25, 500] {
        let mut times: Vec<Duration> = pages
            .iter()
            .filter(|(l, _)| *l == limit)
            .map(|(_, t)| *t)
            .collect();
        row(&format!("GetResources, limit {limit}"), &mut times);
    }
    println!();
    println!(
        "build of {RESOURCES} resources + {RESOURCES} methods: {:.2} s",
        build_time.as_secs_f64()
    );
    println!(
        "RSS of causeway serve: idle {} KiB, after the load {} KiB",
        idle_rss, loaded_rss
    );
    Ok(())
}

fn row(name: &str, times: &mut [Duration]) {
    times.sort();
    let pick = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "| {name} | {} | {:.3} ms | {:.3} ms |",
        times.len(),
        pick(0.50).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3
    );
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
