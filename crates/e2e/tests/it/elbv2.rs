//! The Elastic Load Balancing v2 API for network load balancers, through the unmodified
//! `aws-sdk-elasticloadbalancingv2` client: load balancers, target groups, targets,
//! listeners, attributes, tags, paging, waiters, the wire shape, and durability.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::client::Waiters;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum,
    ForwardActionConfig, IpAddressType, LoadBalancer, LoadBalancerAttribute,
    LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum, Matcher, ProtocolEnum,
    SubnetMapping, Tag, TargetDescription, TargetGroupAttribute, TargetGroupTuple,
    TargetHealthStateEnum, TargetTypeEnum,
};

use crate::harness::*;

const VPC: &str = "vpc-0123456789abcdef0";

/// Creates an internal NLB in two subnets and returns it.
async fn create_lb(client: &Client, name: &str) -> LoadBalancer {
    client
        .create_load_balancer()
        .name(name)
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::Internal)
        .subnets("subnet-0aaa")
        .subnets("subnet-0bbb")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateLoadBalancer {name}: {e:?}"))
        .load_balancers()
        .first()
        .cloned()
        .expect("created load balancer")
}

async fn create_lb_arn(client: &Client, name: &str) -> String {
    create_lb(client, name)
        .await
        .load_balancer_arn()
        .expect("arn")
        .to_owned()
}

/// Creates a TCP target group of `ip` targets on port 8080 and returns its ARN.
async fn create_tg(client: &Client, name: &str) -> String {
    client
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Tcp)
        .port(8080)
        .vpc_id(VPC)
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateTargetGroup {name}: {e:?}"))
        .target_groups()
        .first()
        .and_then(|tg| tg.target_group_arn())
        .expect("target group arn")
        .to_owned()
}

fn forward(tg: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(tg)
        .build()
}

/// Creates a TCP listener forwarding to `tg` and returns its ARN.
async fn create_listener(client: &Client, lb: &str, port: i32, tg: &str) -> String {
    client
        .create_listener()
        .load_balancer_arn(lb)
        .protocol(ProtocolEnum::Tcp)
        .port(port)
        .default_actions(forward(tg))
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateListener {port}: {e:?}"))
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .expect("listener arn")
        .to_owned()
}

fn target(id: &str) -> TargetDescription {
    TargetDescription::builder().id(id).build()
}

fn is_hex16(id: &str) -> bool {
    id.len() == 16
        && id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

// ---------------------------------------------------------------------------------------------
// Load balancers

#[tokio::test]
async fn create_load_balancer_shape() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = client
        .create_load_balancer()
        .name("my-nlb")
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::Internal)
        .subnets("subnet-0aaa")
        .subnets("subnet-0bbb")
        .security_groups("sg-0123")
        .ip_address_type(IpAddressType::Ipv4)
        .tags(Tag::builder().key("env").value("test").build())
        .send()
        .await
        .unwrap();
    let lb = lb.load_balancers().first().unwrap();
    let arn = lb.load_balancer_arn().unwrap();
    let prefix =
        format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/my-nlb/");
    assert!(arn.starts_with(&prefix), "{arn}");
    let id = &arn[prefix.len()..];
    assert!(is_hex16(id), "{id}");
    assert_eq!(
        lb.dns_name(),
        Some(format!("my-nlb-{id}.elb.{REGION}.amazonaws.com").as_str())
    );
    assert_eq!(lb.canonical_hosted_zone_id(), Some("Z26RNL4JYFTOTI"));
    assert_eq!(lb.load_balancer_name(), Some("my-nlb"));
    assert_eq!(lb.scheme(), Some(&LoadBalancerSchemeEnum::Internal));
    assert_eq!(lb.r#type(), Some(&LoadBalancerTypeEnum::Network));
    assert_eq!(lb.vpc_id(), Some("vpc-00000000000000000"));
    assert_eq!(lb.ip_address_type(), Some(&IpAddressType::Ipv4));
    assert_eq!(lb.security_groups(), ["sg-0123"]);
    assert_eq!(
        lb.enforce_security_group_inbound_rules_on_private_link_traffic(),
        Some("on")
    );
    let created = lb.created_time().expect("CreatedTime").secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - created).abs() < 120, "created {created}, now {now}");
    let state = lb.state().and_then(|s| s.code()).cloned();
    assert!(
        matches!(
            state,
            Some(LoadBalancerStateEnum::Provisioning | LoadBalancerStateEnum::Active)
        ),
        "{state:?}"
    );
    let zones = lb.availability_zones();
    assert_eq!(zones.len(), 2);
    assert_eq!(zones[0].zone_name(), Some("us-east-1a"));
    assert_eq!(zones[0].subnet_id(), Some("subnet-0aaa"));
    assert_eq!(zones[1].zone_name(), Some("us-east-1b"));
    assert_eq!(zones[1].subnet_id(), Some("subnet-0bbb"));
    let address = zones[0].load_balancer_addresses()[0].ip_address().unwrap();
    assert!(address.starts_with("127."), "{address}");
    assert!(address.parse::<std::net::Ipv4Addr>().is_ok());

    // Each load balancer gets its own address.
    let other = create_lb(&client, "other").await;
    let other_address = other.availability_zones()[0].load_balancer_addresses()[0]
        .ip_address()
        .unwrap();
    assert_ne!(other_address, address);
}

#[tokio::test]
async fn create_load_balancer_with_subnet_mappings_and_defaults() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let out = client
        .create_load_balancer()
        .name("mapped")
        .r#type(LoadBalancerTypeEnum::Network)
        .subnet_mappings(SubnetMapping::builder().subnet_id("subnet-0ccc").build())
        .send()
        .await
        .unwrap();
    let lb = &out.load_balancers()[0];
    assert_eq!(lb.scheme(), Some(&LoadBalancerSchemeEnum::InternetFacing));
    assert_eq!(lb.availability_zones()[0].subnet_id(), Some("subnet-0ccc"));
    assert!(lb.security_groups().is_empty());
    assert_eq!(
        lb.enforce_security_group_inbound_rules_on_private_link_traffic(),
        None
    );
    client
        .create_load_balancer()
        .name("both")
        .r#type(LoadBalancerTypeEnum::Network)
        .subnets("subnet-0aaa")
        .subnet_mappings(SubnetMapping::builder().subnet_id("subnet-0ccc").build())
        .send()
        .await
        .expect_code("ValidationError");
    client
        .create_load_balancer()
        .name("bad-subnet")
        .r#type(LoadBalancerTypeEnum::Network)
        .subnets("not-a-subnet")
        .send()
        .await
        .expect_error(
            "SubnetNotFound",
            "The subnet ID 'not-a-subnet' is not valid",
        );
    client
        .create_load_balancer()
        .name("bad-sg")
        .r#type(LoadBalancerTypeEnum::Network)
        .security_groups("default")
        .send()
        .await
        .expect_code("InvalidSecurityGroup");
    client
        .create_load_balancer()
        .name("alb-type")
        .r#type(LoadBalancerTypeEnum::Network)
        .ip_address_type(IpAddressType::DualstackWithoutPublicIpv4)
        .send()
        .await
        .expect_code("InvalidConfigurationRequest");
}

#[tokio::test]
async fn only_network_load_balancers_are_offered() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let message = client
        .create_load_balancer()
        .name("no-type")
        .send()
        .await
        .expect_code("ValidationError");
    assert!(message.contains("network load balancers only"), "{message}");
    assert!(message.contains("'application'"), "{message}");
    for kind in [
        LoadBalancerTypeEnum::Application,
        LoadBalancerTypeEnum::Gateway,
    ] {
        client
            .create_load_balancer()
            .name("wrong-type")
            .r#type(kind)
            .send()
            .await
            .expect_error_containing("ValidationError", "set Type to 'network'");
    }
    let all = client.describe_load_balancers().send().await.unwrap();
    assert!(all.load_balancers().is_empty());
}

#[tokio::test]
async fn load_balancer_names_are_checked() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    for (name, part) in [
        ("a".repeat(33), "cannot be longer than '32' characters"),
        (
            "under_score".to_owned(),
            "alphanumeric characters or hyphens",
        ),
        ("-lead".to_owned(), "cannot begin or end with '-'"),
        ("trail-".to_owned(), "cannot begin or end with '-'"),
        ("internal-x".to_owned(), "cannot begin with 'internal-'"),
    ] {
        client
            .create_load_balancer()
            .name(&name)
            .r#type(LoadBalancerTypeEnum::Network)
            .send()
            .await
            .expect_error_containing("ValidationError", part);
    }
    client
        .create_load_balancer()
        .r#type(LoadBalancerTypeEnum::Network)
        .send()
        .await
        .expect_error(
            "MissingParameter",
            "The request must contain the parameter Name",
        );
    create_lb(&client, &"a".repeat(32)).await;
}

