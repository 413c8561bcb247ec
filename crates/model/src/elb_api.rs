//! What the Elastic Load Balancing v2 API accepts for network load balancers: its error codes
//! and the rules on names, protocols, health checks, attributes and tags.
//!
//! The rules are pure functions over plain values, so each can be tested without a server;
//! the control plane calls them before it changes anything.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::elb::{HealthCheck, TagList};

/// The `Code` of an elbv2 error, as the SDKs match on it (the model's `error.code`, not the
/// shape name: `LoadBalancerNotFound`, never `LoadBalancerNotFoundException`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElbErrorCode {
    /// An ARN or name names no load balancer.
    LoadBalancerNotFound,
    /// An ARN or name names no target group.
    TargetGroupNotFound,
    /// An ARN names no listener.
    ListenerNotFound,
    /// A rule ARN was given; this server has no listener rules.
    RuleNotFound,
    /// A create named an existing load balancer with other settings.
    DuplicateLoadBalancerName,
    /// A create named an existing target group with other settings.
    DuplicateTargetGroupName,
    /// A listener already uses the port.
    DuplicateListener,
    /// The same tag key appears twice in one request.
    DuplicateTagKeys,
    /// More than 50 tags on one resource.
    TooManyTags,
    /// No address is left for another load balancer.
    TooManyLoadBalancers,
    /// Too many targets in one target group.
    TooManyTargets,
    /// Too many certificates on one load balancer's listeners.
    TooManyCertificates,
    /// Too many listeners on one load balancer.
    TooManyListeners,
    /// Too many target groups in the account.
    TooManyTargetGroups,
    /// A security policy name that names no policy.
    SslPolicyNotFound,
    /// A capacity reservation decreased more often than the day allows.
    CapacityDecreaseRequestLimitExceeded,
    /// A certificate ARN names no certificate in ACM.
    CertificateNotFound,
    /// The resource is used by another one (a target group by a listener).
    ResourceInUse,
    /// A target id is not valid for the target group.
    InvalidTarget,
    /// A parameter breaks a constraint of the API.
    ValidationError,
    /// The request is well formed but the configuration it asks for is not allowed.
    InvalidConfigurationRequest,
    /// The operation is forbidden in the resource's current configuration.
    OperationNotPermitted,
    /// A listener protocol and a target group protocol that cannot work together.
    IncompatibleProtocols,
    /// A protocol network load balancers do not offer.
    UnsupportedProtocol,
    /// A listener action network load balancers do not take.
    InvalidLoadBalancerAction,
    /// A target group already serves another load balancer.
    TargetGroupAssociationLimit,
    /// A security group id that is not well formed.
    InvalidSecurityGroup,
    /// A subnet id that is not well formed.
    SubnetNotFound,
    /// Several subnets in one Availability Zone, or another bad subnet combination.
    InvalidSubnet,
    /// `Action` names no operation of this service.
    InvalidAction,
    /// A required parameter is absent.
    MissingParameter,
    /// A fault of the server, never of the caller (HTTP 500).
    InternalFailure,
}

impl ElbErrorCode {
    /// The code as sent in `<Code>`.
    pub fn as_str(self) -> &'static str {
        match self {
            ElbErrorCode::LoadBalancerNotFound => "LoadBalancerNotFound",
            ElbErrorCode::TargetGroupNotFound => "TargetGroupNotFound",
            ElbErrorCode::ListenerNotFound => "ListenerNotFound",
            ElbErrorCode::RuleNotFound => "RuleNotFound",
            ElbErrorCode::DuplicateLoadBalancerName => "DuplicateLoadBalancerName",
            ElbErrorCode::DuplicateTargetGroupName => "DuplicateTargetGroupName",
            ElbErrorCode::DuplicateListener => "DuplicateListener",
            ElbErrorCode::DuplicateTagKeys => "DuplicateTagKeys",
            ElbErrorCode::TooManyTags => "TooManyTags",
            ElbErrorCode::TooManyLoadBalancers => "TooManyLoadBalancers",
            ElbErrorCode::TooManyTargets => "TooManyTargets",
            ElbErrorCode::TooManyCertificates => "TooManyCertificates",
            ElbErrorCode::TooManyListeners => "TooManyListeners",
            ElbErrorCode::TooManyTargetGroups => "TooManyTargetGroups",
            ElbErrorCode::SslPolicyNotFound => "SSLPolicyNotFound",
            ElbErrorCode::CapacityDecreaseRequestLimitExceeded => {
                "CapacityDecreaseRequestLimitExceeded"
            }
            ElbErrorCode::CertificateNotFound => "CertificateNotFound",
            ElbErrorCode::ResourceInUse => "ResourceInUse",
            ElbErrorCode::InvalidTarget => "InvalidTarget",
            ElbErrorCode::ValidationError => "ValidationError",
            ElbErrorCode::InvalidConfigurationRequest => "InvalidConfigurationRequest",
            ElbErrorCode::OperationNotPermitted => "OperationNotPermitted",
            ElbErrorCode::IncompatibleProtocols => "IncompatibleProtocols",
            ElbErrorCode::UnsupportedProtocol => "UnsupportedProtocol",
            ElbErrorCode::InvalidLoadBalancerAction => "InvalidLoadBalancerAction",
            ElbErrorCode::TargetGroupAssociationLimit => "TargetGroupAssociationLimit",
            ElbErrorCode::InvalidSecurityGroup => "InvalidSecurityGroup",
            ElbErrorCode::SubnetNotFound => "SubnetNotFound",
            ElbErrorCode::InvalidSubnet => "InvalidSubnet",
            ElbErrorCode::InvalidAction => "InvalidAction",
            ElbErrorCode::MissingParameter => "MissingParameter",
            ElbErrorCode::InternalFailure => "InternalFailure",
        }
    }

    /// The HTTP status: 400 for every caller mistake, 500 for the server's own faults.
    pub fn status(self) -> u16 {
        match self {
            ElbErrorCode::InternalFailure => 500,
            _ => 400,
        }
    }

    /// `Sender` for caller mistakes, `Receiver` for server faults (the `<Type>` element).
    pub fn fault(self) -> &'static str {
        match self {
            ElbErrorCode::InternalFailure => "Receiver",
            _ => "Sender",
        }
    }
}

