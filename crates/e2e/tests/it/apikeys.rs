//! CreateApiKey / GetApiKey(s) / UpdateApiKey / DeleteApiKey / ImportApiKeys, and tags on
//! API keys.

use std::collections::HashSet;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::primitives::Blob;
use aws_sdk_apigateway::types::{ApiKeysFormat, StageKey};
use serde_json::json;

use crate::harness::*;

/// A key value of the allowed length, distinct per `tag`.
fn value(tag: &str) -> String {
    format!("{tag:a<24}")
}

async fn create_key(client: &Client, name: &str) -> String {
    client
        .create_api_key()
        .name(name)
        .send()
        .await
        .unwrap()
        .id()
        .expect("api key id")
        .to_owned()
}

/// An API with `GET /pets` deployed to stage `prod`: `(api id)`.
async fn api_with_stage(client: &Client) -> String {
    let (api, _, _) = deployable_api(client).await;
    let deployment = create_deployment(client, &api).await;
    create_stage(client, &api, "prod", &deployment).await;
    api
}

fn api_key_arn(id: &str) -> String {
    format!("arn:aws:apigateway:{REGION}::/apikeys/{id}")
}

#[tokio::test]
async fn create_api_key_wire_shape_and_defaults() {
    let server = TestServer::start().await;
    let raw = server.post("/apikeys", r#"{"name":"first"}"#).await;
    raw.assert_status(201);
    let body = raw.json();
    assert_aws_id(body["id"].as_str().expect("id"));
    let generated = body["value"].as_str().expect("create returns the value");
    assert_eq!(generated.len(), 40, "AWS generates 40 characters: {body}");
    assert!(generated.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(body["enabled"], json!(false));
    assert_eq!(body["stageKeys"], json!([]));
    assert!(body["createdDate"].is_number() && body["lastUpdatedDate"].is_number());
    assert!(body.get("tags").is_none(), "no tags key on create: {body}");
    assert!(body.get("description").is_none());

    let id = body["id"].as_str().unwrap_or_default();
    let got = server.get(&format!("/apikeys/{id}")).await;
    got.assert_status(200);
    let got = got.json();
    assert!(got.get("value").is_none(), "Get hides the value: {got}");
    assert_eq!(got["tags"], json!({}));
    let with_value = server
        .get(&format!("/apikeys/{id}?includeValue=true"))
        .await
        .json();
    assert_eq!(with_value["value"].as_str(), Some(generated));
}

#[tokio::test]
async fn create_api_key_with_everything() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = api_with_stage(&client).await;
    let created = client
        .create_api_key()
        .name("partner")
        .description("for the partner")
        .enabled(true)
        .customer_id("cust-1")
        .value(value("partner"))
        .generate_distinct_id(true)
        .stage_keys(
            StageKey::builder()
                .rest_api_id(&api)
                .stage_name("prod")
                .build(),
        )
        .tags("team", "billing")
        .send()
        .await
        .unwrap();
    assert_eq!(created.value(), Some(value("partner").as_str()));
    assert!(created.enabled());
    assert_eq!(created.stage_keys(), [format!("{api}/prod")]);
    let got = client
        .get_api_key()
        .api_key(created.id().unwrap())
        .include_value(true)
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), Some("partner"));
    assert_eq!(got.description(), Some("for the partner"));
    assert_eq!(got.customer_id(), Some("cust-1"));
    assert_eq!(got.value(), Some(value("partner").as_str()));
    assert!(got.created_date().is_some() && got.last_updated_date().is_some());
    assert_eq!(
        got.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("billing")
    );
}

#[tokio::test]
async fn api_key_values_follow_aws_rules() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_api_key()
        .value("a".repeat(19))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "API Key value should be at least 20 characters",
        );
    client
        .create_api_key()
        .value("a".repeat(129))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "API Key value exceeds maximum size of 128 characters",
        );
    client
        .create_api_key()
        .value(value("dup"))
        .send()
        .await
        .unwrap();
    client
        .create_api_key()
        .name("other name")
        .value(value("dup"))
        .send()
        .await
        .expect_error("ConflictException", "API Key already exists");
    let keys = client.get_api_keys().send().await.unwrap();
    assert_eq!(keys.items().len(), 1, "failed creates leave nothing");
}

#[tokio::test]
async fn stage_keys_must_name_existing_stages() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = api_with_stage(&client).await;
    client
        .create_api_key()
        .stage_keys(
            StageKey::builder()
                .rest_api_id("nope123456")
                .stage_name("prod")
                .build(),
        )
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid REST API identifier specified",
        );
    client
        .create_api_key()
        .stage_keys(
            StageKey::builder()
                .rest_api_id(&api)
                .stage_name("qa")
                .build(),
        )
        .send()
        .await
        .expect_error("BadRequestException", "Invalid stage identifier specified");
}

