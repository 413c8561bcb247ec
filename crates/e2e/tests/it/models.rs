//! Models and request validators on the management API: the default models, the rules a
//! model's name and schema follow, references between models and from methods, and the
//! request validator life cycle.

use serde_json::Value;

use crate::harness::*;

const OWNER: &str =
    r#"{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}"#;

fn pet_schema(api: &str) -> String {
    format!(
        r#"{{"type": "object", "properties": {{"owner": {{"$ref": "https://apigateway.amazonaws.com/restapis/{api}/models/Owner"}}, "age": {{"type": "integer"}}}}}}"#
    )
}

async fn create_model(server: &TestServer, api: &str, name: &str, schema: &str) -> Raw {
    let body = serde_json::json!({
        "name": name,
        "contentType": "application/json",
        "schema": schema,
        "description": "",
    });
    server
        .post(&format!("/restapis/{api}/models"), &body.to_string())
        .await
}

#[tokio::test]
async fn a_new_api_has_the_empty_and_error_models() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "models").await;
    let models = client.get_models().rest_api_id(&api).send().await.unwrap();
    let names: Vec<&str> = models.items().iter().filter_map(|m| m.name()).collect();
    assert_eq!(names, ["Empty", "Error"]);
    let empty = client
        .get_model()
        .rest_api_id(&api)
        .model_name("Empty")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.content_type(), Some("application/json"));
    assert_eq!(
        empty.description(),
        Some("This is a default empty schema model")
    );
    let schema: Value = serde_json::from_str(empty.schema().unwrap()).unwrap();
    assert_eq!(
        schema,
        serde_json::json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "Empty Schema",
            "type": "object"
        })
    );
    assert_eq!(empty.id().map(str::len), Some(6));
    // A clone gets its source's models.
    let clone = client
        .create_rest_api()
        .name("clone")
        .clone_from(&api)
        .send()
        .await
        .unwrap();
    let cloned = client
        .get_models()
        .rest_api_id(clone.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(cloned.items().len(), 2);
}

#[tokio::test]
async fn model_life_cycle_and_wire_shape() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "models").await;
    let raw = create_model(&server, &api, "Owner", OWNER).await;
    raw.assert_status(201);
    let body = raw.json();
    // An empty description is left out, as on AWS.
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["contentType", "id", "name", "schema"]);
    assert_eq!(body["schema"], OWNER);

    let created = client
        .create_model()
        .rest_api_id(&api)
        .name("Pet")
        .content_type("application/json")
        .schema(pet_schema(&api))
        .description("a pet")
        .send()
        .await
        .unwrap();
    assert_eq!(created.description(), Some("a pet"));
    let page = client
        .get_models()
        .rest_api_id(&api)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.items().len(), 2);
    let rest = client
        .get_models()
        .rest_api_id(&api)
        .position(page.position().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = page
        .items()
        .iter()
        .chain(rest.items())
        .filter_map(|m| m.name())
        .collect();
    assert_eq!(names, ["Empty", "Error", "Owner", "Pet"]);

    // flatten=true writes the models a schema names into it.
    let flat = client
        .get_model()
        .rest_api_id(&api)
        .model_name("Pet")
        .flatten(true)
        .send()
        .await
        .unwrap();
    let flat: Value = serde_json::from_str(flat.schema().unwrap()).unwrap();
    assert_eq!(flat["properties"]["owner"]["required"][0], "name");

    let updated = client
        .update_model()
        .rest_api_id(&api)
        .model_name("Pet")
        .patch_operations(replace("/description", ""))
        .patch_operations(replace("/schema", r#"{"type": "array"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), None);
    assert_eq!(updated.schema(), Some(r#"{"type": "array"}"#));
    client
        .update_model()
        .rest_api_id(&api)
        .model_name("Pet")
        .patch_operations(replace("/name", "Dog"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/description, /schema]",
        );
    client
        .update_model()
        .rest_api_id(&api)
        .model_name("Pet")
        .patch_operations(replace("/schema", r#"{"type": 7}"#))
        .send()
        .await
        .expect_error_containing(
            "BadRequestException",
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified.",
        );

    let template = server
        .get(&format!("/restapis/{api}/models/Owner/default_template"))
        .await;
    template.assert_status(200);
    assert_eq!(
        template.json()["value"],
        "#set($inputRoot = $input.path('$'))\n{\n  \"name\" : \"$inputRoot.name\"\n}\n"
    );

    client
        .delete_model()
        .rest_api_id(&api)
        .model_name("Pet")
        .send()
        .await
        .unwrap();
    client
        .get_model()
        .rest_api_id(&api)
        .model_name("Pet")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid model name specified: Pet");
}

#[tokio::test]
async fn model_names_and_schemas_are_checked() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "models").await;
    for (name, schema, code, message) in [
        ("", OWNER, 400, "Model name must be non-empty"),
        (
            "body_1",
            OWNER,
            400,
            "Model name must be alphanumeric: body_1",
        ),
        (
            "Blank",
            "",
            400,
            "Model schema must have at least 1 property or array items defined",
        ),
        (
            "Empty",
            OWNER,
            409,
            "Model name already exists for this REST API",
        ),
    ] {
        let raw = create_model(&server, &api, name, schema).await;
        let error = if code == 409 {
            "ConflictException"
        } else {
            "BadRequestException"
        };
        assert_eq!(raw.assert_error(code, error), message, "{name}");
    }
    for (schema, part) in [
        ("{not json", "The schema is not JSON"),
        (r#"{"type": "object", "required": []}"#, "draft 4"),
        (
            &pet_schema(&api) as &str,
            "Unresolvable reference: https://apigateway.amazonaws.com/restapis/",
        ),
    ] {
        let message = create_model(&server, &api, "Pet", schema)
            .await
            .assert_error(400, "BadRequestException");
        assert!(
            message.starts_with("Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified."),
            "{message}"
        );
        assert!(message.contains(part), "{schema}: {message}");
    }
    // Unknown APIs: the model's own message for one model, the API's for the list.
    client
        .get_model()
        .rest_api_id("nope000000")
        .model_name("Empty")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid model name specified: Empty");
    client
        .get_models()
        .rest_api_id("nope000000")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            &format!("Invalid API identifier specified {ACCOUNT}:nope000000"),
        );
}

#[tokio::test]
async fn models_in_use_cannot_be_deleted() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "models").await;
    create_model(&server, &api, "Owner", OWNER)
        .await
        .assert_status(201);
    create_model(&server, &api, "Pet", &pet_schema(&api))
        .await
        .assert_status(201);
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .authorization_type("NONE")
        .request_models("application/json", "Pet")
        .send()
        .await
        .unwrap();
    client
        .delete_model()
        .rest_api_id(&api)
        .model_name("Pet")
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Cannot delete model 'Pet', is referenced in method request: //ANY",
        );
    client
        .delete_model()
        .rest_api_id(&api)
        .model_name("Owner")
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Cannot delete model 'Owner', is referenced in model: Pet",
        );
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .status_code("200")
        .response_models("application/json", "Error")
        .send()
        .await
        .unwrap();
    client
        .delete_model()
        .rest_api_id(&api)
        .model_name("Error")
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Cannot delete model 'Error', is referenced in method response: //ANY/200",
        );
    // Methods may only name models and validators the API has, responses too.
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .status_code("404")
        .response_models("application/json", "Gone")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid model identifier specified: Gone",
        );
    let pets = create_resource(&client, &api, &root, "pets").await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("POST")
        .authorization_type("NONE")
        .request_models("application/json", "petModel")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid model identifier specified: petModel",
        );
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("POST")
        .authorization_type("NONE")
        .request_validator_id("nope00")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid Request Validator identifier specified",
        );
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .patch_operations(replace("/requestValidatorId", "nope00"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid Request Validator identifier specified",
        );
}

