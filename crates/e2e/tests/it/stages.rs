//! CreateStage / GetStage(s) / UpdateStage / DeleteStage, stage variables and method settings.

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{CacheClusterStatus, UnauthorizedCacheControlHeaderStrategy};

use crate::harness::*;

/// A deployable API with one deployment: `(api, deployment)`.
async fn deployed(client: &Client) -> (String, String) {
    let (api, _, _) = deployable_api(client).await;
    let deployment = create_deployment(client, &api).await;
    (api, deployment)
}

/// A deployed API with stage `dev` that has variables `VPCNLB` and `X`.
async fn with_stage(client: &Client) -> (String, String) {
    let (api, deployment) = deployed(client).await;
    client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&deployment)
        .variables("VPCNLB", "abc123")
        .variables("X", "x")
        .send()
        .await
        .unwrap();
    (api, deployment)
}

#[tokio::test]
async fn create_stage_returns_fields() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    let stage = client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&deployment)
        .description("development")
        .variables("VPCLINK", "abc123")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.stage_name(), Some("dev"));
    assert_eq!(stage.deployment_id(), Some(deployment.as_str()));
    assert_eq!(stage.description(), Some("development"));
    assert_eq!(
        stage
            .variables()
            .unwrap()
            .get("VPCLINK")
            .map(String::as_str),
        Some("abc123")
    );
    assert!(!stage.cache_cluster_enabled());
    assert_eq!(
        stage.cache_cluster_status(),
        Some(&CacheClusterStatus::NotAvailable)
    );
    assert!(!stage.tracing_enabled());
    assert!(stage.method_settings().is_none_or(|m| m.is_empty()));
    assert!(stage.created_date().is_some());
    assert!(stage.last_updated_date().is_some());
}

#[tokio::test]
async fn create_stage_wire_shape() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    let raw = server
        .post(
            &format!("/restapis/{api}/stages"),
            &format!(r#"{{"stageName":"dev","deploymentId":"{deployment}"}}"#),
        )
        .await;
    raw.assert_status(201);
    let body = raw.json();
    assert_eq!(body["stageName"], "dev");
    assert_eq!(body["cacheClusterEnabled"], false);
    assert_eq!(body["cacheClusterStatus"], "NOT_AVAILABLE");
    assert_eq!(body["tracingEnabled"], false);
    assert_eq!(body["methodSettings"], serde_json::json!({}));
    assert!(body["createdDate"].is_number(), "{body}");
    assert!(body["lastUpdatedDate"].is_number(), "{body}");
}

#[tokio::test]
async fn create_stage_duplicate_conflicts() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    create_stage(&client, &api, "dev", &deployment).await;
    client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&deployment)
        .send()
        .await
        .expect_error("ConflictException", "Stage already exists");
}

#[tokio::test]
async fn create_stage_unknown_deployment_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = deployed(&client).await;
    client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id("nope00")
        .send()
        .await
        .expect_error("BadRequestException", "Deployment id does not exist");
}

#[tokio::test]
async fn create_stage_unknown_api_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_stage()
        .rest_api_id("nope123456")
        .stage_name("dev")
        .deployment_id("nope00")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn create_stage_invalid_name_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    for bad in ["bad name!", "a/b", ""] {
        client
            .create_stage()
            .rest_api_id(&api)
            .stage_name(bad)
            .deployment_id(&deployment)
            .send()
            .await
            .expect_code("BadRequestException");
    }
    let stages = client.get_stages().rest_api_id(&api).send().await.unwrap();
    assert!(stages.item().is_empty());
}

#[tokio::test]
async fn create_stage_valid_names_accepted() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    for name in ["prod", "v1_beta-2", "STAGE"] {
        create_stage(&client, &api, name, &deployment).await;
    }
}

#[tokio::test]
async fn create_stage_invalid_variable_name_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&deployment)
        .variables("a-b", "ok")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid stage variable name: a-b.  Please use names with only word characters.",
        );
}

