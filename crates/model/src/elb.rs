//! Network load balancers as the Elastic Load Balancing v2 API describes them: load
//! balancers, target groups, targets and listeners, with their attributes and defaults.
//!
//! These are also the persisted form (JSON in the store), like the API Gateway entities.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Tags in the order they were added (ELBv2 returns them as a list).
pub type TagList = Vec<(String, String)>;

/// A network load balancer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    pub dns_name: String,
    /// Epoch milliseconds.
    pub created_time: i64,
    /// `internal` or `internet-facing`.
    pub scheme: String,
    pub vpc_id: String,
    pub state: LoadBalancerState,
    /// Failure reason when `state` is `failed` (a port that could not be bound, ...).
    #[serde(default)]
    pub state_reason: Option<String>,
    pub subnets: Vec<String>,
    /// The Availability Zone of each subnet, as an index (0 is `{region}a`), once SetSubnets
    /// changed the subnets: a subnet keeps its zone, and a new one takes a free zone. Empty
    /// until then, when the subnets are in zones a, b, c, ... in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<u32>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// `ipv4` or `dualstack`.
    pub ip_address_type: String,
    /// `on` / `off`; present only when the NLB was created with security groups.
    #[serde(default)]
    pub enforce_security_group_inbound_rules_on_private_link_traffic: Option<String>,
    /// The address its listeners bind, inside its network (a loopback address in the
    /// all-in-one server).
    pub address: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: TagList,
    /// Its LCU reservation (ModifyCapacityReservation), if one was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityReservation>,
}

/// A load balancer's capacity reservation: the minimum capacity units asked for, when it
/// last changed, and when it was decreased (AWS allows two decreases a day).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityReservation {
    /// The minimum capacity units; `None` once reset.
    #[serde(default)]
    pub units: Option<u32>,
    /// Epoch milliseconds of the last change.
    pub modified: i64,
    /// Epoch seconds of each decrease.
    #[serde(default)]
    pub decreases: Vec<i64>,
}

/// The decreases of a capacity reservation allowed in one (UTC) day.
pub const CAPACITY_DECREASES_PER_DAY: usize = 2;

impl CapacityReservation {
    /// The decreases still allowed on the UTC day of `now` (epoch seconds).
    pub fn decreases_remaining(&self, now: i64) -> usize {
        let day = now.div_euclid(86_400);
        let today = self
            .decreases
            .iter()
            .filter(|at| at.div_euclid(86_400) == day)
            .count();
        CAPACITY_DECREASES_PER_DAY.saturating_sub(today)
    }
}

/// `State.Code` of a load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancerState {
    Provisioning,
    Active,
    ActiveImpaired,
    Failed,
}

impl LoadBalancerState {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadBalancerState::Provisioning => "provisioning",
            LoadBalancerState::Active => "active",
            LoadBalancerState::ActiveImpaired => "active_impaired",
            LoadBalancerState::Failed => "failed",
        }
    }
}

impl LoadBalancer {
    /// The zone index of each subnet (see [`LoadBalancer::zones`]).
    pub fn zone_indexes(&self) -> Vec<u32> {
        if self.zones.len() == self.subnets.len() {
            return self.zones.clone();
        }
        (0..self.subnets.len())
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect()
    }

    /// Replaces the subnets: the ones kept stay in their zones, new ones take the lowest
    /// free zones.
    pub fn set_subnets(&mut self, subnets: Vec<String>) {
        let current: Vec<(String, u32)> = self
            .subnets
            .iter()
            .cloned()
            .zip(self.zone_indexes())
            .collect();
        let mut used: Vec<u32> = subnets
            .iter()
            .filter_map(|s| current.iter().find(|(c, _)| c == s).map(|(_, z)| *z))
            .collect();
        let mut zones = Vec::with_capacity(subnets.len());
        for subnet in &subnets {
            let zone = match current.iter().find(|(c, _)| c == subnet) {
                Some((_, zone)) => *zone,
                None => {
                    let free = (0..).find(|z| !used.contains(z)).unwrap_or(0);
                    used.push(free);
                    free
                }
            };
            zones.push(zone);
        }
        self.subnets = subnets;
        self.zones = zones;
    }
}