#[tokio::test]
async fn create_load_balancer_is_idempotent() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let first = create_lb_arn(&client, "same").await;
    let again = create_lb_arn(&client, "same").await;
    assert_eq!(first, again);
    client
        .create_load_balancer()
        .name("same")
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .send()
        .await
        .expect_error(
            "DuplicateLoadBalancerName",
            "A load balancer with the same name 'same' exists, but with different settings",
        );
    let all = client.describe_load_balancers().send().await.unwrap();
    assert_eq!(all.load_balancers().len(), 1);
}

#[tokio::test]
async fn describe_load_balancers_by_arn_and_name() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let a = create_lb_arn(&client, "alpha").await;
    let b = create_lb_arn(&client, "beta").await;
    let by_arn = client
        .describe_load_balancers()
        .load_balancer_arns(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.load_balancers().len(), 1);
    assert_eq!(
        by_arn.load_balancers()[0].load_balancer_arn(),
        Some(b.as_str())
    );
    assert_eq!(by_arn.next_marker(), None);
    let by_name = client
        .describe_load_balancers()
        .names("alpha")
        .names("beta")
        .send()
        .await
        .unwrap();
    let arns: HashSet<&str> = by_name
        .load_balancers()
        .iter()
        .filter_map(|lb| lb.load_balancer_arn())
        .collect();
    assert_eq!(arns, HashSet::from([a.as_str(), b.as_str()]));

    client
        .describe_load_balancers()
        .names("alpha")
        .names("nope")
        .send()
        .await
        .expect_error("LoadBalancerNotFound", "Load balancers '[nope]' not found");
    client
        .describe_load_balancers()
        .load_balancer_arns(NLB_ARN)
        .send()
        .await
        .expect_error(
            "LoadBalancerNotFound",
            "One or more load balancers not found",
        );
    client
        .describe_load_balancers()
        .load_balancer_arns("my-nlb")
        .send()
        .await
        .expect_error(
            "ValidationError",
            "'my-nlb' is not a valid load balancer ARN.",
        );
    client
        .describe_load_balancers()
        .load_balancer_arns(&a)
        .names("alpha")
        .send()
        .await
        .expect_code("ValidationError");
}

#[tokio::test]
async fn describe_load_balancers_pages() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let mut created = HashSet::new();
    for i in 0..5 {
        created.insert(create_lb_arn(&client, &format!("page-{i}")).await);
    }
    let first = client
        .describe_load_balancers()
        .page_size(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.load_balancers().len(), 2);
    let marker = first.next_marker().expect("NextMarker").to_owned();
    let second = client
        .describe_load_balancers()
        .page_size(2)
        .marker(&marker)
        .send()
        .await
        .unwrap();
    assert_eq!(second.load_balancers().len(), 2);
    assert_ne!(
        first.load_balancers()[0].load_balancer_arn(),
        second.load_balancers()[0].load_balancer_arn()
    );

    // The SDK's paginator walks every page.
    let pages: Vec<_> = client
        .describe_load_balancers()
        .page_size(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let seen: Vec<String> = pages
        .iter()
        .flat_map(|p| p.load_balancers())
        .filter_map(|lb| lb.load_balancer_arn().map(str::to_owned))
        .collect();
    assert_eq!(seen.len(), 5);
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), created);

    client
        .describe_load_balancers()
        .page_size(0)
        .send()
        .await
        .expect_code("ValidationError");
    client
        .describe_load_balancers()
        .page_size(401)
        .send()
        .await
        .expect_code("ValidationError");
}

#[tokio::test]
async fn delete_load_balancer_and_wait_until_deleted() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "doomed").await;
    let tg = create_tg(&client, "doomed-tg").await;
    let listener = create_listener(&client, &lb, 10080, &tg).await;
    client
        .delete_load_balancer()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    client
        .wait_until_load_balancers_deleted()
        .load_balancer_arns(&lb)
        .wait(Duration::from_secs(30))
        .await
        .expect("LoadBalancersDeleted waiter");
    client
        .describe_load_balancers()
        .load_balancer_arns(&lb)
        .send()
        .await
        .expect_error(
            "LoadBalancerNotFound",
            "One or more load balancers not found",
        );
    // Its listeners went with it; the target group stays, free again.
    client
        .describe_listeners()
        .listener_arns(&listener)
        .send()
        .await
        .expect_code("ListenerNotFound");
    let tgs = client
        .describe_target_groups()
        .target_group_arns(&tg)
        .send()
        .await
        .unwrap();
    assert!(tgs.target_groups()[0].load_balancer_arns().is_empty());
    // Deleting again succeeds; a malformed ARN does not.
    client
        .delete_load_balancer()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    client
        .delete_load_balancer()
        .load_balancer_arn("nope")
        .send()
        .await
        .expect_code("ValidationError");
    client.delete_load_balancer().send().await.expect_error(
        "MissingParameter",
        "The request must contain the parameter LoadBalancerArn",
    );
}

#[tokio::test]
async fn load_balancer_attributes_and_deletion_protection() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "attrs").await;
    let described = client
        .describe_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    let attrs: BTreeMap<&str, &str> = described
        .attributes()
        .iter()
        .map(|a| (a.key().unwrap(), a.value().unwrap()))
        .collect();
    assert_eq!(attrs.get("deletion_protection.enabled"), Some(&"false"));
    assert_eq!(
        attrs.get("load_balancing.cross_zone.enabled"),
        Some(&"false")
    );
    // An internal load balancer denies IPv6 internet gateway traffic by default.
    assert_eq!(attrs.get("ipv6.deny_all_igw_traffic"), Some(&"true"));
    assert_eq!(
        attrs.get("dns_record.client_routing_policy"),
        Some(&"any_availability_zone")
    );
    assert_eq!(attrs.get("access_logs.s3.enabled"), Some(&"false"));

    let modified = client
        .modify_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("true")
                .build(),
        )
        .attributes(
            LoadBalancerAttribute::builder()
                .key("load_balancing.cross_zone.enabled")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let after: BTreeMap<&str, &str> = modified
        .attributes()
        .iter()
        .map(|a| (a.key().unwrap(), a.value().unwrap()))
        .collect();
    assert_eq!(after.get("deletion_protection.enabled"), Some(&"true"));
    assert_eq!(
        after.get("load_balancing.cross_zone.enabled"),
        Some(&"true")
    );
    assert_eq!(after.len(), attrs.len());

    client
        .delete_load_balancer()
        .load_balancer_arn(&lb)
        .send()
        .await
        .expect_error(
            "OperationNotPermitted",
            &format!(
                "Load balancer '{lb}' cannot be deleted because deletion protection is enabled"
            ),
        );

    client
        .modify_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("idle_timeout.timeout_seconds")
                .value("60")
                .build(),
        )
        .send()
        .await
        .expect_error(
            "ValidationError",
            "Load balancer attribute key 'idle_timeout.timeout_seconds' is not recognized",
        );
    client
        .modify_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("maybe")
                .build(),
        )
        .send()
        .await
        .expect_error_containing("ValidationError", "'maybe'");
    client
        .modify_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("access_logs.s3.enabled")
                .value("true")
                .build(),
        )
        .send()
        .await
        .expect_code("InvalidConfigurationRequest");
    client
        .modify_load_balancer_attributes()
        .load_balancer_arn(NLB_ARN)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("false")
                .build(),
        )
        .send()
        .await
        .expect_code("LoadBalancerNotFound");

    client
        .modify_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("false")
                .build(),
        )
        .send()
        .await
        .unwrap();
    client
        .delete_load_balancer()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn set_security_groups() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let plain = create_lb_arn(&client, "no-sg").await;
    client
        .set_security_groups()
        .load_balancer_arn(&plain)
        .security_groups("sg-0aaa")
        .send()
        .await
        .expect_error_containing(
            "InvalidConfigurationRequest",
            "unless you specified a security group for the load balancer when you created it",
        );
    let with = client
        .create_load_balancer()
        .name("with-sg")
        .r#type(LoadBalancerTypeEnum::Network)
        .security_groups("sg-0aaa")
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let set = client
        .set_security_groups()
        .load_balancer_arn(&with)
        .security_groups("sg-0bbb")
        .security_groups("sg-0ccc")
        .enforce_security_group_inbound_rules_on_private_link_traffic(
            EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum::Off,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(set.security_group_ids(), ["sg-0bbb", "sg-0ccc"]);
    assert_eq!(
        set.enforce_security_group_inbound_rules_on_private_link_traffic(),
        Some(&EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum::Off)
    );
    let lb = client
        .describe_load_balancers()
        .load_balancer_arns(&with)
        .send()
        .await
        .unwrap();
    assert_eq!(
        lb.load_balancers()[0].security_groups(),
        ["sg-0bbb", "sg-0ccc"]
    );
    assert_eq!(
        lb.load_balancers()[0].enforce_security_group_inbound_rules_on_private_link_traffic(),
        Some("off")
    );
    // The SDK sends an empty list as `SecurityGroups=`: an NLB with groups must keep one.
    client
        .set_security_groups()
        .load_balancer_arn(&with)
        .set_security_groups(Some(vec![]))
        .send()
        .await
        .expect_code("InvalidConfigurationRequest");
    client
        .set_security_groups()
        .load_balancer_arn(&with)
        .security_groups("bad")
        .send()
        .await
        .expect_code("InvalidSecurityGroup");
}

