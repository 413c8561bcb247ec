//! CreateRestApi / GetRestApi(s) / UpdateRestApi / DeleteRestApi, custom ids, pagination.

use std::collections::HashSet;

use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType};

use crate::harness::*;

#[tokio::test]
async fn create_rest_api_defaults() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = client
        .create_rest_api()
        .name("pets")
        .description("the pet store")
        .send()
        .await
        .unwrap();

    assert_aws_id(api.id().unwrap());
    assert_eq!(api.name(), Some("pets"));
    assert_eq!(api.description(), Some("the pet store"));
    assert!(api.created_date().is_some(), "createdDate");
    assert_eq!(api.api_key_source().map(|s| s.as_str()), Some("HEADER"));
    let endpoint = api.endpoint_configuration().expect("endpointConfiguration");
    let types: Vec<&str> = endpoint.types().iter().map(|t| t.as_str()).collect();
    assert_eq!(types, ["EDGE"]);
    assert_eq!(endpoint.ip_address_type().map(|t| t.as_str()), Some("ipv4"));
    assert!(!api.disable_execute_api_endpoint());
    let root = api.root_resource_id().expect("rootResourceId");
    assert!(!root.is_empty());
}

#[tokio::test]
async fn create_rest_api_wire_defaults_are_explicit() {
    // The defaults are real JSON members, not absent fields the SDK happens to default.
    let server = TestServer::start().await;
    let raw = server.post("/restapis", r#"{"name":"wire"}"#).await;
    raw.assert_status(201);
    let body = raw.json();
    assert_eq!(body["apiKeySource"], "HEADER");
    assert_eq!(
        body["endpointConfiguration"]["types"],
        serde_json::json!(["EDGE"])
    );
    assert_eq!(body["endpointConfiguration"]["ipAddressType"], "ipv4");
    assert_eq!(body["disableExecuteApiEndpoint"], false);
    assert!(body["rootResourceId"].is_string());
    // Unset optional members are omitted on create.
    for absent in ["description", "version", "binaryMediaTypes", "tags"] {
        assert!(
            body.get(absent).is_none(),
            "{absent} should be omitted: {body}"
        );
    }
}

#[tokio::test]
async fn create_rest_api_root_resource_exists() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "root").await;
    let resources = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(resources.items().len(), 1);
    let item = &resources.items()[0];
    assert_eq!(item.id(), Some(root.as_str()));
    assert_eq!(item.path(), Some("/"));
    assert_eq!(item.path_part(), None);
    assert_eq!(item.parent_id(), None);
    assert!(resources.position().is_none());
}

#[tokio::test]
async fn create_rest_api_ids_are_distinct() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut ids = Vec::new();
    for i in 0..8 {
        let (id, _) = create_api(&client, &format!("api{i}")).await;
        assert_aws_id(&id);
        ids.push(id);
    }
    distinct(ids.iter().map(String::as_str));
}

#[tokio::test]
async fn create_rest_api_regional_endpoint() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = client
        .create_rest_api()
        .name("regional")
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let types: Vec<&str> = api
        .endpoint_configuration()
        .unwrap()
        .types()
        .iter()
        .map(|t| t.as_str())
        .collect();
    assert_eq!(types, ["REGIONAL"]);
}

#[tokio::test]
async fn create_rest_api_private_endpoint_is_dualstack() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = client
        .create_rest_api()
        .name("private")
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Private)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.endpoint_configuration()
            .unwrap()
            .ip_address_type()
            .map(|t| t.as_str()),
        Some("dualstack")
    );
}

#[tokio::test]
async fn create_rest_api_two_endpoint_types_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_rest_api()
        .name("two")
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .types(EndpointType::Edge)
                .build(),
        )
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Cannot create an api with multiple Endpoint Types.",
        );
}

#[tokio::test]
async fn create_rest_api_empty_description_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_rest_api()
        .name("x")
        .description("")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Description cannot be an empty string",
        );
}

#[tokio::test]
async fn get_rest_api_returns_created_api() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = client
        .create_rest_api()
        .name("get-me")
        .description("d")
        .version("v1")
        .send()
        .await
        .unwrap();
    let id = created.id().unwrap();
    let got = client.get_rest_api().rest_api_id(id).send().await.unwrap();
    assert_eq!(got.id(), Some(id));
    assert_eq!(got.name(), Some("get-me"));
    assert_eq!(got.description(), Some("d"));
    assert_eq!(got.version(), Some("v1"));
    assert_eq!(got.created_date(), created.created_date());
    assert_eq!(got.root_resource_id(), created.root_resource_id());
    assert_eq!(
        got.endpoint_configuration(),
        created.endpoint_configuration()
    );
}

