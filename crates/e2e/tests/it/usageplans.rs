//! CreateUsagePlan / GetUsagePlan(s) / UpdateUsagePlan / DeleteUsagePlan, usage plan keys,
//! the one-plan-per-stage rule, cascades from deleted keys, stages and APIs, tags on plans,
//! GetAccount / UpdateAccount, and all of it across a restart.

use std::collections::HashSet;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{
    ApiStage, Op, PatchOperation, QuotaPeriodType, QuotaSettings, ThrottleSettings,
};
use serde_json::json;

use crate::harness::*;

/// An API with `GET /pets` deployed to stages `prod` and `dev`: `(api id, root id)`.
async fn api_with_stages(client: &Client) -> (String, String) {
    let (api, root, _) = deployable_api(client).await;
    put_method(client, &api, &root, "GET").await;
    put_mock_integration(client, &api, &root, "GET").await;
    let deployment = create_deployment(client, &api).await;
    create_stage(client, &api, "prod", &deployment).await;
    create_stage(client, &api, "dev", &deployment).await;
    (api, root)
}

fn stage(api: &str, name: &str) -> ApiStage {
    ApiStage::builder().api_id(api).stage(name).build()
}

fn throttle(rate: f64, burst: i32) -> ThrottleSettings {
    ThrottleSettings::builder()
        .rate_limit(rate)
        .burst_limit(burst)
        .build()
}

/// `{"op":"remove","path":path,"value":value}`.
fn remove_value(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Remove)
        .path(path)
        .value(value)
        .build()
}

