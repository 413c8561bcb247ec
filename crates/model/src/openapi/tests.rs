//! Tests of OpenAPI import and export: both versions, JSON and YAML, `$ref`s, the bounds, the
//! warnings, and export followed by import.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on the unexpected")]

use std::collections::BTreeMap;

use super::*;
use crate::entities::{ApiSnapshot, DeployedResource, EndpointConfiguration, Resource, RestApi};
use crate::enums::{
    AuthorizationType, ConnectionType, EndpointType, HttpMethod, IntegrationType,
    PassthroughBehavior,
};

fn plan(doc: &str) -> ImportPlan {
    plan_with(doc, &ImportOptions::default())
}

fn plan_with(doc: &str, options: &ImportOptions) -> ImportPlan {
    import(doc.as_bytes(), options).unwrap_or_else(|e| panic!("import failed: {e}"))
}

/// The message of a refused import.
fn refused(doc: &str) -> String {
    refused_with(doc.as_bytes(), &ImportOptions::default())
}

fn refused_with(doc: &[u8], options: &ImportOptions) -> String {
    match import(doc, options) {
        Ok(plan) => panic!("import should fail, got {plan:?}"),
        Err(e) => {
            assert_eq!(e.code(), "BadRequestException", "{e}");
            e.message().to_owned()
        }
    }
}

fn resource<'p>(plan: &'p ImportPlan, path: &str) -> &'p PlannedResource {
    plan.resources
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("no resource {path} in {:?}", paths(plan)))
}

fn paths(plan: &ImportPlan) -> Vec<&str> {
    plan.resources.iter().map(|r| r.path.as_str()).collect()
}

fn method<'p>(plan: &'p ImportPlan, path: &str, verb: &str) -> &'p Method {
    &resource(plan, path)
        .methods
        .get(verb)
        .unwrap_or_else(|| panic!("no {verb} on {path}"))
        .method
}

const PETSTORE_V2: &str = r##"{
  "swagger": "2.0",
  "info": {"title": "PetStore", "description": "Pets with mixed integrations", "version": "1.0"},
  "basePath": "/v1",
  "schemes": ["https"],
  "x-amazon-apigateway-binary-media-types": ["image/png"],
  "x-amazon-apigateway-api-key-source": "HEADER",
  "securityDefinitions": {
    "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}
  },
  "parameters": {
    "PetId": {"name": "petId", "in": "path", "required": true, "type": "string"}
  },
  "paths": {
    "/": {
      "get": {
        "responses": {"200": {"description": "home", "headers": {"Content-Type": {"type": "string"}}}},
        "x-amazon-apigateway-integration": {
          "type": "mock",
          "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
          "responses": {"default": {"statusCode": "200", "responseTemplates": {"text/html": "<h1>Pets</h1>"}}},
          "passthroughBehavior": "when_no_match"
        }
      }
    },
    "/pets": {
      "get": {
        "operationId": "ListPets",
        "parameters": [{"name": "type", "in": "query", "type": "string"}, {"name": "page", "in": "query", "required": true, "type": "string"}],
        "responses": {"200": {"description": "pets"}},
        "security": [{"api_key": []}],
        "x-amazon-apigateway-integration": {
          "type": "http_proxy",
          "httpMethod": "GET",
          "uri": "http://backend.example.com/pets",
          "timeoutInMillis": 5000
        }
      },
      "post": {
        "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Pet"}}],
        "responses": {"201": {"description": "created"}},
        "x-amazon-apigateway-integration": {
          "type": "http",
          "httpMethod": "POST",
          "uri": "http://backend.example.com/pets",
          "requestParameters": {"integration.request.header.x-source": "'import'"},
          "responses": {
            "2\\d{2}": {"statusCode": "201"},
            "default": {"statusCode": "500", "responseTemplates": {"application/json": "{\"message\": \"failed\"}"}}
          }
        }
      }
    },
    "/pets/{petId}": {
      "parameters": [{"$ref": "#/parameters/PetId"}],
      "get": {
        "responses": {"200": {"description": "a pet"}},
        "x-amazon-apigateway-integration": {
          "type": "HTTP_PROXY",
          "httpMethod": "GET",
          "uri": "http://backend.example.com/pets/{id}",
          "requestParameters": {"integration.request.path.id": "method.request.path.petId"}
        }
      }
    },
    "/store/{proxy+}": {
      "x-amazon-apigateway-any-method": {
        "parameters": [{"name": "proxy", "in": "path", "required": true, "type": "string"}],
        "x-amazon-apigateway-integration": {
          "type": "http_proxy",
          "httpMethod": "ANY",
          "uri": "http://backend.example.com/store/{proxy}",
          "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}
        }
      }
    }
  },
  "definitions": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
  "x-amazon-apigateway-gateway-responses": {
    "MISSING_AUTHENTICATION_TOKEN": {
      "statusCode": 404,
      "responseTemplates": {"application/json": "{\"message\": \"no such route\"}"}
    }
  }
}"##;

