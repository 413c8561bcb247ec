//! CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer,
//! Describe/ModifyLoadBalancerAttributes, SetSecurityGroups, SetSubnets and
//! SetIpAddressType, Describe/ModifyCapacityReservation, and DescribeAccountLimits.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use causeway_model::elb::{LoadBalancer, LoadBalancerState, default_load_balancer_attributes};
use causeway_model::elb_api::{
    self, ElbError, ElbErrorCode, LOAD_BALANCER_IP_ADDRESS_TYPES, NETWORK, SCHEMES,
};
use causeway_wire::elbv2::output;
use causeway_wire::elbv2::xml::Xml;

use super::{
    Call, DEFAULT_VPC_ID, Outcome, created_key, list, load_balancer, opt_enum, page, put, required,
    status, tag_list,
};
use crate::ctx::Ctx;
use crate::state::kind;

pub(super) fn create(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let name = call.required("Name")?;
    elb_api::check_load_balancer_name(name)?;
    match p.get("Type") {
        Some(NETWORK) => {}
        other => {
            return Err(ElbError::validation(format!(
                "This server offers network load balancers only, and {}: set Type to 'network'",
                match other {
                    None =>
                        "AWS creates an 'application' load balancer when Type is omitted".to_owned(),
                    Some(t) => format!("'{t}' load balancers are not available"),
                }
            )));
        }
    }
    let scheme = opt_enum(p, "Scheme", "scheme", SCHEMES)?.unwrap_or("internet-facing");
    let ip_address_type = ip_address_type(call)?.unwrap_or("ipv4");
    let subnets = subnets(call)?;
    let security_groups = security_groups(&list(p, "SecurityGroups")?)?;
    let tags = tag_list(p, "Tags")?;

    // Creating is idempotent: the same name with the same settings answers with the load
    // balancer that exists.
    if let Some(existing) = cx.state.load_balancers.values().find(|lb| lb.name == name) {
        let same = existing.scheme == scheme
            && existing.ip_address_type == ip_address_type
            && sorted(&existing.subnets) == sorted(&subnets)
            && sorted(&existing.security_groups) == sorted(&security_groups);
        if !same {
            return Err(ElbError::new(
                ElbErrorCode::DuplicateLoadBalancerName,
                format!(
                    "A load balancer with the same name '{name}' exists, but with different settings"
                ),
            ));
        }
        let status = status(cx, existing);
        return Ok(call.respond(|x| {
            x.list("LoadBalancers", [existing], |x, lb| {
                output::load_balancer(x, lb, &status, &cx.config.region)
            });
        }));
    }

    let address = free_address(cx)?;
    let taken: Vec<String> = cx
        .state
        .load_balancers
        .keys()
        .filter_map(|arn| arn.rsplit('/').next())
        .map(str::to_owned)
        .collect();
    let id = cx.new_hex_id(16, |id| taken.iter().any(|t| t == id));
    let region = &cx.config.region;
    let lb = LoadBalancer {
        arn: format!(
            "arn:aws:elasticloadbalancing:{region}:{}:loadbalancer/net/{name}/{id}",
            cx.config.account_id
        ),
        name: name.to_owned(),
        dns_name: format!("{name}-{id}.elb.{region}.amazonaws.com"),
        created_time: cx.now.saturating_mul(1000),
        scheme: scheme.to_owned(),
        vpc_id: DEFAULT_VPC_ID.to_owned(),
        state: LoadBalancerState::Provisioning,
        state_reason: None,
        subnets,
        zones: Vec::new(),
        enforce_security_group_inbound_rules_on_private_link_traffic: (!security_groups.is_empty())
            .then(|| "on".to_owned()),
        security_groups,
        ip_address_type: ip_address_type.to_owned(),
        address,
        attributes: default_load_balancer_attributes(scheme == "internal"),
        tags,
        capacity: None,
    };
    put(cx, kind::LOAD_BALANCER, &lb.arn, &lb)?;
    let status = status(cx, &lb);
    let body = call.respond(|x| {
        x.list("LoadBalancers", [&lb], |x, lb| {
            output::load_balancer(x, lb, &status, &cx.config.region)
        });
    });
    cx.state.load_balancers.insert(lb.arn.clone(), lb);
    Ok(body)
}

