//! Routing rules of custom domain names (apigatewayv2's `/v2/domainnames/{name}/routingrules`),
//! domains' routing modes and apigatewayv2's API mappings (multi-level base paths): the
//! management operations, and invokes routed as AWS's documented examples route them.

use serde_json::{Value, json};

use super::domain_names::for_host;
use super::*;

const DOMAIN: &str = "rules.example.com";

/// An API whose root and `{proxy+}` (any method) answer, from a MOCK integration, which API
/// (`tag`) and stage served them and the resource path and `proxy` they saw. Deployed to
/// `prod` and `beta`.
async fn echo_api(client: &Client, tag: &str) -> String {
    let answer = format!(
        r#"{{"route":"{tag}","stage":"$context.stage","resource":"$context.resourcePath","proxy":"$input.params('proxy')"}}"#
    );
    let integration = json!({
        "type": "mock",
        "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
        "responses": {"default": {"statusCode": "200",
            "responseTemplates": {"application/json": answer}}}
    });
    let document = json!({
        "openapi": "3.0.1",
        "info": {"title": tag, "version": "1"},
        "paths": {
            "/": {"get": {"responses": {"200": {"description": "ok"}},
                          "x-amazon-apigateway-integration": integration}},
            "/{proxy+}": {"x-amazon-apigateway-any-method": {
                "parameters": [{"name": "proxy", "in": "path", "required": true,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": integration}}
        }
    });
    let imported = client
        .import_rest_api()
        .parameters("endpointConfigurationTypes", "REGIONAL")
        .fail_on_warnings(true)
        .body(aws_sdk_apigateway::primitives::Blob::new(
            document.to_string(),
        ))
        .send()
        .await
        .unwrap();
    let api = imported.id().unwrap().to_owned();
    deploy(client, &api, "prod").await;
    deploy(client, &api, "beta").await;
    api
}

fn rules_path(domain: &str) -> String {
    format!("/v2/domainnames/{domain}/routingrules")
}

/// A rule's body: header conditions (name, glob), an optional base path, and the stage to
/// invoke.
fn rule(
    priority: i64,
    headers: &[(&str, &str)],
    base_path: Option<&str>,
    api: &str,
    stage: &str,
    strip: Option<bool>,
) -> String {
    let mut conditions: Vec<Value> = headers
        .iter()
        .map(|(header, glob)| {
            json!({"matchHeaders": {"anyOf": [{"header": header, "valueGlob": glob}]}})
        })
        .collect();
    if let Some(path) = base_path {
        conditions.push(json!({"matchBasePaths": {"anyOf": [path]}}));
    }
    let mut invoke = json!({"apiId": api, "stage": stage});
    if let Some(strip) = strip {
        invoke["stripBasePath"] = json!(strip);
    }
    json!({"priority": priority, "conditions": conditions, "actions": [{"invokeApi": invoke}]})
        .to_string()
}

/// Creates a rule and answers its id.
async fn create_rule(server: &TestServer, domain: &str, body: &str) -> String {
    let raw = server.post(&rules_path(domain), body).await;
    raw.assert_status(201);
    raw.json()["routingRuleId"].as_str().unwrap().to_owned()
}

async fn set_mode(client: &Client, domain: &str, mode: &str) {
    let updated = client
        .update_domain_name()
        .domain_name(domain)
        .patch_operations(replace("/routingMode", mode))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.routing_mode().map(|m| m.as_str()),
        Some(mode),
        "{updated:?}"
    );
}

/// An apigatewayv2 error: status, `x-amzn-ErrorType`, and a message containing `part`.
fn assert_v2_error(raw: &Raw, status: u16, error_type: &str, part: &str) {
    assert_eq!(raw.status, status, "{}", raw.text());
    assert_eq!(
        raw.error_type().as_deref(),
        Some(error_type),
        "{}",
        raw.text()
    );
    let message = raw.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains(part), "{message:?} lacks {part:?}");
}

#[tokio::test]
async fn routing_rules_are_managed_as_apigatewayv2_manages_them() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let cert = imported_certificate(&server, &["*.example.com"]).await;
    let api = echo_api(&client, "a").await;
    create_regional_domain(&client, DOMAIN, &cert).await;
    let domain = client
        .get_domain_name()
        .domain_name(DOMAIN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        domain.routing_mode().map(|m| m.as_str()),
        Some("BASE_PATH_MAPPING_ONLY")
    );

    // A domain routed by base path mappings only takes no rule.
    let first = rule(
        50,
        &[("x-version", "beta*")],
        Some("orders"),
        &api,
        "beta",
        None,
    );
    assert_v2_error(
        &server.post(&rules_path(DOMAIN), &first).await,
        400,
        "BadRequestException",
        "BASE_PATH_MAPPING_ONLY",
    );
    let refused = client
        .update_domain_name()
        .domain_name(DOMAIN)
        .patch_operations(replace("/routingMode", "API_MAPPING_ONLY"))
        .send()
        .await
        .expect_err("a V2 name in the V1 API");
    assert!(
        format!("{refused:?}").contains("Invalid routing mode 'API_MAPPING_ONLY'"),
        "{refused:?}"
    );
    set_mode(&client, DOMAIN, "ROUTING_RULE_THEN_BASE_PATH_MAPPING").await;

    let created = server.post(&rules_path(DOMAIN), &first).await;
    created.assert_status(201);
    let created = created.json();
    let id = created["routingRuleId"].as_str().unwrap().to_owned();
    assert!(
        id.len() == 6
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(
        created,
        json!({
            "routingRuleId": id,
            "routingRuleArn": format!("arn:aws:apigateway:us-east-1:000000000000:/domainnames/{DOMAIN}/routingrules/{id}"),
            "priority": 50,
            "conditions": [
                {"matchHeaders": {"anyOf": [{"header": "x-version", "valueGlob": "beta*"}]}},
                {"matchBasePaths": {"anyOf": ["orders"]}}
            ],
            "actions": [{"invokeApi": {"apiId": api, "stage": "beta", "stripBasePath": false}}]
        })
    );
    let got = server.get(&format!("{}/{id}", rules_path(DOMAIN))).await;
    got.assert_status(200);
    assert_eq!(got.json(), created);

    // Priorities are unique within a domain.
    let same_priority = rule(50, &[], None, &api, "prod", None);
    assert_v2_error(
        &server.post(&rules_path(DOMAIN), &same_priority).await,
        409,
        "ConflictException",
        "Priority 50 is taken",
    );
    // A catch-all (no conditions) ahead of it.
    let catch_all = create_rule(&server, DOMAIN, &rule(10, &[], None, &api, "prod", None)).await;

    // Listed lowest priority first, page by page.
    let listed = server.get(&rules_path(DOMAIN)).await;
    listed.assert_status(200);
    let listed = listed.json();
    let ids: Vec<&str> = listed["routingRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["routingRuleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![catch_all.as_str(), id.as_str()]);
    assert!(listed.get("nextToken").is_none(), "{listed}");
    let page = server
        .get(&format!("{}?maxResults=1", rules_path(DOMAIN)))
        .await
        .json();
    assert_eq!(page["routingRules"][0]["routingRuleId"], catch_all.as_str());
    let token = page["nextToken"].as_str().unwrap();
    let rest = server
        .get(&format!(
            "{}?maxResults=1&nextToken={token}",
            rules_path(DOMAIN)
        ))
        .await
        .json();
    assert_eq!(rest["routingRules"][0]["routingRuleId"], id.as_str());
    assert!(rest.get("nextToken").is_none(), "{rest}");
    assert_v2_error(
        &server
            .get(&format!("{}?maxResults=101", rules_path(DOMAIN)))
            .await,
        400,
        "BadRequestException",
        "maxResults",
    );

    // PutRoutingRule replaces the whole rule and keeps its id; priorities stay unique.
    let rule_path = format!("{}/{catch_all}", rules_path(DOMAIN));
    assert_v2_error(
        &server
            .put(&rule_path, &rule(50, &[], None, &api, "prod", None))
            .await,
        409,
        "ConflictException",
        &id,
    );
    let put = server
        .put(
            &rule_path,
            &rule(60, &[("Hello", "World")], None, &api, "prod", Some(true)),
        )
        .await;
    put.assert_status(200);
    let put = put.json();
    assert_eq!(put["routingRuleId"], catch_all.as_str());
    assert_eq!(put["priority"], 60);
    assert_eq!(put["actions"][0]["invokeApi"]["stripBasePath"], true);
    assert_eq!(server.get(&rule_path).await.json(), put);

    // What AWS documents as not allowed.
    for (body, part) in [
        (
            rule(0, &[], None, &api, "prod", None),
            "priority is 1 to 1000000",
        ),
        (
            rule(1_000_001, &[], None, &api, "prod", None),
            "Invalid priority 1000001",
        ),
        (
            rule(1, &[("Authorization", "x")], None, &api, "prod", None),
            "not supported in routing rule conditions",
        ),
        (
            rule(1, &[("X-Amz-Date", "x")], None, &api, "prod", None),
            "not supported in routing rule conditions",
        ),
        (
            rule(1, &[("x-version", "a*b")], None, &api, "prod", None),
            "may only begin or end",
        ),
        (
            rule(
                1,
                &[("a", "1"), ("b", "2"), ("c", "3")],
                None,
                &api,
                "prod",
                None,
            ),
            "at most two matchHeaders",
        ),
        (
            rule(1, &[], Some("/orders"), &api, "prod", None),
            "Invalid base path '/orders'",
        ),
        (
            rule(1, &[], None, "nosuchapi", "prod", None),
            "Invalid REST API identifier specified",
        ),
        (
            rule(1, &[], None, &api, "gamma", None),
            "Invalid stage identifier specified",
        ),
        (
            json!({"priority": 1, "actions": [{"invokeApi": {"apiId": api, "stage": "prod"}}]})
                .to_string(),
            "conditions is required",
        ),
        (
            json!({"priority": 1, "conditions": [], "actions": []}).to_string(),
            "exactly one action",
        ),
    ] {
        assert_v2_error(
            &server.post(&rules_path(DOMAIN), &body).await,
            400,
            "BadRequestException",
            part,
        );
    }
    // A private API is not a public domain's to invoke.
    let private = client
        .create_rest_api()
        .name("private")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}"#)
        .endpoint_configuration(
            aws_sdk_apigateway::types::EndpointConfiguration::builder()
                .types(aws_sdk_apigateway::types::EndpointType::Private)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let private = private.id().unwrap().to_owned();
    put_mock_route(&client, &private).await;
    deploy(&client, &private, "prod").await;
    assert_v2_error(
        &server
            .post(
                &rules_path(DOMAIN),
                &rule(5, &[], None, &private, "prod", None),
            )
            .await,
        400,
        "BadRequestException",
        "Regional or edge-optimized REST APIs only",
    );

    // Unknown domains and rules.
    assert_v2_error(
        &server.get(&rules_path("nope.example.com")).await,
        404,
        "NotFoundException",
        "Invalid domain name identifier specified",
    );
    for raw in [
        server.get(&format!("{}/zzz999", rules_path(DOMAIN))).await,
        server
            .put(
                &format!("{}/zzz999", rules_path(DOMAIN)),
                &rule(7, &[], None, &api, "prod", None),
            )
            .await,
        server
            .delete(&format!("{}/zzz999", rules_path(DOMAIN)))
            .await,
    ] {
        assert_v2_error(&raw, 404, "NotFoundException", "zzz999");
    }

    // Rules outlive a restart.
    server.restart().await;
    let after = server.get(&rules_path(DOMAIN)).await;
    after.assert_status(200);
    assert_eq!(after.json()["routingRules"].as_array().unwrap().len(), 2);
    let client = server.client();

    // Deleted: 204, no body.
    let deleted = server.delete(&rule_path).await;
    deleted.assert_status(204);
    assert!(deleted.body.is_empty());
    assert_eq!(server.get(&rule_path).await.status, 404);

    // 50 rules a domain.
    for priority in 100..149 {
        create_rule(
            &server,
            DOMAIN,
            &rule(priority, &[], None, &api, "prod", None),
        )
        .await;
    }
    assert_v2_error(
        &server
            .post(
                &rules_path(DOMAIN),
                &rule(200, &[], None, &api, "prod", None),
            )
            .await,
        429,
        "TooManyRequestsException",
        "50 routing rules",
    );

    // A domain routed by rules only takes no base path mapping; its mode shows.
    set_mode(&client, DOMAIN, "ROUTING_RULE_ONLY").await;
    let refused = client
        .create_base_path_mapping()
        .domain_name(DOMAIN)
        .rest_api_id(&api)
        .stage("prod")
        .send()
        .await
        .expect_err("no mapping in ROUTING_RULE_ONLY mode");
    assert!(
        format!("{refused:?}").contains("ROUTING_RULE_ONLY"),
        "{refused:?}"
    );
    let listed = client.get_domain_names().send().await.unwrap();
    let mode = listed
        .items()
        .iter()
        .find(|d| d.domain_name() == Some(DOMAIN))
        .and_then(|d| d.routing_mode())
        .map(|m| m.as_str().to_owned());
    assert_eq!(mode.as_deref(), Some("ROUTING_RULE_ONLY"));

    // Deleting the domain deletes its rules: a new domain of that name has none.
    client
        .delete_domain_name()
        .domain_name(DOMAIN)
        .send()
        .await
        .unwrap();
    create_regional_domain(&client, DOMAIN, &cert).await;
    let listed = server.get(&rules_path(DOMAIN)).await.json();
    assert_eq!(listed["routingRules"], json!([]));
}

/// A MOCK `GET /` for an API made with CreateRestApi.
async fn put_mock_route(client: &Client, api: &str) {
    let root = client
        .get_resources()
        .rest_api_id(api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    mock_route(client, api, &root, "GET", "private").await;
}

/// A request (path and headers) and what serves it: `(api tag, stage, resource path,
/// proxy)`.
type Case<'a> = (
    &'a str,
    &'a [(&'a str, &'a str)],
    (&'a str, &'a str, &'a str, &'a str),
);

/// What served a request: `(api tag, stage, resource path, proxy)`.
fn served(raw: &Raw) -> (String, String, String, String) {
    assert_eq!(raw.status, 200, "{}", raw.text());
    let body = raw.json();
    let field = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    (
        field("route"),
        field("stage"),
        field("resource"),
        field("proxy"),
    )
}

/// GET `path` on `invoke` with `headers`.
async fn get_with(invoke: &Invoke, path: &str, headers: &[(&str, &str)]) -> Raw {
    let url = format!("http://{}:{}{path}", invoke.host, invoke.gateway.port());
    let mut request = invoke.request_url("GET", &url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    invoke.send(request).await
}

/// AWS's documented examples of routing rules, invoked: rules alone (ROUTING_RULE_ONLY),
/// rules then base path mappings, a wildcard domain told apart by `Host`, the base path
/// kept or stripped, and the rule or mapping that routed each request in the access log.
#[tokio::test]
async fn requests_follow_routing_rules_as_awss_examples_do() {
    let server = TestServer::start().await;
    let client = server.client();
    let cert = imported_certificate(&server, &["*.example.com"]).await;
    let api1 = echo_api(&client, "api1").await;
    let api2 = echo_api(&client, "api2").await;
    let api3 = echo_api(&client, "api3").await;

    // Example 1: ROUTING_RULE_ONLY; the first rule that matches wins.
    let petstore = "petstore.example.com";
    create_regional_domain(&client, petstore, &cert).await;
    set_mode(&client, petstore, "ROUTING_RULE_ONLY").await;
    let hello = create_rule(
        &server,
        petstore,
        &rule(10, &[("Hello", "World")], None, &api1, "prod", None),
    )
    .await;
    let dogs = create_rule(
        &server,
        petstore,
        &rule(
            50,
            &[("Accept", "image/webp"), ("Pet", "Dog-*")],
            Some("PetStoreShopper"),
            &api2,
            "prod",
            Some(true),
        ),
    )
    .await;
    create_rule(
        &server,
        petstore,
        &rule(100, &[], None, &api3, "beta", None),
    )
    .await;
    let invoke = for_host(&server, petstore);
    invoke
        .until("GET", "/", |raw| {
            raw.status == 200 && served(raw).0 == "api3"
        })
        .await;
    let cases: [Case; 7] = [
        ("/", &[("Hello", "World")], ("api1", "prod", "/", "")),
        // Header names in any case; the whole path reaches the API (no strip).
        (
            "/PetStoreShopper/dogs",
            &[("hello", "World")],
            ("api1", "prod", "/{proxy+}", "PetStoreShopper/dogs"),
        ),
        // Values are case-sensitive: not api1's.
        ("/", &[("Hello", "world")], ("api3", "beta", "/", "")),
        // Both of api2's headers and its base path: api2, the base path stripped.
        (
            "/PetStoreShopper/dogs",
            &[("Pet", "Dog-Bella"), ("Accept", "image/webp")],
            ("api2", "prod", "/{proxy+}", "dogs"),
        ),
        (
            "/PetStoreShopper",
            &[("Pet", "Dog-Bella"), ("Accept", "image/webp")],
            ("api2", "prod", "/", ""),
        ),
        // One header short, or another base path: the catch-all.
        (
            "/PetStoreShopper",
            &[("Pet", "Dog-Bella")],
            ("api3", "beta", "/{proxy+}", "PetStoreShopper"),
        ),
        (
            "/PetStoreShopperX",
            &[("Pet", "Dog-Bella"), ("Accept", "image/webp")],
            ("api3", "beta", "/{proxy+}", "PetStoreShopperX"),
        ),
    ];
    for (path, headers, (tag, stage, resource, proxy)) in cases {
        let got = served(&get_with(&invoke, path, headers).await);
        assert_eq!(
            got,
            (
                tag.to_owned(),
                stage.to_owned(),
                resource.to_owned(),
                proxy.to_owned()
            ),
            "GET {path} {headers:?}"
        );
    }
    // A header that repeats matches by any of its fields.
    let got = served(&get_with(&invoke, "/", &[("Hello", "there"), ("Hello", "World")]).await);
    assert_eq!(got.0, "api1");

    // Without the catch-all nothing matches: 403 Forbidden, as on AWS. Rules apply at once.
    let catch_all =
        server.get(&rules_path(petstore)).await.json()["routingRules"][2]["routingRuleId"]
            .as_str()
            .unwrap()
            .to_owned();
    server
        .delete(&format!("{}/{catch_all}", rules_path(petstore)))
        .await
        .assert_status(204);
    let raw = invoke.until("GET", "/", |raw| raw.status == 403).await;
    assert_gateway_error(&raw, 403, "ForbiddenException", FORBIDDEN);

    // Example 2: rules, then base path mappings.
    let shop = "shop.example.com";
    create_regional_domain(&client, shop, &cert).await;
    for (base_path, api, stage) in [("refunds", &api2, "prod"), ("", &api3, "prod")] {
        let mut mapping = client
            .create_base_path_mapping()
            .domain_name(shop)
            .rest_api_id(api)
            .stage(stage);
        if !base_path.is_empty() {
            mapping = mapping.base_path(base_path);
        }
        mapping.send().await.unwrap();
    }
    // Rules stored while the mode is BASE_PATH_MAPPING_ONLY would be refused; set it first.
    set_mode(&client, shop, "ROUTING_RULE_THEN_BASE_PATH_MAPPING").await;
    let pets = create_rule(
        &server,
        shop,
        &rule(1, &[], Some("pets"), &api1, "prod", None),
    )
    .await;
    let beta_refunds = create_rule(
        &server,
        shop,
        &rule(
            5,
            &[("Cookie", "*ux=beta*")],
            Some("refunds"),
            &api2,
            "beta",
            None,
        ),
    )
    .await;
    let shop_invoke = for_host(&server, shop);
    shop_invoke
        .until("GET", "/pets", |raw| {
            raw.status == 200 && served(raw).0 == "api1"
        })
        .await;
    for (path, headers, (tag, stage, resource, proxy)) in [
        ("/pets", &[][..], ("api1", "prod", "/{proxy+}", "pets")),
        (
            "/refunds",
            &[("Cookie", "lang=en-us;ux=beta")][..],
            ("api2", "beta", "/{proxy+}", "refunds"),
        ),
        // The rule fails: the refunds mapping (which strips its base path).
        ("/refunds", &[][..], ("api2", "prod", "/", "")),
        (
            "/refunds/42",
            &[("Cookie", "lang=en-us")][..],
            ("api2", "prod", "/{proxy+}", "42"),
        ),
        // The root mapping.
        ("/", &[][..], ("api3", "prod", "/", "")),
        (
            "/search/q",
            &[][..],
            ("api3", "prod", "/{proxy+}", "search/q"),
        ),
    ] {
        let got = served(&get_with(&shop_invoke, path, headers).await);
        assert_eq!(
            got,
            (
                tag.to_owned(),
                stage.to_owned(),
                resource.to_owned(),
                proxy.to_owned()
            ),
            "GET {path} {headers:?}"
        );
    }

    // The access log names the rule or the mapping that routed each request.
    for (stage, api) in [("prod", &api2), ("beta", &api2)] {
        client
            .update_stage()
            .rest_api_id(api)
            .stage_name(stage)
            .patch_operations(replace(
                "/accessLogSettings/destinationArn",
                "arn:aws:logs:us-east-1:000000000000:log-group:routing",
            ))
            .patch_operations(replace(
                "/accessLogSettings/format",
                r#"{"id":"$context.requestId","path":"$context.path","rule":"$context.customDomain.routingRuleIdMatched","basePath":"$context.customDomain.basePathMatched"}"#,
            ))
            .send()
            .await
            .unwrap();
    }
    let log = server.data_dir().join("access-logs").join("routing.log");
    let deadline = Instant::now() + Invoke::PATIENCE;
    let wanted = [
        json!({"path": "/refunds", "rule": beta_refunds, "basePath": "-"}),
        json!({"path": "/refunds/7", "rule": "-", "basePath": "refunds"}),
    ];
    loop {
        get_with(&shop_invoke, "/refunds", &[("Cookie", "ux=beta")]).await;
        get_with(&shop_invoke, "/refunds/7", &[]).await;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .map(|mut line| {
                line.as_object_mut().map(|o| o.remove("id"));
                line
            })
            .collect();
        if wanted.iter().all(|w| lines.contains(w)) {
            break;
        }
        assert!(Instant::now() < deadline, "not logged: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Back to mappings only: the rules stay, unused.
    set_mode(&client, shop, "BASE_PATH_MAPPING_ONLY").await;
    let raw = shop_invoke
        .until("GET", "/pets", |raw| {
            raw.status == 200 && served(raw).0 == "api3"
        })
        .await;
    assert_eq!(served(&raw).3, "pets");
    assert_eq!(
        server.get(&rules_path(shop)).await.json()["routingRules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let _ = pets;

    // Example 4: a wildcard domain told apart by Host.
    let wildcard = "*.example.com";
    create_regional_domain(&client, wildcard, &cert).await;
    set_mode(&client, wildcard, "ROUTING_RULE_ONLY").await;
    let wildcard_path = rules_path("%2A.example.com");
    for (priority, host, api) in [
        (10, Some("a.example.com"), &api1),
        (50, Some("b.example.com"), &api2),
        (500, None, &api3),
    ] {
        let headers: Vec<(&str, &str)> = host.map(|h| ("Host", h)).into_iter().collect();
        let raw = server
            .post(
                &wildcard_path,
                &rule(priority, &headers, None, api, "prod", None),
            )
            .await;
        raw.assert_status(201);
    }
    for (host, tag) in [
        ("a.example.com", "api1"),
        ("b.example.com", "api2"),
        ("testing.example.com", "api3"),
    ] {
        let raw = for_host(&server, host)
            .until("GET", "/", |raw| raw.status == 200)
            .await;
        assert_eq!(served(&raw).0, tag, "{host}");
    }
    // A domain of its own is not the wildcard's.
    assert_eq!(
        served(&get_with(&invoke, "/", &[("Hello", "World")]).await).0,
        "api1"
    );
    let _ = (hello, dogs);
}

fn mappings_path(domain: &str) -> String {
    format!("/v2/domainnames/{domain}/apimappings")
}

/// apigatewayv2's API mappings: multi-level keys on a REGIONAL domain, the longest key that
/// matches a request wins (AWS's documented example), apigateway lists the same mappings,
/// and ids stay with their mappings.
#[tokio::test]
async fn api_mappings_route_by_the_longest_matching_key() {
    let server = TestServer::start().await;
    let client = server.client();
    let cert = imported_certificate(&server, &["*.example.com"]).await;
    let mut apis = Vec::new();
    for tag in ["api1", "api2", "api3", "api4", "api5"] {
        apis.push(echo_api(&client, tag).await);
    }
    let domain = "levels.example.com";
    create_regional_domain(&client, domain, &cert).await;
    let mut ids = Vec::new();
    for (key, api) in [
        ("", &apis[0]),
        ("orders", &apis[1]),
        ("orders/v1/items", &apis[2]),
        ("orders/v2/items", &apis[3]),
        ("orders/v2/items/categories", &apis[4]),
    ] {
        let raw = server
            .post(
                &mappings_path(domain),
                &json!({"apiId": api, "apiMappingKey": key, "stage": "prod"}).to_string(),
            )
            .await;
        raw.assert_status(201);
        let created = raw.json();
        let id = created["apiMappingId"].as_str().unwrap().to_owned();
        assert!(
            id.len() == 10
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
            "{id}"
        );
        assert_eq!(
            created,
            json!({"apiId": api, "apiMappingId": id, "apiMappingKey": key, "stage": "prod"})
        );
        ids.push(id);
    }
    let invoke = for_host(&server, domain);
    invoke
        .until("GET", "/orders/v2/items/categories/5", |raw| {
            raw.status == 200 && served(raw).0 == "api5"
        })
        .await;
    for (path, tag, proxy) in [
        ("/orders", "api2", ""),
        ("/orders/v1/items", "api3", ""),
        ("/orders/v2/items", "api4", ""),
        ("/orders/v1/items/123", "api3", "123"),
        ("/orders/v2/items/categories/5", "api5", "5"),
        ("/orders/v3/items", "api2", "v3/items"),
        ("/customers", "api1", "customers"),
        ("/ordersandmore", "api1", "ordersandmore"),
    ] {
        let got = served(&invoke.get(path).await);
        assert_eq!((got.0.as_str(), got.3.as_str()), (tag, proxy), "GET {path}");
    }

    // The same mappings through apigateway: multi-level base paths listed, and found by
    // their whole (encoded) path.
    let listed = client
        .get_base_path_mappings()
        .domain_name(domain)
        .send()
        .await
        .unwrap();
    let paths: Vec<&str> = listed
        .items()
        .iter()
        .filter_map(|m| m.base_path())
        .collect();
    assert_eq!(
        paths,
        vec![
            "(none)",
            "orders",
            "orders/v1/items",
            "orders/v2/items",
            "orders/v2/items/categories"
        ]
    );
    let got = server
        .get(&format!(
            "/domainnames/{domain}/basepathmappings/orders%2Fv1%2Fitems"
        ))
        .await;
    got.assert_status(200);
    assert_eq!(got.json()["restApiId"], apis[2].as_str());
    // apigateway makes no multi-level mapping itself (AWS's text).
    let refused = client
        .create_base_path_mapping()
        .domain_name(domain)
        .base_path("a/b")
        .rest_api_id(&apis[0])
        .stage("prod")
        .send()
        .await
        .expect_err("apigateway takes no slash");
    assert!(
        format!("{refused:?}").contains("use API Gateway V2"),
        "{refused:?}"
    );
    // A mapping apigateway made has an apigatewayv2 id too.
    client
        .create_base_path_mapping()
        .domain_name(domain)
        .base_path("shipping")
        .rest_api_id(&apis[1])
        .stage("beta")
        .send()
        .await
        .unwrap();
    let all = server.get(&mappings_path(domain)).await.json();
    let shipping = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["apiMappingKey"] == "shipping")
        .cloned()
        .unwrap();
    assert_eq!(shipping["stage"], "beta");
    let page = server
        .get(&format!("{}?maxResults=2", mappings_path(domain)))
        .await
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let next = page["nextToken"].as_str().unwrap();
    let rest = server
        .get(&format!(
            "{}?maxResults=10&nextToken={next}",
            mappings_path(domain)
        ))
        .await
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 4);
    assert!(rest.get("nextToken").is_none(), "{rest}");

    // Refusals.
    for (body, status, error_type, part) in [
        (
            json!({"apiId": apis[0], "apiMappingKey": "orders", "stage": "prod"}),
            409,
            "ConflictException",
            "already exists",
        ),
        (
            json!({"apiId": apis[0], "apiMappingKey": "a b", "stage": "prod"}),
            400,
            "BadRequestException",
            "An ApiMapping key may contain only letters, numbers and one of $-_.+!*'()",
        ),
        (
            json!({"apiId": apis[0], "apiMappingKey": "x"}),
            400,
            "BadRequestException",
            "Stage is required",
        ),
        (
            json!({"apiId": apis[0], "apiMappingKey": "x", "stage": "gamma"}),
            400,
            "BadRequestException",
            "Invalid stage identifier specified",
        ),
    ] {
        assert_v2_error(
            &server.post(&mappings_path(domain), &body.to_string()).await,
            status,
            error_type,
            part,
        );
    }
    let edge = "edge-levels.example.com";
    client
        .create_domain_name()
        .domain_name(edge)
        .certificate_arn(&cert)
        .send()
        .await
        .unwrap();
    assert_v2_error(
        &server
            .post(
                &mappings_path(edge),
                &json!({"apiId": apis[0], "apiMappingKey": "a/b", "stage": "prod"}).to_string(),
            )
            .await,
        400,
        "BadRequestException",
        "REGIONAL domain name with a TLS 1.2 security policy",
    );

    // UpdateApiMapping moves a mapping to another key and stage; its id stays.
    let moved = server
        .patch(
            &format!("{}/{}", mappings_path(domain), ids[2]),
            &json!({"apiId": apis[2], "apiMappingKey": "orders/v1", "stage": "beta"}).to_string(),
        )
        .await;
    moved.assert_status(200);
    assert_eq!(
        moved.json(),
        json!({"apiId": apis[2], "apiMappingId": ids[2], "apiMappingKey": "orders/v1", "stage": "beta"})
    );
    let raw = invoke
        .until("GET", "/orders/v1/items", |raw| {
            raw.status == 200 && served(raw).1 == "beta"
        })
        .await;
    assert_eq!(
        served(&raw),
        (
            "api3".into(),
            "beta".into(),
            "/{proxy+}".into(),
            "items".into()
        )
    );
    let got = server
        .get(&format!("{}/{}", mappings_path(domain), ids[2]))
        .await;
    assert_eq!(got.json()["apiMappingKey"], "orders/v1");

    // Deleted: 204; the next longest key takes its requests.
    let deleted = server
        .delete(&format!("{}/{}", mappings_path(domain), ids[4]))
        .await;
    deleted.assert_status(204);
    assert_v2_error(
        &server
            .get(&format!("{}/{}", mappings_path(domain), ids[4]))
            .await,
        404,
        "NotFoundException",
        &ids[4],
    );
    let raw = invoke
        .until("GET", "/orders/v2/items/categories/5", |raw| {
            raw.status == 200 && served(raw).0 == "api4"
        })
        .await;
    assert_eq!(served(&raw).3, "categories/5");
}

/// apigatewayv2's domain name operations manage apigateway's domains: created, read,
/// listed, updated (the routing mode as AWS's routing-rule guide sets it) and deleted in
/// apigatewayv2's shape, and served.
#[tokio::test]
async fn apigatewayv2_domain_names_are_apigateways_domains() {
    let server = TestServer::start().await;
    let client = server.client();
    let cert = imported_certificate(&server, &["*.example.com"]).await;
    let api = echo_api(&client, "v2api").await;
    let created = server
        .post(
            "/v2/domainnames",
            &json!({
                "domainName": "V2.Example.com",
                "domainNameConfigurations": [{"certificateArn": cert, "endpointType": "REGIONAL",
                                              "securityPolicy": "TLS_1_2"}],
                "routingMode": "ROUTING_RULE_THEN_API_MAPPING",
                "tags": {"team": "edge"}
            })
            .to_string(),
        )
        .await;
    created.assert_status(201);
    let created = created.json();
    assert_eq!(created["domainName"], "v2.example.com");
    assert_eq!(
        created["apiMappingSelectionExpression"],
        "$request.basepath"
    );
    assert_eq!(
        created["domainNameArn"],
        "arn:aws:apigateway:us-east-1::/domainnames/v2.example.com"
    );
    assert_eq!(created["routingMode"], "ROUTING_RULE_THEN_API_MAPPING");
    assert_eq!(created["tags"], json!({"team": "edge"}));
    let config = &created["domainNameConfigurations"][0];
    let target = config["apiGatewayDomainName"].as_str().unwrap();
    assert!(
        target.starts_with("d-") && target.ends_with(".execute-api.us-east-1.amazonaws.com"),
        "{target}"
    );
    assert_eq!(config["certificateArn"], cert.as_str());
    assert_eq!(config["endpointType"], "REGIONAL");
    assert_eq!(config["hostedZoneId"], "Z1UJRXOUMOOFQ8");
    assert_eq!(config["securityPolicy"], "TLS_1_2");
    assert_eq!(config["domainNameStatus"], "AVAILABLE");
    let uploaded = config["certificateUploadDate"].as_str().unwrap();
    assert!(
        uploaded.len() == 20 && uploaded.ends_with('Z') && uploaded.as_bytes()[10] == b'T',
        "{uploaded}"
    );
    // The same domain through apigateway, with the mode in its names.
    let v1 = client
        .get_domain_name()
        .domain_name("v2.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        v1.routing_mode().map(|m| m.as_str()),
        Some("ROUTING_RULE_THEN_BASE_PATH_MAPPING")
    );
    assert_eq!(v1.regional_certificate_arn(), Some(cert.as_str()));
    assert_eq!(
        server.get("/v2/domainnames/v2.example.com").await.json(),
        created
    );

    // Listed with apigateway's, page by page.
    create_regional_domain(&client, "v1.example.com", &cert).await;
    let page = server.get("/v2/domainnames?maxResults=1").await.json();
    assert_eq!(page["items"][0]["domainName"], "v1.example.com");
    assert_eq!(page["items"][0]["routingMode"], "API_MAPPING_ONLY");
    let next = page["nextToken"].as_str().unwrap();
    let rest = server
        .get(&format!("/v2/domainnames?nextToken={next}"))
        .await
        .json();
    assert_eq!(rest["items"][0]["domainName"], "v2.example.com");
    assert!(rest.get("nextToken").is_none(), "{rest}");

    // Updated: the routing mode, the security policy.
    let updated = server
        .patch(
            "/v2/domainnames/v2.example.com",
            &json!({"routingMode": "ROUTING_RULE_ONLY",
                    "domainNameConfigurations": [{"securityPolicy": "TLS_1_0"}]})
            .to_string(),
        )
        .await;
    updated.assert_status(200);
    let updated = updated.json();
    assert_eq!(updated["routingMode"], "ROUTING_RULE_ONLY");
    assert_eq!(
        updated["domainNameConfigurations"][0]["securityPolicy"],
        "TLS_1_0"
    );
    assert_v2_error(
        &server
            .patch(
                "/v2/domainnames/v2.example.com",
                &json!({"routingMode": "BASE_PATH_MAPPING_ONLY"}).to_string(),
            )
            .await,
        400,
        "BadRequestException",
        "Valid options are API_MAPPING_ONLY, ROUTING_RULE_ONLY, ROUTING_RULE_THEN_API_MAPPING",
    );
    // apigateway's checks: a domain needs its certificate.
    assert_v2_error(
        &server
            .post(
                "/v2/domainnames",
                &json!({"domainName": "nocert.example.com"}).to_string(),
            )
            .await,
        400,
        "BadRequestException",
        "A certificate was not provided for the endpoint type REGIONAL.",
    );

    // Served: an API mapping of the v2 domain, once the mode uses mappings.
    server
        .patch(
            "/v2/domainnames/v2.example.com",
            &json!({"routingMode": "API_MAPPING_ONLY"}).to_string(),
        )
        .await
        .assert_status(200);
    server
        .post(
            &mappings_path("v2.example.com"),
            &json!({"apiId": api, "apiMappingKey": "shop", "stage": "prod"}).to_string(),
        )
        .await
        .assert_status(201);
    let invoke = for_host(&server, "v2.example.com");
    let raw = invoke
        .until("GET", "/shop/cart", |raw| raw.status == 200)
        .await;
    assert_eq!(served(&raw).3, "cart");

    // Deleted: 204, and gone for both APIs.
    server
        .delete("/v2/domainnames/v2.example.com")
        .await
        .assert_status(204);
    assert_v2_error(
        &server.get("/v2/domainnames/v2.example.com").await,
        404,
        "NotFoundException",
        "Invalid domain name identifier specified",
    );
    assert!(
        client
            .get_domain_name()
            .domain_name("v2.example.com")
            .send()
            .await
            .is_err()
    );
}
