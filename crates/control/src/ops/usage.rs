//! GetUsage and UpdateUsage: the quota counts of a usage plan's keys, as the gateway's
//! limiter keeps them.

use std::collections::BTreeMap;

use causeway_limits::{Day, Limiter, PlanKey};
use causeway_model::ApiError;
use causeway_model::gateway::plan_limits;
use causeway_model::patch::Op;
use causeway_model::usage::UsagePlan;
use causeway_wire::output;

use crate::Reply;
use crate::ctx::{Ctx, Query, json, patch_operations};

/// A key's id and its `[used, remaining]` pairs.
type KeyDays = (String, Vec<[u64; 2]>);

const PLAN_NOT_FOUND: &str = "Invalid Usage Plan ID specified";
const KEY_NOT_FOUND: &str = "Invalid API Key identifier specified";

fn plan<'a>(cx: &'a Ctx<'_>, id: &str) -> Result<&'a UsagePlan, ApiError> {
    cx.state
        .usage_plan(id)
        .ok_or_else(|| ApiError::not_found(PLAN_NOT_FOUND))
}

fn limiter<'a>(cx: &Ctx<'a>) -> Result<&'a dyn Limiter, ApiError> {
    cx.data_plane
        .and_then(|d| d.limiter())
        .ok_or_else(|| ApiError::Internal("No gateway is running, so no usage is counted".into()))
}

fn date(query: &Query, name: &str) -> Result<Day, ApiError> {
    let text = query
        .get(name)
        .ok_or_else(|| ApiError::bad_request(format!("Required parameter {name} is missing")))?;
    Day::parse(text).map_err(|_| {
        ApiError::bad_request(format!(
            "Invalid {name} '{text}': use the yyyy-MM-dd format"
        ))
    })
}

/// `GET /usageplans/{id}/usage?startDate&endDate[&keyId]`.
pub fn get(cx: &mut Ctx<'_>, plan_id: &str, query: &Query) -> Result<Reply, ApiError> {
    let plan = plan(cx, plan_id)?;
    let from = date(query, "startDate")?;
    let to = date(query, "endDate")?;
    if to < from {
        return Err(ApiError::bad_request(
            "The endDate must not be before the startDate",
        ));
    }
    if to.0 - from.0 > 90 {
        return Err(ApiError::bad_request(
            "The requested date range may span at most 90 days",
        ));
    }
    let keys: Vec<String> = match query.get("keyId") {
        Some(key) => {
            if !cx.state.plan_has_key(plan_id, key) {
                return Err(ApiError::not_found(KEY_NOT_FOUND));
            }
            vec![key.to_owned()]
        }
        None => cx
            .state
            .usage_plan_key_ids(plan_id)
            .map(str::to_owned)
            .collect(),
    };
    let limits = plan_limits(plan);
    let limiter = limiter(cx)?;
    let items: Vec<(String, KeyDays)> = keys
        .into_iter()
        .map(|key_id| {
            let days = limiter.usage(
                PlanKey {
                    plan_id,
                    key_id: &key_id,
                },
                &limits,
                from,
                to,
            );
            let pairs = days
                .iter()
                .map(|d| [d.used, d.remaining.unwrap_or(0)])
                .collect();
            (key_id.clone(), (key_id, pairs))
        })
        .collect();
    let (page, position) = crate::ctx::paginate(items, query)?;
    json(
        200,
        &output::Usage {
            usage_plan_id: plan_id.to_owned(),
            start_date: from.to_string(),
            end_date: to.to_string(),
            items: page.into_iter().collect::<BTreeMap<_, _>>(),
            position,
        },
    )
}

/// `PATCH /usageplans/{id}/keys/{keyId}/usage` with `replace /remaining`: grants more
/// requests for the current period, or takes some away.
pub fn update(
    cx: &mut Ctx<'_>,
    plan_id: &str,
    key_id: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateUsageInput")?;
    let plan = plan(cx, plan_id)?;
    if !cx.state.plan_has_key(plan_id, key_id) {
        return Err(ApiError::not_found(KEY_NOT_FOUND));
    }
    let limits = plan_limits(plan);
    if limits.quota.is_none() {
        return Err(ApiError::bad_request(
            "The usage plan has no quota, so there is no remaining count to change",
        ));
    }
    let limiter = limiter(cx)?;
    let today = cx
        .data_plane
        .and_then(|d| d.quota_today())
        .unwrap_or_else(|| Day::from_unix_seconds(cx.now));
    let key = PlanKey { plan_id, key_id };
    for op in &ops {
        match (op.op, op.path.as_str()) {
            (Op::Replace, "/remaining") => {
                let remaining: i64 = op.number_value()?;
                let remaining = u64::try_from(remaining)
                    .map_err(|_| ApiError::bad_request("The remaining count cannot be negative"))?;
                limiter
                    .set_remaining(key, &limits, remaining, today)
                    .map_err(|e| match e {
                        causeway_limits::LimitsError::Unavailable(_) => ApiError::Internal(
                            "The usage counters are unavailable; nothing was changed. Check the server log."
                                .into(),
                        ),
                        e => ApiError::bad_request(e.to_string()),
                    })?;
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid patch path {}: UpdateUsage supports 'replace' on /remaining only",
                    op.path
                )));
            }
        }
    }
    let days = limiter.usage(key, &limits, today, today);
    let mut items = BTreeMap::new();
    items.insert(
        key_id.to_owned(),
        days.iter()
            .map(|d| [d.used, d.remaining.unwrap_or(0)])
            .collect(),
    );
    json(
        200,
        &output::Usage {
            usage_plan_id: plan_id.to_owned(),
            start_date: today.to_string(),
            end_date: today.to_string(),
            items,
            position: None,
        },
    )
}
