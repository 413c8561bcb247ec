//! Request validators at invoke time: required parameters (BAD_REQUEST_PARAMETERS) and bodies
//! checked against the model of their content type (BAD_REQUEST_BODY), frozen per
//! deployment, and the same checks in TestInvokeMethod.

use super::*;

const OWNER: &str = r#"{"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}"#;

/// `POST /pets/{petId}`: MOCK answering 200, validated by `all` (body and parameters), with
/// a required header, a required query parameter, the path parameter, and model `Pet` (which
/// names model `Owner`) for JSON bodies. Deployed to `prod`: `(api, pets resource, validator)`.
async fn validated_api(server: &TestServer) -> (String, String, String) {
    let client = server.client();
    let (api, root) = create_api(&client, "validated").await;
    let pets = create_resource(&client, &api, &root, "pets").await;
    let pet = create_resource(&client, &api, &pets, "{petId}").await;
    client
        .create_model()
        .rest_api_id(&api)
        .name("Owner")
        .content_type("application/json")
        .schema(OWNER)
        .send()
        .await
        .unwrap();
    client
        .create_model()
        .rest_api_id(&api)
        .name("Pet")
        .content_type("application/json")
        .schema(format!(
            r#"{{"type": "object", "required": ["owner"], "properties": {{
                "owner": {{"$ref": "https://apigateway.amazonaws.com/restapis/{api}/models/Owner"}},
                "age": {{"type": "integer", "minimum": 0}}}}}}"#
        ))
        .send()
        .await
        .unwrap();
    let validator = client
        .create_request_validator()
        .rest_api_id(&api)
        .name("all")
        .validate_request_body(true)
        .validate_request_parameters(true)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&pet)
        .http_method("POST")
        .authorization_type("NONE")
        .request_validator_id(&validator)
        .request_parameters("method.request.path.petId", true)
        .request_parameters("method.request.header.x-tenant", true)
        .request_parameters("method.request.querystring.verbose", true)
        .request_parameters("method.request.querystring.optional", false)
        .request_models("application/json", "Pet")
        .send()
        .await
        .unwrap();
    method_response(&client, &api, &pet, "POST", "200").await;
    let mut integration = client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&pet)
        .http_method("POST")
        .r#type(IntegrationType::Mock);
    for content_type in ["application/json", "text/plain"] {
        integration = integration.request_templates(content_type, r#"{"statusCode": 200}"#);
    }
    integration.send().await.unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pet)
        .http_method("POST")
        .status_code("200")
        .response_templates("application/json", r#"{"saved": true}"#)
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    (api, pet, validator)
}

