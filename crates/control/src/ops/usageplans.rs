//! CreateUsagePlan, GetUsagePlan(s), UpdateUsagePlan, DeleteUsagePlan, and the plan's keys:
//! CreateUsagePlanKey, GetUsagePlanKey(s), DeleteUsagePlanKey.
//!
//! AWS allows a key in many plans but only one plan per API stage: adding a key to a plan,
//! or a stage to a plan with keys, fails with a ConflictException when some key would then
//! reach one stage through two plans.

use causeway_model::usage::{
    self, ApiStage, Catalog, Missing, QuotaSettings, ThrottleSettings, UsagePlan,
};
use causeway_model::{ApiError, QuotaPeriod, patch};
use causeway_wire::input;
use causeway_wire::output::{self, Page, TagsField};

use crate::Reply;
use crate::ctx::{
    Ctx, Query, check_tags, empty, enum_field, json, paginate, patch_operations, required,
};
use crate::state::{State, kind};

const NOT_FOUND: &str = "Invalid Usage Plan ID specified";
const KEY_NOT_FOUND: &str = "Invalid API Key identifier specified";

/// The REST APIs as the usage plan rules see them.
pub(crate) struct StateCatalog<'a>(pub &'a State);

impl Catalog for StateCatalog<'_> {
    fn api_exists(&self, api_id: &str) -> bool {
        self.0.apis.contains_key(api_id)
    }

    fn stage_exists(&self, api_id: &str, stage: &str) -> bool {
        self.0
            .apis
            .get(api_id)
            .is_some_and(|api| api.stages.contains_key(stage))
    }

    fn method_exists(
        &self,
        api_id: &str,
        stage: &str,
        resource_path: &str,
        http_method: &str,
    ) -> bool {
        let Some(api) = self.0.apis.get(api_id) else {
            return false;
        };
        let now = api
            .resources
            .values()
            .any(|r| r.methods.contains_key(http_method) && api.path_of(r) == resource_path);
        // A method the stage serves counts too, even if it was removed from the API since.
        let deployed = api
            .stages
            .get(stage)
            .and_then(|s| api.deployments.get(&s.deployment_id))
            .is_some_and(|d| {
                d.snapshot.resources.iter().any(|r| {
                    r.path == resource_path && r.resource.methods.contains_key(http_method)
                })
            });
        now || deployed
    }
}

fn plan<'a>(cx: &'a Ctx<'_>, id: &str) -> Result<&'a UsagePlan, ApiError> {
    cx.state
        .usage_plan(id)
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

pub fn create(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateUsagePlan = causeway_wire::decode(body)?;
    let name = req
        .name
        .ok_or_else(|| required("createUsagePlanInput.name"))?;
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    let quota = match req.quota {
        None => None,
        Some(q) => {
            let period = q.period.ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid quota settings: a quota needs a period, one of {}",
                    QuotaPeriod::options(", ")
                ))
            })?;
            Some(QuotaSettings {
                limit: q.limit.unwrap_or_default(),
                offset: q.offset.unwrap_or_default(),
                period: enum_field(
                    &period,
                    "createUsagePlanInput.quota.period",
                    QuotaPeriod::parse,
                    QuotaPeriod::options(", "),
                )?,
            })
        }
    };
    let id = loop {
        let id = cx.new_id(6, |_| false);
        if cx.state.usage_plan(&id).is_none() {
            break id;
        }
    };
    let plan = UsagePlan {
        id: id.clone(),
        name,
        description: req.description.filter(|d| !d.is_empty()),
        api_stages: req
            .api_stages
            .unwrap_or_default()
            .into_iter()
            .map(|s| ApiStage {
                api_id: s.api_id.unwrap_or_default(),
                stage: s.stage.unwrap_or_default(),
                throttle: s
                    .throttle
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(key, t)| (key, throttle(t)))
                    .collect(),
            })
            .collect(),
        throttle: req.throttle.map(throttle),
        quota,
        product_code: None,
        tags,
        created_date: cx.now,
    };
    usage::check_usage_plan(&plan, None, &StateCatalog(cx.state), Missing::BadRequest)?;
    cx.put(kind::USAGE_PLAN, id.clone(), &plan)?;
    let reply = output::UsagePlan::from_model(&plan, TagsField::IfAny);
    cx.state.usage_plans.insert(id, plan);
    json(201, &reply)
}