/// An elbv2 error: a code and a message that tells the caller what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ElbError {
    /// What kind of error it is.
    pub code: ElbErrorCode,
    /// The human-readable message (AWS's own text where it is known).
    pub message: String,
}

impl fmt::Display for ElbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl ElbError {
    /// An error with this code and message.
    pub fn new(code: ElbErrorCode, message: impl Into<String>) -> ElbError {
        ElbError {
            code,
            message: message.into(),
        }
    }

    /// `ValidationError`.
    pub fn validation(message: impl Into<String>) -> ElbError {
        ElbError::new(ElbErrorCode::ValidationError, message)
    }

    /// `InvalidConfigurationRequest`.
    pub fn invalid_configuration(message: impl Into<String>) -> ElbError {
        ElbError::new(ElbErrorCode::InvalidConfigurationRequest, message)
    }

    /// `MissingParameter` for the parameter `name`, in AWS's words.
    pub fn missing(name: &str) -> ElbError {
        ElbError::new(
            ElbErrorCode::MissingParameter,
            format!("The request must contain the parameter {name}"),
        )
    }

    /// The `ValidationError` AWS gives for a value outside an enum.
    pub fn not_in_enum(value: &str, field: &str, options: &[&str]) -> ElbError {
        ElbError::validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            options.join(", ")
        ))
    }

    /// `LoadBalancerNotFound` as AWS words it for ARNs.
    pub fn load_balancers_not_found() -> ElbError {
        ElbError::new(
            ElbErrorCode::LoadBalancerNotFound,
            "One or more load balancers not found",
        )
    }

    /// `TargetGroupNotFound` as AWS words it for ARNs.
    pub fn target_groups_not_found() -> ElbError {
        ElbError::new(
            ElbErrorCode::TargetGroupNotFound,
            "One or more target groups not found",
        )
    }

    /// `ListenerNotFound` as AWS words it.
    pub fn listeners_not_found() -> ElbError {
        ElbError::new(
            ElbErrorCode::ListenerNotFound,
            "One or more listeners not found",
        )
    }
}

/// The only load balancer type this server offers.
pub const NETWORK: &str = "network";

/// Load balancer schemes.
pub const SCHEMES: &[&str] = &["internet-facing", "internal"];

/// IP address types of a network load balancer (`dualstack-without-public-ipv4` is for
/// application load balancers only).
pub const LOAD_BALANCER_IP_ADDRESS_TYPES: &[&str] = &["ipv4", "dualstack"];

/// Protocols of network load balancer listeners and target groups that this server takes.
pub const PROTOCOLS: &[&str] = &["TCP", "TLS", "UDP", "TCP_UDP"];

/// Health check protocols of network load balancer target groups.
pub const HEALTH_CHECK_PROTOCOLS: &[&str] = &["TCP", "HTTP", "HTTPS"];

/// Target types this server takes (there are no Lambda functions or ALBs to target).
pub const TARGET_TYPES: &[&str] = &["instance", "ip"];

/// IP address types of a target group.
pub const TARGET_GROUP_IP_ADDRESS_TYPES: &[&str] = &["ipv4", "ipv6"];

/// The `ALPN` policies of TLS listeners.
pub const ALPN_POLICIES: &[&str] = &[
    "HTTP1Only",
    "HTTP2Only",
    "HTTP2Optional",
    "HTTP2Preferred",
    "None",
];

