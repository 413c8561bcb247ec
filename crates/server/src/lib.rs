//! Composition root: opens the store, builds the control plane and binds the listeners.
//!
//! The CLI and the end-to-end tests start Causeway through [`Server::start`], so both run the
//! very same wiring.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use causeway_control::AccountThrottle;
use causeway_control::dataplane::{DataPlane, TestInvokeFuture};
use causeway_control::{Control, ControlConfig, VpcLinkLook};
pub use causeway_gateway::aws::{AwsCredentials, AwsServices};
pub use causeway_gateway::cognito::HttpUrl;
pub use causeway_gateway::lambda::LambdaEndpoint;
pub use causeway_gateway::{Clock, ManualClock, StreamBandwidth, SystemClock};
use causeway_gateway::{Gateway, GatewayConfig};
use causeway_limits::{InMemoryLimiter, Limiter, ThrottleConfig, UsageRecord};
use causeway_model::elb::{LoadBalancerStatus, TargetHealthReport};
use causeway_model::gateway::TestInvoke;
use causeway_nlb::{Engine, EngineConfig};
pub use causeway_sigv4::{Credentials, Keyring};
use causeway_store::{PostgresStore, PostgresWatcher, SqliteStore, Store};
pub use redis_limiter::RedisTls;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub mod access_logs;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod link;
pub mod node;
pub mod redis_limiter;
mod redis_waf;
pub mod s3;

/// Where the configuration is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded SQLite store in the data folder: one node.
    #[default]
    Embedded,
    /// A PostgreSQL database (`postgres://user:password@host:port/dbname`), which several
    /// nodes can share.
    Postgres(String),
}

/// The parts of Causeway a node runs. Every node runs the in-process NLB engine, which the
/// control plane reports load balancer state from and the gateway reaches VPC links through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// The management API (apigateway and elbv2) on `admin_listen`.
    pub control: bool,
    /// Invoke URLs on `gateway_listen`, and the link listener for NLB nodes.
    pub gateway: bool,
}

impl Default for Roles {
    fn default() -> Self {
        Roles {
            control: true,
            gateway: true,
        }
    }
}

