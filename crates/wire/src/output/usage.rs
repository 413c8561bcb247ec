//! Response bodies of the API key, usage plan, usage plan key and account operations.

use std::collections::BTreeMap;

use causeway_model as m;
use causeway_model::usage as u;
use serde::Serialize;

use super::{StringMap, TagsField};

/// Whether an API key output carries the key's value: CreateApiKey always does, GetApiKey
/// and GetApiKeys only when asked (`includeValue(s)=true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueField {
    Omit,
    Include,
}

/// ApiKey.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    pub created_date: i64,
    pub last_updated_date: i64,
    pub stage_keys: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
}

impl ApiKey {
    /// The wire form of an API key.
    pub fn from_model(key: &u::ApiKey, value: ValueField, tags: TagsField) -> ApiKey {
        ApiKey {
            id: key.id.clone(),
            value: (value == ValueField::Include).then(|| key.value.clone()),
            name: key.name.clone(),
            customer_id: key.customer_id.clone(),
            description: key.description.clone(),
            enabled: key.enabled,
            created_date: key.created_date,
            last_updated_date: key.last_updated_date,
            stage_keys: key.stage_keys.clone(),
            tags: tags.pick(&key.tags),
        }
    }
}

/// ImportApiKeys: the ids of the imported keys and what was skipped.
#[derive(Debug, Serialize)]
pub struct ApiKeyIds {
    pub ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// UsagePlan.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsagePlan {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub api_stages: Vec<ApiStage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
}

/// A member of `apiStages`; `throttle` only when some method has its own limits.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiStage {
    pub api_id: String,
    pub stage: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub throttle: BTreeMap<String, ThrottleSettings>,
}

/// ThrottleSettings.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleSettings {
    pub burst_limit: i32,
    pub rate_limit: f64,
}

impl ThrottleSettings {
    fn from_model(throttle: &u::ThrottleSettings) -> ThrottleSettings {
        ThrottleSettings {
            burst_limit: throttle.burst_limit,
            rate_limit: throttle.rate_limit,
        }
    }
}

/// QuotaSettings.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaSettings {
    pub limit: i32,
    pub offset: i32,
    pub period: m::QuotaPeriod,
}

impl UsagePlan {
    /// The wire form of a usage plan.
    pub fn from_model(plan: &u::UsagePlan, tags: TagsField) -> UsagePlan {
        UsagePlan {
            id: plan.id.clone(),
            name: plan.name.clone(),
            description: plan.description.clone(),
            api_stages: plan
                .api_stages
                .iter()
                .map(|s| ApiStage {
                    api_id: s.api_id.clone(),
                    stage: s.stage.clone(),
                    throttle: s
                        .throttle
                        .iter()
                        .map(|(key, t)| (key.clone(), ThrottleSettings::from_model(t)))
                        .collect(),
                })
                .collect(),
            throttle: plan.throttle.as_ref().map(ThrottleSettings::from_model),
            quota: plan.quota.as_ref().map(|q| QuotaSettings {
                limit: q.limit,
                offset: q.offset,
                period: q.period,
            }),
            product_code: plan.product_code.clone(),
            tags: tags.pick(&plan.tags),
        }
    }
}

/// UsagePlanKey: an API key as a member of a plan.
#[derive(Debug, Serialize)]
pub struct UsagePlanKey {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl UsagePlanKey {
    /// The wire form of a plan's key; the only key type is `API_KEY`.
    pub fn from_model(key: &u::ApiKey) -> UsagePlanKey {
        UsagePlanKey {
            id: key.id.clone(),
            kind: "API_KEY",
            value: key.value.clone(),
            name: key.name.clone(),
        }
    }
}

/// Account.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudwatch_role_arn: Option<String>,
    pub throttle_settings: ThrottleSettings,
    pub features: Vec<String>,
    pub api_key_version: String,
}

impl Account {
    /// The wire form of the account settings, with the server's account-wide throttle.
    pub fn from_model(account: &u::Account, throttle: u::ThrottleSettings) -> Account {
        Account {
            cloudwatch_role_arn: account.cloudwatch_role_arn.clone(),
            throttle_settings: ThrottleSettings::from_model(&throttle),
            features: vec!["UsagePlans".to_owned()],
            api_key_version: "4".to_owned(),
        }
    }
}
