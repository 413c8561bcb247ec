//! CreateVpcLink, GetVpcLink(s), UpdateVpcLink, DeleteVpcLink, and the status life cycle.

use std::collections::BTreeSet;

use causeway_model::arn::parse_load_balancer_arn;
use causeway_model::elb::LoadBalancerState;
use causeway_model::{ApiError, ConnectionType, VpcLink, VpcLinkStatus, patch};
use causeway_wire::input;
use causeway_wire::output::{self, Page, TagsField};

use crate::Reply;
use crate::ctx::{Ctx, Query, check_tags, empty, json, paginate, patch_operations};
use crate::dataplane::DataPlane;
use crate::state::{State, kind};

const NOT_FOUND: &str = "Invalid Vpc Link identifier specified";

pub fn create(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateVpcLink = causeway_wire::decode(body)?;
    let name = req.name.unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::bad_request("Name cannot be empty"));
    }
    let target_arns = req.target_arns.unwrap_or_default();
    if target_arns.len() != 1 {
        return Err(ApiError::bad_request(format!(
            "A VPC link for REST APIs needs exactly one target: the ARN of a network load balancer ({} given)",
            target_arns.len()
        )));
    }
    for arn in &target_arns {
        if parse_load_balancer_arn(arn).is_none() {
            return Err(ApiError::bad_request(format!(
                "Invalid ARN. ARN is not well formed {arn}"
            )));
        }
    }
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    let links = &cx.state.vpc_links;
    let taken: Vec<String> = links.keys().cloned().collect();
    let id = cx.new_id(6, |id| taken.iter().any(|t| t == id));
    let link = VpcLink {
        id: id.clone(),
        name,
        description: req.description.filter(|d| !d.is_empty()),
        target_arns,
        status: VpcLinkStatus::Pending,
        status_message: None,
        tags,
        created_date: cx.now,
    };
    cx.put(kind::VPC_LINK, id.clone(), &link)?;
    let reply = output::VpcLink::from_model(&link, TagsField::IfAny);
    cx.state.vpc_links.insert(id, link);
    json(202, &reply)
}

/// Settles links: a `PENDING` link becomes `AVAILABLE` once its network load balancer exists
/// and runs, or `FAILED` with a message that says why not. An `AVAILABLE` link whose load
/// balancer is deleted or fails becomes `FAILED` too.
pub fn reconcile(cx: &mut Ctx<'_>) {
    let remote = cx.state.remote_load_balancers();
    let candidates: Vec<String> = live(cx.state).map(|l| l.id.clone()).collect();
    for id in candidates {
        let Some(mut link) = cx.state.vpc_links.get(&id).cloned() else {
            continue;
        };
        let Some((status, message)) = settled(
            &link,
            cx.state,
            &remote,
            cx.data_plane,
            &cx.tunnels_elsewhere,
        ) else {
            continue;
        };
        if link.status == status && link.status_message.as_deref() == Some(message.as_str()) {
            continue;
        }
        link.status = status;
        link.status_message = Some(message);
        if cx.put(kind::VPC_LINK, id.clone(), &link).is_ok() {
            cx.state.vpc_links.insert(id, link);
        }
    }
}

/// Whether [`reconcile`] may change a link: a `PENDING` or `AVAILABLE` one whose status and
/// message are not what its load balancer makes them now. A link to a load balancer that an
/// NLB node elsewhere serves (`remote`, from [`State::remote_load_balancers`]), and that no
/// tunnel here reaches, depends on what other processes announced in the store: it counts as
/// changing, so that the caller reads it.
pub fn unsettled(
    state: &State,
    remote: &BTreeSet<String>,
    data_plane: Option<&dyn DataPlane>,
) -> bool {
    let nothing_elsewhere = BTreeSet::new();
    live(state).any(|link| {
        let arn = link.target_arns.first().map_or("", String::as_str);
        if remote.contains(arn) && !data_plane.is_some_and(|dp| dp.node_connected(arn)) {
            return true;
        }
        settled(link, state, remote, data_plane, &nothing_elsewhere).is_some_and(
            |(status, message)| {
                link.status != status || link.status_message.as_deref() != Some(message.as_str())
            },
        )
    })
}

/// Whether a `PENDING` or `AVAILABLE` link goes to a load balancer that an NLB node runs
/// elsewhere (`remote`): its status follows the tunnels that come and go. While no tunnel
/// here reaches such a load balancer, the link follows other processes' announcements,
/// which expire without a signal: [`unsettled`] counts it as changing, and the caller looks
/// on a timer. Once one does, the registry of tunnels signals its going.
pub fn follow_remote(state: &State, remote: &BTreeSet<String>) -> bool {
    !remote.is_empty()
        && live(state).any(|l| {
            l.target_arns
                .first()
                .is_some_and(|arn| remote.contains(arn))
        })
}

