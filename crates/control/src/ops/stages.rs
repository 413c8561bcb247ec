//! CreateStage, GetStage(s), UpdateStage, DeleteStage, FlushStageCache.

use std::collections::BTreeMap;

use causeway_model::*;
use causeway_wire::input;
use causeway_wire::output::{self, Stages};

use crate::Reply;
use crate::ctx::{Ctx, Query, check_tags, empty, json, patch_operations, required};
use crate::state::{ApiState, kind};

/// A stage as AWS creates it: no cache, no tracing, no method settings.
pub fn new_stage(name: String, deployment_id: String, now: i64) -> Stage {
    Stage {
        stage_name: name,
        deployment_id,
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
        created_date: now,
        last_updated_date: now,
        cache_flushes: 0,
        authorizer_flushes: 0,
    }
}

/// Turns the stage cache on or off. The cache is in-process, so it is available at once.
pub fn set_cache(stage: &mut Stage, enabled: bool, size: Option<String>) {
    stage.cache_cluster_enabled = enabled;
    if enabled {
        stage.cache_cluster_status = CacheClusterStatus::Available;
        stage.cache_cluster_size = Some(size.unwrap_or_else(|| "0.5".to_owned()));
    } else {
        stage.cache_cluster_status = CacheClusterStatus::NotAvailable;
        if size.is_some() {
            stage.cache_cluster_size = size;
        }
    }
}

fn stage<'a>(api: &'a ApiState, name: &str) -> Result<&'a Stage, ApiError> {
    api.stages
        .get(name)
        .ok_or_else(|| ApiError::not_found("Invalid stage identifier specified"))
}

pub fn create(cx: &mut Ctx<'_>, api_id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateStage = causeway_wire::decode(body)?;
    let name = req
        .stage_name
        .ok_or_else(|| required("createStageInput.stageName"))?;
    let deployment_id = req
        .deployment_id
        .ok_or_else(|| required("createStageInput.deploymentId"))?;
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    validate::stage_name(&name)?;
    if !api.deployments.contains_key(&deployment_id) {
        return Err(ApiError::bad_request("Deployment id does not exist"));
    }
    if api.stages.contains_key(&name) {
        return Err(ApiError::conflict("Stage already exists"));
    }
    let variables = req.variables.unwrap_or_default();
    validate::stage_variables(&variables)?;
    if let Some(size) = &req.cache_cluster_size {
        validate::cache_cluster_size(size)?;
    }
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    let canary_settings = match req.canary_settings {
        None => None,
        Some(canary) => {
            if let Some(id) = &canary.deployment_id
                && !api.deployments.contains_key(id)
            {
                return Err(ApiError::bad_request("Deployment id does not exist"));
            }
            causeway_model::validate::canary_percent(canary.percent_traffic)?;
            Some(CanarySettings {
                percent_traffic: canary.percent_traffic,
                deployment_id: canary.deployment_id,
                stage_variable_overrides: canary.stage_variable_overrides.unwrap_or_default(),
                use_stage_cache: canary.use_stage_cache.unwrap_or(false),
            })
        }
    };
    if let Some(version) = &req.documentation_version
        && !api.documentation_versions.contains_key(version)
    {
        return Err(ApiError::bad_request(
            crate::ops::documentation::VERSION_NOT_FOUND,
        ));
    }
    let mut stage = new_stage(name.clone(), deployment_id, cx.now);
    stage.description = req.description.filter(|d| !d.is_empty());
    stage.variables = variables;
    stage.documentation_version = req.documentation_version;
    stage.tracing_enabled = req.tracing_enabled.unwrap_or(false);
    stage.tags = tags;
    stage.canary_settings = canary_settings;
    set_cache(
        &mut stage,
        req.cache_cluster_enabled.unwrap_or(false),
        req.cache_cluster_size,
    );
    cx.put(kind::STAGE, format!("{api_id}/{name}"), &stage)?;
    let reply = output::Stage::from_model(&stage);
    cx.state
        .api_mut(&account, api_id)?
        .stages
        .insert(name, stage);
    json(201, &reply)
}

