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
