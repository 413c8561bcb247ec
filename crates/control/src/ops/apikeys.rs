//! CreateApiKey, GetApiKey(s), UpdateApiKey, DeleteApiKey, ImportApiKeys.

use causeway_model::usage::{self, ApiKey};
use causeway_model::{ApiError, patch};
use causeway_wire::api_key_file;
use causeway_wire::input;
use causeway_wire::output::{self, ApiKeyIds, Page, TagsField, ValueField};

use crate::Reply;
use crate::ctx::{Ctx, Query, check_tags, empty, enum_field, json, paginate, patch_operations};
use crate::ops::usageplans::{self, StateCatalog};
use crate::state::kind;

const NOT_FOUND: &str = "Invalid API Key identifier specified";

/// The length of the values AWS generates.
const GENERATED_VALUE_CHARS: usize = 40;

fn key<'a>(cx: &'a Ctx<'_>, id: &str) -> Result<&'a ApiKey, ApiError> {
    cx.state
        .api_key(id)
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

fn fresh_id(cx: &mut Ctx<'_>) -> String {
    loop {
        let id = cx.new_id(10, |_| false);
        if cx.state.api_key(&id).is_none() {
            return id;
        }
    }
}

pub fn create(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateApiKey = causeway_wire::decode(body)?;
    if let Some(name) = &req.name {
        usage::api_key_name(name)?;
    }
    if let Some(value) = &req.value {
        usage::api_key_value(value)?;
        if cx.state.api_key_by_value(value).is_some() {
            return Err(ApiError::conflict("API Key already exists"));
        }
    }
    let mut stage_keys: Vec<String> = Vec::new();
    for stage_key in req.stage_keys.unwrap_or_default() {
        let api = stage_key.rest_api_id.unwrap_or_default();
        let stage = stage_key.stage_name.unwrap_or_default();
        usage::check_stage_key(&StateCatalog(cx.state), &api, &stage)?;
        let text = format!("{api}/{stage}");
        if !stage_keys.contains(&text) {
            stage_keys.push(text);
        }
    }
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    // `generateDistinctId` is deprecated: ids are always distinct from values here.
    let value = match req.value {
        Some(value) => value,
        None => loop {
            let value = cx.new_secret(GENERATED_VALUE_CHARS, |_| false);
            if cx.state.api_key_by_value(&value).is_none() {
                break value;
            }
        },
    };
    let id = fresh_id(cx);
    let key = ApiKey {
        id: id.clone(),
        value,
        name: req.name.filter(|n| !n.is_empty()),
        customer_id: req.customer_id.filter(|c| !c.is_empty()),
        description: req.description.filter(|d| !d.is_empty()),
        enabled: req.enabled.unwrap_or(false),
        created_date: cx.now,
        last_updated_date: cx.now,
        stage_keys,
        tags,
    };
    cx.put(kind::API_KEY, id, &key)?;
    let reply = output::ApiKey::from_model(&key, ValueField::Include, TagsField::IfAny);
    cx.state.insert_api_key(key);
    json(201, &reply)
}

fn flag(query: &Query, name: &str) -> ValueField {
    if query
        .get(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        ValueField::Include
    } else {
        ValueField::Omit
    }
}

pub fn get(cx: &mut Ctx<'_>, id: &str, query: &Query) -> Result<Reply, ApiError> {
    let value = flag(query, "includeValue");
    json(
        200,
        &output::ApiKey::from_model(key(cx, id)?, value, TagsField::Include),
    )
}

pub fn list(cx: &mut Ctx<'_>, query: &Query) -> Result<Reply, ApiError> {
    let value = flag(query, "includeValues");
    // `name` is a case-sensitive prefix, `customerId` an exact match, as on AWS.
    let name = query.get("name");
    let customer = query.get("customerId");
    let items = cx
        .state
        .api_keys()
        .filter(|k| name.is_none_or(|n| k.name.as_deref().unwrap_or_default().starts_with(n)))
        .filter(|k| customer.is_none_or(|c| k.customer_id.as_deref() == Some(c)))
        .map(|k| {
            (
                k.id.clone(),
                output::ApiKey::from_model(k, value, TagsField::IfAny),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn update(cx: &mut Ctx<'_>, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateApiKeyInput")?;
    let updated = patch::apply_api_key(key(cx, id)?, &ops, &StateCatalog(cx.state), cx.now)?;
    cx.put(kind::API_KEY, id.to_owned(), &updated)?;
    let reply = output::ApiKey::from_model(&updated, ValueField::Omit, TagsField::Include);
    cx.state.insert_api_key(updated);
    json(200, &reply)
}

pub fn delete(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    key(cx, id)?;
    // The key leaves every plan it was in.
    let plans: Vec<String> = cx
        .state
        .usage_plans_of_key(id)
        .map(|p| p.id.clone())
        .collect();
    for plan in plans {
        cx.delete(kind::USAGE_PLAN_KEY, format!("{plan}/{id}"));
    }
    cx.delete(kind::API_KEY, id.to_owned());
    cx.state.remove_api_key(id);
    empty(202)
}

/// ImportApiKeys (`POST /apikeys?mode=import&format=csv`). Each row of the file creates a
/// key, or updates the key that already has its value, and adds it to the listed plans. A
/// row that cannot be imported becomes a warning; with `failonwarnings=true` any warning
/// fails the whole import and nothing changes.
pub fn import(cx: &mut Ctx<'_>, query: &Query, body: &[u8]) -> Result<Reply, ApiError> {
    let format = query
        .get("format")
        .ok_or_else(|| crate::ctx::required("format"))?;
    enum_field(
        format,
        "format",
        |f| (f == "csv").then_some(()),
        "csv".to_owned(),
    )?;
    let fail_on_warnings = query
        .get("failonwarnings")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::bad_request("Invalid API key file: the file must be UTF-8 text in CSV format")
    })?;
    let file = api_key_file::parse(text)?;
    let mut warnings = file.warnings;

    // Work out every change first, so that failonwarnings can refuse them all.
    let mut keys: Vec<ApiKey> = Vec::new();
    let mut memberships: Vec<(String, String)> = Vec::new();
    for row in file.rows {
        let line = row.line;
        if let Err(e) = usage::api_key_value(&row.key).and_then(|_| usage::api_key_name(&row.name))
        {
            warnings.push(format!("Line {line}: {}", e.message()));
            continue;
        }
        if let Some(plan) = row
            .usage_plan_ids
            .iter()
            .find(|p| cx.state.usage_plan(p).is_none())
        {
            warnings.push(format!(
                "Line {line}: Invalid Usage Plan ID specified: {plan}; the key was not imported"
            ));
            continue;
        }
        // The same value means the same key: a later row overwrites an earlier one.
        let existing = keys
            .iter()
            .position(|k| k.value == row.key)
            .map(|i| keys.remove(i))
            .or_else(|| cx.state.api_key_by_value(&row.key).cloned());
        let mut key = match existing {
            Some(key) => key,
            None => {
                let id = loop {
                    let id = fresh_id(cx);
                    if keys.iter().all(|k| k.id != id) {
                        break id;
                    }
                };
                ApiKey {
                    id,
                    value: row.key.clone(),
                    name: None,
                    customer_id: None,
                    description: None,
                    enabled: true,
                    created_date: cx.now,
                    last_updated_date: cx.now,
                    stage_keys: Vec::new(),
                    tags: Default::default(),
                }
            }
        };
        key.name = Some(row.name.clone()).filter(|n| !n.is_empty());
        key.description = row.description.clone();
        key.enabled = row.enabled;
        key.last_updated_date = cx.now;
        for plan_id in &row.usage_plan_ids {
            let already = cx.state.plan_has_key(plan_id, &key.id)
                || memberships
                    .iter()
                    .any(|(p, k)| p == plan_id && *k == key.id);
            if already {
                continue;
            }
            let Some(plan) = cx.state.usage_plan(plan_id) else {
                continue;
            };
            match usageplans::key_conflict(cx.state, plan, &key.id, &memberships) {
                Some(conflict) => warnings.push(format!(
                    "Line {line}: {}; the key was not added to that plan",
                    conflict.message()
                )),
                None => memberships.push((plan_id.clone(), key.id.clone())),
            }
        }
        keys.push(key);
    }
    if fail_on_warnings && !warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "The API keys were not imported: {}",
            warnings.join("; ")
        )));
    }

    let mut ids: Vec<String> = Vec::new();
    for key in keys {
        cx.put(kind::API_KEY, key.id.clone(), &key)?;
        ids.push(key.id.clone());
        cx.state.insert_api_key(key);
    }
    for (plan, key) in &memberships {
        usageplans::add_key(cx, plan, key)?;
    }
    json(201, &ApiKeyIds { ids, warnings })
}