#[tokio::test]
async fn unknown_api_key_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .get_api_key()
        .api_key("nope123456")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid API Key identifier specified");
    client
        .update_api_key()
        .api_key("nope123456")
        .patch_operations(replace("/name", "x"))
        .send()
        .await
        .expect_error("NotFoundException", "Invalid API Key identifier specified");
    client
        .delete_api_key()
        .api_key("nope123456")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid API Key identifier specified");
}

#[tokio::test]
async fn get_api_keys_pages_and_filters() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut all = HashSet::new();
    for (name, customer) in [
        ("alpha-1", "c1"),
        ("alpha-2", "c2"),
        ("Alpha-3", "c1"),
        ("beta", "c1"),
        ("alphabet", "c3"),
    ] {
        let key = client
            .create_api_key()
            .name(name)
            .customer_id(customer)
            .send()
            .await
            .unwrap();
        all.insert(key.id().unwrap().to_owned());
    }

    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = client
            .get_api_keys()
            .limit(2)
            .set_position(position.clone())
            .send()
            .await
            .unwrap();
        sizes.push(page.items().len());
        for key in page.items() {
            assert!(key.value().is_none(), "values only with includeValues");
            seen.push(key.id().unwrap().to_owned());
        }
        match page.position() {
            Some(next) => position = Some(next.to_owned()),
            None => break,
        }
        assert!(sizes.len() <= 5, "pagination does not end");
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(distinct(seen.iter().map(String::as_str)), all);

    // `name` is a case-sensitive prefix.
    let named = client
        .get_api_keys()
        .name_query("alpha")
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = named.items().iter().filter_map(|k| k.name()).collect();
    names.sort_unstable();
    assert_eq!(names, ["alpha-1", "alpha-2", "alphabet"]);

    let customer = client
        .get_api_keys()
        .customer_id("c1")
        .include_values(true)
        .send()
        .await
        .unwrap();
    assert_eq!(customer.items().len(), 3);
    assert!(
        customer
            .items()
            .iter()
            .all(|k| k.value().is_some_and(|v| v.len() == 40))
    );

    let raw = server.get("/apikeys?name=beta").await;
    raw.assert_status(200);
    let body = raw.json();
    assert_eq!(body["item"].as_array().map(Vec::len), Some(1), "{body}");
    assert!(body.get("position").is_none());
    assert!(body["item"][0].get("tags").is_none(), "no tags in lists");
}

#[tokio::test]
async fn update_api_key_fields_and_stages() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = api_with_stage(&client).await;
    let id = create_key(&client, "before").await;
    let updated = client
        .update_api_key()
        .api_key(&id)
        .patch_operations(replace("/name", "after"))
        .patch_operations(replace("/description", "described"))
        .patch_operations(replace("/enabled", "true"))
        .patch_operations(replace("/customerId", "cust-9"))
        .patch_operations(add("/stages", &format!("{api}/prod")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("after"));
    assert_eq!(updated.description(), Some("described"));
    assert!(updated.enabled());
    assert_eq!(updated.customer_id(), Some("cust-9"));
    assert_eq!(updated.stage_keys(), [format!("{api}/prod")]);
    assert!(updated.value().is_none(), "Update does not show the value");
    assert_eq!(updated.tags().map(|t| t.len()), Some(0));

    let removed = client
        .update_api_key()
        .api_key(&id)
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Remove)
                .path("/stages")
                .value(format!("{api}/prod"))
                .build(),
        )
        .patch_operations(replace("/enabled", "false"))
        .send()
        .await
        .unwrap();
    assert!(removed.stage_keys().is_empty());
    assert!(!removed.enabled());

    let got = client.get_api_key().api_key(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("after"));
    assert!(!got.enabled());
}