async fn create_plan(client: &Client, name: &str, stages: &[ApiStage]) -> String {
    client
        .create_usage_plan()
        .name(name)
        .set_api_stages(Some(stages.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateUsagePlan {name}: {e:?}"))
        .id()
        .expect("usage plan id")
        .to_owned()
}

async fn create_key(client: &Client, name: &str) -> String {
    client
        .create_api_key()
        .name(name)
        .enabled(true)
        .send()
        .await
        .unwrap()
        .id()
        .expect("api key id")
        .to_owned()
}

async fn join(client: &Client, plan: &str, key: &str) {
    client
        .create_usage_plan_key()
        .usage_plan_id(plan)
        .key_id(key)
        .key_type("API_KEY")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateUsagePlanKey {plan} {key}: {e:?}"));
}

async fn stages_of(client: &Client, plan: &str) -> Vec<(String, String)> {
    client
        .get_usage_plan()
        .usage_plan_id(plan)
        .send()
        .await
        .unwrap()
        .api_stages()
        .iter()
        .map(|s| {
            (
                s.api_id().unwrap_or_default().to_owned(),
                s.stage().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn create_usage_plan_wire_shape() {
    let server = TestServer::start().await;
    let raw = server.post("/usageplans", r#"{"name":"basic"}"#).await;
    raw.assert_status(201);
    let body = raw.json();
    let id = body["id"].as_str().expect("id");
    assert_eq!(id.len(), 6, "usage plan ids have 6 characters: {body}");
    assert_eq!(body["name"], "basic");
    assert_eq!(body["apiStages"], json!([]));
    for absent in ["throttle", "quota", "tags", "description", "productCode"] {
        assert!(body.get(absent).is_none(), "no {absent} on create: {body}");
    }
    let got = server.get(&format!("/usageplans/{id}")).await.json();
    assert_eq!(got["tags"], json!({}));
}

#[tokio::test]
async fn create_usage_plan_with_everything() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = api_with_stages(&client).await;
    let created = client
        .create_usage_plan()
        .name("gold")
        .description("paying customers")
        .api_stages(
            ApiStage::builder()
                .api_id(&api)
                .stage("prod")
                .throttle("/pets/GET", throttle(10.5, 20))
                .throttle("//GET", throttle(1.0, 1))
                .build(),
        )
        .api_stages(stage(&api, "dev"))
        .throttle(throttle(100.0, 200))
        .quota(
            QuotaSettings::builder()
                .limit(5000)
                .offset(10)
                .period(QuotaPeriodType::Month)
                .build(),
        )
        .tags("tier", "gold")
        .send()
        .await
        .unwrap();
    assert_eq!(created.name(), Some("gold"));
    // Tags given at creation come back (only unset ones are left out).
    assert_eq!(
        created.tags(),
        Some(&std::collections::HashMap::from([(
            "tier".to_owned(),
            "gold".to_owned()
        )]))
    );
    let got = client
        .get_usage_plan()
        .usage_plan_id(created.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.description(), Some("paying customers"));
    assert_eq!(got.api_stages().len(), 2);
    let prod = &got.api_stages()[0];
    assert_eq!(prod.stage(), Some("prod"));
    let methods = prod.throttle().expect("method throttles");
    assert_eq!(methods["/pets/GET"].rate_limit(), 10.5);
    assert_eq!(methods["/pets/GET"].burst_limit(), 20);
    assert_eq!(methods["//GET"].burst_limit(), 1);
    assert!(got.api_stages()[1].throttle().is_none());
    let plan_throttle = got.throttle().expect("throttle");
    assert_eq!(
        (plan_throttle.rate_limit(), plan_throttle.burst_limit()),
        (100.0, 200)
    );
    let quota = got.quota().expect("quota");
    assert_eq!(
        (quota.limit(), quota.offset(), quota.period()),
        (5000, 10, Some(&QuotaPeriodType::Month))
    );
    assert_eq!(
        got.tags().and_then(|t| t.get("tier")).map(String::as_str),
        Some("gold")
    );
}

#[tokio::test]
async fn create_usage_plan_is_validated() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = api_with_stages(&client).await;
    let message = client
        .create_usage_plan()
        .name("p")
        .api_stages(stage(&api, "qa"))
        .send()
        .await
        .expect_code("BadRequestException");
    assert!(
        message.starts_with(&format!(
            "Invalid API Stage {{api: {api}, stage: qa}} specified for usageplan "
        )),
        "{message}"
    );
    client
        .create_usage_plan()
        .name("p")
        .api_stages(stage("nope123456", "prod"))
        .send()
        .await
        .expect_error_containing("BadRequestException", "Invalid API Stage {api: nope123456");
    client
        .create_usage_plan()
        .name("p")
        .throttle(throttle(1.0, 1))
        .api_stages(
            ApiStage::builder()
                .api_id(&api)
                .stage("prod")
                .throttle("/cats/GET", throttle(1.0, 1))
                .build(),
        )
        .send()
        .await
        .expect_error_containing("NotFoundException", "Invalid method /cats/GET");
    client
        .create_usage_plan()
        .name("p")
        .api_stages(
            ApiStage::builder()
                .api_id(&api)
                .stage("prod")
                .throttle("/pets/GET", throttle(1.0, 1))
                .build(),
        )
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Can not define fine grain throttling if usage plan throttle is not defined.",
        );
    let raw = server
        .post(
            "/usageplans",
            r#"{"name":"p","quota":{"limit":1,"period":"YEAR"}}"#,
        )
        .await;
    let message = raw.assert_error(400, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value 'YEAR' at 'createUsagePlanInput.quota.period' failed to satisfy constraint: Member must satisfy enum value set: [DAY, WEEK, MONTH]"
    );
    server
        .post("/usageplans", r#"{"description":"no name"}"#)
        .await
        .assert_error(400, "ValidationException");
    assert!(
        client
            .get_usage_plans()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty(),
        "failed creates leave nothing"
    );
}

#[tokio::test]
async fn unknown_usage_plan_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .get_usage_plan()
        .usage_plan_id("nope12")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Usage Plan ID specified");
    client
        .update_usage_plan()
        .usage_plan_id("nope12")
        .patch_operations(replace("/name", "x"))
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Usage Plan ID specified");
    client
        .delete_usage_plan()
        .usage_plan_id("nope12")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Usage Plan ID specified");
    client
        .get_usage_plan_keys()
        .usage_plan_id("nope12")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Usage Plan ID specified");
}

#[tokio::test]
async fn get_usage_plans_pages_and_filters_by_key() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut all = HashSet::new();
    for i in 0..5 {
        all.insert(create_plan(&client, &format!("plan{i}"), &[]).await);
    }
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = client
            .get_usage_plans()
            .limit(2)
            .set_position(position.clone())
            .send()
            .await
            .unwrap();
        sizes.push(page.items().len());
        seen.extend(page.items().iter().map(|p| p.id().unwrap().to_owned()));
        match page.position() {
            Some(next) => position = Some(next.to_owned()),
            None => break,
        }
        assert!(sizes.len() <= 5, "pagination does not end");
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(distinct(seen.iter().map(String::as_str)), all);

    let key = create_key(&client, "k").await;
    let member: Vec<&String> = all.iter().take(2).collect();
    for plan in &member {
        join(&client, plan, &key).await;
    }
    let of_key = client.get_usage_plans().key_id(&key).send().await.unwrap();
    let ids: HashSet<String> = of_key
        .items()
        .iter()
        .map(|p| p.id().unwrap().to_owned())
        .collect();
    assert_eq!(ids, member.into_iter().cloned().collect());
}

#[tokio::test]
async fn update_usage_plan_operations() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = api_with_stages(&client).await;
    let plan = create_plan(&client, "before", &[stage(&api, "prod")]).await;
    let updated = client
        .update_usage_plan()
        .usage_plan_id(&plan)
        .patch_operations(replace("/name", "after"))
        .patch_operations(replace("/description", "described"))
        .patch_operations(replace("/productCode", "prod-code"))
        .patch_operations(replace("/throttle/rateLimit", "50.5"))
        .patch_operations(replace("/throttle/burstLimit", "100"))
        .patch_operations(replace("/quota/limit", "1000"))
        .patch_operations(replace("/quota/offset", "5"))
        .patch_operations(replace("/quota/period", "WEEK"))
        .patch_operations(add("/apiStages", &format!("{api}:dev")))
        .patch_operations(replace(
            &format!("/apiStages/{api}:prod/throttle/~1pets/GET/rateLimit"),
            "5",
        ))
        .patch_operations(replace(
            &format!("/apiStages/{api}:prod/throttle/~1pets/GET/burstLimit"),
            "7",
        ))
        .patch_operations(replace(
            &format!("/apiStages/{api}:prod/throttle/~1/GET/rateLimit"),
            "2",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("after"));
    assert_eq!(updated.description(), Some("described"));
    assert_eq!(updated.product_code(), Some("prod-code"));
    let t = updated.throttle().expect("throttle");
    assert_eq!((t.rate_limit(), t.burst_limit()), (50.5, 100));
    let q = updated.quota().expect("quota");
    assert_eq!(
        (q.limit(), q.offset(), q.period()),
        (1000, 5, Some(&QuotaPeriodType::Week))
    );
    assert_eq!(updated.api_stages().len(), 2);
    let methods = updated.api_stages()[0]
        .throttle()
        .expect("method throttles");
    assert_eq!(methods["/pets/GET"].rate_limit(), 5.0);
    assert_eq!(methods["/pets/GET"].burst_limit(), 7);
    assert_eq!(methods["//GET"].rate_limit(), 2.0);
    assert_eq!(updated.tags().map(|t| t.len()), Some(0));

    // The whole map of a stage at once, then method and stage removals.
    let updated = client
        .update_usage_plan()
        .usage_plan_id(&plan)
        .patch_operations(replace(
            &format!("/apiStages/{api}:dev/throttle"),
            r#"{"/pets/GET":{"rateLimit":3.0,"burstLimit":4}}"#,
        ))
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Remove)
                .path(format!("/apiStages/{api}:prod/throttle/~1pets/GET"))
                .build(),
        )
        .patch_operations(remove_value("/apiStages", &format!("{api}:prod")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.api_stages().len(), 1);
    assert_eq!(updated.api_stages()[0].stage(), Some("dev"));
    assert_eq!(
        updated.api_stages()[0]
            .throttle()
            .map(|t| t["/pets/GET"].burst_limit()),
        Some(4)
    );

    let cleared = client
        .update_usage_plan()
        .usage_plan_id(&plan)
        .patch_operations(remove(&format!("/apiStages/{api}:dev/throttle")))
        .patch_operations(remove("/throttle"))
        .patch_operations(remove("/quota"))
        .patch_operations(remove("/productCode"))
        .send()
        .await
        .unwrap();
    assert!(cleared.throttle().is_none() && cleared.quota().is_none());
    assert!(cleared.product_code().is_none());
    let got = client
        .get_usage_plan()
        .usage_plan_id(&plan)
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), Some("after"));
    assert!(got.throttle().is_none());
}

