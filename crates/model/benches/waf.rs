//! What WAF's SQL injection and cross-site scripting rules cost a request: a web ACL of the
//! rules AWS's SQL database and core rule sets are built on (SQL injection on the query
//! arguments, the JSON body and the cookies; cross-site scripting on the query arguments and
//! the JSON body; URL-decoded), against an ordinary GET, an ordinary POST of a 1 kB JSON
//! body, and a GET carrying an injection (blocked by the first rule). A web ACL of one byte
//! match on a header is the baseline. Then AWS's core rule set, SQL database and known bad
//! inputs managed groups together, on the same GET and POST.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use causeway_model::waf::{CompiledAcl, Request, Sets, Verdict};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

fn compile(statements: Vec<Value>) -> CompiledAcl {
    let visibility = json!({"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "m"});
    let rules: Vec<Value> = statements
        .into_iter()
        .enumerate()
        .map(|(i, statement)| {
            json!({"Name": format!("r{i}"), "Priority": i, "Action": {"Block": {}},
                   "VisibilityConfig": visibility, "Statement": statement})
        })
        .collect();
    CompiledAcl::compile(
        (
            "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/b/x",
            "b",
            "123456789012",
        ),
        &json!({"Allow": {}}),
        &rules,
        None,
        Sets::default(),
    )
    .unwrap()
}

fn attack(kind: &str, field: Value) -> Value {
    json!({kind: {"FieldToMatch": field, "TextTransformations": [{"Priority": 0, "Type": "URL_DECODE"}]}})
}

fn evaluate(c: &mut Criterion) {
    let json_values = json!({"MatchPattern": {"All": {}}, "MatchScope": "VALUE", "InvalidFallbackBehavior": "EVALUATE_AS_STRING"});
    let injection = compile(vec![
        attack("SqliMatchStatement", json!({"AllQueryArguments": {}})),
        attack("SqliMatchStatement", json!({"JsonBody": json_values})),
        attack(
            "SqliMatchStatement",
            json!({"Cookies": {"MatchPattern": {"All": {}}, "MatchScope": "VALUE", "OversizeHandling": "CONTINUE"}}),
        ),
        attack("XssMatchStatement", json!({"AllQueryArguments": {}})),
        attack("XssMatchStatement", json!({"JsonBody": json_values})),
    ]);
    let visibility = json!({"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "m"});
    let managed: Vec<Value> = [
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    ]
    .iter()
    .enumerate()
    .map(|(i, name)| {
        json!({"Name": name, "Priority": i, "OverrideAction": {"None": {}}, "VisibilityConfig": visibility,
               "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}}})
    })
    .collect();
    let managed = CompiledAcl::compile(
        (
            "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/m/x",
            "m",
            "123456789012",
        ),
        &json!({"Allow": {}}),
        &managed,
        None,
        Sets::default(),
    )
    .unwrap();
    let baseline = compile(vec![json!({"ByteMatchStatement": {
        "SearchString": "c3FsbWFw", "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
        "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}], "PositionalConstraint": "CONTAINS"}})]);
    let items: Vec<Value> = (0..12)
        .map(|i| json!({"sku": format!("SKU-{i:05}"), "name": "Blue cotton shirt, size M", "quantity": i, "note": "gift wrap, please"}))
        .collect();
    let body =
        json!({"customer": "Ann O'Neil", "email": "ann@example.com", "items": items}).to_string();
    let request = |method, query, body: Option<&'static [u8]>| Request {
        client_ip: [192, 0, 2, 1].into(),
        method,
        path: "/prod/orders",
        query,
        headers: vec![
            ("host", &b"api.example.com"[..]),
            ("user-agent", b"Mozilla/5.0 (X11; Linux x86_64)"),
            (
                "cookie",
                b"session=8f14e45fceea167a5a36dedd4bea2543; theme=dark",
            ),
            ("content-type", b"application/json"),
        ],
        body,
        json: Default::default(),
    };
    let body: &'static [u8] = body.leak().as_bytes();
    let get = request("GET", "q=blue%20shirt&page=2&sort=price", None);
    let post = request("POST", "", Some(body));
    let attack = request("GET", "id=1%27%20or%20%271%27%3D%271&page=2", None);
    let allowed = |acl: &CompiledAcl, r: &Request<'_>| {
        matches!(acl.evaluate(r, &mut |_| false), Verdict::Allow(_))
    };
    assert!(
        allowed(&injection, &get) && allowed(&injection, &post) && !allowed(&injection, &attack)
    );
    c.bench_function("waf/baseline/get", |b| {
        b.iter(|| allowed(&baseline, black_box(&get)))
    });
    c.bench_function("waf/injection/get", |b| {
        b.iter(|| allowed(&injection, black_box(&get)))
    });
    c.bench_function("waf/injection/post-1kb-json", |b| {
        b.iter(|| allowed(&injection, black_box(&post)))
    });
    assert!(allowed(&managed, &get) && allowed(&managed, &post));
    c.bench_function("waf/managed/get", |b| {
        b.iter(|| allowed(&managed, black_box(&get)))
    });
    c.bench_function("waf/managed/post-1kb-json", |b| {
        b.iter(|| allowed(&managed, black_box(&post)))
    });
    c.bench_function("waf/injection/blocked", |b| {
        b.iter(|| allowed(&injection, black_box(&attack)))
    });
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
