//! CreateDeployment / GetDeployment(s) / UpdateDeployment / DeleteDeployment and snapshots.

use std::collections::HashSet;

use crate::harness::*;

#[tokio::test]
async fn create_deployment_without_methods_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "empty").await;
    create_resource(&client, &api, &root, "pets").await;
    client
        .create_deployment()
        .rest_api_id(&api)
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "The REST API doesn't contain any methods",
        );
    let deployments = client
        .get_deployments()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert!(deployments.items().is_empty());
}

#[tokio::test]
async fn create_deployment_with_method_without_integration_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, pets) = deployable_api(&client).await;
    put_method(&client, &api, &pets, "POST").await;
    client
        .create_deployment()
        .rest_api_id(&api)
        .send()
        .await
        .expect_error_containing("BadRequestException", "No integration defined for method");
}

#[tokio::test]
async fn create_deployment_unknown_api_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_deployment()
        .rest_api_id("nope123456")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn create_deployment_returns_id_and_date() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = client
        .create_deployment()
        .rest_api_id(&api)
        .description("first")
        .send()
        .await
        .unwrap();
    let id = deployment.id().expect("deployment id");
    assert!(!id.is_empty());
    assert_eq!(deployment.description(), Some("first"));
    assert!(deployment.created_date().is_some());

    let got = client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.id(), Some(id));
    assert_eq!(got.description(), Some("first"));
    assert_eq!(got.created_date(), deployment.created_date());
    assert!(got.api_summary().is_none(), "apiSummary only with embed");
}

#[tokio::test]
async fn create_deployment_status_is_201() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let raw = server
        .post(&format!("/restapis/{api}/deployments"), "{}")
        .await;
    raw.assert_status(201);
    let body = raw.json();
    assert!(body["id"].is_string());
    assert!(body["createdDate"].is_number(), "{body}");
}

#[tokio::test]
async fn create_deployment_with_stage_creates_stage() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = client
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .stage_description("development")
        .variables("VPCLINK", "abc123")
        .variables("color", "blue")
        .send()
        .await
        .unwrap();
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.stage_name(), Some("dev"));
    assert_eq!(stage.deployment_id(), deployment.id());
    assert_eq!(stage.description(), Some("development"));
    let variables = stage.variables().expect("variables");
    assert_eq!(variables.get("VPCLINK").map(String::as_str), Some("abc123"));
    assert_eq!(variables.get("color").map(String::as_str), Some("blue"));
}

#[tokio::test]
async fn create_deployment_with_existing_stage_repoints_it() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let first = client
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let second = client
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_ne!(first.id(), second.id());
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.deployment_id(), second.id());
    let stages = client.get_stages().rest_api_id(&api).send().await.unwrap();
    assert_eq!(stages.item().len(), 1);
}

#[tokio::test]
async fn get_deployment_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id("nope00")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn get_deployments_paginated() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let mut expected = HashSet::new();
    for _ in 0..5 {
        expected.insert(create_deployment(&client, &api).await);
    }
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = client
            .get_deployments()
            .rest_api_id(&api)
            .limit(2)
            .set_position(position.clone())
            .send()
            .await
            .unwrap();
        sizes.push(page.items().len());
        seen.extend(page.items().iter().map(|d| d.id().unwrap().to_owned()));
        match page.position() {
            Some(next) => position = Some(next.to_owned()),
            None => break,
        }
        assert!(sizes.len() <= 5, "pagination does not end");
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(distinct(seen.iter().map(String::as_str)), expected);

    let all = client
        .get_deployments()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(all.items().len(), 5);
    assert!(all.position().is_none());
}

#[tokio::test]
async fn delete_deployment_with_active_stage_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "prod", &deployment).await;

    client
        .delete_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Active stages pointing to this deployment must be moved or deleted",
        );
    client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .send()
        .await
        .unwrap();

    client
        .delete_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    client
        .delete_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .send()
        .await
        .unwrap();
    client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn delete_deployment_after_stage_moved() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let old = create_deployment(&client, &api).await;
    let new = create_deployment(&client, &api).await;
    create_stage(&client, &api, "prod", &old).await;
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace("/deploymentId", &new))
        .send()
        .await
        .unwrap();
    client
        .delete_deployment()
        .rest_api_id(&api)
        .deployment_id(&old)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_deployment_status_is_202() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    server
        .delete(&format!("/restapis/{api}/deployments/{deployment}"))
        .await
        .assert_status(202);
}

#[tokio::test]
async fn update_deployment_description() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    let updated = client
        .update_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .patch_operations(replace("/description", "described"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("described"));
    let got = client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .send()
        .await
        .unwrap();
    assert_eq!(got.description(), Some("described"));
}

#[tokio::test]
async fn deployment_api_summary() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root, pets) = deployable_api(&client).await;
    put_method(&client, &api, &root, "GET").await;
    put_mock_integration(&client, &api, &root, "GET").await;
    put_method(&client, &api, &pets, "POST").await;
    put_mock_integration(&client, &api, &pets, "POST").await;
    let deployment = create_deployment(&client, &api).await;
    let got = client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .embed("apisummary")
        .send()
        .await
        .unwrap();
    let summary = got.api_summary().expect("apiSummary");
    let mut paths: Vec<&str> = summary.keys().map(String::as_str).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/", "/pets"]);
    let mut pets_methods: Vec<&str> = summary["/pets"].keys().map(String::as_str).collect();
    pets_methods.sort_unstable();
    assert_eq!(pets_methods, ["GET", "POST"]);
    let get = &summary["/pets"]["GET"];
    assert_eq!(get.authorization_type(), Some("NONE"));
    assert!(!get.api_key_required());
}

#[tokio::test]
async fn deployment_is_an_immutable_snapshot() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, pets) = deployable_api(&client).await;
    let before = create_deployment(&client, &api).await;

    // Change the working copy after deploying.
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(replace("/apiKeyRequired", "true"))
        .send()
        .await
        .unwrap();
    put_method(&client, &api, &pets, "DELETE").await;
    put_mock_integration(&client, &api, &pets, "DELETE").await;

    let old = client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&before)
        .embed("apisummary")
        .send()
        .await
        .unwrap();
    let summary = old.api_summary().expect("apiSummary");
    let pets_summary = &summary["/pets"];
    assert_eq!(pets_summary.len(), 1, "DELETE was added after deploying");
    let get = &pets_summary["GET"];
    assert_eq!(get.authorization_type(), Some("NONE"));
    assert!(
        !get.api_key_required(),
        "old deployment keeps the old method"
    );

    let after = create_deployment(&client, &api).await;
    let new = client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&after)
        .embed("apisummary")
        .send()
        .await
        .unwrap();
    let new_pets = &new.api_summary().expect("apiSummary")["/pets"];
    assert!(new_pets["GET"].api_key_required());
    assert!(new_pets.contains_key("DELETE"));
}

#[tokio::test]
async fn deployment_survives_resource_deletion_in_working_copy() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, pets) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    client
        .delete_resource()
        .rest_api_id(&api)
        .resource_id(&pets)
        .send()
        .await
        .unwrap();
    let got = client
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&deployment)
        .embed("apisummary")
        .send()
        .await
        .unwrap();
    assert!(got.api_summary().expect("apiSummary").contains_key("/pets"));
}
