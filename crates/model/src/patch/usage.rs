//! PATCH operations on API keys (UpdateApiKey), usage plans (UpdateUsagePlan) and the account
//! settings (UpdateAccount).
//!
//! Each function works on a copy, as the others in `patch` do. Unsupported paths are answered
//! with AWS's `Invalid patch path  '…' specified for op '…'. Must be one of: […]` (two spaces
//! after "path", as AWS writes it).

use std::collections::BTreeMap;

use super::{Op, PatchOperation};
use crate::enums::QuotaPeriod;
use crate::error::ApiError;
use crate::usage::{
    self, Account, ApiKey, ApiStage, Catalog, Missing, QuotaSettings, ThrottleSettings, UsagePlan,
};

/// Applies operations to an API key: replace `/name`, `/description`, `/enabled`,
/// `/customerId`; add or remove `/stages` with a `{restApiId}/{stageName}` value. `now`
/// stamps `lastUpdatedDate`.
pub fn apply_api_key(
    key: &ApiKey,
    ops: &[PatchOperation],
    catalog: &dyn Catalog,
    now: i64,
) -> Result<ApiKey, ApiError> {
    const REPLACE: &str = "[/name, /description, /enabled, /customerId]";
    const ADD_REMOVE: &str = "[/stages]";
    let mut key = key.clone();
    for op in ops {
        match (op.op, op.path.as_str()) {
            (Op::Replace, "/name") => {
                let name = op.optional_value();
                if let Some(name) = &name {
                    usage::api_key_name(name)?;
                }
                key.name = name;
            }
            (Op::Replace, "/description") => key.description = op.optional_value(),
            (Op::Replace, "/enabled") => key.enabled = op.bool_value()?,
            (Op::Replace, "/customerId") => key.customer_id = op.optional_value(),
            (Op::Add | Op::Remove, "/stages") => {
                let value = op.value.as_deref().unwrap_or_default();
                let (api, stage) = usage::parse_stage_key(value).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Invalid stage key '{value}': use {{restApiId}}/{{stageName}}"
                    ))
                })?;
                let text = format!("{api}/{stage}");
                if op.op == Op::Add {
                    usage::check_stage_key(catalog, api, stage)?;
                    if !key.stage_keys.contains(&text) {
                        key.stage_keys.push(text);
                    }
                } else {
                    key.stage_keys.retain(|k| *k != text);
                }
            }
            (Op::Replace, _) => return Err(invalid_path(op, REPLACE)),
            (Op::Add | Op::Remove, _) => return Err(invalid_path(op, ADD_REMOVE)),
            _ => return Err(unsupported_op(op)),
        }
    }
    key.last_updated_date = now;
    Ok(key)
}

/// The paths AWS lists for a `remove` on a usage plan, in its words.
const PLAN_REMOVE: &str = "[/apiStages, /quota, /throttle, /productCode, /apiStages/<apidId:stageName>/throttle/<resourcePath>/<httpMethod>, /apiStages/<apidId:stageName>/throttle]";
/// The paths a `replace` on a usage plan supports.
const PLAN_REPLACE: &str = "[/name, /description, /productCode, /throttle/rateLimit, /throttle/burstLimit, /quota/limit, /quota/offset, /quota/period, /apiStages/<apidId:stageName>/throttle/<resourcePath>/<httpMethod>/rateLimit, /apiStages/<apidId:stageName>/throttle/<resourcePath>/<httpMethod>/burstLimit, /apiStages/<apidId:stageName>/throttle]";
/// The paths an `add` on a usage plan supports.
const PLAN_ADD: &str = "[/apiStages]";

