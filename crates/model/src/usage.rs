//! API keys, usage plans and the account settings: the entities and the rules that check
//! them.
//!
//! A usage plan binds API stages to throttle and quota targets; an API key joins a plan
//! through a usage plan key. AWS allows a key in many plans but only one plan per API stage,
//! so for a given key and stage at most one plan applies. Rules that need to know which APIs,
//! stages and methods exist ask a [`Catalog`], which the control plane implements over its
//! state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::entities::StringMap;
use crate::enums::{HttpMethod, QuotaPeriod};
use crate::error::ApiError;

/// An API key: the value callers send in `x-api-key`, and whether it may be used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    /// 10 lowercase alphanumerics.
    pub id: String,
    /// 20 to 128 characters, unique among all keys.
    pub value: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub enabled: bool,
    /// Epoch seconds.
    pub created_date: i64,
    /// Epoch seconds.
    pub last_updated_date: i64,
    /// `{restApiId}/{stageName}`: the way keys were bound to stages before usage plans.
    /// Kept and reported, but usage plans decide what a key may call.
    #[serde(default)]
    pub stage_keys: Vec<String>,
    #[serde(default)]
    pub tags: StringMap,
}

/// A usage plan: which API stages it covers and the throttle and quota targets it sets for
/// each of its keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsagePlan {
    /// 6 lowercase alphanumerics.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub api_stages: Vec<ApiStage>,
    #[serde(default)]
    pub throttle: Option<ThrottleSettings>,
    #[serde(default)]
    pub quota: Option<QuotaSettings>,
    #[serde(default)]
    pub product_code: Option<String>,
    #[serde(default)]
    pub tags: StringMap,
    /// When the plan was created (epoch seconds): its quota's first period, which the
    /// `offset` shortens, is the one containing this moment.
    #[serde(default)]
    pub created_date: i64,
}

impl UsagePlan {
    /// The plan's entry for an API stage.
    pub fn api_stage(&self, api_id: &str, stage: &str) -> Option<&ApiStage> {
        self.api_stages
            .iter()
            .find(|s| s.api_id == api_id && s.stage == stage)
    }

    /// Whether the plan covers an API stage.
    pub fn covers(&self, api_id: &str, stage: &str) -> bool {
        self.api_stage(api_id, stage).is_some()
    }
}

/// An API stage of a usage plan, with per-method throttle overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiStage {
    pub api_id: String,
    pub stage: String,
    /// Keyed `{resourcePath}/{METHOD}` (`/pets/GET`; the root is `//GET`).
    #[serde(default)]
    pub throttle: BTreeMap<String, ThrottleSettings>,
}

/// A token bucket: `rate_limit` requests per second on average, bursts of `burst_limit`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleSettings {
    #[serde(default)]
    pub burst_limit: i32,
    #[serde(default)]
    pub rate_limit: f64,
}

/// At most `limit` requests per `period`; `offset` requests are counted as already made in
/// the first period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaSettings {
    pub limit: i32,
    #[serde(default)]
    pub offset: i32,
    pub period: QuotaPeriod,
}

/// The account settings that can be changed (UpdateAccount). The throttle limits and
/// features are fixed by the server's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(default)]
    pub cloudwatch_role_arn: Option<String>,
}

/// What the rules need to know about the REST APIs.
pub trait Catalog {
    /// Whether the REST API exists.
    fn api_exists(&self, api_id: &str) -> bool;
    /// Whether the REST API has this stage.
    fn stage_exists(&self, api_id: &str, stage: &str) -> bool;
    /// Whether the API (as it is now, or as the stage's deployment froze it) has a method
    /// `http_method` on the resource at `resource_path`.
    fn method_exists(
        &self,
        api_id: &str,
        stage: &str,
        resource_path: &str,
        http_method: &str,
    ) -> bool;
}

/// The shortest API key value AWS accepts.
pub const MIN_KEY_VALUE_CHARS: usize = 20;
/// The longest API key value AWS accepts.
pub const MAX_KEY_VALUE_CHARS: usize = 128;
/// The longest API key name AWS accepts.
pub const MAX_KEY_NAME_CHARS: usize = 1024;