/// The load balancer attributes an NLB has, with their defaults. `internal` decides the
/// default of `ipv6.deny_all_igw_traffic`.
pub fn default_load_balancer_attributes(internal: bool) -> BTreeMap<String, String> {
    [
        ("access_logs.s3.enabled", "false"),
        ("access_logs.s3.bucket", ""),
        ("access_logs.s3.prefix", ""),
        ("deletion_protection.enabled", "false"),
        ("load_balancing.cross_zone.enabled", "false"),
        (
            "ipv6.deny_all_igw_traffic",
            if internal { "true" } else { "false" },
        ),
        ("dns_record.client_routing_policy", "any_availability_zone"),
        ("zonal_shift.config.enabled", "false"),
        ("secondary_ips.auto_assigned.per_subnet", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A target group of a network load balancer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    /// `TCP`, `TLS`, `UDP`, `TCP_UDP`.
    pub protocol: String,
    pub port: u16,
    pub vpc_id: String,
    /// `ip` or `instance`.
    pub target_type: String,
    pub ip_address_type: String,
    pub health_check: HealthCheck,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub tags: TagList,
    /// Epoch milliseconds; orders listings.
    #[serde(default)]
    pub created_time: i64,
}

/// Active health check settings of a target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    pub enabled: bool,
    /// `TCP`, `HTTP` or `HTTPS`.
    pub protocol: String,
    /// A port number or `traffic-port`.
    pub port: String,
    /// For HTTP and HTTPS checks.
    #[serde(default)]
    pub path: Option<String>,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    /// HTTP codes counted as healthy (`200-399`, `200,202`); HTTP and HTTPS checks only.
    #[serde(default)]
    pub matcher: Option<String>,
}

impl HealthCheck {
    /// AWS's defaults for an NLB target group checked with `protocol`.
    pub fn defaults(protocol: &str) -> HealthCheck {
        let http = protocol == "HTTP" || protocol == "HTTPS";
        HealthCheck {
            enabled: true,
            protocol: protocol.to_owned(),
            port: "traffic-port".to_owned(),
            path: http.then(|| "/".to_owned()),
            interval_seconds: 30,
            timeout_seconds: if http { 6 } else { 10 },
            healthy_threshold: 5,
            unhealthy_threshold: 2,
            matcher: http.then(|| "200-399".to_owned()),
        }
    }
}

/// The target group attributes an NLB target group has, with their defaults.
pub fn default_target_group_attributes(
    protocol: &str,
    target_type: &str,
) -> BTreeMap<String, String> {
    let udp = protocol == "UDP" || protocol == "TCP_UDP";
    let preserve = if target_type == "ip" && (protocol == "TCP" || protocol == "TLS") {
        "false"
    } else {
        "true"
    };
    [
        ("deregistration_delay.timeout_seconds", "300"),
        (
            "deregistration_delay.connection_termination.enabled",
            if udp { "true" } else { "false" },
        ),
        ("preserve_client_ip.enabled", preserve),
        ("proxy_protocol_v2.enabled", "false"),
        ("stickiness.enabled", "false"),
        ("stickiness.type", "source_ip"),
        (
            "load_balancing.cross_zone.enabled",
            "use_load_balancer_configuration",
        ),
        (
            "target_health_state.unhealthy.connection_termination.enabled",
            "true",
        ),
        (
            "target_health_state.unhealthy.draining_interval_seconds",
            "0",
        ),
        (
            "target_group_health.dns_failover.minimum_healthy_targets.count",
            "1",
        ),
        (
            "target_group_health.dns_failover.minimum_healthy_targets.percentage",
            "off",
        ),
        (
            "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count",
            "1",
        ),
        (
            "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage",
            "off",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A registered target: an IP address (for `ip` targets) and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub id: String,
    pub port: u16,
    #[serde(default)]
    pub availability_zone: Option<String>,
}

/// A listener of a network load balancer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    pub arn: String,
    pub load_balancer_arn: String,
    pub port: u16,
    /// `TCP`, `TLS`, `UDP`, `TCP_UDP`.
    pub protocol: String,
    /// Forward actions; NLB listeners have exactly one default action.
    pub default_actions: Vec<ForwardAction>,
    #[serde(default)]
    pub ssl_policy: Option<String>,
    #[serde(default)]
    pub certificates: Vec<String>,
    #[serde(default)]
    pub alpn_policy: Vec<String>,
    /// Attributes set by ModifyListenerAttributes; see [`listener_attributes`] for the
    /// ones that apply.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: TagList,
}

/// The default TCP idle timeout of a network load balancer listener, in seconds: the
/// value of TCP listeners' `tcp.idle_timeout.seconds` until it is changed, and the fixed
/// timeout of TLS listeners.
pub const DEFAULT_TCP_IDLE_TIMEOUT_SECONDS: u32 = 350;

/// Whether listeners with `protocol` take `tcp.idle_timeout.seconds`: TCP listeners, and
/// the TCP side of TCP_UDP ones. TLS listeners' timeout is fixed at 350 s, UDP flows' at
/// 120 s.
pub fn has_tcp_idle_timeout(protocol: &str) -> bool {
    protocol == "TCP" || protocol == "TCP_UDP"
}

/// A listener's attributes, defaults included: `tcp.idle_timeout.seconds` for TCP and
/// TCP_UDP listeners, none for the others. A value set while the listener had another
/// protocol applies again only when the protocol takes it.
pub fn listener_attributes(listener: &Listener) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    if has_tcp_idle_timeout(&listener.protocol) {
        let key = "tcp.idle_timeout.seconds";
        let value = listener
            .attributes
            .get(key)
            .cloned()
            .unwrap_or_else(|| DEFAULT_TCP_IDLE_TIMEOUT_SECONDS.to_string());
        all.insert(key.to_owned(), value);
    }
    all
}

/// A `forward` action to one or more weighted target groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardAction {
    /// `forward` (the only action NLB listeners take).
    pub kind: String,
    /// Set when the action named a single target group directly.
    #[serde(default)]
    pub target_group_arn: Option<String>,
    /// Weighted target groups (`ForwardConfig`).
    #[serde(default)]
    pub target_groups: Vec<(String, Option<i32>)>,
}

