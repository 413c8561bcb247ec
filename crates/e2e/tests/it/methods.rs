//! Methods, method responses, integrations and integration responses.

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{ConnectionType, IntegrationType, ResponseTransferMode};

use crate::harness::*;

/// An API with a `/pets` resource and nothing else: `(api, pets)`.
async fn api_with_pets(client: &Client) -> (String, String) {
    let (api, root) = create_api(client, "methods").await;
    let pets = create_resource(client, &api, &root, "pets").await;
    (api, pets)
}

// ---------------------------------------------------------------------------------------------
// Methods

#[tokio::test]
async fn put_method_returns_method() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    let method = client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .authorization_type("NONE")
        .request_parameters("method.request.querystring.page", false)
        .send()
        .await
        .unwrap();
    assert_eq!(method.http_method(), Some("GET"));
    assert_eq!(method.authorization_type(), Some("NONE"));
    assert_eq!(method.api_key_required(), Some(false));
    assert_eq!(
        method
            .request_parameters()
            .unwrap()
            .get("method.request.querystring.page"),
        Some(&false)
    );
    assert!(method.method_integration().is_none());
}

#[tokio::test]
async fn put_method_wire_shape() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    let raw = server
        .put(
            &format!("/restapis/{api}/resources/{pets}/methods/GET"),
            r#"{"authorizationType":"NONE"}"#,
        )
        .await;
    raw.assert_status(201);
    let body = raw.json();
    assert_eq!(body["httpMethod"], "GET");
    assert_eq!(body["authorizationType"], "NONE");
    assert_eq!(body["apiKeyRequired"], false);
}

#[tokio::test]
async fn put_method_any_accepted() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "ANY").await;
    let got = client
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(got.http_method(), Some("ANY"));
}

#[tokio::test]
async fn put_method_twice_conflicts() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
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
}

#[tokio::test]
async fn put_method_invalid_http_method_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("FOO")
        .authorization_type("NONE")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
        );
}

#[tokio::test]
async fn put_method_unknown_resource_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = api_with_pets(&client).await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id("nope00")
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
}

#[tokio::test]
async fn method_ops_under_unknown_api_report_resource() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .put_method()
        .rest_api_id("nope123456")
        .resource_id("nope00")
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
    client
        .get_method()
        .rest_api_id("nope123456")
        .resource_id("nope00")
        .http_method("GET")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
    client
        .get_integration()
        .rest_api_id("nope123456")
        .resource_id("nope00")
        .http_method("GET")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
}

#[tokio::test]
async fn get_method_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    client
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Method identifier specified");
}

#[tokio::test]
async fn update_method_api_key_required() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    let updated = client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(replace("/apiKeyRequired", "true"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.api_key_required(), Some(true));
    let got = client
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(got.api_key_required(), Some(true));
}

#[tokio::test]
async fn update_method_request_parameters() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    let updated = client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(add(
            "/requestParameters/method.request.querystring.q",
            "true",
        ))
        .patch_operations(add(
            "/requestParameters/method.request.header.X-Id",
            "false",
        ))
        .send()
        .await
        .unwrap();
    let params = updated.request_parameters().expect("requestParameters");
    assert_eq!(params.get("method.request.querystring.q"), Some(&true));
    assert_eq!(params.get("method.request.header.X-Id"), Some(&false));

    let removed = client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(remove("/requestParameters/method.request.header.X-Id"))
        .send()
        .await
        .unwrap();
    let params = removed.request_parameters().expect("requestParameters");
    assert_eq!(params.len(), 1);
    assert_eq!(params.get("method.request.querystring.q"), Some(&true));
}

#[tokio::test]
async fn update_method_add_on_replace_only_path_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(add("/apiKeyRequired", "true"))
        .send()
        .await
        .expect_error_containing("BadRequestException", "Invalid patch operation specified");
}

#[tokio::test]
async fn update_method_invalid_path_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(replace("/httpMethod", "POST"))
        .send()
        .await
        .expect_error_containing("BadRequestException", "Invalid patch path");
}

