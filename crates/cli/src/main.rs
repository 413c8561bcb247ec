//! The `causeway` command: `causeway serve` runs the whole system on one machine;
//! `causeway nlb-node` runs network load balancers inside a private network, reached
//! through an outbound tunnel.

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
    Serve(Box<ServeArgs>),
    /// Run network load balancers inside a private network, reached through an outbound tunnel.
    #[command(
        long_about = "Run network load balancers inside a private network, reached through an outbound tunnel.\n\n\
1. On the gateway host: curl -X POST http://127.0.0.1:4580/causeway/nodes -d '{\"loadBalancerArns\":[\"<nlb-arn>\"]}' (answers the node id and token).\n\
2. Copy the gateway's {data-dir}/link/cert.pem to the private host.\n\
3. On the private host: causeway nlb-node --gateway GATEWAY_HOST:4590 --ca cert.pem --node-id ID --token TOKEN"
    )]
    NlbNode(NodeArgs),
    /// Import (or update) an API from an OpenAPI file and deploy it to a stage, in one step.
    #[command(
        long_about = "Import (or update) an API from an OpenAPI file and deploy it to a stage, in one step.\n\n\
The API is found by --api-id, else by the document's info.title among the server's APIs; when none matches, the file is imported as a new API. An existing API is replaced by the file (PutRestApi mode=overwrite, or --mode merge). Then a deployment is made to --stage with the given --variable values, and the invoke URLs are printed."
    )]
    Deploy(DeployArgs),
}

#[derive(Debug, clap::Args)]
struct DeployArgs {
    /// The OpenAPI 2.0 or 3.x file (JSON or YAML) with x-amazon-apigateway extensions.
    file: PathBuf,
    /// The stage to deploy to.
    #[arg(long)]
    stage: String,
    /// Stage variables, NAME=VALUE (repeatable).
    #[arg(long = "variable", value_parser = parse_variable)]
    variables: Vec<(String, String)>,
    /// The API to update; by default the one named like the document's info.title.
    #[arg(long)]
    api_id: Option<String>,
    /// How an existing API takes the file: overwrite (it becomes exactly the file) or merge.
    #[arg(long, default_value = "overwrite", value_parser = ["overwrite", "merge"])]
    mode: String,
    /// The management endpoint of `causeway serve`.
    #[arg(
        long,
        env = "CAUSEWAY_ENDPOINT",
        default_value = "http://127.0.0.1:4580"
    )]
    endpoint: String,
    /// The gateway's address, for the printed invoke URLs.
    #[arg(long, env = "CAUSEWAY_GATEWAY", default_value = "127.0.0.1:8080")]
    gateway: String,
}

fn parse_variable(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("'{text}' is not NAME=VALUE"))
}

