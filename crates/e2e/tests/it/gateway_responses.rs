//! PutGatewayResponse / GetGatewayResponse(s) / UpdateGatewayResponse / DeleteGatewayResponse.

use std::collections::HashMap;

use aws_sdk_apigateway::types::GatewayResponseType;

use crate::harness::*;

/// The default collection of a new API: every response type with its default status
/// (`None` for DEFAULT_4XX / DEFAULT_5XX, which have none).
const DEFAULTS: [(&str, Option<&str>); 21] = [
    ("ACCESS_DENIED", Some("403")),
    ("API_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_FAILURE", Some("500")),
    ("BAD_REQUEST_BODY", Some("400")),
    ("BAD_REQUEST_PARAMETERS", Some("400")),
    ("DEFAULT_4XX", None),
    ("DEFAULT_5XX", None),
    ("EXPIRED_TOKEN", Some("403")),
    ("INTEGRATION_FAILURE", Some("504")),
    ("INTEGRATION_TIMEOUT", Some("504")),
    ("INVALID_API_KEY", Some("403")),
    ("INVALID_SIGNATURE", Some("403")),
    ("MISSING_AUTHENTICATION_TOKEN", Some("403")),
    ("QUOTA_EXCEEDED", Some("429")),
    ("REQUEST_TOO_LARGE", Some("413")),
    ("RESOURCE_NOT_FOUND", Some("404")),
    ("THROTTLED", Some("429")),
    ("UNAUTHORIZED", Some("401")),
    ("UNSUPPORTED_MEDIA_TYPE", Some("415")),
    ("WAF_FILTERED", Some("403")),
];

const DEFAULT_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

#[tokio::test]
async fn default_gateway_responses_listed() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    let responses = client
        .get_gateway_responses()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert!(
        responses.position().is_none(),
        "21 defaults fit in one page"
    );
    let listed: HashMap<&str, Option<&str>> = responses
        .items()
        .iter()
        .map(|r| (r.response_type().unwrap().as_str(), r.status_code()))
        .collect();
    let expected: HashMap<&str, Option<&str>> = DEFAULTS.into_iter().collect();
    assert_eq!(listed, expected);
    assert_eq!(responses.items().len(), DEFAULTS.len());
    for response in responses.items() {
        assert!(response.default_response(), "{response:?}");
        assert_eq!(
            response
                .response_templates()
                .and_then(|t| t.get("application/json"))
                .map(String::as_str),
            Some(DEFAULT_TEMPLATE),
            "{response:?}"
        );
        assert!(
            response.response_parameters().is_some_and(|p| p.is_empty()),
            "{response:?}"
        );
    }
}

#[tokio::test]
async fn get_default_gateway_response() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    let response = client
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Throttled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.response_type(),
        Some(&GatewayResponseType::Throttled)
    );
    assert_eq!(response.status_code(), Some("429"));
    assert!(response.default_response());
}

#[tokio::test]
async fn gateway_responses_unknown_api_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .get_gateway_responses()
        .rest_api_id("nope123456")
        .send()
        .await
        .expect_error_containing("NotFoundException", "Invalid API identifier specified");
    client
        .get_gateway_response()
        .rest_api_id("nope123456")
        .response_type(GatewayResponseType::Default4Xx)
        .send()
        .await
        .expect_error_containing("NotFoundException", "Invalid API identifier specified");
}

#[tokio::test]
async fn put_gateway_response_customises() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    let put = client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .status_code("404")
        .response_parameters("gatewayresponse.header.x-a", "'b'")
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.response_type(),
        Some(&GatewayResponseType::MissingAuthenticationToken)
    );
    assert_eq!(put.status_code(), Some("404"));
    assert!(!put.default_response());
    assert_eq!(
        put.response_parameters()
            .unwrap()
            .get("gatewayresponse.header.x-a")
            .map(String::as_str),
        Some("'b'")
    );
    // Unset templates are filled with the default template.
    assert_eq!(
        put.response_templates()
            .and_then(|t| t.get("application/json"))
            .map(String::as_str),
        Some(DEFAULT_TEMPLATE)
    );

    let got = client
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status_code(), Some("404"));
    assert!(!got.default_response());
    assert_eq!(got.response_parameters(), put.response_parameters());
}