#[tokio::test]
async fn delete_method_then_get_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .delete_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    client
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Method identifier specified");
    // The method can be created again.
    put_method(&client, &api, &pets, "GET").await;
}

#[tokio::test]
async fn delete_method_removes_its_integration() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    put_mock_integration(&client, &api, &pets, "GET").await;
    client
        .delete_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    put_method(&client, &api, &pets, "GET").await;
    client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Integration identifier specified",
        );
}

#[tokio::test]
async fn get_method_includes_responses_and_integration() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    put_mock_integration(&client, &api, &pets, "GET").await;
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    let got = client
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    let responses = got.method_responses().expect("methodResponses");
    assert_eq!(responses["200"].status_code(), Some("200"));
    let integration = got.method_integration().expect("methodIntegration");
    assert_eq!(integration.r#type(), Some(&IntegrationType::Mock));
    let integration_responses = integration
        .integration_responses()
        .expect("integrationResponses");
    assert_eq!(integration_responses["200"].status_code(), Some("200"));
}

// ---------------------------------------------------------------------------------------------
// Method responses

/// `/pets` GET with a 200 method response declaring `X-Bar` (optional).
async fn method_with_response(client: &Client) -> (String, String) {
    let (api, pets) = api_with_pets(client).await;
    put_method(client, &api, &pets, "GET").await;
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .response_parameters("method.response.header.X-Bar", false)
        .response_models("application/json", "Empty")
        .send()
        .await
        .unwrap();
    (api, pets)
}

#[tokio::test]
async fn method_response_put_and_get() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = method_with_response(&client).await;
    let got = client
        .get_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status_code(), Some("200"));
    assert_eq!(
        got.response_parameters()
            .unwrap()
            .get("method.response.header.X-Bar"),
        Some(&false)
    );
    assert_eq!(
        got.response_models().unwrap().get("application/json"),
        Some(&"Empty".to_owned())
    );
}

#[tokio::test]
async fn method_response_update_adds_header() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = method_with_response(&client).await;
    let updated = client
        .update_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .patch_operations(add(
            "/responseParameters/method.response.header.X-Foo",
            "true",
        ))
        .send()
        .await
        .unwrap();
    let params = updated.response_parameters().unwrap();
    assert_eq!(params.get("method.response.header.X-Foo"), Some(&true));
    assert_eq!(params.get("method.response.header.X-Bar"), Some(&false));
    let got = client
        .get_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.response_parameters()
            .unwrap()
            .get("method.response.header.X-Foo"),
        Some(&true)
    );
}

#[tokio::test]
async fn method_response_remove_absent_parameter_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = method_with_response(&client).await;
    client
        .update_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .patch_operations(remove("/responseParameters/method.response.header.X-None"))
        .send()
        .await
        .expect_error("NotFoundException", "Invalid parameter name specified");
}

#[tokio::test]
async fn method_response_delete_then_get_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = method_with_response(&client).await;
    client
        .delete_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    client
        .get_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Response status code specified",
        );
}

#[tokio::test]
async fn method_response_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = method_with_response(&client).await;
    client
        .get_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("404")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Response status code specified",
        );
}

#[tokio::test]
async fn method_response_on_missing_method_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Method identifier specified");
}

// ---------------------------------------------------------------------------------------------
// Integrations

