//! Snapshot tests of the JSON shapes: what the SDKs parse must not drift unnoticed.

use std::collections::BTreeMap;

use causeway_model as m;

use super::*;
use crate::output::*;

fn api() -> m::RestApi {
    m::RestApi {
        id: "a1b2c3d4e5".into(),
        name: "pets".into(),
        description: None,
        created_date: 1_700_000_000,
        version: None,
        binary_media_types: vec![],
        minimum_compression_size: None,
        api_key_source: m::ApiKeySource::Header,
        endpoint_configuration: m::EndpointConfiguration {
            types: vec![m::EndpointType::Edge],
            ip_address_type: "ipv4".into(),
            vpc_endpoint_ids: vec![],
        },
        policy: None,
        tags: BTreeMap::new(),
        disable_execute_api_endpoint: false,
        root_resource_id: "r00tr00t00".into(),
        security_policy: None,
        endpoint_access_mode: None,
    }
}

fn method() -> m::Method {
    m::Method {
        http_method: m::HttpMethod::Any,
        authorization_type: m::AuthorizationType::None,
        authorizer_id: None,
        api_key_required: false,
        request_validator_id: None,
        operation_name: None,
        request_parameters: BTreeMap::from([("method.request.path.proxy".into(), true)]),
        request_models: BTreeMap::new(),
        method_responses: BTreeMap::new(),
        integration: Some(m::Integration {
            kind: m::IntegrationType::HttpProxy,
            http_method: Some(m::HttpMethod::Any),
            uri: Some("http://${stageVariables.VPCNLB}/{proxy}".into()),
            connection_type: Some(m::ConnectionType::VpcLink),
            connection_id: Some("${stageVariables.VPCLINK}".into()),
            credentials: None,
            request_parameters: BTreeMap::from([(
                "integration.request.path.proxy".into(),
                "method.request.path.proxy".into(),
            )]),
            request_templates: BTreeMap::new(),
            passthrough_behavior: Some(m::PassthroughBehavior::WhenNoMatch),
            content_handling: None,
            timeout_in_millis: 29000,
            cache_namespace: "abc123".into(),
            cache_key_parameters: vec![],
            integration_responses: BTreeMap::new(),
            tls_config: None,
            response_transfer_mode: None,
            integration_target: None,
        }),
        authorization_scopes: vec![],
    }
}

#[test]
fn rest_api_on_create_omits_tags() {
    insta::assert_json_snapshot!(RestApi::from_model(&api(), TagsField::IfAny));
}

#[test]
fn rest_api_on_get_has_empty_tags() {
    let value =
        serde_json::to_value(RestApi::from_model(&api(), TagsField::Include)).unwrap_or_default();
    assert_eq!(value["tags"], serde_json::json!({}));
}

#[test]
fn resources_with_and_without_embed() {
    let resource = m::Resource {
        id: "abc123".into(),
        parent_id: Some("r00tr00t00".into()),
        path_part: "{proxy+}".into(),
        methods: BTreeMap::from([("ANY".into(), method())]),
        seq: 1,
    };
    let root = m::Resource {
        id: "r00tr00t00".into(),
        parent_id: None,
        path_part: String::new(),
        methods: BTreeMap::new(),
        seq: 0,
    };
    let page = Page {
        item: vec![
            Resource::from_model(&root, "/".into(), ResourceView::MethodNames),
            Resource::from_model(&resource, "/{proxy+}".into(), ResourceView::MethodNames),
        ],
        position: Some("next".into()),
    };
    insta::assert_json_snapshot!("resources_names", page);
    insta::assert_json_snapshot!(
        "resource_embedded",
        Resource::from_model(&resource, "/{proxy+}".into(), ResourceView::EmbedMethods)
    );
}

#[test]
fn stage_with_method_settings() {
    let stage = m::Stage {
        stage_name: "prod".into(),
        deployment_id: "dep123".into(),
        description: None,
        client_certificate_id: None,
        cache_cluster_enabled: false,
        cache_cluster_size: None,
        cache_cluster_status: m::CacheClusterStatus::NotAvailable,
        method_settings: BTreeMap::from([("*/*".into(), m::MethodSetting::default())]),
        variables: BTreeMap::from([("VPCLINK".into(), "abc123".into())]),
        documentation_version: None,
        access_log_settings: None,
        canary_settings: None,
        tracing_enabled: false,
        web_acl_arn: None,
        tags: BTreeMap::new(),
        created_date: 1_700_000_000,
        last_updated_date: 1_700_000_001,
        cache_flushes: 0,
        authorizer_flushes: 0,
    };
    insta::assert_json_snapshot!(Stage::from_model(&stage));
}

#[test]
fn vpc_link_and_gateway_response() {
    let link = m::VpcLink {
        id: "gim7c3".into(),
        name: "link".into(),
        description: None,
        target_arns: vec!["arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/n/0123456789abcdef".into()],
        status: m::VpcLinkStatus::Pending,
        status_message: None,
        tags: BTreeMap::new(),
        created_date: 0,
    };
    insta::assert_json_snapshot!(
        "vpc_link_create",
        VpcLink::from_model(&link, TagsField::IfAny)
    );
    let response =
        causeway_model::gateway_responses::effective_default("MISSING_AUTHENTICATION_TOKEN", &[]);
    insta::assert_json_snapshot!(
        "gateway_response_default",
        response.as_ref().map(GatewayResponse::from_model)
    );
}

