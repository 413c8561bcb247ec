//! What a resource policy costs a request: building the request's ARN and evaluating AWS's
//! IP allow-list example (allow everyone, deny addresses outside three ranges), for an
//! address inside and one outside; and a policy of 20 route statements with wildcards.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use causeway_model::policy::{INVOKE, Policy, Request, Scope};
use criterion::{Criterion, criterion_group, criterion_main};

const SCOPE: Scope<'static> = Scope {
    region: "us-east-1",
    account_id: "123456789012",
    api_id: "a1b2c3d4e5",
};

const ALLOW_LIST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
    {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
     "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"]}}}
  ]
}"#;

fn routes_policy() -> String {
    let statements: Vec<String> = (0..20)
        .map(|i| {
            format!(
                r#"{{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/prod/GET/group{i}/*/items/?"}}"#
            )
        })
        .collect();
    format!(r#"{{"Statement": [{}]}}"#, statements.join(","))
}

fn evaluate(c: &mut Criterion) {
    let allow_list = Policy::parse(ALLOW_LIST, SCOPE).unwrap();
    let routes = Policy::parse(&routes_policy(), SCOPE).unwrap();
    let request = |resource: &'static str, ip: &str| Request {
        action: INVOKE,
        resource,
        source_ip: ip.parse().unwrap(),
        epoch_seconds: 1_790_000_000,
        secure_transport: false,
        user_agent: Some("curl/8.5.0"),
        referer: None,
        principal: None,
    };
    let arn: &'static str = SCOPE
        .invoke_arn("prod", "GET", "/group19/abc/items/7")
        .leak();
    let inside = request(arn, "203.0.113.9");
    let outside = request(arn, "192.0.2.1");
    c.bench_function("policy/arn", |b| {
        b.iter(|| {
            SCOPE.invoke_arn(
                black_box("prod"),
                black_box("GET"),
                black_box("/group19/abc/items/7"),
            )
        })
    });
    c.bench_function("policy/allow-list/inside", |b| {
        b.iter(|| allow_list.evaluate(black_box(&inside)))
    });
    c.bench_function("policy/allow-list/outside", |b| {
        b.iter(|| allow_list.evaluate(black_box(&outside)))
    });
    c.bench_function("policy/20-routes/last", |b| {
        b.iter(|| routes.evaluate(black_box(&inside)))
    });
    c.bench_function("policy/parse/allow-list", |b| {
        b.iter(|| Policy::parse(black_box(ALLOW_LIST), SCOPE))
    });
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