#[tokio::test]
async fn put_integration_http_proxy_vpc_link_defaults() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "ANY").await;
    let integration = client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("ANY")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .uri("http://nlb.internal:8080/{proxy}")
        .connection_type(ConnectionType::VpcLink)
        .connection_id("${stageVariables.VPCLINK}")
        .send()
        .await
        .unwrap();
    assert_eq!(integration.r#type(), Some(&IntegrationType::HttpProxy));
    assert_eq!(integration.http_method(), Some("ANY"));
    assert_eq!(integration.uri(), Some("http://nlb.internal:8080/{proxy}"));
    assert_eq!(
        integration.connection_type(),
        Some(&ConnectionType::VpcLink)
    );
    assert_eq!(
        integration.connection_id(),
        Some("${stageVariables.VPCLINK}")
    );
    assert_eq!(integration.passthrough_behavior(), Some("WHEN_NO_MATCH"));
    assert_eq!(integration.timeout_in_millis(), 29000);
    assert_eq!(integration.cache_namespace(), Some(pets.as_str()));
    assert!(integration.cache_key_parameters().is_empty());

    let got = client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(got.uri(), integration.uri());
    assert_eq!(got.connection_id(), integration.connection_id());
    assert_eq!(got.connection_type(), integration.connection_type());
    assert_eq!(got.cache_namespace(), Some(pets.as_str()));
}

#[tokio::test]
async fn put_integration_wire_defaults_and_http_method_key() {
    // The wire key of integrationHttpMethod is "httpMethod"; defaults are explicit members.
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    let raw = server
        .put(
            &format!("/restapis/{api}/resources/{pets}/methods/GET/integration"),
            r#"{"type":"HTTP","httpMethod":"POST","uri":"http://example.com/pets"}"#,
        )
        .await;
    raw.assert_status(201);
    let body = raw.json();
    assert_eq!(body["type"], "HTTP");
    assert_eq!(body["httpMethod"], "POST");
    assert_eq!(body["uri"], "http://example.com/pets");
    assert_eq!(body["passthroughBehavior"], "WHEN_NO_MATCH");
    assert_eq!(body["timeoutInMillis"], 29000);
    assert_eq!(body["cacheNamespace"], pets.as_str());
    assert_eq!(body["cacheKeyParameters"], serde_json::json!([]));
    assert!(
        body.get("connectionType").is_none(),
        "connectionType is absent unless sent: {body}"
    );
}

#[tokio::test]
async fn put_integration_mock_without_uri() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    let integration = client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", "{\"statusCode\": 200}")
        .send()
        .await
        .unwrap();
    assert_eq!(integration.r#type(), Some(&IntegrationType::Mock));
    assert_eq!(integration.uri(), None);
    assert_eq!(integration.http_method(), None);
    assert_eq!(integration.connection_type(), None);
    assert_eq!(integration.passthrough_behavior(), Some("WHEN_NO_MATCH"));
    assert_eq!(integration.timeout_in_millis(), 29000);
    assert_eq!(
        integration
            .request_templates()
            .unwrap()
            .get("application/json")
            .map(String::as_str),
        Some("{\"statusCode\": 200}")
    );
}

#[tokio::test]
async fn put_integration_replaces_existing() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    put_mock_integration(&client, &api, &pets, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri("http://example.com/")
        .send()
        .await
        .unwrap();
    let got = client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(got.r#type(), Some(&IntegrationType::HttpProxy));
    assert_eq!(got.uri(), Some("http://example.com/"));
}

#[tokio::test]
async fn put_integration_http_without_http_method_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::Http)
        .uri("http://example.com/")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Enumeration value for HttpMethod must be non-empty",
        );
}

#[tokio::test]
async fn put_integration_http_bad_uri_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::Http)
        .integration_http_method("GET")
        .uri("not a url")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid HTTP endpoint specified for URI",
        );
}

#[tokio::test]
async fn put_integration_timeout_out_of_range_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .timeout_in_millis(10)
        .send()
        .await
        .expect_code("BadRequestException");
    client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Integration identifier specified",
        );
}

#[tokio::test]
async fn put_integration_on_missing_method_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Method identifier specified");
}

#[tokio::test]
async fn get_integration_when_none_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Integration identifier specified",
        );
}

