//! Documentation parts (Create, Get(s), Update, Delete, Import) and documentation versions
//! (Create, Get(s), Update, Delete) of an API.

use std::collections::BTreeMap;

use causeway_model::ApiError;
use causeway_model::documentation::{
    self, DocumentationPart, DocumentationPartLocation, DocumentationPartType,
    DocumentationVersion, ImportedPart,
};
use causeway_wire::input;
use causeway_wire::output::{self, DocumentationPartIds, Page};

use crate::Reply;
use crate::ctx::{Ctx, Query, empty, enum_field, json, paginate, patch_operations, required};
use crate::state::{ApiState, kind};

/// AWS's text for an unknown part id (and for Get and Update on an unknown API).
const PART_NOT_FOUND: &str = "Invalid Documentation part identifier specified";
/// AWS's text for an unknown documentation version.
pub const VERSION_NOT_FOUND: &str = "Invalid Documentation version specified";

/// The part `id` of API `api_id`; an unknown API gets the part's message, as on AWS.
fn part<'a>(cx: &'a Ctx<'_>, api_id: &str, id: &str) -> Result<&'a DocumentationPart, ApiError> {
    cx.state
        .apis
        .get(api_id)
        .and_then(|api| api.documentation_parts.get(id))
        .ok_or_else(|| ApiError::not_found(PART_NOT_FOUND))
}

fn version<'a>(
    cx: &'a Ctx<'_>,
    api_id: &str,
    version: &str,
) -> Result<&'a DocumentationVersion, ApiError> {
    cx.state
        .api(&cx.config.account_id, api_id)?
        .documentation_versions
        .get(version)
        .ok_or_else(|| ApiError::not_found(VERSION_NOT_FOUND))
}

fn location(
    raw: Option<input::DocumentationPartLocation>,
) -> Result<DocumentationPartLocation, ApiError> {
    let raw = raw.ok_or_else(|| required("createDocumentationPartInput.location"))?;
    let kind = raw
        .kind
        .ok_or_else(|| required("createDocumentationPartInput.location.type"))?;
    let kind = enum_field(
        &kind,
        "createDocumentationPartInput.location.type",
        DocumentationPartType::parse,
        DocumentationPartType::AWS_ORDER.to_owned(),
    )?;
    DocumentationPartLocation::normalize(kind, raw.path, raw.method, raw.status_code, raw.name)
}

fn conflict(location: &DocumentationPartLocation) -> ApiError {
    ApiError::conflict(format!(
        "Documentation part already exists for the specified location: {}.",
        location.describe()
    ))
}

/// A fresh part id, unknown to `parts`.
fn fresh_id(cx: &mut Ctx<'_>, parts: &BTreeMap<String, DocumentationPart>) -> String {
    let taken: Vec<String> = parts.keys().cloned().collect();
    cx.new_id(6, |id| taken.iter().any(|t| t == id))
}

pub fn create_part(cx: &mut Ctx<'_>, api_id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateDocumentationPart = causeway_wire::decode(body)?;
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    let location = location(req.location)?;
    let properties = req
        .properties
        .ok_or_else(|| required("createDocumentationPartInput.properties"))?;
    documentation::check_properties(&properties)?;
    if api
        .documentation_parts
        .values()
        .any(|p| p.location == location)
    {
        return Err(conflict(&location));
    }
    let parts = api.documentation_parts.clone();
    let id = fresh_id(cx, &parts);
    let part = DocumentationPart {
        id: id.clone(),
        location,
        properties,
        seq: cx.next_seq(),
    };
    cx.put(kind::DOCUMENTATION_PART, format!("{api_id}/{id}"), &part)?;
    let reply = output::DocumentationPart::from_model(&part);
    cx.state
        .api_mut(&account, api_id)?
        .documentation_parts
        .insert(id, part);
    json(201, &reply)
}

pub fn get_part(cx: &mut Ctx<'_>, api_id: &str, id: &str) -> Result<Reply, ApiError> {
    json(
        200,
        &output::DocumentationPart::from_model(part(cx, api_id, id)?),
    )
}

