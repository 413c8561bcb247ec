//! CreateTargetGroup, DescribeTargetGroups, ModifyTargetGroup, DeleteTargetGroup and
//! Describe/ModifyTargetGroupAttributes.

use std::collections::BTreeMap;

use causeway_model::elb::{HealthCheck, TargetGroup, default_target_group_attributes};
use causeway_model::elb_api::{
    self, ElbError, ElbErrorCode, HealthCheckChange, PROTOCOLS, TARGET_GROUP_IP_ADDRESS_TYPES,
    TARGET_TYPES,
};
use causeway_wire::elbv2::{Params, output};

use super::load_balancers::attribute_changes;
use super::{
    Call, DEFAULT_VPC_ID, Outcome, created_key, forwards_to, list, load_balancer,
    load_balancers_of, opt_bool, opt_enum, opt_int, page, put, tag_list, target_group,
};
use crate::ctx::Ctx;
use crate::state::kind;

pub(super) fn create(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let name = call.required("Name")?;
    elb_api::check_name("Target group", name)?;
    let target_type = match p.get("TargetType") {
        Some(t @ ("lambda" | "alb")) => {
            return Err(ElbError::validation(format!(
                "Target type '{t}' is not offered by this server: use 'ip' (or 'instance')"
            )));
        }
        _ => opt_enum(p, "TargetType", "targetType", TARGET_TYPES)?.unwrap_or("instance"),
    };
    let protocol = match p.get("Protocol") {
        None => {
            return Err(ElbError::validation(format!(
                "A protocol must be specified for a target group with target type '{target_type}': use TCP, TLS, UDP or TCP_UDP"
            )));
        }
        Some(protocol) => check_protocol(protocol)?,
    };
    let port = match p.get("Port") {
        None => {
            return Err(ElbError::validation(format!(
                "A port must be specified for a target group with target type '{target_type}'"
            )));
        }
        Some(port) => elb_api::port(port, "Port")?,
    };
    let ip_address_type = opt_enum(
        p,
        "IpAddressType",
        "ipAddressType",
        TARGET_GROUP_IP_ADDRESS_TYPES,
    )?
    .unwrap_or("ipv4");
    if p.get("ProtocolVersion").is_some() {
        return Err(ElbError::validation(
            "ProtocolVersion is for HTTP and HTTPS target groups of application load balancers only",
        ));
    }
    let vpc_id = match p.get("VpcId") {
        Some("") => return Err(ElbError::validation("VpcId cannot be empty")),
        Some(vpc) => vpc,
        None => DEFAULT_VPC_ID,
    };
    let health_check =
        elb_api::apply_health_check(&HealthCheck::defaults("TCP"), &health_check_change(p)?)?;
    let tags = tag_list(p, "Tags")?;

    // Creating is idempotent: the same name with the same settings answers with the target
    // group that exists.
    if let Some(existing) = cx.state.target_groups.values().find(|tg| tg.name == name) {
        let same = existing.protocol == protocol
            && existing.port == port
            && existing.vpc_id == vpc_id
            && existing.target_type == target_type
            && existing.ip_address_type == ip_address_type
            && existing.health_check == health_check;
        if !same {
            return Err(ElbError::new(
                ElbErrorCode::DuplicateTargetGroupName,
                format!(
                    "A target group with the same name '{name}' exists, but with different settings"
                ),
            ));
        }
        let lbs = load_balancers_of(cx, &existing.arn);
        return Ok(call.respond(|x| {
            x.list("TargetGroups", [existing], |x, tg| {
                output::target_group(x, tg, &lbs)
            });
        }));
    }

    let most = cx.config.elb_quotas.target_groups;
    if cx.state.target_groups.len() >= most {
        return Err(ElbError::new(
            ElbErrorCode::TooManyTargetGroups,
            format!("The account has {most} target groups, the most it can have: delete one first"),
        ));
    }
    let taken: Vec<String> = cx
        .state
        .target_groups
        .keys()
        .filter_map(|arn| arn.rsplit('/').next())
        .map(str::to_owned)
        .collect();
    let id = cx.new_hex_id(16, |id| taken.iter().any(|t| t == id));
    let tg = TargetGroup {
        arn: format!(
            "arn:aws:elasticloadbalancing:{}:{}:targetgroup/{name}/{id}",
            cx.config.region, cx.config.account_id
        ),
        name: name.to_owned(),
        protocol: protocol.to_owned(),
        port,
        vpc_id: vpc_id.to_owned(),
        target_type: target_type.to_owned(),
        ip_address_type: ip_address_type.to_owned(),
        health_check,
        attributes: default_target_group_attributes(protocol, target_type),
        targets: Vec::new(),
        tags,
        created_time: cx.now.saturating_mul(1000),
    };
    put(cx, kind::TARGET_GROUP, &tg.arn, &tg)?;
    let body = call.respond(|x| {
        x.list("TargetGroups", [&tg], |x, tg| {
            output::target_group(x, tg, &[])
        });
    });
    cx.state.target_groups.insert(tg.arn.clone(), tg);
    Ok(body)
}

/// Checks a target group protocol: the network load balancer ones are taken, the others
/// refused with a message that says why.
fn check_protocol(protocol: &str) -> Result<&str, ElbError> {
    if PROTOCOLS.contains(&protocol) {
        return Ok(protocol);
    }
    let why = match protocol {
        "HTTP" | "HTTPS" | "GENEVE" => "is for application and gateway load balancers",
        "QUIC" | "TCP_QUIC" => "is not offered by this server",
        _ => "is not a target group protocol",
    };
    Err(ElbError::validation(format!(
        "Protocol '{protocol}' {why}: network load balancer target groups use TCP, TLS, UDP or TCP_UDP"
    )))
}