#[test]
fn swagger_json_pet_store() {
    let plan = plan(PETSTORE_V2);
    assert_eq!(plan.name.as_deref(), Some("PetStore"));
    assert_eq!(plan.version.as_deref(), Some("1.0"));
    assert_eq!(
        plan.description.as_deref(),
        Some("Pets with mixed integrations")
    );
    assert_eq!(plan.binary_media_types, Some(vec!["image/png".to_owned()]));
    assert_eq!(
        paths(&plan),
        ["/", "/pets", "/pets/{petId}", "/store", "/store/{proxy+}"],
        "the base path is ignored by default, intermediate /store is added"
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);

    let root = method(&plan, "/", "GET");
    let mock = root.integration.as_ref().unwrap();
    assert_eq!(mock.kind, IntegrationType::Mock);
    assert_eq!(mock.connection_type, None);
    assert_eq!(mock.integration_responses["200"].selection_pattern, None);
    assert_eq!(
        root.method_responses["200"].response_parameters,
        BTreeMap::from([("method.response.header.Content-Type".to_owned(), false)])
    );

    let list = method(&plan, "/pets", "GET");
    assert_eq!(list.operation_name.as_deref(), Some("ListPets"));
    assert!(list.api_key_required);
    assert_eq!(
        list.request_parameters,
        BTreeMap::from([
            ("method.request.querystring.page".to_owned(), true),
            ("method.request.querystring.type".to_owned(), false),
        ])
    );
    let proxy = list.integration.as_ref().unwrap();
    assert_eq!(proxy.kind, IntegrationType::HttpProxy);
    assert_eq!(proxy.timeout_in_millis, 5000);
    assert_eq!(proxy.connection_type, Some(ConnectionType::Internet));
    assert_eq!(
        proxy.passthrough_behavior,
        Some(PassthroughBehavior::WhenNoMatch)
    );
    assert_eq!(
        proxy.cache_namespace, "",
        "filled with the resource id on apply"
    );

    let create = method(&plan, "/pets", "POST");
    assert!(
        create.request_parameters.is_empty(),
        "body parameters are models"
    );
    let responses = &create.integration.as_ref().unwrap().integration_responses;
    assert_eq!(
        responses["201"].selection_pattern.as_deref(),
        Some("2\\d{2}")
    );
    assert_eq!(responses["500"].selection_pattern, None);

    let pet = method(&plan, "/pets/{petId}", "GET");
    assert_eq!(
        pet.request_parameters,
        BTreeMap::from([("method.request.path.petId".to_owned(), true)])
    );
    let any = method(&plan, "/store/{proxy+}", "ANY");
    assert_eq!(any.http_method, HttpMethod::Any);
    assert_eq!(
        any.integration.as_ref().unwrap().http_method,
        Some(HttpMethod::Any)
    );
    let store = resource(&plan, "/store/{proxy+}");
    assert_eq!(store.path_part, "{proxy+}");
    assert_eq!(store.parent_path.as_deref(), Some("/store"));
    assert!(resource(&plan, "/store").methods.is_empty());

    assert_eq!(plan.gateway_responses.len(), 1);
    let missing = &plan.gateway_responses[0];
    assert_eq!(missing.response_type, "MISSING_AUTHENTICATION_TOKEN");
    assert_eq!(missing.status_code.as_deref(), Some("404"));
    assert!(!missing.default_response);
}

const PETSTORE_V3_YAML: &str = r#"
openapi: 3.0.1
info:
  title: PetStore3
  version: 2
servers:
  - url: https://api.example.com/{basePath}
    variables:
      basePath:
        default: /v1/store
components:
  parameters:
    PetId:
      name: petId
      in: path
      required: true
      schema: {type: string}
  securitySchemes:
    api_key: {type: apiKey, name: x-api-key, in: header}
  x-amazon-apigateway-integrations:
    backend: &backend
      type: http_proxy
      httpMethod: GET
      uri: http://backend.example.com/pets/{id}
      requestParameters:
        integration.request.path.id: method.request.path.petId
paths:
  /pets/{petId}:
    get:
      parameters:
        - $ref: '#/components/parameters/PetId'
        - name: X-Trace
          in: header
          schema: {type: string}
      security:
        - api_key: []
      responses:
        200:
          description: a pet
          headers:
            X-Rate: {schema: {type: string}}
        2XX:
          description: a range
      x-amazon-apigateway-integration:
        $ref: '#/components/x-amazon-apigateway-integrations/backend'
    delete:
      parameters:
        - $ref: '#/components/parameters/PetId'
      responses:
        204: {description: gone}
      x-amazon-apigateway-integration: *backend
"#;

#[test]
fn openapi3_yaml_with_refs_integer_codes_and_anchors() {
    let plan = plan(PETSTORE_V3_YAML);
    assert_eq!(plan.name.as_deref(), Some("PetStore3"));
    assert_eq!(
        plan.version.as_deref(),
        Some("2"),
        "a number becomes its text"
    );
    assert_eq!(paths(&plan), ["/", "/pets", "/pets/{petId}"]);
    let get = method(&plan, "/pets/{petId}", "GET");
    assert!(get.api_key_required);
    assert_eq!(
        get.request_parameters,
        BTreeMap::from([
            ("method.request.header.X-Trace".to_owned(), false),
            ("method.request.path.petId".to_owned(), true),
        ])
    );
    assert_eq!(
        get.method_responses.keys().collect::<Vec<_>>(),
        ["200"],
        "integer keys are status codes; 2XX is not imported"
    );
    assert!(
        get.method_responses["200"]
            .response_parameters
            .contains_key("method.response.header.X-Rate")
    );
    let integration = get.integration.as_ref().unwrap();
    assert_eq!(
        integration.uri.as_deref(),
        Some("http://backend.example.com/pets/{id}")
    );
    let delete = method(&plan, "/pets/{petId}", "DELETE");
    assert_eq!(
        delete.integration, get.integration,
        "the YAML alias is the same integration"
    );
    assert_eq!(
        plan.warnings,
        [
            "Response ranges such as 2XX are not supported: paths.'/pets/{petId}'.get.responses.2XX was not imported"
        ]
    );
}

#[test]
fn base_path_ignore_prepend_split() {
    let with = |base_path| ImportOptions {
        base_path,
        ..ImportOptions::default()
    };
    // OpenAPI 2.0: `basePath`.
    let v2 = r#"{"swagger":"2.0","info":{"title":"b"},"basePath":"/base/part/","paths":{"/test":{"get":{}}}}"#;
    assert_eq!(
        paths(&plan_with(v2, &with(BasePath::Ignore))),
        ["/", "/test"]
    );
    assert_eq!(
        paths(&plan_with(v2, &with(BasePath::Prepend))),
        ["/", "/base", "/base/part", "/base/part/test"]
    );
    assert_eq!(
        paths(&plan_with(v2, &with(BasePath::Split))),
        ["/", "/part", "/part/test"],
        "split drops the first segment of the base path"
    );
    // OpenAPI 3: the path of the first server URL, variables filled in.
    assert_eq!(
        paths(&plan_with(PETSTORE_V3_YAML, &with(BasePath::Prepend))),
        [
            "/",
            "/v1",
            "/v1/store",
            "/v1/store/pets",
            "/v1/store/pets/{petId}"
        ]
    );
    let url = r#"{"openapi":"3.0.0","info":{"title":"b"},"servers":[{"url":"https://x.example.com/base-url/part"}],"paths":{"/test":{"get":{}}}}"#;
    assert_eq!(
        paths(&plan_with(url, &with(BasePath::Split))),
        ["/", "/part", "/part/test"]
    );
    let relative = r#"{"openapi":"3.0.0","info":{"title":"b"},"servers":[{"url":"/rel"}],"paths":{"/test":{"get":{}}}}"#;
    assert_eq!(
        paths(&plan_with(relative, &with(BasePath::Prepend))),
        ["/", "/rel", "/rel/test"]
    );
}