/// What a server needs to start. Every field has the default of the `causeway serve` flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder of the embedded store (created when missing), the link certificate and the
    /// access logs.
    pub data_dir: PathBuf,
    /// Where the configuration lives: the embedded store, or PostgreSQL for several nodes.
    pub store: StoreLocation,
    /// Certificates (PEM) to trust, besides the public roots, for a PostgreSQL store whose
    /// URL says `sslmode=require`.
    pub store_ca_pem: Option<Vec<u8>>,
    /// Which listeners this node runs.
    pub roles: Roles,
    /// With a shared store: how often the revision is read besides the notifications, in case
    /// one was lost.
    pub store_poll: std::time::Duration,
    /// A Redis server (`redis://host:port/db`, or `rediss://` for TLS) to count throttles and
    /// quotas in, shared by several nodes; `None` counts in this process's memory.
    pub redis: Option<String>,
    /// TLS settings for a `rediss://` server.
    pub redis_tls: redis_limiter::RedisTls,
    /// How long a request waits for Redis to decide its throttles and quotas before it is
    /// let through uncounted ([`redis_limiter::ANSWER_TIMEOUT`], 250 ms): a slow Redis does
    /// not hold the APIs up. It bounds the WAF rate count exchanges too, which share the
    /// connection. Tests that count exactly on a loaded machine wait longer.
    pub redis_answer_timeout: std::time::Duration,
    /// Where Lambda authorizers' functions are invoked: an endpoint of Lambda's Invoke API
    /// (LocalStack, `sam local start-lambda`), or one function's emulator URL.
    pub lambda_endpoint: Option<causeway_gateway::lambda::LambdaEndpoint>,
    /// Where custom domains' mutual TLS truststores (`s3://bucket/key`) are read: an
    /// S3-compatible endpoint. Without one, CreateDomainName with a truststore is refused.
    pub s3_endpoint: Option<s3::S3Endpoint>,
    /// Where AWS integrations call AWS services other than Lambda (S3 falls back to
    /// `s3_endpoint`). Without any, such integrations answer 500 with the reason in the log.
    pub aws_services: Option<causeway_gateway::aws::AwsServices>,
    /// Where the user pools of Cognito authorizers are, when not on AWS (LocalStack,
    /// cognito-local): `{endpoint}/{poolId}` is the issuer, its keys under
    /// `/.well-known/jwks.json`.
    pub cognito_endpoint: Option<causeway_gateway::cognito::HttpUrl>,
    /// The identities that may sign requests (SigV4): with them, the management APIs refuse
    /// requests they did not sign, and methods with `AWS_IAM` authorization let them in.
    /// Without them, the management APIs are open and `AWS_IAM` methods refuse every caller.
    pub credentials: Option<Arc<causeway_sigv4::Credentials>>,
    /// The file the credentials were read from: read again when it changes (checked every
    /// second), so that keys can be rotated without a restart.
    pub credentials_file: Option<PathBuf>,
    /// Address of the control plane (apigateway rest-json); port 0 picks a free port.
    pub admin_listen: SocketAddr,
    /// Address of the gateway (invoke URLs); port 0 picks a free port.
    pub gateway_listen: SocketAddr,
    /// Where the gateway also serves invoke URLs over HTTPS; `None` for nowhere.
    pub gateway_tls_listen: Option<SocketAddr>,
    /// The certificate chain and private key (PEM files) HTTPS serves; `None`: one made
    /// for `localhost`, `127.0.0.1` and `*.execute-api.localhost` on first start and kept
    /// under `{data_dir}/gateway-tls`.
    pub gateway_tls_identity: Option<(PathBuf, PathBuf)>,
    /// Region reported in ARNs and URLs.
    pub region: String,
    /// Account id reported in ARNs and error messages.
    pub account_id: String,
    /// Addresses given to network load balancers, one each: the first and how many. The
    /// all-in-one server uses loopback addresses, so that several load balancers can each
    /// listen on the same port.
    pub nlb_addresses: (std::net::Ipv4Addr, u32),
    /// The longest integration timeout accepted, in milliseconds: 29,000 as in AWS's
    /// default quota, up to 300,000 (AWS allows that much for Regional and private APIs
    /// once the quota is raised).
    pub max_integration_timeout_millis: i32,
    /// The account-level throttle every invoke passes (AWS: 10,000 requests per second,
    /// bursts of 5,000); `None` turns it off.
    pub account_throttle: Option<AccountThrottle>,
    /// The clock of throttles and quotas; tests pass a [`ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// How often counted quota usage is written to the store: what a crash can lose.
    pub usage_flush_interval: std::time::Duration,
    /// Where NLB nodes dial in (the tunnel transport of VPC links); `None` runs none.
    pub link_listen: Option<SocketAddr>,
    /// Names the generated link certificate is valid for (nodes check one of them).
    pub link_names: Vec<String>,
    /// How long an invoke client may take to send a request head once it has begun.
    pub request_head_timeout: std::time::Duration,
    /// How long an invoke client's request body may pause between two reads.
    pub request_body_timeout: std::time::Duration,
    /// How long an invoke client may go without taking any of an answer.
    pub send_timeout: std::time::Duration,
    /// How long a streamed answer may go without a byte from the backend (AWS: 5 minutes).
    pub stream_idle_timeout: std::time::Duration,
    /// How fast a streamed answer may go past its first bytes (AWS: 2 MB/s after 10 MB);
    /// `None` for no limit.
    pub stream_bandwidth: Option<StreamBandwidth>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./causeway-data"),
            store: StoreLocation::Embedded,
            store_ca_pem: None,
            roles: Roles::default(),
            store_poll: std::time::Duration::from_secs(2),
            redis: None,
            redis_tls: redis_limiter::RedisTls::default(),
            redis_answer_timeout: redis_limiter::ANSWER_TIMEOUT,
            lambda_endpoint: None,
            s3_endpoint: None,
            aws_services: None,
            cognito_endpoint: None,
            credentials: None,
            credentials_file: None,
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 4580)),
            gateway_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            gateway_tls_listen: None,
            gateway_tls_identity: None,
            region: "us-east-1".to_owned(),
            account_id: "000000000000".to_owned(),
            nlb_addresses: (std::net::Ipv4Addr::new(127, 10, 0, 1), 65_000),
            max_integration_timeout_millis: causeway_model::validate::DEFAULT_MAX_TIMEOUT_MILLIS,
            account_throttle: Some(AccountThrottle::default()),
            clock: Arc::new(SystemClock::new()),
            usage_flush_interval: std::time::Duration::from_secs(1),
            link_listen: Some(SocketAddr::from(([127, 0, 0, 1], 4590))),
            link_names: vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
            request_head_timeout: std::time::Duration::from_secs(60),
            request_body_timeout: std::time::Duration::from_secs(60),
            send_timeout: std::time::Duration::from_secs(60),
            stream_idle_timeout: std::time::Duration::from_secs(5 * 60),
            stream_bandwidth: Some(StreamBandwidth::AWS),
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened (bad folder, locked by another process, corrupt file).
    #[error(transparent)]
    Store(#[from] causeway_store::StoreError),
    /// The link listener's certificate could not be made or read.
    #[error(transparent)]
    LinkIdentity(#[from] link::IdentityError),
    /// The gateway's HTTPS certificate could not be read or made.
    #[error("the gateway's HTTPS certificate: {0}")]
    GatewayTls(link::IdentityError),
    /// The Redis server for throttles and quotas cannot be reached.
    #[error("cannot connect to Redis for throttles and quotas: {0}")]
    Redis(String),
    /// Start-up work on a blocking thread failed unexpectedly.
    #[error("start-up failed: {0}")]
    Startup(String),
    /// The access log writer could not be started.
    #[error("cannot start the access log writer: {0}")]
    AccessLogs(std::io::Error),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// A running server: its bound addresses and the means to stop it.
#[derive(Debug)]
pub struct Server {
    admin_addr: Option<SocketAddr>,
    gateway_addr: Option<SocketAddr>,
    gateway_tls_addr: Option<SocketAddr>,
    /// Tells this node of other nodes' writes to a shared store.
    watcher: Option<PostgresWatcher>,
    follow_task: Option<JoinHandle<()>>,
    gateway_task: Option<JoinHandle<()>>,
    gateway_updates: JoinHandle<()>,
    gateway_shutdown: Option<watch::Sender<bool>>,
    shutdown: Option<oneshot::Sender<()>>,
    admin_task: Option<JoinHandle<()>>,
    control: Arc<Control>,
    engine: Arc<Engine>,
    plan_task: JoinHandle<()>,
    usage_task: JoinHandle<()>,
    /// Reads the credentials file again when it changes.
    credentials_task: Option<JoinHandle<()>>,
    /// Exchanges WAF's rate counts with the other nodes through Redis.
    waf_task: Option<JoinHandle<()>>,
    limiter: Arc<dyn Limiter>,
    link_server: Option<causeway_link::tunnel::TunnelServer>,
    plan_push_task: JoinHandle<()>,
    /// This process among the nodes sharing the store.
    instance: String,
    link_certificate: std::path::PathBuf,
}

impl Server {
    /// Opens the store (in `config.data_dir`, or the PostgreSQL database), binds the
    /// listeners of the node's roles and starts serving.
    pub async fn start(config: Config) -> Result<Server, StartError> {
        let mut control_config =
            ControlConfig::new(config.region.clone(), config.account_id.clone());
        control_config.nlb_addresses = config.nlb_addresses;
        control_config.max_integration_timeout_millis = config.max_integration_timeout_millis;
        control_config.credentials = config.credentials.clone();
        if let Some(throttle) = config.account_throttle {
            control_config.account_throttle = throttle;
        }
        if matches!(config.store, StoreLocation::Postgres(_)) && config.redis.is_none() {
            // Each node counts quota usage for itself: its records carry its id.
            control_config.usage_node = Some(
                node_id(&config.data_dir)
                    .map_err(|error| StartError::Startup(format!("node id: {error}")))?,
            );
        }
        // Opening and loading block on the database: a blocking thread does it.
        let (control, usage) = {
            let location = config.store.clone();
            let data_dir = config.data_dir.clone();
            let ca_pem = config.store_ca_pem.clone();
            tokio::task::spawn_blocking(move || -> Result<_, StartError> {
                let store: Box<dyn Store> = match &location {
                    StoreLocation::Embedded => Box::new(SqliteStore::open(&data_dir)?),
                    StoreLocation::Postgres(url) => {
                        Box::new(PostgresStore::connect(url, ca_pem.as_deref())?)
                    }
                };
                let control = Control::open(store, control_config)?;
                let usage = control.usage_records()?;
                Ok((Arc::new(control), usage))
            })
            .await
            .map_err(|error| StartError::Startup(error.to_string()))??
        };
        if let Some(endpoint) = &config.s3_endpoint {
            let objects = s3::S3Objects::new(endpoint.clone()).map_err(StartError::Startup)?;
            control.attach_object_source(Arc::new(objects));
        }
        // With a shared store, other nodes' writes reach this node's state (and from there
        // its gateway and engine) through the watcher.
        let (watcher, follow_task) = match &config.store {
            StoreLocation::Postgres(url) => {
                let (seen, revisions) = tokio::sync::watch::channel(0_u64);
                let watcher = PostgresWatcher::start(
                    url,
                    config.store_ca_pem.as_deref(),
                    config.store_poll,
                    move |revision| {
                        seen.send_replace(revision);
                    },
                )?;
                (
                    Some(watcher),
                    Some(tokio::spawn(follow_store(control.clone(), revisions))),
                )
            }
            StoreLocation::Embedded => (None, None),
        };

        // The in-process NLB node: it runs every load balancer's plan and reports live
        // state back to the control plane. Nodes sharing a store each run every load
        // balancer; on one host they share its ports.
        let engine = Arc::new(Engine::new(EngineConfig {
            reuse_port: matches!(config.store, StoreLocation::Postgres(_)),
            ..EngineConfig::default()
        }));
        let mut plans = control.subscribe_nlb_plan();
        engine.apply(&plans.borrow_and_update());
        // Counts the plans the engine has applied: its load balancers' states change only
        // then, and the VPC link reconciler waits on it.
        let (applied, engine_applied) = tokio::sync::watch::channel(0_u64);
        let plan_task = tokio::spawn({
            let engine = engine.clone();
            async move {
                while plans.changed().await.is_ok() {
                    let plan = plans.borrow_and_update().clone();
                    engine.apply(&plan);
                    applied.send_modify(|count| *count += 1);
                }
            }
        });
        // The tunnel: NLB nodes in private networks dial in here; the gateway reaches their
        // load balancers through the registry of their connections.
        let registry = causeway_link::tunnel::Registry::new();
        let link_server = match config.link_listen {
            Some(addr) if config.roles.gateway => {
                let tls = link::tls_identity(&config.data_dir, &config.link_names)?;
                let listener = TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?;
                let server = causeway_link::tunnel::TunnelServer::start(
                    listener,
                    Arc::new(tls),
                    Arc::new(link::ControlAuthority(control.clone())),
                    registry.clone(),
                    causeway_link::tunnel::TunnelServerConfig::default(),
                )
                .map_err(|source| StartError::Bind { addr, source })?;
                Some(server)
            }
            _ => None,
        };
        let node_reports = link::NodeReports::default();
        // This process among the nodes sharing the store (for the tunnels it announces).
        let instance = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let plan_push_task = tokio::spawn(link::push_plans(
            control.clone(),
            registry.clone(),
            node_reports.clone(),
            instance.clone(),
        ));
        // Quota usage lives in the limiter, starts from what the store kept, and goes back
        // to the store in batches.
        if matches!(config.store, StoreLocation::Postgres(_)) && config.redis.is_none() {
            tracing::warn!(
                "throttles and quotas are counted by this node alone: give every node sharing \
                 the store the same --redis-url to count them together"
            );
        }
        let (limiter, redis): (Arc<dyn Limiter>, _) = match &config.redis {
            Some(url) => {
                let limiter = redis_limiter::RedisLimiter::connect_answering_within(
                    url,
                    &config.redis_tls,
                    config.redis_answer_timeout,
                )
                .await
                .map_err(|error| StartError::Redis(error.to_string()))?;
                let connection = limiter.connection();
                (Arc::new(limiter), Some(connection))
            }
            None => (Arc::new(InMemoryLimiter::new()), None),
        };
        {
            // Restoring into Redis blocks on it.
            let limiter = limiter.clone();
            tokio::task::spawn_blocking(move || limiter.restore(usage))
                .await
                .map_err(|error| StartError::Startup(error.to_string()))?;
        }
        // The gateway compiles every stage into its routing snapshot and swaps it in when
        // the control plane publishes a change. It runs on every node (TestInvokeMethod
        // uses it); only a node with the gateway role listens for invokes.
        let gateway = Arc::new(Gateway::with_limiter(
            GatewayConfig {
                region: config.region.clone(),
                account_id: config.account_id.clone(),
                account_throttle: config.account_throttle.map(|t| ThrottleConfig {
                    rate_limit: t.rate_limit,
                    burst_limit: t.burst_limit,
                }),
                tunnel: Some(registry.clone()),
                engine: Some(engine.clone()),
                request_head_timeout: config.request_head_timeout,
                request_body_timeout: config.request_body_timeout,
                send_timeout: config.send_timeout,
                stream_idle_timeout: config.stream_idle_timeout,
                stream_bandwidth: config.stream_bandwidth,
                lambda: config.lambda_endpoint.clone(),
                aws: aws_services(&config),
                cognito_endpoint: config.cognito_endpoint.clone(),
                credentials: config.credentials.clone(),
                access_logs: Some(Arc::new(
                    access_logs::FileAccessLogs::start(config.data_dir.join("access-logs"))
                        .map_err(StartError::AccessLogs)?,
                )),
                ..GatewayConfig::default()
            },
            limiter.clone(),
            config.clock.clone(),
        ));
        control.attach_data_plane(Arc::new(DataPlaneView {
            engine: engine.clone(),
            gateway: gateway.clone(),
            limiter: limiter.clone(),
            registry: registry.clone(),
            node_reports,
        }));
        let credentials_task = match (&config.credentials, &config.credentials_file) {
            (Some(credentials), Some(path)) => Some(tokio::spawn(reload_credentials(
                path.clone(),
                credentials.clone(),
                config.account_id.clone(),
            ))),
            _ => None,
        };
        // WAF's rate counts are kept in memory and exchanged with the other nodes.
        let waf_task =
            redis.map(|connection| tokio::spawn(redis_waf::share(gateway.clone(), connection)));
        let usage_task = tokio::spawn(flush_usage_loop(
            control.clone(),
            limiter.clone(),
            config.usage_flush_interval,
        ));
        let mut gateway_plans = control.subscribe_gateway_plan();
        gateway.apply(&gateway_plans.borrow_and_update());
        let gateway_updates = tokio::spawn({
            let gateway = gateway.clone();
            async move {
                while gateway_plans.changed().await.is_ok() {
                    let plan = gateway_plans.borrow_and_update().clone();
                    gateway.apply(&plan);
                }
            }
        });

        let mut gateway_addr = None;
        let mut gateway_tls_addr = None;
        let mut gateway_task = None;
        let mut gateway_shutdown = None;
        if config.roles.gateway {
            let listener = bind(config.gateway_listen).await?;
            gateway_addr = Some(local_addr(&listener, config.gateway_listen)?);
            let (stop, stopped) = watch::channel(false);
            gateway_shutdown = Some(stop);
            let mut plain_stopped = stopped.clone();
            let plain = tokio::spawn(causeway_gateway::serve(
                gateway.clone(),
                listener,
                async move {
                    let _ = plain_stopped.wait_for(|stop| *stop).await;
                },
            ));
            let tls = match config.gateway_tls_listen {
                None => None,
                Some(address) => {
                    let names = vec![
                        "localhost".to_owned(),
                        "127.0.0.1".to_owned(),
                        "*.execute-api.localhost".to_owned(),
                    ];
                    let given = config
                        .gateway_tls_identity
                        .as_ref()
                        .map(|(cert, key)| (cert.as_path(), key.as_path()));
                    let dir = config.data_dir.join("gateway-tls");
                    let (chain, key) =
                        link::server_keys(&dir, &names, given).map_err(StartError::GatewayTls)?;
                    let identity = gateway.tls_config(chain, key).map_err(|e| {
                        StartError::GatewayTls(link::IdentityError::Invalid {
                            path: given.map_or_else(
                                || dir.join("cert.pem").display().to_string(),
                                |(cert, _)| cert.display().to_string(),
                            ),
                            reason: e.to_string(),
                        })
                    })?;
                    let listener = bind(address).await?;
                    gateway_tls_addr = Some(local_addr(&listener, address)?);
                    let mut tls_stopped = stopped.clone();
                    Some(tokio::spawn(causeway_gateway::serve_tls(
                        gateway.clone(),
                        listener,
                        Arc::new(identity),
                        async move {
                            let _ = tls_stopped.wait_for(|stop| *stop).await;
                        },
                    )))
                }
            };
            gateway_task = Some(tokio::spawn(async move {
                let _ = plain.await;
                if let Some(tls) = tls {
                    let _ = tls.await;
                }
            }));
        }

        let mut admin_addr = None;
        let mut admin_task = None;
        let mut shutdown = None;
        if config.roles.control {
            let listener = bind(config.admin_listen).await?;
            admin_addr = Some(local_addr(&listener, config.admin_listen)?);
            let (tx, rx) = oneshot::channel::<()>();
            shutdown = Some(tx);
            let app = causeway_control::router(control.clone());
            let reconciler = tokio::spawn(reconcile_loop(
                control.clone(),
                engine_applied,
                registry.watch_connected(),
            ));
            let head_timeout = config.request_head_timeout;
            admin_task = Some(tokio::spawn(async move {
                serve_admin(listener, app, head_timeout, async {
                    let _ = rx.await;
                })
                .await;
                reconciler.abort();
                let _ = reconciler.await;
            }));
        }
        Ok(Server {
            admin_addr,
            gateway_addr,
            gateway_tls_addr,
            watcher,
            follow_task,
            gateway_task,
            gateway_updates,
            gateway_shutdown,
            shutdown,
            admin_task,
            control,
            engine,
            plan_task,
            usage_task,
            credentials_task,
            waf_task,
            limiter,
            link_server,
            plan_push_task,
            instance,
            link_certificate: config.data_dir.join("link").join("cert.pem"),
        })
    }

    /// The address the control plane listens on (the `--endpoint-url` of the aws CLI);
    /// `None` on a node without the control role.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// The address invoke URLs are served on; `None` on a node without the gateway role.
    pub fn gateway_addr(&self) -> Option<SocketAddr> {
        self.gateway_addr
    }

    /// Where the gateway serves HTTPS, if it does (`gateway_tls_listen`).
    pub fn gateway_tls_addr(&self) -> Option<SocketAddr> {
        self.gateway_tls_addr
    }

    /// Where NLB nodes dial in, if the link listener runs.
    pub fn link_addr(&self) -> Option<SocketAddr> {
        self.link_server.as_ref().map(|s| s.local_addr())
    }

    /// The link listener's certificate (PEM), which nodes are given to check the gateway.
    pub fn link_certificate(&self) -> &std::path::Path {
        &self.link_certificate
    }

    /// The in-process network load balancer engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The control plane, for in-process callers.
    pub fn control(&self) -> &Arc<Control> {
        &self.control
    }

    /// Stops accepting, lets in-flight requests finish and closes the store. When it returns,
    /// the data folder is free for another server.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(tx) = self.gateway_shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.admin_task.take() {
            let _ = task.await;
        }
        if let Some(task) = self.gateway_task.take() {
            let _ = task.await;
        }
        self.gateway_updates.abort();
        if let Some(task) = self.follow_task.take() {
            task.abort();
        }
        drop(self.watcher.take());
        self.plan_task.abort();
        self.plan_push_task.abort();
        // The tunnels this process held go with it.
        {
            let (control, instance) = (self.control.clone(), self.instance.clone());
            let withdrawn =
                tokio::task::spawn_blocking(move || control.announce_tunnels(&instance, &[], 0))
                    .await;
            if let Ok(Err(error)) = withdrawn {
                tracing::warn!(%error, "cannot withdraw this node's tunnels");
            }
        }
        if let Some(link) = self.link_server.take() {
            link.shutdown().await;
        }
        self.engine.shutdown();
        // The last counts go to the store before it closes.
        self.usage_task.abort();
        let _ = (&mut self.usage_task).await;
        for task in [self.credentials_task.take(), self.waf_task.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
            let _ = task.await;
        }
        let unsaved = flush_usage(&self.control, &*self.limiter, Vec::new()).await;
        if !unsaved.is_empty() {
            tracing::error!(days = unsaved.len(), "quota usage not saved at shutdown");
        }
        // Connection tasks and blocking jobs that are still finishing hold clones of the
        // control plane, and with it the store's lock on the data folder. Wait for them, so
        // that a server started next on the same folder does not find it locked.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut control = self.control;
        loop {
            match Arc::try_unwrap(control) {
                Ok(last) => {
                    drop(last);
                    return;
                }
                Err(shared) if tokio::time::Instant::now() >= deadline => {
                    tracing::warn!(
                        users = Arc::strong_count(&shared),
                        "control plane still in use 30 s after shutdown; leaving it to its users"
                    );
                    return;
                }
                Err(shared) => {
                    control = shared;
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
        }
    }
}

/// This node's id among nodes sharing a store, kept in `{data_dir}/node-id` (made once).
/// The endpoints AWS integrations call: the configured ones, with S3 at `--s3-endpoint`
/// unless an endpoint of S3's own was given.
fn aws_services(config: &Config) -> Option<causeway_gateway::aws::AwsServices> {
    let mut services = config.aws_services.clone();
    if let Some(endpoint) = &config.s3_endpoint
        && let Ok(url) = causeway_gateway::endpoint::HttpUrl::parse(&endpoint.url)
    {
        services
            .get_or_insert_with(|| {
                causeway_gateway::aws::AwsServices::new(
                    causeway_gateway::aws::AwsCredentials::from_environment()
                        .unwrap_or_else(causeway_gateway::aws::AwsCredentials::emulator),
                )
            })
            .set_if_absent("s3", url);
    }
    services
}

fn node_id(data_dir: &std::path::Path) -> std::io::Result<String> {
    let path = data_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.write_u32(std::process::id());
    let id = format!("{:016x}", hasher.finish());
    std::fs::create_dir_all(data_dir)?;
    std::fs::write(&path, &id)?;
    Ok(id)
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

fn local_addr(listener: &TcpListener, asked: SocketAddr) -> Result<SocketAddr, StartError> {
    listener.local_addr().map_err(|source| StartError::Bind {
        addr: asked,
        source,
    })
}

/// Brings the control plane up to each revision the store watcher reports (other nodes'
/// writes), which publishes the new plans to this node's gateway and engine.
async fn follow_store(control: Arc<Control>, mut revisions: tokio::sync::watch::Receiver<u64>) {
    while revisions.changed().await.is_ok() {
        let revision = *revisions.borrow_and_update();
        let control = control.clone();
        match tokio::task::spawn_blocking(move || control.refresh()).await {
            Ok(Ok(true)) => tracing::debug!(revision, "configuration reloaded from the store"),
            Ok(Ok(false)) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, revision, "cannot reload the configuration from the store");
            }
            Err(error) => tracing::error!(%error, "reloading the configuration failed"),
        }
    }
}

/// Settles VPC links that are `PENDING`, and keeps links in step with their load balancers.
/// A link's status changes only with the configuration (the gateway plan: links, load
/// balancers, nodes) or with the engine's view of a load balancer (`engine_applied`, counted
/// after each plan the engine applies), so the loop waits on those and looks at memory
/// first: the blocking thread, which may write to the store, runs only when a link would
/// change. Links to load balancers that NLB nodes run elsewhere follow tunnels and other
/// processes' announcements, which nothing here signals: while there are any, the loop also
/// looks four times a second. A server with settled links, or none, does not wake for them.
async fn reconcile_loop(
    control: Arc<Control>,
    mut engine_applied: tokio::sync::watch::Receiver<u64>,
    mut tunnels: tokio::sync::watch::Receiver<Arc<std::collections::BTreeSet<String>>>,
) {
    let mut changes = control.subscribe_gateway_plan();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Seen before the looks below, so that a change after them wakes the waits.
        changes.borrow_and_update();
        engine_applied.borrow_and_update();
        tunnels.borrow_and_update();
        if !control.has_vpc_links() {
            if changes.changed().await.is_err() {
                return;
            }
            continue;
        }
        let look = control.vpc_link_look();
        if let VpcLinkLook::Settle = look {
            let control = control.clone();
            let _ = tokio::task::spawn_blocking(move || control.reconcile_vpc_links()).await;
            // After a round of settling (which a busy or unreadable store may leave undone,
            // and which links to load balancers that other processes' NLB nodes serve need
            // again as those processes' announcements come and go): the next look waits for
            // the tick.
            tick.tick().await;
            continue;
        }
        // Settled. Links to load balancers of NLB nodes whose tunnels end here (`Watch`)
        // change when a tunnel comes or goes, which the registry signals; the others when
        // the plan or the engine does.
        let watch_tunnels = matches!(look, VpcLinkLook::Watch);
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            changed = engine_applied.changed() => if changed.is_err() { return },
            changed = tunnels.changed(), if watch_tunnels => if changed.is_err() { return },
        }
    }
}