#[tokio::test]
async fn update_integration_fields() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method_declaring(&client, &api, &pets, "ANY", &["method.request.path.proxy"]).await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("ANY")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .uri("http://a.example.com/{proxy}")
        .connection_type(ConnectionType::VpcLink)
        .connection_id("${stageVariables.VPCLINK}")
        .send()
        .await
        .unwrap();
    let updated = client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("ANY")
        .patch_operations(replace("/uri", "http://b.example.com:8080/{proxy}"))
        .patch_operations(replace("/connectionId", "${stageVariables.otherLink}"))
        .patch_operations(replace("/timeoutInMillis", "5000"))
        .patch_operations(add(
            "/requestParameters/integration.request.path.proxy",
            "method.request.path.proxy",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.uri(), Some("http://b.example.com:8080/{proxy}"));
    assert_eq!(updated.connection_id(), Some("${stageVariables.otherLink}"));
    assert_eq!(updated.timeout_in_millis(), 5000);
    assert_eq!(
        updated
            .request_parameters()
            .unwrap()
            .get("integration.request.path.proxy")
            .map(String::as_str),
        Some("method.request.path.proxy")
    );
    // Untouched fields stay.
    assert_eq!(updated.r#type(), Some(&IntegrationType::HttpProxy));
    assert_eq!(updated.connection_type(), Some(&ConnectionType::VpcLink));

    let got = client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(got.uri(), updated.uri());
    assert_eq!(got.connection_id(), Some("${stageVariables.otherLink}"));
    assert_eq!(got.timeout_in_millis(), 5000);
    assert_eq!(got.request_parameters(), updated.request_parameters());
}

#[tokio::test]
async fn response_transfer_mode_streams_only_proxy_integrations_for_up_to_15_minutes() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    let put = |kind: IntegrationType, mode: ResponseTransferMode, timeout: i32| {
        let mut put = client
            .put_integration()
            .rest_api_id(&api)
            .resource_id(&pets)
            .http_method("GET")
            .r#type(kind.clone())
            .response_transfer_mode(mode)
            .timeout_in_millis(timeout);
        if kind != IntegrationType::Mock {
            put = put
                .integration_http_method("GET")
                .uri("http://a.example.com/");
        }
        put.send()
    };
    // A streamed proxy answer may take up to 15 minutes.
    let stored = put(
        IntegrationType::HttpProxy,
        ResponseTransferMode::Stream,
        900_000,
    )
    .await
    .unwrap();
    assert_eq!(
        stored.response_transfer_mode(),
        Some(&ResponseTransferMode::Stream)
    );
    assert_eq!(stored.timeout_in_millis(), 900_000);
    put(
        IntegrationType::HttpProxy,
        ResponseTransferMode::Stream,
        900_001,
    )
    .await
    .expect_code("BadRequestException");
    // A buffered one keeps the usual ceiling (29 s here).
    put(
        IntegrationType::HttpProxy,
        ResponseTransferMode::Buffered,
        900_000,
    )
    .await
    .expect_code("BadRequestException");
    // Only proxy integrations stream.
    for kind in [IntegrationType::Http, IntegrationType::Mock] {
        put(kind, ResponseTransferMode::Stream, 29_000)
            .await
            .expect_error(
                "BadRequestException",
                "Response transfer mode STREAM is only supported for integrations of type HTTP_PROXY and AWS_PROXY",
            );
    }
    let got = client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.response_transfer_mode(),
        Some(&ResponseTransferMode::Stream),
        "a refused put changes nothing"
    );

    // UpdateIntegration switches it back, and a long timeout must go in the same request.
    let update = |ops: Vec<aws_sdk_apigateway::types::PatchOperation>| {
        client
            .update_integration()
            .rest_api_id(&api)
            .resource_id(&pets)
            .http_method("GET")
            .set_patch_operations(Some(ops))
            .send()
    };
    update(vec![replace("/responseTransferMode", "BUFFERED")])
        .await
        .expect_code("BadRequestException");
    let updated = update(vec![
        replace("/responseTransferMode", "BUFFERED"),
        replace("/timeoutInMillis", "29000"),
    ])
    .await
    .unwrap();
    assert_eq!(
        updated.response_transfer_mode(),
        Some(&ResponseTransferMode::Buffered)
    );
    assert_eq!(updated.timeout_in_millis(), 29_000);
    update(vec![replace("/responseTransferMode", "SOMETIMES")])
        .await
        .expect_code("BadRequestException");
    let updated = update(vec![
        replace("/timeoutInMillis", "600000"),
        replace("/responseTransferMode", "STREAM"),
    ])
    .await
    .unwrap();
    assert_eq!(updated.timeout_in_millis(), 600_000);
}

