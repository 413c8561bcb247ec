//! The Causeway network load balancer engine.
//!
//! The engine runs an [`NlbPlan`]: it binds every listener of every load balancer as a real
//! TCP socket on the load balancer's address, forwards each accepted connection to a target
//! of the listener's target group (chosen by a hash of the connection's addresses, among
//! healthy targets, or among all when none is healthy, as AWS fails open), checks targets'
//! health, and drains deregistered targets. A new plan is applied live: listeners that stay
//! keep their sockets, targets that stay keep their health, and established connections are
//! never cut by a configuration change.
//!
//! The hot path reads only immutable snapshots through `arc-swap`; the locks in this crate
//! are taken when a plan is applied and when health is reported, never per connection.

mod group;
pub mod health;
mod proxy;
pub mod proxy_protocol;
mod pump;
mod tls;
mod udp;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use causeway_model::elb::{LoadBalancerState, LoadBalancerStatus, NlbPlan, TargetHealthReport};
use tokio::task::JoinHandle;

use crate::group::Group;
pub use crate::proxy::Flow;

/// A client address for a connection handed to a load balancer in memory (a tunnel stream,
/// a gateway flow): `127.0.0.1` with a port cycling through the ephemeral range, so that the
/// flow hash spreads such connections over the targets as it does real clients.
pub fn in_memory_peer() -> SocketAddr {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    SocketAddr::new(
        IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        49_152 + (n % 16_384) as u16,
    )
}

/// Settings of the engine that are not part of the plan.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// Closes a proxied connection after this long without a byte in either direction,
    /// on listeners whose plan sets no idle timeout of its own (AWS: 350 s, fixed for TLS
    /// listeners; TCP listeners' plans carry their `tcp.idle_timeout.seconds`).
    pub idle_timeout: std::time::Duration,
    /// How long a connection attempt to a target may take.
    pub connect_timeout: std::time::Duration,
    /// Binds listeners with `SO_REUSEPORT`, so that several NLB nodes on one host can serve
    /// the same load balancer (the kernel spreads local connections over them). Off for the
    /// in-process engine, where a second process taking over a port would be a mistake.
    pub reuse_port: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            idle_timeout: std::time::Duration::from_secs(350),
            connect_timeout: std::time::Duration::from_secs(10),
            reuse_port: false,
        }
    }
}

/// The running load balancers.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    inner: Mutex<Running>,
    tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
}

#[derive(Debug, Default)]
struct Running {
    listeners: HashMap<String, RunningListener>,
    groups: HashMap<String, Arc<Group>>,
    status: HashMap<String, LoadBalancerStatus>,
    /// Load balancer DNS name → address, for callers that reach a load balancer by name.
    names: HashMap<String, IpAddr>,
    /// Load balancer ARN → address.
    addresses: HashMap<String, IpAddr>,
}

#[derive(Debug)]
struct RunningListener {
    bind: SocketAddr,
    route: Arc<ArcSwapOption<Group>>,
    /// The TLS it terminates (TLS listeners with imported certificates), read per
    /// connection.
    tls: proxy::Tls,
    /// The accept loop, for TCP, TLS and TCP_UDP listeners.
    tcp: Option<Serving>,
    /// The datagram loop, for UDP and TCP_UDP listeners.
    udp: Option<Serving>,
    /// The idle timeout of its TCP connections, in milliseconds, read when a connection
    /// is accepted (a changed timeout applies to new connections).
    idle: Arc<AtomicU64>,
}

/// A task serving a listener's socket. Dropping it stops the listener at once: connections
/// already accepted run in their own tasks and go on; a UDP listener's flows end with it.
#[derive(Debug)]
struct Serving {
    task: JoinHandle<()>,
    /// A second descriptor of a TCP listening socket. An aborted task drops its socket only
    /// when the runtime next gets to the task, which can be after the same port is bound
    /// again (a listener replaced in one plan, an engine restarted): the new bind would fail
    /// while the old socket still listens, and connections would queue on the old socket
    /// only to be reset. Shutting the socket down through this descriptor takes it out of
    /// the listening state before `drop` returns (connections waiting to be accepted are
    /// reset, as a close does), and the port can be bound again straight away.
    listening: Option<socket2::Socket>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(socket) = &self.listening {
            // Nothing more can be done if this fails: the task's own close follows.
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
        self.task.abort();
    }
}

impl RunningListener {
    fn new(bind: SocketAddr, route: Arc<ArcSwapOption<Group>>) -> Self {
        RunningListener {
            bind,
            route,
            tls: Arc::new(ArcSwapOption::empty()),
            tcp: None,
            udp: None,
            idle: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The idle timeout of its TCP connections.
    fn idle_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.idle.load(Ordering::Relaxed))
    }