pub use crate::elb_ssl::DEFAULT_SSL_POLICY;

/// The most tags one resource can have.
pub const MAX_TAGS: usize = 50;

/// The quotas enforced on network load balancers. The defaults are AWS's; like AWS's, they
/// can be raised (or lowered) for an installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElbQuotas {
    /// Target groups in the account (`target-groups`).
    pub target_groups: usize,
    /// Listeners of one load balancer (`listeners-per-network-load-balancer`).
    pub listeners_per_load_balancer: usize,
    /// Certificates one load balancer's listeners hold besides their default ones
    /// (`certificates-per-network-load-balancer`).
    pub certificates_per_load_balancer: usize,
    /// Targets of one target group (`targets-per-target-group`).
    pub targets_per_target_group: usize,
}

impl Default for ElbQuotas {
    fn default() -> Self {
        ElbQuotas {
            target_groups: 3000,
            listeners_per_load_balancer: 50,
            certificates_per_load_balancer: 25,
            targets_per_target_group: 1000,
        }
    }
}

impl ElbQuotas {
    /// The limits DescribeAccountLimits answers, named and ordered as AWS lists them: the
    /// ones of network load balancers that this server enforces, with `load_balancers` the
    /// number of addresses the server hands out to load balancers.
    pub fn account_limits(&self, load_balancers: u64) -> Vec<(&'static str, String)> {
        vec![
            ("target-groups", self.target_groups.to_string()),
            ("network-load-balancers", load_balancers.to_string()),
            (
                "listeners-per-network-load-balancer",
                self.listeners_per_load_balancer.to_string(),
            ),
            // A forward action names one target group: the API refuses more.
            (
                "target-groups-per-action-on-network-load-balancer",
                "1".to_owned(),
            ),
            (
                "certificates-per-network-load-balancer",
                self.certificates_per_load_balancer.to_string(),
            ),
            (
                "targets-per-target-group",
                self.targets_per_target_group.to_string(),
            ),
        ]
    }
}

/// Checks a load balancer or target group name: 1 to 32 letters, digits and hyphens, not
/// beginning or ending with a hyphen. `what` is `Load balancer` or `Target group`.
pub fn check_name(what: &str, name: &str) -> Result<(), ElbError> {
    if name.is_empty() {
        return Err(ElbError::validation(format!("{what} name cannot be empty")));
    }
    if name.chars().count() > 32 {
        return Err(ElbError::validation(format!(
            "{what} name '{name}' cannot be longer than '32' characters"
        )));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(ElbError::validation(format!(
            "{what} name '{name}' can only contain characters that are alphanumeric characters or hyphens(-)"
        )));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(ElbError::validation(format!(
            "{what} name '{name}' cannot begin or end with '-' character"
        )));
    }
    Ok(())
}

/// Checks a load balancer name: the rules of [`check_name`], and no `internal-` prefix, which
/// AWS keeps for the DNS names of internal load balancers.
pub fn check_load_balancer_name(name: &str) -> Result<(), ElbError> {
    check_name("Load balancer", name)?;
    if name.to_ascii_lowercase().starts_with("internal-") {
        return Err(ElbError::validation(format!(
            "Load balancer name '{name}' cannot begin with 'internal-'"
        )));
    }
    Ok(())
}

/// Checks a port number given as text (1–65535). `what` names it in the message.
pub fn port(value: &str, what: &str) -> Result<u16, ElbError> {
    match value.trim().parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => u16::try_from(n)
            .map_err(|_| ElbError::validation(format!("{what} '{value}' is not a valid port"))),
        _ => Err(ElbError::validation(format!(
            "{what} '{value}' is not valid: it must be a number from 1 to 65535"
        ))),
    }
}

/// Whether a listener with `listener` protocol can forward to a target group with `target`
/// protocol (TCP to TCP or TCP_UDP, TLS to TCP or TLS, UDP to UDP or TCP_UDP, TCP_UDP to
/// TCP_UDP only).
pub fn protocols_compatible(listener: &str, target: &str) -> bool {
    matches!(
        (listener, target),
        ("TCP", "TCP" | "TCP_UDP")
            | ("TLS", "TCP" | "TLS")
            | ("UDP", "UDP" | "TCP_UDP")
            | ("TCP_UDP", "TCP_UDP")
    )
}

/// Health check settings a CreateTargetGroup or ModifyTargetGroup asks for; `None` keeps the
/// current (or default) value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthCheckChange {
    /// `HealthCheckProtocol`.
    pub protocol: Option<String>,
    /// `HealthCheckPort`.
    pub port: Option<String>,
    /// `HealthCheckPath`.
    pub path: Option<String>,
    /// `HealthCheckEnabled`.
    pub enabled: Option<bool>,
    /// `HealthCheckIntervalSeconds`.
    pub interval_seconds: Option<i64>,
    /// `HealthCheckTimeoutSeconds`.
    pub timeout_seconds: Option<i64>,
    /// `HealthyThresholdCount`.
    pub healthy_threshold: Option<i64>,
    /// `UnhealthyThresholdCount`.
    pub unhealthy_threshold: Option<i64>,
    /// `Matcher.HttpCode`.
    pub matcher: Option<String>,
}