#[tokio::test]
async fn create_stage_invalid_variable_value_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&deployment)
        .variables("ok", "a b<")
        .send()
        .await
        .expect_error_containing("BadRequestException", "Invalid stage variable value: a b<.");
    client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn create_stage_url_like_variable_values_accepted() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    let value = "http://nlb.internal:8080/a-b_c.d?x=1&y=2,3";
    let stage = client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&deployment)
        .variables("url", value)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stage.variables().unwrap().get("url").map(String::as_str),
        Some(value)
    );
}

#[tokio::test]
async fn get_stage_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = deployed(&client).await;
    client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("nope")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid stage identifier specified");
}

#[tokio::test]
async fn update_stage_variables() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/variables/VPCNLB", "def456"))
        .patch_operations(remove("/variables/X"))
        .patch_operations(replace("/variables/NEW", "fresh"))
        .send()
        .await
        .unwrap();
    let variables = updated.variables().expect("variables");
    assert_eq!(variables.get("VPCNLB").map(String::as_str), Some("def456"));
    assert_eq!(variables.get("NEW").map(String::as_str), Some("fresh"));
    assert!(!variables.contains_key("X"));
    let got = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(got.variables(), updated.variables());
}

#[tokio::test]
async fn update_stage_invalid_variable_value_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/variables/VPCNLB", "a b<"))
        .send()
        .await
        .expect_error_containing("BadRequestException", "Invalid stage variable value");
}

#[tokio::test]
async fn update_stage_deployment_id() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, first) = with_stage(&client).await;
    let second = create_deployment(&client, &api).await;
    assert_ne!(first, second);
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/deploymentId", &second))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.deployment_id(), Some(second.as_str()));
    let got = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(got.deployment_id(), Some(second.as_str()));
}

#[tokio::test]
async fn update_stage_description() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/description", "new words"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("new words"));
}

#[tokio::test]
async fn update_stage_wildcard_throttling_fills_defaults() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/*/*/throttling/rateLimit", "100"))
        .patch_operations(replace("/*/*/throttling/burstLimit", "50"))
        .send()
        .await
        .unwrap();
    let settings = updated.method_settings().expect("methodSettings");
    let all = settings.get("*/*").expect("*/* method setting");
    assert_eq!(all.throttling_rate_limit(), 100.0);
    assert_eq!(all.throttling_burst_limit(), 50);
    assert!(!all.metrics_enabled());
    assert!(!all.data_trace_enabled());
    assert!(!all.caching_enabled());
    assert!(!all.cache_data_encrypted());
    assert_eq!(all.cache_ttl_in_seconds(), 300);
    assert!(all.require_authorization_for_cache_control());
    assert_eq!(
        all.unauthorized_cache_control_header_strategy(),
        Some(&UnauthorizedCacheControlHeaderStrategy::SucceedWithResponseHeader)
    );

    // Every default is an explicit member on the wire.
    let raw = server.get(&format!("/restapis/{api}/stages/dev")).await;
    raw.assert_status(200);
    let body = raw.json();
    let wire = &body["methodSettings"]["*/*"];
    assert_eq!(wire["throttlingRateLimit"], 100.0);
    assert_eq!(wire["throttlingBurstLimit"], 50);
    for (key, value) in [
        ("metricsEnabled", serde_json::json!(false)),
        ("dataTraceEnabled", serde_json::json!(false)),
        ("cachingEnabled", serde_json::json!(false)),
        ("cacheDataEncrypted", serde_json::json!(false)),
        ("cacheTtlInSeconds", serde_json::json!(300)),
        (
            "requireAuthorizationForCacheControl",
            serde_json::json!(true),
        ),
        (
            "unauthorizedCacheControlHeaderStrategy",
            serde_json::json!("SUCCEED_WITH_RESPONSE_HEADER"),
        ),
    ] {
        assert_eq!(wire[key], value, "{key} in {wire}");
    }
}