/// SetSubnets replaces the subnets (a kept subnet stays in its zone) and SetIpAddressType
/// switches between ipv4 and dualstack; DescribeLoadBalancers shows both.
#[tokio::test]
async fn set_subnets_and_ip_address_type() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb(&client, "zones").await;
    let arn = lb.load_balancer_arn().unwrap().to_owned();
    let zones = |zones: &[aws_sdk_elasticloadbalancingv2::types::AvailabilityZone]| {
        zones
            .iter()
            .map(|z| {
                (
                    z.zone_name().unwrap_or_default().to_owned(),
                    z.subnet_id().unwrap_or_default().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let pair = |zone: &str, subnet: &str| (zone.to_owned(), subnet.to_owned());
    assert_eq!(
        zones(lb.availability_zones()),
        [
            pair("us-east-1a", "subnet-0aaa"),
            pair("us-east-1b", "subnet-0bbb")
        ]
    );
    let set = client
        .set_subnets()
        .load_balancer_arn(&arn)
        .subnets("subnet-0bbb")
        .subnets("subnet-0ccc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        zones(set.availability_zones()),
        [
            pair("us-east-1b", "subnet-0bbb"),
            pair("us-east-1a", "subnet-0ccc")
        ]
    );
    assert_eq!(set.ip_address_type(), Some(&IpAddressType::Ipv4));
    let described = client
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        zones(described.load_balancers()[0].availability_zones()),
        zones(set.availability_zones())
    );
    client
        .set_subnets()
        .load_balancer_arn(&arn)
        .subnets("subnet-0ddd")
        .subnets("subnet-0ddd")
        .send()
        .await
        .expect_code("InvalidSubnet");
    client
        .set_subnets()
        .load_balancer_arn(&arn)
        .subnets("net-1")
        .send()
        .await
        .expect_code("SubnetNotFound");
    client
        .set_subnets()
        .load_balancer_arn(&arn)
        .set_subnets(Some(vec![]))
        .send()
        .await
        .expect_code("ValidationError");

    let set = client
        .set_ip_address_type()
        .load_balancer_arn(&arn)
        .ip_address_type(IpAddressType::Dualstack)
        .send()
        .await
        .unwrap();
    assert_eq!(set.ip_address_type(), Some(&IpAddressType::Dualstack));
    let described = client
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.load_balancers()[0].ip_address_type(),
        Some(&IpAddressType::Dualstack)
    );
    client
        .set_ip_address_type()
        .load_balancer_arn(&arn)
        .ip_address_type(IpAddressType::DualstackWithoutPublicIpv4)
        .send()
        .await
        .expect_code("InvalidConfigurationRequest");
    let unknown = arn.replace(&arn[arn.len() - 16..], "0000000000000000");
    client
        .set_ip_address_type()
        .load_balancer_arn(&unknown)
        .ip_address_type(IpAddressType::Ipv4)
        .send()
        .await
        .expect_code("LoadBalancerNotFound");
}

/// Capacity reservations: none at first, then the minimum asked for, split evenly over the
/// load balancer's zones and provisioned; raised at will, lowered twice a day, reset; not
/// taken by a load balancer with a TLS listener.
#[tokio::test]
async fn capacity_reservations_are_kept_with_aws_rules() {
    use aws_sdk_elasticloadbalancingv2::types::{
        CapacityReservationStateEnum, MinimumLoadBalancerCapacity,
    };
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "reserved").await;
    let none = client
        .describe_capacity_reservation()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    assert!(none.minimum_load_balancer_capacity().is_none());
    assert!(none.capacity_reservation_state().is_empty());
    assert_eq!(none.decrease_requests_remaining(), Some(2));

    let reserve = |units: i32| {
        client
            .modify_capacity_reservation()
            .load_balancer_arn(&lb)
            .minimum_load_balancer_capacity(
                MinimumLoadBalancerCapacity::builder()
                    .capacity_units(units)
                    .build(),
            )
            .send()
    };
    let set = reserve(3000).await.unwrap();
    assert_eq!(
        set.minimum_load_balancer_capacity()
            .and_then(|m| m.capacity_units()),
        Some(3000)
    );
    assert!(set.last_modified_time().is_some());
    let zones: Vec<(
        Option<&str>,
        Option<f64>,
        Option<&CapacityReservationStateEnum>,
    )> = set
        .capacity_reservation_state()
        .iter()
        .map(|z| {
            (
                z.availability_zone(),
                z.effective_capacity_units(),
                z.state().and_then(|s| s.code()),
            )
        })
        .collect();
    assert_eq!(
        zones,
        [
            (
                Some("us-east-1a"),
                Some(1500.0),
                Some(&CapacityReservationStateEnum::Provisioned)
            ),
            (
                Some("us-east-1b"),
                Some(1500.0),
                Some(&CapacityReservationStateEnum::Provisioned)
            ),
        ]
    );
    reserve(6000).await.unwrap();
    assert_eq!(
        reserve(5000).await.unwrap().decrease_requests_remaining(),
        Some(1)
    );
    assert_eq!(
        reserve(4000).await.unwrap().decrease_requests_remaining(),
        Some(0)
    );
    reserve(3000)
        .await
        .expect_code("CapacityDecreaseRequestLimitExceeded");
    reserve(0).await.expect_code("ValidationError");
    let described = client
        .describe_capacity_reservation()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described
            .minimum_load_balancer_capacity()
            .and_then(|m| m.capacity_units()),
        Some(4000)
    );
    client
        .modify_capacity_reservation()
        .load_balancer_arn(&lb)
        .send()
        .await
        .expect_code("ValidationError");
    let reset = client
        .modify_capacity_reservation()
        .load_balancer_arn(&lb)
        .reset_capacity_reservation(true)
        .send()
        .await
        .unwrap();
    assert!(reset.minimum_load_balancer_capacity().is_none());

    // A load balancer with a TLS listener takes no reservation.
    let tg = create_tg(&client, "reserved-tg").await;
    let certificate = imported_certificate(&server, &["reserved.example.com"]).await;
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tls)
        .port(10470)
        .certificates(Certificate::builder().certificate_arn(&certificate).build())
        .default_actions(forward(&tg))
        .send()
        .await
        .unwrap();
    reserve(1000).await.expect_code("OperationNotPermitted");
}

/// DescribeAccountLimits answers the quotas enforced here; the certificates quota counts
/// every listener of a load balancer.
#[tokio::test]
async fn account_limits_and_the_certificates_quota() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let limits = client.describe_account_limits().send().await.unwrap();
    let limits: BTreeMap<&str, &str> = limits
        .limits()
        .iter()
        .map(|l| (l.name().unwrap_or_default(), l.max().unwrap_or_default()))
        .collect();
    assert_eq!(
        limits.get("listeners-per-network-load-balancer"),
        Some(&"50")
    );
    assert_eq!(
        limits.get("certificates-per-network-load-balancer"),
        Some(&"25")
    );
    assert_eq!(limits.get("target-groups"), Some(&"3000"));

    let lb = create_lb_arn(&client, "certs").await;
    let tg = create_tg(&client, "certs-tg").await;
    let mut certificates = Vec::new();
    for i in 0..14 {
        certificates.push(imported_certificate(&server, &[&format!("n{i}.example.com")]).await);
    }
    let mut listeners = Vec::new();
    for port in [10460, 10461] {
        let created = client
            .create_listener()
            .load_balancer_arn(&lb)
            .protocol(ProtocolEnum::Tls)
            .port(port)
            .certificates(
                Certificate::builder()
                    .certificate_arn(&certificates[0])
                    .build(),
            )
            .default_actions(forward(&tg))
            .send()
            .await
            .unwrap();
        listeners.push(created.listeners()[0].listener_arn().unwrap().to_owned());
    }
    let add = |listener: &str, arns: &[String]| {
        let mut call = client.add_listener_certificates().listener_arn(listener);
        for arn in arns {
            call = call.certificates(Certificate::builder().certificate_arn(arn).build());
        }
        call.send()
    };
    add(&listeners[0], &certificates[1..14]).await.unwrap();
    // 13 on the first listener and 13 on the second would be 26.
    add(&listeners[1], &certificates[1..14])
        .await
        .expect_code("TooManyCertificates");
    add(&listeners[1], &certificates[1..13]).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Target groups

