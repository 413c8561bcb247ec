//! AddTags, RemoveTags and DescribeTags on load balancers, target groups and listeners.

use causeway_model::arn::{ElbResourceKind, parse_elb_arn};
use causeway_model::elb::TagList;
use causeway_model::elb_api::{self, ElbError, ElbErrorCode};
use causeway_wire::elbv2::output;

use super::{Call, Outcome, list, put, tag_list};
use crate::ctx::Ctx;
use crate::state::kind;

/// The most resources one tagging call names.
const MAX_RESOURCES: usize = 20;

/// The `ResourceArns` of a call, each checked to name an existing resource, with its kind.
fn resources(cx: &Ctx<'_>, call: &Call<'_>) -> Result<Vec<(String, ElbResourceKind)>, ElbError> {
    let arns = list(call.params, "ResourceArns")?;
    if arns.is_empty() {
        return Err(ElbError::missing("ResourceArns"));
    }
    if arns.len() > MAX_RESOURCES {
        return Err(ElbError::validation(format!(
            "At most {MAX_RESOURCES} resource ARNs can be given at once; {} were given",
            arns.len()
        )));
    }
    let mut out = Vec::with_capacity(arns.len());
    for arn in arns {
        let kind = parse_elb_arn(&arn).ok_or_else(|| {
            ElbError::validation(format!(
                "'{arn}' is not a valid load balancer, target group or listener ARN."
            ))
        })?;
        let exists = match kind {
            ElbResourceKind::LoadBalancer => cx.state.load_balancers.contains_key(&arn),
            ElbResourceKind::TargetGroup => cx.state.target_groups.contains_key(&arn),
            ElbResourceKind::Listener => cx.state.listeners.contains_key(&arn),
            ElbResourceKind::ListenerRule => false,
        };
        if !exists {
            return Err(match kind {
                ElbResourceKind::LoadBalancer => ElbError::load_balancers_not_found(),
                ElbResourceKind::TargetGroup => ElbError::target_groups_not_found(),
                ElbResourceKind::Listener => ElbError::listeners_not_found(),
                ElbResourceKind::ListenerRule => {
                    ElbError::new(ElbErrorCode::RuleNotFound, "One or more rules not found")
                }
            });
        }
        out.push((arn, kind));
    }
    Ok(out)
}

fn tags_of<'a>(cx: &'a Ctx<'_>, arn: &str, kind: ElbResourceKind) -> Option<&'a TagList> {
    match kind {
        ElbResourceKind::LoadBalancer => cx.state.load_balancers.get(arn).map(|r| &r.tags),
        ElbResourceKind::TargetGroup => cx.state.target_groups.get(arn).map(|r| &r.tags),
        ElbResourceKind::Listener => cx.state.listeners.get(arn).map(|r| &r.tags),
        ElbResourceKind::ListenerRule => None,
    }
}

/// Gives each resource its new tags: every change is recorded first, then the state is
/// updated, so an error part way leaves the state as it was.
fn save(
    cx: &mut Ctx<'_>,
    changes: Vec<(String, ElbResourceKind, TagList)>,
) -> Result<(), ElbError> {
    for (arn, what, tags) in &changes {
        match what {
            ElbResourceKind::LoadBalancer => {
                if let Some(mut lb) = cx.state.load_balancers.get(arn).cloned() {
                    lb.tags = tags.clone();
                    put(cx, kind::LOAD_BALANCER, arn, &lb)?;
                }
            }
            ElbResourceKind::TargetGroup => {
                if let Some(mut tg) = cx.state.target_groups.get(arn).cloned() {
                    tg.tags = tags.clone();
                    put(cx, kind::TARGET_GROUP, arn, &tg)?;
                }
            }
            ElbResourceKind::Listener => {
                if let Some(mut l) = cx.state.listeners.get(arn).cloned() {
                    l.tags = tags.clone();
                    put(cx, kind::LISTENER, arn, &l)?;
                }
            }
            ElbResourceKind::ListenerRule => {}
        }
    }
    for (arn, what, tags) in changes {
        match what {
            ElbResourceKind::LoadBalancer => {
                if let Some(lb) = cx.state.load_balancers.get_mut(&arn) {
                    lb.tags = tags;
                }
            }
            ElbResourceKind::TargetGroup => {
                if let Some(tg) = cx.state.target_groups.get_mut(&arn) {
                    tg.tags = tags;
                }
            }
            ElbResourceKind::Listener => {
                if let Some(l) = cx.state.listeners.get_mut(&arn) {
                    l.tags = tags;
                }
            }
            ElbResourceKind::ListenerRule => {}
        }
    }
    Ok(())
}

pub(super) fn add(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let resources = resources(cx, call)?;
    if call.params.structs("Tags")?.is_none_or(|t| t.is_empty()) {
        return Err(ElbError::missing("Tags"));
    }
    let new = tag_list(call.params, "Tags")?;
    let mut changes = Vec::with_capacity(resources.len());
    for (arn, kind) in resources {
        let current = tags_of(cx, &arn, kind).cloned().unwrap_or_default();
        let merged = elb_api::merge_tags(&current, &new)?;
        changes.push((arn, kind, merged));
    }
    save(cx, changes)?;
    Ok(call.respond(|_| {}))
}

pub(super) fn remove(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let resources = resources(cx, call)?;
    let keys = call
        .params
        .list("TagKeys")?
        .ok_or_else(|| ElbError::missing("TagKeys"))?;
    let mut changes = Vec::with_capacity(resources.len());
    for (arn, kind) in resources {
        let mut tags = tags_of(cx, &arn, kind).cloned().unwrap_or_default();
        tags.retain(|(k, _)| !keys.contains(k));
        changes.push((arn, kind, tags));
    }
    save(cx, changes)?;
    Ok(call.respond(|_| {}))
}

pub(super) fn describe(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let resources = resources(cx, call)?;
    let empty = TagList::new();
    let described: Vec<(&str, &TagList)> = resources
        .iter()
        .map(|(arn, kind)| (arn.as_str(), tags_of(cx, arn, *kind).unwrap_or(&empty)))
        .collect();
    Ok(call.respond(|x| output::tag_descriptions(x, described)))
}
