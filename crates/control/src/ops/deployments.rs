//! CreateDeployment, GetDeployment(s), UpdateDeployment, DeleteDeployment.

use causeway_model::*;
use causeway_wire::input;
use causeway_wire::output::{self, Page, SummaryField};

use crate::Reply;
use crate::ctx::{Ctx, Query, empty, json, paginate, patch_operations};
use crate::ops::stages;
use crate::state::{ApiState, kind};

pub fn create(cx: &mut Ctx<'_>, api_id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateDeployment = causeway_wire::decode(body)?;
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    if !api.has_methods() {
        return Err(ApiError::bad_request(
            "The REST API doesn't contain any methods",
        ));
    }
    if let Some((resource, method)) = api.methods().find(|(_, m)| m.integration.is_none()) {
        return Err(ApiError::bad_request(format!(
            "No integration defined for method {} on resource {}: add one with PutIntegration before deploying",
            method.http_method,
            api.path_of(resource)
        )));
    }
    if api
        .api
        .endpoint_configuration
        .types
        .contains(&causeway_model::EndpointType::Private)
        && api.api.policy.is_none()
    {
        return Err(ApiError::bad_request(
            "Private REST API doesn't have a resource policy attached to it",
        ));
    }
    let snapshot = snapshot(api);
    if let Some(stage_name) = &req.stage_name {
        validate::stage_name(stage_name)?;
    }
    if let Some(variables) = &req.variables {
        validate::stage_variables(variables)?;
    }
    if let Some(size) = &req.cache_cluster_size {
        validate::cache_cluster_size(size)?;
    }
    // AWS: "you cannot specify any non-existing stage name when creating a canary release
    // deployment".
    if let Some(canary) = &req.canary_settings {
        match &req.stage_name {
            Some(name) if api.stages.contains_key(name) => {}
            Some(name) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid deployment content specified.Stage {name} must already be created before making a canary release deployment"
                )));
            }
            None => {
                return Err(ApiError::bad_request(
                    "A canary release deployment needs the stageName of an existing stage",
                ));
            }
        }
        validate::canary_percent(canary.percent_traffic)?;
    } else if let Some(name) = &req.stage_name
        && api
            .stages
            .get(name)
            .is_some_and(|stage| stage.canary_settings.is_some())
    {
        // AWS's words, as recorded from it.
        return Err(ApiError::bad_request(format!(
            "Invalid deployment content specified.Non canary deployment not supported on stage {name} because Canary is enabled. Provide CanarySettings in deploymentInput."
        )));
    }
    let taken: Vec<String> = api.deployments.keys().cloned().collect();
    let id = cx.new_id(6, |id| taken.iter().any(|t| t == id));
    let deployment = Deployment {
        id: id.clone(),
        description: req.description.filter(|d| !d.is_empty()),
        created_date: cx.now,
        snapshot,
    };
    cx.put(kind::DEPLOYMENT, format!("{api_id}/{id}"), &deployment)?;

    // With a stage name, the new deployment goes live on that stage (created if needed).
    if let Some(stage_name) = req.stage_name {
        let api = cx.state.api(&account, api_id)?;
        let mut stage = match api.stages.get(&stage_name) {
            Some(existing) => existing.clone(),
            None => stages::new_stage(stage_name.clone(), id.clone(), cx.now),
        };
        // A canary release deployment goes to the stage's canary, and the stage keeps serving
        // its deployment to the rest of the traffic; the first one, on a stage without a
        // canary, is both (AWS: "both the stage and the canary have the same deploymentId").
        // (A plain deployment to a stage with a canary was refused above.)
        if req.canary_settings.is_none() || stage.canary_settings.is_none() {
            stage.deployment_id = id.clone();
        }
        stage.last_updated_date = cx.now;
        if let Some(description) = req.stage_description.filter(|d| !d.is_empty()) {
            stage.description = Some(description);
        }
        if let Some(variables) = req.variables {
            stage.variables.extend(variables);
        }
        if let Some(enabled) = req.cache_cluster_enabled {
            stages::set_cache(&mut stage, enabled, req.cache_cluster_size);
        }
        if let Some(tracing) = req.tracing_enabled {
            stage.tracing_enabled = tracing;
        }
        if let Some(canary) = req.canary_settings {
            stage.canary_settings = Some(CanarySettings {
                percent_traffic: canary.percent_traffic,
                deployment_id: Some(id.clone()),
                stage_variable_overrides: canary.stage_variable_overrides.unwrap_or_default(),
                use_stage_cache: canary.use_stage_cache.unwrap_or(false),
            });
        }
        validate::stage_variables(&stage.variables)?;
        cx.put(kind::STAGE, format!("{api_id}/{stage_name}"), &stage)?;
        cx.state
            .api_mut(&account, api_id)?
            .stages
            .insert(stage_name, stage);
    }
    let reply = output::Deployment::from_model(&deployment, SummaryField::Omit);
    cx.state
        .api_mut(&account, api_id)?
        .deployments
        .insert(id, std::sync::Arc::new(deployment));
    json(201, &reply)
}

/// Freezes the API as it is now.
fn snapshot(api: &ApiState) -> ApiSnapshot {
    let mut resources: Vec<DeployedResource> = api
        .resources
        .values()
        .map(|r| DeployedResource {
            path: api.path_of(r),
            resource: r.clone(),
        })
        .collect();
    resources.sort_by_key(|r| r.resource.seq);
    api.snapshot_with(resources)
}

fn deployment<'a>(api: &'a ApiState, id: &str) -> Result<&'a Deployment, ApiError> {
    api.deployments
        .get(id)
        .map(|d| &**d)
        .ok_or_else(|| ApiError::not_found("Invalid Deployment identifier specified"))
}

pub fn get(cx: &mut Ctx<'_>, api_id: &str, id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let summary = if query.embeds("apisummary") {
        SummaryField::Include
    } else {
        SummaryField::Omit
    };
    json(
        200,
        &output::Deployment::from_model(deployment(api, id)?, summary),
    )
}

pub fn list(cx: &mut Ctx<'_>, api_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let items = api
        .deployments
        .values()
        .map(|d| {
            (
                d.id.clone(),
                output::Deployment::from_model(d, SummaryField::Omit),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn update(cx: &mut Ctx<'_>, api_id: &str, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateDeploymentInput")?;
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    let updated = patch::apply_deployment(deployment(api, id)?, &ops)?;
    cx.put(kind::DEPLOYMENT, format!("{api_id}/{id}"), &updated)?;
    let reply = output::Deployment::from_model(&updated, SummaryField::Omit);
    cx.state
        .api_mut(&account, api_id)?
        .deployments
        .insert(id.to_owned(), std::sync::Arc::new(updated));
    json(200, &reply)
}

pub fn delete(cx: &mut Ctx<'_>, api_id: &str, id: &str) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    deployment(api, id)?;
    let in_use = api.stages.values().any(|s| {
        s.deployment_id == id
            || s.canary_settings
                .as_ref()
                .and_then(|c| c.deployment_id.as_deref())
                == Some(id)
    });
    if in_use {
        return Err(ApiError::bad_request(
            "Active stages pointing to this deployment must be moved or deleted",
        ));
    }
    cx.delete(kind::DEPLOYMENT, format!("{api_id}/{id}"));
    cx.state.api_mut(&account, api_id)?.deployments.remove(id);
    empty(202)
}