#[tokio::test]
async fn update_integration_invalid_path_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    put_mock_integration(&client, &api, &pets, "GET").await;
    client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(replace("/nope", "x"))
        .send()
        .await
        .expect_code("BadRequestException");
}

#[tokio::test]
async fn delete_integration_then_get_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    put_mock_integration(&client, &api, &pets, "GET").await;
    client
        .delete_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Integration identifier specified",
        );
    // The method itself is still there.
    client
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Integration responses

/// `/pets` GET with a 200 method response declaring X-Foo and a MOCK integration.
async fn integrated_method(client: &Client) -> (String, String) {
    let (api, pets) = api_with_pets(client).await;
    put_method(client, &api, &pets, "GET").await;
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .response_parameters("method.response.header.X-Foo", false)
        .send()
        .await
        .unwrap();
    put_mock_integration(client, &api, &pets, "GET").await;
    (api, pets)
}

#[tokio::test]
async fn integration_response_put_and_get() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = integrated_method(&client).await;
    let put = client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .selection_pattern("2\\d{2}")
        .response_parameters("method.response.header.X-Foo", "'bar'")
        .response_templates("application/json", "{}")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status_code(), Some("200"));
    assert_eq!(put.selection_pattern(), Some("2\\d{2}"));

    let got = client
        .get_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status_code(), Some("200"));
    assert_eq!(got.selection_pattern(), Some("2\\d{2}"));
    assert_eq!(
        got.response_parameters()
            .unwrap()
            .get("method.response.header.X-Foo")
            .map(String::as_str),
        Some("'bar'")
    );
    assert_eq!(
        got.response_templates()
            .unwrap()
            .get("application/json")
            .map(String::as_str),
        Some("{}")
    );
    // It is part of the integration.
    let integration = client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert!(
        integration
            .integration_responses()
            .unwrap()
            .contains_key("200")
    );
}

#[tokio::test]
async fn integration_response_update() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = integrated_method(&client).await;
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .selection_pattern("2\\d{2}")
        .send()
        .await
        .unwrap();
    let updated = client
        .update_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .patch_operations(replace("/selectionPattern", "200"))
        .patch_operations(add(
            "/responseParameters/method.response.header.X-Foo",
            "'baz'",
        ))
        .patch_operations(add("/responseTemplates/application~1json", "{\"ok\":true}"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.selection_pattern(), Some("200"));
    assert_eq!(
        updated
            .response_parameters()
            .unwrap()
            .get("method.response.header.X-Foo")
            .map(String::as_str),
        Some("'baz'")
    );
    assert_eq!(
        updated
            .response_templates()
            .unwrap()
            .get("application/json")
            .map(String::as_str),
        Some("{\"ok\":true}")
    );
    let got = client
        .get_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    assert_eq!(got.selection_pattern(), Some("200"));
}

#[tokio::test]
async fn integration_response_delete_then_get_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = integrated_method(&client).await;
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    client
        .delete_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    client
        .get_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Response status code specified",
        );
}

#[tokio::test]
async fn integration_response_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = integrated_method(&client).await;
    client
        .get_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("500")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Response status code specified",
        );
}

#[tokio::test]
async fn integration_response_without_integration_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .expect_code("NotFoundException");
}

// ---------------------------------------------------------------------------------------------
// Wire status codes of the method family

