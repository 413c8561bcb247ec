//! In-process tests of the elbv2 operations: form requests straight into `Control::handle`,
//! with a fake engine where the live view matters.

use std::sync::{Arc, Mutex};

use causeway_model::elb::{
    LoadBalancerState, LoadBalancerStatus, Target, TargetHealthReport, TargetHealthState,
};
use causeway_store::SqliteStore;

use crate::dataplane::DataPlane;
use crate::{Control, ControlConfig, Request};

fn control() -> Control {
    let store = SqliteStore::in_memory().unwrap_or_else(|e| panic!("{e}"));
    let mut config = ControlConfig::new("us-east-1", "000000000000");
    config.nlb_addresses = (std::net::Ipv4Addr::new(127, 20, 0, 1), 3);
    Control::open(Box::new(store), config).unwrap_or_else(|e| panic!("{e}"))
}

/// An answer: status, error code (if any) and XML body.
#[derive(Debug)]
struct Answer {
    status: u16,
    code: Option<&'static str>,
    body: String,
}

impl Answer {
    /// The text of the first `<tag>`.
    fn field(&self, tag: &str) -> Option<String> {
        self.fields(tag).into_iter().next()
    }

    /// The texts of every `<tag>`, in order.
    fn fields(&self, tag: &str) -> Vec<String> {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let mut out = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find(&open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(&close) else { break };
            out.push(
                after[..end]
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            );
            rest = &after[end..];
        }
        out
    }

    fn ok(self) -> Answer {
        assert_eq!(self.status, 200, "{}", self.body);
        self
    }

    fn error(&self, code: &str) -> String {
        assert_eq!(self.code, Some(code), "{}", self.body);
        assert_eq!(self.status, 400, "{}", self.body);
        self.field("Message").unwrap_or_default()
    }
}

fn call(c: &Control, pairs: &[(&str, &str)]) -> Answer {
    let body: String = form_pairs(pairs);
    let reply = c.handle(&Request {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        body: body.into_bytes(),
        accept: None,
        target: None,
    });
    assert_eq!(reply.content_type, "text/xml");
    Answer {
        status: reply.status,
        code: reply.error_code,
        body: String::from_utf8(reply.body).unwrap_or_default(),
    }
}

fn form_pairs(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn create_lb(c: &Control, name: &str) -> String {
    call(
        c,
        &[
            ("Action", "CreateLoadBalancer"),
            ("Name", name),
            ("Type", "network"),
            ("Scheme", "internal"),
            ("Subnets.member.1", "subnet-aaaa"),
        ],
    )
    .ok()
    .field("LoadBalancerArn")
    .unwrap_or_default()
}

fn create_tg(c: &Control, name: &str, protocol: &str) -> String {
    call(
        c,
        &[
            ("Action", "CreateTargetGroup"),
            ("Name", name),
            ("Protocol", protocol),
            ("Port", "8080"),
            ("TargetType", "ip"),
            ("VpcId", "vpc-1"),
        ],
    )
    .ok()
    .field("TargetGroupArn")
    .unwrap_or_default()
}

fn create_listener(c: &Control, lb: &str, port: &str, tg: &str) -> Answer {
    call(
        c,
        &[
            ("Action", "CreateListener"),
            ("LoadBalancerArn", lb),
            ("Protocol", "TCP"),
            ("Port", port),
            ("DefaultActions.member.1.Type", "forward"),
            ("DefaultActions.member.1.TargetGroupArn", tg),
        ],
    )
}

#[test]
fn load_balancer_shape_and_addresses() {
    let c = control();
    let a = call(
        &c,
        &[
            ("Action", "CreateLoadBalancer"),
            ("Name", "one"),
            ("Type", "network"),
            ("Subnets.member.1", "subnet-a"),
            ("Subnets.member.2", "subnet-b"),
            ("SecurityGroups.member.1", "sg-1"),
        ],
    )
    .ok();
    let arn = a.field("LoadBalancerArn").unwrap_or_default();
    let id = arn.rsplit('/').next().unwrap_or_default().to_owned();
    assert!(
        arn.starts_with(
            "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/one/"
        )
    );
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|ch| ch.is_ascii_hexdigit()));
    assert_eq!(
        a.field("DNSName"),
        Some(format!("one-{id}.elb.us-east-1.amazonaws.com"))
    );
    assert_eq!(a.fields("ZoneName"), vec!["us-east-1a", "us-east-1b"]);
    assert_eq!(a.fields("IpAddress"), vec!["127.20.0.1", "127.20.0.1"]);
    assert_eq!(a.field("Code").as_deref(), Some("provisioning"));
    assert_eq!(a.field("Scheme").as_deref(), Some("internet-facing"));
    assert_eq!(
        a.field("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
            .as_deref(),
        Some("on")
    );
    assert!(a.body.starts_with("<CreateLoadBalancerResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><CreateLoadBalancerResult>"));

    // The next load balancer takes the next address; a freed address is taken again.
    let two = create_lb(&c, "two");
    let three = create_lb(&c, "three");
    assert!(!three.is_empty());
    let full = call(
        &c,
        &[
            ("Action", "CreateLoadBalancer"),
            ("Name", "four"),
            ("Type", "network"),
        ],
    );
    full.error("TooManyLoadBalancers");
    call(
        &c,
        &[("Action", "DeleteLoadBalancer"), ("LoadBalancerArn", &two)],
    )
    .ok();
    let four = call(
        &c,
        &[
            ("Action", "CreateLoadBalancer"),
            ("Name", "four"),
            ("Type", "network"),
        ],
    )
    .ok();
    assert_eq!(four.field("IpAddress").as_deref(), Some("127.20.0.2"));
}