/// The links whose status may still change: `PENDING` and `AVAILABLE` ones.
fn live(state: &State) -> impl Iterator<Item = &VpcLink> {
    state
        .vpc_links
        .values()
        .filter(|l| matches!(l.status, VpcLinkStatus::Pending | VpcLinkStatus::Available))
}

/// The status and message a `PENDING` or `AVAILABLE` link should have now; `None` while its
/// load balancer is still provisioning (or no engine runs here yet): leave it as it is.
fn settled(
    link: &VpcLink,
    state: &State,
    remote: &BTreeSet<String>,
    data_plane: Option<&dyn DataPlane>,
    tunnels_elsewhere: &BTreeSet<String>,
) -> Option<(VpcLinkStatus, String)> {
    let arn = link.target_arns.first().map_or("", String::as_str);
    Some(match parse_load_balancer_arn(arn) {
        None => (VpcLinkStatus::Failed, "NLB ARN is malformed".to_owned()),
        Some(parsed) if parsed.kind != "net" => {
            (VpcLinkStatus::Failed, "NLB ARN is malformed".to_owned())
        }
        Some(_) if !state.load_balancers.contains_key(arn) => (
            VpcLinkStatus::Failed,
            format!(
                "Network load balancer {arn} was not found. Create it first (elbv2 create-load-balancer --type network), then create the VPC link again"
            ),
        ),
        // Served by an NLB node elsewhere: usable while the node's tunnel is up.
        Some(_) if remote.contains(arn) => {
            if data_plane.is_some_and(|dp| dp.node_connected(arn))
                || tunnels_elsewhere.contains(arn)
            {
                (
                    VpcLinkStatus::Available,
                    "Your vpc link is ready for use".to_owned(),
                )
            } else {
                (
                    VpcLinkStatus::Pending,
                    format!(
                        "No NLB node serving {arn} is connected; start `causeway nlb-node` in its network"
                    ),
                )
            }
        }
        Some(_) => match data_plane.and_then(|dp| dp.load_balancer_status(arn)) {
            Some(status) if status.state == LoadBalancerState::Active => (
                VpcLinkStatus::Available,
                "Your vpc link is ready for use".to_owned(),
            ),
            Some(status) if status.state == LoadBalancerState::Failed => (
                VpcLinkStatus::Failed,
                format!(
                    "Network load balancer {arn} failed: {}",
                    status.reason.unwrap_or_default()
                ),
            ),
            // Still provisioning, or no engine runs here yet.
            _ => return None,
        },
    })
}

fn link<'a>(cx: &'a Ctx<'_>, id: &str) -> Result<&'a VpcLink, ApiError> {
    cx.state
        .vpc_links
        .get(id)
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

pub fn get(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    json(
        200,
        &output::VpcLink::from_model(link(cx, id)?, TagsField::Include),
    )
}

pub fn list(cx: &mut Ctx<'_>, query: &Query) -> Result<Reply, ApiError> {
    let items = cx
        .state
        .vpc_links
        .values()
        .map(|l| {
            (
                l.id.clone(),
                output::VpcLink::from_model(l, TagsField::IfAny),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn update(cx: &mut Ctx<'_>, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateVpcLinkInput")?;
    let updated = patch::apply_vpc_link(link(cx, id)?, &ops)?;
    cx.put(kind::VPC_LINK, id.to_owned(), &updated)?;
    let reply = output::VpcLink::from_model(&updated, TagsField::Include);
    cx.state.vpc_links.insert(id.to_owned(), updated);
    json(200, &reply)
}

/// The methods whose integrations name VPC link `id` literally, as `Method:Resource:Api`.
pub(crate) fn users(cx: &Ctx<'_>, id: &str) -> Vec<String> {
    cx.state
        .apis
        .values()
        .flat_map(|api| {
            api.methods()
                .filter(|(_, m)| {
                    m.integration.as_ref().is_some_and(|i| {
                        i.connection_type == Some(ConnectionType::VpcLink)
                            && i.connection_id.as_deref() == Some(id)
                    })
                })
                .map(|(r, m)| format!("{}:{}:{}", m.http_method, r.id, api.api.id))
                .collect::<Vec<_>>()
        })
        .collect()
}

pub fn delete(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    link(cx, id)?;
    // A method that names this link literally would be left pointing at nothing.
    let users = users(cx, id);
    if !users.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Cannot delete vpc link. Vpc link '{id}', is referenced in [{}] in format [Method:Resource:Api].",
            users.join(", ")
        )));
    }
    cx.delete(kind::VPC_LINK, id.to_owned());
    cx.state.vpc_links.remove(id);
    empty(202)
}
