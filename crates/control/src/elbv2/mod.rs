//! The Elastic Load Balancing v2 API (query protocol, XML answers) for network load
//! balancers.
//!
//! Every operation is `POST /` with `Action=<Op>` in a form body. An operation reads its
//! parameters, checks all of them against the state, and only then records its changes and
//! updates the state; an error leaves both untouched (and [`dispatch`] drops any change
//! recorded anyway), so a failed call never half-happens.

mod listeners;
mod load_balancers;
mod tags;
mod target_groups;
mod targets;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use causeway_model::arn::{ElbResourceKind, parse_elb_arn};
use causeway_model::elb::{LoadBalancer, LoadBalancerStatus, TagList, TargetGroup};
use causeway_model::elb_api::{ElbError, ElbErrorCode};
use causeway_wire::elbv2::Params;
use causeway_wire::elbv2::output;
use causeway_wire::elbv2::xml::Xml;
use serde::Serialize;

use crate::ctx::Ctx;
use crate::{Reply, Request};

/// What an operation answers: the XML body of a success, or an error.
type Outcome = Result<String, ElbError>;

/// The VPC reported for load balancers and target groups created without one: there are no
/// VPCs here, only this one stand-in.
pub const DEFAULT_VPC_ID: &str = "vpc-00000000000000000";

/// The most items a Describe* page holds, and its default size (AWS's limit).
const MAX_PAGE_SIZE: usize = 400;

/// Whether the request only reads (a `Describe…` action): it then need not wait for other
/// nodes' writers.
pub fn is_read(request: &Request) -> bool {
    Params::parse(request.query.as_bytes(), &request.body)
        .get("Action")
        .is_some_and(|action| action.starts_with("Describe"))
}

/// Runs the elbv2 operation named by the request's `Action`. Errors are XML replies, so this
/// never fails; on an error reply no change is kept.
pub fn dispatch(cx: &mut Ctx<'_>, request: &Request) -> Reply {
    let request_id = uuid::Uuid::new_v4().to_string();
    let params = Params::parse(request.query.as_bytes(), &request.body);
    let call = Call {
        action: params.get("Action").unwrap_or_default().to_owned(),
        request_id,
        params: &params,
    };
    match run(cx, &call) {
        Ok(body) => Reply {
            status: 200,
            body: body.into_bytes(),
            error_code: None,
            content_type: "text/xml",
            headers: Vec::new(),
            deferred: None,
        },
        Err(error) => {
            cx.discard_changes();
            Reply {
                status: error.code.status(),
                body: output::error_response(&error, &call.request_id).into_bytes(),
                error_code: Some(error.code.as_str()),
                content_type: "text/xml",
                headers: Vec::new(),
                deferred: None,
            }
        }
    }
}

fn run(cx: &mut Ctx<'_>, call: &Call<'_>) -> Outcome {
    match call.action.as_str() {
        "CreateLoadBalancer" => load_balancers::create(cx, call),
        "DescribeLoadBalancers" => load_balancers::describe(cx, call),
        "DeleteLoadBalancer" => load_balancers::delete(cx, call),
        "DescribeLoadBalancerAttributes" => load_balancers::describe_attributes(cx, call),
        "ModifyLoadBalancerAttributes" => load_balancers::modify_attributes(cx, call),
        "SetSecurityGroups" => load_balancers::set_security_groups(cx, call),
        "SetSubnets" => load_balancers::set_subnets(cx, call),
        "SetIpAddressType" => load_balancers::set_ip_address_type(cx, call),
        "DescribeAccountLimits" => load_balancers::describe_account_limits(cx, call),
        "DescribeCapacityReservation" => load_balancers::describe_capacity_reservation(cx, call),
        "ModifyCapacityReservation" => load_balancers::modify_capacity_reservation(cx, call),
        "CreateTargetGroup" => target_groups::create(cx, call),
        "DescribeTargetGroups" => target_groups::describe(cx, call),
        "ModifyTargetGroup" => target_groups::modify(cx, call),
        "DeleteTargetGroup" => target_groups::delete(cx, call),
        "DescribeTargetGroupAttributes" => target_groups::describe_attributes(cx, call),
        "ModifyTargetGroupAttributes" => target_groups::modify_attributes(cx, call),
        "RegisterTargets" => targets::register(cx, call),
        "DeregisterTargets" => targets::deregister(cx, call),
        "DescribeTargetHealth" => targets::describe_health(cx, call),
        "CreateListener" => listeners::create(cx, call),
        "DescribeListeners" => listeners::describe(cx, call),
        "ModifyListener" => listeners::modify(cx, call),
        "DeleteListener" => listeners::delete(cx, call),
        "AddListenerCertificates" => listeners::add_certificates(cx, call),
        "DescribeListenerCertificates" => listeners::describe_certificates(cx, call),
        "RemoveListenerCertificates" => listeners::remove_certificates(cx, call),
        "DescribeListenerAttributes" => listeners::describe_attributes(cx, call),
        "DescribeSSLPolicies" => listeners::describe_ssl_policies(cx, call),
        "ModifyListenerAttributes" => listeners::modify_attributes(cx, call),
        "AddTags" => tags::add(cx, call),
        "RemoveTags" => tags::remove(cx, call),
        "DescribeTags" => tags::describe(cx, call),
        "" => Err(ElbError::missing("Action")),
        other if NOT_OFFERED.contains(&other) => Err(ElbError::new(
            ElbErrorCode::InvalidAction,
            format!(
                "The action {other} is not offered by this server: it serves network load balancers only, without listener rules, trust stores or capacity reservations"
            ),
        )),
        other => Err(ElbError::new(
            ElbErrorCode::InvalidAction,
            format!("The action {other} is not valid for this web service."),
        )),
    }
}

