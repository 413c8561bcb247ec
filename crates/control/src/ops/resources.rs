//! CreateResource, GetResource(s), UpdateResource, DeleteResource.

use std::collections::BTreeMap;

use causeway_model::validate::{self, PathPart};
use causeway_model::{ApiError, Resource, patch};
use causeway_wire::input;
use causeway_wire::output::{self, Page, ResourceView};

use crate::Reply;
use crate::ctx::{Ctx, Query, empty, json, paginate, patch_operations};
use crate::state::{ApiState, kind};

pub fn create(
    cx: &mut Ctx<'_>,
    api_id: &str,
    parent_id: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let req: input::CreateResource = causeway_wire::decode(body)?;
    let path_part = req
        .path_part
        .ok_or_else(|| crate::ctx::required("createResourceInput.pathPart"))?;
    let api = cx.state.api_for_resource(api_id)?;
    api.resource(parent_id)?;
    check_placement(api, parent_id, &path_part, None)?;
    let taken: Vec<String> = api.resources.keys().cloned().collect();
    // Child resources get 6-character ids, the root 10, as on AWS.
    let id = cx.new_id(6, |id| taken.iter().any(|t| t == id));
    let seq = cx.next_seq();
    let resource = Resource {
        id: id.clone(),
        parent_id: Some(parent_id.to_owned()),
        path_part,
        methods: BTreeMap::new(),
        seq,
    };
    cx.put(kind::RESOURCE, format!("{api_id}/{id}"), &resource)?;
    let api = cx.state.api_for_resource(api_id)?;
    let path = api.path_of(&resource);
    let reply = output::Resource::from_model(&resource, path, ResourceView::Bare);
    api.resources.insert(id, resource);
    json(201, &reply)
}

/// Checks that a resource named `path_part` may sit under `parent_id`: the parent is not
/// greedy, no sibling has the same name, and at most one sibling is a variable. `moving` is
/// the id of a resource being moved or renamed, which does not count as its own sibling.
fn check_placement(
    api: &ApiState,
    parent_id: &str,
    path_part: &str,
    moving: Option<&str>,
) -> Result<(), ApiError> {
    let part = validate::path_part(path_part)?;
    let parent = api.resource(parent_id)?;
    if matches!(
        validate::path_part(&parent.path_part),
        Ok(PathPart::Greedy(_))
    ) {
        return Err(ApiError::bad_request(format!(
            "Cannot create a child of a resource with a greedy path variable: {}",
            parent.path_part
        )));
    }
    for sibling in api.children_of(parent_id) {
        if Some(sibling.id.as_str()) == moving {
            continue;
        }
        if sibling.path_part == path_part {
            return Err(ApiError::conflict(format!(
                "Another resource with the same parent already has this name: {path_part}"
            )));
        }
        let sibling_is_variable =
            validate::path_part(&sibling.path_part).is_ok_and(|p| p.is_variable());
        if part.is_variable() && sibling_is_variable {
            return Err(ApiError::bad_request(format!(
                "A sibling ({}) of this resource already has a variable path part -- only one is allowed",
                sibling.path_part
            )));
        }
    }
    Ok(())
}

pub fn get(cx: &mut Ctx<'_>, api_id: &str, id: &str, query: &Query) -> Result<Reply, ApiError> {
    let api = cx.state.api_for_resource(api_id)?;
    let resource = api.resource(id)?;
    json(
        200,
        &output::Resource::from_model(resource, api.path_of(resource), view(query)),
    )
}

fn view(query: &Query) -> ResourceView {
    if query.embeds("methods") {
        ResourceView::EmbedMethods
    } else {
        ResourceView::MethodNames
    }
}

pub fn list(cx: &mut Ctx<'_>, api_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let account = cx.config.account_id.clone();
    let api = cx.state.api(&account, api_id)?;
    let view = view(query);
    let mut ordered: Vec<&Resource> = api.resources.values().collect();
    ordered.sort_by_key(|r| r.seq);
    let items = ordered
        .into_iter()
        .map(|r| (format!("{:020}", r.seq), r))
        .collect();
    let (page, position) = paginate(items, query)?;
    let item = page
        .into_iter()
        .map(|r| output::Resource::from_model(r, api.path_of(r), view))
        .collect();
    json(200, &Page { item, position })
}

pub fn update(cx: &mut Ctx<'_>, api_id: &str, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateResourceInput")?;
    let api = cx.state.api_for_resource(api_id)?;
    let current = api.resource(id)?.clone();
    let update = patch::resource_update(current.parent_id.is_none(), &ops)?;
    let mut updated = current.clone();
    if let Some(path_part) = update.path_part {
        updated.path_part = path_part;
    }
    if let Some(parent_id) = update.parent_id {
        api.resource(&parent_id)?;
        if api.subtree(id).contains(&parent_id) {
            return Err(ApiError::bad_request("Resources cannot be cyclical."));
        }
        updated.parent_id = Some(parent_id);
    }
    let parent_id = updated.parent_id.clone().unwrap_or_default();
    check_placement(api, &parent_id, &updated.path_part, Some(id))?;
    // A greedy resource has no children; renaming one with children into `{x+}` would break that.
    if matches!(
        validate::path_part(&updated.path_part),
        Ok(PathPart::Greedy(_))
    ) && api.children_of(id).next().is_some()
    {
        return Err(ApiError::bad_request(format!(
            "Cannot make {} greedy: it has child resources",
            updated.path_part
        )));
    }
    api.resources.insert(id.to_owned(), updated.clone());
    let path = api.path_of(&updated);
    cx.put(kind::RESOURCE, format!("{api_id}/{id}"), &updated)?;
    json(
        200,
        &output::Resource::from_model(&updated, path, ResourceView::Bare),
    )
}

pub fn delete(cx: &mut Ctx<'_>, api_id: &str, id: &str) -> Result<Reply, ApiError> {
    let api = cx.state.api_for_resource(api_id)?;
    let resource = api.resource(id)?;
    if resource.parent_id.is_none() {
        return Err(ApiError::bad_request(
            "The root resource of an API cannot be deleted",
        ));
    }
    let doomed = api.subtree(id);
    for resource_id in &doomed {
        api.resources.remove(resource_id);
    }
    for resource_id in doomed {
        cx.delete(kind::RESOURCE, format!("{api_id}/{resource_id}"));
    }
    empty(202)
}
