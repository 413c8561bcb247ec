//! What request validation costs a request: checking a typical JSON body (a pet with an
//! owner from another model, tags and a nested address, about 300 bytes) against its model,
//! an invalid one, a 10 kB list body, and finding the missing required parameters.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use causeway_model::schemas::{self, ParameterIn, RequestValidation};
use causeway_model::{AuthorizationType, HttpMethod, Method, Model, RequestValidator};
use criterion::{Criterion, criterion_group, criterion_main};

const API: &str = "a1b2c3d4e5";

fn model(name: &str, schema: &str) -> Model {
    Model {
        id: name.to_lowercase(),
        name: name.to_owned(),
        description: None,
        schema: schema.to_owned(),
        content_type: "application/json".to_owned(),
    }
}

fn models() -> Vec<Model> {
    let owner = model(
        "Owner",
        r#"{"type": "object", "required": ["name", "email"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
            "address": {"type": "object", "properties": {
                "street": {"type": "string"}, "city": {"type": "string"},
                "zip": {"type": "string", "pattern": "^[0-9]{5}$"}}}}}"#,
    );
    let pet = model(
        "Pet",
        &format!(
            r#"{{"type": "object", "required": ["name", "owner"], "properties": {{
                "name": {{"type": "string"}},
                "age": {{"type": "integer", "minimum": 0, "maximum": 50}},
                "kind": {{"enum": ["cat", "dog", "fish"]}},
                "tags": {{"type": "array", "items": {{"type": "string"}}, "maxItems": 10}},
                "owner": {{"$ref": "{}"}}}}}}"#,
            schemas::model_url(API, "Owner")
        ),
    );
    let pets = model(
        "Pets",
        &format!(
            r#"{{"type": "array", "items": {{"$ref": "{}"}}}}"#,
            schemas::model_url(API, "Pet")
        ),
    );
    vec![owner, pet, pets]
}

const GOOD: &str = r#"{"name": "Rex", "age": 4, "kind": "dog", "tags": ["good", "loud"],
  "owner": {"name": "Ann Lee", "email": "ann@example.com",
            "address": {"street": "1 Main St", "city": "Springfield", "zip": "12345"}}}"#;

fn validation(c: &mut Criterion) {
    let wanted: BTreeSet<String> = ["Pet".to_owned(), "Pets".to_owned()].into();
    let (compiled, failed) = schemas::compile_models(API, &models(), &wanted);
    assert!(failed.is_empty());
    let pet = compiled["Pet"].clone();
    let list = compiled["Pets"].clone();
    let bad = GOOD.replace("12345", "1234x");
    let many = format!("[{}]", vec![GOOD; 30].join(","));
    pet.check(GOOD.as_bytes()).unwrap();
    assert!(pet.check(bad.as_bytes()).is_err());
    list.check(many.as_bytes()).unwrap();

    c.bench_function("body valid (300 B, two models)", |b| {
        b.iter(|| pet.check(black_box(GOOD.as_bytes())))
    });
    c.bench_function("body invalid (300 B)", |b| {
        b.iter(|| pet.check(black_box(bad.as_bytes())))
    });
    c.bench_function("body valid (10 kB list)", |b| {
        b.iter(|| list.check(black_box(many.as_bytes())))
    });

    let method = Method {
        http_method: HttpMethod::Post,
        authorization_type: AuthorizationType::None,
        authorizer_id: None,
        api_key_required: false,
        request_validator_id: Some("v".to_owned()),
        operation_name: None,
        request_parameters: [
            ("method.request.header.x-tenant", true),
            ("method.request.querystring.verbose", true),
            ("method.request.path.petId", true),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        request_models: BTreeMap::new(),
        method_responses: BTreeMap::new(),
        integration: None,
        authorization_scopes: Vec::new(),
    };
    let validators = [RequestValidator {
        id: "v".to_owned(),
        name: None,
        validate_request_body: false,
        validate_request_parameters: true,
    }];
    let checks = RequestValidation::compile(&method, &validators, &compiled).unwrap();
    c.bench_function("three required parameters, all present", |b| {
        b.iter(|| checks.missing(|_, name| black_box(name).len() > 1))
    });
    c.bench_function("three required parameters, one missing", |b| {
        b.iter(|| checks.missing(|location, _| black_box(location) != ParameterIn::Header))
    });
}

criterion_group!(benches, validation);
criterion_main!(benches);
