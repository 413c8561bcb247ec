//! apigatewayv2's VPC links (VPC links V2: `/v2/vpclinks`), which REST API integrations use
//! with an `integrationTarget` naming the load balancer.
//!
//! A V2 link is not tied to one load balancer: it is a way into a network. There are no VPCs
//! here, so its subnets and security groups are kept as given and the link reaches every
//! load balancer of the server (and of its NLB nodes).

use causeway_model::{ApiError, VpcLinkStatus, VpcLinkV2};
use causeway_wire::input;
use causeway_wire::output;

use crate::Reply;
use crate::ctx::{Ctx, Query, check_tags, empty, json, page_v2};
use crate::state::kind;

/// Status messages apigatewayv2 shows.
const PROVISIONING: &str = "VPC link is provisioning ENIs";
const READY: &str = "VPC link is ready to route traffic";

/// The most subnets one link takes (AWS's default quota).
const MAX_SUBNETS: usize = 10;

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid VpcLink identifier specified {id}"))
}

/// Checks ids that must look like `{prefix}` and letters or digits.
fn check_ids(ids: &[String], prefix: &str, what: &str) -> Result<(), ApiError> {
    for id in ids {
        let valid = id.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if !valid {
            return Err(ApiError::bad_request(format!(
                "Invalid {what} '{id}': {what}s look like '{prefix}0123456789abcdef0'"
            )));
        }
    }
    Ok(())
}

fn check_name(name: Option<String>) -> Result<String, ApiError> {
    match name {
        Some(name) if !name.is_empty() && name.chars().count() <= 128 => Ok(name),
        Some(_) => Err(ApiError::bad_request(
            "Invalid name: a VPC link's name has 1 to 128 characters",
        )),
        None => Err(ApiError::bad_request("Name is required")),
    }
}

pub fn create(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateVpcLinkV2 = causeway_wire::decode(body)?;
    let name = check_name(req.name)?;
    let subnet_ids = req
        .subnet_ids
        .ok_or_else(|| ApiError::bad_request("SubnetIds is required"))?;
    if subnet_ids.is_empty() || subnet_ids.len() > MAX_SUBNETS {
        return Err(ApiError::bad_request(format!(
            "A VPC link takes 1 to {MAX_SUBNETS} subnets ({} given)",
            subnet_ids.len()
        )));
    }
    check_ids(&subnet_ids, "subnet-", "subnet id")?;
    let security_group_ids = req.security_group_ids.unwrap_or_default();
    check_ids(&security_group_ids, "sg-", "security group id")?;
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    // V1 and V2 links share one id space: an integration's connection id names either.
    let id = {
        let state = &cx.state;
        let taken: Vec<String> = state
            .vpc_links
            .keys()
            .chain(state.vpc_links_v2.keys())
            .cloned()
            .collect();
        cx.new_id(6, |id| taken.iter().any(|t| t == id))
    };
    let link = VpcLinkV2 {
        id: id.clone(),
        name,
        subnet_ids,
        security_group_ids,
        status: VpcLinkStatus::Pending,
        status_message: Some(PROVISIONING.to_owned()),
        tags,
        created_date: cx.now,
        seq: cx.next_seq(),
    };
    cx.put(kind::VPC_LINK_V2, id.clone(), &link)?;
    let reply = output::VpcLinkV2::from_model(&link);
    cx.state.vpc_links_v2.insert(id, link);
    json(201, &reply)
}

/// A `PENDING` link is ready at the next round: there are no network interfaces to make.
pub fn reconcile(cx: &mut Ctx<'_>) {
    let pending: Vec<String> = cx
        .state
        .vpc_links_v2
        .values()
        .filter(|l| l.status == VpcLinkStatus::Pending)
        .map(|l| l.id.clone())
        .collect();
    for id in pending {
        let Some(mut link) = cx.state.vpc_links_v2.get(&id).cloned() else {
            continue;
        };
        link.status = VpcLinkStatus::Available;
        link.status_message = Some(READY.to_owned());
        if cx.put(kind::VPC_LINK_V2, id.clone(), &link).is_ok() {
            cx.state.vpc_links_v2.insert(id, link);
        }
    }
}

/// Whether [`reconcile`] has a link to settle: one still `PENDING`.
pub fn unsettled(state: &crate::state::State) -> bool {
    state
        .vpc_links_v2
        .values()
        .any(|l| l.status == VpcLinkStatus::Pending)
}

fn link<'a>(cx: &'a Ctx<'_>, id: &str) -> Result<&'a VpcLinkV2, ApiError> {
    cx.state.vpc_links_v2.get(id).ok_or_else(|| not_found(id))
}

pub fn get(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    json(200, &output::VpcLinkV2::from_model(link(cx, id)?))
}

/// GetVpcLinks: in creation order, `maxResults` at a time (all by default), `nextToken`
/// naming the next page's first link.
pub fn list(cx: &mut Ctx<'_>, query: &Query) -> Result<Reply, ApiError> {
    let mut keyed: Vec<(String, &VpcLinkV2)> = cx
        .state
        .vpc_links_v2
        .values()
        .map(|l| (format!("{:016}-{}", l.seq, l.id), l))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let (page, next_token) = page_v2(keyed, query, usize::MAX)?;
    let items = page
        .into_iter()
        .map(output::VpcLinkV2::from_model)
        .collect();
    json(200, &output::VpcLinksV2 { items, next_token })
}

pub fn update(cx: &mut Ctx<'_>, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::UpdateVpcLinkV2 = causeway_wire::decode(body)?;
    let mut updated = link(cx, id)?.clone();
    if req.name.is_some() {
        updated.name = check_name(req.name)?;
    }
    cx.put(kind::VPC_LINK_V2, id.to_owned(), &updated)?;
    let reply = output::VpcLinkV2::from_model(&updated);
    cx.state.vpc_links_v2.insert(id.to_owned(), updated);
    json(200, &reply)
}

/// DeleteVpcLink: refused while a REST API integration names the link literally.
pub fn delete(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    link(cx, id)?;
    let users = super::vpclinks::users(cx, id);
    if !users.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Cannot delete vpc link. Vpc link '{id}', is referenced in [{}] in format of [Method:Resource:Api].",
            users.join(", ")
        )));
    }
    cx.delete(kind::VPC_LINK_V2, id.to_owned());
    cx.state.vpc_links_v2.remove(id);
    empty(202)
}