/// The `IpAddressType` of a call, if given: `ipv4` or `dualstack` for network load
/// balancers.
fn ip_address_type<'a>(call: &Call<'a>) -> Result<Option<&'a str>, ElbError> {
    let p = call.params;
    if p.get("IpAddressType") == Some("dualstack-without-public-ipv4") {
        return Err(ElbError::invalid_configuration(
            "IP address type 'dualstack-without-public-ipv4' is for application load balancers only: use 'ipv4' or 'dualstack'",
        ));
    }
    opt_enum(
        p,
        "IpAddressType",
        "ipAddressType",
        LOAD_BALANCER_IP_ADDRESS_TYPES,
    )
}

/// The subnets of a create or SetSubnets, from `Subnets` or `SubnetMappings` (whose addresses and
/// allocation ids are not used here: a load balancer owns one address of this server).
fn subnets(call: &Call<'_>) -> Result<Vec<String>, ElbError> {
    let p = call.params;
    let plain = list(p, "Subnets")?;
    let mut mapped = Vec::new();
    for (i, mapping) in p
        .structs("SubnetMappings")?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let subnet = required(mapping, "SubnetId")
            .map_err(|_| ElbError::missing(&format!("SubnetMappings.member.{}.SubnetId", i + 1)))?;
        mapped.push(subnet.to_owned());
    }
    if !plain.is_empty() && !mapped.is_empty() {
        return Err(ElbError::validation(
            "You can specify subnets or subnet mappings, not both",
        ));
    }
    let subnets = if plain.is_empty() { mapped } else { plain };
    for (i, subnet) in subnets.iter().enumerate() {
        let valid = subnet.strip_prefix("subnet-").is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if !valid {
            return Err(ElbError::new(
                ElbErrorCode::SubnetNotFound,
                format!("The subnet ID '{subnet}' is not valid"),
            ));
        }
        if subnets[..i].contains(subnet) {
            return Err(ElbError::new(
                ElbErrorCode::InvalidSubnet,
                format!(
                    "Subnet '{subnet}' is given twice: a load balancer cannot be attached to multiple subnets in the same Availability Zone"
                ),
            ));
        }
    }
    Ok(subnets)
}

/// Checks security group ids (`sg-` and letters or digits) and drops repeats.
fn security_groups(groups: &[String]) -> Result<Vec<String>, ElbError> {
    let mut out: Vec<String> = Vec::new();
    for group in groups {
        let valid = group.strip_prefix("sg-").is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if !valid {
            return Err(ElbError::new(
                ElbErrorCode::InvalidSecurityGroup,
                format!(
                    "The security group '{group}' is not valid: security group ids look like 'sg-0123456789abcdef0'"
                ),
            ));
        }
        if !out.contains(group) {
            out.push(group.clone());
        }
    }
    Ok(out)
}

fn sorted(items: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = items.iter().map(String::as_str).collect();
    out.sort_unstable();
    out
}

/// The lowest address of the configured block that no load balancer has yet.
fn free_address(cx: &Ctx<'_>) -> Result<String, ElbError> {
    let (first, count) = cx.config.nlb_addresses;
    let used: std::collections::HashSet<&str> = cx
        .state
        .load_balancers
        .values()
        .map(|lb| lb.address.as_str())
        .collect();
    let base = u32::from(first);
    (0..count)
        .map_while(|i| base.checked_add(i))
        .map(|n| Ipv4Addr::from(n).to_string())
        .find(|ip| !used.contains(ip.as_str()))
        .ok_or_else(|| {
            ElbError::new(
                ElbErrorCode::TooManyLoadBalancers,
                format!(
                    "Every one of the {count} load balancer addresses from {first} is taken: delete a load balancer or give the server a larger --nlb-address-range"
                ),
            )
        })
}