/// Serves the control plane on `listener` until `shutdown` resolves, then lets requests in
/// flight finish (up to 30 s). A client gets `head_timeout` to send each request head, as on
/// the invoke listener: one that sends half a head does not hold its connection forever.
/// (`axum::serve` sets no timer, so hyper could not time heads out.)
async fn serve_admin(
    listener: TcpListener,
    app: axum::Router,
    head_timeout: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(head_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "admin accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                let connection =
                    builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "admin connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
            tracing::warn!("admin connections still open 30 s after shutdown");
        }
    }
}

/// Writes the quota usage counted since the last flush, every `interval`. Counts whose write
/// failed are kept and written with the next batch.
async fn flush_usage_loop(
    control: Arc<Control>,
    limiter: Arc<dyn Limiter>,
    interval: std::time::Duration,
) {
    let mut changes = control.subscribe_gateway_plan();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending = Vec::new();
    loop {
        // Without a usage plan no request is counted: once what was counted before the last
        // plan went is written, the loop sleeps until the configuration changes, so that an
        // idle server does not wake for it. (Shutdown writes what is left, as always.)
        changes.borrow_and_update();
        if pending.is_empty() && !control.has_usage_plans() {
            pending = flush_usage(&control, &*limiter, pending).await;
            if pending.is_empty() {
                if changes.changed().await.is_err() {
                    return;
                }
                continue;
            }
        }
        tick.tick().await;
        pending = flush_usage(&control, &*limiter, pending).await;
    }
}

