//! Request bodies of the API key, usage plan and usage plan key operations.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::StringMap;

/// CreateApiKey.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub generate_distinct_id: Option<bool>,
    pub value: Option<String>,
    pub stage_keys: Option<Vec<StageKey>>,
    pub customer_id: Option<String>,
    pub tags: Option<StringMap>,
}

/// A member of `stageKeys`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StageKey {
    pub rest_api_id: Option<String>,
    pub stage_name: Option<String>,
}

/// CreateUsagePlan.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUsagePlan {
    pub name: Option<String>,
    pub description: Option<String>,
    pub api_stages: Option<Vec<ApiStage>>,
    pub throttle: Option<ThrottleSettings>,
    pub quota: Option<QuotaSettings>,
    pub tags: Option<StringMap>,
}

/// A member of `apiStages`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiStage {
    pub api_id: Option<String>,
    pub stage: Option<String>,
    /// `{resourcePath}/{METHOD}` → limits.
    pub throttle: Option<BTreeMap<String, ThrottleSettings>>,
}

/// The `throttle` member of a usage plan or of one of its methods.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThrottleSettings {
    pub burst_limit: Option<i32>,
    pub rate_limit: Option<f64>,
}

/// The `quota` member of a usage plan. `period` stays a string so that a bad value gets
/// AWS's ValidationException.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuotaSettings {
    pub limit: Option<i32>,
    pub offset: Option<i32>,
    pub period: Option<String>,
}

/// CreateUsagePlanKey.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUsagePlanKey {
    pub key_id: Option<String>,
    pub key_type: Option<String>,
}