#[tokio::test]
async fn update_stage_per_method_caching() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/~1pets/GET/caching/enabled", "true"))
        .patch_operations(replace("/~1pets/GET/caching/ttlInSeconds", "60"))
        .send()
        .await
        .unwrap();
    let settings = updated.method_settings().expect("methodSettings");
    let pets = settings
        .get("~1pets/GET")
        .expect("~1pets/GET method setting");
    assert!(pets.caching_enabled());
    assert_eq!(pets.cache_ttl_in_seconds(), 60);
    assert!(pets.require_authorization_for_cache_control());
    assert!(!settings.contains_key("*/*"), "only the touched key exists");
}

#[tokio::test]
async fn per_method_setting_inherits_wildcard_values() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/*/*/throttling/rateLimit", "100"))
        .send()
        .await
        .unwrap();
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/~1pets/GET/metrics/enabled", "true"))
        .send()
        .await
        .unwrap();
    let pets = &updated.method_settings().unwrap()["~1pets/GET"];
    assert!(pets.metrics_enabled());
    assert_eq!(pets.throttling_rate_limit(), 100.0);
}

#[tokio::test]
async fn update_stage_remove_wildcard_settings() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/*/*/metrics/enabled", "true"))
        .send()
        .await
        .unwrap();
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(remove("/*/*"))
        .send()
        .await
        .unwrap();
    assert!(
        updated
            .method_settings()
            .is_none_or(|m| !m.contains_key("*/*"))
    );
}

#[tokio::test]
async fn update_stage_cache_cluster_enabled() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/cacheClusterEnabled", "true"))
        .send()
        .await
        .unwrap();
    assert!(updated.cache_cluster_enabled());
    let got = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert!(got.cache_cluster_enabled());
}

#[tokio::test]
async fn update_stage_tracing_enabled() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/tracingEnabled", "true"))
        .send()
        .await
        .unwrap();
    assert!(updated.tracing_enabled());
}

#[tokio::test]
async fn update_stage_unknown_path_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/foo", "bar"))
        .send()
        .await
        .expect_code("BadRequestException");
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/*/*/throttling/nope", "1"))
        .send()
        .await
        .expect_code("BadRequestException");
}

#[tokio::test]
async fn update_stage_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = deployed(&client).await;
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("nope")
        .patch_operations(replace("/description", "x"))
        .send()
        .await
        .expect_error("NotFoundException", "Invalid stage identifier specified");
}

#[tokio::test]
async fn get_stages_lists_items() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    create_stage(&client, &api, "dev", &deployment).await;
    create_stage(&client, &api, "prod", &deployment).await;
    let stages = client.get_stages().rest_api_id(&api).send().await.unwrap();
    let mut names: Vec<&str> = stages
        .item()
        .iter()
        .filter_map(|s| s.stage_name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["dev", "prod"]);

    let raw = server.get(&format!("/restapis/{api}/stages")).await;
    raw.assert_status(200);
    let body = raw.json();
    assert_eq!(body["item"].as_array().map(Vec::len), Some(2), "{body}");
    assert!(body.get("position").is_none(), "GetStages is not paginated");
}

#[tokio::test]
async fn get_stages_filtered_by_deployment() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, first) = deployed(&client).await;
    let second = create_deployment(&client, &api).await;
    create_stage(&client, &api, "a", &first).await;
    create_stage(&client, &api, "b", &second).await;
    let stages = client
        .get_stages()
        .rest_api_id(&api)
        .deployment_id(&second)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = stages
        .item()
        .iter()
        .filter_map(|s| s.stage_name())
        .collect();
    assert_eq!(names, ["b"]);
}

#[tokio::test]
async fn delete_stage_then_get_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let raw = server.delete(&format!("/restapis/{api}/stages/dev")).await;
    raw.assert_status(202);
    client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid stage identifier specified");
    client
        .delete_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid stage identifier specified");
}

#[tokio::test]
async fn stages_are_scoped_to_their_api() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api_a, _) = with_stage(&client).await;
    let (api_b, deployment_b) = deployed(&client).await;
    // Same stage name in another API is independent.
    create_stage(&client, &api_b, "dev", &deployment_b).await;
    client
        .delete_stage()
        .rest_api_id(&api_b)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    client
        .get_stage()
        .rest_api_id(&api_a)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    // A deployment of API B cannot back a stage of API A.
    client
        .create_stage()
        .rest_api_id(&api_a)
        .stage_name("other")
        .deployment_id(&deployment_b)
        .send()
        .await
        .expect_error("BadRequestException", "Deployment id does not exist");
}