#[tokio::test]
async fn create_target_group_defaults() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let out = client
        .create_target_group()
        .name("web")
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .vpc_id(VPC)
        .send()
        .await
        .unwrap();
    let tg = &out.target_groups()[0];
    let arn = tg.target_group_arn().unwrap();
    let prefix = format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web/");
    assert!(arn.starts_with(&prefix), "{arn}");
    assert!(is_hex16(&arn[prefix.len()..]));
    assert_eq!(tg.target_group_name(), Some("web"));
    assert_eq!(tg.protocol(), Some(&ProtocolEnum::Tcp));
    assert_eq!(tg.port(), Some(80));
    assert_eq!(tg.vpc_id(), Some(VPC));
    assert_eq!(tg.target_type(), Some(&TargetTypeEnum::Instance));
    assert_eq!(tg.health_check_protocol(), Some(&ProtocolEnum::Tcp));
    assert_eq!(tg.health_check_port(), Some("traffic-port"));
    assert_eq!(tg.health_check_enabled(), Some(true));
    assert_eq!(tg.health_check_interval_seconds(), Some(30));
    assert_eq!(tg.health_check_timeout_seconds(), Some(10));
    assert_eq!(tg.healthy_threshold_count(), Some(5));
    assert_eq!(tg.unhealthy_threshold_count(), Some(2));
    assert_eq!(tg.health_check_path(), None);
    assert!(tg.matcher().is_none());
    assert!(tg.load_balancer_arns().is_empty());
}

#[tokio::test]
async fn create_target_group_with_http_health_checks() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let out = client
        .create_target_group()
        .name("http-checked")
        .protocol(ProtocolEnum::Tcp)
        .port(8080)
        .vpc_id(VPC)
        .target_type(TargetTypeEnum::Ip)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_port("8081")
        .health_check_path("/healthz")
        .health_check_interval_seconds(10)
        .health_check_timeout_seconds(5)
        .healthy_threshold_count(3)
        .unhealthy_threshold_count(3)
        .matcher(Matcher::builder().http_code("200-299").build())
        .send()
        .await
        .unwrap();
    let tg = &out.target_groups()[0];
    assert_eq!(tg.health_check_protocol(), Some(&ProtocolEnum::Http));
    assert_eq!(tg.health_check_port(), Some("8081"));
    assert_eq!(tg.health_check_path(), Some("/healthz"));
    assert_eq!(tg.health_check_interval_seconds(), Some(10));
    assert_eq!(tg.health_check_timeout_seconds(), Some(5));
    assert_eq!(tg.healthy_threshold_count(), Some(3));
    assert_eq!(tg.matcher().and_then(|m| m.http_code()), Some("200-299"));

    // HTTP checks without a path or matcher get AWS's NLB defaults.
    let out = client
        .create_target_group()
        .name("http-defaults")
        .protocol(ProtocolEnum::Tls)
        .port(443)
        .vpc_id(VPC)
        .health_check_protocol(ProtocolEnum::Https)
        .send()
        .await
        .unwrap();
    let tg = &out.target_groups()[0];
    assert_eq!(tg.protocol(), Some(&ProtocolEnum::Tls));
    assert_eq!(tg.health_check_path(), Some("/"));
    assert_eq!(tg.matcher().and_then(|m| m.http_code()), Some("200-399"));
    assert_eq!(tg.health_check_timeout_seconds(), Some(6));

    for protocol in [ProtocolEnum::Udp, ProtocolEnum::TcpUdp] {
        let out = client
            .create_target_group()
            .name(format!(
                "tg-{}",
                protocol.as_str().to_lowercase().replace('_', "-")
            ))
            .protocol(protocol.clone())
            .port(53)
            .vpc_id(VPC)
            .send()
            .await
            .unwrap();
        assert_eq!(out.target_groups()[0].protocol(), Some(&protocol));
    }
}

#[tokio::test]
async fn create_target_group_errors() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let base = || {
        client
            .create_target_group()
            .name("bad")
            .protocol(ProtocolEnum::Tcp)
            .port(80)
            .vpc_id(VPC)
    };
    base()
        .health_check_interval_seconds(4)
        .send()
        .await
        .expect_error_containing("ValidationError", "from 5 to 300");
    base()
        .health_check_timeout_seconds(121)
        .send()
        .await
        .expect_error_containing("ValidationError", "from 2 to 120");
    base()
        .healthy_threshold_count(11)
        .send()
        .await
        .expect_error_containing("ValidationError", "from 2 to 10");
    base()
        .unhealthy_threshold_count(1)
        .send()
        .await
        .expect_code("ValidationError");
    base()
        .health_check_path("/x")
        .send()
        .await
        .expect_code("InvalidConfigurationRequest");
    base()
        .health_check_protocol(ProtocolEnum::Http)
        .matcher(Matcher::builder().http_code("100").build())
        .send()
        .await
        .expect_code("ValidationError");
    base()
        .health_check_enabled(false)
        .send()
        .await
        .expect_code("InvalidConfigurationRequest");
    base()
        .health_check_protocol(ProtocolEnum::Udp)
        .send()
        .await
        .expect_code("ValidationError");
    base()
        .protocol(ProtocolEnum::Http)
        .send()
        .await
        .expect_error_containing("ValidationError", "TCP, TLS, UDP or TCP_UDP");
    base()
        .target_type(TargetTypeEnum::Lambda)
        .send()
        .await
        .expect_code("ValidationError");
    client
        .create_target_group()
        .name("no-protocol")
        .port(80)
        .send()
        .await
        .expect_error_containing("ValidationError", "A protocol must be specified");
    client
        .create_target_group()
        .name("bad_name")
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .send()
        .await
        .expect_code("ValidationError");
    client
        .create_target_group()
        .name("bad-port")
        .protocol(ProtocolEnum::Tcp)
        .port(70000)
        .send()
        .await
        .expect_code("ValidationError");
    let all = client.describe_target_groups().send().await.unwrap();
    assert!(all.target_groups().is_empty());
}

#[tokio::test]
async fn create_target_group_is_idempotent() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let first = create_tg(&client, "same-tg").await;
    assert_eq!(create_tg(&client, "same-tg").await, first);
    client
        .create_target_group()
        .name("same-tg")
        .protocol(ProtocolEnum::Tcp)
        .port(9090)
        .vpc_id(VPC)
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .expect_error(
            "DuplicateTargetGroupName",
            "A target group with the same name 'same-tg' exists, but with different settings",
        );
}

#[tokio::test]
async fn describe_target_groups_filters_and_pages() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "tg-filter").await;
    let mut all = Vec::new();
    for i in 0..5 {
        all.push(create_tg(&client, &format!("tg-{i}")).await);
    }
    create_listener(&client, &lb, 10081, &all[2]).await;

    let by_lb = client
        .describe_target_groups()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    assert_eq!(by_lb.target_groups().len(), 1);
    assert_eq!(
        by_lb.target_groups()[0].target_group_arn(),
        Some(all[2].as_str())
    );
    assert_eq!(
        by_lb.target_groups()[0].load_balancer_arns(),
        std::slice::from_ref(&lb)
    );

    let by_name = client
        .describe_target_groups()
        .names("tg-0")
        .names("tg-4")
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.target_groups().len(), 2);
    let by_arn = client
        .describe_target_groups()
        .target_group_arns(&all[1])
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.target_groups()[0].target_group_name(), Some("tg-1"));

    client
        .describe_target_groups()
        .names("missing")
        .send()
        .await
        .expect_error("TargetGroupNotFound", "One or more target groups not found");
    let unknown = all[0].replace(&all[0][all[0].len() - 16..], "0000000000000000");
    client
        .describe_target_groups()
        .target_group_arns(&unknown)
        .send()
        .await
        .expect_error("TargetGroupNotFound", "One or more target groups not found");
    client
        .describe_target_groups()
        .target_group_arns("tg-0")
        .send()
        .await
        .expect_error("ValidationError", "'tg-0' is not a valid target group ARN.");
    client
        .describe_target_groups()
        .load_balancer_arn(NLB_ARN)
        .send()
        .await
        .expect_code("LoadBalancerNotFound");
    client
        .describe_target_groups()
        .load_balancer_arn(&lb)
        .names("tg-0")
        .send()
        .await
        .expect_code("ValidationError");

    let pages: Vec<_> = client
        .describe_target_groups()
        .page_size(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let seen: HashSet<String> = pages
        .iter()
        .flat_map(|p| p.target_groups())
        .filter_map(|tg| tg.target_group_arn().map(str::to_owned))
        .collect();
    assert_eq!(seen, all.into_iter().collect());
}

