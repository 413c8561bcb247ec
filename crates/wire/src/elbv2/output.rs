//! The XML answers of elbv2 operations: the response and error envelopes, and the shapes of
//! load balancers, target groups, listeners, attributes, tags and target health.
//!
//! Element names and order follow the botocore model (`elbv2/2015-12-01/service-2.json`).
//! Members without a value are left out, as AWS does; lists are always written, even empty,
//! where AWS always has them (a target group's `LoadBalancerArns`).

use std::collections::BTreeMap;

use causeway_model::elb::{
    ForwardAction, Listener, LoadBalancer, LoadBalancerStatus, TagList, TargetGroup,
    TargetHealthReport,
};
use causeway_model::elb_api::ElbError;

use super::xml::{Xml, timestamp};

/// The XML namespace of every elbv2 answer.
pub const NAMESPACE: &str = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";

/// Route 53 hosted zone of network load balancers in us-east-1; every load balancer here
/// reports it, whatever the region, as nothing resolves through Route 53 anyway.
pub const CANONICAL_HOSTED_ZONE_ID: &str = "Z26RNL4JYFTOTI";

/// A successful answer: `<{op}Response><{op}Result>…</{op}Result><ResponseMetadata>…`.
///
/// The `{op}Result` element is written even when the operation returns nothing, because the
/// Rust SDK insists that it is the root's first child.
pub fn response(op: &str, request_id: &str, result: impl FnOnce(&mut Xml)) -> String {
    let mut x = Xml::new();
    let root = format!("{op}Response");
    let result_tag = format!("{op}Result");
    x.open_with_namespace(&root, NAMESPACE);
    x.element(&result_tag, result);
    x.element("ResponseMetadata", |x| x.text("RequestId", request_id));
    x.close(&root);
    x.into_string()
}

/// An error answer: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
pub fn error_response(error: &ElbError, request_id: &str) -> String {
    error_envelope(
        (error.code.fault(), error.code.as_str(), &error.message),
        request_id,
    )
}

/// The error envelope with any fault (`Sender`/`Receiver`), code and message: also the
/// answer to a request whose signature is refused.
pub fn error_envelope((fault, code, message): (&str, &str, &str), request_id: &str) -> String {
    let mut x = Xml::new();
    x.open_with_namespace("ErrorResponse", NAMESPACE);
    x.element("Error", |x| {
        x.text("Type", fault);
        x.text("Code", code);
        x.text("Message", message);
    });
    x.text("RequestId", request_id);
    x.close("ErrorResponse");
    x.into_string()
}

/// The Availability Zone of each subnet of a load balancer, one zone each (`{region}a`,
/// `{region}b`, ...), as AWS requires one subnet per zone: the subnets in the order they
/// were given, in the zones SetSubnets kept for them. A load balancer created without
/// subnets is in `{region}a`.
pub fn availability_zones(lb: &LoadBalancer, region: &str) -> Vec<(String, Option<String>)> {
    if lb.subnets.is_empty() {
        return vec![(format!("{region}a"), None)];
    }
    lb.subnets
        .iter()
        .zip(lb.zone_indexes())
        .map(|(subnet, zone)| {
            let index = usize::try_from(zone).unwrap_or(usize::MAX);
            (zone_name(region, index), Some(subnet.clone()))
        })
        .collect()
}

fn zone_name(region: &str, index: usize) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    let letter = letters.get(index % letters.len()).copied().unwrap_or(b'a');
    // Past 26 subnets (AWS allows far fewer) the zones repeat with a number, to stay distinct.
    match index / letters.len() {
        0 => format!("{region}{}", char::from(letter)),
        n => format!("{region}{}{n}", char::from(letter)),
    }
}

/// `AvailabilityZones`: each subnet's zone, with the load balancer's address.
pub fn zones(x: &mut Xml, lb: &LoadBalancer, region: &str) {
    x.list(
        "AvailabilityZones",
        availability_zones(lb, region),
        |x, (zone, subnet)| {
            x.text("ZoneName", &zone);
            x.opt_text("SubnetId", subnet.as_deref());
            x.list("LoadBalancerAddresses", [&lb.address], |x, address| {
                x.text("IpAddress", address);
            });
        },
    );
}

/// A `LoadBalancer` member.
pub fn load_balancer(x: &mut Xml, lb: &LoadBalancer, status: &LoadBalancerStatus, region: &str) {
    x.text("LoadBalancerArn", &lb.arn);
    x.text("DNSName", &lb.dns_name);
    x.text("CanonicalHostedZoneId", CANONICAL_HOSTED_ZONE_ID);
    x.text("CreatedTime", &timestamp(lb.created_time));
    x.text("LoadBalancerName", &lb.name);
    x.text("Scheme", &lb.scheme);
    x.text("VpcId", &lb.vpc_id);
    x.element("State", |x| {
        x.text("Code", status.state.as_str());
        x.opt_text("Reason", status.reason.as_deref());
    });
    x.text("Type", "network");
    zones(x, lb, region);
    if !lb.security_groups.is_empty() {
        x.string_list(
            "SecurityGroups",
            lb.security_groups.iter().map(String::as_str),
        );
    }
    x.text("IpAddressType", &lb.ip_address_type);
    x.opt_text(
        "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic",
        lb.enforce_security_group_inbound_rules_on_private_link_traffic
            .as_deref(),
    );
}