#[test]
fn only_network_load_balancers() {
    let c = control();
    for pairs in [
        vec![("Action", "CreateLoadBalancer"), ("Name", "x")],
        vec![
            ("Action", "CreateLoadBalancer"),
            ("Name", "x"),
            ("Type", "application"),
        ],
    ] {
        let message = call(&c, &pairs).error("ValidationError");
        assert!(message.contains("network load balancers only"), "{message}");
    }
    call(&c, &[("Action", "CreateLoadBalancer"), ("Type", "network")]).error("MissingParameter");
    call(
        &c,
        &[
            ("Action", "CreateLoadBalancer"),
            ("Name", "-x"),
            ("Type", "network"),
        ],
    )
    .error("ValidationError");
    call(
        &c,
        &[
            ("Action", "CreateLoadBalancer"),
            ("Name", "x"),
            ("Type", "network"),
            ("Scheme", "public"),
        ],
    )
    .error("ValidationError");
    call(
        &c,
        &[
            ("Action", "CreateLoadBalancer"),
            ("Name", "x"),
            ("Type", "network"),
            ("Subnets.member.1", "nope"),
        ],
    )
    .error("SubnetNotFound");
    call(
        &c,
        &[
            ("Action", "CreateLoadBalancer"),
            ("Name", "x"),
            ("Type", "network"),
            ("SecurityGroups.member.1", "bad"),
        ],
    )
    .error("InvalidSecurityGroup");
    // Nothing was created by the failures.
    let all = call(&c, &[("Action", "DescribeLoadBalancers")]).ok();
    assert!(all.fields("LoadBalancerArn").is_empty());
}

#[test]
fn idempotent_creates() {
    let c = control();
    let lb = create_lb(&c, "idem");
    assert_eq!(create_lb(&c, "idem"), lb);
    let message = call(
        &c,
        &[
            ("Action", "CreateLoadBalancer"),
            ("Name", "idem"),
            ("Type", "network"),
        ],
    )
    .error("DuplicateLoadBalancerName");
    assert_eq!(
        message,
        "A load balancer with the same name 'idem' exists, but with different settings"
    );
    let tg = create_tg(&c, "tg", "TCP");
    assert_eq!(create_tg(&c, "tg", "TCP"), tg);
    call(
        &c,
        &[
            ("Action", "CreateTargetGroup"),
            ("Name", "tg"),
            ("Protocol", "UDP"),
            ("Port", "8080"),
            ("TargetType", "ip"),
            ("VpcId", "vpc-1"),
        ],
    )
    .error("DuplicateTargetGroupName");
    let listener = create_listener(&c, &lb, "80", &tg)
        .ok()
        .field("ListenerArn");
    assert_eq!(
        create_listener(&c, &lb, "80", &tg)
            .ok()
            .field("ListenerArn"),
        listener
    );
    let tg2 = create_tg(&c, "tg2", "TCP");
    let message = create_listener(&c, &lb, "80", &tg2).error("DuplicateListener");
    assert!(message.contains(&lb), "{message}");
}