/// Applies `change` to `current` and checks the result. A change of protocol between TCP and
/// HTTP(S) brings that protocol's defaults for path, matcher and timeout unless they are given
/// too, as AWS does.
pub fn apply_health_check(
    current: &HealthCheck,
    change: &HealthCheckChange,
) -> Result<HealthCheck, ElbError> {
    let mut next = current.clone();
    if let Some(protocol) = &change.protocol {
        if !HEALTH_CHECK_PROTOCOLS.contains(&protocol.as_str()) {
            return Err(ElbError::not_in_enum(
                protocol,
                "healthCheckProtocol",
                HEALTH_CHECK_PROTOCOLS,
            ));
        }
        if *protocol != current.protocol {
            let defaults = HealthCheck::defaults(protocol);
            next.protocol = defaults.protocol;
            next.path = defaults.path;
            next.matcher = defaults.matcher;
            next.timeout_seconds = defaults.timeout_seconds;
        }
    }
    let http = next.protocol != "TCP";
    if let Some(port) = &change.port {
        if port != "traffic-port" {
            self::port(port, "Health check port")?;
        }
        next.port = port.clone();
    }
    if let Some(enabled) = change.enabled {
        if !enabled {
            return Err(ElbError::invalid_configuration(
                "Health checks cannot be disabled for network load balancer target groups with target type 'instance' or 'ip'",
            ));
        }
        next.enabled = enabled;
    }
    if let Some(path) = &change.path {
        if !http {
            return Err(ElbError::invalid_configuration(
                "A health check path can only be set when the health check protocol is HTTP or HTTPS",
            ));
        }
        if !path.starts_with('/') || path.len() > 1024 {
            return Err(ElbError::validation(format!(
                "Health check path '{path}' is not valid: it must begin with '/' and have at most 1024 characters"
            )));
        }
        next.path = Some(path.clone());
    }
    if let Some(matcher) = &change.matcher {
        if !http {
            return Err(ElbError::invalid_configuration(
                "A health check matcher can only be set when the health check protocol is HTTP or HTTPS",
            ));
        }
        check_matcher(matcher)?;
        next.matcher = Some(matcher.clone());
    }
    let range = |value: Option<i64>, what: &str, low: i64, high: i64, into: &mut u32| {
        if let Some(v) = value {
            if !(low..=high).contains(&v) {
                return Err(ElbError::validation(format!(
                    "{what} '{v}' is not valid: it must be from {low} to {high}"
                )));
            }
            *into = u32::try_from(v).unwrap_or(*into);
        }
        Ok(())
    };
    range(
        change.interval_seconds,
        "Health check interval",
        5,
        300,
        &mut next.interval_seconds,
    )?;
    range(
        change.timeout_seconds,
        "Health check timeout",
        2,
        120,
        &mut next.timeout_seconds,
    )?;
    range(
        change.healthy_threshold,
        "Healthy threshold count",
        2,
        10,
        &mut next.healthy_threshold,
    )?;
    range(
        change.unhealthy_threshold,
        "Unhealthy threshold count",
        2,
        10,
        &mut next.unhealthy_threshold,
    )?;
    // A check that may run longer than the time between checks would overlap the next one.
    if next.timeout_seconds > next.interval_seconds {
        return Err(ElbError::validation(format!(
            "Health check timeout '{}' must be smaller than or equal to the interval '{}': set HealthCheckTimeoutSeconds or HealthCheckIntervalSeconds",
            next.timeout_seconds, next.interval_seconds
        )));
    }
    Ok(next)
}

/// Checks a `Matcher.HttpCode` of a network load balancer target group: codes from 200 to 599,
/// as one code (`200`), a list (`200,202`) or a range (`200-299`).
pub fn check_matcher(matcher: &str) -> Result<(), ElbError> {
    let code = |text: &str| -> Option<u16> {
        let n: u16 = text.trim().parse().ok()?;
        (200..=599).contains(&n).then_some(n)
    };
    let valid = if let Some((low, high)) = matcher.split_once('-') {
        matches!((code(low), code(high)), (Some(l), Some(h)) if l <= h)
    } else {
        !matcher.is_empty() && matcher.split(',').all(|part| code(part).is_some())
    };
    if valid {
        Ok(())
    } else {
        Err(ElbError::validation(format!(
            "Health check matcher HTTP code '{matcher}' is not valid: use codes from 200 to 599 as '200', '200,202' or '200-299'"
        )))
    }
}

