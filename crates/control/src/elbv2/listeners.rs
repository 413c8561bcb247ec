//! CreateListener, DescribeListeners, ModifyListener and DeleteListener, the certificates
//! of TLS listeners (AddListenerCertificates, DescribeListenerCertificates,
//! RemoveListenerCertificates), and listener attributes (DescribeListenerAttributes,
//! ModifyListenerAttributes).

use causeway_model::arn::ElbResourceKind;
use causeway_model::elb::{ForwardAction, Listener, listener_attributes};
use causeway_model::elb_api::{
    self, ALPN_POLICIES, DEFAULT_SSL_POLICY, ElbError, ElbErrorCode, PROTOCOLS,
};
use causeway_wire::elbv2::{Params, output};

use super::load_balancers::attribute_changes;
use super::{
    Call, Outcome, check_arn, forwards_to, list, load_balancer, opt_int, page, put, tag_list,
};
use crate::ctx::Ctx;
use crate::state::kind;

/// The settings of a listener that a create or modify decides.
#[derive(Debug, PartialEq)]
struct Settings {
    port: u16,
    protocol: String,
    default_actions: Vec<ForwardAction>,
    ssl_policy: Option<String>,
    certificates: Vec<String>,
    alpn_policy: Vec<String>,
}

pub(super) fn create(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let lb_arn = call.required("LoadBalancerArn")?;
    let lb = load_balancer(cx, lb_arn)?;
    let protocol = match p.get("Protocol") {
        Some(protocol) => check_protocol(protocol)?,
        None => {
            return Err(ElbError::validation(
                "A protocol must be specified for a network load balancer listener: use TCP, TLS, UDP or TCP_UDP",
            ));
        }
    };
    let port = match p.get("Port") {
        Some(port) => elb_api::port(port, "Port")?,
        None => {
            return Err(ElbError::validation(
                "A port must be specified for a network load balancer listener",
            ));
        }
    };
    let actions = p
        .structs("DefaultActions")?
        .ok_or_else(|| ElbError::missing("DefaultActions"))?;
    let default_actions = forward_actions(cx, &actions, protocol, &lb.arn, None)?;
    let Tls {
        certificates,
        ssl_policy,
        alpn_policy,
    } = tls_settings(p, protocol, None)?;
    imported(cx, &certificates)?;
    let tags = tag_list(p, "Tags")?;
    let settings = Settings {
        port,
        protocol: protocol.to_owned(),
        default_actions,
        ssl_policy,
        certificates,
        alpn_policy,
    };

    // Creating is idempotent: the same port with the same settings answers with the listener
    // that exists.
    if let Some(existing) = cx
        .state
        .listeners
        .values()
        .find(|l| l.load_balancer_arn == lb_arn && l.port == port)
    {
        if settings_of(existing) != settings {
            return Err(duplicate(lb_arn));
        }
        return Ok(call.respond(|x| x.list("Listeners", [existing], output::listener)));
    }

    let on_load_balancer = cx
        .state
        .listeners
        .values()
        .filter(|l| l.load_balancer_arn == lb_arn)
        .count();
    let most = cx.config.elb_quotas.listeners_per_load_balancer;
    if on_load_balancer >= most {
        return Err(ElbError::new(
            ElbErrorCode::TooManyListeners,
            format!(
                "Load balancer '{lb_arn}' has {most} listeners, the most a load balancer can have"
            ),
        ));
    }
    let lb_id = lb.arn.rsplit('/').next().unwrap_or_default().to_owned();
    let lb_name = lb.name.clone();
    let taken: Vec<String> = cx
        .state
        .listeners
        .keys()
        .filter_map(|arn| arn.rsplit('/').next())
        .map(str::to_owned)
        .collect();
    let id = cx.new_hex_id(16, |id| taken.iter().any(|t| t == id));
    let listener = Listener {
        arn: format!(
            "arn:aws:elasticloadbalancing:{}:{}:listener/net/{lb_name}/{lb_id}/{id}",
            cx.config.region, cx.config.account_id
        ),
        load_balancer_arn: lb_arn.to_owned(),
        port: settings.port,
        protocol: settings.protocol,
        default_actions: settings.default_actions,
        ssl_policy: settings.ssl_policy,
        certificates: settings.certificates,
        alpn_policy: settings.alpn_policy,
        attributes: Default::default(),
        tags,
    };
    put(cx, kind::LISTENER, &listener.arn, &listener)?;
    let body = call.respond(|x| x.list("Listeners", [&listener], output::listener));
    cx.state.listeners.insert(listener.arn.clone(), listener);
    Ok(body)
}