fn throttle(t: input::ThrottleSettings) -> ThrottleSettings {
    ThrottleSettings {
        burst_limit: t.burst_limit.unwrap_or_default(),
        rate_limit: t.rate_limit.unwrap_or_default(),
    }
}

pub fn get(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    json(
        200,
        &output::UsagePlan::from_model(plan(cx, id)?, TagsField::Include),
    )
}

pub fn list(cx: &mut Ctx<'_>, query: &Query) -> Result<Reply, ApiError> {
    let key = query.get("keyId");
    let items = cx
        .state
        .usage_plans()
        .filter(|p| key.is_none_or(|k| cx.state.plan_has_key(&p.id, k)))
        .map(|p| {
            (
                p.id.clone(),
                output::UsagePlan::from_model(p, TagsField::IfAny),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn update(cx: &mut Ctx<'_>, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateUsagePlanInput")?;
    let current = plan(cx, id)?;
    let updated = patch::apply_usage_plan(current, &ops, &StateCatalog(cx.state))?;
    // Stages the update adds must not give a key of this plan a second plan for a stage.
    let added: Vec<&ApiStage> = updated
        .api_stages
        .iter()
        .filter(|s| !current.covers(&s.api_id, &s.stage))
        .collect();
    if !added.is_empty() {
        for key in cx.state.usage_plan_key_ids(id) {
            for other in cx.state.usage_plans_of_key(key) {
                if other.id == id {
                    continue;
                }
                if let Some(stage) = added.iter().find(|s| other.covers(&s.api_id, &s.stage)) {
                    return Err(usage::stage_conflict(
                        &other.id,
                        key,
                        &stage.api_id,
                        &stage.stage,
                    ));
                }
            }
        }
    }
    cx.put(kind::USAGE_PLAN, id.to_owned(), &updated)?;
    let reply = output::UsagePlan::from_model(&updated, TagsField::Include);
    cx.state.usage_plans.insert(id.to_owned(), updated);
    json(200, &reply)
}

pub fn delete(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    let current = plan(cx, id)?;
    if let Some(stage) = current.api_stages.first() {
        return Err(ApiError::bad_request(format!(
            "Cannot delete Usage Plan {id} because there are API Stages associated with it, including {}:{}",
            stage.api_id, stage.stage
        )));
    }
    cx.delete(kind::USAGE_PLAN, id.to_owned());
    cx.delete_prefix(kind::USAGE_PLAN_KEY, format!("{id}/"));
    cx.state.remove_usage_plan(id);
    empty(202)
}

/// The conflict a key would cause by joining `plan`: another plan of the key that covers one
/// of `plan`'s stages. `pending` lists memberships about to be added in the same request.
pub(crate) fn key_conflict(
    state: &State,
    plan: &UsagePlan,
    key_id: &str,
    pending: &[(String, String)],
) -> Option<ApiError> {
    state
        .usage_plans()
        .filter(|other| other.id != plan.id)
        .filter(|other| {
            state.plan_has_key(&other.id, key_id)
                || pending.iter().any(|(p, k)| *p == other.id && k == key_id)
        })
        .find_map(|other| {
            plan.api_stages
                .iter()
                .find(|s| other.covers(&s.api_id, &s.stage))
                .map(|s| usage::stage_conflict(&plan.id, key_id, &s.api_id, &s.stage))
        })
}

/// The stored form of a key's membership of a plan.
fn membership(plan_id: &str, key_id: &str) -> serde_json::Value {
    serde_json::json!({ "usagePlanId": plan_id, "keyId": key_id })
}

/// Records that `key_id` joins `plan_id`.
pub(crate) fn add_key(cx: &mut Ctx<'_>, plan_id: &str, key_id: &str) -> Result<(), ApiError> {
    cx.put(
        kind::USAGE_PLAN_KEY,
        format!("{plan_id}/{key_id}"),
        &membership(plan_id, key_id),
    )?;
    cx.state.add_plan_key(plan_id, key_id);
    Ok(())
}

pub fn create_key(cx: &mut Ctx<'_>, plan_id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateUsagePlanKey = causeway_wire::decode(body)?;
    let key_id = req
        .key_id
        .ok_or_else(|| required("createUsagePlanKeyInput.keyId"))?;
    let key_type = req
        .key_type
        .ok_or_else(|| required("createUsagePlanKeyInput.keyType"))?;
    let plan = plan(cx, plan_id)?;
    if key_type != "API_KEY" {
        return Err(ApiError::bad_request(format!(
            "Invalid key type specified: {key_type}. Valid options are API_KEY"
        )));
    }
    let key = cx
        .state
        .api_key(&key_id)
        .ok_or_else(|| ApiError::not_found(KEY_NOT_FOUND))?;
    if cx.state.plan_has_key(plan_id, &key_id) {
        return Err(ApiError::conflict(format!(
            "API Key {key_id} is already a member of usage plan {plan_id}"
        )));
    }
    if let Some(conflict) = key_conflict(cx.state, plan, &key_id, &[]) {
        return Err(conflict);
    }
    let reply = output::UsagePlanKey::from_model(key);
    add_key(cx, plan_id, &key_id)?;
    json(201, &reply)
}

fn member<'a>(cx: &'a Ctx<'_>, plan_id: &str, key_id: &str) -> Result<&'a usage::ApiKey, ApiError> {
    plan(cx, plan_id)?;
    if !cx.state.plan_has_key(plan_id, key_id) {
        return Err(ApiError::not_found(KEY_NOT_FOUND));
    }
    cx.state
        .api_key(key_id)
        .ok_or_else(|| ApiError::not_found(KEY_NOT_FOUND))
}

pub fn get_key(cx: &mut Ctx<'_>, plan_id: &str, key_id: &str) -> Result<Reply, ApiError> {
    json(
        200,
        &output::UsagePlanKey::from_model(member(cx, plan_id, key_id)?),
    )
}

pub fn list_keys(cx: &mut Ctx<'_>, plan_id: &str, query: &Query) -> Result<Reply, ApiError> {
    plan(cx, plan_id)?;
    let name = query.get("name");
    let items = cx
        .state
        .usage_plan_key_ids(plan_id)
        .filter_map(|id| cx.state.api_key(id))
        .filter(|k| name.is_none_or(|n| k.name.as_deref().unwrap_or_default().starts_with(n)))
        .map(|k| (k.id.clone(), output::UsagePlanKey::from_model(k)))
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn delete_key(cx: &mut Ctx<'_>, plan_id: &str, key_id: &str) -> Result<Reply, ApiError> {
    member(cx, plan_id, key_id)?;
    cx.delete(kind::USAGE_PLAN_KEY, format!("{plan_id}/{key_id}"));
    cx.state.remove_plan_key(plan_id, key_id);
    empty(202)
}

/// Takes a deleted stage (or, with `None`, every stage of a deleted API) out of the usage
/// plans that cover it, as AWS does: the plans stay, without that stage.
pub(crate) fn forget_stages(
    cx: &mut Ctx<'_>,
    api_id: &str,
    stage: Option<&str>,
) -> Result<(), ApiError> {
    let gone = |s: &ApiStage| s.api_id == api_id && stage.is_none_or(|name| s.stage == name);
    let changed: Vec<UsagePlan> = cx
        .state
        .usage_plans()
        .filter(|p| p.api_stages.iter().any(gone))
        .map(|p| {
            let mut p = p.clone();
            p.api_stages.retain(|s| !gone(s));
            p
        })
        .collect();
    for plan in changed {
        cx.put(kind::USAGE_PLAN, plan.id.clone(), &plan)?;
        cx.state.usage_plans.insert(plan.id.clone(), plan);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