/// Real elbv2 operations this server does not offer, so that calling one says so rather than
/// calling the action unknown.
const NOT_OFFERED: &[&str] = &[
    "AddTrustStoreRevocations",
    "CreateRule",
    "CreateTrustStore",
    "DeleteRule",
    "DeleteSharedTrustStoreAssociation",
    "DeleteTrustStore",
    "DescribeAccountLimits",
    "DescribeCapacityReservation",
    "DescribeListenerAttributes",
    "DescribeRules",
    "DescribeSSLPolicies",
    "DescribeTrustStoreAssociations",
    "DescribeTrustStoreRevocations",
    "DescribeTrustStores",
    "GetResourcePolicy",
    "GetTrustStoreCaCertificatesBundle",
    "GetTrustStoreRevocationContent",
    "ModifyCapacityReservation",
    "ModifyIpPools",
    "ModifyListenerAttributes",
    "ModifyRule",
    "ModifyTrustStore",
    "RemoveTrustStoreRevocations",
    "SetIpAddressType",
    "SetRulePriorities",
    "SetSubnets",
];

/// One call: its action, request id and parameters.
#[derive(Debug)]
struct Call<'p> {
    action: String,
    request_id: String,
    params: &'p Params,
}

impl Call<'_> {
    /// The success answer, with `result` writing the members of `<{Action}Result>`.
    fn respond(&self, result: impl FnOnce(&mut Xml)) -> String {
        output::response(&self.action, &self.request_id, result)
    }

    /// A parameter that must be present.
    fn required(&self, name: &str) -> Result<&str, ElbError> {
        required(self.params, name)
    }
}

/// The value of `name` in `params`, or `MissingParameter` naming it.
fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, ElbError> {
    params.get(name).ok_or_else(|| ElbError::missing(name))
}

/// An optional whole number.
fn opt_int(params: &Params, name: &str) -> Result<Option<i64>, ElbError> {
    params
        .get(name)
        .map(|text| {
            text.trim().parse::<i64>().map_err(|_| {
                ElbError::validation(format!(
                    "Parameter '{name}' must be a whole number, not '{text}'"
                ))
            })
        })
        .transpose()
}

/// An optional boolean (`true` or `false`).
fn opt_bool(params: &Params, name: &str) -> Result<Option<bool>, ElbError> {
    params
        .get(name)
        .map(|text| match text {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ElbError::validation(format!(
                "Parameter '{name}' must be 'true' or 'false', not '{text}'"
            ))),
        })
        .transpose()
}

/// An optional value from `options`, answered with AWS's enum ValidationError otherwise.
fn opt_enum<'a>(
    params: &'a Params,
    name: &str,
    field: &str,
    options: &[&str],
) -> Result<Option<&'a str>, ElbError> {
    match params.get(name) {
        Some(value) if !options.contains(&value) => {
            Err(ElbError::not_in_enum(value, field, options))
        }
        other => Ok(other),
    }
}

/// The list `name` (an absent list is empty).
fn list(params: &Params, name: &str) -> Result<Vec<String>, ElbError> {
    Ok(params.list(name)?.unwrap_or_default())
}