#[tokio::test]
async fn method_family_status_codes() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    let method = format!("/restapis/{api}/resources/{pets}/methods/GET");

    server
        .put(&method, r#"{"authorizationType":"NONE"}"#)
        .await
        .assert_status(201);
    server
        .put(&format!("{method}/responses/200"), "{}")
        .await
        .assert_status(201);
    let patched = server
        .patch(
            &format!("{method}/responses/200"),
            r#"{"patchOperations":[{"op":"add","path":"/responseParameters/method.response.header.X-A","value":"true"}]}"#,
        )
        .await;
    patched.assert_status(201);
    assert_eq!(patched.json()["statusCode"], "200");
    server
        .put(&format!("{method}/integration"), r#"{"type":"MOCK"}"#)
        .await
        .assert_status(201);
    server
        .put(&format!("{method}/integration/responses/200"), "{}")
        .await
        .assert_status(201);
    server
        .patch(
            &format!("{method}/integration/responses/200"),
            r#"{"patchOperations":[{"op":"replace","path":"/selectionPattern","value":"2\\d{2}"}]}"#,
        )
        .await
        .assert_status(200);
    server
        .patch(
            &format!("{method}/integration"),
            r#"{"patchOperations":[{"op":"replace","path":"/timeoutInMillis","value":"1000"}]}"#,
        )
        .await
        .assert_status(200);
    server
        .patch(
            &method,
            r#"{"patchOperations":[{"op":"replace","path":"/apiKeyRequired","value":"true"}]}"#,
        )
        .await
        .assert_status(200);
    server
        .delete(&format!("{method}/integration/responses/200"))
        .await
        .assert_status(204);
    server
        .delete(&format!("{method}/integration"))
        .await
        .assert_status(204);
    server
        .delete(&format!("{method}/responses/200"))
        .await
        .assert_status(204);
    server.delete(&method).await.assert_status(204);
    server
        .get(&method)
        .await
        .assert_error(404, "NotFoundException");
}

// ---------------------------------------------------------------------------------------------
// More PATCH paths and validation

#[tokio::test]
async fn update_method_request_models() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "POST").await;
    let updated = client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("POST")
        .patch_operations(add("/requestModels/application~1json", "Empty"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated
            .request_models()
            .and_then(|m| m.get("application/json"))
            .map(String::as_str),
        Some("Empty")
    );
}

#[tokio::test]
async fn update_method_bare_request_parameters_path_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(add("/requestParameters", "true"))
        .send()
        .await
        .expect_error_containing("BadRequestException", "Invalid patch path");
}

#[tokio::test]
async fn method_response_remove_absent_model_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = method_with_response(&client).await;
    client
        .update_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .patch_operations(remove("/responseModels/text~1plain"))
        .send()
        .await
        .expect_error("NotFoundException", "Content-Type specified was not found");
}

#[tokio::test]
async fn put_integration_uri_without_scheme_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri("example.com/pets")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid HTTP endpoint specified for URI",
        );
}

#[tokio::test]
async fn put_integration_stage_variable_uri_accepted() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    let integration = client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri("http://${stageVariables.host}/pets")
        .send()
        .await
        .unwrap();
    assert_eq!(
        integration.uri(),
        Some("http://${stageVariables.host}/pets")
    );
}

#[tokio::test]
async fn put_integration_timeout_above_29s_rejected_on_edge_api() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .timeout_in_millis(29001)
        .send()
        .await
        .expect_code("BadRequestException");
    // The bounds themselves are valid.
    for timeout in [50, 29000] {
        let integration = client
            .put_integration()
            .rest_api_id(&api)
            .resource_id(&pets)
            .http_method("GET")
            .r#type(IntegrationType::Mock)
            .timeout_in_millis(timeout)
            .send()
            .await
            .unwrap();
        assert_eq!(integration.timeout_in_millis(), timeout);
    }
}