#[tokio::test]
async fn modify_target_group_health_check() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let tg = create_tg(&client, "modify-me").await;
    let out = client
        .modify_target_group()
        .target_group_arn(&tg)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_path("/ready")
        .health_check_interval_seconds(15)
        .healthy_threshold_count(2)
        .matcher(Matcher::builder().http_code("200,204").build())
        .send()
        .await
        .unwrap();
    let modified = &out.target_groups()[0];
    assert_eq!(modified.health_check_protocol(), Some(&ProtocolEnum::Http));
    assert_eq!(modified.health_check_path(), Some("/ready"));
    assert_eq!(modified.health_check_interval_seconds(), Some(15));
    assert_eq!(modified.healthy_threshold_count(), Some(2));
    assert_eq!(
        modified.matcher().and_then(|m| m.http_code()),
        Some("200,204")
    );
    let described = client
        .describe_target_groups()
        .target_group_arns(&tg)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.target_groups()[0].health_check_path(),
        Some("/ready")
    );

    // Back to TCP: path and matcher go.
    let out = client
        .modify_target_group()
        .target_group_arn(&tg)
        .health_check_protocol(ProtocolEnum::Tcp)
        .send()
        .await
        .unwrap();
    assert_eq!(out.target_groups()[0].health_check_path(), None);
    assert!(out.target_groups()[0].matcher().is_none());

    client
        .modify_target_group()
        .target_group_arn(&tg)
        .health_check_timeout_seconds(1)
        .send()
        .await
        .expect_code("ValidationError");
    let unknown = tg.replace(&tg[tg.len() - 16..], "0000000000000000");
    client
        .modify_target_group()
        .target_group_arn(&unknown)
        .health_check_interval_seconds(10)
        .send()
        .await
        .expect_code("TargetGroupNotFound");
}

#[tokio::test]
async fn delete_target_group() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "del-tg").await;
    let tg = create_tg(&client, "in-use").await;
    let listener = create_listener(&client, &lb, 10082, &tg).await;
    client
        .delete_target_group()
        .target_group_arn(&tg)
        .send()
        .await
        .expect_error(
            "ResourceInUse",
            &format!("Target group '{tg}' is currently in use by a listener or a rule"),
        );
    client
        .delete_listener()
        .listener_arn(&listener)
        .send()
        .await
        .unwrap();
    client
        .delete_target_group()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    client
        .describe_target_groups()
        .target_group_arns(&tg)
        .send()
        .await
        .expect_code("TargetGroupNotFound");
    // Already gone: still a success.
    client
        .delete_target_group()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn target_group_attributes() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let tg = create_tg(&client, "attrs-tg").await;
    let described = client
        .describe_target_group_attributes()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    let attrs: BTreeMap<&str, &str> = described
        .attributes()
        .iter()
        .map(|a| (a.key().unwrap(), a.value().unwrap()))
        .collect();
    assert_eq!(
        attrs.get("deregistration_delay.timeout_seconds"),
        Some(&"300")
    );
    assert_eq!(attrs.get("proxy_protocol_v2.enabled"), Some(&"false"));
    // `ip` targets over TCP do not preserve the client address by default.
    assert_eq!(attrs.get("preserve_client_ip.enabled"), Some(&"false"));
    assert_eq!(
        attrs.get("deregistration_delay.connection_termination.enabled"),
        Some(&"false")
    );
    assert_eq!(attrs.get("stickiness.enabled"), Some(&"false"));
    assert_eq!(attrs.get("stickiness.type"), Some(&"source_ip"));

    let attribute = |k: &str, v: &str| TargetGroupAttribute::builder().key(k).value(v).build();
    let modified = client
        .modify_target_group_attributes()
        .target_group_arn(&tg)
        .attributes(attribute("deregistration_delay.timeout_seconds", "0"))
        .attributes(attribute("proxy_protocol_v2.enabled", "true"))
        .attributes(attribute("preserve_client_ip.enabled", "true"))
        .attributes(attribute(
            "deregistration_delay.connection_termination.enabled",
            "true",
        ))
        .attributes(attribute("stickiness.enabled", "true"))
        .send()
        .await
        .unwrap();
    let after: BTreeMap<&str, &str> = modified
        .attributes()
        .iter()
        .map(|a| (a.key().unwrap(), a.value().unwrap()))
        .collect();
    assert_eq!(
        after.get("deregistration_delay.timeout_seconds"),
        Some(&"0")
    );
    assert_eq!(after.get("proxy_protocol_v2.enabled"), Some(&"true"));
    assert_eq!(after.get("stickiness.enabled"), Some(&"true"));
    assert_eq!(after.len(), attrs.len());

    for (key, value, code) in [
        (
            "deregistration_delay.timeout_seconds",
            "3601",
            "ValidationError",
        ),
        (
            "deregistration_delay.timeout_seconds",
            "soon",
            "ValidationError",
        ),
        ("proxy_protocol_v2.enabled", "yes", "ValidationError"),
        ("stickiness.type", "lb_cookie", "ValidationError"),
        ("slow_start.duration_seconds", "30", "ValidationError"),
    ] {
        client
            .modify_target_group_attributes()
            .target_group_arn(&tg)
            .attributes(attribute(key, value))
            .send()
            .await
            .expect_code(code);
    }
    client
        .modify_target_group_attributes()
        .target_group_arn(&tg)
        .attributes(attribute("slow_start.duration_seconds", "30"))
        .send()
        .await
        .expect_error(
            "ValidationError",
            "Target group attribute key 'slow_start.duration_seconds' is not recognized",
        );
    // UDP target groups always preserve the client address.
    let udp = client
        .create_target_group()
        .name("udp-tg")
        .protocol(ProtocolEnum::Udp)
        .port(53)
        .vpc_id(VPC)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    client
        .modify_target_group_attributes()
        .target_group_arn(&udp)
        .attributes(attribute("preserve_client_ip.enabled", "false"))
        .send()
        .await
        .expect_code("InvalidConfigurationRequest");
    // A failed modify changed nothing.
    let again = client
        .describe_target_group_attributes()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    assert!(
        again
            .attributes()
            .iter()
            .any(|a| a.key() == Some("deregistration_delay.timeout_seconds")
                && a.value() == Some("0"))
    );
}

// ---------------------------------------------------------------------------------------------
// Targets

/// `(id, port, state, reason)` of every description DescribeTargetHealth gives.
async fn health(
    client: &Client,
    tg: &str,
    targets: &[TargetDescription],
) -> Vec<(String, i32, TargetHealthStateEnum, Option<String>)> {
    let mut call = client.describe_target_health().target_group_arn(tg);
    for t in targets {
        call = call.targets(t.clone());
    }
    let out = call.send().await.unwrap();
    out.target_health_descriptions()
        .iter()
        .map(|d| {
            let t = d.target().unwrap();
            let h = d.target_health().unwrap();
            (
                t.id().unwrap().to_owned(),
                t.port().unwrap(),
                h.state().cloned().unwrap(),
                h.reason().map(|r| r.as_str().to_owned()),
            )
        })
        .collect()
}

#[tokio::test]
async fn register_and_describe_target_health() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "health").await;
    let tg = create_tg(&client, "health-tg").await;
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(target("10.255.0.1"))
        .targets(
            TargetDescription::builder()
                .id("10.255.0.2")
                .port(9000)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // No listener forwards to the group yet: its targets are unused.
    let out = client
        .describe_target_health()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    let descriptions = out.target_health_descriptions();
    assert_eq!(descriptions.len(), 2);
    let first = &descriptions[0];
    assert_eq!(first.target().and_then(|t| t.id()), Some("10.255.0.1"));
    assert_eq!(first.target().and_then(|t| t.port()), Some(8080));
    assert_eq!(first.health_check_port(), Some("8080"));
    let h = first.target_health().unwrap();
    assert_eq!(h.state(), Some(&TargetHealthStateEnum::Unused));
    assert_eq!(h.reason().map(|r| r.as_str()), Some("Target.NotInUse"));
    assert_eq!(
        h.description(),
        Some("Given target group is not configured to receive traffic from ELB")
    );
    assert_eq!(descriptions[1].health_check_port(), Some("9000"));

    // Once a listener forwards to it, the targets start `initial`.
    create_listener(&client, &lb, 10083, &tg).await;
    let states = health(&client, &tg, &[]).await;
    assert_eq!(states.len(), 2);
    for (id, _, state, reason) in &states {
        assert_eq!(state, &TargetHealthStateEnum::Initial, "{id}");
        assert!(
            matches!(
                reason.as_deref(),
                Some("Elb.RegistrationInProgress" | "Elb.InitialHealthChecking")
            ),
            "{reason:?}"
        );
    }

    // Asking after a target that is not registered.
    let states = health(&client, &tg, &[target("10.255.0.9")]).await;
    assert_eq!(
        states,
        vec![(
            "10.255.0.9".to_owned(),
            8080,
            TargetHealthStateEnum::Unused,
            Some("Target.NotRegistered".to_owned())
        )]
    );
    let states = health(&client, &tg, &[target("10.255.0.2")]).await;
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].1, 9000);

    // Registering the same target twice keeps one registration.
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(target("10.255.0.1"))
        .send()
        .await
        .unwrap();
    assert_eq!(health(&client, &tg, &[]).await.len(), 2);
}