#[tokio::test]
async fn update_usage_plan_errors_are_aws_shaped() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = api_with_stages(&client).await;
    let plan = create_plan(&client, "p", &[stage(&api, "prod")]).await;
    let update = |op: PatchOperation| {
        client
            .update_usage_plan()
            .usage_plan_id(&plan)
            .patch_operations(op)
            .send()
    };
    update(remove(&format!("/apiStages/{api}:prod")))
        .await
        .expect_error(
            "BadRequestException",
            &format!("Invalid patch path  '/apiStages/{api}:prod' specified for op 'remove'. Must be one of: [/apiStages, /quota, /throttle, /productCode, /apiStages/<apidId:stageName>/throttle/<resourcePath>/<httpMethod>, /apiStages/<apidId:stageName>/throttle]"),
        );
    update(remove("/apiStages"))
        .await
        .expect_error("BadRequestException", "Invalid API Stage specified");
    update(remove_value("/apiStages", &format!("{api}:dev")))
        .await
        .expect_error(
            "NotFoundException",
            &format!("Invalid API Stage {{api: {api}, stage: dev}} specified for usageplan {plan}"),
        );
    update(add("/apiStages", &format!("{api}:qa")))
        .await
        .expect_error(
            "NotFoundException",
            &format!("Invalid API Stage {{api: {api}, stage: qa}} specified for usageplan {plan}"),
        );
    update(replace(
        &format!("/apiStages/{api}:prod/throttle/~1pets/GET/rateLimit"),
        "1",
    ))
    .await
    .expect_error(
        "BadRequestException",
        "Can not define fine grain throttling if usage plan throttle is not defined.",
    );
    update(replace("/quota/period", "YEAR"))
        .await
        .expect_code("BadRequestException");
    update(add("/name", "x")).await.expect_error(
        "BadRequestException",
        "Invalid patch path  '/name' specified for op 'add'. Must be one of: [/apiStages]",
    );
    assert_eq!(
        stages_of(&client, &plan).await,
        [(api.clone(), "prod".to_owned())],
        "failed updates change nothing"
    );
}

