//! Snapshot tests of the elbv2 XML answers: what botocore and the Rust SDK parse must not
//! drift unnoticed. The snapshots sit with the crate's others in `src/snapshots`.

use causeway_model::elb::{
    ForwardAction, HealthCheck, Listener, LoadBalancer, LoadBalancerState, LoadBalancerStatus,
    Target, TargetGroup, TargetHealthReport, TargetHealthState, default_load_balancer_attributes,
    default_target_group_attributes,
};
use causeway_model::elb_api::{ElbError, ElbErrorCode};

use super::output::*;

const REQUEST_ID: &str = "5b1a2b3c-0000-4000-8000-000000000001";
const LB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/my-nlb/0123456789abcdef";
const TG_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/my-tg/fedcba9876543210";

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, pretty(&$value));
        });
    };
}

/// The answer with one element per line, indented by depth, so snapshot diffs are readable.
/// Elements that hold only text stay on one line. Only for the writer's own output: no
/// comments, attributes other than the root's, or `>` inside tags.
fn pretty(xml: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>').map(|e| start + e + 1) else {
            break;
        };
        let tag = &rest[start..end];
        rest = &rest[end..];
        if tag.starts_with("</") {
            depth = depth.saturating_sub(1);
            out.push_str(&"  ".repeat(depth));
            out.push_str(tag);
            out.push('\n');
            continue;
        }
        // An element with text only: `<a>text</a>` on one line.
        let text_end = rest.find('<').unwrap_or(rest.len());
        if rest[text_end..].starts_with("</") {
            let close_end = rest[text_end..]
                .find('>')
                .map_or(rest.len(), |e| text_end + e + 1);
            out.push_str(&"  ".repeat(depth));
            out.push_str(tag);
            out.push_str(&rest[..close_end]);
            out.push('\n');
            rest = &rest[close_end..];
            continue;
        }
        out.push_str(&"  ".repeat(depth));
        out.push_str(tag);
        out.push('\n');
        depth += 1;
    }
    out
}

fn sample_load_balancer() -> LoadBalancer {
    LoadBalancer {
        arn: LB_ARN.into(),
        name: "my-nlb".into(),
        dns_name: "my-nlb-0123456789abcdef.elb.us-east-1.amazonaws.com".into(),
        created_time: 1_458_941_172_920,
        scheme: "internal".into(),
        vpc_id: "vpc-00000000000000000".into(),
        state: LoadBalancerState::Provisioning,
        state_reason: None,
        subnets: vec!["subnet-aaaa".into(), "subnet-bbbb".into()],
        zones: vec![],
        security_groups: vec!["sg-1234".into()],
        ip_address_type: "ipv4".into(),
        enforce_security_group_inbound_rules_on_private_link_traffic: Some("on".into()),
        address: "127.10.0.1".into(),
        attributes: default_load_balancer_attributes(true),
        tags: vec![],
        capacity: None,
    }
}

fn sample_target_group() -> TargetGroup {
    TargetGroup {
        arn: TG_ARN.into(),
        name: "my-tg".into(),
        protocol: "TCP".into(),
        port: 8080,
        vpc_id: "vpc-00000000000000000".into(),
        target_type: "ip".into(),
        ip_address_type: "ipv4".into(),
        health_check: HealthCheck::defaults("HTTP"),
        attributes: default_target_group_attributes("TCP", "ip"),
        targets: vec![],
        tags: vec![],
        created_time: 0,
    }
}

#[test]
fn describe_load_balancers() {
    let lb = sample_load_balancer();
    let status = LoadBalancerStatus {
        state: LoadBalancerState::Failed,
        reason: Some("listener port 80 could not be bound: <in use> & more".into()),
    };
    let body = response("DescribeLoadBalancers", REQUEST_ID, |x| {
        x.list("LoadBalancers", [&lb], |x, lb| {
            load_balancer(x, lb, &status, "us-east-1")
        });
        x.text("NextMarker", "next");
    });
    snapshot!("elbv2_describe_load_balancers", body);
}

#[test]
fn create_target_group() {
    let tg = sample_target_group();
    let body = response("CreateTargetGroup", REQUEST_ID, |x| {
        x.list("TargetGroups", [&tg], |x, tg| {
            target_group(x, tg, &[LB_ARN.to_owned()])
        });
    });
    snapshot!("elbv2_create_target_group", body);
}