#[test]
fn swagger_yaml_and_openapi_31_are_read() {
    let v2 = "swagger: 2.0\ninfo: {title: y}\npaths:\n  /a:\n    get:\n      x-amazon-apigateway-integration: {type: MOCK}\n";
    assert_eq!(paths(&plan(v2)), ["/", "/a"]);
    let v31 = "openapi: 3.1.0\ninfo: {title: y}\nwebhooks: {}\npaths:\n  /a: {get: {}}\n";
    let plan = plan(v31);
    assert_eq!(paths(&plan), ["/", "/a"]);
    assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
}

#[test]
fn refs_resolve_with_cycles_and_dangling_refs_refused() {
    let cycle = r##"{"openapi":"3.0.0","info":{"title":"c"},
      "components":{"parameters":{"A":{"$ref":"#/components/parameters/B"},"B":{"$ref":"#/components/parameters/A"}}},
      "paths":{"/x":{"get":{"parameters":[{"$ref":"#/components/parameters/A"}]}}}}"##;
    let message = refused(cycle);
    assert!(
        message.starts_with(
            "Errors found during import:\n\t$ref cycle at paths.'/x'.get.parameters[0]:"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "#/components/parameters/A -> #/components/parameters/B -> #/components/parameters/A"
        ),
        "{message}"
    );

    let self_ref =
        r##"{"swagger":"2.0","info":{"title":"c"},"paths":{"/x":{"$ref":"#/paths/~1x"}}}"##;
    assert!(
        refused(self_ref).contains("$ref cycle at paths.'/x'"),
        "{}",
        refused(self_ref)
    );

    let dangling = r##"{"swagger":"2.0","info":{"title":"c"},"paths":{"/x":{"get":{"parameters":[{"$ref":"#/parameters/Nope"}]}}}}"##;
    assert!(
        refused(dangling).contains("Invalid $ref '#/parameters/Nope' at paths.'/x'.get.parameters[0]: the document has nothing at that location"),
        "{}",
        refused(dangling)
    );
    let external = r#"{"swagger":"2.0","info":{"title":"c"},"paths":{"/x":{"get":{"parameters":[{"$ref":"other.yaml#/P"}]}}}}"#;
    assert!(refused(external).contains("only references inside the document"));

    // Circular schemas are fine: models are not imported, so they are never followed.
    let circular_models = r##"{"openapi":"3.0.0","info":{"title":"c"},
      "components":{"schemas":{"Person":{"type":"object","properties":{"friend":{"$ref":"#/components/schemas/Person"}}}}},
      "paths":{"/p":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Person"}}}}}}}}"##;
    assert_eq!(paths(&plan(circular_models)), ["/", "/p"]);
}

