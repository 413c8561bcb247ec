//! In-process tests of the control plane: requests straight into `Control::handle`.

use causeway_store::SqliteStore;

use super::*;

fn control() -> Control {
    let store = SqliteStore::in_memory().unwrap_or_else(|e| panic!("{e}"));
    Control::open(
        Box::new(store),
        ControlConfig::new("us-east-1", "000000000000"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn call(control: &Control, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let reply = control.handle(&Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        body: body.as_bytes().to_vec(),
        accept: None,
        target: None,
    });
    let value = serde_json::from_slice(&reply.body).unwrap_or(serde_json::Value::Null);
    (reply.status, value)
}

#[test]
fn create_api_resource_method_and_deploy() {
    let c = control();
    let (status, api) = call(&c, "POST", "/restapis", r#"{"name":"pets"}"#);
    assert_eq!(status, 201);
    let id = api["id"].as_str().unwrap_or_default().to_owned();
    let root = api["rootResourceId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, res) = call(
        &c,
        "POST",
        &format!("/restapis/{id}/resources/{root}"),
        r#"{"pathPart":"{proxy+}"}"#,
    );
    assert_eq!(status, 201, "{res}");
    assert_eq!(res["path"], "/{proxy+}");
    let rid = res["id"].as_str().unwrap_or_default().to_owned();
    let (status, _) = call(&c, "POST", &format!("/restapis/{id}/deployments"), "{}");
    assert_eq!(status, 400);
    let (status, _) = call(
        &c,
        "PUT",
        &format!("/restapis/{id}/resources/{rid}/methods/ANY"),
        r#"{"authorizationType":"NONE"}"#,
    );
    assert_eq!(status, 201);
    let (status, it) = call(
        &c,
        "PUT",
        &format!("/restapis/{id}/resources/{rid}/methods/ANY/integration"),
        r#"{"type":"HTTP_PROXY","httpMethod":"ANY","uri":"http://${stageVariables.VPCNLB}/{proxy}","connectionType":"VPC_LINK","connectionId":"${stageVariables.VPCLINK}"}"#,
    );
    assert_eq!(status, 201, "{it}");
    assert_eq!(it["cacheNamespace"], rid.as_str());
    let (status, dep) = call(
        &c,
        "POST",
        &format!("/restapis/{id}/deployments"),
        r#"{"stageName":"prod","variables":{"VPCLINK":"abc123","VPCNLB":"nlb.example"}}"#,
    );
    assert_eq!(status, 201, "{dep}");
    let (status, stage) = call(&c, "GET", &format!("/restapis/{id}/stages/prod"), "");
    assert_eq!(status, 200);
    assert_eq!(stage["variables"]["VPCNLB"], "nlb.example");
    assert_eq!(stage["deploymentId"], dep["id"]);
}

#[test]
fn errors_are_aws_shaped() {
    let c = control();
    let reply = c.handle(&Request {
        method: "GET".into(),
        path: "/restapis/nope".into(),
        query: String::new(),
        body: vec![],
        accept: None,
        target: None,
    });
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code, Some("NotFoundException"));
    assert_eq!(
        String::from_utf8_lossy(&reply.body),
        r#"{"message":"Invalid API identifier specified 000000000000:nope"}"#
    );
    let (status, _) = call(&c, "GET", "/bogus/route", "");
    assert_eq!(status, 404);
    let (status, body) = call(&c, "POST", "/restapis", "{not json");
    assert_eq!(status, 400, "{body}");
}

#[test]
fn seeded_random_requests_never_fail_the_server() {
    use rand::{Rng, SeedableRng};
    let Some((control, paths)) = fuzzing::fixture() else {
        panic!("the fuzz fixture could not be built")
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // Bodies mix random bytes with mutated JSON, so decoding and PATCH both see bad input.
    let seeds: &[&[u8]] = &[
        br#"{"patchOperations":[{"op":"replace","path":"/*/*/throttling/rateLimit","value":"5"}]}"#,
        br#"{"patchOperations":[{"op":"remove","path":"/variables/x"},{"op":"copy","from":"/a","path":"/deploymentId"}]}"#,
        br#"{"name":"x","tags":{"_custom_id_":"dup"}}"#,
        br#"{"type":"HTTP","httpMethod":"GET","uri":"http://h/{a}","timeoutInMillis":100}"#,
        br#"{"pathPart":"{x+}"}"#,
        br#"{"patchOperations":[{"op":"replace","path":"/apiStages/fz:prod/throttle/~1{proxy+}/ANY/rateLimit","value":"2"},{"op":"add","path":"/apiStages","value":"fz:prod"}]}"#,
        br#"{"name":"k","value":"abcdefghijklmnopqrstu","stageKeys":[{"restApiId":"fz","stageName":"prod"}],"quota":{"limit":1,"period":"DAY"}}"#,
        b"name,key,enabled,usageplanids
a,abcdefghijklmnopqrstuvwxyz,true,'x,y'
",
        br#"{"stageName":"s","deploymentId":"nope","variables":{"a":"b"}}"#,
        br#"{"name":"p","policy":"{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"execute-api:*\",\"Resource\":\"execute-api:/*\",\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}]}"}"#,
        br#"{"patchOperations":[{"op":"replace","path":"/policy","value":"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"*\",\"Resource\":\"*\"}}"}]}"#,
        br#"{"priority":20,"conditions":[{"matchHeaders":{"anyOf":[{"header":"Host","valueGlob":"*.fz.example"}]}},{"matchBasePaths":{"anyOf":["a/b"]}}],"actions":[{"invokeApi":{"apiId":"fz","stage":"prod"}}]}"#,
        br#"{"patchOperations":[{"op":"replace","path":"/routingMode","value":"ROUTING_RULE_ONLY"}]}"#,
        br#"{"apiId":"fz","apiMappingKey":"a/b/c","stage":"prod"}"#,
        br#"{"domainName":"n.fz.example","domainNameConfigurations":[{"endpointType":"EDGE","securityPolicy":"TLS_1_0"}],"routingMode":"ROUTING_RULE_THEN_API_MAPPING","mutualTlsAuthentication":{"truststoreUri":"s3://b/k"}}"#,
        br#"{"stageName":"prod","canarySettings":{"percentTraffic":10,"stageVariableOverrides":{"a":"b"},"useStageCache":true}}"#,
        br#"{"patchOperations":[{"op":"replace","path":"/canarySettings/stageVariableOverrides/a","value":"c"},{"op":"copy","from":"/canarySettings/stageVariableOverrides","path":"/variables"},{"op":"replace","path":"/canarySettings/useStageCache","value":"true"}]}"#,
        b"Attributes.member.1.Key=deregistration_delay.timeout_seconds&Attributes.member.1.Value=5",
        b"Targets.member.1.Id=10.0.0.1&Targets.member.1.Port=80&Targets.member.2.Id=::1",
        b"Protocol=TCP&Port=81&DefaultActions.member.1.Type=forward&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=x",
        b"Name=fz2&Subnets=&SecurityGroups.member.1=sg-1&Tags.member.1.Key=a&Tags.member.1.Value=b",
        b"HealthCheckProtocol=HTTP&Matcher.HttpCode=200-299&HealthCheckIntervalSeconds=5&HealthCheckTimeoutSeconds=5",
        br#"{"Name":"w","Scope":"REGIONAL","IPAddressVersion":"IPV6","Addresses":["2001:db8::/32"],"Limit":1,"NextMarker":"a"}"#,
        br#"{"Name":"w","Scope":"REGIONAL","DefaultAction":{"Block":{"CustomResponse":{"ResponseCode":429}}},"VisibilityConfig":{},"Rules":[{"Name":"r","Priority":0,"Statement":{"RateBasedStatement":{"Limit":10,"AggregateKeyType":"IP","ScopeDownStatement":{"NotStatement":{"Statement":{"RegexMatchStatement":{"RegexString":"a+","FieldToMatch":{"Body":{}},"TextTransformations":[{"Priority":0,"Type":"NONE"}]}}}}}},"Action":{"Count":{}},"VisibilityConfig":{}}]}"#,
    ];
    for _ in 0..3000 {
        let mut data = vec![rng.random::<u8>(), rng.random::<u8>()];
        let mut body = seeds[rng.random_range(0..seeds.len())].to_vec();
        for _ in 0..rng.random_range(0..4) {
            let at = rng.random_range(0..body.len());
            body[at] = rng.random();
        }
        if rng.random_bool(0.2) {
            body = (0..rng.random_range(0..64)).map(|_| rng.random()).collect();
        }
        data.extend(body);
        fuzzing::exercise(&control, &paths, &data);
    }
}