/// Applies operations to a usage plan. Stages and methods the operations add are checked
/// against `catalog`; the whole plan is checked with [`usage::check_usage_plan`] at the end.
/// Whether a key of the plan ends up in two plans sharing a stage is for the caller to check,
/// since it needs the other plans.
pub fn apply_usage_plan(
    plan: &UsagePlan,
    ops: &[PatchOperation],
    catalog: &dyn Catalog,
) -> Result<UsagePlan, ApiError> {
    let mut updated = plan.clone();
    // A quota may be built field by field (`/quota/limit`, then `/quota/period`), so it is
    // assembled here and checked once every operation is applied.
    let mut quota = updated.quota.map(|q| (q.limit, q.offset, Some(q.period)));
    for op in ops {
        let segments = op.segments();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (op.op, segs.as_slice()) {
            (Op::Replace, ["name"]) => {
                let name = op.value()?;
                if name.is_empty() {
                    return Err(ApiError::bad_request("Usage plan name cannot be empty"));
                }
                updated.name = name.to_owned();
            }
            (Op::Replace, ["description"]) => updated.description = op.optional_value(),
            (Op::Replace, ["productCode"]) => updated.product_code = op.optional_value(),
            (Op::Remove, ["productCode"]) => updated.product_code = None,
            (Op::Add, ["apiStages"]) => {
                let (api, stage) = api_stage_value(op)?;
                if updated.covers(api, stage) {
                    return Err(ApiError::conflict(format!(
                        "API Stage {{api: {api}, stage: {stage}}} is already associated with usage plan {}",
                        plan.id
                    )));
                }
                usage::check_api_stage_exists(catalog, api, stage, &plan.id, Missing::NotFound)?;
                updated.api_stages.push(ApiStage {
                    api_id: api.to_owned(),
                    stage: stage.to_owned(),
                    throttle: BTreeMap::new(),
                });
            }
            (Op::Remove, ["apiStages"]) => {
                let (api, stage) = api_stage_value(op)?;
                let before = updated.api_stages.len();
                updated
                    .api_stages
                    .retain(|s| !(s.api_id == api && s.stage == stage));
                if updated.api_stages.len() == before {
                    return Err(ApiError::not_found(usage::invalid_api_stage(
                        api, stage, &plan.id,
                    )));
                }
            }
            (Op::Replace, ["throttle", field @ ("rateLimit" | "burstLimit")]) => {
                let throttle = updated
                    .throttle
                    .get_or_insert_with(ThrottleSettings::default);
                set_limit(throttle, field, op)?;
            }
            (Op::Remove, ["throttle"]) => updated.throttle = None,
            (Op::Replace, ["quota", field @ ("limit" | "offset" | "period")]) => {
                let (limit, offset, period) = quota.get_or_insert((0, 0, None));
                match *field {
                    "limit" => *limit = op.number_value()?,
                    "offset" => *offset = op.number_value()?,
                    _ => {
                        *period =
                            Some(op.enum_value(QuotaPeriod::parse, QuotaPeriod::options(", "))?)
                    }
                }
            }
            (Op::Remove, ["quota"]) => quota = None,
            (Op::Replace | Op::Add, ["apiStages", id, "throttle"]) => {
                let stage = stage_of(&mut updated, id, &plan.id)?;
                stage.throttle = throttle_map(op)?;
            }
            (Op::Remove, ["apiStages", id, "throttle"]) => {
                stage_of(&mut updated, id, &plan.id)?.throttle.clear();
            }
            (
                Op::Replace | Op::Add,
                [
                    "apiStages",
                    id,
                    "throttle",
                    path @ ..,
                    method,
                    field @ ("rateLimit" | "burstLimit"),
                ],
            ) if !path.is_empty() => {
                let key = method_key(path, method);
                let stage = stage_of(&mut updated, id, &plan.id)?;
                let throttle = stage.throttle.entry(key).or_default();
                set_limit(throttle, field, op)?;
            }
            (Op::Remove, ["apiStages", id, "throttle", path @ .., method]) if !path.is_empty() => {
                let key = method_key(path, method);
                let stage = stage_of(&mut updated, id, &plan.id)?;
                if stage.throttle.remove(&key).is_none() {
                    return Err(ApiError::not_found(format!(
                        "Invalid method {key} specified for API Stage {{api: {}, stage: {}}}: the stage has no throttle for it",
                        stage.api_id, stage.stage
                    )));
                }
            }
            (Op::Remove, _) => return Err(invalid_path(op, PLAN_REMOVE)),
            (Op::Replace, _) => return Err(invalid_path(op, PLAN_REPLACE)),
            (Op::Add, _) => return Err(invalid_path(op, PLAN_ADD)),
            _ => return Err(unsupported_op(op)),
        }
    }
    updated.quota = match quota {
        None => None,
        Some((limit, offset, Some(period))) => Some(QuotaSettings {
            limit,
            offset,
            period,
        }),
        Some((_, _, None)) => {
            return Err(ApiError::bad_request(format!(
                "Invalid quota settings: a quota needs a period, one of {}",
                QuotaPeriod::options(", ")
            )));
        }
    };
    usage::check_usage_plan(&updated, Some(plan), catalog, Missing::NotFound)?;
    Ok(updated)
}