async fn post(
    invoke: &Invoke,
    query: &str,
    tenant: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> Raw {
    let mut request = invoke
        .request("POST", &format!("/prod/pets/7{query}"))
        .body(body.to_owned());
    if let Some(tenant) = tenant {
        request = request.header("x-tenant", tenant);
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    invoke.send(request).await
}

const GOOD: &str = r#"{"owner": {"name": "Ann"}, "age": 3}"#;
const JSON: Option<&str> = Some("application/json");

#[tokio::test]
async fn parameters_and_bodies_are_validated() {
    let server = TestServer::start().await;
    let (api, _, _) = validated_api(&server).await;
    let invoke = Invoke::new(&server, &api);
    invoke
        .until("POST", "/prod/pets/7", |raw| raw.status == 400)
        .await;

    // Missing (or blank) parameters come first, in AWS's order, even with a bad body too.
    for (query, tenant) in [("", None), ("?verbose=", Some("  ")), ("?optional=1", None)] {
        let raw = post(&invoke, query, tenant, JSON, "{}").await;
        assert_gateway_error(
            &raw,
            400,
            "BadRequestException",
            r#"{"message":"Missing required request parameters: [x-tenant, verbose]"}"#,
        );
    }
    let raw = post(&invoke, "?verbose=1", None, JSON, GOOD).await;
    assert_gateway_error(
        &raw,
        400,
        "BadRequestException",
        r#"{"message":"Missing required request parameters: [x-tenant]"}"#,
    );

    // Bodies against the model and the model it names; clients never see the details.
    for body in [
        "{}",
        r#"{"owner": {}}"#,
        r#"{"owner": {"name": ""}}"#,
        r#"{"owner": {"name": "Ann"}, "age": -1}"#,
        r#"{"owner": "#,
        "",
        "[]",
    ] {
        let raw = post(&invoke, "?verbose=1", Some("t1"), JSON, body).await;
        assert_gateway_error(
            &raw,
            400,
            "BadRequestException",
            r#"{"message":"Invalid request body"}"#,
        );
    }
    // Without a Content-Type the body is JSON; with a charset it still is.
    let raw = post(&invoke, "?verbose=1", Some("t1"), None, "{}").await;
    assert_eq!(raw.status, 400, "{}", raw.text());
    for content_type in [None, Some("application/json; charset=utf-8")] {
        let raw = post(&invoke, "?verbose=yes", Some("t1"), content_type, GOOD).await;
        assert_eq!(raw.status, 200, "{}", raw.text());
        assert_eq!(raw.text(), r#"{"saved": true}"#);
    }
    // A header value of any bytes is there (only a blank one is missing).
    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/pets/7?verbose=1")
                .header(
                    "x-tenant",
                    reqwest::header::HeaderValue::from_bytes("tënant".as_bytes()).unwrap(),
                )
                .header("content-type", "application/json")
                .body(GOOD),
        )
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    // A content type without a model is not checked.
    let raw = post(
        &invoke,
        "?verbose=1",
        Some("t1"),
        Some("text/plain"),
        "anything",
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
}

#[tokio::test]
async fn validation_is_frozen_per_deployment_and_customisable() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, validator) = validated_api(&server).await;
    let invoke = Invoke::new(&server, &api);
    invoke
        .until("POST", "/prod/pets/7", |raw| raw.status == 400)
        .await;
    // The validator now checks parameters only, and BAD_REQUEST_PARAMETERS has its own
    // answer; nothing changes until a deployment takes them.
    client
        .update_request_validator()
        .rest_api_id(&api)
        .request_validator_id(&validator)
        .patch_operations(replace("/validateRequestBody", "false"))
        .send()
        .await
        .unwrap();
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::BadRequestParameters)
        .status_code("422")
        .response_templates(
            "application/json",
            r#"{"error": "$context.error.validationErrorString", "type": "$context.error.responseType"}"#,
        )
        .send()
        .await
        .unwrap();
    let raw = post(&invoke, "?verbose=1", Some("t1"), JSON, "{}").await;
    assert_eq!(raw.status, 400, "the old deployment still checks bodies");
    deploy(&client, &api, "prod").await;
    let raw = invoke
        .until("POST", "/prod/pets/7?verbose=1", |raw| raw.status == 422)
        .await;
    assert_eq!(raw.status, 422, "{}", raw.text());
    assert_eq!(
        raw.text(),
        r#"{"error": "Missing required request parameters: [x-tenant]", "type": "BAD_REQUEST_PARAMETERS"}"#
    );
    let raw = post(&invoke, "?verbose=1", Some("t1"), JSON, "{}").await;
    assert_eq!(raw.status, 200, "{}", raw.text());

    // Deleting the validator leaves the deployed one in force until the next deployment.
    client
        .delete_request_validator()
        .rest_api_id(&api)
        .request_validator_id(&validator)
        .send()
        .await
        .unwrap();
    assert_eq!(
        post(&invoke, "?verbose=1", None, JSON, "{}").await.status,
        422
    );
    deploy(&client, &api, "prod").await;
    let raw = invoke
        .until("POST", "/prod/pets/7", |raw| raw.status == 200)
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
}