impl ForwardAction {
    /// The target group that receives the traffic: the direct one, or the first weighted one.
    pub fn target_group(&self) -> Option<&str> {
        self.target_group_arn
            .as_deref()
            .or_else(|| self.target_groups.first().map(|(arn, _)| arn.as_str()))
    }
}

/// Health of a target as `DescribeTargetHealth` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetHealthState {
    Initial,
    Healthy,
    Unhealthy,
    Unused,
    Draining,
    Unavailable,
}

impl TargetHealthState {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetHealthState::Initial => "initial",
            TargetHealthState::Healthy => "healthy",
            TargetHealthState::Unhealthy => "unhealthy",
            TargetHealthState::Unused => "unused",
            TargetHealthState::Draining => "draining",
            TargetHealthState::Unavailable => "unavailable",
        }
    }
}

/// What the load balancing engine knows of one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetHealthReport {
    pub target: Target,
    pub state: TargetHealthState,
    /// AWS reason code (`Elb.InitialHealthChecking`, `Target.FailedHealthChecks`, ...).
    pub reason: Option<String>,
    pub description: Option<String>,
}

/// What the load balancing engine knows of one load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerStatus {
    pub state: LoadBalancerState,
    pub reason: Option<String>,
}

/// What an NLB node reports of one load balancer it runs: its state and the health of the
/// targets of the target groups its listeners forward to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeReport {
    pub load_balancer: Option<LoadBalancerStatus>,
    /// By target group ARN.
    pub target_health: std::collections::BTreeMap<String, Vec<TargetHealthReport>>,
}

/// Everything the load balancing engine must run: derived from the stored load balancers,
/// listeners and target groups, swapped in whole whenever one of them changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NlbPlan {
    pub load_balancers: Vec<LoadBalancerPlan>,
    pub target_groups: Vec<TargetGroupPlan>,
}

/// One load balancer: the address it owns and its listeners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerPlan {
    pub arn: String,
    pub dns_name: String,
    pub address: String,
    pub listeners: Vec<ListenerPlan>,
}

/// One listener: the port it binds on its load balancer's address and where it forwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerPlan {
    pub arn: String,
    pub port: u16,
    pub protocol: String,
    pub target_group_arn: Option<String>,
    /// For a TLS listener whose certificates were imported into ACM: how it terminates
    /// TLS. `None` for other listeners, and for TLS listeners whose certificate is not
    /// imported here, which pass the TLS stream through to the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ListenerTls>,
    /// The idle timeout of its TCP connections, in milliseconds (from a TCP listener's
    /// `tcp.idle_timeout.seconds`); `None` leaves the engine's default (350 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_millis: Option<u64>,
}

/// How a TLS listener terminates TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerTls {
    /// The listener's certificates, the default first, each with the names it covers (the
    /// one a client's server name matches is served, else the default).
    pub certificates: Vec<ListenerCertificate>,
    /// ALPN protocols offered, in order (from the listener's ALPN policy; none by default).
    #[serde(default)]
    pub alpn: Vec<String>,
    /// The TLS versions its security policy allows (`TLSv1.2`, `TLSv1.3`, ...); empty
    /// allows every version the engine speaks.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// The ciphers its security policy allows, the first preferred (OpenSSL names, IANA
    /// names for TLS 1.3); empty allows every cipher the engine has.
    #[serde(default)]
    pub ciphers: Vec<String>,
}

/// One certificate of a TLS listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerCertificate {
    /// The DNS names it covers (`*.` names cover one label).
    pub names: Vec<String>,
    pub certificate: crate::gateway::ServingCertificate,
}