#[tokio::test]
async fn delete_usage_plan_needs_its_stages_removed() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = api_with_stages(&client).await;
    let plan = create_plan(&client, "p", &[stage(&api, "prod")]).await;
    let key = create_key(&client, "k").await;
    join(&client, &plan, &key).await;
    client
        .delete_usage_plan()
        .usage_plan_id(&plan)
        .send()
        .await
        .expect_error(
            "BadRequestException",
            &format!("Cannot delete Usage Plan {plan} because there are API Stages associated with it, including {api}:prod"),
        );
    client
        .update_usage_plan()
        .usage_plan_id(&plan)
        .patch_operations(remove_value("/apiStages", &format!("{api}:prod")))
        .send()
        .await
        .unwrap();
    server
        .delete(&format!("/usageplans/{plan}"))
        .await
        .assert_status(202);
    client
        .get_usage_plan()
        .usage_plan_id(&plan)
        .send()
        .await
        .expect_code("NotFoundException");
    // The key stays, in no plan.
    client.get_api_key().api_key(&key).send().await.unwrap();
    let plans = client.get_usage_plans().key_id(&key).send().await.unwrap();
    assert!(plans.items().is_empty());
}

#[tokio::test]
async fn usage_plan_keys_lifecycle() {
    let server = TestServer::start().await;
    let client = server.client();
    let plan = create_plan(&client, "p", &[]).await;
    let mut keys = Vec::new();
    for name in ["alpha", "alphabet", "beta"] {
        keys.push(create_key(&client, name).await);
    }
    let raw = server
        .post(
            &format!("/usageplans/{plan}/keys"),
            &format!(r#"{{"keyId":"{}","keyType":"API_KEY"}}"#, keys[0]),
        )
        .await;
    raw.assert_status(201);
    let body = raw.json();
    assert_eq!(body["id"].as_str(), Some(keys[0].as_str()));
    assert_eq!(body["type"], "API_KEY");
    assert_eq!(body["name"], "alpha");
    assert_eq!(body["value"].as_str().map(str::len), Some(40));
    for key in &keys[1..] {
        join(&client, &plan, key).await;
    }

    let got = client
        .get_usage_plan_key()
        .usage_plan_id(&plan)
        .key_id(&keys[1])
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), Some("alphabet"));
    assert_eq!(got.r#type(), Some("API_KEY"));

    let first = client
        .get_usage_plan_keys()
        .usage_plan_id(&plan)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.items().len(), 2);
    let rest = client
        .get_usage_plan_keys()
        .usage_plan_id(&plan)
        .limit(2)
        .position(first.position().expect("a second page"))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items().len(), 1);
    assert!(rest.position().is_none());
    let named = client
        .get_usage_plan_keys()
        .usage_plan_id(&plan)
        .name_query("alpha")
        .send()
        .await
        .unwrap();
    assert_eq!(named.items().len(), 2);

    client
        .create_usage_plan_key()
        .usage_plan_id(&plan)
        .key_id(&keys[0])
        .key_type("API_KEY")
        .send()
        .await
        .expect_code("ConflictException");
    client
        .create_usage_plan_key()
        .usage_plan_id(&plan)
        .key_id("nope123456")
        .key_type("API_KEY")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid API Key identifier specified");
    client
        .create_usage_plan_key()
        .usage_plan_id(&plan)
        .key_id(&keys[0])
        .key_type("COGNITO")
        .send()
        .await
        .expect_code("BadRequestException");

    server
        .delete(&format!("/usageplans/{plan}/keys/{}", keys[2]))
        .await
        .assert_status(202);
    client
        .get_usage_plan_key()
        .usage_plan_id(&plan)
        .key_id(&keys[2])
        .send()
        .await
        .expect_error("NotFoundException", "Invalid API Key identifier specified");
    client
        .delete_usage_plan_key()
        .usage_plan_id(&plan)
        .key_id(&keys[2])
        .send()
        .await
        .expect_code("NotFoundException");
    // The key itself remains.
    client.get_api_key().api_key(&keys[2]).send().await.unwrap();
}