#[test]
fn describe_listeners() {
    let direct = Listener {
        arn: "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/net/my-nlb/0123456789abcdef/0000000000000001".into(),
        load_balancer_arn: LB_ARN.into(),
        port: 80,
        protocol: "TCP".into(),
        default_actions: vec![ForwardAction {
            kind: "forward".into(),
            target_group_arn: Some(TG_ARN.into()),
            target_groups: vec![],
        }],
        ssl_policy: None,
        certificates: vec![],
        alpn_policy: vec![],
        attributes: Default::default(),
        tags: vec![],
    };
    let tls = Listener {
        arn: direct.arn.replace("0000000000000001", "0000000000000002"),
        port: 443,
        protocol: "TLS".into(),
        default_actions: vec![ForwardAction {
            kind: "forward".into(),
            target_group_arn: None,
            target_groups: vec![(TG_ARN.into(), Some(5))],
        }],
        ssl_policy: Some("ELBSecurityPolicy-2016-08".into()),
        certificates: vec!["arn:aws:acm:us-east-1:000000000000:certificate/abc".into()],
        alpn_policy: vec!["HTTP2Preferred".into()],
        ..direct.clone()
    };
    let body = response("DescribeListeners", REQUEST_ID, |x| {
        x.list("Listeners", [&direct, &tls], listener);
    });
    snapshot!("elbv2_describe_listeners", body);
}

#[test]
fn describe_target_health_and_attributes_and_tags() {
    let reports = [
        TargetHealthReport {
            target: Target {
                id: "10.0.0.5".into(),
                port: 8080,
                availability_zone: None,
            },
            state: TargetHealthState::Healthy,
            reason: None,
            description: None,
        },
        TargetHealthReport {
            target: Target {
                id: "10.0.0.6".into(),
                port: 8080,
                availability_zone: Some("all".into()),
            },
            state: TargetHealthState::Unused,
            reason: Some("Target.NotInUse".into()),
            description: Some(
                "Given target group is not configured to receive traffic from ELB".into(),
            ),
        },
    ];
    let body = response("DescribeTargetHealth", REQUEST_ID, |x| {
        x.list("TargetHealthDescriptions", &reports, |x, r| {
            target_health(x, r, "8080")
        });
    });
    snapshot!("elbv2_describe_target_health", body);

    let mut attrs = std::collections::BTreeMap::new();
    attrs.insert("deletion_protection.enabled".to_owned(), "true".to_owned());
    let body = response("ModifyLoadBalancerAttributes", REQUEST_ID, |x| {
        attributes(x, &attrs)
    });
    snapshot!("elbv2_modify_load_balancer_attributes", body);

    let tags = vec![
        ("env".to_owned(), "a&b".to_owned()),
        ("empty".to_owned(), String::new()),
    ];
    let body = response("DescribeTags", REQUEST_ID, |x| {
        tag_descriptions(x, [(LB_ARN, &tags)])
    });
    snapshot!("elbv2_describe_tags", body);
}

#[test]
fn empty_result_and_error() {
    assert_eq!(
        response("DeleteLoadBalancer", REQUEST_ID, |_| {}),
        format!(
            "<DeleteLoadBalancerResponse xmlns=\"{NAMESPACE}\"><DeleteLoadBalancerResult></DeleteLoadBalancerResult><ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata></DeleteLoadBalancerResponse>"
        )
    );
    let error = ElbError::new(
        ElbErrorCode::LoadBalancerNotFound,
        "Load balancers '[a<b]' not found",
    );
    snapshot!("elbv2_error", error_response(&error, REQUEST_ID));
}

#[test]
fn zones_follow_subnets() {
    let mut lb = sample_load_balancer();
    assert_eq!(
        availability_zones(&lb, "eu-west-1"),
        vec![
            ("eu-west-1a".to_owned(), Some("subnet-aaaa".to_owned())),
            ("eu-west-1b".to_owned(), Some("subnet-bbbb".to_owned())),
        ]
    );
    // SetSubnets: a kept subnet stays in its zone, a new one takes the lowest free zone.
    lb.set_subnets(vec!["subnet-cccc".into(), "subnet-bbbb".into()]);
    assert_eq!(
        availability_zones(&lb, "eu-west-1"),
        vec![
            ("eu-west-1a".to_owned(), Some("subnet-cccc".to_owned())),
            ("eu-west-1b".to_owned(), Some("subnet-bbbb".to_owned())),
        ]
    );
    lb.set_subnets(vec!["subnet-bbbb".into()]);
    lb.set_subnets(vec![
        "subnet-bbbb".into(),
        "subnet-dddd".into(),
        "subnet-eeee".into(),
    ]);
    assert_eq!(
        availability_zones(&lb, "eu-west-1"),
        vec![
            ("eu-west-1b".to_owned(), Some("subnet-bbbb".to_owned())),
            ("eu-west-1a".to_owned(), Some("subnet-dddd".to_owned())),
            ("eu-west-1c".to_owned(), Some("subnet-eeee".to_owned())),
        ]
    );
    lb.subnets.clear();
    assert_eq!(
        availability_zones(&lb, "us-east-1"),
        vec![("us-east-1a".to_owned(), None)]
    );
}
