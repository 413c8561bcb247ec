//! `causeway nlb-node`: runs network load balancers inside a private network. It dials out
//! to the link listener of each gateway node (no inbound port), receives the plans of the load
//! balancers it was admitted for, runs them in its own engine (listeners and health checks
//! in this network), and carries each tunnel stream to the listener it names.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use causeway_link::tunnel::{
    ClientStatus, ConnectError, Connector, Target, TunnelClient, TunnelClientConfig, TunnelStream,
};
use causeway_model::elb::{NlbPlan, NodeReport};
use causeway_nlb::{Engine, EngineConfig};
use tokio::sync::watch;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use crate::link::PLAN_PORT;

/// What a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The link listener of each gateway node, `host:port`: the node keeps a tunnel to every
    /// one, so that each can reach its load balancers.
    pub gateways: Vec<String>,
    /// The name the gateways' certificates carry (`localhost` for the generated one).
    pub server_name: String,
    /// The gateways' certificates (`{data-dir}/link/cert.pem` of each), PEM, one after the
    /// other.
    pub ca_pem: Vec<u8>,
    pub node_id: String,
    pub token: String,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("no gateway to dial: give at least one")]
    NoGateway,
    #[error("invalid gateway certificate: {0}")]
    Certificate(String),
    #[error("invalid gateway name '{0}'")]
    ServerName(String),
}

/// A running node.
#[derive(Debug)]
pub struct Node {
    engine: Arc<Engine>,
    /// One per gateway, in the order given.
    clients: Vec<TunnelClient>,
}

impl Node {
    /// Starts the engine and the tunnel client.
    pub fn start(config: NodeConfig) -> Result<Node, NodeError> {
        if config.gateways.is_empty() {
            return Err(NodeError::NoGateway);
        }
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
        // Several nodes may serve one load balancer, possibly on one host.
        let engine = Arc::new(Engine::new(EngineConfig {
            reuse_port: true,
            ..EngineConfig::default()
        }));
        let plans: Arc<Mutex<BTreeMap<String, NlbPlan>>> = Arc::default();
        let connector = NodeConnector {
            engine: engine.clone(),
            plans,
        };
        let tls = Arc::new(tls);
        let clients = config
            .gateways
            .iter()
            .map(|gateway| {
                TunnelClient::start(
                    TunnelClientConfig::new(
                        gateway.clone(),
                        server_name.clone(),
                        tls.clone(),
                        config.node_id.clone(),
                        config.token.clone(),
                    ),
                    connector.clone(),
                )
            })
            .collect();
        Ok(Node { engine, clients })
    }

    /// The tunnel's state to the first gateway: connections up, the last error.
    pub fn status(&self) -> watch::Receiver<ClientStatus> {
        self.clients.first().map_or_else(
            || watch::channel(ClientStatus::default()).1,
            TunnelClient::status,
        )
    }

    /// The tunnels' states, one per gateway in the order given.
    pub fn statuses(&self) -> Vec<watch::Receiver<ClientStatus>> {
        self.clients.iter().map(TunnelClient::status).collect()
    }

    /// The node's engine (its load balancers' live state).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Stops the tunnel and the load balancers.
    pub fn shutdown(self) {
        drop(self.clients);
        self.engine.shutdown();
    }
}

/// Carries the node's tunnel streams: plan streams to [`receive_plans`], the others to the
/// load balancer engine. A stream goes to its load balancer in memory rather than through a
/// socket or pipe to the listener: same target choice, PROXY protocol, idle timeout and
/// draining, with no hop in between.
#[derive(Clone)]
struct NodeConnector {
    engine: Arc<Engine>,
    plans: Arc<Mutex<BTreeMap<String, NlbPlan>>>,
}

/// What a tunnel stream is for.
enum NodeStream {
    Plans,
    Balanced,
}

impl Connector for NodeConnector {
    type Stream = NodeStream;

    async fn connect(&self, target: &Target) -> Result<NodeStream, ConnectError> {
        if target.port == PLAN_PORT {
            return Ok(NodeStream::Plans);
        }
        if !self.engine.has_listener(&target.nlb, target.port) {
            return Err(ConnectError::NotServed);
        }
        Ok(NodeStream::Balanced)
    }

    async fn serve(&self, target: Target, local: NodeStream, tunnel: TunnelStream) {
        match local {
            NodeStream::Plans => {
                receive_plans(tunnel, target.nlb, self.engine.clone(), self.plans.clone()).await;
            }
            NodeStream::Balanced => {
                // Each stream reports its own client port, so the flow hash spreads streams
                // over the targets.
                let peer = causeway_nlb::in_memory_peer();
                if let Err(error) = self
                    .engine
                    .serve_stream(&target.nlb, target.port, tunnel, peer)
                    .await
                {
                    tracing::debug!(nlb = %target.nlb, port = target.port, %error, "tunnel stream ended with an error");
                }
            }
        }
    }
}

/// Reads plan documents for one load balancer and runs the union of all plans; meanwhile
/// reports the load balancer's state and its targets' health back every second.
async fn receive_plans(
    stream: TunnelStream,
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
    mut writer: tokio::io::WriteHalf<TunnelStream>,
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
    stream: &mut tokio::io::ReadHalf<TunnelStream>,
    arn: &str,
    engine: &Arc<Engine>,
    plans: &Arc<Mutex<BTreeMap<String, NlbPlan>>>,
) {
    loop {
        let plan: NlbPlan = match crate::link::read_frame(stream).await {
            Ok(Some(plan)) => plan,
            Ok(None) => return,
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