/// Checks one load balancer attribute of a network load balancer. Keys of other load
/// balancer types (`idle_timeout.timeout_seconds`, ...) are not recognized.
pub fn check_load_balancer_attribute(key: &str, value: &str) -> Result<(), ElbError> {
    match key {
        "access_logs.s3.enabled"
        | "deletion_protection.enabled"
        | "load_balancing.cross_zone.enabled"
        | "ipv6.deny_all_igw_traffic"
        | "zonal_shift.config.enabled" => boolean_attribute("Load balancer", key, value),
        "access_logs.s3.bucket" | "access_logs.s3.prefix" => Ok(()),
        "dns_record.client_routing_policy" => one_of(
            "Load balancer",
            key,
            value,
            &[
                "any_availability_zone",
                "availability_zone_affinity",
                "partial_availability_zone_affinity",
            ],
        ),
        "secondary_ips.auto_assigned.per_subnet" => {
            integer_attribute("Load balancer", key, value, 0, 7)
        }
        _ => Err(ElbError::validation(format!(
            "Load balancer attribute key '{key}' is not recognized"
        ))),
    }
}

/// Checks one attribute given to ModifyListenerAttributes for a listener with `protocol`:
/// `tcp.idle_timeout.seconds` (60–6000) on TCP and TCP_UDP listeners. Keys of application
/// load balancer listeners are not recognized.
pub fn check_listener_attribute(key: &str, value: &str, protocol: &str) -> Result<(), ElbError> {
    match key {
        "tcp.idle_timeout.seconds" => {
            if !crate::elb::has_tcp_idle_timeout(protocol) {
                return Err(ElbError::invalid_configuration(format!(
                    "The listener attribute '{key}' is not supported for '{protocol}' listeners: only TCP and TCP_UDP listeners take it (TLS listeners' idle timeout is fixed at 350 seconds)"
                )));
            }
            integer_attribute("Listener", key, value, 60, 6000)
        }
        _ => Err(ElbError::validation(format!(
            "Listener attribute key '{key}' is not recognized"
        ))),
    }
}

/// Checks a complete set of load balancer attributes for rules that span keys.
pub fn check_load_balancer_attributes(
    attributes: &BTreeMap<String, String>,
) -> Result<(), ElbError> {
    let get = |key: &str| attributes.get(key).map(String::as_str).unwrap_or_default();
    if get("access_logs.s3.enabled") == "true" && get("access_logs.s3.bucket").is_empty() {
        return Err(ElbError::invalid_configuration(
            "The value of 'access_logs.s3.bucket' cannot be empty when 'access_logs.s3.enabled' is 'true'",
        ));
    }
    Ok(())
}

/// Checks one target group attribute of a network load balancer target group with the given
/// protocol. Keys of application load balancer target groups are not recognized.
pub fn check_target_group_attribute(
    key: &str,
    value: &str,
    protocol: &str,
) -> Result<(), ElbError> {
    const WHAT: &str = "Target group";
    match key {
        "deregistration_delay.timeout_seconds" => integer_attribute(WHAT, key, value, 0, 3600),
        "deregistration_delay.connection_termination.enabled"
        | "proxy_protocol_v2.enabled"
        | "stickiness.enabled"
        | "target_health_state.unhealthy.connection_termination.enabled" => {
            boolean_attribute(WHAT, key, value)
        }
        "preserve_client_ip.enabled" => {
            boolean_attribute(WHAT, key, value)?;
            if value == "false" && (protocol == "UDP" || protocol == "TCP_UDP") {
                return Err(ElbError::invalid_configuration(format!(
                    "Client IP preservation cannot be disabled for target groups with protocol '{protocol}'"
                )));
            }
            Ok(())
        }
        "stickiness.type" => one_of(WHAT, key, value, &["source_ip"]),
        "load_balancing.cross_zone.enabled" => one_of(
            WHAT,
            key,
            value,
            &["true", "false", "use_load_balancer_configuration"],
        ),
        "target_health_state.unhealthy.draining_interval_seconds" => {
            integer_attribute(WHAT, key, value, 0, 360_000)
        }
        "target_group_health.dns_failover.minimum_healthy_targets.count"
        | "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count" => {
            integer_attribute(WHAT, key, value, 1, i64::from(u32::MAX))
        }
        "target_group_health.dns_failover.minimum_healthy_targets.percentage"
        | "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage" => {
            if value == "off" {
                Ok(())
            } else {
                integer_attribute(WHAT, key, value, 1, 100)
            }
        }
        _ => Err(ElbError::validation(format!(
            "Target group attribute key '{key}' is not recognized"
        ))),
    }
}

fn boolean_attribute(what: &str, key: &str, value: &str) -> Result<(), ElbError> {
    one_of(what, key, value, &["true", "false"])
}

