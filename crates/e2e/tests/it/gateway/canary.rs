//! Canary releases: a stage's `canarySettings` send a share of its requests to the canary
//! deployment, with the canary's stage variable overrides, until the canary is promoted.

use std::collections::BTreeMap;

use aws_sdk_apigateway::types::{DeploymentCanarySettings, Op, PatchOperation};

use super::*;

/// Makes GET `/` a MOCK answering `{"version":"<version>","color":"$stageVariables.color",
/// "canary":$context.isCanaryRequest}`
/// (from then on, with `set_version`).
async fn versioned_root(client: &Client, api: &str, root: &str, version: &str) {
    mock_route(client, api, root, "GET", "unused").await;
    set_version(client, api, root, version).await;
}

async fn set_version(client: &Client, api: &str, root: &str, version: &str) {
    client
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(root)
        .http_method("GET")
        .status_code("200")
        .response_templates(
            "application/json",
            format!(
                r#"{{"version":"{version}","color":"$stageVariables.color","canary":$context.isCanaryRequest}}"#
            ),
        )
        .send()
        .await
        .unwrap();
}

/// `(version, color)` of `n` answers of GET /prod/, counted.
async fn tally(invoke: &Invoke, n: usize) -> BTreeMap<(String, String), usize> {
    let mut seen = BTreeMap::new();
    for _ in 0..n {
        let raw = invoke.get("/prod/").await;
        assert_eq!(raw.status, 200, "{}", raw.text());
        let body = raw.json();
        // Until the promotion, only the canary is green.
        assert_eq!(body["canary"], body["color"] == "green", "{body}");
        let key = (
            body["version"].as_str().unwrap().to_owned(),
            body["color"].as_str().unwrap().to_owned(),
        );
        *seen.entry(key).or_default() += 1;
    }
    seen
}

fn pair(version: &str, color: &str) -> (String, String) {
    (version.to_owned(), color.to_owned())
}