#[tokio::test]
async fn register_targets_errors() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let tg = create_tg(&client, "ip-tg").await;
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(target("i-0123456789abcdef0"))
        .send()
        .await
        .expect_error_containing("InvalidTarget", "is not an IP address");
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(target("::1"))
        .send()
        .await
        .expect_code("InvalidTarget");
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(TargetDescription::builder().id("10.0.0.1").port(0).build())
        .send()
        .await
        .expect_code("ValidationError");
    client
        .register_targets()
        .target_group_arn(&tg)
        .send()
        .await
        .expect_error(
            "MissingParameter",
            "The request must contain the parameter Targets",
        );
    let unknown = tg.replace(&tg[tg.len() - 16..], "0000000000000000");
    client
        .register_targets()
        .target_group_arn(&unknown)
        .targets(target("10.0.0.1"))
        .send()
        .await
        .expect_code("TargetGroupNotFound");
    client
        .describe_target_health()
        .target_group_arn(&unknown)
        .send()
        .await
        .expect_code("TargetGroupNotFound");
    client
        .describe_target_health()
        .target_group_arn(&tg)
        .targets(target("not-an-ip"))
        .send()
        .await
        .expect_code("InvalidTarget");

    // Instance target groups take instance ids (and IP addresses, standing in for them).
    let instances = client
        .create_target_group()
        .name("instances")
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .vpc_id(VPC)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    client
        .register_targets()
        .target_group_arn(&instances)
        .targets(target("i-0123456789abcdef0"))
        .targets(target("127.0.0.1"))
        .send()
        .await
        .unwrap();
    client
        .register_targets()
        .target_group_arn(&instances)
        .targets(target("web-server"))
        .send()
        .await
        .expect_code("InvalidTarget");
    assert_eq!(health(&client, &instances, &[]).await.len(), 2);
}

#[tokio::test]
async fn deregister_targets_and_wait_until_deregistered() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let tg = create_tg(&client, "dereg").await;
    client
        .modify_target_group_attributes()
        .target_group_arn(&tg)
        .attributes(
            TargetGroupAttribute::builder()
                .key("deregistration_delay.timeout_seconds")
                .value("0")
                .build(),
        )
        .send()
        .await
        .unwrap();
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(target("10.255.1.1"))
        .targets(target("10.255.1.2"))
        .send()
        .await
        .unwrap();
    client
        .deregister_targets()
        .target_group_arn(&tg)
        .targets(target("10.255.1.1"))
        .send()
        .await
        .unwrap();
    let left: Vec<String> = health(&client, &tg, &[])
        .await
        .into_iter()
        .filter(|(_, _, state, _)| state != &TargetHealthStateEnum::Draining)
        .map(|(id, ..)| id)
        .collect();
    assert_eq!(left, ["10.255.1.2"]);
    client
        .wait_until_target_deregistered()
        .target_group_arn(&tg)
        .targets(target("10.255.1.1"))
        .wait(Duration::from_secs(60))
        .await
        .expect("TargetDeregistered waiter");
    // A target that was never registered deregisters without complaint.
    client
        .deregister_targets()
        .target_group_arn(&tg)
        .targets(target("10.255.1.99"))
        .send()
        .await
        .unwrap();
    client
        .deregister_targets()
        .target_group_arn(&tg)
        .targets(target("nonsense"))
        .send()
        .await
        .expect_code("InvalidTarget");
}

// ---------------------------------------------------------------------------------------------
// Listeners

#[tokio::test]
async fn create_and_describe_listeners() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "listen").await;
    let lb_id = lb.rsplit('/').next().unwrap().to_owned();
    let tg = create_tg(&client, "listen-tg").await;
    let out = client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tcp)
        .port(10090)
        .default_actions(forward(&tg))
        .tags(Tag::builder().key("tier").value("edge").build())
        .send()
        .await
        .unwrap();
    let listener = &out.listeners()[0];
    let arn = listener.listener_arn().unwrap();
    let prefix =
        format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/net/listen/{lb_id}/");
    assert!(arn.starts_with(&prefix), "{arn}");
    assert!(is_hex16(&arn[prefix.len()..]));
    assert_eq!(listener.load_balancer_arn(), Some(lb.as_str()));
    assert_eq!(listener.port(), Some(10090));
    assert_eq!(listener.protocol(), Some(&ProtocolEnum::Tcp));
    let action = &listener.default_actions()[0];
    assert_eq!(action.r#type(), Some(&ActionTypeEnum::Forward));
    assert_eq!(action.target_group_arn(), Some(tg.as_str()));
    let groups = action.forward_config().unwrap().target_groups();
    assert_eq!(groups[0].target_group_arn(), Some(tg.as_str()));
    assert_eq!(groups[0].weight(), Some(1));

    // A second listener, by ForwardConfig.
    let tg2 = create_tg(&client, "listen-tg2").await;
    let by_config = client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tcp)
        .port(10091)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .forward_config(
                    ForwardActionConfig::builder()
                        .target_groups(TargetGroupTuple::builder().target_group_arn(&tg2).build())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let second = by_config.listeners()[0].listener_arn().unwrap().to_owned();
    assert_eq!(
        by_config.listeners()[0].default_actions()[0].target_group_arn(),
        Some(tg2.as_str())
    );

    let by_lb = client
        .describe_listeners()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    let ports: Vec<i32> = by_lb.listeners().iter().filter_map(|l| l.port()).collect();
    assert_eq!(ports, [10090, 10091]);
    let by_arn = client
        .describe_listeners()
        .listener_arns(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.listeners()[0].port(), Some(10091));
    let paged = client
        .describe_listeners()
        .load_balancer_arn(&lb)
        .page_size(1)
        .send()
        .await
        .unwrap();
    assert_eq!(paged.listeners().len(), 1);
    let next = client
        .describe_listeners()
        .load_balancer_arn(&lb)
        .page_size(1)
        .marker(paged.next_marker().expect("NextMarker"))
        .send()
        .await
        .unwrap();
    assert_eq!(next.listeners()[0].port(), Some(10091));
    assert_eq!(next.next_marker(), None);

    client
        .describe_listeners()
        .send()
        .await
        .expect_code("ValidationError");
    client
        .describe_listeners()
        .load_balancer_arn(NLB_ARN)
        .send()
        .await
        .expect_code("LoadBalancerNotFound");
    let unknown = second.replace(&second[second.len() - 16..], "0000000000000000");
    client
        .describe_listeners()
        .listener_arns(&unknown)
        .send()
        .await
        .expect_error("ListenerNotFound", "One or more listeners not found");
    // The target groups now list the load balancer.
    let tgs = client
        .describe_target_groups()
        .target_group_arns(&tg)
        .send()
        .await
        .unwrap();
    assert_eq!(tgs.target_groups()[0].load_balancer_arns(), [lb]);
}