    /// Opens the sockets `protocol` needs that are not open yet and closes the ones it no
    /// longer needs; a socket both need stays as it is.
    fn serve(&mut self, protocol: &str, config: &EngineConfig) -> std::io::Result<()> {
        let wants_tcp = protocol != "UDP";
        let wants_udp = protocol == "UDP" || protocol == "TCP_UDP";
        if !wants_tcp {
            self.tcp = None;
        }
        if !wants_udp {
            self.udp = None;
        }
        if wants_tcp && self.tcp.is_none() {
            let socket = proxy::bind(self.bind, config.reuse_port)?;
            let listening = socket2::SockRef::from(&socket).try_clone()?;
            self.tcp = Some(Serving {
                task: tokio::spawn(proxy::accept_loop(
                    socket,
                    self.route.clone(),
                    self.tls.clone(),
                    self.idle.clone(),
                    *config,
                )),
                listening: Some(listening),
            });
        }
        if wants_udp && self.udp.is_none() {
            let socket = udp::bind(self.bind, config.reuse_port)?;
            self.udp = Some(Serving {
                task: tokio::spawn(udp::serve(socket, self.route.clone())),
                listening: None,
            });
        }
        Ok(())
    }
}

impl Engine {
    /// An engine that runs nothing yet.
    pub fn new(config: EngineConfig) -> Engine {
        Engine {
            config,
            inner: Mutex::new(Running::default()),
            tls: health::insecure_tls(),
        }
    }

    /// Runs `plan`: binds new listeners, closes removed ones, re-points changed ones, and
    /// brings target groups in line (new targets start `initial`, removed ones drain).
    /// Must be called from within a Tokio runtime.
    pub fn apply(&self, plan: &NlbPlan) {
        let mut running = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let running = &mut *running;

        // Target groups first, so listeners can point at them.
        let mut groups = HashMap::new();
        for tg in &plan.target_groups {
            let group = match running.groups.remove(&tg.arn) {
                Some(group) => group,
                None => Arc::new(Group::new()),
            };
            group.update(tg, &self.tls);
            groups.insert(tg.arn.clone(), group);
        }
        for (_, gone) in running.groups.drain() {
            gone.retire();
        }
        running.groups = groups;

        // Listeners that leave the plan, or move, stop first, so that their ports are free
        // for the listeners that take them over.
        let wanted: HashMap<&str, (&str, u16)> = plan
            .load_balancers
            .iter()
            .flat_map(|lb| {
                lb.listeners
                    .iter()
                    .map(|l| (l.arn.as_str(), (lb.address.as_str(), l.port)))
            })
            .collect();
        running.listeners.retain(|arn, l| {
            wanted.get(arn.as_str()).is_some_and(|&(address, port)| {
                address.parse::<IpAddr>().ok() == Some(l.bind.ip()) && port == l.bind.port()
            })
        });

        let mut listeners = HashMap::new();
        let mut status = HashMap::new();
        let mut names = HashMap::new();
        let mut addresses = HashMap::new();
        for lb in &plan.load_balancers {
            let mut failures = Vec::new();
            let address: Option<IpAddr> = lb.address.parse().ok();
            if let Some(ip) = address {
                names.insert(lb.dns_name.to_ascii_lowercase(), ip);
                addresses.insert(lb.arn.clone(), ip);
            }
            for listener in &lb.listeners {
                let Some(ip) = address else {
                    failures.push(format!("address '{}' is not an IP address", lb.address));
                    continue;
                };
                let bind = SocketAddr::new(ip, listener.port);
                let group = listener
                    .target_group_arn
                    .as_ref()
                    .and_then(|arn| running.groups.get(arn).cloned());
                let existing = running.listeners.remove(&listener.arn);
                let mut running_listener = match existing {
                    Some(existing) if existing.bind == bind => {
                        existing.route.store(group);
                        existing
                    }
                    // A listener that moved stopped above.
                    _ => RunningListener::new(bind, Arc::new(ArcSwapOption::new(group))),
                };
                let idle = listener
                    .idle_timeout_millis
                    .map_or(self.config.idle_timeout, std::time::Duration::from_millis);
                running_listener.idle.store(
                    u64::try_from(idle.as_millis()).unwrap_or(u64::MAX),
                    Ordering::Relaxed,
                );
                // Termination changes only when the listener's certificates or TLS settings do.
                let current = running_listener.tls.load();
                if current.as_ref().map(|t| &t.plan) != listener.tls.as_ref() {
                    match listener.tls.as_ref().map(tls::termination).transpose() {
                        Ok(termination) => running_listener.tls.store(termination.map(Arc::new)),
                        Err(error) => {
                            running_listener.tls.store(None);
                            failures.push(format!(
                                "listener port {} cannot terminate TLS: {error}",
                                listener.port
                            ));
                            continue;
                        }
                    }
                }
                if let Err(error) = running_listener.serve(&listener.protocol, &self.config) {
                    failures.push(format!(
                        "listener port {} could not be bound on {ip}: {error}",
                        listener.port
                    ));
                    continue;
                }
                listeners.insert(listener.arn.clone(), running_listener);
            }
            let lb_status = if failures.is_empty() {
                LoadBalancerStatus {
                    state: LoadBalancerState::Active,
                    reason: None,
                }
            } else {
                tracing::warn!(load_balancer = %lb.arn, reasons = ?failures, "load balancer failed");
                LoadBalancerStatus {
                    state: LoadBalancerState::Failed,
                    reason: Some(failures.join("; ")),
                }
            };
            status.insert(lb.arn.clone(), lb_status);
        }
        // Listeners no longer in the plan are dropped here, which stops their accept loops.
        running.listeners = listeners;
        running.status = status;
        running.names = names;
        running.addresses = addresses;
    }

