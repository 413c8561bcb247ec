use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::*;
use crate::{AuthorizationType, HttpMethod};

const API: &str = "a1b2c3d4e5";

fn others(models: &[(&str, &str)]) -> BTreeMap<String, String> {
    models
        .iter()
        .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
        .collect()
}

fn message(result: Result<(), ApiError>) -> String {
    match result {
        Err(ApiError::BadRequest(message)) => message,
        other => panic!("expected a BadRequest, got {other:?}"),
    }
}

fn model(name: &str, schema: &str) -> Model {
    Model {
        id: format!("id{name}"),
        name: name.to_owned(),
        description: None,
        schema: schema.to_owned(),
        content_type: "application/json".to_owned(),
    }
}

fn compiled(models: &[Model], name: &str) -> Arc<BodySchema> {
    let wanted: BTreeSet<String> = [name.to_owned()].into();
    let (compiled, failed) = compile_models(API, models, &wanted);
    assert!(failed.is_empty(), "{failed:?}");
    compiled[name].clone()
}

#[test]
fn model_names_are_alphanumeric_and_not_empty() {
    check_name("Pet2").unwrap();
    assert_eq!(message(check_name("")), "Model name must be non-empty");
    assert_eq!(
        message(check_name("body_1")),
        "Model name must be alphanumeric: body_1"
    );
    assert!(check_name("Pét").is_err());
    check_content_type("application/json").unwrap();
    assert!(check_content_type("").is_err());
    assert!(check_content_type("json").is_err());
}

#[test]
fn the_default_models_are_valid_schemas() {
    for (name, _, schema) in DEFAULT_MODELS {
        check_schema(API, name, schema, &BTreeMap::new()).unwrap();
    }
}