#[derive(Debug, clap::Args)]
struct NodeArgs {
    /// The gateway's link listener (`causeway serve --link-listen`), HOST:PORT. With several
    /// gateway nodes, give each (repeat the flag, or separate with commas): the node keeps a
    /// tunnel to every one.
    #[arg(
        long,
        env = "CAUSEWAY_GATEWAY_LINK",
        value_delimiter = ',',
        required = true
    )]
    gateway: Vec<String>,
    /// The name in the gateway's certificate (the generated one has localhost and 127.0.0.1,
    /// plus every --link-name).
    #[arg(long, env = "CAUSEWAY_GATEWAY_NAME", default_value = "localhost")]
    gateway_name: String,
    /// The gateway's certificate, `{data-dir}/link/cert.pem` on the gateway host (with several
    /// gateway nodes, their certificates one after the other in one file).
    #[arg(long, env = "CAUSEWAY_GATEWAY_CA")]
    ca: PathBuf,
    /// The node id the gateway issued.
    #[arg(long, env = "CAUSEWAY_NODE_ID")]
    node_id: String,
    /// The node's credential (prefer the environment variable to keep it out of `ps`).
    #[arg(long, env = "CAUSEWAY_NODE_TOKEN", hide_env_values = true)]
    token: String,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Folder of the embedded store (created when missing), the link certificate and the
    /// access logs.
    #[arg(long, env = "CAUSEWAY_DATA_DIR", default_value = "./causeway-data")]
    data_dir: PathBuf,
    /// A PostgreSQL database to keep the configuration in instead of the embedded store
    /// (postgres://user:password@host:port/dbname): every node given the same URL serves the
    /// same configuration, and sees the others' changes at once (LISTEN/NOTIFY).
    #[arg(long, env = "CAUSEWAY_STORE_URL", value_parser = parse_store_url)]
    store_url: Option<String>,
    /// Certificates (PEM) to trust for the store's TLS, besides the public roots: the URL's
    /// `sslmode=require` turns TLS on, and the server's certificate must then check out.
    #[arg(long, env = "CAUSEWAY_STORE_CA")]
    store_ca: Option<PathBuf>,
    /// A Redis server to count throttles and quotas in (redis://[:password@]host:port/db, or
    /// rediss://... for TLS),
    /// so that every node sharing it enforces usage plans, stage throttles and the account
    /// throttle together; without it, each node counts for itself.
    #[arg(long, env = "CAUSEWAY_REDIS_URL", value_parser = parse_redis_url)]
    redis_url: Option<String>,
    /// Certificates (PEM) to trust for Redis's TLS (rediss://) instead of the system's roots:
    /// the CA that signed the Redis server's certificate.
    #[arg(long, env = "CAUSEWAY_REDIS_CA")]
    redis_ca: Option<PathBuf>,
    /// A client certificate (PEM) to show a Redis server that asks for one
    /// (`tls-auth-clients`); needs --redis-key.
    #[arg(long, env = "CAUSEWAY_REDIS_CERT", requires = "redis_key")]
    redis_cert: Option<PathBuf>,
    /// The private key (PEM) of --redis-cert.
    #[arg(long, env = "CAUSEWAY_REDIS_KEY", requires = "redis_cert")]
    redis_key: Option<PathBuf>,
    /// An S3-compatible endpoint (LocalStack's http://localhost:4566, MinIO, ...) where
    /// custom domains' mutual TLS truststores are read (`s3://bucket/key`), signed with the
    /// credentials of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when they are set.
    #[arg(long, env = "CAUSEWAY_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// Where AWS integrations call AWS services other than Lambda: URL for every service
    /// (LocalStack's http://localhost:4566, moto's server), or SERVICE=URL for one
    /// (sqs=http://localhost:9324); repeat it, or separate values with commas. Requests are
    /// signed with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (test/test, as emulators
    /// take, when they are not set). S3 defaults to --s3-endpoint.
    #[arg(
        long = "aws-endpoint",
        env = "CAUSEWAY_AWS_ENDPOINT",
        value_delimiter = ','
    )]
    aws_endpoint: Vec<String>,
    /// Where the functions of Lambda authorizers run: an endpoint of Lambda's Invoke API
    /// (LocalStack's http://localhost:4566, `sam local start-lambda`'s
    /// http://127.0.0.1:3001), or the invocation URL of one function's Runtime Interface
    /// Emulator (http://localhost:9000/2015-03-31/functions/function/invocations).
    #[arg(long, env = "CAUSEWAY_LAMBDA_ENDPOINT", value_parser = causeway_server::LambdaEndpoint::parse)]
    lambda_endpoint: Option<causeway_server::LambdaEndpoint>,
    /// Where the user pools of Cognito authorizers are, when not on AWS (LocalStack,
    /// cognito-local): tokens of pool P must come from issuer {URL}/P, whose keys are at
    /// {URL}/P/.well-known/jwks.json. Without it, AWS's own:
    /// https://cognito-idp.{region}.amazonaws.com.
    #[arg(long, env = "CAUSEWAY_COGNITO_ENDPOINT", value_parser = causeway_server::HttpUrl::parse)]
    cognito_endpoint: Option<causeway_server::HttpUrl>,
    /// A credentials file in the AWS format (~/.aws/credentials works as it is): every
    /// profile with aws_access_key_id and aws_secret_access_key is an identity that may sign
    /// requests. With it, the management APIs refuse requests none of them signed (SigV4),
    /// and methods with AWS_IAM authorization let them in. An optional `arn` key per profile
    /// says who it is (default arn:aws:iam::{account}:user/{profile}). Without it, the
    /// management APIs accept every request and AWS_IAM methods refuse every caller. The file
    /// is read again when it changes, so keys rotate without a restart.
    #[arg(long, env = "CAUSEWAY_CREDENTIALS")]
    credentials: Option<PathBuf>,
    /// The roles this node runs: control (management API), gateway (invoke URLs and the link
    /// listener), or both (comma-separated). A node without the control role needs a shared
    /// --store-url to learn its configuration from.
    #[arg(long = "role", env = "CAUSEWAY_ROLE", value_delimiter = ',', default_value = "control,gateway", value_parser = ["control", "gateway"])]
    roles: Vec<String>,
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
    /// Where the gateway also serves invoke URLs over HTTPS (TLS 1.2 and 1.3); port 0 picks
    /// a free port. Without --gateway-tls-cert, a self-signed certificate for localhost,
    /// 127.0.0.1 and *.execute-api.localhost is made on first start and kept in
    /// {data-dir}/gateway-tls.
    #[arg(long, env = "CAUSEWAY_GATEWAY_TLS_LISTEN")]
    gateway_tls_listen: Option<SocketAddr>,
    /// The certificate chain (PEM) HTTPS serves; needs --gateway-tls-key and
    /// --gateway-tls-listen.
    #[arg(
        long,
        env = "CAUSEWAY_GATEWAY_TLS_CERT",
        requires = "gateway_tls_key",
        requires = "gateway_tls_listen"
    )]
    gateway_tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --gateway-tls-cert.
    #[arg(long, env = "CAUSEWAY_GATEWAY_TLS_KEY", requires = "gateway_tls_cert")]
    gateway_tls_key: Option<PathBuf>,
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
    /// Where NLB nodes in private networks dial in (TLS); "off" runs no link listener.
    #[arg(long, env = "CAUSEWAY_LINK_LISTEN", default_value = "127.0.0.1:4590", value_parser = parse_link_listen)]
    link_listen: LinkListen,
    /// Extra names for the generated link certificate (the gateway host's DNS name or IP,
    /// as nodes will dial it). Repeatable.
    #[arg(long = "link-name", env = "CAUSEWAY_LINK_NAMES", value_delimiter = ',')]
    link_names: Vec<String>,
    /// Account-level throttle every invoke passes, in requests per second (AWS's default
    /// quota: 10000). Usage plans and stage method settings throttle further.
    #[arg(long, env = "CAUSEWAY_ACCOUNT_RATE_LIMIT", default_value_t = 10_000.0)]
    account_rate_limit: f64,
    /// Burst of the account-level throttle (AWS's default quota: 5000).
    #[arg(long, env = "CAUSEWAY_ACCOUNT_BURST_LIMIT", default_value_t = 5_000)]
    account_burst_limit: u64,
}

