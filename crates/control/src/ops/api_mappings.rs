//! apigatewayv2's API mappings of custom domain names
//! (`/v2/domainnames/{domainName}/apimappings`): CreateApiMapping, GetApiMapping,
//! GetApiMappings, UpdateApiMapping and DeleteApiMapping.
//!
//! An API mapping is a base path mapping by another name (apigateway lists the same
//! mappings), with an id of its own and a key that may have several levels
//! (`orders/v2/items`), which AWS allows on REGIONAL domains with a TLS 1.2 (or stricter)
//! security policy. A request goes to the mapping with the longest matching key.

use causeway_model::routing_rule::RoutingMode;
use causeway_model::{ApiError, BasePathMapping, EndpointType};
use causeway_wire::{input, output};

use super::domain_names::{
    ROOT, base_path_segment, check_target, domain, new_mapping_id, save_mapping,
};
use crate::Reply;
use crate::ctx::{Ctx, Query, empty, json, page_v2};
use crate::state::kind;

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid API mapping identifier specified {id}"))
}

/// An API mapping key as stored: `(none)` for the empty key, else the key without outer
/// slashes. AWS's text for a character it does not take.
fn mapping_key(given: Option<&str>) -> Result<String, ApiError> {
    let key = given.unwrap_or_default().trim_matches('/');
    if key.is_empty() || key == ROOT {
        return Ok(ROOT.to_owned());
    }
    if key.len() <= 300 && key.split('/').all(base_path_segment) {
        Ok(key.to_owned())
    } else {
        Err(ApiError::bad_request(
            "An ApiMapping key may contain only letters, numbers and one of $-_.+!*'()",
        ))
    }
}

/// A multi-level key needs a REGIONAL domain with a TLS 1.2 (or stricter) policy, as AWS
/// documents.
fn check_levels(cx: &Ctx<'_>, name: &str, key: &str) -> Result<(), ApiError> {
    if !key.contains('/') {
        return Ok(());
    }
    let domain = &domain(cx, name)?.domain;
    if domain.endpoint_type != EndpointType::Regional || domain.security_policy == "TLS_1_0" {
        return Err(ApiError::bad_request(format!(
            "Multi-level API mappings ({key}) need a REGIONAL domain name with a TLS 1.2 security policy; {name} is {} with {}",
            domain.endpoint_type, domain.security_policy
        )));
    }
    Ok(())
}

fn taken(cx: &Ctx<'_>, name: &str, key: &str) -> Result<(), ApiError> {
    if domain(cx, name)?.mappings.contains_key(key) {
        return Err(ApiError::conflict(format!(
            "ApiMapping key {key} already exists for domain name {name}"
        )));
    }
    Ok(())
}

fn by_id<'a>(cx: &'a Ctx<'_>, name: &str, id: &str) -> Result<&'a BasePathMapping, ApiError> {
    domain(cx, name)?
        .mappings
        .values()
        .find(|m| m.api_mapping_id() == id)
        .ok_or_else(|| not_found(id))
}

pub fn create(cx: &mut Ctx<'_>, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::ApiMapping = causeway_wire::decode(body)?;
    let name = name.to_ascii_lowercase();
    if domain(cx, &name)?.domain.routing_mode == RoutingMode::RoutingRuleOnly {
        return Err(ApiError::bad_request(format!(
            "API mappings can't be created for domain name {name}: its routing mode is ROUTING_RULE_ONLY. Set it to BASE_PATH_MAPPING_ONLY or ROUTING_RULE_THEN_BASE_PATH_MAPPING (UpdateDomainName, replace /routingMode) first"
        )));
    }
    let api_id = req
        .api_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::bad_request("ApiId is required"))?;
    let stage = req
        .stage
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("Stage is required"))?;
    let key = mapping_key(req.api_mapping_key.as_deref())?;
    check_levels(cx, &name, &key)?;
    check_target(cx, &name, &api_id, Some(&stage))?;
    taken(cx, &name, &key)?;
    let mapping = BasePathMapping {
        base_path: key,
        rest_api_id: api_id,
        stage: Some(stage),
        api_mapping_id: Some(new_mapping_id(cx, &name)),
    };
    let reply = output::ApiMapping::from_model(&mapping);
    save_mapping(cx, &name, mapping, 201)?;
    json(201, &reply)
}

pub fn get(cx: &mut Ctx<'_>, name: &str, id: &str) -> Result<Reply, ApiError> {
    let found = by_id(cx, &name.to_ascii_lowercase(), id)?;
    json(200, &output::ApiMapping::from_model(found))
}

/// GetApiMappings: by key, `maxResults` at a time (all by default), `nextToken` naming
/// the next page's first mapping.
pub fn list(cx: &mut Ctx<'_>, name: &str, query: &Query) -> Result<Reply, ApiError> {
    let name = name.to_ascii_lowercase();
    let keyed: Vec<(String, &BasePathMapping)> = domain(cx, &name)?
        .mappings
        .values()
        .map(|m| (m.base_path.clone(), m))
        .collect();
    let (page, next_token) = page_v2(keyed, query, usize::MAX)?;
    let items = page
        .into_iter()
        .map(output::ApiMapping::from_model)
        .collect();
    json(200, &output::ApiMappings { items, next_token })
}

/// UpdateApiMapping: the API (required), and the key and stage when given.
pub fn update(cx: &mut Ctx<'_>, name: &str, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::ApiMapping = causeway_wire::decode(body)?;
    let name = name.to_ascii_lowercase();
    let current = by_id(cx, &name, id)?.clone();
    let mut updated = current.clone();
    updated.api_mapping_id = Some(current.api_mapping_id());
    updated.rest_api_id = req
        .api_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::bad_request("ApiId is required"))?;
    if let Some(stage) = req.stage.filter(|s| !s.is_empty()) {
        updated.stage = Some(stage);
    }
    if req.api_mapping_key.is_some() {
        updated.base_path = mapping_key(req.api_mapping_key.as_deref())?;
        check_levels(cx, &name, &updated.base_path)?;
    }
    check_target(cx, &name, &updated.rest_api_id, updated.stage.as_deref())?;
    if updated.base_path != current.base_path {
        taken(cx, &name, &updated.base_path)?;
        cx.delete(
            kind::BASE_PATH_MAPPING,
            format!("{name}/{}", current.base_path),
        );
        if let Some(state) = cx.state.domains.get_mut(&name) {
            state.mappings.remove(&current.base_path);
        }
    }
    let reply = output::ApiMapping::from_model(&updated);
    save_mapping(cx, &name, updated, 200)?;
    json(200, &reply)
}

pub fn delete(cx: &mut Ctx<'_>, name: &str, id: &str) -> Result<Reply, ApiError> {
    let name = name.to_ascii_lowercase();
    let path = by_id(cx, &name, id)?.base_path.clone();
    cx.delete(kind::BASE_PATH_MAPPING, format!("{name}/{path}"));
    if let Some(state) = cx.state.domains.get_mut(&name) {
        state.mappings.remove(&path);
    }
    empty(204)
}