/// The `Tags` of a create or AddTags, checked.
fn tag_list(params: &Params, name: &str) -> Result<TagList, ElbError> {
    let mut tags = TagList::new();
    for (i, tag) in params.structs(name)?.unwrap_or_default().iter().enumerate() {
        let key = tag
            .get("Key")
            .ok_or_else(|| ElbError::missing(&format!("{name}.member.{}.Key", i + 1)))?;
        tags.push((
            key.to_owned(),
            tag.get("Value").unwrap_or_default().to_owned(),
        ));
    }
    causeway_model::elb_api::check_tags(&tags)?;
    if tags.len() > causeway_model::elb_api::MAX_TAGS {
        return Err(ElbError::new(
            ElbErrorCode::TooManyTags,
            format!(
                "A resource can have at most {} tags; {} were given",
                causeway_model::elb_api::MAX_TAGS,
                tags.len()
            ),
        ));
    }
    Ok(tags)
}

/// Checks that `arn` is a well-formed ARN of the `kind` of resource the parameter takes.
fn check_arn(arn: &str, kind: ElbResourceKind) -> Result<(), ElbError> {
    if parse_elb_arn(arn) == Some(kind) {
        return Ok(());
    }
    let what = match kind {
        ElbResourceKind::LoadBalancer => "load balancer",
        ElbResourceKind::TargetGroup => "target group",
        ElbResourceKind::Listener => "listener",
        ElbResourceKind::ListenerRule => "listener rule",
    };
    Err(ElbError::validation(format!(
        "'{arn}' is not a valid {what} ARN."
    )))
}

/// The load balancer `arn` names: a ValidationError when the ARN is malformed,
/// `LoadBalancerNotFound` when no load balancer has it.
fn load_balancer<'a>(cx: &'a Ctx<'_>, arn: &str) -> Result<&'a LoadBalancer, ElbError> {
    check_arn(arn, ElbResourceKind::LoadBalancer)?;
    cx.state
        .load_balancers
        .get(arn)
        .ok_or_else(ElbError::load_balancers_not_found)
}

/// The target group `arn` names, as [`load_balancer`] does for load balancers.
fn target_group<'a>(cx: &'a Ctx<'_>, arn: &str) -> Result<&'a TargetGroup, ElbError> {
    check_arn(arn, ElbResourceKind::TargetGroup)?;
    cx.state
        .target_groups
        .get(arn)
        .ok_or_else(ElbError::target_groups_not_found)
}

/// The live state of a load balancer: what the engine reports when one runs, else the stored
/// state (`provisioning` until an engine takes it up).
fn status(cx: &Ctx<'_>, lb: &LoadBalancer) -> LoadBalancerStatus {
    cx.data_plane
        .and_then(|dp| dp.load_balancer_status(&lb.arn))
        .unwrap_or_else(|| LoadBalancerStatus {
            state: lb.state,
            reason: lb.state_reason.clone(),
        })
}

/// The load balancers whose listeners forward to the target group `arn`, each once.
fn load_balancers_of(cx: &Ctx<'_>, target_group_arn: &str) -> Vec<String> {
    let arns: BTreeSet<&str> = cx
        .state
        .listeners
        .values()
        .filter(|l| forwards_to(l, target_group_arn))
        .map(|l| l.load_balancer_arn.as_str())
        .collect();
    arns.into_iter().map(str::to_owned).collect()
}

/// Whether a listener's default action sends traffic to the target group `arn`.
fn forwards_to(listener: &causeway_model::elb::Listener, target_group_arn: &str) -> bool {
    listener.default_actions.iter().any(|a| {
        a.target_group_arn.as_deref() == Some(target_group_arn)
            || a.target_groups
                .iter()
                .any(|(arn, _)| arn == target_group_arn)
    })
}

/// Records `value` under `(kind, key)`; an encoding failure is the server's fault.
fn put<T: Serialize>(cx: &mut Ctx<'_>, kind: &str, key: &str, value: &T) -> Result<(), ElbError> {
    cx.put(kind, key.to_owned(), value)
        .map_err(|e| ElbError::new(ElbErrorCode::InternalFailure, e.message().to_owned()))
}

/// One page of `items`, which come sorted by their key. The marker is the key of the first
/// item of the next page, so pages stay right while items come and go between calls.
fn page<T>(items: Vec<(String, T)>, params: &Params) -> Result<(Vec<T>, Option<String>), ElbError> {
    let size = match opt_int(params, "PageSize")? {
        None => MAX_PAGE_SIZE,
        Some(n) if (1..=MAX_PAGE_SIZE as i64).contains(&n) => n as usize,
        Some(n) => {
            return Err(ElbError::validation(format!(
                "PageSize '{n}' is not valid: it must be from 1 to {MAX_PAGE_SIZE}"
            )));
        }
    };
    Ok(crate::ctx::page_from(items, params.get("Marker"), size))
}

/// The sort key of a resource created at `created_time` with `arn`: creation order, ties
/// broken by ARN.
fn created_key(created_time: i64, arn: &str) -> String {
    format!("{created_time:016}/{arn}")
}