/// Applies operations to the account settings: `/cloudwatchRoleArn` (replace, add, remove)
/// and `add /features` with `UsagePlans`, which is always on here.
pub fn apply_account(account: &Account, ops: &[PatchOperation]) -> Result<Account, ApiError> {
    let mut account = account.clone();
    for op in ops {
        match (op.op, op.path.as_str()) {
            (Op::Replace | Op::Add, "/cloudwatchRoleArn") => {
                let arn = op.optional_value();
                if let Some(arn) = &arn
                    && !is_role_arn(arn)
                {
                    return Err(ApiError::bad_request(format!(
                        "Invalid cloudwatchRoleArn '{arn}': use the ARN of an IAM role, arn:aws:iam::{{account}}:role/{{name}}"
                    )));
                }
                account.cloudwatch_role_arn = arn;
            }
            (Op::Remove, "/cloudwatchRoleArn") => account.cloudwatch_role_arn = None,
            (Op::Add, "/features") => {
                let feature = op.value.as_deref().unwrap_or_default();
                if feature != "UsagePlans" {
                    return Err(ApiError::bad_request(format!(
                        "Invalid feature '{feature}'. Valid options are UsagePlans"
                    )));
                }
            }
            (Op::Replace | Op::Add | Op::Remove, _) => {
                let allowed = if op.op == Op::Add {
                    "[/cloudwatchRoleArn, /features]"
                } else {
                    "[/cloudwatchRoleArn]"
                };
                return Err(invalid_path(op, allowed));
            }
            _ => return Err(unsupported_op(op)),
        }
    }
    Ok(account)
}

/// `arn:{partition}:iam::{account}:role/{name}`.
fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let ok = parts.next() == Some("arn")
        && parts.next().is_some_and(|p| !p.is_empty())
        && parts.next() == Some("iam")
        && parts.next() == Some("");
    ok && parts.next().is_some_and(|a| !a.is_empty())
        && parts
            .next()
            .is_some_and(|r| r.strip_prefix("role/").is_some_and(|n| !n.is_empty()))
}

/// `Invalid patch path  '{path}' specified for op '{op}'. Must be one of: {allowed}`.
fn invalid_path(op: &PatchOperation, allowed: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid patch path  '{}' specified for op '{}'. Must be one of: {allowed}",
        op.path,
        op.op.as_str()
    ))
}

/// AWS's answer to `move`, `copy` and `test` where only add, remove and replace exist.
fn unsupported_op(_op: &PatchOperation) -> ApiError {
    ApiError::bad_request("Invalid patch operation specified. Must be 'add'|'remove'|'replace'")
}