#[test]
fn listeners_check_their_target_groups() {
    let c = control();
    let lb = create_lb(&c, "a");
    let other = create_lb(&c, "b");
    let tcp = create_tg(&c, "tcp", "TCP");
    let udp = create_tg(&c, "udp", "UDP");
    create_listener(&c, &lb, "80", &udp).error("IncompatibleProtocols");
    let missing = tcp.replace(&tcp[tcp.len() - 16..], "0000000000000000");
    let message = create_listener(&c, &lb, "80", &missing).error("TargetGroupNotFound");
    assert_eq!(message, format!("Target groups '{missing}' not found"));
    create_listener(&c, &lb, "80", "not-an-arn").error("ValidationError");
    create_listener(&c, &lb, "0", &tcp).error("ValidationError");
    let listener = create_listener(&c, &lb, "80", &tcp)
        .ok()
        .field("ListenerArn")
        .unwrap_or_default();
    assert!(listener.contains("listener/net/a/"));
    create_listener(&c, &other, "80", &tcp).error("TargetGroupAssociationLimit");
    // In use: the target group cannot go, and it lists its load balancer.
    call(
        &c,
        &[("Action", "DeleteTargetGroup"), ("TargetGroupArn", &tcp)],
    )
    .error("ResourceInUse");
    let described = call(
        &c,
        &[("Action", "DescribeTargetGroups"), ("LoadBalancerArn", &lb)],
    )
    .ok();
    assert_eq!(described.fields("TargetGroupArn"), vec![tcp.clone()]);
    let http = call(
        &c,
        &[
            ("Action", "CreateListener"),
            ("LoadBalancerArn", &lb),
            ("Protocol", "HTTP"),
            ("Port", "81"),
            ("DefaultActions.member.1.Type", "forward"),
            ("DefaultActions.member.1.TargetGroupArn", &tcp),
        ],
    );
    http.error("UnsupportedProtocol");
    let fixed = call(
        &c,
        &[
            ("Action", "CreateListener"),
            ("LoadBalancerArn", &lb),
            ("Protocol", "TCP"),
            ("Port", "81"),
            ("DefaultActions.member.1.Type", "fixed-response"),
        ],
    );
    fixed.error("InvalidLoadBalancerAction");
    // Deleting the load balancer deletes its listeners and frees the target group.
    call(
        &c,
        &[("Action", "DeleteLoadBalancer"), ("LoadBalancerArn", &lb)],
    )
    .ok();
    call(
        &c,
        &[
            ("Action", "DescribeListeners"),
            ("ListenerArns.member.1", &listener),
        ],
    )
    .error("ListenerNotFound");
    call(
        &c,
        &[("Action", "DeleteTargetGroup"), ("TargetGroupArn", &tcp)],
    )
    .ok();
}

#[test]
fn errors_keep_nothing_and_unknown_actions() {
    let c = control();
    let unknown = call(&c, &[("Action", "Frobnicate")]);
    assert_eq!(
        unknown.error("InvalidAction"),
        "The action Frobnicate is not valid for this web service."
    );
    call(&c, &[("Action", "CreateRule")]).error("InvalidAction");
    call(&c, &[]).error("MissingParameter");
    assert!(unknown.body.contains("<Type>Sender</Type>"));
    assert!(unknown.body.starts_with("<ErrorResponse xmlns="));
}

#[derive(Debug, Default)]
struct FakeEngine {
    health: Mutex<Vec<TargetHealthReport>>,
}

impl DataPlane for FakeEngine {
    fn load_balancer_status(&self, _arn: &str) -> Option<LoadBalancerStatus> {
        Some(LoadBalancerStatus {
            state: LoadBalancerState::Active,
            reason: None,
        })
    }

