//! CreateModel, GetModel (`flatten`), GetModels, UpdateModel, DeleteModel and
//! GetModelTemplate.

use std::collections::BTreeMap;

use causeway_model::{ApiError, Model, patch, schemas};
use causeway_wire::input;
use causeway_wire::output::{self, Page};

use crate::Reply;
use crate::ctx::{Ctx, Query, empty, json, paginate, patch_operations};
use crate::state::{ApiState, kind};

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Invalid model name specified: {name}"))
}

/// The model `name` of API `api_id`; an unknown API gets the model's message too, as on AWS.
fn model<'a>(
    cx: &'a Ctx<'_>,
    api_id: &str,
    name: &str,
) -> Result<(&'a ApiState, &'a Model), ApiError> {
    let api = cx.state.apis.get(api_id).ok_or_else(|| not_found(name))?;
    let model = api.models.get(name).ok_or_else(|| not_found(name))?;
    Ok((api, model))
}

/// The schemas of the models other than `name`, which `name` may refer to.
pub(crate) fn others(models: &BTreeMap<String, Model>, name: &str) -> BTreeMap<String, String> {
    models
        .values()
        .filter(|m| m.name != name)
        .map(|m| (m.name.clone(), m.schema.clone()))
        .collect()
}

pub fn create(cx: &mut Ctx<'_>, api_id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateModel = causeway_wire::decode(body)?;
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    let name = req.name.unwrap_or_default();
    schemas::check_name(&name)?;
    let content_type = req.content_type.unwrap_or_default();
    schemas::check_content_type(&content_type)?;
    let schema = req.schema.unwrap_or_default();
    if api.models.contains_key(&name) {
        return Err(ApiError::conflict(
            "Model name already exists for this REST API",
        ));
    }
    schemas::check_schema(api_id, &name, &schema, &others(&api.models, &name))?;
    let taken: Vec<String> = api.models.values().map(|m| m.id.clone()).collect();
    let id = cx.new_id(6, |candidate| taken.iter().any(|t| t == candidate));
    let model = Model {
        id,
        name,
        description: req.description.filter(|d| !d.is_empty()),
        schema,
        content_type,
    };
    save(cx, &account, api_id, model, 201)
}

fn save(
    cx: &mut Ctx<'_>,
    account: &str,
    api_id: &str,
    model: Model,
    status: u16,
) -> Result<Reply, ApiError> {
    cx.put(kind::MODEL, format!("{api_id}/{}", model.name), &model)?;
    let reply = output::Model::from_model(&model);
    cx.state
        .api_mut(account, api_id)?
        .models
        .insert(model.name.clone(), model);
    json(status, &reply)
}

pub fn list(cx: &mut Ctx<'_>, api_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let items = api
        .models
        .values()
        .map(|m| (m.name.clone(), output::Model::from_model(m)))
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn get(cx: &mut Ctx<'_>, api_id: &str, name: &str, query: &Query) -> Result<Reply, ApiError> {
    let (api, model) = model(cx, api_id, name)?;
    let mut reply = output::Model::from_model(model);
    if query.get("flatten") == Some("true") {
        reply.schema = flatten(api_id, api, &model.schema);
    }
    json(200, &reply)
}

/// The schema with every reference to another model replaced by that model's schema
/// (GetModel `flatten=true`). A model met again inside itself stays a reference, so recursive
/// models end.
fn flatten(api_id: &str, api: &ApiState, schema: &str) -> String {
    fn inline(value: &mut serde_json::Value, prefix: &str, api: &ApiState, open: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                let target = map
                    .get("$ref")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|r| r.strip_prefix(prefix))
                    .map(str::to_owned);
                if let Some(name) = target
                    && !open.contains(&name)
                    && let Some(model) = api.models.get(&name)
                    && let Ok(mut inner) = serde_json::from_str::<serde_json::Value>(&model.schema)
                {
                    open.push(name);
                    inline(&mut inner, prefix, api, open);
                    open.pop();
                    *value = inner;
                    return;
                }
                for child in map.values_mut() {
                    inline(child, prefix, api, open);
                }
            }
            serde_json::Value::Array(items) => {
                for child in items {
                    inline(child, prefix, api, open);
                }
            }
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(schema) else {
        return schema.to_owned();
    };
    let prefix = schemas::model_url(api_id, "");
    inline(&mut value, &prefix, api, &mut Vec::new());
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| schema.to_owned())
}

pub fn update(cx: &mut Ctx<'_>, api_id: &str, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateModelInput")?;
    let account = cx.config.account_id.clone();
    let (api, model) = model(cx, api_id, name)?;
    let updated = patch::apply_model(model, &ops)?;
    if updated.schema != model.schema {
        schemas::check_schema(api_id, name, &updated.schema, &others(&api.models, name))?;
    }
    save(cx, &account, api_id, updated, 200)
}

pub fn delete(cx: &mut Ctx<'_>, api_id: &str, name: &str) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    let (api, _) = model(cx, api_id, name)?;
    if let Some(place) = method_using(api, name) {
        return Err(ApiError::conflict(format!(
            "Cannot delete model '{name}', is referenced in {place}"
        )));
    }
    if let Some(other) = api
        .models
        .values()
        .find(|m| m.name != name && schemas::referenced_models(api_id, &m.schema).contains(name))
    {
        return Err(ApiError::conflict(format!(
            "Cannot delete model '{name}', is referenced in model: {}",
            other.name
        )));
    }
    cx.delete(kind::MODEL, format!("{api_id}/{name}"));
    cx.state.api_mut(&account, api_id)?.models.remove(name);
    empty(202)
}

/// Where a method request or method response names the model, as AWS words it
/// (`method request: /pets/POST`, `//ANY` for the root).
fn method_using(api: &ApiState, name: &str) -> Option<String> {
    let mut resources: Vec<_> = api.resources.values().collect();
    resources.sort_by_key(|r| r.seq);
    for resource in resources {
        for (verb, method) in &resource.methods {
            let place = format!("{}/{verb}", api.path_of(resource));
            if method.request_models.values().any(|m| m == name) {
                return Some(format!("method request: {place}"));
            }
            if let Some(code) = method
                .method_responses
                .values()
                .find(|r| r.response_models.values().any(|m| m == name))
                .map(|r| &r.status_code)
            {
                return Some(format!("method response: {place}/{code}"));
            }
        }
    }
    None
}

/// GetModelTemplate: a mapping template that writes out the model's shape.
pub fn template(cx: &mut Ctx<'_>, api_id: &str, name: &str) -> Result<Reply, ApiError> {
    let (api, model) = model(cx, api_id, name)?;
    let flat = flatten(api_id, api, &model.schema);
    let value = schemas::default_template(&flat).map_err(ApiError::bad_request)?;
    json(200, &output::Template { value })
}