/// The `{apiId}:{stage}` value of an add or remove on `/apiStages`.
fn api_stage_value(op: &PatchOperation) -> Result<(&str, &str), ApiError> {
    op.value
        .as_deref()
        .and_then(usage::parse_api_stage_id)
        .ok_or_else(|| ApiError::bad_request("Invalid API Stage specified"))
}

/// The plan's stage that `{apiId}:{stage}` (a path segment) names.
fn stage_of<'a>(
    plan: &'a mut UsagePlan,
    id: &str,
    plan_id: &str,
) -> Result<&'a mut ApiStage, ApiError> {
    let (api, stage) = usage::parse_api_stage_id(id)
        .ok_or_else(|| ApiError::bad_request("Invalid API Stage specified"))?;
    plan.api_stages
        .iter_mut()
        .find(|s| s.api_id == api && s.stage == stage)
        .ok_or_else(|| ApiError::not_found(usage::invalid_api_stage(api, stage, plan_id)))
}

/// The throttle key of a method from the path segments between `throttle` and the verb.
/// The resource path normally arrives as one `~1`-escaped segment (`~1pets~1{id}`, or `~1`
/// for the root); unescaped segments are accepted too.
fn method_key(path: &[&str], method: &str) -> String {
    let joined = path.join("/");
    format!("/{}/{method}", joined.trim_start_matches('/'))
}

fn set_limit(
    throttle: &mut ThrottleSettings,
    field: &str,
    op: &PatchOperation,
) -> Result<(), ApiError> {
    if field == "rateLimit" {
        throttle.rate_limit = op.number_value()?;
    } else {
        throttle.burst_limit = op.number_value()?;
    }
    Ok(())
}