fn duplicate(lb_arn: &str) -> ElbError {
    ElbError::new(
        ElbErrorCode::DuplicateListener,
        format!("A listener already exists on this port for this load balancer '{lb_arn}'"),
    )
}

fn settings_of(listener: &Listener) -> Settings {
    Settings {
        port: listener.port,
        protocol: listener.protocol.clone(),
        default_actions: listener.default_actions.clone(),
        ssl_policy: listener.ssl_policy.clone(),
        certificates: listener.certificates.clone(),
        alpn_policy: listener.alpn_policy.clone(),
    }
}

/// The TLS settings of a listener (all empty for other protocols).
#[derive(Debug, Default)]
struct Tls {
    certificates: Vec<String>,
    ssl_policy: Option<String>,
    alpn_policy: Vec<String>,
}

/// Checks a listener protocol: network load balancers listen on TCP, TLS, UDP or TCP_UDP.
fn check_protocol(protocol: &str) -> Result<&str, ElbError> {
    if PROTOCOLS.contains(&protocol) {
        return Ok(protocol);
    }
    Err(ElbError::new(
        ElbErrorCode::UnsupportedProtocol,
        format!(
            "Protocol '{protocol}' is not supported for network load balancer listeners: use TCP, TLS, UDP or TCP_UDP"
        ),
    ))
}