/// The health check settings a create or modify names.
fn health_check_change(p: &Params) -> Result<HealthCheckChange, ElbError> {
    Ok(HealthCheckChange {
        protocol: p.get("HealthCheckProtocol").map(str::to_owned),
        port: p.get("HealthCheckPort").map(str::to_owned),
        path: p.get("HealthCheckPath").map(str::to_owned),
        enabled: opt_bool(p, "HealthCheckEnabled")?,
        interval_seconds: opt_int(p, "HealthCheckIntervalSeconds")?,
        timeout_seconds: opt_int(p, "HealthCheckTimeoutSeconds")?,
        healthy_threshold: opt_int(p, "HealthyThresholdCount")?,
        unhealthy_threshold: opt_int(p, "UnhealthyThresholdCount")?,
        matcher: match p.nested("Matcher") {
            None => None,
            Some(m) => {
                if m.get("GrpcCode").is_some() {
                    return Err(ElbError::validation(
                        "Matcher.GrpcCode is for application load balancer target groups only: use Matcher.HttpCode",
                    ));
                }
                m.get("HttpCode").map(str::to_owned)
            }
        },
    })
}

pub(super) fn describe(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let lb_arn = p.get("LoadBalancerArn");
    let arns = list(p, "TargetGroupArns")?;
    let names = list(p, "Names")?;
    let filters = usize::from(lb_arn.is_some())
        + usize::from(!arns.is_empty())
        + usize::from(!names.is_empty());
    if filters > 1 {
        return Err(ElbError::validation(
            "Give at most one of LoadBalancerArn, TargetGroupArns and Names",
        ));
    }
    let tgs = &cx.state.target_groups;
    let chosen: Vec<&TargetGroup> = if let Some(lb_arn) = lb_arn {
        load_balancer(cx, lb_arn)?;
        tgs.values()
            .filter(|tg| {
                cx.state
                    .listeners
                    .values()
                    .any(|l| l.load_balancer_arn == lb_arn && forwards_to(l, &tg.arn))
            })
            .collect()
    } else if !arns.is_empty() {
        let mut found = Vec::new();
        for arn in &arns {
            found.push(target_group(cx, arn)?);
        }
        found
    } else if !names.is_empty() {
        if names.iter().any(|n| !tgs.values().any(|tg| &tg.name == n)) {
            return Err(ElbError::target_groups_not_found());
        }
        tgs.values().filter(|tg| names.contains(&tg.name)).collect()
    } else {
        tgs.values().collect()
    };
    let mut items: Vec<(String, &TargetGroup)> = chosen
        .into_iter()
        .map(|tg| (created_key(tg.created_time, &tg.arn), tg))
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items.dedup_by(|a, b| a.0 == b.0);
    let (page, next) = page(items, p)?;
    Ok(call.respond(|x| {
        x.list("TargetGroups", page, |x, tg| {
            output::target_group(x, tg, &load_balancers_of(cx, &tg.arn))
        });
        x.opt_text("NextMarker", next.as_deref());
    }))
}

pub(super) fn modify(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("TargetGroupArn")?;
    let change = health_check_change(call.params)?;
    let tg = target_group(cx, arn)?;
    let mut updated = tg.clone();
    updated.health_check = elb_api::apply_health_check(&tg.health_check, &change)?;
    put(cx, kind::TARGET_GROUP, arn, &updated)?;
    let lbs = load_balancers_of(cx, arn);
    let body = call.respond(|x| {
        x.list("TargetGroups", [&updated], |x, tg| {
            output::target_group(x, tg, &lbs)
        });
    });
    cx.state.target_groups.insert(arn.to_owned(), updated);
    Ok(body)
}

pub(super) fn delete(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("TargetGroupArn")?;
    match target_group(cx, arn) {
        Ok(_) => {}
        // Deleting is idempotent: a target group that is already gone is deleted.
        Err(error) if error.code == ElbErrorCode::TargetGroupNotFound => {
            return Ok(call.respond(|_| {}));
        }
        Err(error) => return Err(error),
    }
    if cx.state.listeners.values().any(|l| forwards_to(l, arn)) {
        return Err(ElbError::new(
            ElbErrorCode::ResourceInUse,
            format!("Target group '{arn}' is currently in use by a listener or a rule"),
        ));
    }
    cx.delete(kind::TARGET_GROUP, arn.to_owned());
    cx.state.target_groups.remove(arn);
    Ok(call.respond(|_| {}))
}

/// Every attribute of a target group: the stored ones over the defaults.
fn all_attributes(tg: &TargetGroup) -> BTreeMap<String, String> {
    let mut all = default_target_group_attributes(&tg.protocol, &tg.target_type);
    all.extend(tg.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

pub(super) fn describe_attributes(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let tg = target_group(cx, call.required("TargetGroupArn")?)?;
    let attributes = all_attributes(tg);
    Ok(call.respond(|x| output::attributes(x, &attributes)))
}

pub(super) fn modify_attributes(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("TargetGroupArn")?;
    let changes = attribute_changes(call)?;
    let tg = target_group(cx, arn)?;
    let mut attributes = all_attributes(tg);
    for (key, value) in changes {
        elb_api::check_target_group_attribute(&key, &value, &tg.protocol)?;
        attributes.insert(key, value);
    }
    let mut updated = tg.clone();
    updated.attributes = attributes;
    put(cx, kind::TARGET_GROUP, arn, &updated)?;
    let body = call.respond(|x| output::attributes(x, &updated.attributes));
    cx.state.target_groups.insert(arn.to_owned(), updated);
    Ok(body)
}