#[tokio::test]
async fn a_canary_takes_its_share_with_its_variables_until_promoted() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "canary").await;
    versioned_root(&client, &api, &root, "v1").await;
    deploy_with(&client, &api, "prod", &[("color", "blue")]).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/").await;
    let canary_settings = |percent: f64| {
        DeploymentCanarySettings::builder()
            .percent_traffic(percent)
            .stage_variable_overrides("color", "green")
            .build()
    };
    let canary_deployment = || async {
        client
            .create_deployment()
            .rest_api_id(&api)
            .stage_name("prod")
            .canary_settings(canary_settings(0.0))
            .send()
            .await
            .unwrap()
            .id()
            .unwrap()
            .to_owned()
    };
    let get_stage = || async {
        client
            .get_stage()
            .rest_api_id(&api)
            .stage_name("prod")
            .send()
            .await
            .unwrap()
    };
    // The first canary deployment on a stage without a canary is both the stage's and the
    // canary's (AWS: "both the stage and the canary have the same deploymentId").
    let base = canary_deployment().await;
    let stage = get_stage().await;
    assert_eq!(stage.deployment_id(), Some(base.as_str()));
    assert_eq!(
        stage.canary_settings().unwrap().deployment_id(),
        Some(base.as_str())
    );
    // The next one, version 2, goes to the canary only; the stage keeps its deployment. It
    // also brings a gateway response of its own.
    set_version(&client, &api, &root, "v2").await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .response_templates(
            "application/json",
            r#"{"canary":$context.isCanaryRequest,"color":"$stageVariables.color"}"#,
        )
        .send()
        .await
        .unwrap();
    let canary = canary_deployment().await;
    let stage = get_stage().await;
    assert_eq!(stage.deployment_id(), Some(base.as_str()));
    let settings = stage.canary_settings().unwrap();
    assert_eq!(settings.deployment_id(), Some(canary.as_str()));
    assert_eq!(settings.percent_traffic(), 0.0);
    // As AWS's guide shows it: `useStageCache` is written even when false.
    let raw = server
        .get(&format!("/restapis/{api}/stages/prod"))
        .await
        .json();
    assert_eq!(raw["canarySettings"]["useStageCache"], false, "{raw}");
    assert_eq!(
        settings
            .stage_variable_overrides()
            .unwrap()
            .get("color")
            .map(String::as_str),
        Some("green")
    );

    // 0 %: nothing reaches the canary.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        tally(&invoke, 30).await,
        BTreeMap::from([(pair("v1", "blue"), 30)])
    );

    // 100 %: everything does, with the canary's variables.
    update_stage(
        &client,
        &api,
        vec![replace("/canarySettings/percentTraffic", "100")],
    )
    .await;
    invoke
        .until("GET", "/prod/", |raw| raw.json()["version"] == "v2")
        .await;
    assert_eq!(
        tally(&invoke, 30).await,
        BTreeMap::from([(pair("v2", "green"), 30)])
    );
    // Gateway responses come from the canary's deployment too.
    let missing = invoke.get("/prod/nowhere").await;
    assert_eq!(missing.status, 403);
    assert_eq!(missing.json(), json!({"canary": true, "color": "green"}));

    // 50 %: both, in about equal shares (the bounds are over five standard deviations out).
    update_stage(
        &client,
        &api,
        vec![replace("/canarySettings/percentTraffic", "50")],
    )
    .await;
    // The base deployment answers again only once the split is in force.
    invoke
        .until("GET", "/prod/", |raw| raw.json()["version"] == "v1")
        .await;
    let split = tally(&invoke, 200).await;
    let to_canary = split.get(&pair("v2", "green")).copied().unwrap_or(0);
    let to_base = split.get(&pair("v1", "blue")).copied().unwrap_or(0);
    assert_eq!(to_canary + to_base, 200, "{split:?}");
    assert!((60..=140).contains(&to_canary), "{split:?}");

    // While the stage has a canary, every deployment to it must be a canary one.
    client
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid deployment content specified.Non canary deployment not supported on stage prod because Canary is enabled. Provide CanarySettings in deploymentInput.",
        );

    // Promotion: the canary's deployment becomes the stage's, and the canary goes.
    update_stage(
        &client,
        &api,
        vec![
            PatchOperation::builder()
                .op(Op::Copy)
                .from("/canarySettings/deploymentId")
                .path("/deploymentId")
                .build(),
            PatchOperation::builder()
                .op(Op::Copy)
                .from("/canarySettings/stageVariableOverrides")
                .path("/variables")
                .build(),
            remove("/canarySettings"),
        ],
    )
    .await;
    let stage = get_stage().await;
    assert_eq!(stage.deployment_id(), Some(canary.as_str()));
    assert!(stage.canary_settings().is_none());
    assert_eq!(
        stage.variables().unwrap().get("color").map(String::as_str),
        Some("green")
    );
    // Now the stage's own, so not a canary request (nor the base deployment's, which the
    // split before answered with too).
    let raw = invoke
        .until("GET", "/prod/", |raw| {
            raw.json()["canary"] == false && raw.json()["version"] == "v2"
        })
        .await;
    assert_eq!(
        raw.json(),
        json!({"version": "v2", "color": "green", "canary": false})
    );
    for _ in 0..10 {
        let body = invoke.get("/prod/").await.json();
        assert_eq!(
            body,
            json!({"version": "v2", "color": "green", "canary": false})
        );
    }

    // A canary attached by patches starts on the stage's deployment, and its settings can be
    // changed one by one.
    update_stage(
        &client,
        &api,
        vec![
            replace("/canarySettings/percentTraffic", "100"),
            replace("/canarySettings/useStageCache", "true"),
            replace("/canarySettings/stageVariableOverrides/color", "red"),
        ],
    )
    .await;
    let settings = get_stage().await.canary_settings().cloned().unwrap();
    assert_eq!(settings.deployment_id(), Some(canary.as_str()));
    assert!(settings.use_stage_cache());
    let raw = invoke
        .until("GET", "/prod/", |raw| raw.json()["color"] == "red")
        .await;
    assert_eq!(
        raw.json(),
        json!({"version": "v2", "color": "red", "canary": true})
    );
    update_stage(
        &client,
        &api,
        vec![
            replace("/canarySettings/deploymentId", &base),
            remove("/canarySettings/stageVariableOverrides/color"),
        ],
    )
    .await;
    let raw = invoke
        .until("GET", "/prod/", |raw| raw.json()["version"] == "v1")
        .await;
    assert_eq!(
        raw.json(),
        json!({"version": "v1", "color": "green", "canary": true})
    );
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace("/canarySettings/deploymentId", "nosuch"))
        .send()
        .await
        .expect_error("BadRequestException", "Deployment id does not exist");

    // A canary release needs an existing stage and a share between 0 and 100.
    client
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("nosuch")
        .canary_settings(canary_settings(10.0))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid deployment content specified.Stage nosuch must already be created before making a canary release deployment",
        );
    client
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .canary_settings(canary_settings(150.0))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Canary percentTraffic must be between 0.0 and 100.0",
        );
    let stages = client.get_stages().rest_api_id(&api).send().await.unwrap();
    assert_eq!(stages.item().len(), 1, "no stage was made: {stages:?}");
}