#[test]
fn errors_and_decoding() {
    let error = m::ApiError::not_found("Invalid API identifier specified 000000000000:nope");
    assert_eq!(
        String::from_utf8_lossy(&error_body(&error)),
        r#"{"message":"Invalid API identifier specified 000000000000:nope"}"#
    );
    let unknown = decode::<input::CreateRestApi>(br#"{"name":"a","bogus":1}"#).err();
    assert!(
        unknown
            .is_some_and(|e| e.code() == "SerializationException" && e.message().contains("bogus"))
    );
    let wrong_type = decode::<input::CreateRestApi>(br#"{"name":5}"#).err();
    assert!(wrong_type.is_some_and(|e| e.message().contains("invalid type")));
    let broken = decode::<input::CreateRestApi>(b"{\"name\":").err();
    assert!(broken.is_some_and(|e| {
        e.message()
            .starts_with("The request body is not valid JSON")
    }));
    assert!(decode::<input::CreateRestApi>(b"").is_ok());
    let integration: Option<input::PutIntegration> =
        decode(br#"{"type":"HTTP_PROXY","httpMethod":"ANY","uri":"http://x"}"#).ok();
    assert_eq!(
        integration.and_then(|i| i.http_method).as_deref(),
        Some("ANY")
    );
}

fn api_key() -> m::usage::ApiKey {
    m::usage::ApiKey {
        id: "4vq3yryqm5".into(),
        value: "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd".into(),
        name: Some("partner".into()),
        customer_id: None,
        description: Some("for the partner".into()),
        enabled: false,
        created_date: 1_700_000_000,
        last_updated_date: 1_700_000_005,
        stage_keys: vec![],
        tags: BTreeMap::new(),
    }
}

#[test]
fn api_key_shapes() {
    insta::assert_json_snapshot!(
        "api_key_create",
        ApiKey::from_model(&api_key(), ValueField::Include, TagsField::IfAny)
    );
    insta::assert_json_snapshot!(
        "api_key_get",
        ApiKey::from_model(&api_key(), ValueField::Omit, TagsField::Include)
    );
    insta::assert_json_snapshot!("usage_plan_key", UsagePlanKey::from_model(&api_key()));
    insta::assert_json_snapshot!(
        "api_key_ids",
        ApiKeyIds {
            ids: vec!["4vq3yryqm5".into()],
            warnings: vec!["Line 3: API Key value should be at least 20 characters".into()],
        }
    );
}

#[test]
fn usage_plan_shapes() {
    let mut plan = m::usage::UsagePlan {
        id: "n371pt".into(),
        name: "gold".into(),
        description: None,
        api_stages: vec![m::usage::ApiStage {
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            throttle: BTreeMap::new(),
        }],
        throttle: None,
        quota: None,
        product_code: None,
        tags: BTreeMap::new(),
        created_date: 0,
    };
    insta::assert_json_snapshot!(
        "usage_plan_minimal",
        UsagePlan::from_model(&plan, TagsField::IfAny)
    );
    plan.description = Some("paying customers".into());
    plan.throttle = Some(m::usage::ThrottleSettings {
        burst_limit: 200,
        rate_limit: 100.0,
    });
    plan.quota = Some(m::usage::QuotaSettings {
        limit: 5000,
        offset: 10,
        period: m::QuotaPeriod::Month,
    });
    plan.api_stages[0].throttle.insert(
        "/pets/GET".into(),
        m::usage::ThrottleSettings {
            burst_limit: 20,
            rate_limit: 10.5,
        },
    );
    plan.api_stages[0].throttle.insert(
        "//GET".into(),
        m::usage::ThrottleSettings {
            burst_limit: 1,
            rate_limit: 1.0,
        },
    );
    insta::assert_json_snapshot!(
        "usage_plan_full",
        UsagePlan::from_model(&plan, TagsField::Include)
    );
    insta::assert_json_snapshot!(
        "account",
        Account::from_model(
            &m::usage::Account {
                cloudwatch_role_arn: Some("arn:aws:iam::123456789012:role/apigw-logs".into()),
            },
            m::usage::ThrottleSettings {
                burst_limit: 5000,
                rate_limit: 10000.0,
            },
        )
    );
}

#[test]
fn usage_inputs_decode() {
    let plan: Option<input::CreateUsagePlan> = decode(
        br#"{"name":"p","apiStages":[{"apiId":"a","stage":"s","throttle":{"/pets/GET":{"burstLimit":1,"rateLimit":2.5}}}],"throttle":{"burstLimit":10,"rateLimit":5},"quota":{"limit":100,"offset":0,"period":"DAY"},"tags":{"k":"v"}}"#,
    )
    .ok();
    let stage_throttle = plan
        .as_ref()
        .and_then(|p| p.api_stages.as_ref())
        .and_then(|s| s[0].throttle.as_ref())
        .and_then(|t| t.get("/pets/GET"))
        .and_then(|t| t.rate_limit);
    assert_eq!(stage_throttle, Some(2.5));
    let key: Option<input::CreateApiKey> = decode(
        br#"{"name":"k","enabled":true,"generateDistinctId":true,"stageKeys":[{"restApiId":"a","stageName":"s"}]}"#,
    )
    .ok();
    assert_eq!(key.and_then(|k| k.stage_keys).map(|s| s.len()), Some(1));
    assert!(
        decode::<input::CreateUsagePlanKey>(br#"{"keyId":"k","keyType":"API_KEY","x":1}"#).is_err()
    );
}