#[tokio::test]
async fn put_gateway_response_without_status_uses_type_default() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    let put = client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Throttled)
        .response_templates("application/json", "{\"slow\":\"down\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status_code(), Some("429"));
    assert!(!put.default_response());
    assert!(put.response_parameters().is_some_and(|p| p.is_empty()));
}

#[tokio::test]
async fn put_gateway_response_status_is_201() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    let raw = server
        .put(
            &format!("/restapis/{api}/gatewayresponses/DEFAULT_4XX"),
            r#"{"responseParameters":{"gatewayresponse.header.Access-Control-Allow-Origin":"'*'"}}"#,
        )
        .await;
    raw.assert_status(201);
    let body = raw.json();
    assert_eq!(body["responseType"], "DEFAULT_4XX");
    assert_eq!(body["defaultResponse"], false);
}

#[tokio::test]
async fn customised_response_listed_in_collection() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .status_code("404")
        .send()
        .await
        .unwrap();
    let responses = client
        .get_gateway_responses()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(responses.items().len(), DEFAULTS.len());
    for response in responses.items() {
        let customised =
            response.response_type() == Some(&GatewayResponseType::MissingAuthenticationToken);
        assert_eq!(response.default_response(), !customised, "{response:?}");
        if customised {
            assert_eq!(response.status_code(), Some("404"));
        }
    }
}

#[tokio::test]
async fn update_gateway_response_status_code() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .status_code("404")
        .response_parameters("gatewayresponse.header.x-a", "'b'")
        .send()
        .await
        .unwrap();
    let updated = client
        .update_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .patch_operations(replace("/statusCode", "410"))
        .patch_operations(replace(
            "/responseParameters/gatewayresponse.header.x-a",
            "'c'",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status_code(), Some("410"));
    assert_eq!(
        updated
            .response_parameters()
            .unwrap()
            .get("gatewayresponse.header.x-a")
            .map(String::as_str),
        Some("'c'")
    );
    let got = client
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status_code(), Some("410"));
}

#[tokio::test]
async fn update_gateway_response_add_status_code_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    client
        .update_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Throttled)
        .patch_operations(add("/statusCode", "500"))
        .send()
        .await
        .expect_error("BadRequestException", "Invalid patch path /statusCode");
}

#[tokio::test]
async fn update_never_customised_type_creates_it() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    let updated = client
        .update_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default5Xx)
        .patch_operations(replace("/statusCode", "503"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status_code(), Some("503"));
    assert!(!updated.default_response());
    let got = client
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default5Xx)
        .send()
        .await
        .unwrap();
    assert!(!got.default_response());
}

#[tokio::test]
async fn delete_gateway_response_resets_default() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .status_code("404")
        .response_parameters("gatewayresponse.header.x-a", "'b'")
        .send()
        .await
        .unwrap();
    let raw = server
        .delete(&format!(
            "/restapis/{api}/gatewayresponses/MISSING_AUTHENTICATION_TOKEN"
        ))
        .await;
    raw.assert_status(202);
    let got = client
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .send()
        .await
        .unwrap();
    assert!(got.default_response());
    assert_eq!(got.status_code(), Some("403"));
    assert!(got.response_parameters().is_none_or(|p| p.is_empty()));
    // Deleting it again: it is no longer customised.
    client
        .delete_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Gateway response type not defined on api",
        );
}

#[tokio::test]
async fn delete_never_customised_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    client
        .delete_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Throttled)
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Gateway response type not defined on api",
        );
}

#[tokio::test]
async fn gateway_responses_are_per_api() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api_a, _) = create_api(&client, "a").await;
    let (api_b, _) = create_api(&client, "b").await;
    client
        .put_gateway_response()
        .rest_api_id(&api_a)
        .response_type(GatewayResponseType::Throttled)
        .status_code("503")
        .send()
        .await
        .unwrap();
    let other = client
        .get_gateway_response()
        .rest_api_id(&api_b)
        .response_type(GatewayResponseType::Throttled)
        .send()
        .await
        .unwrap();
    assert!(other.default_response());
    assert_eq!(other.status_code(), Some("429"));
}