#[tokio::test]
async fn get_rest_api_shows_empty_tags() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, _) = create_api(&client, "untagged").await;
    let got = client.get_rest_api().rest_api_id(&id).send().await.unwrap();
    assert_eq!(got.tags().map(|t| t.len()), Some(0), "tags should be {{}}");
}

#[tokio::test]
async fn get_rest_api_unknown_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let message = client
        .get_rest_api()
        .rest_api_id("nope123456")
        .send()
        .await
        .expect_code("NotFoundException");
    assert!(
        message.contains("Invalid API identifier specified"),
        "{message}"
    );
    assert!(
        message.contains(&format!("{ACCOUNT}:nope123456")),
        "{message}"
    );
}

#[tokio::test]
async fn get_rest_api_ids_are_case_sensitive() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, _) = create_api(&client, "case").await;
    if id.chars().any(|c| c.is_ascii_lowercase()) {
        client
            .get_rest_api()
            .rest_api_id(id.to_ascii_uppercase())
            .send()
            .await
            .expect_error_containing("NotFoundException", "Invalid API identifier specified");
    }
}

#[tokio::test]
async fn update_rest_api_unknown_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .update_rest_api()
        .rest_api_id("nope123456")
        .patch_operations(replace("/name", "x"))
        .send()
        .await
        .expect_error_containing("NotFoundException", "Invalid API identifier specified");
}

#[tokio::test]
async fn delete_rest_api_unknown_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .delete_rest_api()
        .rest_api_id("nope123456")
        .send()
        .await
        .expect_error_containing("NotFoundException", "Invalid API identifier specified");
}

#[tokio::test]
async fn custom_id_tag_pins_the_id() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = client
        .create_rest_api()
        .name("custom")
        .tags("_custom_id_", "myapi123")
        .send()
        .await
        .unwrap();
    assert_eq!(api.id(), Some("myapi123"));
    let got = client
        .get_rest_api()
        .rest_api_id("myapi123")
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), Some("custom"));
    // The pinned API is a full API: its root resource exists.
    let resources = client
        .get_resources()
        .rest_api_id("myapi123")
        .send()
        .await
        .unwrap();
    assert_eq!(resources.items().len(), 1);
    assert_eq!(resources.items()[0].path(), Some("/"));
}

#[tokio::test]
async fn custom_id_duplicate_conflicts() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_rest_api()
        .name("first")
        .tags("_custom_id_", "myapi123")
        .send()
        .await
        .unwrap();
    client
        .create_rest_api()
        .name("second")
        .tags("_custom_id_", "myapi123")
        .send()
        .await
        .expect_code("ConflictException");
    // The first API is untouched.
    let got = client
        .get_rest_api()
        .rest_api_id("myapi123")
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), Some("first"));
}

#[tokio::test]
async fn custom_id_invalid_is_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    for bad in ["my api", "a/b"] {
        client
            .create_rest_api()
            .name("bad")
            .tags("_custom_id_", bad)
            .send()
            .await
            .expect_code("BadRequestException");
    }
    let apis = client.get_rest_apis().send().await.unwrap();
    assert!(apis.items().is_empty(), "no API may be left behind");
}

#[tokio::test]
async fn update_rest_api_name_and_description() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, _) = create_api(&client, "before").await;
    let updated = client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(replace("/name", "after"))
        .patch_operations(replace("/description", "described"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("after"));
    assert_eq!(updated.description(), Some("described"));
    assert_eq!(
        updated.tags().map(|t| t.len()),
        Some(0),
        "Update returns tags {{}}"
    );
    let got = client.get_rest_api().rest_api_id(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("after"));
    assert_eq!(got.description(), Some("described"));
}

#[tokio::test]
async fn update_rest_api_remove_description() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = client
        .create_rest_api()
        .name("x")
        .description("gone soon")
        .send()
        .await
        .unwrap();
    let updated = client
        .update_rest_api()
        .rest_api_id(created.id().unwrap())
        .patch_operations(remove("/description"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), None);
}

#[tokio::test]
async fn update_rest_api_flags() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, _) = create_api(&client, "flags").await;
    let updated = client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(replace("/apiKeySource", "AUTHORIZER"))
        .patch_operations(replace("/disableExecuteApiEndpoint", "true"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.api_key_source().map(|s| s.as_str()),
        Some("AUTHORIZER")
    );
    assert!(updated.disable_execute_api_endpoint());
}

#[tokio::test]
async fn update_rest_api_unknown_path_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, _) = create_api(&client, "x").await;
    client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(replace("/nope", "x"))
        .send()
        .await
        .expect_code("BadRequestException");
}