#[test]
fn bad_path_templates_name_the_path() {
    let doc = |path: &str| {
        format!(r#"{{"swagger":"2.0","info":{{"title":"p"}},"paths":{{"{path}":{{"get":{{}}}}}}}}"#)
    };
    let message = refused(&doc("/pets/a{id}"));
    assert_eq!(
        message,
        "Errors found during import:\n\tUnable to create resource at path '/pets/a{id}': 'a{id}': Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end. (at paths.'/pets/a{id}')"
    );
    assert!(
        refused(&doc("pets"))
            .contains("Invalid path 'pets' at paths.pets: a path must start with '/'")
    );
    assert!(refused(&doc("/a//b")).contains("empty segment"));
    assert!(refused(&doc("/{proxy+}/x")).contains(
        "Unable to create resource at path '/{proxy+}/x': Cannot create a child of a resource with a greedy path variable: {proxy+}"
    ));
    let siblings = r#"{"swagger":"2.0","info":{"title":"p"},"paths":{"/a/{id}":{"get":{}},"/a/{name}":{"get":{}}}}"#;
    let message = refused(siblings);
    assert!(
        message.contains("Unable to create resource at path '/a/{name}': A sibling ({id}) of this resource already has a variable path part -- only one is allowed (at paths.'/a/{name}')"),
        "{message}"
    );
    let duplicate =
        r#"{"swagger":"2.0","info":{"title":"p"},"paths":{"/a":{"get":{}},"/a/":{"get":{}}}}"#;
    assert!(refused(duplicate).contains("Duplicate path at paths.'/a/'"));
}

#[test]
fn malformed_documents_say_where() {
    let json = refused("{\"swagger\": \"2.0\",\n \"info\": {\"title\": }\n}");
    assert!(
        json.starts_with("The API definition is not valid JSON:"),
        "{json}"
    );
    assert!(json.contains("line 2"), "{json}");
    let yaml = refused("swagger: '2.0'\ninfo:\n  title: [unclosed\npaths: {}\n");
    assert!(
        yaml.starts_with("The API definition is not valid YAML:"),
        "{yaml}"
    );
    assert!(yaml.contains("line "), "{yaml}");
    assert_eq!(
        refused(""),
        "The API definition is empty: send an OpenAPI 2.0 or 3.0 document in JSON or YAML"
    );
    assert!(refused("- a\n- b\n").contains("must be an object"));
    assert!(refused("info: {title: x}\n").contains("names no version"));
    assert!(refused("openapi: 2.5.0\n").contains("Unsupported API definition version '2.5.0'"));
    assert!(refused("a: 1\n---\nb: 2\n").contains("more than one YAML document"));
    let not_utf8 = refused_with(b"swagger: \xff", &ImportOptions::default());
    assert!(not_utf8.contains("not UTF-8"), "{not_utf8}");
    assert!(
        refused("swagger: '2.0'\ninfo: {title: x}\npaths: []\n")
            .contains("Expected an object at paths, found a list")
    );
}

#[test]
fn oversize_deep_and_exploding_documents_are_refused() {
    let big = format!(
        "swagger: '2.0'\ninfo: {{title: big}}\nx-pad: '{}'\n",
        "a".repeat(MAX_DEFINITION_BYTES)
    );
    let message = refused(&big);
    assert!(
        message.contains("the largest accepted is 6 MB"),
        "{message}"
    );

    let deep_flow = format!("a: {}{}", "[".repeat(300), "]".repeat(300));
    let message = refused(&deep_flow);
    assert!(message.contains("not valid YAML"), "{message}");
    let deep_block: String = (0..200)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    let message = refused(&deep_block);
    assert!(
        message.contains("nesting deeper than 128 levels"),
        "{message}"
    );
    let deep_json = format!("{{\"a\": {}{}}}", "[".repeat(300), "]".repeat(300));
    assert!(refused(&deep_json).contains("not valid JSON"));

    // A "billion laughs": each level doubles ten times.
    let mut laughs = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let prev = level - 1;
        laughs.push_str(&format!(
            "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let message = refused(&laughs);
    assert!(message.contains("values"), "{message}");
    // Aliases that nest deeper than the bound are refused too.
    let mut nest = String::from("a0: &a0 [x]\n");
    for level in 1..200 {
        nest.push_str(&format!("a{level}: &a{level} [*a{}]\n", level - 1));
    }
    assert!(refused(&nest).contains("deeper than 128"));
}

#[test]
fn unsupported_things_are_warnings_never_silence() {
    let doc = r#"{
      "swagger": "2.0",
      "info": {"title": "w"},
      "x-amazon-apigateway-documentation": {"documentationParts": [
        {"location": {"type": "NOPE"}, "properties": {}},
        {"location": {"type": "API"}, "properties": {"description": "d"}}
      ]},
      "x-amazon-apigateway-request-validators": {"all": {}},
      "x-amazon-apigateway-shiny-new-thing": true,
      "x-logo": "ignored: not an AWS extension",
      "securityDefinitions": {
        "lambda": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://example.com/auth", "scopes": {}},
        "iam": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}
      },
      "paths": {
        "/a": {
          "trace": {},
          "get": {
            "security": [{"lambda": []}],
            "parameters": [{"name": "session", "in": "cookie"}],
            "responses": {"default": {"description": "any"}},
            "x-amazon-apigateway-request-validator": "all",
            "x-amazon-apigateway-integration": {"type": "mock", "integrationSubtype": "x"}
          },
          "post": {"security": [{"iam": []}]}
        }
      }
    }"#;
    let plan = plan(doc);
    let text = plan.warnings.join("\n");
    for expected in [
        "Documentation part 0 was not imported: 'NOPE' is not a documentation part type",
        "Unsupported extension x-amazon-apigateway-shiny-new-thing",
        "Security scheme 'lambda' (of type 'oauth2') is not supported",
        "TRACE is not a method API Gateway supports",
        "Cookie parameters are not supported: 'session'",
        "The 'default' response at paths.'/a'.get.responses.default was not imported",
        "Unsupported integration member 'integrationSubtype' at paths.'/a'.get.x-amazon-apigateway-integration.integrationSubtype",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        !text.contains("x-logo"),
        "other vendors' extensions are theirs: {text}"
    );
    assert_eq!(
        method(&plan, "/a", "POST").authorization_type,
        AuthorizationType::AwsIam
    );
    assert_eq!(
        method(&plan, "/a", "GET").authorization_type,
        AuthorizationType::None
    );

    let ignoring = ImportOptions {
        ignore_documentation: true,
        ..ImportOptions::default()
    };
    // The readable part is imported; ignoring documentation imports none, silently.
    let parts = plan.documentation.as_deref().unwrap_or_default();
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!(parts[0].properties, r#"{"description":"d"}"#);
    let quiet = plan_with(doc, &ignoring);
    assert!(!quiet.warnings.iter().any(|w| w.contains("Documentation")));
    assert_eq!(quiet.documentation, None);
}

#[test]
fn integration_errors_follow_aws_and_name_the_place() {
    let doc = r#"{"swagger":"2.0","info":{"title":"e"},"paths":{
      "/":{"get":{"x-amazon-apigateway-integration":{"type":"http","httpMethod":"GET","uri":"not a url"}}},
      "/t":{"get":{"x-amazon-apigateway-integration":{"type":"websocket"}}},
      "/u":{"get":{"x-amazon-apigateway-integration":{"type":"http_proxy","httpMethod":"GET","uri":"http://x","timeoutInMillis":60000}}},
      "/v":{"get":{"x-amazon-apigateway-integration":{"type":"mock","responses":{"default":{"statusCode":"700"}}}}},
      "/w":{"get":{"x-amazon-apigateway-integration":{"type":"http","httpMethod":"GET","uri":"http://x","connectionType":"VPC_LINK"}}}
    }}"#;
    let message = refused(doc);
    for expected in [
        "Errors found during import:\n\tUnable to put integration on 'GET' for resource at path '/': Invalid HTTP endpoint specified for URI (at paths.'/'.get.x-amazon-apigateway-integration)",
        "Invalid value 'websocket' at paths.'/t'.get.x-amazon-apigateway-integration.type: use one of http, http_proxy, mock, aws, aws_proxy",
        "Unable to put integration on 'GET' for resource at path '/u': Timeout should be between 50 ms and 29000 ms, got 60000",
        "Invalid status code '700' at paths.'/v'.get.x-amazon-apigateway-integration.responses.default.statusCode",
        "Connection id must be set",
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in\n{message}"
        );
    }
    let raised = ImportOptions {
        max_timeout_millis: crate::validate::RAISED_MAX_TIMEOUT_MILLIS,
        ..ImportOptions::default()
    };
    let slow = r#"{"swagger":"2.0","info":{"title":"e"},"paths":{"/u":{"get":{"x-amazon-apigateway-integration":{"type":"http_proxy","httpMethod":"GET","uri":"http://x","timeoutInMillis":60000}}}}}"#;
    assert_eq!(
        method(&plan_with(slow, &raised), "/u", "GET")
            .integration
            .as_ref()
            .unwrap()
            .timeout_in_millis,
        60000
    );
}