/// One target group: its targets and the behaviour its attributes ask for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupPlan {
    pub arn: String,
    pub port: u16,
    /// A TLS target group: behind a listener that terminates TLS, connections to its
    /// targets are TLS again.
    #[serde(default)]
    pub tls: bool,
    pub targets: Vec<Target>,
    pub health_check: HealthCheck,
    pub proxy_protocol_v2: bool,
    pub deregistration_delay_seconds: u32,
    pub terminate_on_deregistration: bool,
    /// Whether a listener forwards to it (else its targets are `unused`).
    pub in_use: bool,
}

/// The ALPN protocols a listener's ALPN policy offers.
fn alpn(policy: &[String]) -> Vec<String> {
    match policy.first().map(String::as_str) {
        Some("HTTP1Only") => vec!["http/1.1".to_owned()],
        Some("HTTP2Only") => vec!["h2".to_owned()],
        Some("HTTP2Optional") => vec!["http/1.1".to_owned(), "h2".to_owned()],
        Some("HTTP2Preferred") => vec!["h2".to_owned(), "http/1.1".to_owned()],
        _ => Vec::new(),
    }
}

/// Builds the engine's plan from the stored configuration. `certificate` gives the
/// certificate an ARN names (imported into ACM) and the names it covers.
pub fn plan<'a>(
    load_balancers: impl IntoIterator<Item = &'a LoadBalancer>,
    listeners: impl IntoIterator<Item = &'a Listener> + Clone,
    target_groups: impl IntoIterator<Item = &'a TargetGroup>,
    certificate: &dyn Fn(&str) -> Option<ListenerCertificate>,
) -> NlbPlan {
    let load_balancers: Vec<LoadBalancerPlan> = load_balancers
        .into_iter()
        .map(|lb| LoadBalancerPlan {
            arn: lb.arn.clone(),
            dns_name: lb.dns_name.clone(),
            address: lb.address.clone(),
            listeners: listeners
                .clone()
                .into_iter()
                .filter(|l| l.load_balancer_arn == lb.arn)
                .map(|l| ListenerPlan {
                    arn: l.arn.clone(),
                    port: l.port,
                    protocol: l.protocol.clone(),
                    target_group_arn: l
                        .default_actions
                        .first()
                        .and_then(|a| a.target_group())
                        .map(str::to_owned),
                    tls: (l.protocol == "TLS")
                        .then(|| {
                            // Every certificate must be known: a listener half served
                            // would answer some names with the wrong certificate.
                            let certificates = l
                                .certificates
                                .iter()
                                .map(|arn| certificate(arn))
                                .collect::<Option<Vec<_>>>()?;
                            // A listener stored before policies were checked may name an
                            // unknown one: it gets the default.
                            let policy = l
                                .ssl_policy
                                .as_deref()
                                .and_then(crate::elb_ssl::find)
                                .or_else(|| {
                                    crate::elb_ssl::find(crate::elb_ssl::DEFAULT_SSL_POLICY)
                                })?;
                            (!certificates.is_empty()).then(|| ListenerTls {
                                certificates,
                                alpn: alpn(&l.alpn_policy),
                                protocols: policy.ssl_protocols.clone(),
                                ciphers: policy.ciphers.clone(),
                            })
                        })
                        .flatten(),
                    idle_timeout_millis: listener_attributes(l)
                        .get("tcp.idle_timeout.seconds")
                        .and_then(|seconds| seconds.parse::<u64>().ok())
                        .map(|seconds| seconds.saturating_mul(1000)),
                })
                .collect(),
        })
        .collect();
    let target_groups = target_groups
        .into_iter()
        .map(|tg| {
            let attribute = |key: &str| tg.attributes.get(key).map(String::as_str);
            TargetGroupPlan {
                arn: tg.arn.clone(),
                port: tg.port,
                tls: tg.protocol == "TLS",
                targets: tg.targets.clone(),
                health_check: tg.health_check.clone(),
                proxy_protocol_v2: attribute("proxy_protocol_v2.enabled") == Some("true"),
                deregistration_delay_seconds: attribute("deregistration_delay.timeout_seconds")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(300),
                terminate_on_deregistration: attribute(
                    "deregistration_delay.connection_termination.enabled",
                ) == Some("true"),
                in_use: load_balancers.iter().any(|lb| {
                    lb.listeners
                        .iter()
                        .any(|l| l.target_group_arn.as_deref() == Some(tg.arn.as_str()))
                }),
            }
        })
        .collect();
    NlbPlan {
        load_balancers,
        target_groups,
    }
}