/// The certificates, security policy and ALPN policy of a listener with `protocol`: TLS
/// listeners need a certificate and get the default policy; other protocols take none of
/// them. `current` holds a modified listener's values, kept when the call does not name
/// them and the protocol stays TLS.
fn tls_settings(p: &Params, protocol: &str, current: Option<&Listener>) -> Result<Tls, ElbError> {
    let certificates = match p.structs("Certificates")? {
        Some(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (i, entry) in entries.iter().enumerate() {
                let arn = entry.get("CertificateArn").ok_or_else(|| {
                    ElbError::missing(&format!("Certificates.member.{}.CertificateArn", i + 1))
                })?;
                out.push(arn.to_owned());
            }
            Some(out)
        }
        None => None,
    };
    let ssl_policy = p.get("SslPolicy").map(str::to_owned);
    let alpn = p.list("AlpnPolicy")?;
    if protocol != "TLS" {
        if certificates.as_ref().is_some_and(|c| !c.is_empty())
            || ssl_policy.is_some()
            || alpn.as_ref().is_some_and(|a| !a.is_empty())
        {
            return Err(ElbError::validation(format!(
                "Certificates, SslPolicy and AlpnPolicy can only be set on TLS listeners, not on '{protocol}' listeners"
            )));
        }
        return Ok(Tls::default());
    }
    if certificates.as_ref().is_some_and(|c| c.len() > 1) {
        return Err(ElbError::validation(
            "A listener takes exactly one certificate in Certificates, its default: add others with AddListenerCertificates",
        ));
    }
    let keep = current.filter(|l| l.protocol == "TLS");
    // A certificate given replaces the default; the listener's other certificates stay.
    let certificates = match (certificates, keep) {
        (Some(given), Some(listener)) => {
            let mut all = given;
            all.extend(
                listener
                    .certificates
                    .iter()
                    .skip(1)
                    .filter(|arn| !all.contains(arn))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            all
        }
        (Some(given), None) => given,
        (None, keep) => keep.map(|l| l.certificates.clone()).unwrap_or_default(),
    };
    if certificates.is_empty() {
        return Err(ElbError::validation(
            "A certificate must be specified for TLS listeners: give Certificates with a CertificateArn",
        ));
    }
    if let Some(name) = &ssl_policy {
        check_ssl_policy(name)?;
    }
    let ssl_policy = ssl_policy
        .or_else(|| keep.and_then(|l| l.ssl_policy.clone()))
        .unwrap_or_else(|| DEFAULT_SSL_POLICY.to_owned());
    let alpn = alpn
        .or_else(|| keep.map(|l| l.alpn_policy.clone()))
        .unwrap_or_default();
    if alpn.len() > 1 {
        return Err(ElbError::validation("AlpnPolicy takes at most one policy"));
    }
    for policy in &alpn {
        if !ALPN_POLICIES.contains(&policy.as_str()) {
            return Err(ElbError::not_in_enum(policy, "alpnPolicy", ALPN_POLICIES));
        }
    }
    Ok(Tls {
        certificates,
        ssl_policy: Some(ssl_policy),
        alpn_policy: alpn,
    })
}

/// A security policy name must name one of ELB's policies (AWS's text).
fn check_ssl_policy(name: &str) -> Result<(), ElbError> {
    match causeway_model::elb_ssl::find(name) {
        Some(_) => Ok(()),
        None => Err(ElbError::new(
            ElbErrorCode::SslPolicyNotFound,
            format!("SSL policy '{name}' not found"),
        )),
    }
}

/// DescribeSSLPolicies: the security policies, all or the ones `Names` gives (each must
/// exist), for network load balancers or any type, paginated.
pub(super) fn describe_ssl_policies(_cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let names = list(p, "Names")?;
    for name in &names {
        check_ssl_policy(name)?;
    }
    let load_balancer_type = super::opt_enum(
        p,
        "LoadBalancerType",
        "loadBalancerType",
        &["application", "network", "gateway"],
    )?;
    let policies: Vec<(String, &causeway_model::elb_ssl::SslPolicy)> =
        causeway_model::elb_ssl::all()
            .iter()
            .filter(|policy| names.is_empty() || names.contains(&policy.name))
            .filter(|policy| {
                load_balancer_type.is_none_or(|wanted| {
                    policy
                        .supported_load_balancer_types
                        .iter()
                        .any(|t| t == wanted)
                })
            })
            .enumerate()
            .map(|(i, policy)| (format!("{i:03}"), policy))
            .collect();
    let (page, next) = page(policies, p)?;
    Ok(call.respond(|x| {
        x.list("SslPolicies", &page, |x, policy| {
            output::ssl_policy(x, policy)
        });
        x.opt_text("NextMarker", next.as_deref());
    }))
}

/// Checks the `DefaultActions` of a listener of load balancer `lb_arn` with `protocol`:
/// exactly one forward action to one existing target group whose protocol fits and that no
/// other load balancer uses. `this_listener` is the listener being modified, if any.
fn forward_actions(
    cx: &Ctx<'_>,
    actions: &[Params],
    protocol: &str,
    lb_arn: &str,
    this_listener: Option<&str>,
) -> Result<Vec<ForwardAction>, ElbError> {
    let [action] = actions else {
        return Err(ElbError::new(
            ElbErrorCode::InvalidLoadBalancerAction,
            format!(
                "A network load balancer listener takes exactly one default action, a forward action; {} were given",
                actions.len()
            ),
        ));
    };
    let kind = action
        .get("Type")
        .ok_or_else(|| ElbError::missing("DefaultActions.member.1.Type"))?;
    if kind != "forward" {
        return Err(ElbError::new(
            ElbErrorCode::InvalidLoadBalancerAction,
            format!(
                "The action type '{kind}' is not valid for a network load balancer listener: use 'forward'"
            ),
        ));
    }
    let direct = action.get("TargetGroupArn").map(str::to_owned);
    let mut weighted: Vec<(String, Option<i32>)> = Vec::new();
    if let Some(config) = action.nested("ForwardConfig") {
        for (i, group) in config
            .structs("TargetGroups")?
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let arn = group.get("TargetGroupArn").ok_or_else(|| {
                ElbError::missing(&format!(
                    "DefaultActions.member.1.ForwardConfig.TargetGroups.member.{}.TargetGroupArn",
                    i + 1
                ))
            })?;
            let weight = match opt_int(group, "Weight")? {
                None => None,
                Some(w) if (0..=999).contains(&w) => i32::try_from(w).ok(),
                Some(w) => {
                    return Err(ElbError::validation(format!(
                        "Target group weight '{w}' is not valid: it must be from 0 to 999"
                    )));
                }
            };
            weighted.push((arn.to_owned(), weight));
        }
    }
    let mut arns: Vec<&str> = direct.iter().map(String::as_str).collect();
    for (arn, _) in &weighted {
        if !arns.contains(&arn.as_str()) {
            arns.push(arn);
        }
    }
    let target = match arns.as_slice() {
        [] => {
            return Err(ElbError::validation(
                "A forward action must name a target group, in TargetGroupArn or in ForwardConfig.TargetGroups",
            ));
        }
        [one] => *one,
        _ => {
            return Err(ElbError::invalid_configuration(
                "A forward action of a network load balancer listener can send to only one target group",
            ));
        }
    };
    check_arn(target, ElbResourceKind::TargetGroup)?;
    let tg = cx.state.target_groups.get(target).ok_or_else(|| {
        ElbError::new(
            ElbErrorCode::TargetGroupNotFound,
            format!("Target groups '{target}' not found"),
        )
    })?;
    if !elb_api::protocols_compatible(protocol, &tg.protocol) {
        return Err(incompatible(protocol, &tg.protocol));
    }
    // A target group of a network load balancer serves that one load balancer only.
    let elsewhere = cx.state.listeners.values().any(|l| {
        Some(l.arn.as_str()) != this_listener
            && l.load_balancer_arn != lb_arn
            && forwards_to(l, target)
    });
    if elsewhere {
        return Err(ElbError::new(
            ElbErrorCode::TargetGroupAssociationLimit,
            format!(
                "The following target groups cannot be associated with more than one load balancer: {target}"
            ),
        ));
    }
    Ok(vec![ForwardAction {
        kind: "forward".to_owned(),
        target_group_arn: direct,
        target_groups: weighted,
    }])
}