/// Checks the length of an API key value (20–128 characters), with AWS's messages.
pub fn api_key_value(value: &str) -> Result<(), ApiError> {
    let chars = value.chars().count();
    if chars < MIN_KEY_VALUE_CHARS {
        return Err(ApiError::bad_request(
            "API Key value should be at least 20 characters",
        ));
    }
    if chars > MAX_KEY_VALUE_CHARS {
        return Err(ApiError::bad_request(
            "API Key value exceeds maximum size of 128 characters",
        ));
    }
    Ok(())
}

/// Checks the length of an API key name (at most 1024 characters).
pub fn api_key_name(name: &str) -> Result<(), ApiError> {
    if name.chars().count() > MAX_KEY_NAME_CHARS {
        return Err(ApiError::bad_request(
            "API Key name exceeds maximum size of 1024 characters",
        ));
    }
    Ok(())
}

/// Parses a stage key, `{restApiId}/{stageName}`.
pub fn parse_stage_key(text: &str) -> Option<(&str, &str)> {
    text.split_once('/')
        .filter(|(api, stage)| !api.is_empty() && !stage.is_empty() && !stage.contains('/'))
}

/// Checks that a stage key names an existing stage. AWS answers references to missing
/// resources in a create body with BadRequest, as CreateStage does for its deployment.
pub fn check_stage_key(catalog: &dyn Catalog, api_id: &str, stage: &str) -> Result<(), ApiError> {
    if !catalog.api_exists(api_id) {
        return Err(ApiError::bad_request(
            "Invalid REST API identifier specified",
        ));
    }
    if !catalog.stage_exists(api_id, stage) {
        return Err(ApiError::bad_request("Invalid stage identifier specified"));
    }
    Ok(())
}

/// Parses an API stage reference as PATCH values carry it, `{apiId}:{stage}`.
pub fn parse_api_stage_id(text: &str) -> Option<(&str, &str)> {
    text.split_once(':')
        .filter(|(api, stage)| !api.is_empty() && !stage.is_empty())
}

/// AWS's text for an API stage that does not exist or is not in the plan.
pub fn invalid_api_stage(api_id: &str, stage: &str, plan_id: &str) -> String {
    format!("Invalid API Stage {{api: {api_id}, stage: {stage}}} specified for usageplan {plan_id}")
}

/// The conflict of a key that would be in two plans covering the same API stage.
pub fn stage_conflict(plan_id: &str, key_id: &str, api_id: &str, stage: &str) -> ApiError {
    ApiError::conflict(format!(
        "Usage Plan {plan_id} cannot be added because API Key {key_id} cannot reference multiple Usage Plans with the same API Stage: {api_id}:{stage}"
    ))
}

/// Splits a method throttle key, `{resourcePath}/{METHOD}`, into the path and the verb.
/// The root resource's key is `//GET`.
pub fn parse_method_key(key: &str) -> Option<(&str, HttpMethod)> {
    let (path, method) = key.rsplit_once('/')?;
    let path = if path.is_empty() { "/" } else { path };
    if !path.starts_with('/') {
        return None;
    }
    let method = HttpMethod::parse(method)?;
    Some((path, method))
}

/// Checks a throttle: no negative or non-finite limits.
pub fn check_throttle(throttle: &ThrottleSettings) -> Result<(), ApiError> {
    if throttle.burst_limit < 0 || throttle.rate_limit < 0.0 || !throttle.rate_limit.is_finite() {
        return Err(ApiError::bad_request(
            "Invalid throttle settings: burstLimit and rateLimit must not be negative",
        ));
    }
    Ok(())
}

/// Checks a quota: a limit of at least 0 and an offset between 0 and the limit.
pub fn check_quota(quota: &QuotaSettings) -> Result<(), ApiError> {
    if quota.limit < 0 {
        return Err(ApiError::bad_request(
            "Invalid quota settings: the limit must not be negative",
        ));
    }
    if quota.offset < 0 || quota.offset > quota.limit {
        return Err(ApiError::bad_request(format!(
            "Invalid quota settings: the offset must be between 0 and the limit ({})",
            quota.limit
        )));
    }
    Ok(())
}

/// How a usage plan names a stage or method that does not exist: CreateUsagePlan answers
/// BadRequest, UpdateUsagePlan NotFound (as AWS does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    BadRequest,
    NotFound,
}

impl Missing {
    fn error(self, message: String) -> ApiError {
        match self {
            Missing::BadRequest => ApiError::BadRequest(message),
            Missing::NotFound => ApiError::NotFound(message),
        }
    }
}