/// `--max-integration-timeout-ms` raises the ceiling up to 300 s, as AWS does for Regional
/// and private APIs on request; PUT and PATCH both honour it.
#[tokio::test]
async fn integration_timeout_ceiling_follows_the_server_setting() {
    let server = TestServer::start_with(|config| {
        config.max_integration_timeout_millis = 300_000;
    })
    .await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    let put = |timeout: i32| {
        client
            .put_integration()
            .rest_api_id(&api)
            .resource_id(&pets)
            .http_method("GET")
            .r#type(IntegrationType::Mock)
            .timeout_in_millis(timeout)
            .send()
    };
    for timeout in [29_001, 120_000, 300_000] {
        let integration = put(timeout).await.unwrap();
        assert_eq!(integration.timeout_in_millis(), timeout);
    }
    put(300_001).await.expect_error(
        "BadRequestException",
        "Timeout should be between 50 ms and 300000 ms, got 300001",
    );
    let patched = client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(replace("/timeoutInMillis", "240000"))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.timeout_in_millis(), 240_000);
    client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(replace("/timeoutInMillis", "400000"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Timeout should be between 50 ms and 300000 ms, got 400000",
        );

    // The default server keeps AWS's default ceiling and says so.
    let default = TestServer::start().await;
    let client = default.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .timeout_in_millis(120_000)
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Timeout should be between 50 ms and 29000 ms, got 120000",
        );
}

#[tokio::test]
async fn put_integration_custom_cache_settings() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
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
    let integration = client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri("http://example.com/pets")
        .cache_namespace("shared")
        .cache_key_parameters("method.request.querystring.page")
        .passthrough_behavior("NEVER")
        .send()
        .await
        .unwrap();
    assert_eq!(integration.cache_namespace(), Some("shared"));
    assert_eq!(
        integration.cache_key_parameters(),
        ["method.request.querystring.page"]
    );
    assert_eq!(integration.passthrough_behavior(), Some("NEVER"));
}

#[tokio::test]
async fn put_integration_invalid_type_is_validation_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    let raw = server
        .put(
            &format!("/restapis/{api}/resources/{pets}/methods/GET/integration"),
            r#"{"type":"HTTPS_PROXY","httpMethod":"GET","uri":"http://example.com"}"#,
        )
        .await;
    let message = raw.assert_error(400, "ValidationException");
    assert!(message.contains("1 validation error detected"), "{message}");
    assert!(message.contains("'HTTPS_PROXY'"), "{message}");
    assert!(message.contains("putIntegrationInput.type"), "{message}");
}

#[tokio::test]
async fn update_integration_request_templates() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    put_mock_integration(&client, &api, &pets, "GET").await;
    let updated = client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(add(
            "/requestTemplates/application~1json",
            "{\"statusCode\": 200}",
        ))
        .patch_operations(replace("/passthroughBehavior", "WHEN_NO_TEMPLATES"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated
            .request_templates()
            .and_then(|t| t.get("application/json"))
            .map(String::as_str),
        Some("{\"statusCode\": 200}")
    );
    assert_eq!(updated.passthrough_behavior(), Some("WHEN_NO_TEMPLATES"));
    let removed = client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(remove("/requestTemplates/application~1json"))
        .send()
        .await
        .unwrap();
    assert!(
        removed
            .request_templates()
            .is_none_or(|t| !t.contains_key("application/json"))
    );
}

#[tokio::test]
async fn method_response_invalid_status_code_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method(&client, &api, &pets, "GET").await;
    for bad in ["600", "20", "abc"] {
        let error = client
            .put_method_response()
            .rest_api_id(&api)
            .resource_id(&pets)
            .http_method("GET")
            .status_code(bad)
            .send()
            .await
            .api_error();
        assert_eq!(error.status, 400, "{bad}: {error:?}");
    }
}

/// PutIntegration of a MOCK on `GET` with these request parameter mappings: the error's
/// text, or `None` when it is stored.
async fn put_mapped(
    client: &Client,
    api: &str,
    resource: &str,
    mappings: &[(&str, &str)],
) -> Option<String> {
    let mut request = client
        .put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .r#type(IntegrationType::Mock);
    for (key, source) in mappings {
        request = request.request_parameters(*key, *source);
    }
    request.send().await.err().map(|e| format!("{e:?}"))
}