fn one_of(what: &str, key: &str, value: &str, options: &[&str]) -> Result<(), ElbError> {
    if options.contains(&value) {
        Ok(())
    } else {
        Err(ElbError::validation(format!(
            "{what} attribute '{key}' cannot have the value '{value}': use one of {}",
            options
                .iter()
                .map(|o| format!("'{o}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

fn integer_attribute(
    what: &str,
    key: &str,
    value: &str,
    low: i64,
    high: i64,
) -> Result<(), ElbError> {
    match value.parse::<i64>() {
        Ok(n) if (low..=high).contains(&n) => Ok(()),
        _ => Err(ElbError::validation(format!(
            "{what} attribute '{key}' cannot have the value '{value}': it must be a whole number from {low} to {high}"
        ))),
    }
}

/// Checks tags given to a create or AddTags: keys of 1–128 characters not starting with
/// `aws:`, values of at most 256 characters, no key twice.
pub fn check_tags(tags: &TagList) -> Result<(), ElbError> {
    let mut seen = std::collections::BTreeSet::new();
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(ElbError::validation(format!(
                "Tag key '{key}' is not valid: tag keys must have 1 to 128 characters"
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ElbError::validation(format!(
                "Tag key '{key}' is not valid: the prefix 'aws:' is reserved for AWS use"
            )));
        }
        if value.chars().count() > 256 {
            return Err(ElbError::validation(format!(
                "The value of tag '{key}' is not valid: tag values can have at most 256 characters"
            )));
        }
        if !seen.insert(key.as_str()) {
            return Err(ElbError::new(
                ElbErrorCode::DuplicateTagKeys,
                format!("Tag key '{key}' is given more than once"),
            ));
        }
    }
    Ok(())
}

/// Adds or replaces `new` tags in `tags`, keeping the order in which keys first came;
/// `TooManyTags` when the result would have more than [`MAX_TAGS`].
pub fn merge_tags(tags: &TagList, new: &TagList) -> Result<TagList, ElbError> {
    let mut out = tags.clone();
    for (key, value) in new {
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(existing) => existing.1 = value.clone(),
            None => out.push((key.clone(), value.clone())),
        }
    }
    if out.len() > MAX_TAGS {
        return Err(ElbError::new(
            ElbErrorCode::TooManyTags,
            format!(
                "A resource can have at most {MAX_TAGS} tags; this request would give it {}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// Checks a target id for a target group of `target_type` (`ip` or `instance`) and IP address
/// type `ip_address_type`.
///
/// There are no EC2 instances here, so an `instance` target group takes instance ids
/// (`i-` and letters or digits, which receive no traffic) and also IP addresses, which stand
/// in for an instance and do receive traffic.
pub fn check_target_id(id: &str, target_type: &str, ip_address_type: &str) -> Result<(), ElbError> {
    let invalid = |message: String| Err(ElbError::new(ElbErrorCode::InvalidTarget, message));
    match id.parse::<IpAddr>() {
        Ok(ip) => {
            let family_ok = match ip_address_type {
                "ipv6" => ip.is_ipv6(),
                _ => ip.is_ipv4(),
            };
            if family_ok {
                Ok(())
            } else {
                invalid(format!(
                    "The IP address '{id}' does not match the target group's IP address type '{ip_address_type}'"
                ))
            }
        }
        Err(_) if target_type == "ip" => invalid(format!(
            "The target '{id}' is not an IP address: targets of a target group with target type 'ip' must be IPv4 or IPv6 addresses"
        )),
        Err(_) => {
            let ok = id.strip_prefix("i-").is_some_and(|rest| {
                !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric())
            });
            if ok {
                Ok(())
            } else {
                invalid(format!(
                    "The target '{id}' is not a valid instance id: use an instance id such as 'i-0123456789abcdef0' or an IP address"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_load_balancer_name("my-nlb-1").is_ok());
        assert!(check_load_balancer_name(&"a".repeat(32)).is_ok());
        for bad in ["", "-a", "a-", "a_b", "a.b", "internal-x", &"a".repeat(33)] {
            let error = check_load_balancer_name(bad).err();
            assert_eq!(
                error.map(|e| e.code),
                Some(ElbErrorCode::ValidationError),
                "{bad}"
            );
        }
        assert!(check_name("Target group", "internal-ok").is_ok());
    }

    #[test]
    fn ports() {
        assert_eq!(port("80", "Port").ok(), Some(80));
        assert_eq!(port("65535", "Port").ok(), Some(65535));
        assert!(port("0", "Port").is_err());
        assert!(port("65536", "Port").is_err());
        assert!(port("x", "Port").is_err());
    }

    #[test]
    fn protocol_pairs() {
        assert!(protocols_compatible("TCP", "TCP"));
        assert!(protocols_compatible("TCP", "TCP_UDP"));
        assert!(protocols_compatible("TLS", "TCP"));
        assert!(protocols_compatible("UDP", "TCP_UDP"));
        assert!(!protocols_compatible("TCP", "UDP"));
        assert!(!protocols_compatible("TCP_UDP", "TCP"));
        assert!(!protocols_compatible("UDP", "TLS"));
    }

    #[test]
    fn matchers() {
        for ok in ["200", "200,202", "200-399", "200-599", "599"] {
            assert!(check_matcher(ok).is_ok(), "{ok}");
        }
        for bad in ["", "199", "600", "300-200", "abc", "200,", "200-"] {
            assert!(check_matcher(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn health_checks() {
        let tcp = HealthCheck::defaults("TCP");
        let http = apply_health_check(
            &tcp,
            &HealthCheckChange {
                protocol: Some("HTTP".into()),
                ..Default::default()
            },
        );
        let http = http.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(http.path.as_deref(), Some("/"));
        assert_eq!(http.matcher.as_deref(), Some("200-399"));
        assert_eq!(http.timeout_seconds, 6);

        let bad =
            |change: HealthCheckChange| apply_health_check(&tcp, &change).err().map(|e| e.code);
        assert_eq!(
            bad(HealthCheckChange {
                path: Some("/x".into()),
                ..Default::default()
            }),
            Some(ElbErrorCode::InvalidConfigurationRequest)
        );
        assert_eq!(
            bad(HealthCheckChange {
                interval_seconds: Some(4),
                ..Default::default()
            }),
            Some(ElbErrorCode::ValidationError)
        );
        assert_eq!(
            bad(HealthCheckChange {
                interval_seconds: Some(5),
                ..Default::default()
            }),
            Some(ElbErrorCode::ValidationError),
            "the default timeout of 10 s is longer than 5 s"
        );
        assert_eq!(
            bad(HealthCheckChange {
                healthy_threshold: Some(11),
                ..Default::default()
            }),
            Some(ElbErrorCode::ValidationError)
        );
        assert_eq!(
            bad(HealthCheckChange {
                protocol: Some("UDP".into()),
                ..Default::default()
            }),
            Some(ElbErrorCode::ValidationError)
        );
        assert_eq!(
            bad(HealthCheckChange {
                enabled: Some(false),
                ..Default::default()
            }),
            Some(ElbErrorCode::InvalidConfigurationRequest)
        );
        assert_eq!(
            bad(HealthCheckChange {
                port: Some("0".into()),
                ..Default::default()
            }),
            Some(ElbErrorCode::ValidationError)
        );
    }

    #[test]
    fn attributes() {
        assert!(check_load_balancer_attribute("deletion_protection.enabled", "true").is_ok());
        assert!(check_load_balancer_attribute("deletion_protection.enabled", "yes").is_err());
        assert_eq!(
            check_load_balancer_attribute("idle_timeout.timeout_seconds", "60")
                .err()
                .map(|e| e.message),
            Some(
                "Load balancer attribute key 'idle_timeout.timeout_seconds' is not recognized"
                    .into()
            )
        );
        assert!(
            check_load_balancer_attribute("secondary_ips.auto_assigned.per_subnet", "8").is_err()
        );
        assert!(
            check_target_group_attribute("deregistration_delay.timeout_seconds", "3600", "TCP")
                .is_ok()
        );
        assert!(
            check_target_group_attribute("deregistration_delay.timeout_seconds", "3601", "TCP")
                .is_err()
        );
        assert!(
            check_target_group_attribute("deregistration_delay.timeout_seconds", "-1", "TCP")
                .is_err()
        );
        assert!(check_target_group_attribute("preserve_client_ip.enabled", "false", "TCP").is_ok());
        assert_eq!(
            check_target_group_attribute("preserve_client_ip.enabled", "false", "UDP")
                .err()
                .map(|e| e.code),
            Some(ElbErrorCode::InvalidConfigurationRequest)
        );
        assert!(check_target_group_attribute("stickiness.type", "lb_cookie", "TCP").is_err());
        assert!(
            check_target_group_attribute(
                "target_group_health.dns_failover.minimum_healthy_targets.percentage",
                "off",
                "TCP"
            )
            .is_ok()
        );
        assert!(check_target_group_attribute("slow_start.duration_seconds", "30", "TCP").is_err());
        let mut all = crate::elb::default_load_balancer_attributes(false);
        assert!(check_load_balancer_attributes(&all).is_ok());
        all.insert("access_logs.s3.enabled".into(), "true".into());
        assert!(check_load_balancer_attributes(&all).is_err());
        // Every default is itself valid.
        for (k, v) in crate::elb::default_load_balancer_attributes(true) {
            assert!(check_load_balancer_attribute(&k, &v).is_ok(), "{k}");
        }
        for (k, v) in crate::elb::default_target_group_attributes("TCP", "ip") {
            assert!(check_target_group_attribute(&k, &v, "TCP").is_ok(), "{k}");
        }
    }

    #[test]
    fn listener_attributes() {
        let key = "tcp.idle_timeout.seconds";
        for (value, protocol) in [("60", "TCP"), ("6000", "TCP"), ("350", "TCP_UDP")] {
            assert!(
                check_listener_attribute(key, value, protocol).is_ok(),
                "{value}"
            );
        }
        for value in ["59", "6001", "", "1e3", "-60"] {
            assert_eq!(
                check_listener_attribute(key, value, "TCP")
                    .err()
                    .map(|e| e.code),
                Some(ElbErrorCode::ValidationError),
                "{value:?}"
            );
        }
        for protocol in ["TLS", "UDP"] {
            assert_eq!(
                check_listener_attribute(key, "500", protocol)
                    .err()
                    .map(|e| e.code),
                Some(ElbErrorCode::InvalidConfigurationRequest),
                "{protocol}"
            );
        }
        assert_eq!(
            check_listener_attribute("routing.http.response.server.enabled", "true", "TCP")
                .err()
                .map(|e| e.message),
            Some(
                "Listener attribute key 'routing.http.response.server.enabled' is not recognized"
                    .into()
            )
        );

        // TCP listeners show the default until it is changed; the others have no attributes,
        // and a value set under TCP waits while the listener is TLS.
        let mut listener = crate::elb::Listener {
            arn: "l".into(),
            load_balancer_arn: "lb".into(),
            port: 80,
            protocol: "TCP".into(),
            default_actions: Vec::new(),
            ssl_policy: None,
            certificates: Vec::new(),
            alpn_policy: Vec::new(),
            attributes: Default::default(),
            tags: Vec::new(),
        };
        let shown = |l: &crate::elb::Listener| {
            crate::elb::listener_attributes(l)
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(shown(&listener), [(key.to_owned(), "350".to_owned())]);
        listener.attributes.insert(key.into(), "900".into());
        assert_eq!(shown(&listener), [(key.to_owned(), "900".to_owned())]);
        listener.protocol = "TLS".into();
        assert_eq!(shown(&listener), []);
        listener.protocol = "TCP_UDP".into();
        assert_eq!(shown(&listener), [(key.to_owned(), "900".to_owned())]);

        // The plan carries the timeout of TCP listeners only, in milliseconds.
        let lb = crate::elb::LoadBalancer {
            arn: "lb".into(),
            name: "lb".into(),
            dns_name: "lb.example".into(),
            created_time: 0,
            scheme: "internal".into(),
            vpc_id: "vpc".into(),
            state: crate::elb::LoadBalancerState::Active,
            state_reason: None,
            subnets: Vec::new(),
            zones: Vec::new(),
            security_groups: Vec::new(),
            ip_address_type: "ipv4".into(),
            enforce_security_group_inbound_rules_on_private_link_traffic: None,
            address: "127.0.0.1".into(),
            attributes: Default::default(),
            tags: Vec::new(),
            capacity: None,
        };
        let plan = |l: &crate::elb::Listener| {
            crate::elb::plan([&lb], [l], [], &|_| None).load_balancers[0].listeners[0]
                .idle_timeout_millis
        };
        assert_eq!(plan(&listener), Some(900_000));
        listener.protocol = "TLS".into();
        assert_eq!(plan(&listener), None);
    }

    #[test]
    fn tags() {
        let t = |pairs: &[(&str, &str)]| -> TagList {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert!(check_tags(&t(&[("a", "1"), ("b", "")])).is_ok());
        assert_eq!(
            check_tags(&t(&[("a", "1"), ("a", "2")]))
                .err()
                .map(|e| e.code),
            Some(ElbErrorCode::DuplicateTagKeys)
        );
        assert!(check_tags(&t(&[("aws:x", "1")])).is_err());
        let merged = merge_tags(&t(&[("a", "1"), ("b", "2")]), &t(&[("a", "9"), ("c", "3")]));
        assert_eq!(merged.ok(), Some(t(&[("a", "9"), ("b", "2"), ("c", "3")])));
        let many: TagList = (0..50).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(
            merge_tags(&many, &t(&[("one-more", "")]))
                .err()
                .map(|e| e.code),
            Some(ElbErrorCode::TooManyTags)
        );
    }

    #[test]
    fn target_ids() {
        assert!(check_target_id("10.0.0.5", "ip", "ipv4").is_ok());
        assert!(check_target_id("::1", "ip", "ipv6").is_ok());
        assert!(check_target_id("::1", "ip", "ipv4").is_err());
        assert!(check_target_id("i-0123abc", "ip", "ipv4").is_err());
        assert!(check_target_id("i-0123abc", "instance", "ipv4").is_ok());
        assert!(check_target_id("127.0.0.1", "instance", "ipv4").is_ok());
        assert_eq!(
            check_target_id("web-1", "instance", "ipv4")
                .err()
                .map(|e| e.code),
            Some(ElbErrorCode::InvalidTarget)
        );
    }
}
