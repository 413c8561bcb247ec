//! TestInvokeMethod: the method as configured now (deployed or not), run through the real
//! integrations, answered with the method response and an execution log.

use std::collections::HashMap;

use aws_sdk_apigateway::operation::test_invoke_method::TestInvokeMethodOutput;

use super::*;

/// Resource `/items/{id}` with one method proxying to `uri` (stage variables allowed).
async fn items_api(client: &Client, method: &str, uri: &str) -> (String, String) {
    let (api, root) = create_api(client, "test-invoke").await;
    let items = create_resource(client, &api, &root, "items").await;
    let item = create_resource(client, &api, &items, "{id}").await;
    proxy_route(client, &api, &item, method, uri, &["id"]).await;
    (api, item)
}

fn log_of(out: &TestInvokeMethodOutput) -> &str {
    out.log().unwrap_or_default()
}

#[tokio::test]
async fn mock_method_runs_without_a_deployment() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "mock").await;
    let pets = create_resource(&client, &api, &root, "pets").await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
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
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .response_parameters("method.response.header.X-Static", "'tested'")
        .response_templates("application/json", r#"{"pets": []}"#)
        .send()
        .await
        .unwrap();

    let out = client
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .path_with_query_string("/pets")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert_eq!(out.body(), Some(r#"{"pets": []}"#));
    let headers = out.headers().expect("headers");
    assert_eq!(headers.get("x-static").map(String::as_str), Some("tested"));
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert_eq!(
        out.multi_value_headers()
            .and_then(|h| h.get("x-static"))
            .cloned(),
        Some(vec!["tested".to_owned()])
    );
    let log = log_of(&out);
    assert!(log.starts_with("Execution log for request "), "{log}");
    for line in [
        " : Starting execution for request: ",
        " : HTTP Method: GET, Resource Path: /pets\n",
        " : Method request path: {}\n",
        " : Method request query string: {}\n",
        " : Method response body after transformations: {\"pets\": []}\n",
        " : Successfully completed execution\n",
        " : Method completed with status: 200\n",
    ] {
        assert!(log.contains(line), "missing {line:?} in\n{log}");
    }
    assert!(out.latency() >= 0);
    // Nothing was deployed, and the invoke URL still knows nothing of the API's stages.
    assert!(
        client
            .get_stages()
            .rest_api_id(&api)
            .send()
            .await
            .unwrap()
            .item()
            .is_empty()
    );
}

#[tokio::test]
async fn proxy_method_gets_path_query_headers_body_and_stage_variables() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, item) = items_api(
        &client,
        "POST",
        "http://${stageVariables.backend}/items/{id}",
    )
    .await;
    let out = client
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&item)
        .http_method("POST")
        .path_with_query_string("/items/42?color=red&size=l")
        .headers("X-Test", "yes")
        .headers("Content-Type", "text/plain")
        .multi_value_headers("X-Multi", vec!["a".to_owned(), "b".to_owned()])
        .body("hello")
        .stage_variables("backend", backend.addr.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200, "log:\n{}", log_of(&out));
    let seen = backend.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path(), "/items/42");
    assert_eq!(seen.query(), Some("color=red&size=l"));
    assert_eq!(seen.header("x-test"), Some("yes"));
    assert_eq!(seen.header_count("x-multi"), 2);
    assert_eq!(seen.body, b"hello");
    let echoed: Value = serde_json::from_str(out.body().unwrap()).unwrap();
    assert_eq!(echoed["path"], "/items/42");
    let log = log_of(&out);
    let uri = format!("http://{}/items/42?color=red&size=l", backend.addr);
    for line in [
        " : HTTP Method: POST, Resource Path: /items/42\n".to_owned(),
        " : Method request path: {id=42}\n".to_owned(),
        " : Method request query string: {color=red, size=l}\n".to_owned(),
        " : Method request body before transformations: hello\n".to_owned(),
        format!(" : Endpoint request URI: {uri}\n"),
        " : Endpoint request body after transformations: hello\n".to_owned(),
        format!(" : Sending request to {uri}\n"),
        " : Received response. Status: 200, Integration latency: ".to_owned(),
        " : Method completed with status: 200\n".to_owned(),
    ] {
        assert!(log.contains(&line), "missing {line:?} in\n{log}");
    }
}