#[tokio::test]
async fn test_invoke_validates_too() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, pet, _) = validated_api(&server).await;
    let call = |body: &'static str, query: &'static str| {
        client
            .test_invoke_method()
            .rest_api_id(&api)
            .resource_id(&pet)
            .http_method("POST")
            .path_with_query_string(format!("/pets/7{query}"))
            .headers("x-tenant", "t1")
            .headers("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let out = call(r#"{"owner": {}}"#, "?verbose=1").await.unwrap();
    assert_eq!(out.status(), 400);
    assert_eq!(out.body(), Some(r#"{"message":"Invalid request body"}"#));
    let log = out.log().unwrap_or_default();
    assert!(log.contains("Request validation failed: ["), "{log}");
    let out = call(GOOD, "").await.unwrap();
    assert_eq!(out.status(), 400);
    assert_eq!(
        out.body(),
        Some(r#"{"message":"Missing required request parameters: [verbose]"}"#)
    );
    let out = call(GOOD, "?verbose=1").await.unwrap();
    assert_eq!(out.status(), 200, "{:?}", out.log());
    assert!(
        out.log()
            .unwrap_or_default()
            .contains("Request validation succeeded")
    );
}

/// An OpenAPI document's validators and schemas become the API's, validate its requests once
/// deployed, and come back in the export.
#[tokio::test]
async fn imported_validators_and_models_validate_and_export() {
    let server = TestServer::start().await;
    let client = server.client();
    let document = r##"{
      "openapi": "3.0.1",
      "info": {"title": "Imported", "version": "1"},
      "x-amazon-apigateway-request-validators": {
        "all": {"validateRequestBody": true, "validateRequestParameters": true}
      },
      "x-amazon-apigateway-request-validator": "all",
      "paths": {"/pets": {"post": {
        "parameters": [{"name": "x-tenant", "in": "header", "required": true, "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {
          "type": "mock",
          "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
          "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"ok\": 1}"}}}
        }
      }}},
      "components": {"schemas": {
        "Pet": {"type": "object", "required": ["owner"], "properties": {"owner": {"$ref": "#/components/schemas/Owner"}}},
        "Owner": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
      }}
    }"##;
    let imported = client
        .import_rest_api()
        .fail_on_warnings(true)
        .body(aws_sdk_apigateway::primitives::Blob::new(document))
        .send()
        .await
        .unwrap();
    let api = imported.id().unwrap().to_owned();
    // Only the document's models: an import has no default ones.
    let models = client.get_models().rest_api_id(&api).send().await.unwrap();
    let names: Vec<&str> = models.items().iter().filter_map(|m| m.name()).collect();
    assert_eq!(names, ["Owner", "Pet"]);
    let pet = models
        .items()
        .iter()
        .find(|m| m.name() == Some("Pet"))
        .unwrap();
    assert!(
        pet.schema().unwrap().contains(&format!(
            "https://apigateway.amazonaws.com/restapis/{api}/models/Owner"
        )),
        "{:?}",
        pet.schema()
    );
    let validators = client
        .get_request_validators()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(validators.items().len(), 1);
    assert_eq!(validators.items()[0].name(), Some("all"));

    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke
        .until("POST", "/prod/pets", |raw| raw.status == 400)
        .await;
    assert_gateway_error(
        &raw,
        400,
        "BadRequestException",
        r#"{"message":"Missing required request parameters: [x-tenant]"}"#,
    );
    let send = |body: &'static str| {
        invoke.send(
            invoke
                .request("POST", "/prod/pets")
                .header("x-tenant", "t")
                .header("content-type", "application/json")
                .body(body),
        )
    };
    assert_eq!(send(r#"{"owner": {}}"#).await.status, 400);
    let raw = send(r#"{"owner": {"name": "Ann"}}"#).await;
    assert_eq!((raw.status, raw.text().as_str()), (200, r#"{"ok": 1}"#));

    // The export writes them back, with local references.
    let exported = client
        .get_export()
        .rest_api_id(&api)
        .stage_name("prod")
        .export_type("oas30")
        .parameters("extensions", "apigateway")
        .send()
        .await
        .unwrap();
    let document: Value = serde_json::from_slice(exported.body().unwrap().as_ref()).unwrap();
    assert_eq!(
        document["components"]["schemas"]["Pet"]["properties"]["owner"]["$ref"],
        "#/components/schemas/Owner"
    );
    assert_eq!(
        document["x-amazon-apigateway-request-validators"]["all"]["validateRequestBody"],
        true
    );
    let post = &document["paths"]["/pets"]["post"];
    assert_eq!(post["x-amazon-apigateway-request-validator"], "all");
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Pet"
    );

    // Overwriting with a document without them leaves the API without them.
    let bare = r#"{"openapi": "3.0.1", "info": {"title": "Imported"}, "paths": {"/pets": {"get": {"responses": {}}}}}"#;
    client
        .put_rest_api()
        .rest_api_id(&api)
        .mode(aws_sdk_apigateway::types::PutMode::Overwrite)
        .body(aws_sdk_apigateway::primitives::Blob::new(bare))
        .send()
        .await
        .unwrap();
    assert!(
        client
            .get_models()
            .rest_api_id(&api)
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
    assert!(
        client
            .get_request_validators()
            .rest_api_id(&api)
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
}