#[tokio::test]
async fn request_validator_life_cycle() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "validators").await;
    // Both flags are always written, false unless set.
    let raw = server
        .post(
            &format!("/restapis/{api}/requestvalidators"),
            r#"{"name": "none"}"#,
        )
        .await;
    raw.assert_status(201);
    let body = raw.json();
    assert_eq!(body["validateRequestBody"], false);
    assert_eq!(body["validateRequestParameters"], false);
    assert_eq!(body["id"].as_str().map(str::len), Some(6));

    let all = client
        .create_request_validator()
        .rest_api_id(&api)
        .name("all")
        .validate_request_body(true)
        .validate_request_parameters(true)
        .send()
        .await
        .unwrap();
    let id = all.id().unwrap().to_owned();
    let updated = client
        .update_request_validator()
        .rest_api_id(&api)
        .request_validator_id(&id)
        .patch_operations(replace("/name", "params"))
        .patch_operations(replace_path("/validateRequestBody"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("params"));
    assert!(!updated.validate_request_body());
    assert!(updated.validate_request_parameters());
    client
        .update_request_validator()
        .rest_api_id(&api)
        .request_validator_id(&id)
        .patch_operations(add("/validateRequestBody", "true"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch path  '/validateRequestBody' specified for op 'add'. Please choose supported operations",
        );
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .request_validator_id(&id)
        .send()
        .await
        .unwrap();

    // Validators and models survive a restart.
    server.restart().await;
    let client = server.client();
    let listed = client
        .get_request_validators()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.items().len(), 2);
    let fetched = client
        .get_request_validator()
        .rest_api_id(&api)
        .request_validator_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.name(), Some("params"));
    assert_eq!(
        client
            .get_models()
            .rest_api_id(&api)
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        2
    );

    client
        .create_request_validator()
        .rest_api_id("nope000000")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid REST API identifier specified",
        );
    client
        .get_request_validator()
        .rest_api_id(&api)
        .request_validator_id("nope00")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Request Validator identifier specified",
        );
    client
        .delete_request_validator()
        .rest_api_id(&api)
        .request_validator_id(&id)
        .send()
        .await
        .unwrap();
    client
        .delete_request_validator()
        .rest_api_id(&api)
        .request_validator_id(&id)
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Request Validator identifier specified",
        );
}
