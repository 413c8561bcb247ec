//! `causeway nlb-node`: runs network load balancers inside a private network. It dials out
//! to the gateway's link listener (no inbound port), receives the plans of the load
//! balancers it was admitted for, runs them in its own engine (listeners and health checks
//! in this network), and carries each tunnel stream to the listener it names.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use causeway_link::tunnel::{ClientStatus, ConnectError, Target, TunnelClient, TunnelClientConfig};
use causeway_model::elb::{NlbPlan, NodeReport};
use causeway_nlb::{Engine, EngineConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use crate::link::{MAX_PLAN_BYTES, PLAN_PORT};

/// What a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The gateway's link listener, `host:port`.
    pub gateway: String,
    /// The name the gateway's certificate carries (`localhost` for the generated one).
    pub server_name: String,
    /// The gateway's certificate (`{data-dir}/link/cert.pem`), PEM.
    pub ca_pem: Vec<u8>,
    pub node_id: String,
    pub token: String,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("invalid gateway certificate: {0}")]
    Certificate(String),
    #[error("invalid gateway name '{0}'")]
    ServerName(String),
}

/// A running node.
#[derive(Debug)]
pub struct Node {
    engine: Arc<Engine>,
    client: TunnelClient,
}

impl Node {
    /// Starts the engine and the tunnel client.
    pub fn start(config: NodeConfig) -> Result<Node, NodeError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&config.ca_pem) {
            let cert = cert.map_err(|e| NodeError::Certificate(e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| NodeError::Certificate(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(NodeError::Certificate("no certificate found".to_owned()));
        }
        let tls = causeway_link::tls::verified(roots)
            .map_err(|e| NodeError::Certificate(e.to_string()))?;
        let server_name = ServerName::try_from(config.server_name.clone())
            .map_err(|_| NodeError::ServerName(config.server_name.clone()))?;
        let engine = Arc::new(Engine::new(EngineConfig::default()));
        let plans: Arc<Mutex<BTreeMap<String, NlbPlan>>> = Arc::default();
        let connector = {
            let engine = engine.clone();
            let plans = plans.clone();
            move |target: Target| {
                let engine = engine.clone();
                let plans = plans.clone();
                async move { connect(target, &engine, &plans).await }
            }
        };
        let client = TunnelClient::start(
            TunnelClientConfig::new(
                config.gateway,
                server_name,
                Arc::new(tls),
                config.node_id,
                config.token,
            ),
            connector,
        );
        Ok(Node { engine, client })
    }

    /// The tunnel's state: connections up, the last error.
    pub fn status(&self) -> watch::Receiver<ClientStatus> {
        self.client.status()
    }

    /// The node's engine (its load balancers' live state).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Stops the tunnel and the load balancers.
    pub fn shutdown(self) {
        drop(self.client);
        self.engine.shutdown();
    }
}

/// A tunnel stream's local end: a listener connection, or the plan channel.
#[derive(Debug)]
pub enum Local {
    Listener(TcpStream),
    Plan(DuplexStream),
}

async fn connect(
    target: Target,
    engine: &Arc<Engine>,
    plans: &Arc<Mutex<BTreeMap<String, NlbPlan>>>,
) -> Result<Local, ConnectError> {
    if target.port == PLAN_PORT {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        tokio::spawn(receive_plans(
            ours,
            target.nlb,
            engine.clone(),
            plans.clone(),
        ));
        return Ok(Local::Plan(theirs));
    }
    let address = {
        let plans = plans.lock().map_err(|_| ConnectError::NotServed)?;
        let plan = plans.get(&target.nlb).ok_or(ConnectError::NotServed)?;
        let lb = plan
            .load_balancers
            .iter()
            .find(|lb| lb.arn == target.nlb)
            .ok_or(ConnectError::NotServed)?;
        if !lb.listeners.iter().any(|l| l.port == target.port) {
            return Err(ConnectError::NotServed);
        }
        lb.address.clone()
    };
    let ip: std::net::IpAddr = address
        .parse()
        .map_err(|_| ConnectError::Unreachable(io::Error::other("bad load balancer address")))?;
    let stream = TcpStream::connect((ip, target.port))
        .await
        .map_err(ConnectError::Unreachable)?;
    let _ = stream.set_nodelay(true);
    Ok(Local::Listener(stream))
}

/// Reads plan documents for one load balancer and runs the union of all plans; meanwhile
/// reports the load balancer's state and its targets' health back every second.
async fn receive_plans(
    stream: DuplexStream,
    arn: String,
    engine: Arc<Engine>,
    plans: Arc<Mutex<BTreeMap<String, NlbPlan>>>,
) {
    let (mut stream, writer) = tokio::io::split(stream);
    let reporter = tokio::spawn(report(writer, arn.clone(), engine.clone(), plans.clone()));
    read_plans(&mut stream, &arn, &engine, &plans).await;
    reporter.abort();
}

async fn report(
    mut writer: tokio::io::WriteHalf<DuplexStream>,
    arn: String,
    engine: Arc<Engine>,
    plans: Arc<Mutex<BTreeMap<String, NlbPlan>>>,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut last: Option<NodeReport> = None;
    loop {
        tick.tick().await;
        let groups: Vec<String> = match plans.lock() {
            Ok(plans) => plans
                .get(&arn)
                .map(|plan| plan.target_groups.iter().map(|tg| tg.arn.clone()).collect())
                .unwrap_or_default(),
            Err(_) => return,
        };
        let now = NodeReport {
            load_balancer: engine.load_balancer_status(&arn),
            target_health: groups
                .into_iter()
                .map(|tg| {
                    let health = engine.target_health(&tg);
                    (tg, health)
                })
                .collect(),
        };
        if last.as_ref() == Some(&now) {
            continue;
        }
        if crate::link::write_frame(&mut writer, &now).await.is_err() {
            return;
        }
        last = Some(now);
    }
}

async fn read_plans(
    stream: &mut tokio::io::ReadHalf<DuplexStream>,
    arn: &str,
    engine: &Arc<Engine>,
    plans: &Arc<Mutex<BTreeMap<String, NlbPlan>>>,
) {
    loop {
        let mut len = [0u8; 4];
        if stream.read_exact(&mut len).await.is_err() {
            return;
        }
        let len = u32::from_be_bytes(len);
        if len > MAX_PLAN_BYTES {
            tracing::error!(%arn, len, "plan too large; closing the plan stream");
            return;
        }
        let mut body = vec![0u8; len as usize];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let plan: NlbPlan = match serde_json::from_slice(&body) {
            Ok(plan) => plan,
            Err(error) => {
                tracing::error!(%arn, %error, "unreadable plan; closing the plan stream");
                return;
            }
        };
        let merged = {
            let Ok(mut all) = plans.lock() else {
                return;
            };
            all.insert(arn.to_owned(), plan);
            merge(all.values())
        };
        tracing::info!(%arn, "plan received");
        engine.apply(&merged);
    }
}

/// One plan from several: every load balancer, each target group once.
fn merge<'a>(plans: impl Iterator<Item = &'a NlbPlan>) -> NlbPlan {
    let mut merged = NlbPlan::default();
    for plan in plans {
        for lb in &plan.load_balancers {
            if !merged.load_balancers.iter().any(|l| l.arn == lb.arn) {
                merged.load_balancers.push(lb.clone());
            }
        }
        for tg in &plan.target_groups {
            match merged.target_groups.iter_mut().find(|t| t.arn == tg.arn) {
                // In use through any of the load balancers.
                Some(existing) => existing.in_use |= tg.in_use,
                None => merged.target_groups.push(tg.clone()),
            }
        }
    }
    merged
}

impl AsyncRead for Local {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Local::Listener(s) => Pin::new(s).poll_read(cx, buf),
            Local::Plan(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Local {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Local::Listener(s) => Pin::new(s).poll_write(cx, buf),
            Local::Plan(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Local::Listener(s) => Pin::new(s).poll_flush(cx),
            Local::Plan(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Local::Listener(s) => Pin::new(s).poll_shutdown(cx),
            Local::Plan(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
