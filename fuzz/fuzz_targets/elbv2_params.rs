//! Fuzzes the elbv2 query decoder: form-encoded query and body, then every accessor the
//! operations use (`X.member.N` lists, struct lists, nested structs) on the names they read.
#![no_main]

use causeway_wire::elbv2::params::Params;
use libfuzzer_sys::fuzz_target;

const LISTS: &[&str] = &["Subnets", "SecurityGroups", "Names", "LoadBalancerArns", "TargetGroupArns", "ListenerArns", "ResourceArns", "TagKeys"];
const STRUCTS: &[&str] = &["Targets", "DefaultActions", "Attributes", "Tags", "SubnetMappings"];
const NESTED: &[&str] = &["Matcher", "ForwardConfig"];

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (query, body) = data.split_at(split);
    let params = Params::parse(query, body.get(1..).unwrap_or_default());
    let _ = params.get("Action");
    for name in LISTS {
        let _ = params.list(name);
    }
    for name in STRUCTS {
        if let Ok(Some(items)) = params.structs(name) {
            for item in items {
                let _ = item.get("Id");
                let _ = item.get("Port");
                if let Some(forward) = item.nested("ForwardConfig") {
                    let _ = forward.structs("TargetGroups");
                }
            }
        }
    }
    for name in NESTED {
        let _ = params.nested(name);
    }
});