/// Drains the limiter and writes `pending` plus what it held; returns what could not be
/// written. Records carry absolute counts, so writing an older one before a newer one of the
/// same day is harmless.
async fn flush_usage(
    control: &Arc<Control>,
    limiter: &dyn Limiter,
    mut pending: Vec<UsageRecord>,
) -> Vec<UsageRecord> {
    pending.extend(limiter.drain_dirty());
    if pending.is_empty() {
        return pending;
    }
    let control = control.clone();
    let saved = tokio::task::spawn_blocking(move || {
        let result = control.save_usage(&pending);
        (result, pending)
    })
    .await;
    match saved {
        Ok((Ok(()), _)) => Vec::new(),
        Ok((Err(error), pending)) => {
            tracing::error!(%error, "could not save quota usage; retrying with the next batch");
            pending
        }
        Err(error) => {
            tracing::error!(%error, "saving quota usage failed");
            Vec::new()
        }
    }
}

/// The engine, the gateway, its limiter and the tunnel as the control plane sees them.
struct DataPlaneView {
    engine: Arc<Engine>,
    gateway: Arc<Gateway>,
    limiter: Arc<dyn Limiter>,
    registry: causeway_link::tunnel::Registry,
    node_reports: link::NodeReports,
}

impl std::fmt::Debug for DataPlaneView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPlaneView").finish_non_exhaustive()
    }
}