fn parse_store_url(text: &str) -> Result<String, String> {
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "'{}' is not a PostgreSQL URL (postgres://user:password@host:port/dbname)",
            masked(text)
        ))
    }
}

fn parse_redis_url(text: &str) -> Result<String, String> {
    if text.starts_with("redis://") || text.starts_with("rediss://") {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "'{}' is not a Redis URL (redis://host:port/db, or rediss:// for TLS)",
            masked(text)
        ))
    }
}

/// The TLS settings for Redis that the flags name, their files read. They need a
/// `rediss://` URL.
fn redis_tls(args: &ServeArgs) -> anyhow::Result<causeway_server::RedisTls> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
    };
    let tls = causeway_server::RedisTls {
        ca_pem: match &args.redis_ca {
            Some(path) => Some(read(path, "the Redis CA certificates")?),
            None => None,
        },
        client: match (&args.redis_cert, &args.redis_key) {
            (Some(cert), Some(key)) => Some((
                read(cert, "the Redis client certificate")?,
                read(key, "the Redis client key")?,
            )),
            _ => None,
        },
    };
    let tls_url = args
        .redis_url
        .as_deref()
        .is_some_and(|url| url.starts_with("rediss://"));
    if (tls.ca_pem.is_some() || tls.client.is_some()) && !tls_url {
        anyhow::bail!(
            "--redis-ca, --redis-cert and --redis-key are for TLS to Redis: give --redis-url a rediss:// URL"
        );
    }
    Ok(tls)
}