/// GetDocumentationParts: in creation order, filtered by `type`, `name` (a prefix of the
/// part's name), `path` and `locationStatus` (DOCUMENTED: properties other than `{}`).
pub fn list_parts(cx: &mut Ctx<'_>, api_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let kind = query
        .get("type")
        .map(|kind| {
            enum_field(
                kind,
                "getDocumentationPartsInput.type",
                DocumentationPartType::parse,
                DocumentationPartType::AWS_ORDER.to_owned(),
            )
        })
        .transpose()?;
    let documented = match query.get("locationStatus") {
        None => None,
        Some("DOCUMENTED") => Some(true),
        Some("UNDOCUMENTED") => Some(false),
        Some(other) => {
            return Err(ApiError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'getDocumentationPartsInput.locationStatus' failed to satisfy constraint: Member must satisfy enum value set: [DOCUMENTED, UNDOCUMENTED]"
            )));
        }
    };
    let name = query.get("name");
    let path = query.get("path");
    let mut parts: Vec<&DocumentationPart> = api
        .documentation_parts
        .values()
        .filter(|p| kind.is_none_or(|k| p.location.kind == k))
        .filter(|p| {
            name.is_none_or(|n| p.location.name.as_deref().is_some_and(|m| m.starts_with(n)))
        })
        .filter(|p| path.is_none_or(|want| p.location.path.as_deref() == Some(want)))
        .filter(|p| documented.is_none_or(|d| documentation::is_documented(p) == d))
        .collect();
    parts.sort_by_key(|p| p.seq);
    // The position is the creation number of the first part of the next page.
    let items = parts
        .into_iter()
        .map(|p| {
            (
                format!("{:016}", p.seq),
                output::DocumentationPart::from_model(p),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn update_part(
    cx: &mut Ctx<'_>,
    api_id: &str,
    id: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateDocumentationPartInput")?;
    let updated = documentation::apply_part(part(cx, api_id, id)?, &ops)?;
    cx.put(kind::DOCUMENTATION_PART, format!("{api_id}/{id}"), &updated)?;
    let reply = output::DocumentationPart::from_model(&updated);
    let account = cx.config.account_id.clone();
    cx.state
        .api_mut(&account, api_id)?
        .documentation_parts
        .insert(id.to_owned(), updated);
    json(200, &reply)
}

pub fn delete_part(cx: &mut Ctx<'_>, api_id: &str, id: &str) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    cx.state.api(&account, api_id)?;
    part(cx, api_id, id)?;
    cx.delete(kind::DOCUMENTATION_PART, format!("{api_id}/{id}"));
    cx.state
        .api_mut(&account, api_id)?
        .documentation_parts
        .remove(id);
    empty(202)
}

/// The parts of an API after importing `imported`: with `overwrite`, the imported ones only,
/// under new ids; else (merge) the current ones, a part at an imported location getting the
/// imported properties over its own, and the other imported ones added. Returns the parts
/// and the ids of the imported ones, in the document's order.
pub(crate) fn import_into(
    cx: &mut Ctx<'_>,
    current: &BTreeMap<String, DocumentationPart>,
    imported: Vec<ImportedPart>,
    overwrite: bool,
) -> (BTreeMap<String, DocumentationPart>, Vec<String>) {
    let mut parts = if overwrite {
        BTreeMap::new()
    } else {
        current.clone()
    };
    let mut ids = Vec::new();
    // New ids are unknown to both the current parts and the new ones.
    let mut taken: std::collections::HashSet<String> = current.keys().cloned().collect();
    for ImportedPart {
        location,
        properties,
    } in imported
    {
        let existing = parts.values_mut().find(|p| p.location == location);
        match existing {
            Some(part) => {
                part.properties = documentation::merge_properties(&part.properties, &properties);
                if !ids.contains(&part.id) {
                    ids.push(part.id.clone());
                }
            }
            None => {
                let id = cx.new_id(6, |id| taken.contains(id));
                taken.insert(id.clone());
                parts.insert(
                    id.clone(),
                    DocumentationPart {
                        id: id.clone(),
                        location,
                        properties,
                        seq: cx.next_seq(),
                    },
                );
                ids.push(id);
            }
        }
    }
    (parts, ids)
}

/// Stores `parts` as API `api_id`'s, deleting those of `previous` that are gone.
pub(crate) fn save_parts(
    cx: &mut Ctx<'_>,
    api_id: &str,
    parts: &BTreeMap<String, DocumentationPart>,
    previous: &BTreeMap<String, DocumentationPart>,
) -> Result<(), ApiError> {
    for part in parts.values() {
        if previous.get(&part.id) != Some(part) {
            cx.put(
                kind::DOCUMENTATION_PART,
                format!("{api_id}/{}", part.id),
                part,
            )?;
        }
    }
    for id in previous.keys() {
        if !parts.contains_key(id) {
            cx.delete(kind::DOCUMENTATION_PART, format!("{api_id}/{id}"));
        }
    }
    Ok(())
}

/// ImportDocumentationParts (`PUT /restapis/{id}/documentation/parts?mode=merge|overwrite`):
/// the parts of the body's `x-amazon-apigateway-documentation` (an OpenAPI document, JSON
/// or YAML). Parts that cannot be read are warnings, or refuse the import with
/// `failonwarnings=true`.
pub fn import_parts(
    cx: &mut Ctx<'_>,
    api_id: &str,
    query: &Query,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    let current = cx.state.api(&account, api_id)?.documentation_parts.clone();
    let overwrite = match query.get("mode") {
        None | Some("merge") => false,
        Some("overwrite") => true,
        Some(other) => {
            return Err(ApiError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'importDocumentationPartsInput.mode' failed to satisfy constraint: Member must satisfy enum value set: [merge, overwrite]"
            )));
        }
    };
    let fail_on_warnings = query
        .get("failonwarnings")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let document = causeway_model::openapi::parse(body)?;
    let (imported, mut warnings) = match document.get("x-amazon-apigateway-documentation") {
        Some(extension) => documentation::parse_extension(extension),
        None => (Vec::new(), Vec::new()),
    };
    if imported.is_empty() && warnings.is_empty() {
        warnings.push(
            "The document has no documentation parts (x-amazon-apigateway-documentation.documentationParts)"
                .to_owned(),
        );
    }
    if fail_on_warnings && !warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Warnings found during import:\n\t{}",
            warnings.join("\n\t")
        )));
    }
    let (parts, ids) = import_into(cx, &current, imported, overwrite);
    save_parts(cx, api_id, &parts, &current)?;
    cx.state.api_mut(&account, api_id)?.documentation_parts = parts;
    json(200, &DocumentationPartIds { ids, warnings })
}

