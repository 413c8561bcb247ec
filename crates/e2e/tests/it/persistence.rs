//! Durability across a graceful restart on the same data folder, and concurrent writers.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{
    ConnectionType, GatewayResponseType, IntegrationType, VpcLinkStatus,
};
use serde_json::Value;

use crate::harness::*;

/// Ids of everything the world fixture creates.
#[derive(Debug)]
struct World {
    api: String,
    pets: String,
    pet: String,
    proxy: String,
    deployment: String,
    link: String,
}

/// An API using every kind of object: resources, methods, responses, integrations, a
/// deployment, a stage with variables and method settings, a VPC link (settled), a custom
/// gateway response and tags; plus a second API with a pinned id.
async fn build_world(client: &Client) -> World {
    let created = client
        .create_rest_api()
        .name("world")
        .description("everything")
        .tags("team", "core")
        .send()
        .await
        .unwrap();
    let api = created.id().unwrap().to_owned();
    let root = created.root_resource_id().unwrap().to_owned();
    let pets = create_resource(client, &api, &root, "pets").await;
    let pet = create_resource(client, &api, &pets, "{petId}").await;
    let proxy = create_resource(client, &api, &root, "{proxy+}").await;

    // /pets GET: MOCK with responses.
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .authorization_type("NONE")
        .request_parameters("method.request.querystring.page", false)
        .send()
        .await
        .unwrap();
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(replace("/apiKeyRequired", "true"))
        .send()
        .await
        .unwrap();
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .response_parameters("method.response.header.X-Foo", true)
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", "{\"statusCode\": 200}")
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .selection_pattern("2\\d{2}")
        .response_parameters("method.response.header.X-Foo", "'bar'")
        .send()
        .await
        .unwrap();

    // /pets/{petId} DELETE: MOCK.
    put_method(client, &api, &pet, "DELETE").await;
    put_mock_integration(client, &api, &pet, "DELETE").await;

    // /{proxy+} ANY: HTTP_PROXY through a VPC link chosen by stage variable.
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .authorization_type("NONE")
        .request_parameters("method.request.path.proxy", true)
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .uri("http://nlb.internal:8080/{proxy}")
        .connection_type(ConnectionType::VpcLink)
        .connection_id("${stageVariables.VPCLINK}")
        .request_parameters(
            "integration.request.path.proxy",
            "method.request.path.proxy",
        )
        .timeout_in_millis(10000)
        .send()
        .await
        .unwrap();

    // VPC link, settled so that its status no longer changes.
    let link = client
        .create_vpc_link()
        .name("world-link")
        .description("to the nlb")
        .target_arns(NLB_ARN)
        .tags("net", "private")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = client
            .get_vpc_link()
            .vpc_link_id(&link)
            .send()
            .await
            .unwrap();
        if got.status() != Some(&VpcLinkStatus::Pending) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Deployment + stage.
    let deployment = client
        .create_deployment()
        .rest_api_id(&api)
        .description("v1")
        .stage_name("prod")
        .variables("VPCLINK", &link)
        .variables("color", "blue")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace("/*/*/throttling/rateLimit", "100"))
        .patch_operations(replace("/*/*/throttling/burstLimit", "50"))
        .patch_operations(replace("/~1pets/GET/caching/enabled", "true"))
        .patch_operations(replace("/description", "production"))
        .send()
        .await
        .unwrap();
    client
        .tag_resource()
        .resource_arn(stage_arn(&api, "prod"))
        .tags("tier", "gold")
        .send()
        .await
        .unwrap();

    // Gateway response.
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .status_code("404")
        .response_parameters("gatewayresponse.header.x-a", "'b'")
        .send()
        .await
        .unwrap();

    // A second API with a pinned id.
    client
        .create_rest_api()
        .name("pinned")
        .tags("_custom_id_", "worldapi1")
        .send()
        .await
        .unwrap();

    World {
        api,
        pets,
        pet,
        proxy,
        deployment,
        link,
    }
}