pub(super) fn describe(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let arns = list(p, "LoadBalancerArns")?;
    let names = list(p, "Names")?;
    if !arns.is_empty() && !names.is_empty() {
        return Err(ElbError::validation(
            "Load balancer names and load balancer ARNs cannot be specified at the same time",
        ));
    }
    let lbs = &cx.state.load_balancers;
    let chosen: Vec<&LoadBalancer> = if !arns.is_empty() {
        let mut found = Vec::new();
        for arn in &arns {
            found.push(load_balancer(cx, arn)?);
        }
        found
    } else if !names.is_empty() {
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !lbs.values().any(|lb| &lb.name == *n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(ElbError::new(
                ElbErrorCode::LoadBalancerNotFound,
                format!("Load balancers '[{}]' not found", missing.join(", ")),
            ));
        }
        lbs.values().filter(|lb| names.contains(&lb.name)).collect()
    } else {
        lbs.values().collect()
    };
    let mut items: Vec<(String, &LoadBalancer)> = chosen
        .into_iter()
        .map(|lb| (created_key(lb.created_time, &lb.arn), lb))
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items.dedup_by(|a, b| a.0 == b.0);
    let (page, next) = page(items, p)?;
    let region = &cx.config.region;
    Ok(call.respond(|x| {
        x.list("LoadBalancers", page, |x, lb| {
            output::load_balancer(x, lb, &status(cx, lb), region)
        });
        x.opt_text("NextMarker", next.as_deref());
    }))
}

pub(super) fn delete(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("LoadBalancerArn")?;
    let lb = match load_balancer(cx, arn) {
        Ok(lb) => lb,
        // Deleting is idempotent: a load balancer that is already gone is deleted.
        Err(error) if error.code == ElbErrorCode::LoadBalancerNotFound => {
            return Ok(call.respond(|_| {}));
        }
        Err(error) => return Err(error),
    };
    if lb
        .attributes
        .get("deletion_protection.enabled")
        .map(String::as_str)
        == Some("true")
    {
        return Err(ElbError::new(
            ElbErrorCode::OperationNotPermitted,
            format!(
                "Load balancer '{arn}' cannot be deleted because deletion protection is enabled"
            ),
        ));
    }
    let listeners: Vec<String> = cx
        .state
        .listeners
        .values()
        .filter(|l| l.load_balancer_arn == arn)
        .map(|l| l.arn.clone())
        .collect();
    for listener in &listeners {
        cx.delete(kind::LISTENER, listener.clone());
    }
    cx.delete(kind::LOAD_BALANCER, arn.to_owned());
    for listener in &listeners {
        cx.state.listeners.remove(listener);
    }
    cx.state.load_balancers.remove(arn);
    Ok(call.respond(|_| {}))
}