/// A store URL with its password hidden, for printing.
fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// `--link-listen`: an address, or `off`.
#[derive(Debug, Clone, Copy)]
struct LinkListen(Option<SocketAddr>);

fn parse_link_listen(text: &str) -> Result<LinkListen, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(LinkListen(None));
    }
    text.parse()
        .map(|addr| LinkListen(Some(addr)))
        .map_err(|e| format!("'{text}' is neither an address like 0.0.0.0:4590 nor 'off': {e}"))
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
        // Colours only for a terminal: a log redirected to a file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
    // Poll for I/O when the tasks that are ready have run, as an event loop does, rather
    // than after every 61 task polls (tokio's default): under load the default costs an
    // extra `epoll_wait` every thirty-odd proxied requests and lengthened the gateway's p99
    // at 64 connections by 10-15% against nginx in interleaved runs (docs/benchmarks.md).
    // Tasks here only become ready through I/O, timers and spawns, so none can starve I/O.
    builder.event_interval(1024);
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(*args)),
        Command::NlbNode(args) => runtime.block_on(nlb_node(args)),
        Command::Deploy(args) => runtime.block_on(deploy(args)),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut signals = Signals::listen()?;
    println!("causeway {}", env!("CARGO_PKG_VERSION"));
    let roles = causeway_server::Roles {
        control: args.roles.iter().any(|r| r == "control"),
        gateway: args.roles.iter().any(|r| r == "gateway"),
    };
    if !roles.control && args.store_url.is_none() {
        anyhow::bail!(
            "a node without the control role learns its configuration from a shared store: give it --store-url"
        );
    }
    println!("  data dir      {}", args.data_dir.display());
    match &args.store_url {
        Some(url) => println!("  store         {} (shared)", masked(url)),
        None => println!("  store         embedded (SQLite in the data dir)"),
    }
    println!("  roles         {}", args.roles.join(","));
    match &args.redis_url {
        Some(url) => println!(
            "  limits        counted in Redis at {} (shared)",
            masked(url)
        ),
        None => println!("  limits        counted in memory (this node only)"),
    }
    if roles.control {
        println!("  admin listen  {}", args.admin_listen);
    }
    if roles.gateway {
        println!("  gateway listen {}", args.gateway_listen);
        if let Some(tls) = args.gateway_tls_listen {
            println!("  gateway tls   {tls} (HTTPS)");
        }
    }
    println!("  region        {}", args.region);
    println!("  account id    {}", args.account_id);
    println!(
        "  nlb addresses {} (+{} more)",
        args.nlb_address_range.0,
        args.nlb_address_range.1.saturating_sub(1)
    );
    let redis_tls = redis_tls(&args)?;
    let store_ca_pem = match &args.store_ca {
        Some(path) => Some(std::fs::read(path).with_context(|| {
            format!("cannot read the store's CA certificates {}", path.display())
        })?),
        None => None,
    };
    let credentials = match &args.credentials {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the credentials file {}", path.display()))?;
            let keyring = causeway_server::Keyring::from_credentials_file(&text, &args.account_id)
                .with_context(|| format!("the credentials file {}", path.display()))?;
            println!(
                "  credentials   {} identit{} from {} (requests are checked for SigV4 signatures)",
                keyring.len(),
                if keyring.len() == 1 { "y" } else { "ies" },
                path.display()
            );
            Some(std::sync::Arc::new(causeway_server::Credentials::new(
                keyring,
            )))
        }
        None => None,
    };
    let s3_endpoint = match &args.s3_endpoint {
        Some(url) => Some(
            causeway_server::s3::S3Endpoint::parse(url, &args.region)
                .map_err(|why| anyhow::anyhow!("--s3-endpoint: {why}"))?
                .with_environment_credentials(),
        ),
        None => None,
    };
    let aws_services = if args.aws_endpoint.is_empty() {
        None
    } else {
        let credentials = causeway_server::AwsCredentials::from_environment().unwrap_or_else(|| {
            tracing::info!(
                "AWS integrations sign with the credentials test/test: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"
            );
            causeway_server::AwsCredentials::emulator()
        });
        let mut services = causeway_server::AwsServices::new(credentials);
        for spec in &args.aws_endpoint {
            services
                .add(spec)
                .map_err(|why| anyhow::anyhow!("--aws-endpoint: {why}"))?;
        }
        Some(services)
    };
    let server = causeway_server::Server::start(causeway_server::Config {
        data_dir: args.data_dir,
        store_ca_pem,
        store: match args.store_url {
            Some(url) => causeway_server::StoreLocation::Postgres(url),
            None => causeway_server::StoreLocation::Embedded,
        },
        roles,
        redis: args.redis_url,
        redis_tls,
        lambda_endpoint: args.lambda_endpoint,
        s3_endpoint,
        aws_services,
        cognito_endpoint: args.cognito_endpoint,
        credentials,
        credentials_file: args.credentials.clone(),
        admin_listen: args.admin_listen,
        gateway_listen: args.gateway_listen,
        gateway_tls_listen: args.gateway_tls_listen,
        gateway_tls_identity: args
            .gateway_tls_cert
            .clone()
            .zip(args.gateway_tls_key.clone()),
        region: args.region.clone(),
        account_id: args.account_id,
        nlb_addresses: args.nlb_address_range,
        max_integration_timeout_millis: args.max_integration_timeout_ms,
        account_throttle: Some(causeway_server::AccountThrottle {
            rate_limit: args.account_rate_limit,
            burst_limit: args.account_burst_limit,
        }),
        link_listen: args.link_listen.0,
        link_names: ["localhost".to_owned(), "127.0.0.1".to_owned()]
            .into_iter()
            .chain(args.link_names.iter().cloned())
            .collect(),
        ..causeway_server::Config::default()
    })
    .await
    .context("causeway could not start")?;
    // One line each, of their own, so that scripts and tests can read the bound addresses.
    if let Some(admin) = server.admin_addr() {
        println!("admin listening on {admin}");
    }
    if let Some(gateway) = server.gateway_addr() {
        println!("gateway listening on {gateway}");
    }
    if let Some(gateway) = server.gateway_tls_addr() {
        println!("gateway tls listening on {gateway}");
    }
    if let Some(link) = server.link_addr() {
        println!(
            "link listening on {link} (NLB nodes; certificate {})",
            server.link_certificate().display()
        );
    }
    if let Some(admin) = server.admin_addr() {
        println!();
        println!("Try it with the aws CLI:");
        // With a credentials file, the CLI signs with one of its profiles.
        let keys = match &args.credentials {
            Some(path) => format!("AWS_SHARED_CREDENTIALS_FILE={}", path.display()),
            None => "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test".to_owned(),
        };
        println!(
            "  {keys} AWS_DEFAULT_REGION={} aws --endpoint-url http://{admin} apigateway get-rest-apis",
            args.region
        );
    }
    if let Some(gateway) = server.gateway_addr() {
        println!();
        println!("Invoke URLs:");
        println!(
            "  http://{{api-id}}.execute-api.localhost:{}/{{stage}}/{{path}}",
            gateway.port()
        );
        println!("  http://{gateway}/restapis/{{api-id}}/{{stage}}/_user_request_/{{path}}");
    }
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