    fn target_health(&self, _arn: &str) -> Vec<TargetHealthReport> {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

fn health_report(id: &str, state: TargetHealthState, reason: Option<&str>) -> TargetHealthReport {
    TargetHealthReport {
        target: Target {
            id: id.into(),
            port: 8080,
            availability_zone: None,
        },
        state,
        reason: reason.map(str::to_owned),
        description: None,
    }
}

#[test]
fn target_health_from_the_engine() {
    let c = control();
    let lb = create_lb(&c, "h");
    let tg = create_tg(&c, "h", "TCP");
    let health = |targets: &[(&str, &str)]| {
        let mut pairs = vec![
            ("Action", "DescribeTargetHealth"),
            ("TargetGroupArn", tg.as_str()),
        ];
        pairs.extend_from_slice(targets);
        call(&c, &pairs).ok()
    };
    call(
        &c,
        &[
            ("Action", "RegisterTargets"),
            ("TargetGroupArn", &tg),
            ("Targets.member.1.Id", "10.0.0.1"),
            ("Targets.member.2.Id", "10.0.0.2"),
        ],
    )
    .ok();
    // No engine, no listener: unused.
    let a = health(&[]);
    assert_eq!(a.fields("State"), vec!["unused", "unused"]);
    assert_eq!(
        a.fields("Reason"),
        vec!["Target.NotInUse", "Target.NotInUse"]
    );
    assert_eq!(a.fields("HealthCheckPort"), vec!["8080", "8080"]);
    create_listener(&c, &lb, "80", &tg).ok();
    // No engine: initial.
    let a = health(&[]);
    assert_eq!(a.fields("State"), vec!["initial", "initial"]);
    assert_eq!(
        a.field("Reason").as_deref(),
        Some("Elb.RegistrationInProgress")
    );

    let engine = Arc::new(FakeEngine::default());
    c.attach_data_plane(engine.clone());
    if let Ok(mut h) = engine.health.lock() {
        *h = vec![
            health_report("10.0.0.1", TargetHealthState::Healthy, None),
            health_report(
                "10.0.0.9",
                TargetHealthState::Draining,
                Some("Target.DeregistrationInProgress"),
            ),
        ];
    }
    let a = health(&[]);
    assert_eq!(a.fields("Id"), vec!["10.0.0.1", "10.0.0.2", "10.0.0.9"]);
    assert_eq!(a.fields("State"), vec!["healthy", "initial", "draining"]);
    let lbs = call(
        &c,
        &[
            ("Action", "DescribeLoadBalancers"),
            ("LoadBalancerArns.member.1", &lb),
        ],
    )
    .ok();
    assert_eq!(lbs.field("Code").as_deref(), Some("active"));

    // Asking for targets by name: unregistered ones are unused, draining ones draining.
    let a = health(&[
        ("Targets.member.1.Id", "10.0.0.2"),
        ("Targets.member.2.Id", "10.0.0.7"),
        ("Targets.member.2.Port", "9"),
        ("Targets.member.3.Id", "10.0.0.9"),
    ]);
    assert_eq!(a.fields("State"), vec!["initial", "unused", "draining"]);
    assert_eq!(a.fields("Port"), vec!["8080", "9", "8080"]);
    assert!(a.body.contains("<Reason>Target.NotRegistered</Reason>"));
    call(
        &c,
        &[
            ("Action", "DescribeTargetHealth"),
            ("TargetGroupArn", &tg),
            ("Targets.member.1.Id", "i-123"),
        ],
    )
    .error("InvalidTarget");
}

#[test]
fn targets_register_and_deregister() {
    let c = control();
    let tg = create_tg(&c, "t", "TCP");
    let register = |id: &str| {
        call(
            &c,
            &[
                ("Action", "RegisterTargets"),
                ("TargetGroupArn", &tg),
                ("Targets.member.1.Id", id),
            ],
        )
    };
    register("10.0.0.1").ok();
    register("10.0.0.1").ok();
    register("web-1").error("InvalidTarget");
    call(
        &c,
        &[("Action", "RegisterTargets"), ("TargetGroupArn", &tg)],
    )
    .error("MissingParameter");
    call(
        &c,
        &[
            ("Action", "RegisterTargets"),
            ("TargetGroupArn", &tg),
            ("Targets.member.1.Id", "10.0.0.1"),
            ("Targets.member.1.Port", "9000"),
        ],
    )
    .ok();
    let a = call(
        &c,
        &[("Action", "DescribeTargetHealth"), ("TargetGroupArn", &tg)],
    )
    .ok();
    assert_eq!(a.fields("Port"), vec!["8080", "9000"]);
    // Deregistering a target that is not registered succeeds.
    call(
        &c,
        &[
            ("Action", "DeregisterTargets"),
            ("TargetGroupArn", &tg),
            ("Targets.member.1.Id", "10.0.0.42"),
        ],
    )
    .ok();
    call(
        &c,
        &[
            ("Action", "DeregisterTargets"),
            ("TargetGroupArn", &tg),
            ("Targets.member.1.Id", "10.0.0.1"),
        ],
    )
    .ok();
    let a = call(
        &c,
        &[("Action", "DescribeTargetHealth"), ("TargetGroupArn", &tg)],
    )
    .ok();
    assert_eq!(a.fields("Port"), vec!["9000"]);
}

#[test]
fn paging_markers() {
    let c = control();
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create_tg(&c, &format!("tg-{i}"), "TCP"));
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut pairs = vec![("Action", "DescribeTargetGroups"), ("PageSize", "2")];
        if let Some(m) = &marker {
            pairs.push(("Marker", m.as_str()));
        }
        let a = call(&c, &pairs).ok();
        let arns = a.fields("TargetGroupArn");
        assert!(arns.len() <= 2);
        seen.extend(arns);
        marker = a.field("NextMarker");
        if marker.is_none() {
            break;
        }
    }
    created.sort();
    seen.sort();
    assert_eq!(seen, created);
    call(
        &c,
        &[("Action", "DescribeTargetGroups"), ("PageSize", "401")],
    )
    .error("ValidationError");
}