/// Every attribute of a load balancer: the stored ones over the defaults, so attributes added
/// to the server later show up on older load balancers too.
fn all_attributes(lb: &LoadBalancer) -> BTreeMap<String, String> {
    let mut all = default_load_balancer_attributes(lb.scheme == "internal");
    all.extend(lb.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

pub(super) fn describe_attributes(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let lb = load_balancer(cx, call.required("LoadBalancerArn")?)?;
    let attributes = all_attributes(lb);
    Ok(call.respond(|x| output::attributes(x, &attributes)))
}

pub(super) fn modify_attributes(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("LoadBalancerArn")?;
    let changes = attribute_changes(call)?;
    let lb = load_balancer(cx, arn)?;
    let mut attributes = all_attributes(lb);
    for (key, value) in changes {
        elb_api::check_load_balancer_attribute(&key, &value)?;
        attributes.insert(key, value);
    }
    elb_api::check_load_balancer_attributes(&attributes)?;
    let mut updated = lb.clone();
    updated.attributes = attributes;
    put(cx, kind::LOAD_BALANCER, arn, &updated)?;
    let body = call.respond(|x| output::attributes(x, &updated.attributes));
    cx.state.load_balancers.insert(arn.to_owned(), updated);
    Ok(body)
}

/// The `Attributes` of a Modify*Attributes call as key/value pairs, in the order given.
pub(super) fn attribute_changes(call: &Call<'_>) -> Result<Vec<(String, String)>, ElbError> {
    let Some(entries) = call.params.structs("Attributes")? else {
        return Err(ElbError::missing("Attributes"));
    };
    if entries.is_empty() {
        return Err(ElbError::validation(
            "Attributes must contain at least one attribute",
        ));
    }
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let key = entry
            .get("Key")
            .ok_or_else(|| ElbError::missing(&format!("Attributes.member.{}.Key", i + 1)))?;
        let value = entry.get("Value").unwrap_or_default();
        out.push((key.to_owned(), value.to_owned()));
    }
    Ok(out)
}

pub(super) fn set_security_groups(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let arn = call.required("LoadBalancerArn")?;
    let groups = p
        .list("SecurityGroups")?
        .ok_or_else(|| ElbError::missing("SecurityGroups"))?;
    let groups = security_groups(&groups)?;
    let enforce = opt_enum(
        p,
        "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic",
        "enforceSecurityGroupInboundRulesOnPrivateLinkTraffic",
        &["on", "off"],
    )?;
    let lb = load_balancer(cx, arn)?;
    if lb.security_groups.is_empty() {
        return Err(ElbError::invalid_configuration(
            "You can't perform this operation on a Network Load Balancer unless you specified a security group for the load balancer when you created it",
        ));
    }
    if groups.is_empty() {
        return Err(ElbError::invalid_configuration(
            "A Network Load Balancer created with security groups must keep at least one: give one or more security groups",
        ));
    }
    let mut updated = lb.clone();
    updated.security_groups = groups;
    if let Some(enforce) = enforce {
        updated.enforce_security_group_inbound_rules_on_private_link_traffic =
            Some(enforce.to_owned());
    }
    put(cx, kind::LOAD_BALANCER, arn, &updated)?;
    let body = call.respond(|x: &mut Xml| {
        x.string_list(
            "SecurityGroupIds",
            updated.security_groups.iter().map(String::as_str),
        );
        x.opt_text(
            "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic",
            updated
                .enforce_security_group_inbound_rules_on_private_link_traffic
                .as_deref(),
        );
    });
    cx.state.load_balancers.insert(arn.to_owned(), updated);
    Ok(body)
}

/// SetSubnets: the load balancer's subnets become the ones given (at least one), each in
/// its own Availability Zone; subnets kept stay in their zones. Answers the zones and the IP
/// address type.
pub(super) fn set_subnets(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("LoadBalancerArn")?;
    let subnets = subnets(call)?;
    let mut updated = load_balancer(cx, arn)?.clone();
    if subnets.is_empty() {
        return Err(ElbError::validation(
            "You must specify either subnets or subnet mappings: a network load balancer needs at least one subnet",
        ));
    }
    updated.set_subnets(subnets);
    put(cx, kind::LOAD_BALANCER, arn, &updated)?;
    let region = cx.config.region.clone();
    let body = call.respond(|x: &mut Xml| {
        output::zones(x, &updated, &region);
        x.text("IpAddressType", &updated.ip_address_type);
    });
    cx.state.load_balancers.insert(arn.to_owned(), updated);
    Ok(body)
}

/// SetIpAddressType: `ipv4` or `dualstack`. The load balancer's one address is the same
/// either way (see the compatibility notes).
pub(super) fn set_ip_address_type(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("LoadBalancerArn")?;
    let ip_address_type =
        ip_address_type(call)?.ok_or_else(|| ElbError::missing("IpAddressType"))?;
    let mut updated = load_balancer(cx, arn)?.clone();
    updated.ip_address_type = ip_address_type.to_owned();
    put(cx, kind::LOAD_BALANCER, arn, &updated)?;
    let body = call.respond(|x: &mut Xml| x.text("IpAddressType", &updated.ip_address_type));
    cx.state.load_balancers.insert(arn.to_owned(), updated);
    Ok(body)
}

/// DescribeAccountLimits: the quotas this server enforces on network load balancers.
pub(super) fn describe_account_limits(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let limits: Vec<(String, (&str, String))> = cx
        .config
        .elb_quotas
        .account_limits(u64::from(cx.config.nlb_addresses.1))
        .into_iter()
        .enumerate()
        .map(|(i, limit)| (format!("{i:03}"), limit))
        .collect();
    let (page, next) = page(limits, call.params)?;
    Ok(call.respond(|x: &mut Xml| {
        x.list("Limits", &page, |x, (name, max)| {
            x.text("Name", name);
            x.text("Max", max);
        });
        x.opt_text("NextMarker", next.as_deref());
    }))
}

/// The answer of Describe/ModifyCapacityReservation: when the reservation last changed, the
/// decreases left today, the minimum capacity, and its share in each zone (provisioned at
/// once: there is no capacity to wait for here).
fn capacity_answer(x: &mut Xml, lb: &LoadBalancer, now: i64, region: &str) {
    use causeway_model::elb::CAPACITY_DECREASES_PER_DAY;
    let reservation = lb.capacity.as_ref();
    if let Some(reservation) = reservation {
        x.text(
            "LastModifiedTime",
            &causeway_wire::elbv2::xml::timestamp(reservation.modified),
        );
    }
    x.value(
        "DecreaseRequestsRemaining",
        reservation.map_or(CAPACITY_DECREASES_PER_DAY, |r| r.decreases_remaining(now)),
    );
    if let Some(units) = reservation.and_then(|r| r.units) {
        x.element("MinimumLoadBalancerCapacity", |x| {
            x.value("CapacityUnits", units);
        });
        let zones = output::availability_zones(lb, region);
        let each = f64::from(units) / zones.len().max(1) as f64;
        x.list("CapacityReservationState", zones, |x, (zone, _)| {
            x.element("State", |x| x.text("Code", "provisioned"));
            x.text("AvailabilityZone", &zone);
            x.value("EffectiveCapacityUnits", each);
        });
    }
}

/// DescribeCapacityReservation: the load balancer's LCU reservation (none until one is made).
pub(super) fn describe_capacity_reservation(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let lb = load_balancer(cx, call.required("LoadBalancerArn")?)?;
    Ok(call.respond(|x: &mut Xml| capacity_answer(x, lb, cx.now, &cx.config.region)))
}

/// ModifyCapacityReservation: sets the minimum capacity units (`MinimumLoadBalancerCapacity`)
/// or removes the reservation (`ResetCapacityReservation`). As on AWS, a reservation can be
/// raised at will but lowered twice a day, and load balancers with TLS listeners take none.
/// The reservation is kept and reported; it changes nothing in how this server balances.
pub(super) fn modify_capacity_reservation(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let p = call.params;
    let arn = call.required("LoadBalancerArn")?;
    let units = match p.nested("MinimumLoadBalancerCapacity") {
        Some(minimum) => match super::opt_int(&minimum, "CapacityUnits")? {
            Some(n) if n >= 1 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            Some(n) => {
                return Err(ElbError::validation(format!(
                    "MinimumLoadBalancerCapacity.CapacityUnits '{n}' is not valid: reserve 1 or more capacity units, or reset the reservation with ResetCapacityReservation"
                )));
            }
            None => {
                return Err(ElbError::missing(
                    "MinimumLoadBalancerCapacity.CapacityUnits",
                ));
            }
        },
        None => None,
    };
    let reset = p.get("ResetCapacityReservation") == Some("true");
    let units = match (units, reset) {
        (Some(_), true) => {
            return Err(ElbError::validation(
                "Give either MinimumLoadBalancerCapacity or ResetCapacityReservation, not both",
            ));
        }
        (None, false) => {
            return Err(ElbError::validation(
                "When modifying capacity reservation, you must include at least one MinimumLoadBalancerCapacity or ResetCapacityReservation",
            ));
        }
        (units, _) => units,
    };
    let lb = load_balancer(cx, arn)?;
    if units.is_some()
        && cx
            .state
            .listeners
            .values()
            .any(|l| l.load_balancer_arn == arn && l.protocol == "TLS")
    {
        return Err(ElbError::new(
            ElbErrorCode::OperationNotPermitted,
            "LCU reservation is not supported on Network Load Balancers using TLS listeners",
        ));
    }
    let mut reservation = lb.capacity.clone().unwrap_or_default();
    let current = reservation.units;
    if let (Some(old), Some(new)) = (current, units)
        && new < old
    {
        if reservation.decreases_remaining(cx.now) == 0 {
            return Err(ElbError::new(
                ElbErrorCode::CapacityDecreaseRequestLimitExceeded,
                format!(
                    "The reservation of load balancer '{arn}' was already decreased {} times today, the most a day allows: raise it, or decrease it tomorrow (UTC)",
                    causeway_model::elb::CAPACITY_DECREASES_PER_DAY
                ),
            ));
        }
        reservation.decreases.push(cx.now);
    }
    // Only today's decreases count.
    let today = cx.now.div_euclid(86_400);
    reservation
        .decreases
        .retain(|at| at.div_euclid(86_400) == today);
    reservation.units = units;
    reservation.modified = cx.now.saturating_mul(1000);
    let mut updated = lb.clone();
    updated.capacity = Some(reservation);
    put(cx, kind::LOAD_BALANCER, arn, &updated)?;
    let region = cx.config.region.clone();
    let body = call.respond(|x: &mut Xml| capacity_answer(x, &updated, cx.now, &region));
    cx.state.load_balancers.insert(arn.to_owned(), updated);
    Ok(body)
}