fn incompatible(listener: &str, target: &str) -> ElbError {
    ElbError::new(
        ElbErrorCode::IncompatibleProtocols,
        format!(
            "Listener protocol '{listener}' is not compatible with target group protocol '{target}': TCP listeners forward to TCP or TCP_UDP target groups, TLS to TCP or TLS, UDP to UDP or TCP_UDP, TCP_UDP to TCP_UDP"
        ),
    )
}

pub(super) fn describe(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let lb_arn = p.get("LoadBalancerArn");
    let arns = list(p, "ListenerArns")?;
    let chosen: Vec<&Listener> = match (lb_arn, arns.is_empty()) {
        (Some(_), false) => {
            return Err(ElbError::validation(
                "Listener ARNs and a load balancer ARN cannot be specified at the same time",
            ));
        }
        (None, true) => {
            return Err(ElbError::validation(
                "You must specify either listener ARNs or a load balancer ARN",
            ));
        }
        (Some(lb_arn), true) => {
            load_balancer(cx, lb_arn)?;
            cx.state
                .listeners
                .values()
                .filter(|l| l.load_balancer_arn == lb_arn)
                .collect()
        }
        (None, false) => {
            let mut found = Vec::new();
            for arn in &arns {
                found.push(listener(cx, arn)?);
            }
            found
        }
    };
    // Listeners come by load balancer, then port.
    let mut items: Vec<(String, &Listener)> = chosen
        .into_iter()
        .map(|l| {
            (
                format!("{}/{:05}/{}", l.load_balancer_arn, l.port, l.arn),
                l,
            )
        })
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items.dedup_by(|a, b| a.0 == b.0);
    let (page, next) = page(items, p)?;
    Ok(call.respond(|x| {
        x.list("Listeners", page, output::listener);
        x.opt_text("NextMarker", next.as_deref());
    }))
}

fn listener<'a>(cx: &'a Ctx<'_>, arn: &str) -> Result<&'a Listener, ElbError> {
    check_arn(arn, ElbResourceKind::Listener)?;
    cx.state
        .listeners
        .get(arn)
        .ok_or_else(ElbError::listeners_not_found)
}