pub fn create_version(cx: &mut Ctx<'_>, api_id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateDocumentationVersion = causeway_wire::decode(body)?;
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    let name = req
        .documentation_version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| required("createDocumentationVersionInput.documentationVersion"))?;
    if api.documentation_versions.contains_key(&name) {
        return Err(ApiError::conflict(format!(
            "Documentation version already exists: {name}"
        )));
    }
    let stage = match req.stage_name.as_deref().filter(|s| !s.is_empty()) {
        Some(stage_name) => {
            let mut stage = api
                .stages
                .get(stage_name)
                .cloned()
                .ok_or_else(|| ApiError::not_found("Invalid stage identifier specified"))?;
            stage.documentation_version = Some(name.clone());
            stage.last_updated_date = cx.now;
            Some(stage)
        }
        None => None,
    };
    let mut parts: Vec<DocumentationPart> = api.documentation_parts.values().cloned().collect();
    parts.sort_by_key(|p| p.seq);
    let created = DocumentationVersion {
        version: name.clone(),
        created_date: cx.now,
        description: req.description.filter(|d| !d.is_empty()),
        parts,
    };
    cx.put(
        kind::DOCUMENTATION_VERSION,
        format!("{api_id}/{name}"),
        &created,
    )?;
    if let Some(stage) = &stage {
        cx.put(kind::STAGE, format!("{api_id}/{}", stage.stage_name), stage)?;
    }
    let reply = output::DocumentationVersion::from_model(&created);
    let state = cx.state.api_mut(&account, api_id)?;
    state.documentation_versions.insert(name, created);
    if let Some(stage) = stage {
        state.stages.insert(stage.stage_name.clone(), stage);
    }
    json(201, &reply)
}

pub fn get_version(cx: &mut Ctx<'_>, api_id: &str, name: &str) -> Result<Reply, ApiError> {
    json(
        200,
        &output::DocumentationVersion::from_model(version(cx, api_id, name)?),
    )
}

pub fn list_versions(cx: &mut Ctx<'_>, api_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api(&cx.config.account_id, api_id)?;
    let items = api
        .documentation_versions
        .values()
        .map(|v| {
            (
                v.version.clone(),
                output::DocumentationVersion::from_model(v),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn update_version(
    cx: &mut Ctx<'_>,
    api_id: &str,
    name: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateDocumentationVersionInput")?;
    let updated = documentation::apply_version(version(cx, api_id, name)?, &ops)?;
    cx.put(
        kind::DOCUMENTATION_VERSION,
        format!("{api_id}/{name}"),
        &updated,
    )?;
    let reply = output::DocumentationVersion::from_model(&updated);
    let account = cx.config.account_id.clone();
    cx.state
        .api_mut(&account, api_id)?
        .documentation_versions
        .insert(name.to_owned(), updated);
    json(200, &reply)
}

/// Deletes a version that no stage names; one in use is kept, with the stages in the
/// message (their exports would otherwise lose their documentation).
pub fn delete_version(cx: &mut Ctx<'_>, api_id: &str, name: &str) -> Result<Reply, ApiError> {
    version(cx, api_id, name)?;
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    let users = stages_naming(api, name);
    if !users.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Cannot delete documentation version '{name}': the stages [{}] use it. Give them another version first (update-stage --patch-operations op=replace,path=/documentationVersion,value=...)",
            users.join(", ")
        )));
    }
    cx.delete(kind::DOCUMENTATION_VERSION, format!("{api_id}/{name}"));
    cx.state
        .api_mut(&account, api_id)?
        .documentation_versions
        .remove(name);
    empty(202)
}

fn stages_naming(api: &ApiState, version: &str) -> Vec<String> {
    api.stages
        .values()
        .filter(|s| s.documentation_version.as_deref() == Some(version))
        .map(|s| s.stage_name.clone())
        .collect()
}

/// The `x-amazon-apigateway-documentation` extension of a stage's export: its documentation
/// version's parts, if it names a version that exists.
pub fn export_extension(
    api: &ApiState,
    stage: &causeway_model::Stage,
) -> Option<serde_json::Value> {
    let name = stage.documentation_version.as_deref()?;
    api.documentation_versions
        .get(name)
        .map(documentation::export_extension)
}