/// PutIntegrationResponse 200 on `GET` mapping one header: the error's text, or `None`.
async fn put_response_mapped(
    client: &Client,
    api: &str,
    resource: &str,
    (key, source): (&str, &str),
) -> Option<String> {
    client
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .status_code("200")
        .response_parameters(key, source)
        .send()
        .await
        .err()
        .map(|e| format!("{e:?}"))
}

#[tokio::test]
async fn parameter_mappings_are_checked_as_aws_checks_them() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pets) = api_with_pets(&client).await;
    put_method_declaring(&client, &api, &pets, "GET", &["method.request.path.id"]).await;
    const PREFIX: &str =
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : [";
    // A header value written without its quotes is no expression.
    let error = put_mapped(
        &client,
        &api,
        &pets,
        &[(
            "integration.request.header.Content-Type",
            "application/x-www-form-urlencoded",
        )],
    )
    .await
    .unwrap();
    assert!(
        error.contains(&format!(
            "{PREFIX}Invalid mapping expression specified: application/x-www-form-urlencoded]"
        )),
        "{error}"
    );
    // A method request parameter the method does not declare.
    let error = put_mapped(
        &client,
        &api,
        &pets,
        &[(
            "integration.request.header.X-Tag",
            "method.request.querystring.tag",
        )],
    )
    .await
    .unwrap();
    assert!(
        error.contains(&format!("{PREFIX}Invalid mapping expression parameter specified: method.request.querystring.tag]")),
        "{error}"
    );
    // Declared, literal, context and stage variable sources are taken.
    let stored = put_mapped(
        &client,
        &api,
        &pets,
        &[
            ("integration.request.path.id", "method.request.path.id"),
            ("integration.request.header.X-Static", "'x'"),
            ("integration.request.header.X-Id", "context.requestId"),
            ("integration.request.header.X-Env", "stageVariables.env"),
        ],
    )
    .await;
    assert_eq!(stored, None);
    let error = client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(add(
            "/requestParameters/integration.request.header.X-Tag",
            "method.request.header.X-Tag",
        ))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))
        .unwrap_err();
    assert!(
        error.contains(
            "Invalid mapping expression parameter specified: method.request.header.X-Tag"
        ),
        "{error}"
    );

    // Integration responses: the method response must exist and declare the header.
    let error = put_response_mapped(
        &client,
        &api,
        &pets,
        ("method.response.header.X-Static", "'x'"),
    )
    .await
    .unwrap();
    assert!(
        error.contains(&format!("{PREFIX}No method response exists for method.]")),
        "{error}"
    );
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .response_parameters("method.response.header.X-Static", false)
        .send()
        .await
        .unwrap();
    let error = put_response_mapped(
        &client,
        &api,
        &pets,
        ("method.response.header.X-Other", "'x'"),
    )
    .await
    .unwrap();
    assert!(
        error.contains(&format!("{PREFIX}Invalid mapping expression parameter specified: method.response.header.X-Other]")),
        "{error}"
    );
    let error = put_response_mapped(
        &client,
        &api,
        &pets,
        (
            "method.response.header.X-Static",
            "'Content-Type',Authorization",
        ),
    )
    .await
    .unwrap();
    assert!(
        error.contains(&format!(
            "{PREFIX}Invalid mapping expression specified: 'Content-Type',Authorization]"
        )),
        "{error}"
    );
    let stored = put_response_mapped(
        &client,
        &api,
        &pets,
        (
            "method.response.header.X-Static",
            "integration.response.header.X-Up",
        ),
    )
    .await;
    assert_eq!(stored, None);
    // Nothing refused was stored.
    let stored = client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(stored.request_parameters().map(|p| p.len()), Some(4));
}