/// DescribeAccountLimits names the quotas enforced here, and they hold: 50 listeners per
/// load balancer, the target groups of the account (lowered to 40 here), and as many load
/// balancers as the server has addresses.
#[test]
fn account_limits_are_the_ones_enforced() {
    let store = SqliteStore::in_memory().unwrap_or_else(|e| panic!("{e}"));
    let mut config = ControlConfig::new("us-east-1", "000000000000");
    config.nlb_addresses = (std::net::Ipv4Addr::new(127, 20, 0, 1), 3);
    config.elb_quotas.target_groups = 40;
    let c = Control::open(Box::new(store), config).unwrap_or_else(|e| panic!("{e}"));
    let limits = call(&c, &[("Action", "DescribeAccountLimits")]).ok();
    assert_eq!(
        limits.fields("Name"),
        [
            "target-groups",
            "network-load-balancers",
            "listeners-per-network-load-balancer",
            "target-groups-per-action-on-network-load-balancer",
            "certificates-per-network-load-balancer",
            "targets-per-target-group",
        ]
    );
    assert_eq!(limits.fields("Max"), ["40", "3", "50", "1", "25", "1000"]);
    let first = call(
        &c,
        &[("Action", "DescribeAccountLimits"), ("PageSize", "2")],
    )
    .ok();
    assert_eq!(
        first.fields("Name"),
        ["target-groups", "network-load-balancers"]
    );
    let marker = first.field("NextMarker").unwrap_or_default();
    let rest = call(
        &c,
        &[("Action", "DescribeAccountLimits"), ("Marker", &marker)],
    )
    .ok();
    assert_eq!(rest.fields("Name").len(), 4);
    assert_eq!(rest.field("NextMarker"), None);

    let lb = create_lb(&c, "busy");
    let tg = create_tg(&c, "busy-tg", "TCP");
    for port in 0..50 {
        create_listener(&c, &lb, &(10_000 + port).to_string(), &tg).ok();
    }
    let message = create_listener(&c, &lb, "10050", &tg).error("TooManyListeners");
    assert!(message.contains("50 listeners"), "{message}");
    // Another load balancer has its own 50.
    let other = create_lb(&c, "quiet");
    let other_tg = create_tg(&c, "quiet-tg", "TCP");
    create_listener(&c, &other, "10050", &other_tg).ok();

    for i in 2..40 {
        create_tg(&c, &format!("tg-{i}"), "TCP");
    }
    let refused = call(
        &c,
        &[
            ("Action", "CreateTargetGroup"),
            ("Name", "one-too-many"),
            ("Protocol", "TCP"),
            ("Port", "8080"),
            ("TargetType", "ip"),
            ("VpcId", "vpc-1"),
        ],
    );
    refused.error("TooManyTargetGroups");
    // Creating an existing target group again is still answered.
    call(
        &c,
        &[
            ("Action", "CreateTargetGroup"),
            ("Name", "tg-2"),
            ("Protocol", "TCP"),
            ("Port", "8080"),
            ("TargetType", "ip"),
            ("VpcId", "vpc-1"),
        ],
    )
    .ok();
}
