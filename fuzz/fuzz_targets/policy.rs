//! Fuzzes resource policies: the input, split at its first NUL, is a policy document and a
//! request path. Parsing and evaluation must never panic whatever they are given, and
//! evaluation is a pure function of the request (the same request, the same decision).
#![no_main]

use causeway_model::policy::{INVOKE, Policy, Principal, Request, Scope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (document, path) = text.split_once('\0').unwrap_or((&text, "/pets/42"));
    let scope = Scope {
        region: "us-east-1",
        account_id: "123456789012",
        api_id: "a1b2c3",
    };
    let Ok(policy) = Policy::parse(document, scope) else {
        return;
    };
    let resource = scope.invoke_arn("prod", "GET", path);
    let principal = Principal {
        arn: "arn:aws:sts::123456789012:assumed-role/Ops/night",
        account_id: "123456789012",
        user_id: "AROAEXAMPLE:night",
    };
    for (ip, agent, principal) in [
        ("203.0.113.9", Some("curl/8.5.0"), None),
        ("::ffff:10.1.2.3", None, Some(principal)),
        ("2001:db8::1", Some(path), None),
    ] {
        let request = Request {
            action: INVOKE,
            resource: &resource,
            source_ip: ip.parse().unwrap(),
            epoch_seconds: 1_790_000_000,
            secure_transport: false,
            user_agent: agent,
            referer: Some(path),
            principal,
        };
        assert_eq!(policy.evaluate(&request), policy.evaluate(&request));
    }
});
