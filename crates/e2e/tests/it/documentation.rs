//! Documentation parts and versions: CreateDocumentationPart / Get(s) / Update / Delete,
//! ImportDocumentationParts, CreateDocumentationVersion / Get(s) / Update / Delete, stages
//! naming versions, and documentation in OpenAPI import and export.

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::primitives::Blob;
use aws_sdk_apigateway::types::{
    DocumentationPartLocation, DocumentationPartType, LocationStatusType, PutMode,
};
use serde_json::{Value, json};

use crate::harness::*;

fn location(
    kind: DocumentationPartType,
) -> aws_sdk_apigateway::types::builders::DocumentationPartLocationBuilder {
    DocumentationPartLocation::builder().r#type(kind)
}

async fn create_part(
    client: &Client,
    api: &str,
    location: DocumentationPartLocation,
    properties: &str,
) -> String {
    client
        .create_documentation_part()
        .rest_api_id(api)
        .location(location)
        .properties(properties)
        .send()
        .await
        .unwrap()
        .id()
        .expect("part id")
        .to_owned()
}

#[tokio::test]
async fn parts_are_created_read_updated_and_deleted() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "docs").await;

    let raw = server
        .post(
            &format!("/restapis/{api}/documentation/parts"),
            r#"{"location":{"type":"METHOD","path":"/pets","method":"get"},"properties":"{\"summary\":\"List pets\"}"}"#,
        )
        .await;
    raw.assert_status(201);
    let body = raw.json();
    assert_eq!(
        body["location"],
        json!({"type": "METHOD", "path": "/pets", "method": "GET"})
    );
    assert_eq!(body["properties"], r#"{"summary":"List pets"}"#);
    let id = body["id"].as_str().unwrap().to_owned();

    let api_part = create_part(
        &client,
        &api,
        location(DocumentationPartType::Api).build().unwrap(),
        r#"{"description":"The pet store"}"#,
    )
    .await;
    let got = client
        .get_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(&api_part)
        .send()
        .await
        .unwrap();
    let got_location = got.location().unwrap();
    assert_eq!(got_location.r#type(), &DocumentationPartType::Api);
    assert_eq!(got_location.path(), None);
    assert_eq!(got.properties(), Some(r#"{"description":"The pet store"}"#));

    // One part per location, with AWS's text.
    client
        .create_documentation_part()
        .rest_api_id(&api)
        .location(location(DocumentationPartType::Api).build().unwrap())
        .properties("{}")
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Documentation part already exists for the specified location: type 'API'.",
        );
    // Fields the type does not take, a name it needs, and properties that are not a map.
    client
        .create_documentation_part()
        .rest_api_id(&api)
        .location(
            location(DocumentationPartType::Resource)
                .path("/pets")
                .method("GET")
                .build()
                .unwrap(),
        )
        .properties("{}")
        .send()
        .await
        .expect_error_containing("BadRequestException", "'method' is not a valid field");
    client
        .create_documentation_part()
        .rest_api_id(&api)
        .location(location(DocumentationPartType::Model).build().unwrap())
        .properties("{}")
        .send()
        .await
        .expect_error_containing("BadRequestException", "'name' is required");
    client
        .create_documentation_part()
        .rest_api_id(&api)
        .location(
            location(DocumentationPartType::Resource)
                .path("/x")
                .build()
                .unwrap(),
        )
        .properties("not json")
        .send()
        .await
        .expect_code("BadRequestException");
    // An unknown type, raw: AWS's validation text.
    let raw = server
        .post(
            &format!("/restapis/{api}/documentation/parts"),
            r#"{"location":{"type":"INVALID"},"properties":"{}"}"#,
        )
        .await;
    let message = raw.assert_error(400, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value 'INVALID' at 'createDocumentationPartInput.location.type' failed to satisfy constraint: Member must satisfy enum value set: [RESPONSE_BODY, RESPONSE, METHOD, MODEL, AUTHORIZER, RESPONSE_HEADER, RESOURCE, PATH_PARAMETER, REQUEST_BODY, QUERY_PARAMETER, API, REQUEST_HEADER]"
    );

    // Update: only `replace /properties`, with AWS's texts for the rest.
    let updated = client
        .update_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(&id)
        .patch_operations(replace("/properties", r#"{"summary":"All pets"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.properties(), Some(r#"{"summary":"All pets"}"#));
    client
        .update_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(&id)
        .patch_operations(add("/properties", "{}"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch path  '/properties' specified for op 'add'. Please choose supported operations",
        );
    client
        .update_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(&id)
        .patch_operations(replace("/invalidPath", "x"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch path  '/invalidPath' specified for op 'replace'. Must be one of: [/properties]",
        );

    client
        .delete_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(&id)
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        client
            .get_documentation_part()
            .rest_api_id(&api)
            .documentation_part_id(&id)
            .send()
            .await
            .expect_error(
                "NotFoundException",
                "Invalid Documentation part identifier specified",
            );
    }
    client
        .delete_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(&id)
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn parts_are_listed_in_creation_order_with_filters_and_pages() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "docs").await;
    let mut made = Vec::new();
    for (kind, path, name, properties) in [
        (
            DocumentationPartType::Api,
            None,
            None,
            r#"{"description":"api"}"#,
        ),
        (DocumentationPartType::Resource, Some("/pets"), None, "{}"),
        (
            DocumentationPartType::Model,
            None,
            Some("Pet"),
            r#"{"title":"Pet"}"#,
        ),
        (DocumentationPartType::Model, None, Some("PetList"), "{}"),
        (
            DocumentationPartType::Method,
            Some("/pets"),
            None,
            r#"{"summary":"s"}"#,
        ),
    ] {
        let mut builder = location(kind);
        if let Some(path) = path {
            builder = builder.path(path);
        }
        if let Some(name) = name {
            builder = builder.name(name);
        }
        made.push(create_part(&client, &api, builder.build().unwrap(), properties).await);
    }
    let list = |kind: Option<DocumentationPartType>,
                name: Option<&str>,
                path: Option<&str>,
                status: Option<LocationStatusType>| {
        client
            .get_documentation_parts()
            .rest_api_id(&api)
            .set_type(kind)
            .set_name_query(name.map(str::to_owned))
            .set_path(path.map(str::to_owned))
            .set_location_status(status)
            .send()
    };
    let ids = |out: aws_sdk_apigateway::operation::get_documentation_parts::GetDocumentationPartsOutput| -> Vec<String> {
        out.items().iter().map(|p| p.id().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(list(None, None, None, None).await.unwrap()), made);
    assert_eq!(
        ids(list(Some(DocumentationPartType::Model), None, None, None)
            .await
            .unwrap()),
        made[2..4]
    );
    assert_eq!(
        ids(list(None, Some("PetL"), None, None).await.unwrap()),
        made[3..4]
    );
    assert_eq!(
        ids(list(None, None, Some("/pets"), None).await.unwrap()),
        [made[1].clone(), made[4].clone()]
    );
    assert_eq!(
        ids(
            list(None, None, None, Some(LocationStatusType::Undocumented))
                .await
                .unwrap()
        ),
        [made[1].clone(), made[3].clone()]
    );

    let mut paged = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = client
            .get_documentation_parts()
            .rest_api_id(&api)
            .limit(2)
            .set_position(position.clone())
            .send()
            .await
            .unwrap();
        assert!(page.items().len() <= 2);
        paged.extend(page.items().iter().map(|p| p.id().unwrap().to_owned()));
        match page.position() {
            Some(next) => position = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, made);

    client
        .get_documentation_parts()
        .rest_api_id("nosuch")
        .send()
        .await
        .expect_code("NotFoundException");
}

/// An OpenAPI document with documentation parts, as AWS exports them.
const DOCUMENTED: &str = r#"{
  "swagger": "2.0",
  "info": {"title": "documented", "version": "1"},
  "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok"}},
    "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
      "responses": {"default": {"statusCode": "200"}}}}}},
  "x-amazon-apigateway-documentation": {
    "version": "1",
    "documentationParts": [
      {"location": {"type": "API"}, "properties": {"description": "Pets, documented"}},
      {"location": {"type": "METHOD", "path": "/pets", "method": "GET"}, "properties": {"summary": "List pets", "tags": ["pets"]}},
      {"location": {"type": "RESPONSE", "path": "/pets", "method": "GET", "statusCode": "200"}, "properties": {"description": "The pets"}}
    ]
  }
}"#;

