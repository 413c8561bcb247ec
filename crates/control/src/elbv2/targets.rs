//! RegisterTargets, DeregisterTargets and DescribeTargetHealth.

use causeway_model::elb::{Target, TargetGroup, TargetHealthReport, TargetHealthState};
use causeway_model::elb_api::{self, ElbError, ElbErrorCode};
use causeway_wire::elbv2::output;

use super::{Call, Outcome, forwards_to, put, target_group};
use crate::ctx::Ctx;
use crate::state::kind;

/// A target named in `Targets`; `port` is `None` when the call left it out.
#[derive(Debug)]
struct Named {
    id: String,
    port: Option<u16>,
    availability_zone: Option<String>,
}

/// The `Targets` of a call, checked against the target group's type. `required` makes an
/// absent list a MissingParameter.
fn named_targets(
    call: &Call<'_>,
    tg: &TargetGroup,
    required: bool,
) -> Result<Vec<Named>, ElbError> {
    let entries = match call.params.structs("Targets")? {
        Some(entries) => entries,
        None if required => return Err(ElbError::missing("Targets")),
        None => return Ok(Vec::new()),
    };
    if required && entries.is_empty() {
        return Err(ElbError::validation(
            "Targets must name at least one target",
        ));
    }
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let id = entry
            .get("Id")
            .ok_or_else(|| ElbError::missing(&format!("Targets.member.{}.Id", i + 1)))?;
        elb_api::check_target_id(id, &tg.target_type, &tg.ip_address_type)?;
        let port = entry
            .get("Port")
            .map(|p| elb_api::port(p, "Target port"))
            .transpose()?;
        out.push(Named {
            id: id.to_owned(),
            port,
            availability_zone: entry.get("AvailabilityZone").map(str::to_owned),
        });
    }
    Ok(out)
}

pub(super) fn register(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("TargetGroupArn")?;
    let tg = target_group(cx, arn)?;
    let named = named_targets(call, tg, true)?;
    let mut updated = tg.clone();
    for n in named {
        let port = n.port.unwrap_or(tg.port);
        // Registering a registered target again changes nothing.
        if updated
            .targets
            .iter()
            .any(|t| t.id == n.id && t.port == port)
        {
            continue;
        }
        updated.targets.push(Target {
            id: n.id,
            port,
            availability_zone: n.availability_zone,
        });
    }
    let most = cx.config.elb_quotas.targets_per_target_group;
    if updated.targets.len() > most {
        return Err(ElbError::new(
            ElbErrorCode::TooManyTargets,
            format!(
                "A target group can have at most {most} targets; this request would give it {}",
                updated.targets.len()
            ),
        ));
    }
    if updated.targets != tg.targets {
        put(cx, kind::TARGET_GROUP, arn, &updated)?;
        cx.state.target_groups.insert(arn.to_owned(), updated);
    }
    Ok(call.respond(|_| {}))
}

pub(super) fn deregister(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("TargetGroupArn")?;
    let tg = target_group(cx, arn)?;
    let named = named_targets(call, tg, true)?;
    let mut updated = tg.clone();
    // A target that is not registered is simply not there afterwards either: no error.
    updated.targets.retain(|t| {
        !named
            .iter()
            .any(|n| n.id == t.id && n.port.unwrap_or(tg.port) == t.port)
    });
    if updated.targets != tg.targets {
        put(cx, kind::TARGET_GROUP, arn, &updated)?;
        cx.state.target_groups.insert(arn.to_owned(), updated);
    }
    Ok(call.respond(|_| {}))
}

pub(super) fn describe_health(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    let arn = call.required("TargetGroupArn")?;
    let tg = target_group(cx, arn)?;
    let named = named_targets(call, tg, false)?;
    let in_use = cx.state.listeners.values().any(|l| forwards_to(l, arn));
    let engine: Vec<TargetHealthReport> = cx
        .data_plane
        .map(|dp| dp.target_health(arn))
        .unwrap_or_default();
    let engine_report = |target: &Target| {
        engine
            .iter()
            .find(|r| r.target.id == target.id && r.target.port == target.port)
    };

    // What a registered target reports: nothing flows to a target group no listener uses;
    // otherwise the engine's view, or `initial` until the engine has taken the target up.
    let registered_report = |target: &Target| -> TargetHealthReport {
        if !in_use {
            return report(
                target.clone(),
                TargetHealthState::Unused,
                "Target.NotInUse",
                "Given target group is not configured to receive traffic from ELB",
            );
        }
        match engine_report(target) {
            Some(r) if r.state != TargetHealthState::Draining => TargetHealthReport {
                target: target.clone(),
                ..r.clone()
            },
            _ => report(
                target.clone(),
                TargetHealthState::Initial,
                "Elb.RegistrationInProgress",
                "Target registration is in progress",
            ),
        }
    };

    let mut reports: Vec<TargetHealthReport> = Vec::new();
    if named.is_empty() {
        reports.extend(tg.targets.iter().map(registered_report));
        // Deregistered targets the engine still drains are listed too, as AWS does.
        reports.extend(
            engine
                .iter()
                .filter(|r| {
                    r.state == TargetHealthState::Draining
                        && !tg
                            .targets
                            .iter()
                            .any(|t| t.id == r.target.id && t.port == r.target.port)
                })
                .cloned(),
        );
    } else {
        for n in &named {
            let matching: Vec<&Target> = tg
                .targets
                .iter()
                .filter(|t| t.id == n.id && n.port.is_none_or(|p| p == t.port))
                .collect();
            if !matching.is_empty() {
                reports.extend(matching.into_iter().map(registered_report));
                continue;
            }
            let target = Target {
                id: n.id.clone(),
                port: n.port.unwrap_or(tg.port),
                availability_zone: n.availability_zone.clone(),
            };
            match engine_report(&target) {
                Some(r) if r.state == TargetHealthState::Draining => reports.push(r.clone()),
                _ => reports.push(report(
                    target,
                    TargetHealthState::Unused,
                    "Target.NotRegistered",
                    "Target is not registered to the target group",
                )),
            }
        }
    }
    let port_of = |target: &Target| {
        if tg.health_check.port == "traffic-port" {
            target.port.to_string()
        } else {
            tg.health_check.port.clone()
        }
    };
    Ok(call.respond(|x| {
        x.list("TargetHealthDescriptions", &reports, |x, r| {
            output::target_health(x, r, &port_of(&r.target))
        });
    }))
}

fn report(
    target: Target,
    state: TargetHealthState,
    reason: &str,
    description: &str,
) -> TargetHealthReport {
    TargetHealthReport {
        target,
        state,
        reason: Some(reason.to_owned()),
        description: Some(description.to_owned()),
    }
}