#[tokio::test]
async fn update_rest_api_failed_patch_changes_nothing() {
    // The whole request fails on an invalid op; earlier ops must not stick.
    let server = TestServer::start().await;
    let client = server.client();
    let (id, _) = create_api(&client, "atomic").await;
    client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(replace("/name", "changed"))
        .patch_operations(replace("/nope", "x"))
        .send()
        .await
        .expect_code("BadRequestException");
    let got = client.get_rest_api().rest_api_id(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("atomic"));
}

#[tokio::test]
async fn delete_rest_api_then_get_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, root) = create_api(&client, "doomed").await;
    create_resource(&client, &id, &root, "child").await;
    client
        .delete_rest_api()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap();
    client
        .get_rest_api()
        .rest_api_id(&id)
        .send()
        .await
        .expect_error_containing("NotFoundException", "Invalid API identifier specified");
    client
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .expect_code("NotFoundException");
    let apis = client.get_rest_apis().send().await.unwrap();
    assert!(apis.items().iter().all(|a| a.id() != Some(id.as_str())));
}

#[tokio::test]
async fn get_rest_apis_lists_created_apis() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut ids = HashSet::new();
    for i in 0..3 {
        ids.insert(create_api(&client, &format!("l{i}")).await.0);
    }
    let apis = client.get_rest_apis().send().await.unwrap();
    let listed: HashSet<String> = apis
        .items()
        .iter()
        .map(|a| a.id().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ids);
    assert!(apis.position().is_none(), "no position on the last page");
    for api in apis.items() {
        assert!(api.name().is_some());
        assert!(api.created_date().is_some());
        assert!(api.root_resource_id().is_some());
    }
}

#[tokio::test]
async fn get_rest_apis_default_limit_is_25() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut ids = HashSet::new();
    for i in 0..30 {
        ids.insert(create_api(&client, &format!("p{i}")).await.0);
    }
    let first = client.get_rest_apis().send().await.unwrap();
    assert_eq!(first.items().len(), 25);
    let position = first.position().expect("position when more pages exist");
    let second = client
        .get_rest_apis()
        .position(position)
        .send()
        .await
        .unwrap();
    assert_eq!(second.items().len(), 5);
    assert!(second.position().is_none(), "no position on the last page");
    let listed = distinct(
        first
            .items()
            .iter()
            .chain(second.items())
            .map(|a| a.id().unwrap()),
    );
    assert_eq!(listed, ids);
}

#[tokio::test]
async fn get_rest_apis_limit_pages_visit_each_once() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut ids = HashSet::new();
    for i in 0..30 {
        ids.insert(create_api(&client, &format!("q{i}")).await.0);
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = client
            .get_rest_apis()
            .limit(7)
            .set_position(position.clone())
            .send()
            .await
            .unwrap();
        sizes.push(page.items().len());
        seen.extend(page.items().iter().map(|a| a.id().unwrap().to_owned()));
        match page.position() {
            Some(next) => position = Some(next.to_owned()),
            None => break,
        }
        assert!(sizes.len() <= 10, "pagination does not end");
    }
    assert_eq!(sizes, [7, 7, 7, 7, 2]);
    assert_eq!(distinct(seen.iter().map(String::as_str)), ids);
}

#[tokio::test]
async fn get_rest_apis_exact_page_has_no_position() {
    let server = TestServer::start().await;
    let client = server.client();
    for i in 0..5 {
        create_api(&client, &format!("e{i}")).await;
    }
    let page = client.get_rest_apis().limit(5).send().await.unwrap();
    assert_eq!(page.items().len(), 5);
    // AWS may or may not return a position when the page is exactly full; if it does,
    // the next page must be empty and end the listing.
    if let Some(position) = page.position() {
        let next = client
            .get_rest_apis()
            .limit(5)
            .position(position)
            .send()
            .await
            .unwrap();
        assert!(next.items().is_empty());
        assert!(next.position().is_none());
    }
}

#[tokio::test]
async fn get_rest_apis_items_omit_unset_fields() {
    let server = TestServer::start().await;
    let client = server.client();
    create_api(&client, "bare").await;
    let raw = server.get("/restapis").await;
    raw.assert_status(200);
    let body = raw.json();
    let item = &body["item"][0];
    assert_eq!(item["name"], "bare");
    for absent in ["description", "version", "binaryMediaTypes", "tags"] {
        assert!(
            item.get(absent).is_none(),
            "{absent} should be omitted: {item}"
        );
    }
}