#[tokio::test]
async fn customised_default_4xx_applies_to_listed_4xx_types() {
    // The common CORS set-up: headers on DEFAULT_4XX show on every non-customised 4xx type,
    // which stays defaultResponse:true.
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "cors").await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default4Xx)
        .response_parameters("gatewayresponse.header.Access-Control-Allow-Origin", "'*'")
        .send()
        .await
        .unwrap();
    let responses = client
        .get_gateway_responses()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    let throttled = responses
        .items()
        .iter()
        .find(|r| r.response_type() == Some(&GatewayResponseType::Throttled))
        .expect("THROTTLED listed");
    assert!(throttled.default_response());
    assert_eq!(
        throttled
            .response_parameters()
            .and_then(|p| p.get("gatewayresponse.header.Access-Control-Allow-Origin"))
            .map(String::as_str),
        Some("'*'")
    );
    let integration_failure = responses
        .items()
        .iter()
        .find(|r| r.response_type() == Some(&GatewayResponseType::IntegrationFailure))
        .expect("INTEGRATION_FAILURE listed");
    assert!(
        integration_failure
            .response_parameters()
            .is_none_or(|p| p.is_empty()),
        "a 5xx type does not inherit DEFAULT_4XX"
    );
}

#[tokio::test]
async fn update_gateway_response_replace_absent_parameter_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default4Xx)
        .send()
        .await
        .unwrap();
    client
        .update_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default4Xx)
        .patch_operations(replace(
            "/responseParameters/gatewayresponse.header.x-none",
            "'v'",
        ))
        .send()
        .await
        .expect_error("NotFoundException", "Invalid parameter name specified");
}

#[tokio::test]
async fn update_gateway_response_add_template() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    let updated = client
        .update_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::AccessDenied)
        .patch_operations(add("/responseTemplates/application~1xml", "<denied/>"))
        .send()
        .await
        .unwrap();
    let templates = updated.response_templates().expect("responseTemplates");
    assert_eq!(
        templates.get("application/xml").map(String::as_str),
        Some("<denied/>")
    );
    assert_eq!(updated.status_code(), Some("403"));
}

/// Response parameters are checked when stored, with AWS's texts: a header of the gateway
/// response, from the method request, a stage or context variable, or a literal. A refused
/// put or patch leaves the stored response as it was.
#[tokio::test]
async fn gateway_response_parameters_are_checked_when_stored() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "gr").await;
    let path = format!("/restapis/{api}/gatewayresponses/DEFAULT_4XX");
    server
        .put(
            &path,
            r#"{"responseParameters":{"gatewayresponse.header.x-trace":"method.request.header.x-trace","gatewayresponse.header.x-stage":"stageVariables.name","gatewayresponse.header.x-id":"context.requestId"}}"#,
        )
        .await
        .assert_status(201);
    for (body, part) in [
        (
            r#"{"responseParameters":{"gatewayresponse.header.Access-Control-Allow-Origin":"*"}}"#,
            "errors : [Invalid mapping expression specified: *]",
        ),
        (
            r#"{"responseParameters":{"method.response.header.x":"'a'"}}"#,
            "errors : [Invalid mapping expression parameter specified: method.response.header.x]",
        ),
        (
            r#"{"responseParameters":{"gatewayresponse.header.x":"integration.response.header.y"}}"#,
            "errors : [Invalid mapping expression specified: integration.response.header.y]",
        ),
    ] {
        let raw = server.put(&path, body).await;
        raw.assert_status(400);
        let message = raw.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.starts_with(
                "Invalid mapping expression specified: Validation Result: warnings : [], "
            ) && message.contains(part),
            "{message}"
        );
    }
    let patched = client
        .update_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default4Xx)
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Add)
                .path("/responseParameters/gatewayresponse.header.x-bad")
                .value("nope")
                .build(),
        )
        .send()
        .await;
    assert!(
        format!("{patched:?}").contains("Invalid mapping expression specified: nope"),
        "{patched:?}"
    );
    let got = client
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default4Xx)
        .send()
        .await
        .unwrap();
    assert_eq!(got.response_parameters().map(HashMap::len), Some(3));
}