pub(super) fn modify(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let arn = call.required("ListenerArn")?;
    let current = listener(cx, arn)?;
    let protocol = match p.get("Protocol") {
        Some(protocol) => check_protocol(protocol)?,
        None => current.protocol.as_str(),
    };
    let port = match p.get("Port") {
        Some(port) => elb_api::port(port, "Port")?,
        None => current.port,
    };
    let default_actions = match p.structs("DefaultActions")? {
        Some(actions) => forward_actions(
            cx,
            &actions,
            protocol,
            &current.load_balancer_arn,
            Some(arn),
        )?,
        None => {
            // The actions stay; they must still suit a changed protocol.
            for action in &current.default_actions {
                if let Some(tg) = action
                    .target_group()
                    .and_then(|tg| cx.state.target_groups.get(tg))
                    && !elb_api::protocols_compatible(protocol, &tg.protocol)
                {
                    return Err(incompatible(protocol, &tg.protocol));
                }
            }
            current.default_actions.clone()
        }
    };
    let Tls {
        certificates,
        ssl_policy,
        alpn_policy,
    } = tls_settings(p, protocol, Some(current))?;
    imported(cx, &certificates)?;
    let taken = cx.state.listeners.values().any(|l| {
        l.arn != arn && l.load_balancer_arn == current.load_balancer_arn && l.port == port
    });
    if taken {
        return Err(duplicate(&current.load_balancer_arn));
    }
    let updated = Listener {
        port,
        protocol: protocol.to_owned(),
        default_actions,
        ssl_policy,
        certificates,
        alpn_policy,
        ..current.clone()
    };
    put(cx, kind::LISTENER, arn, &updated)?;
    let body = call.respond(|x| x.list("Listeners", [&updated], output::listener));
    cx.state.listeners.insert(arn.to_owned(), updated);
    Ok(body)
}

pub(super) fn delete(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("ListenerArn")?;
    listener(cx, arn)?;
    cx.delete(kind::LISTENER, arn.to_owned());
    cx.state.listeners.remove(arn);
    Ok(call.respond(|_| {}))
}

/// Listener certificates must be imported into ACM: AWS answers `CertificateNotFound` for an
/// ARN it does not know (it also takes IAM server certificates, which Causeway does not keep).
fn imported(cx: &Ctx<'_>, arns: &[String]) -> Result<(), ElbError> {
    let unknown = arns
        .iter()
        .find(|arn| !cx.state.acm_certificates.values().any(|c| &c.arn == *arn));
    match unknown {
        Some(arn) => Err(ElbError::new(
            ElbErrorCode::CertificateNotFound,
            format!("Certificate '{arn}' not found"),
        )),
        None => Ok(()),
    }
}

/// The `Certificates.member.N.CertificateArn` of a call, at least one.
fn certificate_arns(p: &Params) -> Result<Vec<String>, ElbError> {
    let entries = p
        .structs("Certificates")?
        .filter(|entries| !entries.is_empty())
        .ok_or_else(|| ElbError::missing("Certificates"))?;
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let arn = entry.get("CertificateArn").ok_or_else(|| {
            ElbError::missing(&format!("Certificates.member.{}.CertificateArn", i + 1))
        })?;
        if !out.iter().any(|a| a == arn) {
            out.push(arn.to_owned());
        }
    }
    Ok(out)
}

/// The TLS listener a certificate call names.
fn tls_listener<'a>(cx: &'a Ctx<'_>, call: &Call<'_>) -> Result<&'a Listener, ElbError> {
    let found = listener(cx, call.required("ListenerArn")?)?;
    if found.protocol != "TLS" {
        return Err(ElbError::new(
            ElbErrorCode::OperationNotPermitted,
            format!(
                "Listener '{}' is a {} listener: only TLS listeners have certificates",
                found.arn, found.protocol
            ),
        ));
    }
    Ok(found)
}

