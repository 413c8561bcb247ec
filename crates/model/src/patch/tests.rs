//! Tests of PATCH parsing and application.

use super::*;

fn ops(list: &[(&str, &str, Option<&str>)]) -> Vec<PatchOperation> {
    let raw = list
        .iter()
        .map(|(op, path, value)| RawPatch {
            op: Some((*op).to_owned()),
            path: Some((*path).to_owned()),
            value: value.map(str::to_owned),
            from: None,
        })
        .collect();
    parse_operations(raw, "updateStageInput").unwrap_or_else(|e| panic!("{e}"))
}

fn stage() -> Stage {
    Stage {
        stage_name: "prod".into(),
        deployment_id: "d1".into(),
        description: None,
        client_certificate_id: None,
        cache_cluster_enabled: false,
        cache_cluster_size: None,
        cache_cluster_status: CacheClusterStatus::NotAvailable,
        method_settings: BTreeMap::new(),
        variables: StringMap::new(),
        documentation_version: None,
        access_log_settings: None,
        canary_settings: None,
        tracing_enabled: false,
        web_acl_arn: None,
        tags: StringMap::new(),
        created_date: 1,
        last_updated_date: 1,
        cache_flushes: 0,
        authorizer_flushes: 0,
    }
}

#[test]
fn bad_ops_are_reported_together() {
    let raw = vec![
        RawPatch {
            op: Some("x".into()),
            ..Default::default()
        },
        RawPatch {
            op: Some("replace".into()),
            ..Default::default()
        },
        RawPatch {
            op: Some("y".into()),
            ..Default::default()
        },
    ];
    let err = parse_operations(raw, "updateRestApiInput")
        .err()
        .unwrap_or_else(|| unreachable!());
    assert_eq!(err.code(), "ValidationException");
    assert!(err.message().starts_with("2 validation errors detected: Value 'x' at 'updateRestApiInput.patchOperations.1.member.op'"));
    assert!(err.message().contains("patchOperations.3.member.op"));
}

#[test]
fn pointer_unescapes() {
    assert_eq!(
        pointer_segments("/requestTemplates/application~1json"),
        vec!["requestTemplates", "application/json"]
    );
    assert_eq!(pointer_segments("/a~0b"), vec!["a~b"]);
    assert!(pointer_segments("/").is_empty());
}

#[test]
fn stage_method_settings_fill_aws_defaults_and_inherit() {
    let exists = |_: &str| true;
    let s = apply_stage(
        &stage(),
        &ops(&[
            ("replace", "/*/*/throttling/rateLimit", Some("100")),
            ("replace", "/*/*/throttling/burstLimit", Some("50")),
            ("replace", "/~1pets/GET/caching/enabled", Some("true")),
            ("replace", "/variables/VPCNLB", Some("nlb.example")),
        ]),
        &exists,
        7,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let all = &s.method_settings["*/*"];
    assert_eq!(all.throttling_rate_limit, 100.0);
    assert_eq!(all.throttling_burst_limit, 50);
    assert_eq!(all.cache_ttl_in_seconds, 300);
    let pets = &s.method_settings["~1pets/GET"];
    assert!(pets.caching_enabled);
    assert_eq!(pets.throttling_rate_limit, 100.0, "a new key inherits */*");
    assert_eq!(s.variables["VPCNLB"], "nlb.example");
    assert_eq!(s.last_updated_date, 7);
}

#[test]
fn stage_rejects_unknown_paths_and_missing_deployments() {
    let none = |_: &str| false;
    let err = apply_stage(&stage(), &ops(&[("replace", "/foo", Some("1"))]), &none, 1).err();
    assert!(err.is_some_and(|e| {
        e.message()
            .starts_with("Invalid method setting path: /foo.")
    }));
    let err = apply_stage(
        &stage(),
        &ops(&[("replace", "/deploymentId", Some("zz"))]),
        &none,
        1,
    )
    .err();
    assert_eq!(
        err.map(|e| e.message().to_owned()).as_deref(),
        Some("Deployment id does not exist")
    );
    let err = apply_stage(&stage(), &ops(&[("remove", "/*/*", None)]), &none, 1).err();
    assert!(err.is_some_and(|e| e.message().starts_with("Cannot remove method setting */*")));
}

#[test]
fn resource_update_rules() {
    let replace = ops(&[("replace", "/pathPart", Some("x"))]);
    assert!(resource_update(true, &replace).is_err());
    assert_eq!(
        resource_update(false, &replace)
            .ok()
            .and_then(|u| u.path_part)
            .as_deref(),
        Some("x")
    );
    let bad = ops(&[("add", "/pathPart", Some("x"))]);
    assert!(resource_update(false, &bad).is_err());
}

#[test]
fn models_take_replace_on_description_and_schema_only() {
    let model = crate::Model {
        id: "m1".into(),
        name: "Pet".into(),
        description: Some("a pet".into()),
        schema: "{}".into(),
        content_type: "application/json".into(),
    };
    let updated = apply_model(
        &model,
        &ops(&[
            ("replace", "/description", Some("")),
            ("replace", "/schema", Some(r#"{"type":"object"}"#)),
        ]),
    )
    .unwrap();
    assert_eq!(updated.description, None);
    assert_eq!(updated.schema, r#"{"type":"object"}"#);
    let message = |list| match apply_model(&model, &ops(list)) {
        Err(ApiError::BadRequest(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        message(&[("add", "/wrong-path", Some("x"))]),
        "Invalid patch path  '/wrong-path' specified for op 'add'. Must be one of: [/description, /schema]"
    );
    assert_eq!(
        message(&[("remove", "/schema", None)]),
        "Invalid patch path  '/schema' specified for op 'remove'. Please choose supported operations"
    );
    assert_eq!(
        message(&[("replace", "/name", Some("Dog"))]),
        "Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/description, /schema]"
    );
}

#[test]
fn request_validators_take_replace_on_their_three_fields() {
    let validator = crate::RequestValidator {
        id: "v1".into(),
        name: Some("all".into()),
        validate_request_body: true,
        validate_request_parameters: false,
    };
    let updated = apply_request_validator(
        &validator,
        &ops(&[
            ("replace", "/name", Some("params")),
            ("replace", "/validateRequestParameters", Some("true")),
            ("replace", "/validateRequestBody", None),
        ]),
    )
    .unwrap();
    assert_eq!(updated.name.as_deref(), Some("params"));
    assert!(updated.validate_request_parameters);
    assert!(!updated.validate_request_body);
    let message = |list| match apply_request_validator(&validator, &ops(list)) {
        Err(ApiError::BadRequest(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        message(&[("add", "/validateRequestBody", Some("true"))]),
        "Invalid patch path  '/validateRequestBody' specified for op 'add'. Please choose supported operations"
    );
    assert_eq!(
        message(&[("replace", "/invalidPath", Some("x"))]),
        "Invalid patch path  '/invalidPath' specified for op 'replace'. Must be one of: [/name, /validateRequestParameters, /validateRequestBody]"
    );
    assert_eq!(
        message(&[("replace", "/name", None)]),
        "Request Validator name cannot be blank"
    );
    assert!(message(&[("replace", "/validateRequestBody", Some("yes"))]).contains("boolean"));
}