    /// The route of a load balancer's listener on `port`, the listener's address, the TLS
    /// it terminates, and the engine settings for a connection to it (its idle timeout).
    #[allow(clippy::type_complexity)]
    fn listener(
        &self,
        load_balancer_arn: &str,
        port: u16,
    ) -> Option<(
        Arc<ArcSwapOption<Group>>,
        SocketAddr,
        Option<Arc<tls::Termination>>,
        EngineConfig,
    )> {
        let running = self.lock();
        let ip = *running.addresses.get(load_balancer_arn)?;
        let bind = SocketAddr::new(ip, port);
        running
            .listeners
            .values()
            .find(|l| l.bind == bind)
            .map(|l| {
                let config = EngineConfig {
                    idle_timeout: l.idle_timeout(),
                    ..self.config
                };
                (l.route.clone(), bind, l.tls.load_full(), config)
            })
    }

    /// Whether a load balancer has a running listener on `port`.
    pub fn has_listener(&self, load_balancer_arn: &str, port: u16) -> bool {
        self.listener(load_balancer_arn, port).is_some()
    }

    /// Serves a connection that arrived some other way than the listener's socket (through
    /// the tunnel of an NLB node) exactly as the listener would: same target choice, PROXY
    /// protocol, idle timeout and draining. `peer` is the client address it reports.
    pub async fn serve_stream<S>(
        &self,
        load_balancer_arn: &str,
        port: u16,
        client: S,
        peer: SocketAddr,
    ) -> std::io::Result<()>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let (route, local, termination, config) =
            self.listener(load_balancer_arn, port).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no listener on port {port} of {load_balancer_arn}"),
                )
            })?;
        match termination {
            None => proxy::serve(client, peer, local, &route, &config).await,
            Some(termination) => {
                proxy::serve_terminated(client, peer, local, &route, &termination, &config).await
            }
        }
    }

    /// Opens a connection through a load balancer's listener on `port` for a client in this
    /// process (the gateway's VPC links), as the listener would for a connection from
    /// `peer`: same target choice, health, PROXY protocol and draining, without a socket
    /// pair between client and listener. See [`Flow`].
    pub async fn open(
        &self,
        load_balancer_arn: &str,
        port: u16,
        peer: SocketAddr,
    ) -> std::io::Result<Flow> {
        let (route, local, termination, config) =
            self.listener(load_balancer_arn, port).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    format!("no listener on port {port} of {load_balancer_arn}"),
                )
            })?;
        proxy::open_flow(peer, local, &route, termination, &config).await
    }

    /// The state of a load balancer, or `None` if no applied plan contained it.
    pub fn load_balancer_status(&self, arn: &str) -> Option<LoadBalancerStatus> {
        self.lock().status.get(arn).cloned()
    }

    /// The health of every target of a target group, draining ones included.
    pub fn target_health(&self, target_group_arn: &str) -> Vec<TargetHealthReport> {
        self.lock()
            .groups
            .get(target_group_arn)
            .map(|group| group.health_reports())
            .unwrap_or_default()
    }

    /// The address of the load balancer with this DNS name.
    pub fn resolve(&self, dns_name: &str) -> Option<IpAddr> {
        self.lock()
            .names
            .get(&dns_name.to_ascii_lowercase())
            .copied()
    }

    /// Stops every listener and health check. Established connections end with the runtime.
    pub fn shutdown(&self) {
        let mut running = self.lock();
        running.listeners.clear();
        for (_, group) in running.groups.drain() {
            group.retire();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}