#[tokio::test]
async fn create_listener_errors() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "errs").await;
    let other = create_lb_arn(&client, "errs-other").await;
    let tg = create_tg(&client, "errs-tg").await;
    let listener = create_listener(&client, &lb, 10100, &tg).await;

    // Same port, same settings: the same listener. Same port, other settings: duplicate.
    assert_eq!(create_listener(&client, &lb, 10100, &tg).await, listener);
    let tg2 = create_tg(&client, "errs-tg2").await;
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tcp)
        .port(10100)
        .default_actions(forward(&tg2))
        .send()
        .await
        .expect_error(
            "DuplicateListener",
            &format!("A listener already exists on this port for this load balancer '{lb}'"),
        );
    // A target group serves one load balancer.
    client
        .create_listener()
        .load_balancer_arn(&other)
        .protocol(ProtocolEnum::Tcp)
        .port(10100)
        .default_actions(forward(&tg))
        .send()
        .await
        .expect_error_containing("TargetGroupAssociationLimit", &tg);
    let missing = tg.replace(&tg[tg.len() - 16..], "0000000000000000");
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tcp)
        .port(10101)
        .default_actions(forward(&missing))
        .send()
        .await
        .expect_error(
            "TargetGroupNotFound",
            &format!("Target groups '{missing}' not found"),
        );
    client
        .create_listener()
        .load_balancer_arn(NLB_ARN)
        .protocol(ProtocolEnum::Tcp)
        .port(10101)
        .default_actions(forward(&tg2))
        .send()
        .await
        .expect_code("LoadBalancerNotFound");
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Udp)
        .port(10101)
        .default_actions(forward(&tg2))
        .send()
        .await
        .expect_code("IncompatibleProtocols");
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Http)
        .port(10101)
        .default_actions(forward(&tg2))
        .send()
        .await
        .expect_code("UnsupportedProtocol");
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tcp)
        .port(0)
        .default_actions(forward(&tg2))
        .send()
        .await
        .expect_code("ValidationError");
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tcp)
        .port(10101)
        .send()
        .await
        .expect_error(
            "MissingParameter",
            "The request must contain the parameter DefaultActions",
        );
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tcp)
        .port(10101)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .build(),
        )
        .send()
        .await
        .expect_code("InvalidLoadBalancerAction");
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tls)
        .port(10101)
        .default_actions(forward(&tg2))
        .send()
        .await
        .expect_error_containing("ValidationError", "certificate must be specified");
    // The certificate must be one imported into ACM.
    client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tls)
        .port(10443)
        .certificates(
            Certificate::builder()
                .certificate_arn("arn:aws:acm:us-east-1:000000000000:certificate/abc")
                .build(),
        )
        .default_actions(forward(&tg2))
        .send()
        .await
        .expect_error(
            "CertificateNotFound",
            "Certificate 'arn:aws:acm:us-east-1:000000000000:certificate/abc' not found",
        );
    let certificate = imported_certificate(&server, &["nlb.example.com"]).await;
    let tls = client
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tls)
        .port(10443)
        .certificates(Certificate::builder().certificate_arn(&certificate).build())
        .default_actions(forward(&tg2))
        .send()
        .await
        .unwrap();
    assert_eq!(
        tls.listeners()[0].ssl_policy(),
        Some("ELBSecurityPolicy-2016-08")
    );
    assert_eq!(
        tls.listeners()[0].certificates()[0].certificate_arn(),
        Some(certificate.as_str())
    );
}

#[tokio::test]
async fn modify_and_delete_listener() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "mod").await;
    let tg = create_tg(&client, "mod-tg").await;
    let tg2 = create_tg(&client, "mod-tg2").await;
    let a = create_listener(&client, &lb, 10110, &tg).await;
    let b = create_listener(&client, &lb, 10111, &tg).await;
    let out = client
        .modify_listener()
        .listener_arn(&a)
        .port(10112)
        .default_actions(forward(&tg2))
        .send()
        .await
        .unwrap();
    let modified = &out.listeners()[0];
    assert_eq!(modified.port(), Some(10112));
    assert_eq!(
        modified.default_actions()[0].target_group_arn(),
        Some(tg2.as_str())
    );
    assert_eq!(modified.protocol(), Some(&ProtocolEnum::Tcp));
    client
        .modify_listener()
        .listener_arn(&a)
        .port(10111)
        .send()
        .await
        .expect_code("DuplicateListener");
    client
        .modify_listener()
        .listener_arn(&a)
        .protocol(ProtocolEnum::Udp)
        .send()
        .await
        .expect_code("IncompatibleProtocols");
    let unknown = b.replace(&b[b.len() - 16..], "0000000000000000");
    client
        .modify_listener()
        .listener_arn(&unknown)
        .port(1)
        .send()
        .await
        .expect_code("ListenerNotFound");

    client
        .delete_listener()
        .listener_arn(&b)
        .send()
        .await
        .unwrap();
    client
        .delete_listener()
        .listener_arn(&b)
        .send()
        .await
        .expect_error("ListenerNotFound", "One or more listeners not found");
    client
        .delete_listener()
        .listener_arn("listener")
        .send()
        .await
        .expect_code("ValidationError");
    let left = client
        .describe_listeners()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    let ports: Vec<i32> = left.listeners().iter().filter_map(|l| l.port()).collect();
    assert_eq!(ports, [10112]);
}

/// A TCP listener's `tcp.idle_timeout.seconds`: 350 until changed, 60–6000, kept through
/// ModifyListener; TCP_UDP listeners take it too, UDP listeners have no attributes.
#[tokio::test]
async fn listener_attributes_set_the_tcp_idle_timeout() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "idle").await;
    let tg = create_tg(&client, "idle-tg").await;
    let tcp = create_listener(&client, &lb, 10120, &tg).await;
    let shown = |attributes: &[aws_sdk_elasticloadbalancingv2::types::ListenerAttribute]| {
        attributes
            .iter()
            .map(|a| {
                (
                    a.key().unwrap_or_default().to_owned(),
                    a.value().unwrap_or_default().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let idle = |seconds: &str| vec![("tcp.idle_timeout.seconds".to_owned(), seconds.to_owned())];
    let described = client
        .describe_listener_attributes()
        .listener_arn(&tcp)
        .send()
        .await
        .unwrap();
    assert_eq!(shown(described.attributes()), idle("350"));
    let attribute = |key: &str, value: &str| {
        aws_sdk_elasticloadbalancingv2::types::ListenerAttribute::builder()
            .key(key)
            .value(value)
            .build()
    };
    let modified = client
        .modify_listener_attributes()
        .listener_arn(&tcp)
        .attributes(attribute("tcp.idle_timeout.seconds", "600"))
        .send()
        .await
        .unwrap();
    assert_eq!(shown(modified.attributes()), idle("600"));
    client
        .modify_listener()
        .listener_arn(&tcp)
        .port(10121)
        .send()
        .await
        .unwrap();
    let described = client
        .describe_listener_attributes()
        .listener_arn(&tcp)
        .send()
        .await
        .unwrap();
    assert_eq!(shown(described.attributes()), idle("600"));

    for value in ["59", "6001", "ten"] {
        client
            .modify_listener_attributes()
            .listener_arn(&tcp)
            .attributes(attribute("tcp.idle_timeout.seconds", value))
            .send()
            .await
            .expect_code("ValidationError");
    }
    client
        .modify_listener_attributes()
        .listener_arn(&tcp)
        .attributes(attribute("routing.http.response.server.enabled", "false"))
        .send()
        .await
        .expect_error(
            "ValidationError",
            "Listener attribute key 'routing.http.response.server.enabled' is not recognized",
        );
    // A refused change leaves the listener as it was.
    let described = client
        .describe_listener_attributes()
        .listener_arn(&tcp)
        .send()
        .await
        .unwrap();
    assert_eq!(shown(described.attributes()), idle("600"));
    let unknown = tcp.replace(&tcp[tcp.len() - 16..], "0000000000000000");
    client
        .describe_listener_attributes()
        .listener_arn(&unknown)
        .send()
        .await
        .expect_code("ListenerNotFound");

    // TCP_UDP listeners take it; UDP listeners have no attributes and refuse it.
    let target_group = |name: &'static str, protocol: ProtocolEnum| {
        let client = client.clone();
        async move {
            client
                .create_target_group()
                .name(name)
                .protocol(protocol)
                .port(5353)
                .vpc_id(VPC)
                .target_type(TargetTypeEnum::Ip)
                .send()
                .await
                .unwrap()
                .target_groups()[0]
                .target_group_arn()
                .unwrap()
                .to_owned()
        }
    };
    let listener = |port: i32, protocol: ProtocolEnum, tg: String| {
        let (client, lb) = (client.clone(), lb.clone());
        async move {
            client
                .create_listener()
                .load_balancer_arn(lb)
                .protocol(protocol)
                .port(port)
                .default_actions(forward(&tg))
                .send()
                .await
                .unwrap()
                .listeners()[0]
                .listener_arn()
                .unwrap()
                .to_owned()
        }
    };
    let both = listener(
        10122,
        ProtocolEnum::TcpUdp,
        target_group("idle-both", ProtocolEnum::TcpUdp).await,
    )
    .await;
    let modified = client
        .modify_listener_attributes()
        .listener_arn(&both)
        .attributes(attribute("tcp.idle_timeout.seconds", "60"))
        .send()
        .await
        .unwrap();
    assert_eq!(shown(modified.attributes()), idle("60"));
    let udp = listener(
        10123,
        ProtocolEnum::Udp,
        target_group("idle-udp", ProtocolEnum::Udp).await,
    )
    .await;
    let described = client
        .describe_listener_attributes()
        .listener_arn(&udp)
        .send()
        .await
        .unwrap();
    assert!(described.attributes().is_empty());
    client
        .modify_listener_attributes()
        .listener_arn(&udp)
        .attributes(attribute("tcp.idle_timeout.seconds", "600"))
        .send()
        .await
        .expect_code("InvalidConfigurationRequest");
}

// ---------------------------------------------------------------------------------------------
// Tags

async fn tags_of(client: &Client, arn: &str) -> Vec<(String, String)> {
    let out = client
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .unwrap();
    let description = &out.tag_descriptions()[0];
    assert_eq!(description.resource_arn(), Some(arn));
    description
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn tags_on_every_resource() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "tagged").await;
    let tg = create_tg(&client, "tagged-tg").await;
    let listener = create_listener(&client, &lb, 10120, &tg).await;
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    for arn in [&lb, &tg, &listener] {
        assert!(tags_of(&client, arn).await.is_empty());
    }
    client
        .add_tags()
        .resource_arns(&lb)
        .resource_arns(&tg)
        .resource_arns(&listener)
        .tags(tag("env", "prod"))
        .tags(tag("team", "core"))
        .send()
        .await
        .unwrap();
    client
        .add_tags()
        .resource_arns(&lb)
        .tags(tag("env", "staging"))
        .tags(tag("owner", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(&client, &lb).await,
        pairs(&[("env", "staging"), ("team", "core"), ("owner", "")])
    );
    assert_eq!(
        tags_of(&client, &listener).await,
        pairs(&[("env", "prod"), ("team", "core")])
    );
    client
        .remove_tags()
        .resource_arns(&tg)
        .tag_keys("env")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&client, &tg).await, pairs(&[("team", "core")]));

    let described = client
        .describe_tags()
        .resource_arns(&lb)
        .resource_arns(&tg)
        .send()
        .await
        .unwrap();
    assert_eq!(described.tag_descriptions().len(), 2);

    // Tags given at creation.
    let created = client
        .create_target_group()
        .name("born-tagged")
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .vpc_id(VPC)
        .tags(tag("a", "1"))
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    assert_eq!(tags_of(&client, &created).await, pairs(&[("a", "1")]));
}