/// A failing integration still answers 200: the method's status, body and error type are
/// inside, and the log says why.
#[tokio::test]
async fn failure_is_reported_inside_a_200() {
    let server = TestServer::start().await;
    let client = server.client();
    let port = closed_port().await;
    let (api, item) = items_api(&client, "GET", &format!("http://127.0.0.1:{port}/{{id}}")).await;
    let out = client
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&item)
        .http_method("GET")
        .path_with_query_string("/items/1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 500);
    assert_eq!(out.body(), Some(r#"{"message": "Internal server error"}"#));
    assert_eq!(
        out.headers()
            .and_then(|h| h.get("x-amzn-errortype"))
            .map(String::as_str),
        Some("InternalServerErrorException")
    );
    let log = log_of(&out);
    assert!(
        log.contains(" : Execution failed due to configuration error: "),
        "{log}"
    );
    assert!(
        log.contains(" : Method completed with status: 500\n"),
        "{log}"
    );
    assert!(!log.contains("Successfully completed execution"), "{log}");
}

/// Without `pathWithQueryString` the resource's own path is used.
#[tokio::test]
async fn path_defaults_to_the_resource_path() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, root) = create_api(&client, "plain").await;
    let health = create_resource(&client, &api, &root, "health").await;
    proxy_route(
        &client,
        &api,
        &health,
        "GET",
        &format!("{}/status", backend.base()),
        &[],
    )
    .await;
    let out = client
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&health)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200, "log:\n{}", log_of(&out));
    assert_eq!(backend.last().path(), "/status");
}

#[tokio::test]
async fn bad_calls_get_aws_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, item) = items_api(&client, "GET", "http://127.0.0.1:9/{id}").await;
    let call = |api: &str, resource: &str, method: &str| {
        client
            .test_invoke_method()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(method)
            .path_with_query_string("/items/1")
    };
    call(&api, &item, "PUT")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Method identifier specified");
    call(&api, "nosuch", "GET")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
    call("nosuchapi", &item, "GET")
        .send()
        .await
        .expect_code("NotFoundException");
    call(&api, &item, "GET")
        .path_with_query_string("/other/1")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "The path '/other/1' does not match the resource path '/items/{id}'",
        );
    call(&api, &item, "GET")
        .stage_variables("bad name", "x")
        .send()
        .await
        .expect_code("BadRequestException");
    call(&api, &item, "GET")
        .headers("bad header", "x")
        .send()
        .await
        .expect_error("BadRequestException", "Invalid header name 'bad header'");
    let raw = server
        .post(
            &format!("/restapis/{api}/resources/{item}/methods/GET"),
            r#"{"pathWithQueryString": "/items/1", "bogus": true}"#,
        )
        .await;
    raw.assert_status(400);
    assert_eq!(raw.error_type().as_deref(), Some("SerializationException"));
}

/// The seed story's private path, tested before any deployment: the VPC link id and the
/// load balancer host come from the call's stage variables.
#[tokio::test]
async fn private_integration_through_vpc_link() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let nlb = private_nlb(&server, &backend).await;
    let link = available_link(&client, &nlb.arn).await;
    let api = vpc_link_proxy_api(
        &client,
        "${stageVariables.VPCLINK}",
        "http://${stageVariables.VPCNLB}/{proxy}",
    )
    .await;
    let proxy = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path() == Some("/{proxy+}"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    let variables: HashMap<String, String> = [
        ("VPCLINK".to_owned(), link.clone()),
        ("VPCNLB".to_owned(), nlb.host()),
    ]
    .into();
    let out = client
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .path_with_query_string("/orders/9?x=1")
        .set_stage_variables(Some(variables))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200, "log:\n{}", log_of(&out));
    let seen = backend.last();
    assert_eq!(seen.path(), "/orders/9");
    assert_eq!(seen.query(), Some("x=1"));
    assert_eq!(seen.header("host"), Some(nlb.host().as_str()));
}