impl DataPlane for DataPlaneView {
    fn load_balancer_status(&self, arn: &str) -> Option<LoadBalancerStatus> {
        // A load balancer a node runs: what the node reported.
        match self.node_reports.load_balancer_status(arn) {
            Some(status) => status,
            None => self.engine.load_balancer_status(arn),
        }
    }

    fn target_health(&self, target_group_arn: &str) -> Vec<TargetHealthReport> {
        self.node_reports
            .target_health(target_group_arn)
            .unwrap_or_else(|| self.engine.target_health(target_group_arn))
    }

    fn test_invoke(&self, call: TestInvoke) -> TestInvokeFuture {
        let gateway = self.gateway.clone();
        Box::pin(async move { gateway.test_invoke(call).await })
    }

    fn test_authorizer(
        &self,
        call: causeway_model::gateway::TestAuthorizer,
    ) -> causeway_control::dataplane::TestAuthorizerFuture {
        let gateway = self.gateway.clone();
        Box::pin(async move { gateway.test_authorizer(call).await })
    }

    fn limiter(&self) -> Option<&dyn Limiter> {
        Some(&*self.limiter)
    }

    fn quota_today(&self) -> Option<causeway_limits::Day> {
        Some(self.gateway.clock().now().today)
    }

    fn flush_stage_cache(&self, api_id: &str, stage: &str) {
        let flushed = self.gateway.flush_stage_cache(api_id, stage);
        tracing::info!(api = %api_id, stage = %stage, flushed, "stage cache flush");
    }

