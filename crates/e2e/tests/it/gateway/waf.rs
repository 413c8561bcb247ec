//! AWS WAF web ACLs on REST API stages: the WAFv2 API (JSON 1.1, `X-Amz-Target`) on the
//! management endpoint, and the gateway screening every request of an associated stage
//! before anything else. Callers are told apart by their source address (127.0.0.1 or
//! 127.0.0.2, both loopback on Linux), as in the resource policy tests.

use std::net::{IpAddr, Ipv4Addr};

use base64::Engine as _;

use super::*;

const NEAR: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const FAR: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Calls a WAF operation; returns the status and the JSON answer.
async fn waf(server: &TestServer, operation: &str, body: Value) -> (u16, Value) {
    json11(server, &format!("AWSWAF_20190729.{operation}"), body).await
}

/// Calls a WAF operation that must succeed.
async fn waf_ok(server: &TestServer, operation: &str, body: Value) -> Value {
    let (status, answer) = waf(server, operation, body).await;
    assert_eq!(status, 200, "{operation}: {answer}");
    answer
}

/// Calls a WAF operation that must fail with `code`; returns the message.
async fn waf_err(server: &TestServer, operation: &str, body: Value, code: &str) -> String {
    let (status, answer) = waf(server, operation, body).await;
    assert_eq!(
        (status, answer["__type"].as_str()),
        (400, Some(code)),
        "{operation}: {answer}"
    );
    answer["Message"]
        .as_str()
        .or(answer["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The lock token an IP set has now.
async fn ip_set_token(server: &TestServer, name: &str, id: &str) -> Value {
    waf_ok(
        server,
        "GetIPSet",
        json!({"Name": name, "Scope": "REGIONAL", "Id": id}),
    )
    .await["LockToken"]
        .clone()
}

fn visibility(name: &str) -> Value {
    json!({"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": name})
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn rule(name: &str, priority: u64, statement: Value, action: Value) -> Value {
    json!({"Name": name, "Priority": priority, "Statement": statement, "Action": action,
           "VisibilityConfig": visibility(name)})
}

fn stage_arn(api: &str) -> String {
    format!("arn:aws:apigateway:{REGION}::/restapis/{api}/stages/prod")
}

/// Associates the web ACL `acl` (a Create answer) with `api`'s `prod` stage; its ARN.
async fn associate(server: &TestServer, acl: &Value, api: &str) -> String {
    let acl_arn = acl["Summary"]["ARN"].as_str().unwrap().to_owned();
    waf_ok(
        server,
        "AssociateWebACL",
        json!({"WebACLArn": acl_arn, "ResourceArn": stage_arn(api)}),
    )
    .await;
    acl_arn
}

/// An invoker whose connections come from `address`.
fn from(server: &TestServer, api: &str, address: IpAddr) -> Invoke {
    let mut invoke = Invoke::new(server, api);
    invoke.http = reqwest::Client::builder()
        .no_proxy()
        .local_address(address)
        .resolve(&invoke.host, invoke.gateway)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    invoke
}

/// `/` (GET) and `/items` (POST), MOCKs, deployed to `prod`.
async fn guarded_api(client: &Client) -> String {
    let (api, root) = create_api(client, "guarded").await;
    mock_route(client, &api, &root, "GET", "root").await;
    let items = create_resource(client, &api, &root, "items").await;
    mock_route(client, &api, &items, "POST", "items").await;
    deploy(client, &api, "prod").await;
    api
}

/// Calls until `done` holds, and returns that answer: a change reaches the gateway a moment
/// after the management API answers. Fails with the last answer after [`Invoke::PATIENCE`].
async fn until(
    invoke: &Invoke,
    request: impl Fn() -> reqwest::RequestBuilder,
    done: impl Fn(&Raw) -> bool,
) -> Raw {
    let deadline = Instant::now() + Invoke::PATIENCE;
    loop {
        let raw = invoke.send(request()).await;
        if done(&raw) {
            return raw;
        }
        assert!(
            Instant::now() < deadline,
            "not the awaited answer after {:?}; the last was {} {:?}: {}",
            Invoke::PATIENCE,
            raw.status,
            raw.error_type(),
            raw.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_web_acl_screens_every_request_of_its_stage_first() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = guarded_api(&client).await;
    let near = from(&server, &api, NEAR);
    let far = from(&server, &api, FAR);
    near.ready("/prod/").await;

    let set = waf_ok(
        &server,
        "CreateIPSet",
        json!({"Name": "far", "Scope": "REGIONAL",
        "IPAddressVersion": "IPV4", "Addresses": ["127.0.0.2/32"]}),
    )
    .await;
    let set_arn = set["Summary"]["ARN"].as_str().unwrap().to_owned();
    let set_id = set["Summary"]["Id"].as_str().unwrap().to_owned();
    assert!(set_arn.starts_with(&format!(
        "arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/ipset/far/"
    )));
    let acl = waf_ok(&server, "CreateWebACL", json!({
        "Name": "guard", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
        "VisibilityConfig": visibility("guard"),
        "CustomResponseBodies": {"teapot": {"ContentType": "APPLICATION_JSON", "Content": "{\"teapot\":true}"}},
        "Rules": [
            rule("far-away", 0, json!({"IPSetReferenceStatement": {"ARN": set_arn}}), json!({"Block": {}})),
            rule("no-bots", 1, json!({"ByteMatchStatement": {"SearchString": b64("badbot"),
                "FieldToMatch": {"SingleHeader": {"Name": "User-Agent"}},
                "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}], "PositionalConstraint": "CONTAINS"}}),
                json!({"Block": {"CustomResponse": {"ResponseCode": 418, "CustomResponseBodyKey": "teapot",
                    "ResponseHeaders": [{"Name": "x-blocked-by", "Value": "no-bots"}]}}})),
            rule("no-secrets", 3, json!({"ByteMatchStatement": {"SearchString": b64("/prod/secret"),
                "FieldToMatch": {"UriPath": {}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "STARTS_WITH"}}),
                json!({"Block": {}})),
            rule("no-drop", 2, json!({"ByteMatchStatement": {"SearchString": b64("drop table"),
                "FieldToMatch": {"Body": {}},
                "TextTransformations": [{"Priority": 0, "Type": "URL_DECODE"}, {"Priority": 1, "Type": "LOWERCASE"}],
                "PositionalConstraint": "CONTAINS"}}), json!({"Block": {}})),
        ]})).await;
    let acl_arn = associate(&server, &acl, &api).await;
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.web_acl_arn(), Some(acl_arn.as_str()));
    let found = waf_ok(
        &server,
        "GetWebACLForResource",
        json!({"ResourceArn": stage_arn(&api)}),
    )
    .await;
    assert_eq!(found["WebACL"]["ARN"], acl_arn.as_str());
    assert_eq!(found["WebACL"]["Capacity"], 1 + 10 + 10 + 10 + 20 + 2);

    // The far address is blocked everywhere, even where no route is: WAF comes first.
    let blocked = until(
        &far,
        || far.request("GET", "/prod/"),
        |raw| raw.status == 403,
    )
    .await;
    assert_gateway_error(&blocked, 403, "ForbiddenException", FORBIDDEN);
    assert_gateway_error(
        &far.get("/prod/no/such/route").await,
        403,
        "ForbiddenException",
        FORBIDDEN,
    );
    assert_eq!(route_of(&near.get("/prod/").await), "root");
    assert_missing_token(&near.get("/prod/no/such/route").await);

    // A path rule sees `/prod/...` whichever URL form is used (WAF's Forbidden, not the
    // Missing Authentication Token of a path no route has).
    assert_gateway_error(
        &near.get("/prod/secret/plans").await,
        403,
        "ForbiddenException",
        FORBIDDEN,
    );
    let path_form = near
        .send(near.request_url("GET", &near.path_url("prod", "/secret/plans")))
        .await;
    assert_gateway_error(&path_form, 403, "ForbiddenException", FORBIDDEN);

    // A custom response, and a body rule.
    let bot = near
        .send(
            near.request("GET", "/prod/")
                .header("user-agent", "Mozilla/5.0 BadBot"),
        )
        .await;
    assert_eq!(bot.status, 418);
    assert_eq!(bot.header("x-blocked-by").as_deref(), Some("no-bots"));
    assert_eq!(
        bot.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(bot.text(), r#"{"teapot":true}"#);
    let dropped = near
        .send(
            near.request("POST", "/prod/items")
                .body("q=1%3B%20DROP%20TABLE%20pets"),
        )
        .await;
    assert_eq!(dropped.status, 403);
    assert_eq!(
        route_of(
            &near
                .send(near.request("POST", "/prod/items").body("q=pets"))
                .await
        ),
        "items"
    );

    // WAF_FILTERED customises the default block.
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::WafFiltered)
        .status_code("451")
        .response_templates(
            "application/json",
            r#"{"blocked": "$context.error.responseType"}"#,
        )
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let custom = until(
        &far,
        || far.request("GET", "/prod/"),
        |raw| raw.status == 451,
    )
    .await;
    assert_eq!(custom.text(), r#"{"blocked": "WAF_FILTERED"}"#);

    // The IP set changes: the far address gets in, without touching the ACL.
    let token = ip_set_token(&server, "far", &set_id).await;
    waf_ok(
        &server,
        "UpdateIPSet",
        json!({"Name": "far", "Scope": "REGIONAL", "Id": set_id,
        "Addresses": ["192.0.2.0/24"], "LockToken": token}),
    )
    .await;
    let open = until(
        &far,
        || far.request("GET", "/prod/"),
        |raw| raw.status == 200,
    )
    .await;
    assert_eq!(route_of(&open), "root");

    // Disassociated, the stage is unguarded.
    waf_ok(
        &server,
        "DisassociateWebACL",
        json!({"ResourceArn": stage_arn(&api)}),
    )
    .await;
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.web_acl_arn(), None);
    let bot = until(
        &near,
        || near.request("GET", "/prod/").header("user-agent", "badbot"),
        |raw| raw.status == 200,
    )
    .await;
    assert_eq!(route_of(&bot), "root");
    assert_eq!(
        waf_ok(
            &server,
            "GetWebACLForResource",
            json!({"ResourceArn": stage_arn(&api)})
        )
        .await,
        json!({})
    );
}

#[tokio::test]
async fn a_rate_based_rule_blocks_a_caller_over_its_limit() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = guarded_api(&client).await;
    let near = from(&server, &api, NEAR);
    let far = from(&server, &api, FAR);
    near.ready("/prod/").await;
    let acl = waf_ok(&server, "CreateWebACL", json!({
        "Name": "flood", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}}, "VisibilityConfig": visibility("flood"),
        "Rules": [rule("ten-a-minute", 0, json!({"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "IP",
            "EvaluationWindowSec": 60}}), json!({"Block": {"CustomResponse": {"ResponseCode": 429,
                "ResponseHeaders": [{"Name": "Retry-After", "Value": "60"}]}}}))]})).await;
    let acl_arn = acl["Summary"]["ARN"].as_str().unwrap().to_owned();
    // The access log says what WAF decided.
    update_stage(
        &client,
        &api,
        vec![
            replace(
                "/accessLogSettings/destinationArn",
                "arn:aws:logs:us-east-1:000000000000:log-group:waf",
            ),
            replace(
                "/accessLogSettings/format",
                r#"{"requestId":"$context.requestId","status":"$context.status","waf":"$context.wafResponseCode","acl":"$context.webaclArn"}"#,
            ),
        ],
    )
    .await;
    waf_ok(
        &server,
        "AssociateWebACL",
        json!({"WebACLArn": acl_arn, "ResourceArn": stage_arn(&api)}),
    )
    .await;
    // Wait until the ACL is in force (these requests count too), then spend the rest.
    until(
        &near,
        || near.request("GET", "/prod/"),
        |raw| raw.status == 429,
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(near.get("/prod/").await.status);
    }
    assert_eq!(statuses, [429, 429, 429]);
    // Another address has its own count: ten requests in, the eleventh out.
    let mut far_statuses = Vec::new();
    for _ in 0..11 {
        far_statuses.push(far.get("/prod/").await.status);
    }
    assert_eq!(&far_statuses[..10], &[200; 10]);
    assert_eq!(far_statuses[10], 429);

    let path = server.data_dir().join("access-logs").join("waf.log");
    let deadline = Instant::now() + Duration::from_secs(5);
    let seen = loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let decided: Vec<(String, String)> = lines
            .iter()
            .filter(|l| l["acl"] == acl_arn.as_str())
            .map(|l| {
                (
                    l["status"].as_str().unwrap().to_owned(),
                    l["waf"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        if decided.len() >= 14 || Instant::now() >= deadline {
            break decided;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        seen.contains(&("200".to_owned(), "WAF_ALLOW".to_owned())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("429".to_owned(), "WAF_BLOCK".to_owned())),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .all(|(status, waf)| (status == "429") == (waf == "WAF_BLOCK")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn the_waf_api_refuses_what_aws_refuses() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = guarded_api(&client).await;
    let set = waf_ok(
        &server,
        "CreateIPSet",
        json!({"Name": "s", "Scope": "REGIONAL",
        "IPAddressVersion": "IPV4", "Addresses": []}),
    )
    .await;
    let set_arn = set["Summary"]["ARN"].as_str().unwrap().to_owned();
    let set_id = set["Summary"]["Id"].as_str().unwrap().to_owned();
    assert_eq!(set["Summary"]["Description"], "");

    assert_eq!(
        waf_err(
            &server,
            "CreateIPSet",
            json!({"Name": "s", "Scope": "REGIONAL", "IPAddressVersion": "IPV4", "Addresses": []}),
            "WAFDuplicateItemException"
        )
        .await,
        "AWS WAF couldn’t perform the operation because some resource in your request is a duplicate of an existing one."
    );
    let (status, invalid) = waf(
        &server,
        "CreateIPSet",
        json!({"Name": "t", "Scope": "REGIONAL",
        "IPAddressVersion": "IPV4", "Addresses": ["0.0.0.0/0"]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        invalid,
        json!({"__type": "WAFInvalidParameterException",
        "message": "Error reason: The parameter contains formatting that is not valid., field: IP_ADDRESS, parameter: 0.0.0.0/0",
        "Field": "IP_ADDRESS", "Parameter": "0.0.0.0/0", "Reason": "The parameter contains formatting that is not valid."})
    );
    assert!(waf_err(&server, "CreateIPSet", json!({"Name": "t", "Scope": "CLOUDFRONT", "IPAddressVersion": "IPV4", "Addresses": []}),
        "WAFInvalidParameterException").await.contains("field: SCOPE_VALUE"));
    assert!(
        waf_err(
            &server,
            "CreateIPSet",
            json!({"Scope": "REGIONAL", "IPAddressVersion": "IPV4", "Addresses": []}),
            "ValidationException"
        )
        .await
        .contains("Value null at 'name'")
    );
    assert_eq!(
        waf_err(
            &server,
            "GetIPSet",
            json!({"Name": "s", "Scope": "REGIONAL", "Id": "00000000-0000-4000-8000-000000000000"}),
            "WAFNonexistentItemException"
        )
        .await,
        "AWS WAF couldn’t perform the operation because your resource doesn’t exist."
    );
    assert!(
        waf_err(
            &server,
            "UpdateIPSet",
            json!({"Name": "s", "Scope": "REGIONAL", "Id": set_id, "Addresses": [],
        "LockToken": "00000000-0000-4000-8000-000000000000"}),
            "WAFOptimisticLockException"
        )
        .await
        .starts_with("AWS WAF couldn’t save your changes")
    );

    // Rules Causeway cannot evaluate are refused, not skipped.
    let managed = waf_err(&server, "CreateWebACL", json!({"Name": "m", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
        "VisibilityConfig": visibility("m"), "Rules": [{"Name": "common", "Priority": 0, "VisibilityConfig": visibility("c"),
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesAmazonIpReputationList"}},
            "OverrideAction": {"None": {}}}]}), "WAFInvalidParameterException").await;
    assert!(managed.contains("not supported"), "{managed}");

    let acl = waf_ok(&server, "CreateWebACL", json!({"Name": "a", "Scope": "REGIONAL", "DefaultAction": {"Block": {}},
        "VisibilityConfig": visibility("a"), "Rules": [rule("ips", 0, json!({"IPSetReferenceStatement": {"ARN": set_arn}}), json!({"Allow": {}}))]})).await;
    let acl_arn = acl["Summary"]["ARN"].as_str().unwrap().to_owned();
    let acl_id = acl["Summary"]["Id"].as_str().unwrap().to_owned();
    let acl_token = acl["Summary"]["LockToken"].as_str().unwrap().to_owned();
    waf_ok(
        &server,
        "CreateWebACL",
        json!({"Name": "b", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
        "VisibilityConfig": visibility("b")}),
    )
    .await;

    // Paging by name.
    let first = waf_ok(
        &server,
        "ListWebACLs",
        json!({"Scope": "REGIONAL", "Limit": 1}),
    )
    .await;
    assert_eq!(first["WebACLs"][0]["Name"], "a");
    let second = waf_ok(
        &server,
        "ListWebACLs",
        json!({"Scope": "REGIONAL", "Limit": 1, "NextMarker": first["NextMarker"]}),
    )
    .await;
    assert_eq!(second["WebACLs"][0]["Name"], "b");
    assert!(second.get("NextMarker").is_none(), "{second}");

    // The IP set is used, the ACL associated: neither can go.
    let set_token = ip_set_token(&server, "s", &set_id).await;
    waf_err(
        &server,
        "DeleteIPSet",
        json!({"Name": "s", "Scope": "REGIONAL", "Id": set_id, "LockToken": set_token}),
        "WAFAssociatedItemException",
    )
    .await;
    assert_eq!(
        waf_err(&server, "AssociateWebACL", json!({"WebACLArn": acl_arn, "ResourceArn": format!("arn:aws:apigateway:{REGION}::/restapis/{api}/stages/nope")}),
            "WAFNonexistentItemException").await,
        "AWS WAF couldn’t perform the operation because your resource doesn’t exist."
    );
    assert!(
        waf_err(
            &server,
            "AssociateWebACL",
            json!({"WebACLArn": acl_arn, "ResourceArn": "stage/prod"}),
            "WAFInvalidParameterException"
        )
        .await
        .contains("field: RESOURCE_ARN")
    );
    waf_ok(
        &server,
        "AssociateWebACL",
        json!({"WebACLArn": acl_arn, "ResourceArn": stage_arn(&api)}),
    )
    .await;
    waf_err(
        &server,
        "DeleteWebACL",
        json!({"Name": "a", "Scope": "REGIONAL", "Id": acl_id, "LockToken": acl_token}),
        "WAFAssociatedItemException",
    )
    .await;
    let listed = waf_ok(
        &server,
        "ListResourcesForWebACL",
        json!({"WebACLArn": acl_arn, "ResourceType": "API_GATEWAY"}),
    )
    .await;
    assert_eq!(listed, json!({"ResourceArns": [stage_arn(&api)]}));
    assert_eq!(
        waf_ok(
            &server,
            "ListResourcesForWebACL",
            json!({"WebACLArn": acl_arn})
        )
        .await,
        json!({"ResourceArns": []})
    );

    // UpdateWebACL replaces the rules; the old token is spent.
    let updated = waf_ok(
        &server,
        "UpdateWebACL",
        json!({"Name": "a", "Scope": "REGIONAL", "Id": acl_id, "LockToken": acl_token,
        "DefaultAction": {"Allow": {}}, "VisibilityConfig": visibility("a")}),
    )
    .await;
    let next = updated["NextLockToken"].as_str().unwrap().to_owned();
    assert_ne!(next, acl_token);
    let got = waf_ok(&server, "GetWebACL", json!({"ARN": acl_arn})).await;
    assert_eq!(got["WebACL"]["Rules"], json!([]));
    assert_eq!(got["LockToken"], next.as_str());
    waf_err(
        &server,
        "UpdateWebACL",
        json!({"Name": "a", "Scope": "REGIONAL", "Id": acl_id, "LockToken": acl_token,
        "DefaultAction": {"Allow": {}}, "VisibilityConfig": visibility("a")}),
        "WAFOptimisticLockException",
    )
    .await;

    // Nothing refused changed anything, and it all survives a restart.
    let mut server = server;
    server.restart().await;
    let listed = waf_ok(&server, "ListIPSets", json!({"Scope": "REGIONAL"})).await;
    assert_eq!(listed["IPSets"].as_array().unwrap().len(), 1);
    let got = waf_ok(&server, "GetWebACL", json!({"ARN": acl_arn})).await;
    assert_eq!(got["LockToken"], next.as_str());
    let client = server.client();
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.web_acl_arn(), Some(acl_arn.as_str()));
}

/// Nodes sharing a PostgreSQL store: a web ACL set on one guards the stage on the others,
/// and an IP set changed on another reaches them all.
#[tokio::test]
async fn a_web_acl_set_on_one_node_guards_every_node() {
    let pg = tokio::task::spawn_blocking(crate::harness::postgres::Postgres::start)
        .await
        .unwrap();
    let a = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let b = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let api = guarded_api(&a.client()).await;
    let set = waf_ok(
        &a,
        "CreateIPSet",
        json!({"Name": "far", "Scope": "REGIONAL",
        "IPAddressVersion": "IPV4", "Addresses": ["127.0.0.2/32"]}),
    )
    .await;
    let set_id = set["Summary"]["Id"].as_str().unwrap().to_owned();
    // Both nodes serve the stage before the ACL comes, so a 403 below can only be the ACL's.
    let (far_a, far_b) = (from(&a, &api, FAR), from(&b, &api, FAR));
    for far in [&far_a, &far_b] {
        assert_eq!(route_of(&far.ready("/prod/").await), "root");
    }
    let acl = waf_ok(&a, "CreateWebACL", json!({"Name": "guard", "Scope": "REGIONAL",
        "DefaultAction": {"Allow": {}}, "VisibilityConfig": visibility("guard"),
        "Rules": [rule("far", 0, json!({"IPSetReferenceStatement": {"ARN": set["Summary"]["ARN"]}}), json!({"Block": {}}))]})).await;
    waf_ok(
        &a,
        "AssociateWebACL",
        json!({"WebACLArn": acl["Summary"]["ARN"], "ResourceArn": stage_arn(&api)}),
    )
    .await;

    for far in [&far_a, &far_b] {
        let blocked = until(
            far,
            || far.request("GET", "/prod/"),
            |raw| raw.status == 403,
        )
        .await;
        assert_gateway_error(&blocked, 403, "ForbiddenException", FORBIDDEN);
    }
    // The IP set read and changed through b, with the lock token a's write issued.
    let got = waf_ok(
        &b,
        "GetIPSet",
        json!({"Name": "far", "Scope": "REGIONAL", "Id": set_id}),
    )
    .await;
    assert_eq!(got["LockToken"], set["Summary"]["LockToken"]);
    waf_ok(
        &b,
        "UpdateIPSet",
        json!({"Name": "far", "Scope": "REGIONAL", "Id": set_id,
        "Addresses": [], "LockToken": got["LockToken"]}),
    )
    .await;
    let open = until(
        &far_a,
        || far_a.request("GET", "/prod/"),
        |raw| raw.status == 200,
    )
    .await;
    assert_eq!(route_of(&open), "root");
}

/// Regex pattern sets: created, read, listed, updated under their lock token, used by a
/// web ACL rule (any of the set's expressions matches), changed under the ACL (the gateway
/// follows without a deployment), and kept while an ACL uses them.
#[tokio::test]
async fn regex_pattern_sets_match_any_expression_and_follow_updates() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = guarded_api(&client).await;
    let near = from(&server, &api, NEAR);
    near.ready("/prod/").await;

    let created = waf_ok(
        &server,
        "CreateRegexPatternSet",
        json!({"Name": "bots", "Scope": "REGIONAL", "Description": "scrapers",
               "RegularExpressionList": [{"RegexString": "^curl/"}, {"RegexString": "python-requests"}]}),
    )
    .await;
    let summary = &created["Summary"];
    let (id, set_arn) = (
        summary["Id"].as_str().unwrap().to_owned(),
        summary["ARN"].as_str().unwrap().to_owned(),
    );
    assert!(
        set_arn.contains(":regional/regexpatternset/bots/"),
        "{set_arn}"
    );
    let named = json!({"Name": "bots", "Scope": "REGIONAL", "Id": id});
    let got = waf_ok(&server, "GetRegexPatternSet", named.clone()).await;
    assert_eq!(
        got["RegexPatternSet"]["RegularExpressionList"],
        json!([{"RegexString": "^curl/"}, {"RegexString": "python-requests"}])
    );
    assert_eq!(got["RegexPatternSet"]["Description"], "scrapers");
    let listed = waf_ok(
        &server,
        "ListRegexPatternSets",
        json!({"Scope": "REGIONAL"}),
    )
    .await;
    assert_eq!(listed["RegexPatternSets"][0]["Id"], id.as_str());
    // Expressions that are not valid, and a duplicate name, are refused.
    waf_err(
        &server,
        "CreateRegexPatternSet",
        json!({"Name": "broken", "Scope": "REGIONAL", "RegularExpressionList": [{"RegexString": "("}]}),
        "WAFInvalidParameterException",
    )
    .await;
    waf_err(
        &server,
        "CreateRegexPatternSet",
        json!({"Name": "bots", "Scope": "REGIONAL", "RegularExpressionList": [{"RegexString": "x"}]}),
        "WAFDuplicateItemException",
    )
    .await;

    let acl = waf_ok(
        &server,
        "CreateWebACL",
        json!({"Name": "agents", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
               "VisibilityConfig": visibility("agents"),
               "Rules": [rule("bots", 0, json!({"RegexPatternSetReferenceStatement": {"ARN": set_arn,
                   "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
                   "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}]}}), json!({"Block": {}}))]}),
    )
    .await;
    associate(&server, &acl, &api).await;
    let as_agent = |agent: &'static str| {
        let request = near
            .http
            .get(format!("http://{}/prod/", near.host))
            .header("user-agent", agent);
        move || request.try_clone().unwrap()
    };
    let raw = until(&near, as_agent("curl/8.5.0"), |r| r.status == 403).await;
    assert_eq!(raw.status, 403, "{}", raw.text());
    assert_eq!(
        near.send(as_agent("Python-Requests/2.31")()).await.status,
        403
    );
    assert_eq!(near.send(as_agent("Mozilla/5.0")()).await.status, 200);

    // The set changes under the ACL: the gateway follows.
    let token = waf_ok(&server, "GetRegexPatternSet", named.clone()).await["LockToken"].clone();
    let mut update = named.clone();
    update["RegularExpressionList"] = json!([{"RegexString": "^mozilla/"}]);
    update["LockToken"] = json!("stale");
    waf_err(
        &server,
        "UpdateRegexPatternSet",
        update.clone(),
        "WAFOptimisticLockException",
    )
    .await;
    update["LockToken"] = token;
    waf_ok(&server, "UpdateRegexPatternSet", update).await;
    let raw = until(&near, as_agent("Mozilla/5.0"), |r| r.status == 403).await;
    assert_eq!(raw.status, 403);
    assert_eq!(near.send(as_agent("curl/8.5.0")()).await.status, 200);

    // In use, the set stays.
    let token = waf_ok(&server, "GetRegexPatternSet", named.clone()).await["LockToken"].clone();
    let mut delete = named.clone();
    delete["LockToken"] = token;
    waf_err(
        &server,
        "DeleteRegexPatternSet",
        delete,
        "WAFAssociatedItemException",
    )
    .await;
}

/// Rule groups: made with a capacity their rules must fit, referenced by a web ACL rule
/// (OverrideAction None: the group's Block decides; Count: it only labels), changed under
/// the web ACL (the gateway follows), and kept while anything names them or what they use.
#[tokio::test]
async fn rule_groups_decide_for_the_web_acls_that_reference_them() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = guarded_api(&client).await;
    let near = from(&server, &api, NEAR);
    let far = from(&server, &api, FAR);
    near.ready("/prod/").await;

    let set = waf_ok(
        &server,
        "CreateIPSet",
        json!({"Name": "far", "Scope": "REGIONAL", "IPAddressVersion": "IPV4", "Addresses": ["127.0.0.2/32"]}),
    )
    .await;
    let set_arn = set["Summary"]["ARN"].as_str().unwrap().to_owned();
    let group_rules = |action: Value| {
        json!([rule(
            "far",
            0,
            json!({"IPSetReferenceStatement": {"ARN": set_arn}}),
            action
        )])
    };
    // Rules that need more than the capacity are refused.
    waf_err(
        &server,
        "CreateRuleGroup",
        json!({"Name": "edge", "Scope": "REGIONAL", "Capacity": 0,
               "VisibilityConfig": visibility("edge"), "Rules": group_rules(json!({"Block": {}}))}),
        "ValidationException",
    )
    .await;
    let two_rules = json!([
        rule(
            "a",
            0,
            json!({"IPSetReferenceStatement": {"ARN": set_arn}}),
            json!({"Block": {}})
        ),
        rule(
            "b",
            1,
            json!({"IPSetReferenceStatement": {"ARN": set_arn}}),
            json!({"Block": {}})
        ),
    ]);
    let message = waf_err(
        &server,
        "CreateRuleGroup",
        json!({"Name": "small", "Scope": "REGIONAL", "Capacity": 1,
               "VisibilityConfig": visibility("small"), "Rules": two_rules}),
        "WAFInvalidParameterException",
    )
    .await;
    assert!(message.contains("more than its capacity of 1"), "{message}");
    let group = waf_ok(
        &server,
        "CreateRuleGroup",
        json!({"Name": "edge", "Scope": "REGIONAL", "Capacity": 10,
               "VisibilityConfig": visibility("edge"), "Rules": group_rules(json!({"Block": {}}))}),
    )
    .await;
    let (group_id, group_arn) = (
        group["Summary"]["Id"].as_str().unwrap().to_owned(),
        group["Summary"]["ARN"].as_str().unwrap().to_owned(),
    );
    assert!(
        group_arn.contains(":regional/rulegroup/edge/"),
        "{group_arn}"
    );
    let named = json!({"Name": "edge", "Scope": "REGIONAL", "Id": group_id});
    let got = waf_ok(&server, "GetRuleGroup", named.clone()).await;
    assert_eq!(got["RuleGroup"]["Capacity"], 10);
    assert_eq!(
        got["RuleGroup"]["LabelNamespace"],
        format!("awswaf:{ACCOUNT}:rulegroup:edge:")
    );
    let listed = waf_ok(&server, "ListRuleGroups", json!({"Scope": "REGIONAL"})).await;
    assert_eq!(listed["RuleGroups"][0]["Name"], "edge");

    let reference = |override_action: &str| {
        json!({"Name": "edge", "Priority": 0, "Statement": {"RuleGroupReferenceStatement": {"ARN": group_arn}},
               "OverrideAction": {override_action: {}}, "VisibilityConfig": visibility("edge")})
    };
    let acl = waf_ok(
        &server,
        "CreateWebACL",
        json!({"Name": "grouped", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
               "VisibilityConfig": visibility("grouped"), "Rules": [reference("None")]}),
    )
    .await;
    let acl_arn = acl["Summary"]["ARN"].as_str().unwrap().to_owned();
    let acl_id = acl["Summary"]["Id"].as_str().unwrap().to_owned();
    let acl_got = waf_ok(&server, "GetWebACL", json!({"ARN": acl_arn})).await;
    assert_eq!(
        acl_got["WebACL"]["Capacity"], 10,
        "a reference costs the group's capacity"
    );
    waf_ok(
        &server,
        "AssociateWebACL",
        json!({"WebACLArn": acl_arn, "ResourceArn": stage_arn(&api)}),
    )
    .await;
    let raw = until(
        &far,
        || far.http.get(format!("http://{}/prod/", far.host)),
        |r| r.status == 403,
    )
    .await;
    assert_eq!(raw.status, 403, "{}", raw.text());
    assert_eq!(near.get("/prod/").await.status, 200);

    // The group changes under the web ACL: its rule now counts, so no one is blocked.
    let token = waf_ok(&server, "GetRuleGroup", named.clone()).await["LockToken"].clone();
    let mut update = named.clone();
    update["Rules"] = group_rules(json!({"Count": {}}));
    update["VisibilityConfig"] = visibility("edge");
    update["LockToken"] = token;
    waf_ok(&server, "UpdateRuleGroup", update).await;
    let raw = until(
        &far,
        || far.http.get(format!("http://{}/prod/", far.host)),
        |r| r.status == 200,
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.text());

    // Blocking again, but the web ACL overrides the group to Count.
    let token = waf_ok(&server, "GetRuleGroup", named.clone()).await["LockToken"].clone();
    let mut update = named.clone();
    update["Rules"] = group_rules(json!({"Block": {}}));
    update["VisibilityConfig"] = visibility("edge");
    update["LockToken"] = token;
    waf_ok(&server, "UpdateRuleGroup", update).await;
    // The group blocks again, so a 200 below can only be the override's.
    let raw = until(
        &far,
        || far.http.get(format!("http://{}/prod/", far.host)),
        |r| r.status == 403,
    )
    .await;
    assert_gateway_error(&raw, 403, "ForbiddenException", FORBIDDEN);
    let acl_token =
        waf_ok(&server, "GetWebACL", json!({"ARN": acl_arn})).await["LockToken"].clone();
    waf_ok(
        &server,
        "UpdateWebACL",
        json!({"Name": "grouped", "Scope": "REGIONAL", "Id": acl_id, "LockToken": acl_token,
               "DefaultAction": {"Allow": {}}, "VisibilityConfig": visibility("grouped"),
               "Rules": [reference("Count")]}),
    )
    .await;
    let raw = until(
        &far,
        || far.http.get(format!("http://{}/prod/", far.host)),
        |r| r.status == 200,
    )
    .await;
    assert_eq!(route_of(&raw), "root");

    // In use: the group, and the IP set its rules name, stay.
    let token = waf_ok(&server, "GetRuleGroup", named.clone()).await["LockToken"].clone();
    let mut delete = named.clone();
    delete["LockToken"] = token;
    waf_err(
        &server,
        "DeleteRuleGroup",
        delete,
        "WAFAssociatedItemException",
    )
    .await;
    let set_id = set["Summary"]["Id"].as_str().unwrap();
    let mut delete_set = json!({"Name": "far", "Scope": "REGIONAL", "Id": set_id});
    delete_set["LockToken"] = ip_set_token(&server, "far", set_id).await;
    waf_err(
        &server,
        "DeleteIPSet",
        delete_set,
        "WAFAssociatedItemException",
    )
    .await;
}

/// Tags on WAF resources (what Terraform reads back after every create): given at creation,
/// added, removed, listed, and kept across a restart; the lock token does not change.
#[tokio::test]
async fn waf_resources_keep_their_tags() {
    let mut server = TestServer::start().await;
    let set = waf_ok(
        &server,
        "CreateIPSet",
        json!({"Name": "tagged", "Scope": "REGIONAL", "IPAddressVersion": "IPV4",
               "Addresses": ["192.0.2.0/24"], "Tags": [{"Key": "team", "Value": "edge"}]}),
    )
    .await;
    let arn = set["Summary"]["ARN"].as_str().unwrap().to_owned();
    let id = set["Summary"]["Id"].as_str().unwrap().to_owned();
    let list = |server: &TestServer| {
        let arn = arn.clone();
        let server_url = server.url("/");
        async move {
            let response = reqwest::Client::new()
                .post(server_url)
                .header("x-amz-target", "AWSWAF_20190729.ListTagsForResource")
                .header("content-type", "application/x-amz-json-1.1")
                .body(json!({"ResourceARN": arn}).to_string())
                .send()
                .await
                .unwrap();
            let answer: Value = response.json().await.unwrap();
            assert_eq!(answer["TagInfoForResource"]["ResourceARN"], arn.as_str());
            answer["TagInfoForResource"]["TagList"].clone()
        }
    };
    assert_eq!(
        list(&server).await,
        json!([{"Key": "team", "Value": "edge"}])
    );
    let token = ip_set_token(&server, "tagged", &id).await;
    waf_ok(
        &server,
        "TagResource",
        json!({"ResourceARN": arn, "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "core"}]}),
    )
    .await;
    waf_ok(
        &server,
        "UntagResource",
        json!({"ResourceARN": arn, "TagKeys": ["env"]}),
    )
    .await;
    assert_eq!(
        list(&server).await,
        json!([{"Key": "team", "Value": "core"}])
    );
    assert_eq!(ip_set_token(&server, "tagged", &id).await, token);
    waf_err(
        &server,
        "ListTagsForResource",
        json!({"ResourceARN": "arn:aws:wafv2:us-east-1:000000000000:regional/ipset/x/nope"}),
        "WAFNonexistentItemException",
    )
    .await;
    waf_err(
        &server,
        "TagResource",
        json!({"ResourceARN": "not-an-arn", "Tags": [{"Key": "a", "Value": "b"}]}),
        "WAFInvalidParameterException",
    )
    .await;

    server.restart().await;
    assert_eq!(
        list(&server).await,
        json!([{"Key": "team", "Value": "core"}])
    );
}

/// Two nodes on one database and one Redis server count a rate-based rule together: each
/// stays under the limit, both together go over it, and within a couple of exchanges (one
/// about every second) both block the caller. Another address keeps its own count.
#[tokio::test]
async fn two_nodes_share_a_rate_based_rule_through_redis() {
    use crate::harness::postgres::Postgres;
    use crate::harness::redis::Redis;
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let mut redis = tokio::task::spawn_blocking(Redis::start).await.unwrap();
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let counters = redis.url();
        nodes.push(
            TestServer::start_sharing(&pg.url(), move |config| {
                config.redis = Some(counters.clone());
            })
            .await,
        );
    }
    let (a, b) = (&nodes[0], &nodes[1]);
    let client = a.client();
    let api = guarded_api(&client).await;
    let (near_a, near_b) = (from(a, &api, NEAR), from(b, &api, NEAR));
    let far_b = from(b, &api, FAR);
    near_a.ready("/prod/").await;
    near_b.ready("/prod/").await;
    // A probe rule first (requests it blocks never reach the rate rule) tells when the ACL
    // is in force on a node.
    let acl = waf_ok(a, "CreateWebACL", json!({
        "Name": "shared-flood", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
        "VisibilityConfig": visibility("shared-flood"),
        "Rules": [
            rule("probe", 0, json!({"ByteMatchStatement": {"SearchString": b64("yes"),
                "FieldToMatch": {"SingleHeader": {"Name": "x-probe"}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "EXACTLY"}}),
                json!({"Block": {"CustomResponse": {"ResponseCode": 418}}})),
            rule("hundred-a-minute", 1, json!({"RateBasedStatement": {"Limit": 100, "AggregateKeyType": "IP",
                "EvaluationWindowSec": 60}}), json!({"Block": {}}))]})).await;
    associate(a, &acl, &api).await;
    for near in [&near_a, &near_b] {
        let probed = until(
            near,
            || near.request("GET", "/prod/").header("x-probe", "yes"),
            |raw| raw.status == 418,
        )
        .await;
        assert_eq!(probed.status, 418);
    }

    // 55 on each node: under the limit on either, over it together.
    const EACH: usize = 55;
    let mut passed = 0;
    for near in [&near_a, &near_b] {
        for _ in 0..EACH {
            let status = near.get("/prod/").await.status;
            assert!(status == 200 || status == 403, "{status}");
            passed += usize::from(status == 200);
        }
    }
    assert!(passed >= 100, "{passed} of {} passed", 2 * EACH);
    // Within a couple of exchanges, both nodes know of all 110. At most 40 more requests
    // per node, a quarter of a second apart (ten seconds for those exchanges on a busy
    // machine): a node counting alone would stay at 95, under the limit.
    const TRIES: usize = 40;
    for near in [&near_a, &near_b] {
        let mut tries = 0;
        let blocked = loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            tries += 1;
            let raw = near.get("/prod/").await;
            if raw.status != 200 || tries == TRIES {
                break raw;
            }
        };
        assert_eq!(blocked.status, 403, "{}", blocked.text());
        assert_eq!(blocked.error_type().as_deref(), Some("ForbiddenException"));
    }
    // Another caller is not held back.
    assert_eq!(far_b.get("/prod/").await.status, 200);
    // Without Redis, the nodes count alone and answer as fast as before (no request waits
    // on Redis); the caller over the limit stays blocked by what each node knows.
    redis.stop();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..3 {
        assert_eq!(far_b.get("/prod/").await.status, 200);
    }
    assert_eq!(near_b.get("/prod/").await.status, 403);
}

/// Rules on every header, on cookies and on the JSON body, through the gateway: a POST's
/// JSON body is read before the rules run, and each field is looked at as AWS WAF does.
#[tokio::test]
async fn headers_cookies_and_json_bodies_are_screened() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = guarded_api(&client).await;
    let near = from(&server, &api, NEAR);
    near.ready("/prod/").await;
    let matched = |search: &str, field: Value| {
        json!({"ByteMatchStatement": {"SearchString": b64(search), "FieldToMatch": field,
            "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}], "PositionalConstraint": "CONTAINS"}})
    };
    let acl = waf_ok(&server, "CreateWebACL", json!({
        "Name": "fields", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}}, "VisibilityConfig": visibility("fields"),
        "Rules": [
            rule("json-role", 0, matched("root", json!({"JsonBody": {"MatchPattern": {"IncludedPaths": ["/role"]},
                "MatchScope": "VALUE", "InvalidFallbackBehavior": "NO_MATCH"}})),
                json!({"Block": {"CustomResponse": {"ResponseCode": 422}}})),
            rule("cookie", 1, matched("banned", json!({"Cookies": {"MatchPattern": {"IncludedCookies": ["tier"]},
                "MatchScope": "VALUE", "OversizeHandling": "CONTINUE"}})),
                json!({"Block": {"CustomResponse": {"ResponseCode": 429}}})),
            rule("headers", 2, matched("sqlmap", json!({"Headers": {"MatchPattern": {"All": {}},
                "MatchScope": "VALUE", "OversizeHandling": "CONTINUE"}})),
                json!({"Block": {}}))]})).await;
    associate(&server, &acl, &api).await;
    let post = |body: &'static str| {
        near.request("POST", "/prod/items")
            .header("content-type", "application/json")
            .body(body)
    };
    let blocked = until(
        &near,
        || post(r#"{"role": "Root"}"#),
        |raw| raw.status == 422,
    )
    .await;
    assert_eq!(blocked.status, 422);
    assert_eq!(
        near.send(post(r#"{"name": "root", "role": "user"}"#))
            .await
            .status,
        200
    );
    assert_eq!(near.send(post("role=root")).await.status, 200);
    let get_with = |name: &'static str, value: &'static str| {
        near.send(near.request("GET", "/prod/").header(name, value))
    };
    assert_eq!(
        get_with("cookie", "theme=banned; tier=BANNED").await.status,
        429
    );
    assert_eq!(get_with("cookie", "tier=gold; x=banned").await.status, 200);
    assert_eq!(get_with("x-scanner", "SQLMap/1.7").await.status, 403);
}

/// SQL injection and cross-site scripting rules, through the gateway: attacks in the query
/// string (percent-encoded, decoded by the rule's transformation) and in a JSON body are
/// stopped; ordinary values pass. CheckCapacity counts them as AWS does.
#[tokio::test]
async fn sql_injection_and_cross_site_scripting_are_stopped() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = guarded_api(&client).await;
    let near = from(&server, &api, NEAR);
    near.ready("/prod/").await;
    let transformed = |kind: &str| json!([{"Priority": 0, "Type": kind}]);
    let rules = json!([
        rule(
            "sqli",
            0,
            json!({"SqliMatchStatement": {"FieldToMatch": {"AllQueryArguments": {}},
            "TextTransformations": transformed("URL_DECODE"), "SensitivityLevel": "HIGH"}}),
            json!({"Block": {"CustomResponse": {"ResponseCode": 406}}})
        ),
        rule(
            "xss",
            1,
            json!({"XssMatchStatement": {"FieldToMatch": {"JsonBody": {"MatchPattern": {"All": {}},
            "MatchScope": "VALUE", "InvalidFallbackBehavior": "EVALUATE_AS_STRING"}},
            "TextTransformations": transformed("NONE")}}),
            json!({"Block": {}})
        )
    ]);
    // (30 + 10 for all query arguments + 10 for URL_DECODE) + 2 × 40.
    let capacity = waf_ok(
        &server,
        "CheckCapacity",
        json!({"Scope": "REGIONAL", "Rules": rules}),
    )
    .await;
    assert_eq!(capacity["Capacity"], 130, "{capacity}");
    let acl = waf_ok(
        &server,
        "CreateWebACL",
        json!({
        "Name": "injection", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
        "VisibilityConfig": visibility("injection"), "Rules": rules}),
    )
    .await;
    associate(&server, &acl, &api).await;
    let attack = "/prod/?id=1%27%20OR%20%271%27%3D%271";
    let blocked = until(
        &near,
        || near.request("GET", attack),
        |raw| raw.status == 406,
    )
    .await;
    assert_eq!(blocked.status, 406);
    for path in [
        "/prod/?id=1%20union%20select%20password%20from%20users",
        "/prod/?sort=name&q=x%27%20and%20sleep(5)%23",
        "/prod/?id=1%20or%201",
    ] {
        assert_eq!(near.get(path).await.status, 406, "{path}");
    }
    for path in [
        "/prod/?q=O%27Reilly",
        "/prod/?email=ann%40example.com&page=2",
        "/prod/?lang=C%23",
    ] {
        assert_eq!(near.get(path).await.status, 200, "{path}");
    }
    let post = |body: &'static str| {
        near.send(
            near.request("POST", "/prod/items")
                .header("content-type", "application/json")
                .body(body),
        )
    };
    let blocked = post(r#"{"comment": "<script>alert(document.cookie)</script>"}"#).await;
    assert_eq!(blocked.status, 403, "{}", blocked.text());
    assert_eq!(blocked.error_type().as_deref(), Some("ForbiddenException"));
    assert_eq!(
        post(r#"{"comment": "<svg onload=alert(1)>"}"#).await.status,
        403
    );
    assert_eq!(
        post(r#"{"comment": "2 < 3 and <b>bold</b>"}"#).await.status,
        200
    );
}

/// AWS managed rule groups through the gateway: the core rule set and the SQL database group
/// block what their rules describe, a rule action override turns one rule to Count, and
/// ordinary requests pass.
#[tokio::test]
async fn aws_managed_rule_groups_screen_requests() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = guarded_api(&client).await;
    let near = from(&server, &api, NEAR);
    near.ready("/prod/").await;
    let managed = |name: &str, priority: u64, extra: Value| {
        let mut statement = json!({"VendorName": "AWS", "Name": name});
        if let (Some(map), Some(extra)) = (statement.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        json!({"Name": name, "Priority": priority, "OverrideAction": {"None": {}},
               "Statement": {"ManagedRuleGroupStatement": statement}, "VisibilityConfig": visibility(name)})
    };
    let acl = waf_ok(
        &server,
        "CreateWebACL",
        json!({
        "Name": "managed", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
        "VisibilityConfig": visibility("managed"),
        "Rules": [
            managed("AWSManagedRulesCommonRuleSet", 0, json!({"RuleActionOverrides": [
                {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]})),
            managed("AWSManagedRulesSQLiRuleSet", 1, json!({}))]}),
    )
    .await;
    assert_eq!(acl["Summary"]["Name"], "managed");
    // What the server renders, as the discovery operations say.
    let available = waf_ok(
        &server,
        "ListAvailableManagedRuleGroups",
        json!({"Scope": "REGIONAL"}),
    )
    .await;
    let names: Vec<&str> = available["ManagedRuleGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 9, "{available}");
    assert!(
        names.contains(&"AWSManagedRulesCommonRuleSet")
            && names.contains(&"AWSManagedRulesWordPressRuleSet")
    );
    let described = waf_ok(
        &server,
        "DescribeManagedRuleGroup",
        json!({"Scope": "REGIONAL",
        "VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}),
    )
    .await;
    assert_eq!(described["Capacity"], 700);
    assert_eq!(
        described["LabelNamespace"],
        "awswaf:managed:aws:core-rule-set:"
    );
    assert_eq!(described["Rules"].as_array().unwrap().len(), 22);
    assert_eq!(
        described["Rules"][0],
        json!({"Name": "NoUserAgent_HEADER", "Action": {"Block": {}}})
    );
    assert_eq!(
        described["AvailableLabels"][1]["Name"],
        "awswaf:managed:aws:core-rule-set:BadBots_Header"
    );
    let versions = waf_ok(
        &server,
        "ListAvailableManagedRuleGroupVersions",
        json!({"Scope": "REGIONAL",
        "VendorName": "AWS", "Name": "AWSManagedRulesSQLiRuleSet"}),
    )
    .await;
    assert_eq!(versions["Versions"], json!([]));
    waf_err(
        &server,
        "DescribeManagedRuleGroup",
        json!({"Scope": "REGIONAL", "VendorName": "AWS",
        "Name": "AWSManagedRulesNoSuchGroup"}),
        "WAFNonexistentItemException",
    )
    .await;
    waf_err(
        &server,
        "DescribeManagedRuleGroup",
        json!({"Scope": "REGIONAL", "VendorName": "AWS",
        "Name": "AWSManagedRulesBotControlRuleSet"}),
        "WAFInvalidParameterException",
    )
    .await;
    let described = waf_ok(
        &server,
        "GetWebACL",
        json!({"Name": "managed", "Scope": "REGIONAL",
        "Id": acl["Summary"]["Id"]}),
    )
    .await;
    assert_eq!(described["WebACL"]["Capacity"], 900, "{described}");
    associate(&server, &acl, &api).await;
    // A browser's requests; the core rule set blocks requests without a User-Agent.
    let browser = |method: &str, path: &str| {
        near.request(method, path)
            .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64)")
    };
    let blocked = until(
        &near,
        || browser("GET", "/prod/?id=1%27%20or%20%271%27%3D%271"),
        |raw| raw.status == 403,
    )
    .await;
    assert_eq!(blocked.status, 403);
    assert_eq!(blocked.error_type().as_deref(), Some("ForbiddenException"));
    for path in [
        "/prod/?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F",
        "/prod/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/prod/?file=..%2F..%2Fetc%2Fpasswd",
    ] {
        assert_eq!(near.send(browser("GET", path)).await.status, 403, "{path}");
    }
    assert_eq!(
        near.send(
            near.request("GET", "/prod/")
                .header("user-agent", "Nmap Scripting Engine")
        )
        .await
        .status,
        403
    );
    assert_eq!(near.get("/prod/").await.status, 403, "no User-Agent");
    assert_eq!(
        near.send(browser("GET", "/prod/?page=2&q=blue%20shirt"))
            .await
            .status,
        200
    );
    // SizeRestrictions_BODY only counts: a 9 kB JSON body passes.
    let large = format!(r#"{{"note": "{}"}}"#, "x".repeat(9_000));
    let posted = near
        .send(
            browser("POST", "/prod/items")
                .header("content-type", "application/json")
                .body(large),
        )
        .await;
    assert_eq!(posted.status, 200, "{}", posted.text());
}

/// A rate-based rule on custom keys (an API key header here) counts each key apart, and
/// lets through requests that lack it.
#[tokio::test]
async fn a_rate_based_rule_on_custom_keys_counts_each_key() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = guarded_api(&client).await;
    let near = from(&server, &api, NEAR);
    near.ready("/prod/").await;
    let acl = waf_ok(&server, "CreateWebACL", json!({
        "Name": "per-key", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}}, "VisibilityConfig": visibility("per-key"),
        "Rules": [
            rule("probe", 0, json!({"ByteMatchStatement": {"SearchString": b64("yes"),
                "FieldToMatch": {"SingleHeader": {"Name": "x-probe"}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "EXACTLY"}}),
                json!({"Block": {"CustomResponse": {"ResponseCode": 418}}})),
            rule("ten-per-key", 1, json!({"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "CUSTOM_KEYS",
                "EvaluationWindowSec": 60, "CustomKeys": [{"Header": {"Name": "x-api-key",
                    "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}]}}),
                json!({"Block": {"CustomResponse": {"ResponseCode": 429}}}))]})).await;
    associate(&server, &acl, &api).await;
    until(
        &near,
        || near.request("GET", "/prod/").header("x-probe", "yes"),
        |raw| raw.status == 418,
    )
    .await;
    let with_key = |key: &'static str| near.request("GET", "/prod/").header("x-api-key", key);
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(near.send(with_key("alpha")).await.status);
    }
    assert_eq!(&statuses[..10], &[200; 10]);
    assert_eq!(statuses[10], 429);
    assert_eq!(near.send(with_key("beta")).await.status, 200);
    for _ in 0..12 {
        assert_eq!(
            near.get("/prod/").await.status,
            200,
            "no key: never counted"
        );
    }
}

/// Allow and Count actions (and an Allow default action) insert `x-amzn-waf-` headers
/// into the request the backend gets; a header of the same name the client sent is
/// replaced.
#[tokio::test]
async fn non_blocking_actions_insert_headers_into_the_request() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let near = from(&server, &api, NEAR);
    near.ready("/prod/ready").await;
    let insert = |action: &str, headers: Value| json!({action: {"CustomRequestHandling": {"InsertHeaders": headers}}});
    let matched = |search: &str, field: Value| {
        json!({"ByteMatchStatement": {"SearchString": b64(search), "FieldToMatch": field,
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "STARTS_WITH"}})
    };
    let acl = waf_ok(
        &server,
        "CreateWebACL",
        json!({
        "Name": "tagging", "Scope": "REGIONAL", "VisibilityConfig": visibility("tagging"),
        "DefaultAction": insert("Allow", json!([{"Name": "verdict", "Value": "default"}])),
        "Rules": [
            rule("flag-curl", 0, matched("curl", json!({"SingleHeader": {"Name": "user-agent"}})),
                insert("Count", json!([{"Name": "tool", "Value": "curl"}]))),
            rule("vip", 1, matched("/prod/pets/7", json!({"UriPath": {}})),
                insert("Allow", json!([{"Name": "verdict", "Value": "vip"}])))]}),
    )
    .await;
    associate(&server, &acl, &api).await;
    let get = |path: &'static str| {
        near.request("GET", path)
            .header("user-agent", "curl/8.5.0")
            .header("x-amzn-waf-verdict", "forged")
    };
    until(
        &near,
        || get("/prod/pets/1"),
        |_| backend.last().header("x-amzn-waf-verdict") == Some("default"),
    )
    .await;
    let seen = backend.last();
    assert_eq!(seen.header("x-amzn-waf-tool"), Some("curl"));
    assert_eq!(seen.header("x-amzn-waf-verdict"), Some("default"));
    let verdicts = seen
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-amzn-waf-verdict"))
        .count();
    assert_eq!(verdicts, 1, "the client's is replaced");
    assert_eq!(near.send(get("/prod/pets/7")).await.status, 200);
    let seen = backend.last();
    assert_eq!(
        (
            seen.header("x-amzn-waf-tool"),
            seen.header("x-amzn-waf-verdict")
        ),
        (Some("curl"), Some("vip"))
    );
    // Without a matching Count rule, only the default action's.
    assert_eq!(
        near.send(near.request("GET", "/prod/pets/2")).await.status,
        200
    );
    let seen = backend.last();
    assert_eq!(
        (
            seen.header("x-amzn-waf-tool"),
            seen.header("x-amzn-waf-verdict")
        ),
        (None, Some("default"))
    );
}