#[test]
fn schemas_must_be_valid_draft_4_json_schema() {
    let none = BTreeMap::new();
    assert_eq!(
        message(check_schema(API, "M", "  ", &none)),
        "Model schema must have at least 1 property or array items defined"
    );
    for (schema, detail) in [
        ("{not json", "The schema is not JSON"),
        ("[1, 2]", "must be a JSON object"),
        (r#"{"type": 5}"#, "not a valid JSON Schema draft 4 document"),
        // Draft 4 wants at least one name in `required` (AWS refuses `[]` too).
        (r#"{"type": "object", "required": []}"#, "draft 4"),
        (
            r#"{"pattern": "(unclosed"}"#,
            "Invalid model schema specified",
        ),
    ] {
        let message = message(check_schema(API, "M", schema, &none));
        assert!(
            message.starts_with(
                "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified."
            ),
            "{message}"
        );
        assert!(message.contains(detail), "{schema}: {message}");
    }
}

#[test]
fn models_refer_only_to_models_of_their_api() {
    let pet = format!(
        r#"{{"type": "object", "properties": {{"owner": {{"$ref": "{}"}}}}}}"#,
        model_url(API, "Owner")
    );
    let known = others(&[("Owner", r#"{"type": "object"}"#)]);
    check_schema(API, "Pet", &pet, &known).unwrap();
    let message = message(check_schema(API, "Pet", &pet, &BTreeMap::new()));
    assert!(message.contains("Unresolvable reference"), "{message}");
    // Another API's model, or anything on the web, is never fetched.
    let foreign = pet.replace(API, "zzzzzzzzzz");
    assert!(check_schema(API, "Pet", &foreign, &known).is_err());
    let web = r#"{"$ref": "http://example.com/schema.json"}"#;
    assert!(check_schema(API, "Pet", web, &known).is_err());
    // Itself (a recursive model) and its own parts are fine.
    let tree = format!(
        r##"{{"type": "object", "definitions": {{"leaf": {{"type": "string"}}}},
             "properties": {{"children": {{"type": "array", "items": {{"$ref": "{}"}}}},
                             "name": {{"$ref": "#/definitions/leaf"}}}}}}"##,
        model_url(API, "Tree")
    );
    check_schema(API, "Tree", &tree, &BTreeMap::new()).unwrap();
    assert_eq!(
        referenced_models(API, &pet),
        BTreeSet::from(["Owner".to_owned()])
    );
}

#[test]
fn bodies_are_checked_against_the_model_and_the_models_it_names() {
    let owner = model(
        "Owner",
        r#"{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}"#,
    );
    let pet = model(
        "Pet",
        &format!(
            r#"{{"type": "object", "required": ["owner"],
                 "properties": {{"owner": {{"$ref": "{}"}}, "age": {{"type": "integer", "minimum": 0}}}}}}"#,
            model_url(API, "Owner")
        ),
    );
    let schema = compiled(&[owner, pet], "Pet");
    schema
        .check(br#"{"owner": {"name": "Ann"}, "age": 3}"#)
        .unwrap();
    let error = schema.check(br#"{"owner": {}}"#).unwrap_err();
    assert!(
        error.contains("name") && error.contains("/owner"),
        "{error}"
    );
    let error = schema
        .check(br#"{"owner": {"name": "Ann"}, "age": -1}"#)
        .unwrap_err();
    assert!(error.contains("/age"), "{error}");
    // An empty body is `{}`, which lacks `owner`; a body that is not JSON never passes.
    assert!(schema.check(b"").is_err());
    assert!(
        schema
            .check(b"{\"owner\":")
            .unwrap_err()
            .contains("not JSON")
    );
    let empty = compiled(&[model("Empty", DEFAULT_MODELS[0].2)], "Empty");
    empty.check(b"").unwrap();
    empty.check(b" \r\n").unwrap();
    assert!(empty.check(b"[]").is_err());
}

#[test]
fn recursive_models_compile_and_check() {
    let tree = model(
        "Tree",
        &format!(
            r#"{{"type": "object", "properties": {{"children": {{"type": "array", "items": {{"$ref": "{}"}}}}, "name": {{"type": "string"}}}}}}"#,
            model_url(API, "Tree")
        ),
    );
    let schema = compiled(&[tree], "Tree");
    schema
        .check(br#"{"name": "a", "children": [{"name": "b", "children": []}]}"#)
        .unwrap();
    assert!(schema.check(br#"{"children": [{"name": 1}]}"#).is_err());
}

fn method(parameters: &[(&str, bool)], models: &[(&str, &str)], validator: &str) -> Method {
    Method {
        http_method: HttpMethod::Post,
        authorization_type: AuthorizationType::None,
        authorizer_id: None,
        api_key_required: false,
        request_validator_id: Some(validator.to_owned()),
        operation_name: None,
        request_parameters: parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
        request_models: models
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        method_responses: BTreeMap::new(),
        integration: None,
        authorization_scopes: Vec::new(),
    }
}

fn validator(id: &str, body: bool, parameters: bool) -> RequestValidator {
    RequestValidator {
        id: id.to_owned(),
        name: Some(id.to_owned()),
        validate_request_body: body,
        validate_request_parameters: parameters,
    }
}

#[test]
fn required_parameters_are_listed_in_aws_order() {
    let validators = [validator("all", true, true), validator("body", true, false)];
    let m = method(
        &[
            ("method.request.querystring.qs1", true),
            ("method.request.header.x-header-param", true),
            ("method.request.path.issuer", true),
            ("method.request.querystring.optional", false),
        ],
        &[],
        "all",
    );
    let validation = RequestValidation::compile(&m, &validators, &HashMap::new()).unwrap();
    assert_eq!(
        validation.missing(|_, _| false),
        ["x-header-param", "issuer", "qs1"]
    );
    assert!(
        validation
            .missing(|location, name| location == ParameterIn::QueryString || name == "issuer")
            == ["x-header-param"]
    );
    // A validator that checks bodies only, a method without models: nothing to check.
    let mut body_only = m.clone();
    body_only.request_validator_id = Some("body".to_owned());
    assert!(RequestValidation::compile(&body_only, &validators, &HashMap::new()).is_none());
    // An unknown validator or none at all: nothing either.
    body_only.request_validator_id = Some("gone".to_owned());
    assert!(RequestValidation::compile(&body_only, &validators, &HashMap::new()).is_none());
    body_only.request_validator_id = None;
    assert!(RequestValidation::compile(&body_only, &validators, &HashMap::new()).is_none());
}

#[test]
fn the_body_model_follows_the_content_type() {
    let models = [
        model("Pet", r#"{"type": "object", "required": ["name"]}"#),
        model("Any", r#"{"type": "array"}"#),
    ];
    let wanted: BTreeSet<String> = ["Pet".to_owned(), "Any".to_owned()].into();
    let (compiled, _) = compile_models(API, &models, &wanted);
    let validators = [validator("v", true, false)];
    let m = method(&[], &[("application/json", "Pet")], "v");
    let validation = RequestValidation::compile(&m, &validators, &compiled).unwrap();
    assert_eq!(
        validation
            .body_schema(Some("Application/JSON; charset=utf-8"))
            .map(BodySchema::model),
        Some("Pet")
    );
    assert_eq!(
        validation.body_schema(None).map(BodySchema::model),
        Some("Pet")
    );
    assert!(validation.body_schema(Some("text/plain")).is_none());
    let with_default = method(
        &[],
        &[("application/json", "Pet"), ("$default", "Any")],
        "v",
    );
    let validation = RequestValidation::compile(&with_default, &validators, &compiled).unwrap();
    assert_eq!(
        validation
            .body_schema(Some("text/plain"))
            .map(BodySchema::model),
        Some("Any")
    );
    assert_eq!(
        models_in_use([&m, &with_default].into_iter(), &validators),
        wanted
    );
    assert!(models_in_use([&m].into_iter(), &[validator("v", false, true)]).is_empty());
}

#[test]
fn model_templates_write_out_the_shape() {
    // Properties come in name order (the schema is read into a sorted map).
    let schema = r#"{"type": "object", "properties": {
        "id": {"type": "integer"}, "type": {"type": "string"},
        "owner": {"type": "object", "properties": {"name": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "extra": {"type": "object"}}}"#;
    let template = default_template(schema).unwrap();
    assert_eq!(
        template,
        r##"#set($inputRoot = $input.path('$'))
{
  "extra" : $input.json('$.extra'),
  "id" : $inputRoot.id,
  "owner" : {
    "name" : "$inputRoot.owner.name"
  },
  "tags" : [
#foreach($elem in $inputRoot.tags)
    "$elem"#if($foreach.hasNext),#end
#end
  ],
  "type" : "$inputRoot.type"
}
"##
    );
    let list = default_template(
        r#"{"type": "array", "items": {"type": "object", "properties": {"price": {"type": "number"}}}}"#,
    )
    .unwrap();
    assert!(list.contains("#foreach($elem in $inputRoot)"), "{list}");
    assert!(list.contains("\"price\" : $elem.price"), "{list}");
    assert!(default_template("{").is_err());
}
