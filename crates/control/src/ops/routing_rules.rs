//! apigatewayv2's routing rules of custom domain names
//! (`/v2/domainnames/{domainName}/routingrules`): CreateRoutingRule, GetRoutingRule,
//! ListRoutingRules, PutRoutingRule (the whole rule replaced, its id kept) and
//! DeleteRoutingRule.
//!
//! The gateway tries a domain's rules from the lowest priority up when the domain's routing
//! mode (`routingMode`, set with CreateDomainName or UpdateDomainName) uses them. What AWS
//! documents is followed: the limits of [`causeway_model::routing_rule::build`], unique
//! priorities, 50 rules per domain, no new rule for a domain in `BASE_PATH_MAPPING_ONLY`
//! mode; AWS does not document its messages, so they are ours.

use causeway_model::ApiError;
use causeway_model::routing_rule::{self, MAX_RULES_PER_DOMAIN, RoutingMode, RoutingRule};
use causeway_wire::{input, output};

use crate::Reply;
use crate::ctx::{Ctx, Query, empty, json, page_v2};
use crate::state::kind;

use super::domain_names::DOMAIN_NOT_FOUND;

fn rule_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid routing rule identifier specified {id}"))
}

fn domain<'a>(cx: &'a Ctx<'_>, name: &str) -> Result<&'a crate::state::DomainState, ApiError> {
    cx.state
        .domains
        .get(name)
        .ok_or_else(|| ApiError::not_found(DOMAIN_NOT_FOUND))
}

fn reply(cx: &Ctx<'_>, status: u16, domain: &str, rule: &RoutingRule) -> Result<Reply, ApiError> {
    json(
        status,
        &output::RoutingRule::from_model(rule, domain, &cx.config.region, &cx.config.account_id),
    )
}

/// Reads and checks a rule for `domain`: its own limits, then what only the server knows
/// (the API and stage exist, an API of the domain's kind, a priority no other rule of the
/// domain has).
fn checked(
    cx: &Ctx<'_>,
    domain_name: &str,
    id: String,
    body: &[u8],
) -> Result<RoutingRule, ApiError> {
    let req: input::RoutingRule = causeway_wire::decode(body)?;
    let rule = routing_rule::build(
        id,
        routing_rule::RuleInput {
            priority: req.priority,
            conditions: req.conditions,
            actions: req.actions,
        },
    )
    .map_err(ApiError::bad_request)?;
    let state = domain(cx, domain_name)?;
    if let Some(invoke) = rule.invoke_api() {
        let api = cx
            .state
            .apis
            .get(&invoke.api_id)
            .ok_or_else(|| ApiError::bad_request("Invalid REST API identifier specified"))?;
        if !api.stages.contains_key(&invoke.stage) {
            return Err(ApiError::bad_request("Invalid stage identifier specified"));
        }
        let private = |types: &[causeway_model::EndpointType]| {
            types.contains(&causeway_model::EndpointType::Private)
        };
        let domain_private = state.domain.endpoint_type == causeway_model::EndpointType::Private;
        if private(&api.api.endpoint_configuration.types) != domain_private {
            return Err(ApiError::bad_request(if domain_private {
                "A private custom domain name's routing rules invoke private REST APIs only"
            } else {
                "A public custom domain name's routing rules invoke Regional or edge-optimized REST APIs only"
            }));
        }
    }
    if let Some(other) = state
        .rules
        .values()
        .find(|r| r.priority == rule.priority && r.routing_rule_id != rule.routing_rule_id)
    {
        return Err(ApiError::conflict(format!(
            "Priority {} is taken by routing rule {} of domain name {domain_name}: rules can't have the same priority",
            rule.priority, other.routing_rule_id
        )));
    }
    Ok(rule)
}

fn save(cx: &mut Ctx<'_>, domain: &str, rule: RoutingRule) -> Result<(), ApiError> {
    cx.put(
        kind::ROUTING_RULE,
        format!("{domain}/{}", rule.routing_rule_id),
        &rule,
    )?;
    if let Some(state) = cx.state.domains.get_mut(domain) {
        state.rules.insert(rule.routing_rule_id.clone(), rule);
    }
    Ok(())
}

pub fn create(cx: &mut Ctx<'_>, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = name.to_ascii_lowercase();
    let state = domain(cx, &name)?;
    if state.domain.routing_mode == RoutingMode::BasePathMappingOnly {
        return Err(ApiError::bad_request(format!(
            "Routing rules can't be created for domain name {name}: its routing mode is BASE_PATH_MAPPING_ONLY. Set it to ROUTING_RULE_ONLY or ROUTING_RULE_THEN_BASE_PATH_MAPPING (UpdateDomainName, replace /routingMode) first"
        )));
    }
    if state.rules.len() >= MAX_RULES_PER_DOMAIN {
        return Err(ApiError::TooManyRequests(format!(
            "Domain name {name} has {MAX_RULES_PER_DOMAIN} routing rules, the most a domain name takes"
        )));
    }
    let taken: Vec<String> = cx
        .state
        .domains
        .values()
        .flat_map(|d| d.rules.keys().cloned())
        .collect();
    let id = cx.new_id(6, |candidate| taken.iter().any(|t| t == candidate));
    let rule = checked(cx, &name, id, body)?;
    let response = reply(cx, 201, &name, &rule);
    save(cx, &name, rule)?;
    response
}

pub fn get(cx: &mut Ctx<'_>, name: &str, id: &str) -> Result<Reply, ApiError> {
    let name = name.to_ascii_lowercase();
    let rule = domain(cx, &name)?
        .rules
        .get(id)
        .ok_or_else(|| rule_not_found(id))?;
    reply(cx, 200, &name, rule)
}

/// ListRoutingRules: in priority order, `maxResults` (1 to 100) at a time, all by default.
pub fn list(cx: &mut Ctx<'_>, name: &str, query: &Query) -> Result<Reply, ApiError> {
    let name = name.to_ascii_lowercase();
    let state = domain(cx, &name)?;
    let mut keyed: Vec<(String, &RoutingRule)> = state
        .rules
        .values()
        .map(|r| (format!("{:07}-{}", r.priority, r.routing_rule_id), r))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let (page, next_token) = page_v2(keyed, query, 100)?;
    let region = &cx.config.region;
    let account = &cx.config.account_id;
    let routing_rules = page
        .into_iter()
        .map(|rule| output::RoutingRule::from_model(rule, &name, region, account))
        .collect();
    json(
        200,
        &output::RoutingRules {
            routing_rules,
            next_token,
        },
    )
}

/// PutRoutingRule: the rule replaced whole (priority, conditions, actions), its id kept.
pub fn put(cx: &mut Ctx<'_>, name: &str, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = name.to_ascii_lowercase();
    if !domain(cx, &name)?.rules.contains_key(id) {
        return Err(rule_not_found(id));
    }
    let rule = checked(cx, &name, id.to_owned(), body)?;
    let response = reply(cx, 200, &name, &rule);
    save(cx, &name, rule)?;
    response
}

pub fn delete(cx: &mut Ctx<'_>, name: &str, id: &str) -> Result<Reply, ApiError> {
    let name = name.to_ascii_lowercase();
    if !domain(cx, &name)?.rules.contains_key(id) {
        return Err(rule_not_found(id));
    }
    cx.delete(kind::ROUTING_RULE, format!("{name}/{id}"));
    if let Some(state) = cx.state.domains.get_mut(&name) {
        state.rules.remove(id);
    }
    empty(204)
}
