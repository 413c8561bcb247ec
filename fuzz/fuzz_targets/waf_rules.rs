//! Fuzzes the WAF's SQL injection and cross-site scripting statements, which run
//! libinjection's tokenizers on whatever a client sends: the input is the request's body, its
//! query string and a cookie, each through no transformation and through URL and HTML
//! decoding. Evaluation must never panic, must give the same verdict twice, and HIGH
//! sensitivity must catch everything LOW does.
#![no_main]

use std::sync::OnceLock;

use causeway_model::waf::{CompiledAcl, Request, Sets, Verdict};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

struct Acls {
    low: CompiledAcl,
    high: CompiledAcl,
    xss: CompiledAcl,
}

fn acl(name: &str, extra: Value) -> Option<CompiledAcl> {
    let visibility = json!({"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": name});
    let transforms = [
        json!([{"Priority": 0, "Type": "NONE"}]),
        json!([{"Priority": 0, "Type": "URL_DECODE"}, {"Priority": 1, "Type": "HTML_ENTITY_DECODE"}]),
    ];
    let fields = [
        json!({"Body": {"OversizeHandling": "CONTINUE"}}),
        json!({"QueryString": {}}),
        json!({"AllQueryArguments": {}}),
        json!({"Cookies": {"MatchPattern": {"All": {}}, "MatchScope": "ALL", "OversizeHandling": "CONTINUE"}}),
    ];
    let mut rules = Vec::new();
    for field in &fields {
        for transform in &transforms {
            let mut inner = json!({"FieldToMatch": field, "TextTransformations": transform});
            let priority = rules.len();
            if let Some(map) = inner.as_object_mut() {
                map.extend(extra.as_object()?.clone());
            }
            rules.push(json!({"Name": format!("r{priority}"), "Priority": priority,
                "Action": {"Block": {}}, "VisibilityConfig": visibility,
                "Statement": {name: inner}}));
        }
    }
    CompiledAcl::compile(
        ("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/fz/x", "fz", "123456789012"),
        &json!({"Allow": {}}),
        &rules,
        None,
        Sets::default(),
    )
    .ok()
}

static ACLS: OnceLock<Option<Acls>> = OnceLock::new();

fn blocked(acl: &CompiledAcl, request: &Request<'_>) -> bool {
    matches!(acl.evaluate(request, &mut |_| false), Verdict::Block(..))
}

fuzz_target!(|data: &[u8]| {
    let Some(acls) = ACLS.get_or_init(|| {
        Some(Acls {
            low: acl("SqliMatchStatement", json!({"SensitivityLevel": "LOW"}))?,
            high: acl("SqliMatchStatement", json!({"SensitivityLevel": "HIGH"}))?,
            xss: acl("XssMatchStatement", json!({}))?,
        })
    }) else {
        panic!("the fuzz web ACLs do not compile");
    };
    let text = String::from_utf8_lossy(data);
    let request = Request {
        client_ip: [192, 0, 2, 1].into(),
        method: "POST",
        path: "/prod/items",
        query: &text,
        headers: vec![("cookie", data)],
        body: Some(data),
        json: Default::default(),
    };
    let low = blocked(&acls.low, &request);
    let high = blocked(&acls.high, &request);
    let xss = blocked(&acls.xss, &request);
    assert!(!low || high, "LOW matched what HIGH did not");
    assert_eq!(low, blocked(&acls.low, &request));
    assert_eq!(high, blocked(&acls.high, &request));
    assert_eq!(xss, blocked(&acls.xss, &request));
});