#[test]
fn streamed_integrations_import_with_their_longer_timeout_and_only_for_proxies() {
    // AWS's own example: a streamed HTTP_PROXY integration with a 15-minute timeout.
    let streamed = r#"{"openapi":"3.0.1","info":{"title":"s"},"paths":{"/s":{"get":{"x-amazon-apigateway-integration":{"type":"http_proxy","httpMethod":"GET","uri":"https://example.com","responseTransferMode":"STREAM","timeoutInMillis":900000}}}}}"#;
    let plan = plan(streamed);
    let integration = method(&plan, "/s", "GET").integration.as_ref().unwrap();
    assert_eq!(
        integration.response_transfer_mode,
        Some(crate::enums::ResponseTransferMode::Stream)
    );
    assert_eq!(integration.timeout_in_millis, 900_000);

    let refused_doc = r#"{"openapi":"3.0.1","info":{"title":"s"},"paths":{
      "/h":{"get":{"x-amazon-apigateway-integration":{"type":"http","httpMethod":"GET","uri":"http://x","responseTransferMode":"STREAM"}}},
      "/b":{"get":{"x-amazon-apigateway-integration":{"type":"http_proxy","httpMethod":"GET","uri":"http://x","responseTransferMode":"BUFFERED","timeoutInMillis":900000}}},
      "/x":{"get":{"x-amazon-apigateway-integration":{"type":"http_proxy","httpMethod":"GET","uri":"http://x","responseTransferMode":"SOMETIMES"}}}
    }}"#;
    let message = refused(refused_doc);
    for expected in [
        "Unable to put integration on 'GET' for resource at path '/h': Response transfer mode STREAM is only supported for integrations of type HTTP_PROXY and AWS_PROXY",
        "Unable to put integration on 'GET' for resource at path '/b': Timeout should be between 50 ms and 29000 ms, got 900000",
        "Invalid value 'SOMETIMES' at paths.'/x'.get.x-amazon-apigateway-integration.responseTransferMode",
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in\n{message}"
        );
    }
}

const VPC_LINK_YAML: &str = r#"
openapi: 3.0.1
info: {title: private, version: '1'}
paths:
  /{proxy+}:
    x-amazon-apigateway-any-method:
      parameters:
        - {name: proxy, in: path, required: true, schema: {type: string}}
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: ANY
        connectionType: VPC_LINK
        connectionId: ${stageVariables.VPCLINK}
        uri: http://${stageVariables.VPCNLB}/{proxy}
        requestParameters:
          integration.request.path.proxy: method.request.path.proxy
        tlsConfig: {insecureSkipVerification: false}
        cacheKeyParameters: [method.request.path.proxy]
"#;

#[test]
fn private_integration_through_a_stage_variable_vpc_link() {
    let plan = plan(VPC_LINK_YAML);
    let any = method(&plan, "/{proxy+}", "ANY");
    let integration = any.integration.as_ref().unwrap();
    assert_eq!(integration.connection_type, Some(ConnectionType::VpcLink));
    assert_eq!(
        integration.connection_id.as_deref(),
        Some("${stageVariables.VPCLINK}")
    );
    assert_eq!(
        integration.uri.as_deref(),
        Some("http://${stageVariables.VPCNLB}/{proxy}")
    );
    assert_eq!(
        integration.cache_key_parameters,
        ["method.request.path.proxy"]
    );
    assert!(integration.tls_config.is_some());
}

/// A deployment snapshot of what a plan would create, with resource ids `r0`, `r1`, ...
fn snapshot(plan: &ImportPlan) -> ApiSnapshot {
    let ids: BTreeMap<&str, String> = plan
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.path.as_str(), format!("r{i}")))
        .collect();
    let resources = plan
        .resources
        .iter()
        .enumerate()
        .map(|(seq, planned)| {
            let id = ids[planned.path.as_str()].clone();
            let methods = planned
                .methods
                .iter()
                .map(|(verb, m)| {
                    let mut method = m.method.clone();
                    if let Some(it) = &mut method.integration
                        && it.cache_namespace.is_empty()
                    {
                        it.cache_namespace = id.clone();
                    }
                    (verb.clone(), method)
                })
                .collect();
            DeployedResource {
                path: planned.path.clone(),
                resource: Resource {
                    id: id.clone(),
                    parent_id: planned.parent_path.as_deref().map(|p| ids[p].clone()),
                    path_part: planned.path_part.clone(),
                    methods,
                    seq: seq as u64,
                },
            }
        })
        .collect();
    ApiSnapshot {
        api: RestApi {
            id: "abc123defg".into(),
            name: plan.name.clone().unwrap_or_default(),
            description: plan.description.clone(),
            created_date: 1_700_000_000,
            version: plan.version.clone(),
            binary_media_types: plan.binary_media_types.clone().unwrap_or_default(),
            minimum_compression_size: plan.minimum_compression_size,
            api_key_source: plan
                .api_key_source
                .unwrap_or(crate::enums::ApiKeySource::Header),
            endpoint_configuration: EndpointConfiguration {
                types: vec![EndpointType::Regional],
                ip_address_type: "ipv4".into(),
                vpc_endpoint_ids: Vec::new(),
            },
            policy: plan.policy.clone(),
            tags: BTreeMap::new(),
            disable_execute_api_endpoint: false,
            root_resource_id: "r0".into(),
            security_policy: None,
            endpoint_access_mode: None,
        },
        resources,
        gateway_responses: plan.gateway_responses.clone(),
        models: plan
            .models
            .iter()
            .map(|m| crate::Model {
                id: m.name.to_lowercase(),
                name: m.name.clone(),
                description: m.description.clone(),
                schema: m.schema_for("abc123defg"),
                content_type: "application/json".into(),
            })
            .collect(),
        // Methods of a plan name validators by name: here the ids are the names.
        request_validators: plan
            .request_validators
            .iter()
            .map(|v| crate::RequestValidator {
                id: v.name.clone(),
                name: Some(v.name.clone()),
                validate_request_body: v.validate_request_body,
                validate_request_parameters: v.validate_request_parameters,
            })
            .collect(),
        // Methods of a plan name authorizers by scheme name: here the ids are the names.
        authorizers: plan
            .authorizers
            .iter()
            .map(|a| crate::Authorizer {
                id: a.name.clone(),
                ..a.clone()
            })
            .collect(),
    }
}

