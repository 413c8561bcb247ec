//! TagResource, UntagResource, GetTags, on apigateway resource ARNs; and apigatewayv2's
//! (`/v2/tags/{arn}`), for VPC links V2, whose ARNs have the same form as V1 links'.

use causeway_model::ApiError;
use causeway_model::arn::{TagTarget, parse_tag_target};
use causeway_wire::input;
use causeway_wire::output::Tags;

use crate::Reply;
use crate::ctx::{Ctx, Query, check_tags, empty, json};
use crate::state::kind;

fn target(arn: &str) -> Result<TagTarget, ApiError> {
    parse_tag_target(arn).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid ARN specified in the request: {arn}. Use arn:aws:apigateway:{{region}}::/restapis/{{id}}, .../restapis/{{id}}/stages/{{name}}, .../vpclinks/{{id}}, .../apikeys/{{id}}, .../usageplans/{{id}}, .../domainnames/{{name}} or .../clientcertificates/{{id}}"
        ))
    })
}

fn not_found(arn: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid resource identifier specified: no resource has the ARN {arn}"
    ))
}

/// Reads the tags of the resource an ARN names.
fn read(cx: &Ctx<'_>, arn: &str) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
    let state = &cx.state;
    let tags = match target(arn)? {
        TagTarget::RestApi(id) => state.apis.get(&id).map(|a| a.api.tags.clone()),
        TagTarget::Stage(id, stage) => state
            .apis
            .get(&id)
            .and_then(|a| a.stages.get(&stage))
            .map(|s| s.tags.clone()),
        TagTarget::VpcLink(id) => state
            .vpc_links
            .get(&id)
            .map(|l| l.tags.clone())
            .or_else(|| state.vpc_links_v2.get(&id).map(|l| l.tags.clone())),
        TagTarget::ApiKey(id) => state.api_key(&id).map(|k| k.tags.clone()),
        TagTarget::UsagePlan(id) => state.usage_plan(&id).map(|p| p.tags.clone()),
        TagTarget::DomainName(name) => state.domains.get(&name).map(|d| d.domain.tags.clone()),
        TagTarget::ClientCertificate(id) => {
            state.client_certificates.get(&id).map(|c| c.tags.clone())
        }
    };
    tags.ok_or_else(|| not_found(arn))
}

/// Replaces the tags of the resource an ARN names and records the change.
fn write(
    cx: &mut Ctx<'_>,
    arn: &str,
    tags: std::collections::BTreeMap<String, String>,
) -> Result<(), ApiError> {
    match target(arn)? {
        TagTarget::RestApi(id) => {
            let mut api = cx
                .state
                .apis
                .get(&id)
                .ok_or_else(|| not_found(arn))?
                .api
                .clone();
            api.tags = tags;
            cx.put(kind::REST_API, id.clone(), &api)?;
            if let Some(state) = cx.state.apis.get_mut(&id) {
                state.api = api;
            }
        }
        TagTarget::Stage(id, name) => {
            let mut stage = cx
                .state
                .apis
                .get(&id)
                .and_then(|a| a.stages.get(&name))
                .cloned()
                .ok_or_else(|| not_found(arn))?;
            stage.tags = tags;
            cx.put(kind::STAGE, format!("{id}/{name}"), &stage)?;
            if let Some(state) = cx.state.apis.get_mut(&id) {
                state.stages.insert(name, stage);
            }
        }
        TagTarget::VpcLink(id) => {
            if let Some(mut link) = cx.state.vpc_links.get(&id).cloned() {
                link.tags = tags;
                cx.put(kind::VPC_LINK, id.clone(), &link)?;
                cx.state.vpc_links.insert(id, link);
            } else {
                let mut link = cx
                    .state
                    .vpc_links_v2
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| not_found(arn))?;
                link.tags = tags;
                cx.put(kind::VPC_LINK_V2, id.clone(), &link)?;
                cx.state.vpc_links_v2.insert(id, link);
            }
        }
        TagTarget::ApiKey(id) => {
            let mut key = cx
                .state
                .api_key(&id)
                .cloned()
                .ok_or_else(|| not_found(arn))?;
            key.tags = tags;
            cx.put(kind::API_KEY, id, &key)?;
            cx.state.insert_api_key(key);
        }
        TagTarget::UsagePlan(id) => {
            let mut plan = cx
                .state
                .usage_plan(&id)
                .cloned()
                .ok_or_else(|| not_found(arn))?;
            plan.tags = tags;
            cx.put(kind::USAGE_PLAN, id.clone(), &plan)?;
            cx.state.usage_plans.insert(id, plan);
        }
        TagTarget::DomainName(name) => {
            let mut domain = cx
                .state
                .domains
                .get(&name)
                .map(|d| d.domain.clone())
                .ok_or_else(|| not_found(arn))?;
            domain.tags = tags;
            cx.put(kind::DOMAIN_NAME, name.clone(), &domain)?;
            if let Some(state) = cx.state.domains.get_mut(&name) {
                state.domain = domain;
            }
        }
        TagTarget::ClientCertificate(id) => {
            let mut certificate = cx
                .state
                .client_certificates
                .get(&id)
                .cloned()
                .ok_or_else(|| not_found(arn))?;
            certificate.tags = tags;
            cx.put(kind::CLIENT_CERTIFICATE, id.clone(), &certificate)?;
            cx.state.client_certificates.insert(id, certificate);
        }
    }
    Ok(())
}

pub fn get(cx: &mut Ctx<'_>, arn: &str) -> Result<Reply, ApiError> {
    json(
        200,
        &Tags {
            tags: read(cx, arn)?,
        },
    )
}

pub fn tag(cx: &mut Ctx<'_>, arn: &str, body: &[u8]) -> Result<Reply, ApiError> {
    add(cx, arn, body)?;
    empty(204)
}

/// apigatewayv2's TagResource: the same, answered with 201 and `{}`.
pub fn tag_v2(cx: &mut Ctx<'_>, arn: &str, body: &[u8]) -> Result<Reply, ApiError> {
    add(cx, arn, body)?;
    json(201, &serde_json::json!({}))
}

fn add(cx: &mut Ctx<'_>, arn: &str, body: &[u8]) -> Result<(), ApiError> {
    let req: input::TagResource = causeway_wire::decode(body)?;
    let new = req
        .tags
        .ok_or_else(|| crate::ctx::required("tagResourceInput.tags"))?;
    let mut tags = read(cx, arn)?;
    tags.extend(new);
    check_tags(&tags)?;
    write(cx, arn, tags)
}

pub fn untag(cx: &mut Ctx<'_>, arn: &str, query: &Query) -> Result<Reply, ApiError> {
    let keys = query.all("tagKeys");
    let mut tags = read(cx, arn)?;
    for key in &keys {
        tags.remove(key);
    }
    write(cx, arn, tags)?;
    empty(204)
}