pub fn get(cx: &mut Ctx<'_>, api_id: &str, name: &str) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    json(200, &output::Stage::from_model(stage(api, name)?))
}

pub fn list(cx: &mut Ctx<'_>, api_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let deployment = query.get("deploymentId");
    let item = api
        .stages
        .values()
        .filter(|s| deployment.is_none_or(|d| s.deployment_id == d))
        .map(output::Stage::from_model)
        .collect();
    json(200, &Stages { item })
}

pub fn update(cx: &mut Ctx<'_>, api_id: &str, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateStageInput")?;
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    let current = stage(api, name)?;
    let exists = |id: &str| api.deployments.contains_key(id);
    let updated = patch::apply_stage(current, &ops, &exists, cx.now)?;
    if let Some(settings) = &updated.access_log_settings
        && updated.access_log_settings != current.access_log_settings
    {
        causeway_model::validate::access_log_settings(settings)?;
    }
    if let Some(version) = &updated.documentation_version
        && updated.documentation_version != current.documentation_version
        && !api.documentation_versions.contains_key(version)
    {
        return Err(ApiError::bad_request(
            crate::ops::documentation::VERSION_NOT_FOUND,
        ));
    }
    // A stage can name only a certificate that exists (inferred: AWS's text for an unknown
    // id, as a bad request since the stage itself was found).
    if let Some(id) = &updated.client_certificate_id
        && updated.client_certificate_id != current.client_certificate_id
        && !cx.state.client_certificates.contains_key(id)
    {
        return Err(ApiError::bad_request(
            crate::ops::client_certificates::NOT_FOUND,
        ));
    }
    cx.put(kind::STAGE, format!("{api_id}/{name}"), &updated)?;
    let reply = output::Stage::from_model(&updated);
    cx.state
        .api_mut(&account, api_id)?
        .stages
        .insert(name.to_owned(), updated);
    json(200, &reply)
}

pub fn delete(cx: &mut Ctx<'_>, api_id: &str, name: &str) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    stage(cx.state.api(&account, api_id)?, name)?;
    crate::ops::domain_names::refuse_if_mapped(cx, api_id, Some(name))?;
    // Usage plans lose the stage, as on AWS; a stage of the same name made later is not in
    // them.
    crate::ops::usageplans::forget_stages(cx, api_id, Some(name))?;
    cx.delete(kind::STAGE, format!("{api_id}/{name}"));
    cx.state.api_mut(&account, api_id)?.stages.remove(name);
    empty(202)
}

/// FlushStageAuthorizersCache: every gateway node forgets the decisions the stage's
/// authorizers made, once the stage's authorizer flush count (stored) reaches it.
pub fn flush_authorizers(cx: &mut Ctx<'_>, api_id: &str, name: &str) -> Result<Reply, ApiError> {
    count_flush(cx, api_id, name, |stage| &mut stage.authorizer_flushes)
}

pub fn flush_cache(cx: &mut Ctx<'_>, api_id: &str, name: &str) -> Result<Reply, ApiError> {
    // The cache is in each gateway's memory. This node's is emptied now; the stage's flush
    // count, stored, tells the other nodes sharing the configuration to empty theirs.
    if let Some(data_plane) = cx.data_plane
        && stage(cx.state.api(&cx.config.account_id, api_id)?, name).is_ok()
    {
        data_plane.flush_stage_cache(api_id, name);
    }
    count_flush(cx, api_id, name, |stage| &mut stage.cache_flushes)
}

/// Adds one to a flush count of the stage (stored, not on the wire): every gateway node
/// compiling the stage with a new count starts that cache afresh.
fn count_flush(
    cx: &mut Ctx<'_>,
    api_id: &str,
    name: &str,
    count: fn(&mut Stage) -> &mut u64,
) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    let mut flushed = stage(cx.state.api(&account, api_id)?, name)?.clone();
    let counter = count(&mut flushed);
    *counter = counter.wrapping_add(1);
    cx.put(kind::STAGE, format!("{api_id}/{name}"), &flushed)?;
    cx.state
        .api_mut(&account, api_id)?
        .stages
        .insert(name.to_owned(), flushed);
    empty(202)
}