fn options(export_type: ExportType, integrations: bool) -> ExportOptions {
    ExportOptions {
        export_type,
        extensions: Extensions {
            integrations,
            apigateway: false,
            authorizers: integrations,
        },
        stage_name: "prod".into(),
        host: "abc123defg.execute-api.us-east-1.amazonaws.com".into(),
        deployed_at: 1_700_000_000,
        documentation: None,
    }
}

/// Every method of a plan by path and verb, with cache namespaces cleared (they are resource
/// ids, which differ between two imports).
fn methods(plan: &ImportPlan) -> BTreeMap<(String, String), Method> {
    plan.resources
        .iter()
        .flat_map(|r| {
            r.methods.iter().map(|(verb, m)| {
                let mut method = m.method.clone();
                if let Some(it) = &mut method.integration {
                    it.cache_namespace.clear();
                }
                ((r.path.clone(), verb.clone()), method)
            })
        })
        .collect()
}

#[test]
fn export_then_import_gives_the_same_api() {
    for source in [PETSTORE_V2, PETSTORE_V3_YAML, VPC_LINK_YAML] {
        let original = plan(source);
        let deployed = snapshot(&original);
        for export_type in [ExportType::Swagger, ExportType::Oas30] {
            for format in [Format::Json, Format::Yaml] {
                let mut with = options(export_type, true);
                with.extensions.apigateway = true;
                let document = render(&export(&deployed, &with), format).unwrap();
                let text = String::from_utf8(document.clone()).unwrap();
                let again = import(&document, &ImportOptions::default())
                    .unwrap_or_else(|e| panic!("re-import failed: {e}\n{text}"));
                assert_eq!(again.name, original.name);
                assert_eq!(again.version, original.version);
                assert_eq!(paths(&again), paths(&original), "{text}");
                assert_eq!(methods(&again), methods(&original), "{text}");
                assert_eq!(again.gateway_responses, original.gateway_responses);
                let models = |plan: &ImportPlan| {
                    plan.models
                        .iter()
                        .map(|m| (m.name.clone(), m.description.clone(), m.schema.clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(models(&again), models(&original), "{text}");
                assert_eq!(again.request_validators, original.request_validators);
                assert_eq!(again.binary_media_types, original.binary_media_types);
                assert!(again.warnings.is_empty(), "{:?}\n{text}", again.warnings);
            }
        }
    }
}

#[test]
fn export_shapes() {
    let deployed = snapshot(&plan(PETSTORE_V2));
    let swagger = export(&deployed, &options(ExportType::Swagger, false));
    assert_eq!(swagger.get("swagger"), Some(&Node::Str("2.0".into())));
    assert_eq!(swagger.get("basePath"), Some(&Node::Str("/prod".into())));
    assert_eq!(
        swagger.get("host"),
        Some(&Node::Str(
            "abc123defg.execute-api.us-east-1.amazonaws.com".into()
        ))
    );
    let json: serde_json::Value =
        serde_json::from_slice(&render(&swagger, Format::Json).unwrap()).unwrap();
    assert!(
        json["paths"]["/pets"]["get"]
            .get("x-amazon-apigateway-integration")
            .is_none(),
        "integrations only with extensions"
    );
    assert_eq!(
        json["paths"]["/pets"]["get"]["security"][0]["api_key"],
        serde_json::json!([])
    );
    assert_eq!(json["securityDefinitions"]["api_key"]["name"], "x-api-key");
    assert!(
        json["paths"].get("/store").is_none(),
        "resources without methods are implied"
    );
    assert!(
        json["paths"]["/store/{proxy+}"]
            .get("x-amazon-apigateway-any-method")
            .is_some()
    );

    let oas = export(&deployed, &options(ExportType::Oas30, true));
    let json: serde_json::Value =
        serde_json::from_slice(&render(&oas, Format::Json).unwrap()).unwrap();
    assert_eq!(json["openapi"], "3.0.1");
    assert_eq!(
        json["servers"][0]["url"],
        "https://abc123defg.execute-api.us-east-1.amazonaws.com/{basePath}"
    );
    assert_eq!(
        json["servers"][0]["variables"]["basePath"]["default"],
        "prod"
    );
    assert_eq!(
        json["components"]["securitySchemes"]["api_key"]["in"],
        "header"
    );
    let integration = &json["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"];
    assert_eq!(integration["type"], "http_proxy");
    assert_eq!(integration["passthroughBehavior"], "when_no_match");
    assert!(integration.get("cacheNamespace").is_none());

    let yaml = String::from_utf8(render(&oas, Format::Yaml).unwrap()).unwrap();
    assert!(yaml.starts_with("---\nopenapi: \"3.0.1\"\n"), "{yaml}");
    assert!(
        yaml.contains("\"200\":"),
        "status codes stay strings in YAML: {yaml}"
    );
}

#[test]
fn timestamps() {
    assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    assert_eq!(timestamp(1_456_184_452), "2016-02-22T23:40:52Z");
    assert_eq!(timestamp(951_782_400), "2000-02-29T00:00:00Z");
}

#[test]
fn locations_read_well() {
    let loc = Loc::root()
        .key("paths")
        .key("/pets")
        .key("get")
        .key("parameters")
        .index(2)
        .key("name");
    assert_eq!(loc.to_string(), "paths.'/pets'.get.parameters[2].name");
    assert_eq!(Loc::root().to_string(), "the document root");
    assert_eq!(
        Loc::from_pointer("/components/parameters/a~1b").to_string(),
        "components.parameters.'a/b'"
    );
}

#[test]
fn yaml_export_of_awkward_strings_reads_back() {
    let awkward = [
        "",
        " lead",
        "trail ",
        "true",
        "No",
        "~",
        "null",
        "3.0",
        "0x1F",
        "1e5",
        "- dash",
        "a: b",
        "a #b",
        "'quoted'",
        "\"double\"",
        "back\\slash",
        "line\nbreak\r\ttab",
        "\u{0}\u{7}\u{1b}\u{7f}\u{85}\u{9f}\u{feff}\u{ffff}",
        "{braces}",
        "[list]",
        "*alias",
        "&anchor",
        "!tag",
        "%directive",
        "@at",
        "`tick`",
        "…ünïcødé…",
        "plain words here",
    ];
    let long_key = "k".repeat(2_000);
    let mut entries: Vec<(String, Node)> = awkward
        .iter()
        .map(|s| ((*s).to_owned(), Node::Str((*s).to_owned())))
        .collect();
    entries.push((
        long_key.clone(),
        Node::Map(vec![("x".into(), Node::Int(1))]),
    ));
    entries.push((
        "list".into(),
        Node::Seq(vec![
            Node::Map(vec![(long_key.clone(), Node::Null)]),
            Node::Map(vec![
                ("a".into(), Node::Float(1e300)),
                ("b".into(), Node::Seq(Vec::new())),
            ]),
            Node::Seq(vec![Node::Bool(false)]),
            Node::Map(Vec::new()),
        ]),
    ));
    let node = Node::Map(entries);
    let text = String::from_utf8(render(&node, Format::Yaml).unwrap()).unwrap();
    let back = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let expected: serde_json::Value =
        serde_json::from_slice(&render(&node, Format::Json).unwrap()).unwrap();
    assert_eq!(back, expected, "{text}");
}

#[test]
fn request_validators_and_models_are_imported() {
    let doc = r##"{
      "openapi": "3.0.1",
      "info": {"title": "Validated"},
      "x-amazon-apigateway-request-validators": {
        "all": {"validateRequestBody": true, "validateRequestParameters": true},
        "params": {"validateRequestParameters": true}
      },
      "x-amazon-apigateway-request-validator": "params",
      "paths": {
        "/pets": {
          "post": {
            "operationId": "create-pet",
            "x-amazon-apigateway-request-validator": "all",
            "requestBody": {"content": {
              "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
              "application/xml": {"schema": {"type": "object", "required": ["id"]}}
            }},
            "responses": {"200": {"description": "ok"}}
          },
          "get": {
            "parameters": [{"name": "limit", "in": "query", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok", "content": {
              "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
              "text/plain": {"schema": {"type": "string"}}
            }}}
          }
        }
      },
      "components": {"schemas": {
        "Pet": {"type": "object", "description": "a pet",
                "properties": {"owner": {"$ref": "#/components/schemas/Owner"},
                               "tag": {"$ref": "#/components/schemas/Owner/properties/name"}}},
        "Owner": {"type": "object", "properties": {"name": {"type": "string"}}}
      }}
    }"##;
    let plan = plan(doc);
    assert_eq!(
        plan.request_validators,
        [
            PlannedValidator {
                name: "all".into(),
                validate_request_body: true,
                validate_request_parameters: true
            },
            PlannedValidator {
                name: "params".into(),
                validate_request_body: false,
                validate_request_parameters: true
            }
        ]
    );
    let names: Vec<&str> = plan.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Owner", "Pet", "CreatePetBody"]);
    let pet = &plan.models[1];
    assert_eq!(pet.description.as_deref(), Some("a pet"));
    let schema = pet.schema_for("abc123defg");
    assert!(
        schema.contains(
            r#""$ref":"https://apigateway.amazonaws.com/restapis/abc123defg/models/Owner""#
        ),
        "{schema}"
    );
    assert!(schema.contains("models/Owner#/properties/name"), "{schema}");
    let pets = plan.resources.iter().find(|r| r.path == "/pets").unwrap();
    let post = &pets.methods["POST"].method;
    assert_eq!(post.request_validator_id.as_deref(), Some("all"));
    assert_eq!(post.request_models["application/json"], "Pet");
    assert_eq!(post.request_models["application/xml"], "CreatePetBody");
    let get = &pets.methods["GET"].method;
    assert_eq!(get.request_validator_id.as_deref(), Some("params"));
    assert!(get.request_models.is_empty());
    // A response schema named by `$ref` is the response's model; an inline one is not.
    assert_eq!(
        get.method_responses["200"].response_models,
        crate::StringMap::from([("application/json".to_owned(), "Pet".to_owned())])
    );

    // A validator the document does not declare, or a body model it does not have.
    let bad = doc
        .replace(
            r#""x-amazon-apigateway-request-validator": "all""#,
            r#""x-amazon-apigateway-request-validator": "nope""#,
        )
        .replace(
            "#/components/schemas/Pet\"}",
            "#/components/schemas/Gone\"}",
        );
    let message = import(bad.as_bytes(), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("Invalid request validator 'nope' at paths.'/pets'.post.x-amazon-apigateway-request-validator"), "{message}");
    assert!(message.contains("Invalid model 'Gone' at paths.'/pets'.post.requestBody.content.'application/json'.schema"), "{message}");
    let bad_name = doc.replace("\"Owner\": {\"type\"", "\"Own_er\": {\"type\"");
    let message = import(bad_name.as_bytes(), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("Unable to create model for 'Own_er'"),
        "{message}"
    );
}

#[test]
fn swagger_body_parameters_name_models_for_what_they_consume() {
    let doc = r##"{
      "swagger": "2.0",
      "info": {"title": "Bodies"},
      "consumes": ["application/json", "text/plain"],
      "paths": {"/pets": {"post": {
        "parameters": [{"name": "NewPet", "in": "body", "required": true,
                        "schema": {"$ref": "#/definitions/NewPet"}}],
        "responses": {"200": {"description": "ok"}}
      }}},
      "definitions": {"NewPet": {"type": "object"}}
    }"##;
    let plan = plan(doc);
    let pets = plan.resources.iter().find(|r| r.path == "/pets").unwrap();
    let post = &pets.methods["POST"].method;
    assert_eq!(post.request_models.len(), 2);
    assert_eq!(post.request_models["text/plain"], "NewPet");
    assert!(post.request_parameters.is_empty());
}

