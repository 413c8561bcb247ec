//! TagResource / GetTags / UntagResource on REST APIs, stages and VPC links.

use std::collections::HashMap;

use aws_sdk_apigateway::Client;

use crate::harness::*;

async fn tags_of(client: &Client, arn: &str) -> HashMap<String, String> {
    client
        .get_tags()
        .resource_arn(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetTags {arn}: {e:?}"))
        .tags()
        .cloned()
        .unwrap_or_default()
}

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn tag_rest_api() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "tagged").await;
    let arn = rest_api_arn(&api);
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("team", "core")
        .tags("env", "test")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(&client, &arn).await,
        map(&[("team", "core"), ("env", "test")])
    );
    // Visible on the API itself.
    let got = client
        .get_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.tags()
            .cloned()
            .unwrap_or_default()
            .get("team")
            .map(String::as_str),
        Some("core")
    );

    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&client, &arn).await, map(&[("env", "test")]));
}

#[tokio::test]
async fn create_rest_api_tags_are_readable() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = client
        .create_rest_api()
        .name("born-tagged")
        .tags("owner", "me")
        .send()
        .await
        .unwrap();
    let api = created.id().unwrap();
    let got = client.get_rest_api().rest_api_id(api).send().await.unwrap();
    assert_eq!(
        got.tags().and_then(|t| t.get("owner")).map(String::as_str),
        Some("me")
    );
    assert_eq!(
        tags_of(&client, &rest_api_arn(api))
            .await
            .get("owner")
            .map(String::as_str),
        Some("me")
    );
}

#[tokio::test]
async fn tag_resource_overwrites_existing_key() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "overwrite").await;
    let arn = rest_api_arn(&api);
    for value in ["one", "two"] {
        client
            .tag_resource()
            .resource_arn(&arn)
            .tags("k", value)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(tags_of(&client, &arn).await, map(&[("k", "two")]));
}

#[tokio::test]
async fn untag_multiple_and_absent_keys() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "untag").await;
    let arn = rest_api_arn(&api);
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("a", "1")
        .tags("b", "2")
        .tags("c", "3")
        .send()
        .await
        .unwrap();
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("a")
        .tag_keys("c")
        .tag_keys("never-there")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&client, &arn).await, map(&[("b", "2")]));
}

#[tokio::test]
async fn tag_stage() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&deployment)
        .tags("born", "yes")
        .send()
        .await
        .unwrap();
    let arn = stage_arn(&api, "dev");
    assert_eq!(tags_of(&client, &arn).await, map(&[("born", "yes")]));
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("tier", "gold")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(&client, &arn).await,
        map(&[("born", "yes"), ("tier", "gold")])
    );
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stage.tags().and_then(|t| t.get("tier")).map(String::as_str),
        Some("gold")
    );
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("born")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&client, &arn).await, map(&[("tier", "gold")]));
    // Stage tags are not API tags.
    assert!(tags_of(&client, &rest_api_arn(&api)).await.is_empty());
}

#[tokio::test]
async fn tag_vpc_link() {
    let server = TestServer::start().await;
    let client = server.client();
    let link = client
        .create_vpc_link()
        .name("link")
        .target_arns(NLB_ARN)
        .send()
        .await
        .unwrap();
    let id = link.id().unwrap();
    let arn = vpc_link_arn(id);
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("net", "private")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&client, &arn).await, map(&[("net", "private")]));
    let got = client.get_vpc_link().vpc_link_id(id).send().await.unwrap();
    assert_eq!(
        got.tags().and_then(|t| t.get("net")).map(String::as_str),
        Some("private")
    );
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("net")
        .send()
        .await
        .unwrap();
    assert!(tags_of(&client, &arn).await.is_empty());
}

#[tokio::test]
async fn tag_unknown_rest_api_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .tag_resource()
        .resource_arn(rest_api_arn("nope123456"))
        .tags("a", "b")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn tag_operations_wire_codes() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "wire").await;
    let path = format!("/tags/{}", encode_label(&rest_api_arn(&api)));
    server
        .put(&path, r#"{"tags":{"a":"1","b":"2"}}"#)
        .await
        .assert_status(204);
    let got = server.get(&path).await;
    got.assert_status(200);
    assert_eq!(got.json()["tags"], serde_json::json!({"a": "1", "b": "2"}));
    server
        .delete(&format!("{path}?tagKeys=a"))
        .await
        .assert_status(204);
    let after = server.get(&path).await;
    assert_eq!(after.json()["tags"], serde_json::json!({"b": "2"}));
}