/// Checks that an API stage exists.
pub fn check_api_stage_exists(
    catalog: &dyn Catalog,
    api_id: &str,
    stage: &str,
    plan_id: &str,
    missing: Missing,
) -> Result<(), ApiError> {
    if api_id.is_empty() || stage.is_empty() || !catalog.stage_exists(api_id, stage) {
        return Err(missing.error(invalid_api_stage(api_id, stage, plan_id)));
    }
    Ok(())
}

/// Checks a method throttle key of an API stage: it must name an existing resource path and
/// method (AWS answers 404 `Invalid method ...`), and its limits must be valid.
pub fn check_method_throttle(
    catalog: &dyn Catalog,
    api_id: &str,
    stage: &str,
    key: &str,
    throttle: &ThrottleSettings,
) -> Result<(), ApiError> {
    let known = parse_method_key(key)
        .is_some_and(|(path, method)| catalog.method_exists(api_id, stage, path, method.as_str()));
    if !known {
        return Err(ApiError::not_found(format!(
            "Invalid method {key} specified for API Stage {{api: {api_id}, stage: {stage}}}: use {{resourcePath}}/{{httpMethod}} of an existing method, e.g. /pets/GET (//GET for the root)"
        )));
    }
    check_throttle(throttle)
}

/// Rules a usage plan must satisfy however it was written. Stages and method throttles that
/// `previous` already had are not checked against the catalog again, so that a plan stays
/// editable after a method it names was removed.
pub fn check_usage_plan(
    plan: &UsagePlan,
    previous: Option<&UsagePlan>,
    catalog: &dyn Catalog,
    missing: Missing,
) -> Result<(), ApiError> {
    if plan.name.is_empty() {
        return Err(ApiError::bad_request("Usage plan name cannot be empty"));
    }
    if let Some(throttle) = &plan.throttle {
        check_throttle(throttle)?;
    }
    if let Some(quota) = &plan.quota {
        check_quota(quota)?;
    }
    for (index, stage) in plan.api_stages.iter().enumerate() {
        let duplicate = plan.api_stages[..index]
            .iter()
            .any(|s| s.api_id == stage.api_id && s.stage == stage.stage);
        if duplicate {
            return Err(ApiError::conflict(format!(
                "API Stage {{api: {}, stage: {}}} is already associated with usage plan {}",
                stage.api_id, stage.stage, plan.id
            )));
        }
        let before = previous.and_then(|p| p.api_stage(&stage.api_id, &stage.stage));
        if before.is_none() {
            check_api_stage_exists(catalog, &stage.api_id, &stage.stage, &plan.id, missing)?;
        }
        for (key, throttle) in &stage.throttle {
            if before.is_some_and(|b| b.throttle.contains_key(key)) {
                check_throttle(throttle)?;
            } else {
                check_method_throttle(catalog, &stage.api_id, &stage.stage, key, throttle)?;
            }
        }
        if !stage.throttle.is_empty() && plan.throttle.is_none() {
            return Err(ApiError::bad_request(
                "Can not define fine grain throttling if usage plan throttle is not defined.",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Apis;

    impl Catalog for Apis {
        fn api_exists(&self, api_id: &str) -> bool {
            api_id == "api1"
        }
        fn stage_exists(&self, api_id: &str, stage: &str) -> bool {
            api_id == "api1" && stage == "prod"
        }
        fn method_exists(&self, _: &str, _: &str, path: &str, method: &str) -> bool {
            (path, method) == ("/pets", "GET") || (path, method) == ("/", "ANY")
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
            throttle: Some(ThrottleSettings {
                burst_limit: 10,
                rate_limit: 5.0,
            }),
            quota: None,
            product_code: None,
            tags: StringMap::new(),
            created_date: 0,
        }
    }

    fn message(result: Result<(), ApiError>) -> String {
        result
            .err()
            .map(|e| e.message().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn key_values_follow_aws_limits() {
        assert!(api_key_value(&"a".repeat(20)).is_ok());
        assert!(api_key_value(&"a".repeat(128)).is_ok());
        assert_eq!(
            message(api_key_value(&"a".repeat(19))),
            "API Key value should be at least 20 characters"
        );
        assert_eq!(
            message(api_key_value(&"a".repeat(129))),
            "API Key value exceeds maximum size of 128 characters"
        );
        assert!(api_key_name(&"n".repeat(1024)).is_ok());
        assert!(api_key_name(&"n".repeat(1025)).is_err());
    }

    #[test]
    fn references_parse() {
        assert_eq!(parse_stage_key("api1/prod"), Some(("api1", "prod")));
        assert_eq!(parse_stage_key("api1"), None);
        assert_eq!(parse_stage_key("/prod"), None);
        assert_eq!(parse_api_stage_id("api1:prod"), Some(("api1", "prod")));
        assert_eq!(parse_api_stage_id("api1:"), None);
        assert_eq!(
            parse_method_key("/pets/{id}/GET"),
            Some(("/pets/{id}", HttpMethod::Get))
        );
        assert_eq!(parse_method_key("//GET"), Some(("/", HttpMethod::Get)));
        assert_eq!(parse_method_key("/pets/FETCH"), None);
        assert_eq!(parse_method_key("GET"), None);
    }

    #[test]
    fn stage_keys_must_exist() {
        assert!(check_stage_key(&Apis, "api1", "prod").is_ok());
        assert_eq!(
            message(check_stage_key(&Apis, "nope", "prod")),
            "Invalid REST API identifier specified"
        );
        assert_eq!(
            message(check_stage_key(&Apis, "api1", "dev")),
            "Invalid stage identifier specified"
        );
    }

    #[test]
    fn plans_check_stages_methods_and_limits() {
        assert!(check_usage_plan(&plan(), None, &Apis, Missing::BadRequest).is_ok());

        let mut unknown = plan();
        unknown.api_stages[0].stage = "dev".into();
        let err = check_usage_plan(&unknown, None, &Apis, Missing::BadRequest).err();
        assert_eq!(
            err.map(|e| (e.code(), e.message().to_owned())),
            Some((
                "BadRequestException",
                "Invalid API Stage {api: api1, stage: dev} specified for usageplan plan01".into()
            ))
        );
        let err = check_usage_plan(&unknown, None, &Apis, Missing::NotFound).err();
        assert_eq!(err.map(|e| e.code()), Some("NotFoundException"));

        let mut methods = plan();
        methods.api_stages[0].throttle.insert(
            "/pets/GET".into(),
            ThrottleSettings {
                burst_limit: 1,
                rate_limit: 1.0,
            },
        );
        methods.api_stages[0]
            .throttle
            .insert("//ANY".into(), ThrottleSettings::default());
        assert!(check_usage_plan(&methods, None, &Apis, Missing::BadRequest).is_ok());

        let mut bad_method = methods.clone();
        bad_method.api_stages[0]
            .throttle
            .insert("/pets/POST".into(), ThrottleSettings::default());
        let err = check_usage_plan(&bad_method, None, &Apis, Missing::BadRequest).err();
        assert!(err.is_some_and(|e| e.code() == "NotFoundException"
            && e.message().starts_with("Invalid method /pets/POST")));
        // A method key the plan already had is not checked against the catalog again.
        assert!(check_usage_plan(&bad_method, Some(&bad_method), &Apis, Missing::NotFound).is_ok());

        let mut no_plan_throttle = methods.clone();
        no_plan_throttle.throttle = None;
        assert_eq!(
            message(check_usage_plan(
                &no_plan_throttle,
                None,
                &Apis,
                Missing::BadRequest
            )),
            "Can not define fine grain throttling if usage plan throttle is not defined."
        );

        let mut duplicate = plan();
        duplicate.api_stages.push(duplicate.api_stages[0].clone());
        let err = check_usage_plan(&duplicate, None, &Apis, Missing::BadRequest).err();
        assert_eq!(err.map(|e| e.code()), Some("ConflictException"));
    }

    #[test]
    fn limits_are_checked() {
        assert!(
            check_throttle(&ThrottleSettings {
                burst_limit: -1,
                rate_limit: 1.0
            })
            .is_err()
        );
        assert!(
            check_throttle(&ThrottleSettings {
                burst_limit: 1,
                rate_limit: f64::NAN
            })
            .is_err()
        );
        let quota = |limit, offset| QuotaSettings {
            limit,
            offset,
            period: QuotaPeriod::Day,
        };
        assert!(check_quota(&quota(100, 10)).is_ok());
        assert!(check_quota(&quota(100, 100)).is_ok());
        assert!(check_quota(&quota(100, 101)).is_err());
        assert!(check_quota(&quota(-1, 0)).is_err());
    }
}