#[tokio::test]
async fn import_parts_merges_or_overwrites() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "docs").await;
    let kept = create_part(
        &client,
        &api,
        location(DocumentationPartType::Resource)
            .path("/kept")
            .build()
            .unwrap(),
        "{}",
    )
    .await;
    let api_part = create_part(
        &client,
        &api,
        location(DocumentationPartType::Api).build().unwrap(),
        r#"{"description":"old","info":{"contact":"me"}}"#,
    )
    .await;

    let merged = client
        .import_documentation_parts()
        .rest_api_id(&api)
        .body(Blob::new(DOCUMENTED))
        .send()
        .await
        .unwrap();
    assert_eq!(merged.ids().len(), 3);
    assert_eq!(
        merged.ids()[0],
        api_part,
        "the API part is merged, not added"
    );
    assert!(merged.warnings().is_empty());
    let got = client
        .get_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(&api_part)
        .send()
        .await
        .unwrap();
    let properties: Value = serde_json::from_str(got.properties().unwrap()).unwrap();
    assert_eq!(
        properties,
        json!({"description": "Pets, documented", "info": {"contact": "me"}})
    );
    let all = client
        .get_documentation_parts()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(all.items().len(), 4);
    assert!(all.items().iter().any(|p| p.id() == Some(kept.as_str())));

    let overwritten = client
        .import_documentation_parts()
        .rest_api_id(&api)
        .mode(PutMode::Overwrite)
        .body(Blob::new(DOCUMENTED))
        .send()
        .await
        .unwrap();
    let all = client
        .get_documentation_parts()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    let listed: Vec<&str> = all.items().iter().map(|p| p.id().unwrap()).collect();
    assert_eq!(
        listed,
        overwritten.ids(),
        "the file's parts only, in its order"
    );
    assert!(!listed.contains(&kept.as_str()));

    // A part that cannot be read is a warning, or refuses the import when asked.
    let broken = DOCUMENTED.replace(r#""type": "API""#, r#""type": "NOPE""#);
    let warned = client
        .import_documentation_parts()
        .rest_api_id(&api)
        .body(Blob::new(broken.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(warned.ids().len(), 2);
    assert!(
        warned.warnings()[0].contains("'NOPE' is not a documentation part type"),
        "{:?}",
        warned.warnings()
    );
    client
        .import_documentation_parts()
        .rest_api_id(&api)
        .fail_on_warnings(true)
        .body(Blob::new(broken))
        .send()
        .await
        .expect_error_containing("BadRequestException", "NOPE");
}

#[tokio::test]
async fn versions_snapshot_parts_for_stages_and_exports() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let imported = client
        .import_rest_api()
        .body(Blob::new(DOCUMENTED))
        .send()
        .await
        .unwrap();
    let api = imported.id().unwrap().to_owned();
    assert!(imported.warnings().is_empty(), "{:?}", imported.warnings());
    let parts = client
        .get_documentation_parts()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(
        parts.items().len(),
        3,
        "ImportRestApi imports the documentation"
    );
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "prod", &deployment).await;

    let version = client
        .create_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .stage_name("prod")
        .description("first")
        .send()
        .await
        .unwrap();
    assert_eq!(version.version(), Some("v1"));
    assert_eq!(version.description(), Some("first"));
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.documentation_version(), Some("v1"));
    client
        .create_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .send()
        .await
        .expect_code("ConflictException");

    // A later change of a part does not reach the version the export shows.
    let method = parts
        .items()
        .iter()
        .find(|p| {
            p.location()
                .is_some_and(|l| l.r#type() == &DocumentationPartType::Method)
        })
        .and_then(|p| p.id())
        .unwrap()
        .to_owned();
    client
        .update_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(&method)
        .patch_operations(replace("/properties", r#"{"summary":"changed"}"#))
        .send()
        .await
        .unwrap();
    let export = |server: &TestServer| {
        let path = format!("/restapis/{api}/stages/prod/exports/oas30");
        let server_url = server.url(&path);
        async move {
            let text = reqwest::Client::new()
                .get(server_url)
                .header("accept", "application/json")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            serde_json::from_str::<Value>(&text).unwrap()
        }
    };
    let document = export(&server).await;
    let documentation = &document["x-amazon-apigateway-documentation"];
    assert_eq!(documentation["version"], "v1");
    let exported = documentation["documentationParts"].as_array().unwrap();
    assert_eq!(exported.len(), 3);
    assert_eq!(
        exported[1]["location"],
        json!({"type": "METHOD", "path": "/pets", "method": "GET"})
    );
    assert_eq!(
        exported[1]["properties"],
        json!({"summary": "List pets", "tags": ["pets"]})
    );

    // The export imports again, documentation and all.
    let again = client
        .import_rest_api()
        .body(Blob::new(serde_json::to_vec(&document).unwrap()))
        .send()
        .await
        .unwrap();
    let again_parts = client
        .get_documentation_parts()
        .rest_api_id(again.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(again_parts.items().len(), 3);

    // Stages name only versions that exist; a version a stage names is kept.
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace("/documentationVersion", "nosuch"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid Documentation version specified",
        );
    client
        .delete_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .send()
        .await
        .expect_error_containing("BadRequestException", "[prod]");
    let updated = client
        .update_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .patch_operations(replace("/description", "the first"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("the first"));

    // Everything outlives a restart.
    server.restart().await;
    let client = server.client();
    let versions = client
        .get_documentation_versions()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.items().len(), 1);
    assert_eq!(versions.items()[0].description(), Some("the first"));
    let document = export(&server).await;
    assert_eq!(
        document["x-amazon-apigateway-documentation"]["documentationParts"][1]["properties"]["summary"],
        "List pets"
    );

    // PutRestApi in merge mode merges the document's parts into the API's.
    client
        .put_rest_api()
        .rest_api_id(&api)
        .mode(PutMode::Merge)
        .body(Blob::new(DOCUMENTED.replace("List pets", "Every pet")))
        .send()
        .await
        .unwrap();
    let got = client
        .get_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(&method)
        .send()
        .await
        .unwrap();
    let properties: Value = serde_json::from_str(got.properties().unwrap()).unwrap();
    assert_eq!(properties["summary"], "Every pet");

    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(remove("/documentationVersion"))
        .send()
        .await
        .unwrap();
    client
        .delete_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .send()
        .await
        .unwrap();
    client
        .get_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Documentation version specified",
        );
    let document = export(&server).await;
    assert!(document.get("x-amazon-apigateway-documentation").is_none());
}