    fn revoke_node(&self, node_id: &str) {
        let dropped = self.registry.revoke(node_id);
        tracing::info!(node = %node_id, dropped, "NLB node revoked");
    }

    fn node_connected(&self, load_balancer_arn: &str) -> bool {
        self.registry.is_connected(load_balancer_arn)
    }
}

/// Reads the credentials file again whenever its modification time or length changes: a file
/// that reads replaces the identities in force; one that does not leaves them as they were,
/// with the reason in the log.
async fn reload_credentials(
    path: PathBuf,
    credentials: Arc<causeway_sigv4::Credentials>,
    account_id: String,
) {
    let stamp = |path: &PathBuf| {
        std::fs::metadata(path)
            .ok()
            .map(|m| (m.modified().ok(), m.len()))
    };
    let mut seen = stamp(&path);
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        ticker.tick().await;
        let now = stamp(&path);
        if now == seen {
            continue;
        }
        seen = now;
        // A small file: read on the runtime's thread, as the stat above is.
        let read = std::fs::read_to_string(&path)
            .map_err(|error| error.to_string())
            .and_then(|text| {
                causeway_sigv4::Keyring::from_credentials_file(&text, &account_id)
                    .map_err(|error| error.to_string())
            });
        match read {
            Ok(keyring) => {
                tracing::info!(
                    file = %path.display(),
                    identities = keyring.len(),
                    "credentials file read again"
                );
                credentials.replace(keyring);
            }
            Err(error) => tracing::warn!(
                file = %path.display(),
                %error,
                "credentials file changed but cannot be used; the identities read before stay in force"
            ),
        }
    }
}