/// An `SslPolicy` member: protocols, ciphers with their priority (1 first), name, and the
/// load balancer types that take it.
pub fn ssl_policy(x: &mut Xml, policy: &causeway_model::elb_ssl::SslPolicy) {
    x.string_list(
        "SslProtocols",
        policy.ssl_protocols.iter().map(String::as_str),
    );
    x.list(
        "Ciphers",
        policy.ciphers.iter().enumerate(),
        |x, (i, name)| {
            x.text("Name", name);
            x.value("Priority", i + 1);
        },
    );
    x.text("Name", &policy.name);
    x.string_list(
        "SupportedLoadBalancerTypes",
        policy
            .supported_load_balancer_types
            .iter()
            .map(String::as_str),
    );
}

/// A `TargetGroup` member; `load_balancer_arns` are the load balancers whose listeners
/// forward to it.
pub fn target_group(x: &mut Xml, tg: &TargetGroup, load_balancer_arns: &[String]) {
    let hc = &tg.health_check;
    x.text("TargetGroupArn", &tg.arn);
    x.text("TargetGroupName", &tg.name);
    x.text("Protocol", &tg.protocol);
    x.value("Port", tg.port);
    x.text("VpcId", &tg.vpc_id);
    x.text("HealthCheckProtocol", &hc.protocol);
    x.text("HealthCheckPort", &hc.port);
    x.value("HealthCheckEnabled", hc.enabled);
    x.value("HealthCheckIntervalSeconds", hc.interval_seconds);
    x.value("HealthCheckTimeoutSeconds", hc.timeout_seconds);
    x.value("HealthyThresholdCount", hc.healthy_threshold);
    x.value("UnhealthyThresholdCount", hc.unhealthy_threshold);
    x.opt_text("HealthCheckPath", hc.path.as_deref());
    if let Some(matcher) = &hc.matcher {
        x.element("Matcher", |x| x.text("HttpCode", matcher));
    }
    x.string_list(
        "LoadBalancerArns",
        load_balancer_arns.iter().map(String::as_str),
    );
    x.text("TargetType", &tg.target_type);
    x.text("IpAddressType", &tg.ip_address_type);
}

/// A `Listener` member.
pub fn listener(x: &mut Xml, listener: &Listener) {
    x.text("ListenerArn", &listener.arn);
    x.text("LoadBalancerArn", &listener.load_balancer_arn);
    x.value("Port", listener.port);
    x.text("Protocol", &listener.protocol);
    // Only the default certificate: the others are DescribeListenerCertificates's.
    if let Some(default) = listener.certificates.first() {
        x.list("Certificates", [default], |x, arn| {
            x.text("CertificateArn", arn);
        });
    }
    x.opt_text("SslPolicy", listener.ssl_policy.as_deref());
    x.list("DefaultActions", &listener.default_actions, action);
    if !listener.alpn_policy.is_empty() {
        x.string_list(
            "AlpnPolicy",
            listener.alpn_policy.iter().map(String::as_str),
        );
    }
}

/// A forward `Action`. AWS describes a forward action both ways: the single target group in
/// `TargetGroupArn`, and every target group with its weight in `ForwardConfig`.
fn action(x: &mut Xml, action: &ForwardAction) {
    let groups: Vec<(&str, i32)> = if action.target_groups.is_empty() {
        action
            .target_group_arn
            .iter()
            .map(|arn| (arn.as_str(), 1))
            .collect()
    } else {
        action
            .target_groups
            .iter()
            .map(|(arn, weight)| (arn.as_str(), weight.unwrap_or(1)))
            .collect()
    };
    x.text("Type", &action.kind);
    if let [(single, _)] = groups.as_slice() {
        x.text("TargetGroupArn", single);
    }
    x.element("ForwardConfig", |x| {
        x.list("TargetGroups", &groups, |x, (arn, weight)| {
            x.text("TargetGroupArn", arn);
            x.value("Weight", weight);
        });
        x.element("TargetGroupStickinessConfig", |x| {
            x.value("Enabled", false);
        });
    });
}

/// `Attributes` as a list of `Key`/`Value` members, in key order.
pub fn attributes(x: &mut Xml, attributes: &BTreeMap<String, String>) {
    x.list("Attributes", attributes, |x, (key, value)| {
        x.text("Key", key);
        x.text("Value", value);
    });
}

/// `TagDescriptions`: each resource's ARN and its tags, in the order they were added.
pub fn tag_descriptions<'a>(
    x: &mut Xml,
    resources: impl IntoIterator<Item = (&'a str, &'a TagList)>,
) {
    x.list("TagDescriptions", resources, |x, (arn, tags)| {
        x.text("ResourceArn", arn);
        x.list("Tags", tags, |x, (key, value)| {
            x.text("Key", key);
            x.text("Value", value);
        });
    });
}

/// One `TargetHealthDescription`: the target, the port its health is checked on, and its
/// health.
pub fn target_health(x: &mut Xml, report: &TargetHealthReport, health_check_port: &str) {
    x.element("Target", |x| {
        x.text("Id", &report.target.id);
        x.value("Port", report.target.port);
        x.opt_text(
            "AvailabilityZone",
            report.target.availability_zone.as_deref(),
        );
    });
    x.text("HealthCheckPort", health_check_port);
    x.element("TargetHealth", |x| {
        x.text("State", report.state.as_str());
        x.opt_text("Reason", report.reason.as_deref());
        x.opt_text("Description", report.description.as_deref());
    });
}
