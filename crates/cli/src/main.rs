//! The `causeway` command: `causeway serve` runs the whole system on one machine.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Causeway: Amazon API Gateway REST APIs with private integrations, self-hosted.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the control plane on the embedded store (SQLite in --data-dir).
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Folder of the embedded store; created when missing.
    #[arg(long, env = "CAUSEWAY_DATA_DIR", default_value = "./causeway-data")]
    data_dir: PathBuf,
    /// Address of the management APIs (apigateway and elbv2); port 0 picks a free port.
    #[arg(long, env = "CAUSEWAY_ADMIN_LISTEN", default_value = "127.0.0.1:4580")]
    admin_listen: SocketAddr,
    /// Address of the gateway that serves invoke URLs; port 0 picks a free port.
    #[arg(
        long,
        env = "CAUSEWAY_GATEWAY_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    gateway_listen: SocketAddr,
    /// Region reported in ARNs.
    #[arg(long, env = "CAUSEWAY_REGION", default_value = "us-east-1")]
    region: String,
    /// Account id reported in ARNs and messages.
    #[arg(long, env = "CAUSEWAY_ACCOUNT_ID", default_value = "000000000000")]
    account_id: String,
    /// IPv4 range whose addresses are given to network load balancers, one each (their
    /// listeners bind there). Loopback by default, so the all-in-one server needs no setup.
    #[arg(long, env = "CAUSEWAY_NLB_ADDRESS_RANGE", default_value = "127.10.0.0/16", value_parser = parse_range)]
    nlb_address_range: (Ipv4Addr, u32),
    /// The longest integration timeout (`timeoutInMillis`) accepted: 29000 as in AWS's
    /// default quota, up to 300000 as AWS allows Regional and private APIs on request.
    #[arg(
        long,
        env = "CAUSEWAY_MAX_INTEGRATION_TIMEOUT_MS",
        default_value_t = 29_000,
        value_parser = clap::value_parser!(i32).range(50..=300_000)
    )]
    max_integration_timeout_ms: i32,
    /// Account-level throttle every invoke passes, in requests per second (AWS's default
    /// quota: 10000). Usage plans and stage method settings throttle further.
    #[arg(long, env = "CAUSEWAY_ACCOUNT_RATE_LIMIT", default_value_t = 10_000.0)]
    account_rate_limit: f64,
    /// Burst of the account-level throttle (AWS's default quota: 5000).
    #[arg(long, env = "CAUSEWAY_ACCOUNT_BURST_LIMIT", default_value_t = 5_000)]
    account_burst_limit: u64,
}

/// Parses `a.b.c.d/len` into the first usable address and how many follow it.
fn parse_range(text: &str) -> Result<(Ipv4Addr, u32), String> {
    let (addr, len) = text
        .split_once('/')
        .ok_or_else(|| format!("'{text}' is not a range like 127.10.0.0/16"))?;
    let addr: Ipv4Addr = addr.parse().map_err(|e| format!("'{addr}': {e}"))?;
    let len: u32 = len.parse().map_err(|e| format!("'{len}': {e}"))?;
    if !(8..=30).contains(&len) {
        return Err(format!("prefix length {len} must be between 8 and 30"));
    }
    let size = 1u32 << (32 - len);
    let network = u32::from(addr) & !(size - 1);
    Ok((Ipv4Addr::from(network + 1), size - 2))
}

/// mimalloc instead of the system allocator: a proxied request makes dozens of short-lived
/// allocations (HTTP heads, header maps, buffers), and glibc's malloc showed up as about a
/// tenth of the gateway's CPU time in profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAUSEWAY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // With one CPU to run on (a container limit, or taskset), the current-thread scheduler
    // does the same work without the multi-thread one's cross-thread hand-offs.
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut builder = if cpus == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut signals = Signals::listen()?;
    println!("causeway {}", env!("CARGO_PKG_VERSION"));
    println!("  data dir      {}", args.data_dir.display());
    println!("  admin listen  {}", args.admin_listen);
    println!("  gateway listen {}", args.gateway_listen);
    println!("  region        {}", args.region);
    println!("  account id    {}", args.account_id);
    println!(
        "  nlb addresses {} (+{} more)",
        args.nlb_address_range.0,
        args.nlb_address_range.1.saturating_sub(1)
    );
    let server = causeway_server::Server::start(causeway_server::Config {
        data_dir: args.data_dir,
        admin_listen: args.admin_listen,
        gateway_listen: args.gateway_listen,
        region: args.region.clone(),
        account_id: args.account_id,
        nlb_addresses: args.nlb_address_range,
        max_integration_timeout_millis: args.max_integration_timeout_ms,
        account_throttle: Some(causeway_server::AccountThrottle {
            rate_limit: args.account_rate_limit,
            burst_limit: args.account_burst_limit,
        }),
        ..causeway_server::Config::default()
    })
    .await
    .context("causeway could not start")?;
    let admin = server.admin_addr();
    // One line of its own, so that scripts and tests can read the bound address.
    let gateway = server.gateway_addr();
    println!("admin listening on {admin}");
    println!("gateway listening on {gateway}");
    println!();
    println!("Try it with the aws CLI:");
    println!(
        "  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={} aws --endpoint-url http://{admin} apigateway get-rest-apis",
        args.region
    );
    println!();
    println!("Invoke URLs:");
    println!(
        "  http://{{api-id}}.execute-api.localhost:{}/{{stage}}/{{path}}",
        gateway.port()
    );
    println!("  http://{gateway}/restapis/{{api-id}}/{{stage}}/_user_request_/{{path}}");
    signals.wait().await;
    println!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// SIGINT and SIGTERM, listened for from before the start-up banner, so that a signal sent
/// as soon as the banner appears stops the server cleanly instead of killing it.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
        })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