#[tokio::test]
async fn one_plan_per_key_and_stage() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = api_with_stages(&client).await;
    let prod = create_plan(&client, "prod", &[stage(&api, "prod")]).await;
    let prod_too = create_plan(&client, "prod too", &[stage(&api, "prod")]).await;
    let dev = create_plan(&client, "dev", &[stage(&api, "dev")]).await;
    let key = create_key(&client, "k").await;
    join(&client, &prod, &key).await;
    client
        .create_usage_plan_key()
        .usage_plan_id(&prod_too)
        .key_id(&key)
        .key_type("API_KEY")
        .send()
        .await
        .expect_error(
            "ConflictException",
            &format!("Usage Plan {prod_too} cannot be added because API Key {key} cannot reference multiple Usage Plans with the same API Stage: {api}:prod"),
        );
    // Another stage is fine: a key may be in many plans.
    join(&client, &dev, &key).await;
    // But the dev plan may not take prod while the key is in both.
    client
        .update_usage_plan()
        .usage_plan_id(&dev)
        .patch_operations(add("/apiStages", &format!("{api}:prod")))
        .send()
        .await
        .expect_code("ConflictException");
    assert_eq!(
        stages_of(&client, &dev).await,
        [(api.clone(), "dev".to_owned())]
    );
}

#[tokio::test]
async fn deletions_cascade_into_plans() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = api_with_stages(&client).await;
    let (other_api, _) = api_with_stages(&client).await;
    let plan = create_plan(
        &client,
        "p",
        &[
            stage(&api, "prod"),
            stage(&api, "dev"),
            stage(&other_api, "prod"),
        ],
    )
    .await;
    let key = create_key(&client, "k").await;
    join(&client, &plan, &key).await;

    // Deleting a key takes it out of its plans.
    client.delete_api_key().api_key(&key).send().await.unwrap();
    let members = client
        .get_usage_plan_keys()
        .usage_plan_id(&plan)
        .send()
        .await
        .unwrap();
    assert!(members.items().is_empty());

    // Deleting a stage takes it out of the plans; a new stage of that name is not added back.
    client
        .delete_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stages_of(&client, &plan).await,
        [
            (api.clone(), "prod".to_owned()),
            (other_api.clone(), "prod".to_owned())
        ]
    );
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "dev", &deployment).await;
    assert_eq!(stages_of(&client, &plan).await.len(), 2);

    // Deleting an API takes all its stages out.
    client
        .delete_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stages_of(&client, &plan).await,
        [(other_api.clone(), "prod".to_owned())]
    );
}