/// The value of a replace on `/apiStages/{id}/throttle`: a JSON map from method keys to
/// `{"rateLimit": …, "burstLimit": …}`.
fn throttle_map(op: &PatchOperation) -> Result<BTreeMap<String, ThrottleSettings>, ApiError> {
    let text = op.value()?;
    serde_json::from_str(text).map_err(|e| {
        ApiError::bad_request(format!(
            "Invalid throttle map for path {}: {e}. Use {{\"/pets/GET\":{{\"rateLimit\":10.0,\"burstLimit\":20}}}}",
            op.path
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::super::{RawPatch, parse_operations};
    use super::*;
    use crate::entities::StringMap;

    struct Apis;

    impl Catalog for Apis {
        fn api_exists(&self, api_id: &str) -> bool {
            api_id == "api1" || api_id == "api2"
        }
        fn stage_exists(&self, api_id: &str, stage: &str) -> bool {
            self.api_exists(api_id) && (stage == "prod" || stage == "dev")
        }
        fn method_exists(&self, _: &str, _: &str, path: &str, method: &str) -> bool {
            matches!(
                (path, method),
                ("/pets", "GET") | ("/", "GET") | ("/pets/{id}", "ANY")
            )
        }
    }

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
        parse_operations(raw, "updateUsagePlanInput").unwrap_or_else(|e| panic!("{e}"))
    }

    fn key() -> ApiKey {
        ApiKey {
            id: "k1".into(),
            value: "v".repeat(20),
            name: Some("one".into()),
            customer_id: None,
            description: None,
            enabled: false,
            created_date: 1,
            last_updated_date: 1,
            stage_keys: vec![],
            tags: StringMap::new(),
        }
    }

    fn plan() -> UsagePlan {
        UsagePlan {
            id: "plan01".into(),
            name: "gold".into(),
            description: None,
            api_stages: vec![ApiStage {
                api_id: "api1".into(),
                stage: "prod".into(),
                throttle: BTreeMap::new(),
            }],
            throttle: None,
            quota: None,
            product_code: None,
            tags: StringMap::new(),
            created_date: 0,
        }
    }

    fn error(result: Result<impl std::fmt::Debug, ApiError>) -> (&'static str, String) {
        match result {
            Ok(value) => panic!("expected an error, got {value:?}"),
            Err(e) => (e.code(), e.message().to_owned()),
        }
    }

    #[test]
    fn api_key_fields_and_stages() {
        let updated = apply_api_key(
            &key(),
            &ops(&[
                ("replace", "/name", Some("two")),
                ("replace", "/description", Some("d")),
                ("replace", "/enabled", Some("true")),
                ("replace", "/customerId", Some("cust")),
                ("add", "/stages", Some("api1/prod")),
                ("add", "/stages", Some("api1/prod")),
                ("add", "/stages", Some("api2/dev")),
                ("remove", "/stages", Some("api2/dev")),
            ]),
            &Apis,
            9,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(updated.name.as_deref(), Some("two"));
        assert_eq!(updated.description.as_deref(), Some("d"));
        assert!(updated.enabled);
        assert_eq!(updated.customer_id.as_deref(), Some("cust"));
        assert_eq!(updated.stage_keys, vec!["api1/prod".to_owned()]);
        assert_eq!(updated.last_updated_date, 9);
    }

    #[test]
    fn api_key_bad_ops_are_reported_as_aws_does() {
        assert_eq!(
            error(apply_api_key(&key(), &ops(&[("replace", "/value", Some("x"))]), &Apis, 1)),
            (
                "BadRequestException",
                "Invalid patch path  '/value' specified for op 'replace'. Must be one of: [/name, /description, /enabled, /customerId]".into()
            )
        );
        assert_eq!(
            error(apply_api_key(
                &key(),
                &ops(&[("add", "/name", Some("x"))]),
                &Apis,
                1
            ))
            .1,
            "Invalid patch path  '/name' specified for op 'add'. Must be one of: [/stages]"
        );
        assert_eq!(
            error(apply_api_key(
                &key(),
                &ops(&[("copy", "/name", None)]),
                &Apis,
                1
            ))
            .1,
            "Invalid patch operation specified. Must be 'add'|'remove'|'replace'"
        );
        assert_eq!(
            error(apply_api_key(
                &key(),
                &ops(&[("add", "/stages", Some("nope/prod"))]),
                &Apis,
                1
            ))
            .1,
            "Invalid REST API identifier specified"
        );
        assert!(
            apply_api_key(
                &key(),
                &ops(&[("replace", "/enabled", Some("yes"))]),
                &Apis,
                1
            )
            .is_err()
        );
    }

    #[test]
    fn plan_fields_throttle_and_quota() {
        let updated = apply_usage_plan(
            &plan(),
            &ops(&[
                ("replace", "/name", Some("silver")),
                ("replace", "/description", Some("desc")),
                ("replace", "/productCode", Some("pc")),
                ("replace", "/throttle/rateLimit", Some("12.5")),
                ("replace", "/throttle/burstLimit", Some("20")),
                ("replace", "/quota/limit", Some("1000")),
                ("replace", "/quota/offset", Some("10")),
                ("replace", "/quota/period", Some("WEEK")),
            ]),
            &Apis,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(updated.name, "silver");
        assert_eq!(updated.product_code.as_deref(), Some("pc"));
        assert_eq!(
            updated.throttle,
            Some(ThrottleSettings {
                burst_limit: 20,
                rate_limit: 12.5
            })
        );
        assert_eq!(
            updated.quota,
            Some(QuotaSettings {
                limit: 1000,
                offset: 10,
                period: QuotaPeriod::Week
            })
        );
        let cleared = apply_usage_plan(
            &updated,
            &ops(&[
                ("remove", "/throttle", None),
                ("remove", "/quota", None),
                ("remove", "/productCode", None),
            ]),
            &Apis,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (cleared.throttle, cleared.quota, cleared.product_code),
            (None, None, None)
        );

        let (_, message) = error(apply_usage_plan(
            &plan(),
            &ops(&[("replace", "/quota/limit", Some("5"))]),
            &Apis,
        ));
        assert!(message.contains("needs a period"), "{message}");
        let (code, _) = error(apply_usage_plan(
            &plan(),
            &ops(&[("replace", "/quota/period", Some("YEAR"))]),
            &Apis,
        ));
        assert_eq!(code, "BadRequestException");
    }

    #[test]
    fn plan_api_stages_add_and_remove() {
        let added = apply_usage_plan(
            &plan(),
            &ops(&[("add", "/apiStages", Some("api2:dev"))]),
            &Apis,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(added.covers("api2", "dev"));
        assert_eq!(
            error(apply_usage_plan(
                &plan(),
                &ops(&[("add", "/apiStages", Some("api2:qa"))]),
                &Apis
            )),
            (
                "NotFoundException",
                "Invalid API Stage {api: api2, stage: qa} specified for usageplan plan01".into()
            )
        );
        assert_eq!(
            error(apply_usage_plan(
                &plan(),
                &ops(&[("add", "/apiStages", Some("api1:prod"))]),
                &Apis
            ))
            .0,
            "ConflictException"
        );
        let removed = apply_usage_plan(
            &added,
            &ops(&[("remove", "/apiStages", Some("api1:prod"))]),
            &Apis,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!removed.covers("api1", "prod"));
        assert_eq!(
            error(apply_usage_plan(
                &plan(),
                &ops(&[("remove", "/apiStages", None)]),
                &Apis
            )),
            ("BadRequestException", "Invalid API Stage specified".into())
        );
        assert_eq!(
            error(apply_usage_plan(
                &plan(),
                &ops(&[("remove", "/apiStages", Some("api2:dev"))]),
                &Apis
            ))
            .0,
            "NotFoundException"
        );
        assert_eq!(
            error(apply_usage_plan(
                &plan(),
                &ops(&[("remove", "/apiStages/api1:prod", None)]),
                &Apis
            ))
            .1,
            "Invalid patch path  '/apiStages/api1:prod' specified for op 'remove'. Must be one of: [/apiStages, /quota, /throttle, /productCode, /apiStages/<apidId:stageName>/throttle/<resourcePath>/<httpMethod>, /apiStages/<apidId:stageName>/throttle]"
        );
    }

    #[test]
    fn plan_method_throttles_use_escaped_paths() {
        let mut with_throttle = plan();
        with_throttle.throttle = Some(ThrottleSettings {
            burst_limit: 100,
            rate_limit: 50.0,
        });
        let updated = apply_usage_plan(
            &with_throttle,
            &ops(&[
                (
                    "replace",
                    "/apiStages/api1:prod/throttle/~1pets/GET/rateLimit",
                    Some("5"),
                ),
                (
                    "replace",
                    "/apiStages/api1:prod/throttle/~1pets/GET/burstLimit",
                    Some("7"),
                ),
                (
                    "replace",
                    "/apiStages/api1:prod/throttle/~1/GET/rateLimit",
                    Some("1"),
                ),
                (
                    "replace",
                    "/apiStages/api1:prod/throttle/~1pets~1{id}/ANY/burstLimit",
                    Some("2"),
                ),
            ]),
            &Apis,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let stage = &updated.api_stages[0];
        assert_eq!(
            stage.throttle.get("/pets/GET"),
            Some(&ThrottleSettings {
                burst_limit: 7,
                rate_limit: 5.0
            })
        );
        assert_eq!(stage.throttle.get("//GET").map(|t| t.rate_limit), Some(1.0));
        assert_eq!(
            stage.throttle.get("/pets/{id}/ANY").map(|t| t.burst_limit),
            Some(2)
        );

        let removed = apply_usage_plan(
            &updated,
            &ops(&[("remove", "/apiStages/api1:prod/throttle/~1pets/GET", None)]),
            &Apis,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!removed.api_stages[0].throttle.contains_key("/pets/GET"));

        let replaced = apply_usage_plan(
            &updated,
            &ops(&[(
                "replace",
                "/apiStages/api1:prod/throttle",
                Some(r#"{"/pets/GET":{"rateLimit":3.5,"burstLimit":4}}"#),
            )]),
            &Apis,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(replaced.api_stages[0].throttle.len(), 1);
        let cleared = apply_usage_plan(
            &replaced,
            &ops(&[("remove", "/apiStages/api1:prod/throttle", None)]),
            &Apis,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(cleared.api_stages[0].throttle.is_empty());

        assert_eq!(
            error(apply_usage_plan(
                &with_throttle,
                &ops(&[(
                    "replace",
                    "/apiStages/api1:prod/throttle/~1cats/GET/rateLimit",
                    Some("1")
                )]),
                &Apis,
            ))
            .0,
            "NotFoundException"
        );
        assert_eq!(
            error(apply_usage_plan(
                &plan(),
                &ops(&[(
                    "replace",
                    "/apiStages/api1:prod/throttle/~1pets/GET/rateLimit",
                    Some("1")
                )]),
                &Apis,
            ))
            .1,
            "Can not define fine grain throttling if usage plan throttle is not defined."
        );
        assert_eq!(
            error(apply_usage_plan(
                &with_throttle,
                &ops(&[(
                    "replace",
                    "/apiStages/api9:prod/throttle/~1pets/GET/rateLimit",
                    Some("1")
                )]),
                &Apis,
            )),
            (
                "NotFoundException",
                "Invalid API Stage {api: api9, stage: prod} specified for usageplan plan01".into()
            )
        );
        let (_, message) = error(apply_usage_plan(
            &updated,
            &ops(&[("remove", "/throttle", None)]),
            &Apis,
        ));
        assert!(message.starts_with("Can not define fine grain throttling"));
    }

    #[test]
    fn plan_unknown_paths_and_ops() {
        assert_eq!(
            error(apply_usage_plan(
                &plan(),
                &ops(&[("replace", "/id", Some("x"))]),
                &Apis
            ))
            .1,
            format!(
                "Invalid patch path  '/id' specified for op 'replace'. Must be one of: {PLAN_REPLACE}"
            )
        );
        assert_eq!(
            error(apply_usage_plan(
                &plan(),
                &ops(&[("add", "/name", Some("x"))]),
                &Apis
            ))
            .1,
            "Invalid patch path  '/name' specified for op 'add'. Must be one of: [/apiStages]"
        );
        assert_eq!(
            error(apply_usage_plan(
                &plan(),
                &ops(&[("move", "/name", None)]),
                &Apis
            ))
            .1,
            "Invalid patch operation specified. Must be 'add'|'remove'|'replace'"
        );
        assert!(apply_usage_plan(&plan(), &ops(&[("replace", "/name", Some(""))]), &Apis).is_err());
    }

    #[test]
    fn account_role_and_features() {
        let account = apply_account(
            &Account::default(),
            &ops(&[
                (
                    "replace",
                    "/cloudwatchRoleArn",
                    Some("arn:aws:iam::123456789012:role/logs"),
                ),
                ("add", "/features", Some("UsagePlans")),
            ]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            account.cloudwatch_role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/logs")
        );
        let cleared = apply_account(
            &account,
            &ops(&[("replace", "/cloudwatchRoleArn", Some(""))]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cleared.cloudwatch_role_arn, None);
        assert!(
            apply_account(
                &account,
                &ops(&[("replace", "/cloudwatchRoleArn", Some("nope"))])
            )
            .is_err()
        );
        assert_eq!(
            error(apply_account(
                &account,
                &ops(&[("replace", "/throttleSettings/rateLimit", Some("1"))])
            ))
            .1,
            "Invalid patch path  '/throttleSettings/rateLimit' specified for op 'replace'. Must be one of: [/cloudwatchRoleArn]"
        );
        assert!(apply_account(&account, &ops(&[("add", "/features", Some("Other"))])).is_err());
    }
}