#[test]
fn authorizers_come_in_from_security_schemes_and_go_out_the_same() {
    let doc = r#"{
      "openapi": "3.0.1",
      "info": {"title": "guarded", "version": "1"},
      "components": {"securitySchemes": {
        "tokens": {"type": "apiKey", "name": "X-Token", "in": "header",
                   "x-amazon-apigateway-authtype": "custom",
                   "x-amazon-apigateway-authorizer": {
                     "type": "token",
                     "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
                     "identityValidationExpression": "^Bearer .+$",
                     "authorizerResultTtlInSeconds": 60}},
        "requests": {"type": "apiKey", "name": "Unused", "in": "header",
                     "x-amazon-apigateway-authorizer": {
                       "type": "request",
                       "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
                       "identitySource": "method.request.header.X-User, method.request.querystring.team"}},
        "pool": {"type": "apiKey", "name": "Authorization", "in": "header",
                 "x-amazon-apigateway-authtype": "cognito_user_pools",
                 "x-amazon-apigateway-authorizer": {
                   "type": "cognito_user_pools",
                   "providerARNs": ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pool1"]}}
      }},
      "paths": {
        "/a": {"get": {"security": [{"tokens": []}], "responses": {"200": {"description": "ok"}},
                       "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}}},
        "/b": {"get": {"security": [{"requests": []}], "responses": {"200": {"description": "ok"}},
                       "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}}},
        "/c": {"get": {"security": [{"pool": ["pets/admin"]}], "responses": {"200": {"description": "ok"}},
                       "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}}}
      }
    }"#;
    let plan = plan(doc);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    let by_name = |name: &str| {
        plan.authorizers
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no authorizer {name}: {:?}", plan.authorizers))
    };
    let tokens = by_name("tokens");
    assert_eq!(tokens.kind, crate::AuthorizerType::Token);
    // A TOKEN authorizer without identitySource reads its scheme's header.
    assert_eq!(
        tokens.identity_source.as_deref(),
        Some("method.request.header.X-Token")
    );
    assert_eq!(tokens.authorizer_result_ttl_in_seconds, Some(60));
    assert_eq!(tokens.auth_type.as_deref(), Some("custom"));
    assert_eq!(by_name("requests").kind, crate::AuthorizerType::Request);
    let pool = by_name("pool");
    assert_eq!(pool.provider_arns.len(), 1);
    assert_eq!(
        pool.identity_source.as_deref(),
        Some("method.request.header.Authorization")
    );
    let a = method(&plan, "/a", "GET");
    assert_eq!(a.authorization_type, AuthorizationType::Custom);
    assert_eq!(a.authorizer_id.as_deref(), Some("tokens"));
    let c = method(&plan, "/c", "GET");
    assert_eq!(c.authorization_type, AuthorizationType::CognitoUserPools);
    assert_eq!(c.authorizer_id.as_deref(), Some("pool"));
    assert_eq!(c.authorization_scopes, ["pets/admin"]);

    // Exported with the authorizers' settings, and read back the same.
    let exported = export(&snapshot(&plan), &options(ExportType::Oas30, true));
    let text = String::from_utf8(render(&exported, Format::Json).unwrap()).unwrap();
    let again = self::plan(&text);
    assert_eq!(again.authorizers, plan.authorizers, "{text}");
    assert_eq!(method(&again, "/c", "GET"), c);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let schemes = &value["components"]["securitySchemes"];
    assert_eq!(schemes["requests"]["name"], "Unused");
    assert_eq!(
        schemes["tokens"]["x-amazon-apigateway-authorizer"]["type"],
        "token"
    );
    assert_eq!(
        value["paths"]["/c"]["get"]["security"][0]["pool"][0],
        "pets/admin"
    );

    // A broken authorizer is an error that names its place.
    let broken = doc.replace("\"type\": \"token\"", "\"type\": \"jwt\"");
    assert!(refused(&broken).contains("Invalid authorizer type 'jwt'"));
}

#[test]
fn parameter_mappings_must_name_what_the_operation_declares() {
    let doc = r#"{"swagger":"2.0","info":{"title":"m"},"paths":{
      "/ok/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"type":"string"}],
        "responses":{"200":{"description":"ok","headers":{"X-Up":{"type":"string"}}}},
        "x-amazon-apigateway-integration":{"type":"http","httpMethod":"GET","uri":"http://x/{id}",
          "requestParameters":{"integration.request.path.id":"method.request.path.id"},
          "responses":{"default":{"statusCode":"200","responseParameters":{"method.response.header.X-Up":"integration.response.header.X-Up"}}}}}},
      "/pets":{"get":{"responses":{"200":{"description":"ok"}},
        "x-amazon-apigateway-integration":{"type":"http","httpMethod":"GET","uri":"http://x",
          "requestParameters":{"integration.request.querystring.q":"method.request.querystring.q"}}}},
      "/foo":{"post":{"responses":{"200":{"description":"ok"}},
        "x-amazon-apigateway-integration":{"type":"mock",
          "responses":{"default":{"statusCode":"200","responseParameters":{"method.response.header.Location":"'x'"}}}}}}
    }}"#;
    let message = refused(doc);
    for expected in [
        "Unable to put integration on 'GET' for resource at path '/pets': Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: method.request.querystring.q]",
        "Unable to put integration response on 'POST' for resource at path '/foo': Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: method.response.header.Location]",
    ] {
        assert!(message.contains(expected), "{expected}\nnot in\n{message}");
    }
    assert!(!message.contains("'/ok/{id}'"), "{message}");
}