#[tokio::test]
async fn tag_usage_plan() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = client
        .create_usage_plan()
        .name("tagged")
        .tags("born", "yes")
        .send()
        .await
        .unwrap();
    let id = created.id().unwrap();
    let arn = format!("arn:aws:apigateway:{REGION}::/usageplans/{id}");
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("tier", "gold")
        .send()
        .await
        .unwrap();
    let tags = client.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().map(|t| t.len()), Some(2));
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("born")
        .send()
        .await
        .unwrap();
    let got = client
        .get_usage_plan()
        .usage_plan_id(id)
        .send()
        .await
        .unwrap();
    let tags = got.tags().cloned().unwrap_or_default();
    assert_eq!(tags.get("tier").map(String::as_str), Some("gold"));
    assert!(!tags.contains_key("born"));
}

#[tokio::test]
async fn account_settings() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = client.get_account().send().await.unwrap();
    let throttle = account.throttle_settings().expect("throttleSettings");
    assert_eq!(
        (throttle.rate_limit(), throttle.burst_limit()),
        (10000.0, 5000)
    );
    assert_eq!(account.features(), ["UsagePlans"]);
    assert_eq!(account.api_key_version(), Some("4"));
    assert!(account.cloudwatch_role_arn().is_none());

    let role = "arn:aws:iam::123456789012:role/apigw-logs";
    let updated = client
        .update_account()
        .patch_operations(replace("/cloudwatchRoleArn", role))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.cloudwatch_role_arn(), Some(role));
    let again = client.get_account().send().await.unwrap();
    assert_eq!(again.cloudwatch_role_arn(), Some(role));

    client
        .update_account()
        .patch_operations(replace("/throttleSettings/rateLimit", "1"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch path  '/throttleSettings/rateLimit' specified for op 'replace'. Must be one of: [/cloudwatchRoleArn]",
        );
    client
        .update_account()
        .patch_operations(replace("/cloudwatchRoleArn", "not-an-arn"))
        .send()
        .await
        .expect_code("BadRequestException");
    client
        .update_account()
        .patch_operations(add("/features", "UsagePlans"))
        .send()
        .await
        .unwrap();
    let raw = server.get("/account").await;
    raw.assert_status(200);
    assert_eq!(
        raw.json()["throttleSettings"],
        json!({"burstLimit": 5000, "rateLimit": 10000.0})
    );
}

#[tokio::test]
async fn keys_plans_and_account_survive_restart() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let (api, _) = api_with_stages(&client).await;
    let key = client
        .create_api_key()
        .name("kept")
        .value("kept-value-0123456789")
        .enabled(true)
        .tags("a", "b")
        .send()
        .await
        .unwrap();
    let key = key.id().unwrap().to_owned();
    let plan = client
        .create_usage_plan()
        .name("kept")
        .api_stages(
            ApiStage::builder()
                .api_id(&api)
                .stage("prod")
                .throttle("/pets/GET", throttle(3.0, 4))
                .build(),
        )
        .throttle(throttle(10.0, 20))
        .quota(
            QuotaSettings::builder()
                .limit(100)
                .period(QuotaPeriodType::Day)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan = plan.id().unwrap().to_owned();
    join(&client, &plan, &key).await;
    let gone = create_key(&client, "gone").await;
    client.delete_api_key().api_key(&gone).send().await.unwrap();
    client
        .update_account()
        .patch_operations(replace(
            "/cloudwatchRoleArn",
            "arn:aws:iam::123456789012:role/logs",
        ))
        .send()
        .await
        .unwrap();

    let paths = [
        format!("/apikeys/{key}?includeValue=true"),
        "/apikeys".to_owned(),
        format!("/usageplans/{plan}"),
        "/usageplans".to_owned(),
        format!("/usageplans/{plan}/keys"),
        "/account".to_owned(),
    ];
    let mut before = Vec::new();
    for path in &paths {
        before.push(server.get(path).await.json());
    }
    server.restart().await;
    for (path, expected) in paths.iter().zip(&before) {
        let after = server.get(path).await;
        after.assert_status(200);
        assert_eq!(&after.json(), expected, "GET {path} changed across restart");
    }
    let client = server.client();
    client
        .get_api_key()
        .api_key(&gone)
        .send()
        .await
        .expect_code("NotFoundException");
    // The rules still hold: the value is still taken.
    client
        .create_api_key()
        .value("kept-value-0123456789")
        .send()
        .await
        .expect_error("ConflictException", "API Key already exists");
}