/// A `Certificate` member.
fn certificate(x: &mut causeway_wire::elbv2::xml::Xml, (arn, default): &(&str, bool)) {
    x.text("CertificateArn", arn);
    x.value("IsDefault", default);
}

/// AddListenerCertificates: certificates the listener serves besides its default, to clients
/// whose server name they cover.
pub(super) fn add_certificates(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let mut updated = tls_listener(cx, call)?.clone();
    let added = certificate_arns(call.params)?;
    imported(cx, &added)?;
    for arn in &added {
        if !updated.certificates.contains(arn) {
            updated.certificates.push(arn.clone());
        }
    }
    // The quota counts the certificates of all the load balancer's listeners, defaults
    // aside.
    let extra = |l: &Listener| l.certificates.len().saturating_sub(1);
    let on_load_balancer: usize = cx
        .state
        .listeners
        .values()
        .filter(|l| l.load_balancer_arn == updated.load_balancer_arn && l.arn != updated.arn)
        .map(extra)
        .sum::<usize>()
        + extra(&updated);
    let most = cx.config.elb_quotas.certificates_per_load_balancer;
    if on_load_balancer > most {
        return Err(ElbError::new(
            ElbErrorCode::TooManyCertificates,
            format!(
                "A load balancer's listeners hold at most {most} certificates besides their default ones; this request would give them {on_load_balancer}"
            ),
        ));
    }
    put(cx, kind::LISTENER, &updated.arn, &updated)?;
    let shown: Vec<(&str, bool)> = added.iter().map(|arn| (arn.as_str(), false)).collect();
    let body = call.respond(|x| x.list("Certificates", &shown, certificate));
    cx.state.listeners.insert(updated.arn.clone(), updated);
    Ok(body)
}

/// DescribeListenerCertificates: the default certificate (`IsDefault`) and the others.
pub(super) fn describe_certificates(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let found = tls_listener(cx, call)?;
    let items: Vec<(String, (&str, bool))> = found
        .certificates
        .iter()
        .enumerate()
        .map(|(i, arn)| (format!("{i:03}"), (arn.as_str(), i == 0)))
        .collect();
    let (page, next) = page(items, call.params)?;
    Ok(call.respond(|x| {
        x.list("Certificates", &page, certificate);
        x.opt_text("NextMarker", next.as_deref());
    }))
}

/// RemoveListenerCertificates: certificates other than the default go.
pub(super) fn remove_certificates(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let mut updated = tls_listener(cx, call)?.clone();
    let removed = certificate_arns(call.params)?;
    if updated
        .certificates
        .first()
        .is_some_and(|default| removed.contains(default))
    {
        return Err(ElbError::new(
            ElbErrorCode::OperationNotPermitted,
            "The default certificate cannot be removed: give the listener another with ModifyListener first",
        ));
    }
    updated.certificates.retain(|arn| !removed.contains(arn));
    put(cx, kind::LISTENER, &updated.arn, &updated)?;
    let body = call.respond(|_| {});
    cx.state.listeners.insert(updated.arn.clone(), updated);
    Ok(body)
}

/// DescribeListenerAttributes: a TCP or TCP_UDP listener's `tcp.idle_timeout.seconds`; other
/// listeners have none.
pub(super) fn describe_attributes(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let found = listener(cx, call.required("ListenerArn")?)?;
    let attributes = listener_attributes(found);
    Ok(call.respond(|x| output::attributes(x, &attributes)))
}

/// ModifyListenerAttributes: sets a TCP listener's idle timeout, which the load balancer
/// applies to the connections it accepts from then on. Answers the listener's attributes.
pub(super) fn modify_attributes(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("ListenerArn")?;
    let changes = attribute_changes(call)?;
    let mut updated = listener(cx, arn)?.clone();
    for (key, value) in changes {
        elb_api::check_listener_attribute(&key, &value, &updated.protocol)?;
        updated.attributes.insert(key, value);
    }
    put(cx, kind::LISTENER, arn, &updated)?;
    let attributes = listener_attributes(&updated);
    let body = call.respond(|x| output::attributes(x, &attributes));
    cx.state.listeners.insert(arn.to_owned(), updated);
    Ok(body)
}