/// Sorts list members (`item`) so that snapshots do not depend on listing order.
fn normalize(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let value = normalize(value);
                    let value = match (key.as_str(), value) {
                        ("item", Value::Array(mut items)) => {
                            items.sort_by_key(|item| item.to_string());
                            Value::Array(items)
                        }
                        (_, value) => value,
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

/// The raw JSON of every read endpoint touching the world.
async fn snapshot(server: &TestServer, world: &World) -> BTreeMap<String, Value> {
    let World {
        api,
        pets,
        pet,
        proxy,
        deployment,
        link,
    } = world;
    let paths = [
        "/restapis".to_owned(),
        format!("/restapis/{api}"),
        "/restapis/worldapi1".to_owned(),
        format!("/restapis/{api}/resources?limit=500"),
        format!("/restapis/{api}/resources?limit=500&embed=methods"),
        format!("/restapis/{api}/resources/{pet}"),
        format!("/restapis/{api}/resources/{pets}/methods/GET"),
        format!("/restapis/{api}/resources/{pets}/methods/GET/responses/200"),
        format!("/restapis/{api}/resources/{pets}/methods/GET/integration"),
        format!("/restapis/{api}/resources/{pets}/methods/GET/integration/responses/200"),
        format!("/restapis/{api}/resources/{pet}/methods/DELETE"),
        format!("/restapis/{api}/resources/{pet}/methods/DELETE/integration"),
        format!("/restapis/{api}/resources/{proxy}/methods/ANY"),
        format!("/restapis/{api}/resources/{proxy}/methods/ANY/integration"),
        format!("/restapis/{api}/deployments"),
        format!("/restapis/{api}/deployments/{deployment}?embed=apisummary"),
        format!("/restapis/{api}/stages"),
        format!("/restapis/{api}/stages/prod"),
        format!("/restapis/{api}/gatewayresponses"),
        format!("/restapis/{api}/gatewayresponses/MISSING_AUTHENTICATION_TOKEN"),
        "/vpclinks".to_owned(),
        format!("/vpclinks/{link}"),
        format!("/tags/{}", encode_label(&rest_api_arn(api))),
        format!("/tags/{}", encode_label(&stage_arn(api, "prod"))),
        format!("/tags/{}", encode_label(&vpc_link_arn(link))),
    ];
    let mut out = BTreeMap::new();
    for path in paths {
        let raw = server.get(&path).await;
        assert_eq!(raw.status, 200, "GET {path}: {}", raw.text());
        out.insert(path, normalize(raw.json()));
    }
    out
}

#[tokio::test]
async fn everything_survives_restart() {
    let mut server = TestServer::start().await;
    let world = build_world(&server.client()).await;
    let before = snapshot(&server, &world).await;

    server.restart().await;
    let after = snapshot(&server, &world).await;
    for (path, value) in &before {
        assert_eq!(
            Some(value),
            after.get(path),
            "GET {path} changed across restart"
        );
    }

    // The same facts through the SDK.
    let client = server.client();
    let api = client
        .get_rest_api()
        .rest_api_id(&world.api)
        .send()
        .await
        .unwrap();
    assert_eq!(api.name(), Some("world"));
    assert_eq!(
        api.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("core")
    );
    let integration = client
        .get_integration()
        .rest_api_id(&world.api)
        .resource_id(&world.proxy)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(
        integration.connection_type(),
        Some(&ConnectionType::VpcLink)
    );
    assert_eq!(
        integration.connection_id(),
        Some("${stageVariables.VPCLINK}")
    );
    assert_eq!(integration.timeout_in_millis(), 10000);
    let stage = client
        .get_stage()
        .rest_api_id(&world.api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.deployment_id(), Some(world.deployment.as_str()));
    assert_eq!(
        stage
            .variables()
            .and_then(|v| v.get("VPCLINK"))
            .map(String::as_str),
        Some(world.link.as_str())
    );
    let settings = stage.method_settings().unwrap();
    assert_eq!(settings["*/*"].throttling_rate_limit(), 100.0);
    assert_eq!(settings["*/*"].throttling_burst_limit(), 50);
    assert!(settings["~1pets/GET"].caching_enabled());
    let method = client
        .get_method()
        .rest_api_id(&world.api)
        .resource_id(&world.pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(method.api_key_required(), Some(true));
    let response = client
        .get_gateway_response()
        .rest_api_id(&world.api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status_code(), Some("404"));
    assert!(!response.default_response());
    let link = client
        .get_vpc_link()
        .vpc_link_id(&world.link)
        .send()
        .await
        .unwrap();
    assert_eq!(link.name(), Some("world-link"));
    assert_eq!(link.target_arns(), [NLB_ARN]);
    server.stop().await;
}

#[tokio::test]
async fn survives_two_restarts_with_writes_between() {
    let mut server = TestServer::start().await;
    let (api, root) = create_api(&server.client(), "twice").await;
    create_resource(&server.client(), &api, &root, "one").await;
    server.restart().await;
    create_resource(&server.client(), &api, &root, "two").await;
    server.restart().await;
    let paths: HashSet<String> = server
        .client()
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .map(|r| r.path().unwrap().to_owned())
        .collect();
    let expected: HashSet<String> = ["/", "/one", "/two"].map(str::to_owned).into();
    assert_eq!(paths, expected);
}

#[tokio::test]
async fn deletions_survive_restart() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let (api, _, pets) = deployable_api(&client).await;
    let (gone_api, _) = create_api(&client, "gone").await;
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "dev", &deployment).await;
    client
        .delete_rest_api()
        .rest_api_id(&gone_api)
        .send()
        .await
        .unwrap();
    client
        .delete_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    client
        .delete_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();

    server.restart().await;
    let client = server.client();
    client
        .get_rest_api()
        .rest_api_id(&gone_api)
        .send()
        .await
        .expect_code("NotFoundException");
    client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid stage identifier specified");
    client
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Method identifier specified");
    // The deployment is no longer pinned by a stage.
    client
        .delete_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn rules_still_enforced_after_restart() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "rules").await;
    let pets = create_resource(&client, &api, &root, "pets").await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .create_rest_api()
        .name("pinned")
        .tags("_custom_id_", "pinned01")
        .send()
        .await
        .unwrap();

    server.restart().await;
    let client = server.client();
    client
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Another resource with the same parent already has this name: pets",
        );
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Method already exists for this resource",
        );
    client
        .create_rest_api()
        .name("again")
        .tags("_custom_id_", "pinned01")
        .send()
        .await
        .expect_code("ConflictException");

    // New ids do not collide with old ones.
    let mut ids = vec![api.clone()];
    for i in 0..5 {
        ids.push(create_api(&client, &format!("new{i}")).await.0);
    }
    ids.push("pinned01".to_owned());
    distinct(ids.iter().map(String::as_str));
    let child = create_resource(&client, &api, &pets, "{petId}").await;
    assert_ne!(child, pets);
    assert_ne!(child, root);
}