#[tokio::test]
async fn update_api_key_bad_operations() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = create_key(&client, "k").await;
    client
        .update_api_key()
        .api_key(&id)
        .patch_operations(replace("/value", "x".repeat(30).as_str()))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch path  '/value' specified for op 'replace'. Must be one of: [/name, /description, /enabled, /customerId]",
        );
    client
        .update_api_key()
        .api_key(&id)
        .patch_operations(add("/name", "x"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch path  '/name' specified for op 'add'. Must be one of: [/stages]",
        );
    client
        .update_api_key()
        .api_key(&id)
        .patch_operations(add("/stages", "nope123456/prod"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid REST API identifier specified",
        );
    let raw = server
        .patch(
            &format!("/apikeys/{id}"),
            r#"{"patchOperations":[{"op":"replace","path":"/name","value":"ok"},{"op":"bogus","path":"/name"}]}"#,
        )
        .await;
    let message = raw.assert_error(400, "ValidationException");
    assert!(
        message.contains("updateApiKeyInput.patchOperations.2.member.op"),
        "{message}"
    );
    let got = client.get_api_key().api_key(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("k"), "a failed update changes nothing");
}

#[tokio::test]
async fn delete_api_key_then_gone() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = create_key(&client, "doomed").await;
    server
        .delete(&format!("/apikeys/{id}"))
        .await
        .assert_status(202);
    client
        .get_api_key()
        .api_key(&id)
        .send()
        .await
        .expect_error("NotFoundException", "Invalid API Key identifier specified");
    assert!(
        client
            .get_api_keys()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
}

#[tokio::test]
async fn import_api_keys_from_csv() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = api_with_stage(&client).await;
    let plan = client
        .create_usage_plan()
        .name("imported")
        .api_stages(
            aws_sdk_apigateway::types::ApiStage::builder()
                .api_id(&api)
                .stage("prod")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan = plan.id().unwrap().to_owned();
    let existing = client
        .create_api_key()
        .name("old name")
        .value(value("existing"))
        .send()
        .await
        .unwrap();
    let existing = existing.id().unwrap().to_owned();

    let csv = format!(
        "Name,key,description,Enabled,usageplanIds,ignored\n\
         fresh,{fresh},An imported key,TRUE,{plan},x\n\
         short,tooshort,,true,,\n\
         renamed,{existing_value},,false,,\n",
        fresh = value("fresh"),
        existing_value = value("existing"),
    );
    let imported = client
        .import_api_keys()
        .body(Blob::new(csv))
        .format(ApiKeysFormat::Csv)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.ids().len(), 2, "{imported:?}");
    assert!(imported.ids().contains(&existing), "same value, same key");
    assert_eq!(imported.warnings().len(), 1, "{imported:?}");
    assert!(
        imported.warnings()[0].contains("API Key value should be at least 20 characters"),
        "{:?}",
        imported.warnings()
    );

    let fresh = imported
        .ids()
        .iter()
        .find(|id| **id != existing)
        .unwrap()
        .clone();
    let got = client.get_api_key().api_key(&fresh).send().await.unwrap();
    assert_eq!(got.name(), Some("fresh"));
    assert_eq!(got.description(), Some("An imported key"));
    assert!(got.enabled());
    let renamed = client
        .get_api_key()
        .api_key(&existing)
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.name(), Some("renamed"));
    assert!(!renamed.enabled());
    let members = client
        .get_usage_plan_keys()
        .usage_plan_id(&plan)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = members.items().iter().filter_map(|k| k.id()).collect();
    assert_eq!(ids, [fresh.as_str()]);

    // With failonwarnings, one bad row refuses the whole file.
    let strict = format!("name,key\nbad,short\ngood,{}\n", value("strict"));
    client
        .import_api_keys()
        .body(Blob::new(strict))
        .format(ApiKeysFormat::Csv)
        .fail_on_warnings(true)
        .send()
        .await
        .expect_error_containing(
            "BadRequestException",
            "API Key value should be at least 20 characters",
        );
    assert_eq!(client.get_api_keys().send().await.unwrap().items().len(), 2);

    // A file without the Key column is refused.
    client
        .import_api_keys()
        .body(Blob::new("name,description\na,b\n"))
        .format(ApiKeysFormat::Csv)
        .send()
        .await
        .expect_code("BadRequestException");

    // The raw route: POST /apikeys?mode=import&format=csv answers 201 {ids}.
    let raw = server
        .raw(
            "POST",
            "/apikeys?mode=import&format=csv",
            Some(&format!("name,key\nraw,{}\n", value("raw"))),
        )
        .await;
    raw.assert_status(201);
    assert_eq!(raw.json()["ids"].as_array().map(Vec::len), Some(1));
    let unknown_format = server
        .raw(
            "POST",
            "/apikeys?mode=import&format=xml",
            Some("name,key\n"),
        )
        .await;
    unknown_format.assert_error(400, "ValidationException");
}

#[tokio::test]
async fn tag_api_key() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = create_key(&client, "tagged").await;
    let arn = api_key_arn(&id);
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("env", "test")
        .send()
        .await
        .unwrap();
    let tags = client.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(
        tags.tags().and_then(|t| t.get("env")).map(String::as_str),
        Some("test")
    );
    let got = client.get_api_key().api_key(&id).send().await.unwrap();
    assert_eq!(
        got.tags().and_then(|t| t.get("env")).map(String::as_str),
        Some("test")
    );
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = client.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().map(|t| t.len()), Some(0));
    client
        .tag_resource()
        .resource_arn(api_key_arn("nope123456"))
        .tags("a", "b")
        .send()
        .await
        .expect_code("NotFoundException");
}