async fn nlb_node(args: NodeArgs) -> anyhow::Result<()> {
    let mut signals = Signals::listen()?;
    let ca_pem = std::fs::read(&args.ca)
        .with_context(|| format!("cannot read the gateway certificate {}", args.ca.display()))?;
    let node = causeway_server::node::Node::start(causeway_server::node::NodeConfig {
        gateways: args.gateway.clone(),
        server_name: args.gateway_name,
        ca_pem,
        node_id: args.node_id.clone(),
        token: args.token,
    })
    .context("the NLB node could not start")?;
    println!("causeway nlb-node {}", env!("CARGO_PKG_VERSION"));
    println!("  node id   {}", args.node_id);
    println!("  gateways  {}", args.gateway.join(", "));
    let reports: Vec<_> = node
        .statuses()
        .into_iter()
        .zip(args.gateway.clone())
        .map(|(mut status, gateway)| {
            tokio::spawn(async move {
                let mut was = usize::MAX;
                while status.changed().await.is_ok() {
                    let now = status.borrow_and_update().clone();
                    if now.connected != was {
                        match &now.last_error {
                            Some(error) if now.connected == 0 => {
                                println!("tunnel to {gateway} down ({error}); retrying");
                            }
                            _ => println!("tunnel to {gateway}: connections up: {}", now.connected),
                        }
                        was = now.connected;
                    }
                }
            })
        })
        .collect();
    signals.wait().await;
    for report in reports {
        report.abort();
    }
    println!("shutting down");
    node.shutdown();
    Ok(())
}

async fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let body = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let document = causeway_model::openapi::parse(&body)
        .map_err(|e| anyhow::anyhow!("{}: {}", args.file.display(), e.message()))?;
    let http = reqwest::Client::new();
    let endpoint = args.endpoint.trim_end_matches('/');
    let call =
        |method: reqwest::Method, path: String| http.request(method, format!("{endpoint}{path}"));
    let api_id = match args.api_id.clone() {
        Some(id) => Some(id),
        None => {
            let title = document["info"]["title"].as_str().unwrap_or_default();
            let listed =
                answer(call(reqwest::Method::GET, "/restapis?limit=500".to_owned())).await?;
            let matching: Vec<&str> = listed["item"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|api| api["name"].as_str() == Some(title))
                .filter_map(|api| api["id"].as_str())
                .collect();
            match matching.as_slice() {
                [] => None,
                [one] => Some((*one).to_owned()),
                many => anyhow::bail!(
                    "{} APIs are named '{title}' ({}); choose one with --api-id",
                    many.len(),
                    many.join(", ")
                ),
            }
        }
    };
    let api = match api_id {
        Some(id) => {
            answer(
                call(
                    reqwest::Method::PUT,
                    format!("/restapis/{id}?mode={}", args.mode),
                )
                .body(body),
            )
            .await?;
            println!(
                "updated API {id} from {} ({})",
                args.file.display(),
                args.mode
            );
            id
        }
        None => {
            let created =
                answer(call(reqwest::Method::POST, "/restapis?mode=import".to_owned()).body(body))
                    .await?;
            let id = created["id"].as_str().unwrap_or_default().to_owned();
            println!("imported {} as API {id}", args.file.display());
            id
        }
    };
    let variables: serde_json::Map<String, serde_json::Value> = args
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let deployment = answer(
        call(
            reqwest::Method::POST,
            format!("/restapis/{api}/deployments"),
        )
        .json(&serde_json::json!({"stageName": args.stage, "variables": variables})),
    )
    .await?;
    println!(
        "deployed to stage {} (deployment {})",
        args.stage,
        deployment["id"].as_str().unwrap_or_default()
    );
    let port = args.gateway.rsplit(':').next().unwrap_or("8080");
    println!(
        "  http://{api}.execute-api.localhost:{port}/{}/",
        args.stage
    );
    println!(
        "  http://{}/restapis/{api}/{}/_user_request_/",
        args.gateway, args.stage
    );
    Ok(())
}