#[tokio::test]
async fn update_stage_nested_resource_path_key() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/~1pets~1{id}/GET/caching/enabled", "true"))
        .send()
        .await
        .unwrap();
    let settings = updated.method_settings().expect("methodSettings");
    assert!(
        settings["~1pets~1{id}/GET"].caching_enabled(),
        "{settings:?}"
    );
}

#[tokio::test]
async fn update_stage_remove_absent_wildcard_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(remove("/*/*"))
        .send()
        .await
        .expect_error_containing(
            "BadRequestException",
            "Cannot remove method setting */* because there is no method setting for this method",
        );
}

#[tokio::test]
async fn update_stage_logging_and_strategy() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/*/*/logging/loglevel", "INFO"))
        .patch_operations(replace("/*/*/logging/dataTrace", "true"))
        .patch_operations(replace(
            "/*/*/caching/unauthorizedCacheControlHeaderStrategy",
            "FAIL_WITH_403",
        ))
        .send()
        .await
        .unwrap();
    let all = &updated.method_settings().unwrap()["*/*"];
    assert_eq!(all.logging_level(), Some("INFO"));
    assert!(all.data_trace_enabled());
    assert_eq!(
        all.unauthorized_cache_control_header_strategy(),
        Some(&UnauthorizedCacheControlHeaderStrategy::FailWith403)
    );
}

#[tokio::test]
async fn update_stage_bad_method_setting_values_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    for (path, value) in [
        ("/*/*/throttling/rateLimit", "fast"),
        ("/*/*/throttling/burstLimit", "1.5"),
        ("/*/*/caching/enabled", "maybe"),
        ("/*/*/logging/loglevel", "LOUD"),
        (
            "/*/*/caching/unauthorizedCacheControlHeaderStrategy",
            "NOPE",
        ),
    ] {
        let error = client
            .update_stage()
            .rest_api_id(&api)
            .stage_name("dev")
            .patch_operations(replace(path, value))
            .send()
            .await
            .api_error();
        assert_eq!(error.status, 400, "{path}={value}: {error:?}");
    }
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert!(stage.method_settings().is_none_or(|m| m.is_empty()));
}

#[tokio::test]
async fn update_stage_access_log_settings() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = with_stage(&client).await;
    let arn = "arn:aws:logs:us-east-1:000000000000:log-group:access";
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/accessLogSettings/destinationArn", arn))
        .patch_operations(replace("/accessLogSettings/format", "$context.requestId"))
        .send()
        .await
        .unwrap();
    let settings = updated.access_log_settings().expect("accessLogSettings");
    assert_eq!(settings.destination_arn(), Some(arn));
    assert_eq!(settings.format(), Some("$context.requestId"));
}

#[tokio::test]
async fn stage_variable_edge_cases_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    // An empty value is not a value.
    client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("empty")
        .deployment_id(&deployment)
        .variables("a", "")
        .send()
        .await
        .expect_error_containing("BadRequestException", "Invalid stage variable value");
    // Names are checked on update too.
    create_stage(&client, &api, "dev", &deployment).await;
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/variables/a-b", "x"))
        .send()
        .await
        .expect_error_containing("BadRequestException", "Invalid stage variable name");
    // And when CreateDeployment creates the stage.
    client
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("viadeploy")
        .variables("ok", "a b<")
        .send()
        .await
        .expect_error_containing("BadRequestException", "Invalid stage variable value");
    client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("viadeploy")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn get_stages_unknown_api_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .get_stages()
        .rest_api_id("nope123456")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn update_stage_bumps_last_updated_date() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, deployment) = deployed(&client).await;
    let created = client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&deployment)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let updated = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/description", "later"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.created_date(), created.created_date());
    assert!(
        updated.last_updated_date().unwrap().secs() > created.last_updated_date().unwrap().secs(),
        "lastUpdatedDate must move forward"
    );
}