/// All resources of an API, through pagination.
async fn all_resources(client: &Client, api: &str) -> Vec<aws_sdk_apigateway::types::Resource> {
    client
        .get_resources()
        .rest_api_id(api)
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_resource_creation_survives_restart() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "busy").await;

    let mut tasks = Vec::new();
    for task in 0..8 {
        let client = client.clone();
        let api = api.clone();
        let root = root.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..25 {
                ids.push(create_resource(&client, &api, &root, &format!("t{task}r{i}")).await);
            }
            ids
        }));
    }
    let mut created = HashSet::new();
    for task in tasks {
        for id in task.await.unwrap() {
            assert!(created.insert(id), "duplicate id handed out");
        }
    }
    assert_eq!(created.len(), 200);

    let check = |resources: Vec<aws_sdk_apigateway::types::Resource>| {
        assert_eq!(resources.len(), 201, "200 resources + root");
        let ids = distinct(resources.iter().map(|r| r.id().unwrap()));
        assert!(ids.contains(&root));
        assert!(created.iter().all(|id| ids.contains(id)));
        let paths = distinct(resources.iter().map(|r| r.path().unwrap()));
        for task in 0..8 {
            for i in 0..25 {
                assert!(paths.contains(&format!("/t{task}r{i}")));
            }
        }
    };
    check(all_resources(&client, &api).await);

    server.restart().await;
    check(all_resources(&server.client(), &api).await);
}

#[tokio::test]
async fn concurrent_duplicate_creates_have_one_winner() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "race").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        let api = api.clone();
        let root = root.clone();
        tasks.push(tokio::spawn(async move {
            client
                .create_resource()
                .rest_api_id(&api)
                .parent_id(&root)
                .path_part("same")
                .send()
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => winners += 1,
            Err(error) => {
                Err::<(), _>(error).expect_code("ConflictException");
            }
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(all_resources(&client, &api).await.len(), 2);
}

#[tokio::test]
async fn concurrent_api_creation_gives_distinct_ids() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut tasks = Vec::new();
    for task in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..5 {
                ids.push(create_api(&client, &format!("c{task}-{i}")).await.0);
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    assert_eq!(distinct(ids.iter().map(String::as_str)).len(), 40);
    let listed = client
        .get_rest_apis()
        .limit(500)
        .send()
        .await
        .unwrap()
        .items()
        .len();
    assert_eq!(listed, 40);
}