#[tokio::test]
async fn tag_errors() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "tag-errs").await;
    let tag = |k: &str| Tag::builder().key(k).value("v").build();
    client
        .add_tags()
        .resource_arns(NLB_ARN)
        .tags(tag("a"))
        .send()
        .await
        .expect_error(
            "LoadBalancerNotFound",
            "One or more load balancers not found",
        );
    let tg_arn =
        format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/x/0123456789abcdef");
    client
        .describe_tags()
        .resource_arns(&tg_arn)
        .send()
        .await
        .expect_code("TargetGroupNotFound");
    client
        .describe_tags()
        .resource_arns("not-an-arn")
        .send()
        .await
        .expect_code("ValidationError");
    client
        .add_tags()
        .resource_arns(&lb)
        .tags(tag("dup"))
        .tags(tag("dup"))
        .send()
        .await
        .expect_code("DuplicateTagKeys");
    client
        .add_tags()
        .resource_arns(&lb)
        .tags(tag("aws:reserved"))
        .send()
        .await
        .expect_code("ValidationError");
    let mut many = client.add_tags().resource_arns(&lb);
    for i in 0..50 {
        many = many.tags(tag(&format!("k{i}")));
    }
    many.send().await.unwrap();
    client
        .add_tags()
        .resource_arns(&lb)
        .tags(tag("one-too-many"))
        .send()
        .await
        .expect_code("TooManyTags");
    // Overwriting an existing key stays within the limit.
    client
        .add_tags()
        .resource_arns(&lb)
        .tags(tag("k0"))
        .send()
        .await
        .unwrap();
    client
        .remove_tags()
        .resource_arns(&lb)
        .send()
        .await
        .expect_error(
            "MissingParameter",
            "The request must contain the parameter TagKeys",
        );
}

// ---------------------------------------------------------------------------------------------
// Wire, engine state and durability

/// Posts a form to the management endpoint and returns status, headers and body.
async fn post_form(server: &TestServer, form: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::Client::new()
        .post(server.url("/"))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn wire_shape_of_answers_and_errors() {
    let server = TestServer::start().await;
    let (status, headers, body) =
        post_form(&server, "Action=DescribeLoadBalancers&Version=2015-12-01").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/xml");
    assert!(
        body.starts_with(
            "<DescribeLoadBalancersResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><DescribeLoadBalancersResult>"
        ),
        "{body}"
    );
    let request_id = headers["x-amzn-requestid"].to_str().unwrap();
    assert!(body.contains(&format!(
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
    )));

    let (status, headers, body) = post_form(
        &server,
        "Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=a%26b",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(headers["content-type"], "text/xml");
    let request_id = headers["x-amzn-requestid"].to_str().unwrap();
    assert_eq!(
        body,
        format!(
            "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code><Message>Load balancers &apos;[a&amp;b]&apos; not found</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    );

    let (status, _, body) = post_form(&server, "Action=CreateRule&Version=2015-12-01").await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    let (status, _, body) = post_form(&server, "Version=2015-12-01").await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>MissingParameter</Code>"), "{body}");

    // The same call as a GET query string.
    let response = reqwest::Client::new()
        .get(server.url("/?Action=DescribeTargetGroups&Version=2015-12-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<DescribeTargetGroupsResult><TargetGroups></TargetGroups>"),
        "{body}"
    );
}

#[tokio::test]
async fn load_balancer_becomes_available() {
    let server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "available").await;
    // The engine takes the new plan up within moments; poll before the waiter, whose first
    // retry would come only after 15 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = client
            .describe_load_balancers()
            .load_balancer_arns(&lb)
            .send()
            .await
            .unwrap();
        let state = out.load_balancers()[0]
            .state()
            .and_then(|s| s.code())
            .cloned();
        if state == Some(LoadBalancerStateEnum::Active) {
            break;
        }
        assert!(Instant::now() < deadline, "still {state:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client
        .wait_until_load_balancer_available()
        .load_balancer_arns(&lb)
        .wait(Duration::from_secs(30))
        .await
        .expect("LoadBalancerAvailable waiter");
    client
        .wait_until_load_balancer_exists()
        .load_balancer_arns(&lb)
        .wait(Duration::from_secs(30))
        .await
        .expect("LoadBalancerExists waiter");
}

#[tokio::test]
async fn state_survives_restart() {
    let mut server = TestServer::start().await;
    let client = server.elbv2_client();
    let lb = create_lb_arn(&client, "durable").await;
    let tg = create_tg(&client, "durable-tg").await;
    client
        .register_targets()
        .target_group_arn(&tg)
        .targets(target("10.255.2.1"))
        .send()
        .await
        .unwrap();
    client
        .modify_target_group_attributes()
        .target_group_arn(&tg)
        .attributes(
            TargetGroupAttribute::builder()
                .key("proxy_protocol_v2.enabled")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    client
        .modify_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("load_balancing.cross_zone.enabled")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let listener = create_listener(&client, &lb, 10130, &tg).await;
    client
        .add_tags()
        .resource_arns(&lb)
        .resource_arns(&listener)
        .tags(Tag::builder().key("keep").value("me").build())
        .send()
        .await
        .unwrap();
    let before = client
        .describe_load_balancers()
        .load_balancer_arns(&lb)
        .send()
        .await
        .unwrap();
    let address = before.load_balancers()[0].availability_zones()[0].load_balancer_addresses()[0]
        .ip_address()
        .unwrap()
        .to_owned();

    server.restart().await;
    let client = server.elbv2_client();
    let after = client
        .describe_load_balancers()
        .load_balancer_arns(&lb)
        .send()
        .await
        .unwrap();
    let after_lb = &after.load_balancers()[0];
    assert_eq!(after_lb.load_balancer_name(), Some("durable"));
    assert_eq!(
        after_lb.availability_zones()[0].load_balancer_addresses()[0].ip_address(),
        Some(address.as_str())
    );
    assert_eq!(after_lb.dns_name(), before.load_balancers()[0].dns_name());
    assert_eq!(
        after_lb.created_time(),
        before.load_balancers()[0].created_time()
    );
    let lb_attrs = client
        .describe_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    assert!(lb_attrs.attributes().iter().any(|a| {
        a.key() == Some("load_balancing.cross_zone.enabled") && a.value() == Some("true")
    }));
    let tg_attrs = client
        .describe_target_group_attributes()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    assert!(
        tg_attrs
            .attributes()
            .iter()
            .any(|a| { a.key() == Some("proxy_protocol_v2.enabled") && a.value() == Some("true") })
    );
    let listeners = client
        .describe_listeners()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listeners.listeners()[0].listener_arn(),
        Some(listener.as_str())
    );
    assert_eq!(
        listeners.listeners()[0].default_actions()[0].target_group_arn(),
        Some(tg.as_str())
    );
    let targets = health(&client, &tg, &[]).await;
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].0, "10.255.2.1");
    assert_eq!(tags_of(&client, &listener).await, pairs(&[("keep", "me")]));
    assert_eq!(tags_of(&client, &lb).await, pairs(&[("keep", "me")]));
    // A new load balancer does not take the address of one that survived the restart.
    let fresh = create_lb(&client, "fresh").await;
    assert_ne!(
        fresh.availability_zones()[0].load_balancer_addresses()[0].ip_address(),
        Some(address.as_str())
    );
}
