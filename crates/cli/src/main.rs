//! The `causeway` command: `causeway serve` runs the whole system on one machine.

use std::net::SocketAddr;
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
    /// Address of the management API (apigateway); port 0 picks a free port.
    #[arg(long, env = "CAUSEWAY_ADMIN_LISTEN", default_value = "127.0.0.1:4580")]
    admin_listen: SocketAddr,
    /// Region reported in ARNs.
    #[arg(long, env = "CAUSEWAY_REGION", default_value = "us-east-1")]
    region: String,
    /// Account id reported in ARNs and messages.
    #[arg(long, env = "CAUSEWAY_ACCOUNT_ID", default_value = "000000000000")]
    account_id: String,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAUSEWAY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    println!("causeway {}", env!("CARGO_PKG_VERSION"));
    println!("  data dir      {}", args.data_dir.display());
    println!("  admin listen  {}", args.admin_listen);
    println!("  region        {}", args.region);
    println!("  account id    {}", args.account_id);
    let server = causeway_server::Server::start(causeway_server::Config {
        data_dir: args.data_dir,
        admin_listen: args.admin_listen,
        region: args.region.clone(),
        account_id: args.account_id,
    })
    .await
    .context("causeway could not start")?;
    let admin = server.admin_addr();
    // One line of its own, so that scripts and tests can read the bound address.
    println!("admin listening on {admin}");
    println!();
    println!("Try it with the aws CLI:");
    println!(
        "  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={} aws --endpoint-url http://{admin} apigateway get-rest-apis",
        args.region
    );
    wait_for_signal().await?;
    println!("shutting down");
    server.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("cannot listen for SIGINT")?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