/// Sends a management call; an error answer becomes an error with AWS's message.
async fn answer(request: reqwest::RequestBuilder) -> anyhow::Result<serde_json::Value> {
    let response = request
        .send()
        .await
        .context("cannot reach the Causeway endpoint")?;
    let status = response.status();
    let code = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if !status.is_success() {
        let message = value["message"].as_str().unwrap_or(&text);
        anyhow::bail!("{code} ({status}): {message}");
    }
    Ok(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_are_printed_without_their_password() {
        assert_eq!(
            masked("postgres://causeway:s3cr@t@db:5432/causeway"),
            "postgres://causeway:***@db:5432/causeway"
        );
        assert_eq!(
            masked("postgres://causeway@db/causeway"),
            "postgres://causeway@db/causeway"
        );
        assert_eq!(masked("not a url"), "not a url");
    }

    #[test]
    fn only_redis_urls_are_accepted() {
        assert!(parse_redis_url("redis://127.0.0.1:6379/0").is_ok());
        assert!(parse_redis_url("rediss://h:6380/0").is_ok());
        let refused = parse_redis_url("http://u:pw@h").unwrap_err();
        assert!(refused.contains("http://u:***@h"), "{refused}");
    }

    fn serve_args(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        use clap::Parser;
        let cli = Cli::try_parse_from(["causeway", "serve"].iter().chain(args))?;
        match cli.command {
            Command::Serve(args) => Ok(*args),
            _ => panic!("not serve"),
        }
    }

    #[test]
    fn redis_tls_flags_need_each_other_and_a_tls_url() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let ca = ca.display().to_string();
        // A certificate without its key (and the other way round) is refused by the parser.
        assert!(serve_args(&["--redis-cert", &ca]).is_err());
        assert!(serve_args(&["--redis-key", &ca]).is_err());
        // TLS settings with a plain URL, or none, are refused when read.
        let plain = serve_args(&["--redis-url", "redis://h/0", "--redis-ca", &ca]).unwrap();
        let refused = redis_tls(&plain).unwrap_err().to_string();
        assert!(refused.contains("rediss://"), "{refused}");
        assert!(redis_tls(&serve_args(&["--redis-ca", &ca]).unwrap()).is_err());
        // With a TLS URL the files are read.
        let args = [
            "--redis-url",
            "rediss://h:6380/0",
            "--redis-ca",
            &ca,
            "--redis-cert",
            &ca,
            "--redis-key",
            &ca,
        ];
        let tls = redis_tls(&serve_args(&args).unwrap()).unwrap();
        assert_eq!(
            tls.ca_pem.as_deref(),
            Some(&b"-----BEGIN CERTIFICATE-----\n"[..])
        );
        assert!(tls.client.is_some());
        let missing = serve_args(&["--redis-url", "rediss://h/0", "--redis-ca", "/nonexistent"]);
        let refused = redis_tls(&missing.unwrap()).unwrap_err();
        assert!(
            format!("{refused:#}").contains("/nonexistent"),
            "{refused:#}"
        );
    }

    #[test]
    fn only_postgres_urls_are_accepted() {
        assert!(parse_store_url("postgresql://u@h/d").is_ok());
        let refused = parse_store_url("mysql://u:pw@h/d").unwrap_err();
        assert!(refused.contains("mysql://u:***@h/d"), "{refused}");
    }
}