/// Tags given at creation are in the create answer and in the list's items, as in answers
/// recorded from AWS (only unset ones are left out).
#[tokio::test]
async fn tags_given_at_creation_show_on_create_and_in_lists() {
    let server = TestServer::start().await;
    let raw = server
        .post(
            "/restapis",
            r#"{"name":"tagged","tags":{"MY_TAG1":"MY_VALUE1"}}"#,
        )
        .await;
    raw.assert_status(201);
    assert_eq!(
        raw.json()["tags"],
        serde_json::json!({"MY_TAG1": "MY_VALUE1"})
    );
    let body = server.get("/restapis").await.json();
    assert_eq!(
        body["item"][0]["tags"],
        serde_json::json!({"MY_TAG1": "MY_VALUE1"})
    );
}

#[tokio::test]
async fn create_rest_api_private_with_ipv4_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_rest_api()
        .name("private")
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Private)
                .ip_address_type(aws_sdk_apigateway::types::IpAddressType::Ipv4)
                .build(),
        )
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Only dualstack ipAddressType is supported for Private APIs.",
        );
}

#[tokio::test]
async fn update_rest_api_binary_media_types() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, _) = create_api(&client, "binary").await;
    let added = client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(add_path("/binaryMediaTypes/image~1png"))
        .patch_operations(add_path("/binaryMediaTypes/application~1octet-stream"))
        .send()
        .await
        .unwrap();
    let mut types = added.binary_media_types().to_vec();
    types.sort();
    assert_eq!(types, ["application/octet-stream", "image/png"]);

    let removed = client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(remove("/binaryMediaTypes/image~1png"))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.binary_media_types(), ["application/octet-stream"]);
}

#[tokio::test]
async fn update_rest_api_minimum_compression_size() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, _) = create_api(&client, "gzip").await;
    let updated = client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(replace("/minimumCompressionSize", "1024"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.minimum_compression_size(), Some(1024));

    client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(replace("/minimumCompressionSize", "10485761"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid minimum compression size, must be between 0 and 10485760",
        );
    client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(add("/minimumCompressionSize", "10"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch operation specified. Must be one of: [replace]",
        );

    let cleared = client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(replace("/minimumCompressionSize", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.minimum_compression_size(), None);
}

#[tokio::test]
async fn update_rest_api_endpoint_type() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, _) = create_api(&client, "edge").await;
    let updated = client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(replace("/endpointConfiguration/types/EDGE", "REGIONAL"))
        .send()
        .await
        .unwrap();
    let types: Vec<&str> = updated
        .endpoint_configuration()
        .unwrap()
        .types()
        .iter()
        .map(|t| t.as_str())
        .collect();
    assert_eq!(types, ["REGIONAL"]);

    client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(replace("/endpointConfiguration/types/0", "MOON"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
        );
}

#[tokio::test]
async fn delete_rest_api_removes_its_stages_and_deployments() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "dev", &deployment).await;
    client
        .delete_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .expect_code("NotFoundException");
    client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn pagination_survives_deleting_a_listed_item() {
    // A position names where the listing stands, not an offset: deleting an API that was
    // already listed must not make the next page skip one that was not.
    let server = TestServer::start().await;
    let client = server.client();
    let mut ids = HashSet::new();
    for i in 0..6 {
        ids.insert(create_api(&client, &format!("d{i}")).await.0);
    }
    let first = client.get_rest_apis().limit(2).send().await.unwrap();
    let seen_first: Vec<String> = first
        .items()
        .iter()
        .map(|a| a.id().unwrap().to_owned())
        .collect();
    client
        .delete_rest_api()
        .rest_api_id(&seen_first[0])
        .send()
        .await
        .unwrap();
    let mut seen = seen_first.clone();
    let mut position = first.position().map(str::to_owned);
    while let Some(current) = position {
        let page = client
            .get_rest_apis()
            .limit(2)
            .position(current)
            .send()
            .await
            .unwrap();
        seen.extend(page.items().iter().map(|a| a.id().unwrap().to_owned()));
        position = page.position().map(str::to_owned);
        assert!(seen.len() <= 12, "pagination does not end");
    }
    assert_eq!(distinct(seen.iter().map(String::as_str)), ids);
}

#[tokio::test]
async fn custom_id_reusable_after_delete() {
    let server = TestServer::start().await;
    let client = server.client();
    for name in ["first", "second"] {
        let api = client
            .create_rest_api()
            .name(name)
            .tags("_custom_id_", "reuse01")
            .send()
            .await
            .unwrap();
        assert_eq!(api.id(), Some("reuse01"));
        let resources = client
            .get_resources()
            .rest_api_id("reuse01")
            .send()
            .await
            .unwrap();
        assert_eq!(resources.items().len(), 1, "a fresh API has only its root");
        if name == "first" {
            let root = api.root_resource_id().unwrap();
            create_resource(&client, "reuse01", root, "leftover").await;
            client
                .delete_rest_api()
                .rest_api_id("reuse01")
                .send()
                .await
                .unwrap();
        }
    }
}
