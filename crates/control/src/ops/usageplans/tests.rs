//! In-process tests of API keys and usage plans: the state accessors the data plane will use,
//! the cascades, and reloading from the store.

use causeway_store::SqliteStore;
use serde_json::Value;

use crate::{Control, ControlConfig, Request};

fn open(dir: &std::path::Path) -> Control {
    let store = SqliteStore::open(dir).unwrap_or_else(|e| panic!("{e}"));
    Control::open(
        Box::new(store),
        ControlConfig::new("us-east-1", "000000000000"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn call(control: &Control, method: &str, path: &str, body: &str) -> (u16, Value) {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let reply = control.handle(&Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        body: body.as_bytes().to_vec(),
        accept: None,
        target: None,
    });
    let value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    (reply.status, value)
}

fn text(value: &Value, name: &str) -> String {
    value[name].as_str().unwrap_or_default().to_owned()
}

/// An API `fz` with `GET /pets` deployed to stages `prod` and `dev`.
fn api(control: &Control) {
    let (_, api) = call(
        control,
        "POST",
        "/restapis",
        r#"{"name":"fz","tags":{"_custom_id_":"fz"}}"#,
    );
    let root = text(&api, "rootResourceId");
    let (_, pets) = call(
        control,
        "POST",
        &format!("/restapis/fz/resources/{root}"),
        r#"{"pathPart":"pets"}"#,
    );
    let pets = text(&pets, "id");
    let method = format!("/restapis/fz/resources/{pets}/methods/GET");
    call(control, "PUT", &method, r#"{"authorizationType":"NONE"}"#);
    call(
        control,
        "PUT",
        &format!("{method}/integration"),
        r#"{"type":"MOCK"}"#,
    );
    for stage in ["prod", "dev"] {
        let (status, body) = call(
            control,
            "POST",
            "/restapis/fz/deployments",
            &format!(r#"{{"stageName":"{stage}"}}"#),
        );
        assert_eq!(status, 201, "{body}");
    }
}

#[test]
fn keys_plans_and_memberships_survive_a_reload() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let value = "abcdefghijklmnopqrstuvwxyz0123";
    let (key, plan) = {
        let control = open(dir.path());
        api(&control);
        let (status, key) = call(
            &control,
            "POST",
            "/apikeys",
            &format!(r#"{{"name":"k","value":"{value}","enabled":true}}"#),
        );
        assert_eq!(status, 201, "{key}");
        let key = text(&key, "id");
        let (status, plan) = call(
            &control,
            "POST",
            "/usageplans",
            r#"{"name":"gold","apiStages":[{"apiId":"fz","stage":"prod","throttle":{"/pets/GET":{"burstLimit":2,"rateLimit":1}}},{"apiId":"fz","stage":"dev"}],"throttle":{"burstLimit":10,"rateLimit":5},"quota":{"limit":100,"period":"DAY"}}"#,
        );
        assert_eq!(status, 201, "{plan}");
        let plan = text(&plan, "id");
        let (status, body) = call(
            &control,
            "POST",
            &format!("/usageplans/{plan}/keys"),
            &format!(r#"{{"keyId":"{key}","keyType":"API_KEY"}}"#),
        );
        assert_eq!(status, 201, "{body}");
        let (status, body) = call(&control, "DELETE", "/restapis/fz/stages/dev", "");
        assert_eq!(status, 202, "{body}");
        (key, plan)
    };

    let control = open(dir.path());
    let guard = control.inner.lock().unwrap_or_else(|e| e.into_inner());
    let state = &guard.state;
    assert_eq!(
        state.api_key_by_value(value).map(|k| k.id.as_str()),
        Some(key.as_str())
    );
    assert!(state.api_key(&key).is_some_and(|k| k.enabled));
    assert_eq!(
        state.usage_plan_key_ids(&plan).collect::<Vec<_>>(),
        vec![key.as_str()]
    );
    let governing = state.usage_plan_for(&key, "fz", "prod");
    assert_eq!(governing.map(|p| p.id.as_str()), Some(plan.as_str()));
    assert!(
        state.usage_plan_for(&key, "fz", "dev").is_none(),
        "deleting a stage takes it out of the plans"
    );
    let stored = state.usage_plan(&plan);
    assert_eq!(
        stored
            .and_then(|p| p.api_stage("fz", "prod"))
            .map(|s| s.throttle.len()),
        Some(1)
    );
    assert_eq!(stored.and_then(|p| p.quota).map(|q| q.limit), Some(100));
}

#[test]
fn a_key_reaches_a_stage_through_one_plan_only() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let control = open(dir.path());
    api(&control);
    let (_, key) = call(&control, "POST", "/apikeys", r#"{"name":"k"}"#);
    let key = text(&key, "id");
    let plan = |stage: &str| {
        let (status, plan) = call(
            &control,
            "POST",
            "/usageplans",
            &format!(r#"{{"name":"p","apiStages":[{{"apiId":"fz","stage":"{stage}"}}]}}"#),
        );
        assert_eq!(status, 201, "{plan}");
        text(&plan, "id")
    };
    let (first, second, other) = (plan("prod"), plan("prod"), plan("dev"));
    let join = |plan: &str| {
        call(
            &control,
            "POST",
            &format!("/usageplans/{plan}/keys"),
            &format!(r#"{{"keyId":"{key}","keyType":"API_KEY"}}"#),
        )
    };
    assert_eq!(join(&first).0, 201);
    let (status, body) = join(&second);
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        text(&body, "message"),
        format!(
            "Usage Plan {second} cannot be added because API Key {key} cannot reference multiple Usage Plans with the same API Stage: fz:prod"
        )
    );
    assert_eq!(join(&other).0, 201);
    // Adding prod to the dev plan would give the key two plans for prod.
    let (status, body) = call(
        &control,
        "PATCH",
        &format!("/usageplans/{other}"),
        r#"{"patchOperations":[{"op":"add","path":"/apiStages","value":"fz:prod"}]}"#,
    );
    assert_eq!(status, 409, "{body}");
    // Deleting the key takes it out of every plan.
    assert_eq!(
        call(&control, "DELETE", &format!("/apikeys/{key}"), "").0,
        202
    );
    let guard = control.inner.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(guard.state.usage_plans_of_key(&key).count(), 0);
}
