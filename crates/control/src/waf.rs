//! AWS WAF (v2), REGIONAL scope, for REST API stages: IP sets, regex pattern sets, rule
//! groups, web ACLs and their
//! association with stages, over WAF's JSON 1.1 protocol (`POST /` with
//! `X-Amz-Target: AWSWAF_20190729.<Operation>`).
//!
//! A web ACL is checked by compiling it (`causeway_model::waf`), so what is stored is what
//! the gateway can evaluate. A stage's association is its `webAclArn`. Every operation checks
//! everything before it changes anything; an error reply keeps no change.

use causeway_model::Stage;
use causeway_model::waf::{self, CompiledAcl, IpSet, RegexPatternSet, RuleGroup, WafError, WebAcl};
use serde_json::{Map, Value, json};

use crate::ctx::Ctx;
use crate::state::kind;
use crate::{Reply, Request};

/// The `X-Amz-Target` prefix of WAF's operations.
pub const TARGET_PREFIX: &str = "AWSWAF_20190729.";

/// The most items a List page holds (AWS's `Limit` ceiling).
const MAX_LIMIT: u64 = 100;

type Outcome = Result<Value, WafError>;

/// Whether the request is a WAF operation that only reads (`Get…`, `List…`,
/// `CheckCapacity`): it then need not wait for other nodes' writers.
pub fn is_read(request: &Request) -> bool {
    request
        .target
        .as_deref()
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .is_some_and(|op| {
            op.starts_with("Get")
                || op.starts_with("List")
                || op.starts_with("Describe")
                || op == "CheckCapacity"
        })
}

/// Runs the WAF operation `operation` (the target without its prefix).
pub fn dispatch(cx: &mut Ctx<'_>, request: &Request, operation: &str) -> Reply {
    let body = crate::json11::object_body(&request.body).ok_or_else(|| WafError {
        code: "SerializationException",
        message: "The request body is not a JSON object.".into(),
        parameter: None,
    });
    match body.and_then(|body| run(cx, operation, &body)) {
        Ok(value) => crate::json11::reply(200, &value, None),
        Err(error) => {
            cx.discard_changes();
            error_reply(&error)
        }
    }
}

/// An error in WAF's shape: `__type` and `Message` (`message`, `Field`, `Parameter` and
/// `Reason` for `WAFInvalidParameterException`, as its model names them).
pub fn error_reply(error: &WafError) -> Reply {
    let body = match &error.parameter {
        Some((field, parameter, reason)) => json!({
            "__type": error.code, "message": error.message,
            "Field": field, "Parameter": parameter, "Reason": reason,
        }),
        None => json!({"__type": error.code, "Message": error.message}),
    };
    crate::json11::reply(error.status(), &body, Some(error.code))
}

fn run(cx: &mut Ctx<'_>, operation: &str, body: &Value) -> Outcome {
    match operation {
        "CreateIPSet" => create_ip_set(cx, body),
        "GetIPSet" => get_ip_set(cx, body),
        "UpdateIPSet" => update_ip_set(cx, body),
        "DeleteIPSet" => delete_ip_set(cx, body),
        "ListIPSets" => list(cx, body, Kind::IpSets),
        "CreateRegexPatternSet" => create_regex_set(cx, body),
        "GetRegexPatternSet" => get_regex_set(cx, body),
        "UpdateRegexPatternSet" => update_regex_set(cx, body),
        "DeleteRegexPatternSet" => delete_regex_set(cx, body),
        "ListRegexPatternSets" => list(cx, body, Kind::RegexSets),
        "CreateRuleGroup" => create_rule_group(cx, body),
        "GetRuleGroup" => get_rule_group(cx, body),
        "UpdateRuleGroup" => update_rule_group(cx, body),
        "DeleteRuleGroup" => delete_rule_group(cx, body),
        "ListRuleGroups" => list(cx, body, Kind::RuleGroups),
        "CreateWebACL" => create_web_acl(cx, body),
        "GetWebACL" => get_web_acl(cx, body),
        "UpdateWebACL" => update_web_acl(cx, body),
        "DeleteWebACL" => delete_web_acl(cx, body),
        "ListWebACLs" => list(cx, body, Kind::WebAcls),
        "AssociateWebACL" => associate(cx, body),
        "DisassociateWebACL" => disassociate(cx, body),
        "GetWebACLForResource" => web_acl_for_resource(cx, body),
        "ListResourcesForWebACL" => resources_for_web_acl(cx, body),
        "CheckCapacity" => check_capacity(cx, body),
        "ListAvailableManagedRuleGroups" => list_managed_groups(body),
        "DescribeManagedRuleGroup" => describe_managed_group(body),
        "ListAvailableManagedRuleGroupVersions" => managed_group_versions(body),
        "TagResource" => tag_resource(cx, body),
        "UntagResource" => untag_resource(cx, body),
        "ListTagsForResource" => list_tags(cx, body),
        other => Err(WafError {
            code: "UnknownOperationException",
            message: format!(
                "This server does not implement the WAF operation {other}; it serves IP sets, regex pattern sets, rule groups, web ACLs and their association with REST API stages, and describes the AWS managed rule groups it renders."
            ),
            parameter: None,
        }),
    }
}

fn field<'v>(body: &'v Value, name: &str) -> Option<&'v Value> {
    body.get(name).filter(|v| !v.is_null())
}

fn required_str<'v>(body: &'v Value, name: &str) -> Result<&'v str, WafError> {
    let path = lower_first(name);
    field(body, name)
        .ok_or_else(|| WafError::required(&path))?
        .as_str()
        .ok_or_else(|| WafError::validation(&path, None, "Member must be a string"))
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `Scope`: only REGIONAL web ACLs protect API Gateway stages.
fn check_scope(body: &Value) -> Result<(), WafError> {
    match required_str(body, "Scope")? {
        "REGIONAL" => Ok(()),
        "CLOUDFRONT" => Err(WafError::invalid(
            "SCOPE_VALUE",
            "CLOUDFRONT",
            "The scope is not valid.",
        )),
        other => Err(WafError::validation(
            "scope",
            Some(other),
            "Member must satisfy enum value set: [CLOUDFRONT, REGIONAL]",
        )),
    }
}

fn description(body: &Value) -> Result<String, WafError> {
    match field(body, "Description") {
        None => Ok(String::new()),
        Some(Value::String(text)) if text.chars().count() <= 256 => Ok(text.clone()),
        Some(_) => Err(WafError::validation(
            "description",
            None,
            "Member must have length less than or equal to 256",
        )),
    }
}

fn new_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn internal(error: causeway_model::ApiError) -> WafError {
    WafError {
        code: "WAFInternalErrorException",
        message: format!(
            "AWS WAF couldn’t perform the operation because of a system problem: {error}"
        ),
        parameter: None,
    }
}

fn arn(cx: &Ctx<'_>, what: &str, name: &str, id: &str) -> String {
    format!(
        "arn:aws:wafv2:{}:{}:regional/{what}/{name}/{id}",
        cx.config.region, cx.config.account_id
    )
}

fn summary(name: &str, id: &str, description: &str, lock_token: &str, arn: &str) -> Value {
    json!({"Name": name, "Id": id, "Description": description, "LockToken": lock_token, "ARN": arn})
}

fn check_lock(given: &Value, current: &str) -> Result<(), WafError> {
    match required_str(given, "LockToken")? {
        token if token == current => Ok(()),
        _ => Err(WafError::stale_lock()),
    }
}

fn addresses(body: &Value) -> Result<Vec<String>, WafError> {
    let list = field(body, "Addresses")
        .ok_or_else(|| WafError::required("addresses"))?
        .as_array()
        .ok_or_else(|| WafError::validation("addresses", None, "Member must be a list"))?;
    list.iter()
        .map(|a| {
            a.as_str().map(str::to_owned).ok_or_else(|| {
                WafError::validation("addresses.member", None, "Member must be a string")
            })
        })
        .collect()
}

/// A `Tags` list (`[{"Key": ..., "Value": ...}]`): keys of 1 to 128 characters, values of
/// at most 256, at most 50 tags.
fn tags(
    body: &Value,
    member: &str,
) -> Result<std::collections::BTreeMap<String, String>, WafError> {
    let mut tags = std::collections::BTreeMap::new();
    let Some(list) = field(body, member) else {
        return Ok(tags);
    };
    let list = list
        .as_array()
        .ok_or_else(|| WafError::validation("tags", None, "Member must be a list"))?;
    if list.len() > 50 {
        return Err(WafError::validation(
            "tags",
            None,
            "Member must have length less than or equal to 50",
        ));
    }
    for tag in list {
        let key = tag
            .get("Key")
            .and_then(Value::as_str)
            .ok_or_else(|| WafError::required("tags.member.key"))?;
        let value = tag
            .get("Value")
            .and_then(Value::as_str)
            .ok_or_else(|| WafError::required("tags.member.value"))?;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(WafError::validation(
                "tags.member.key",
                Some(key),
                "Member must have length between 1 and 128",
            ));
        }
        if value.chars().count() > 256 {
            return Err(WafError::validation(
                "tags.member.value",
                Some(value),
                "Member must have length less than or equal to 256",
            ));
        }
        tags.insert(key.to_owned(), value.to_owned());
    }
    Ok(tags)
}

// ---------------------------------------------------------------------------------------------
// Tags

/// The tags of the IP set, regex pattern set, rule group or web ACL `ResourceARN` names,
/// with the record kind and id to store it under.
fn tagged<'a>(
    cx: &'a mut Ctx<'_>,
    body: &Value,
) -> Result<
    (
        &'static str,
        String,
        &'a mut std::collections::BTreeMap<String, String>,
    ),
    WafError,
> {
    let arn = required_str(body, "ResourceARN")?.to_owned();
    if !arn.starts_with("arn:") || !arn.contains(":wafv2:") {
        return Err(WafError::invalid(
            "RESOURCE_ARN",
            &arn,
            "The ARN isn't valid.",
        ));
    }
    let state = &mut *cx.state;
    if let Some(set) = state.waf_ip_sets.values_mut().find(|s| s.arn == arn) {
        return Ok((kind::WAF_IP_SET, set.id.clone(), &mut set.tags));
    }
    if let Some(set) = state.waf_regex_sets.values_mut().find(|s| s.arn == arn) {
        return Ok((kind::WAF_REGEX_SET, set.id.clone(), &mut set.tags));
    }
    if let Some(group) = state.waf_rule_groups.values_mut().find(|g| g.arn == arn) {
        return Ok((kind::WAF_RULE_GROUP, group.id.clone(), &mut group.tags));
    }
    if let Some(acl) = state.waf_web_acls.values_mut().find(|a| a.arn == arn) {
        return Ok((kind::WAF_WEB_ACL, acl.id.clone(), &mut acl.tags));
    }
    Err(WafError::nonexistent())
}

/// Stores the resource whose tags changed (the lock token stays: tags are not part of the
/// configuration it guards).
fn save_tagged(cx: &mut Ctx<'_>, kind: &'static str, id: &str) -> Result<(), WafError> {
    let state = &cx.state;
    let value = match kind {
        kind::WAF_IP_SET => state.waf_ip_sets.get(id).map(serde_json::to_value),
        kind::WAF_REGEX_SET => state.waf_regex_sets.get(id).map(serde_json::to_value),
        kind::WAF_RULE_GROUP => state.waf_rule_groups.get(id).map(serde_json::to_value),
        _ => state.waf_web_acls.get(id).map(serde_json::to_value),
    };
    let value = value
        .ok_or_else(WafError::nonexistent)?
        .map_err(|error| internal(causeway_model::ApiError::Internal(error.to_string())))?;
    cx.put(kind, id.to_owned(), &value).map_err(internal)
}

fn tag_resource(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let new = tags(body, "Tags")?;
    if new.is_empty() {
        return Err(WafError::required("tags"));
    }
    let (kind, id, tags) = tagged(cx, body)?;
    let mut merged = tags.clone();
    merged.extend(new);
    if merged.len() > 50 {
        return Err(WafError {
            code: "WAFTagOperationException",
            message:
                "AWS WAF couldn’t perform your tagging operation: a resource has at most 50 tags."
                    .into(),
            parameter: None,
        });
    }
    *tags = merged;
    save_tagged(cx, kind, &id)?;
    Ok(json!({}))
}

fn untag_resource(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let keys: Vec<String> = field(body, "TagKeys")
        .and_then(Value::as_array)
        .ok_or_else(|| WafError::required("tagKeys"))?
        .iter()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    let (kind, id, tags) = tagged(cx, body)?;
    for key in &keys {
        tags.remove(key);
    }
    save_tagged(cx, kind, &id)?;
    Ok(json!({}))
}

fn list_tags(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let arn = required_str(body, "ResourceARN")?.to_owned();
    let (_, _, tags) = tagged(cx, body)?;
    let list: Vec<Value> = tags
        .iter()
        .map(|(key, value)| json!({"Key": key, "Value": value}))
        .collect();
    Ok(json!({"TagInfoForResource": {"ResourceARN": arn, "TagList": list}}))
}

// ---------------------------------------------------------------------------------------------
// What IP sets, regex pattern sets, rule groups and web ACLs share

/// A stored WAF resource: found by name and id (or ARN), guarded by a lock token, listed
/// by its summary.
trait Item {
    fn name(&self) -> &str;
    fn id(&self) -> &str;
    fn arn(&self) -> &str;
    fn description(&self) -> &str;
    fn lock_token(&self) -> &str;
}

macro_rules! item {
    ($($kind:ty),*) => {$(
        impl Item for $kind {
            fn name(&self) -> &str { &self.name }
            fn id(&self) -> &str { &self.id }
            fn arn(&self) -> &str { &self.arn }
            fn description(&self) -> &str { &self.description }
            fn lock_token(&self) -> &str { &self.lock_token }
        }
    )*};
}

item!(IpSet, RegexPatternSet, RuleGroup, WebAcl);

/// The item of `items` that `body` names: by `ARN` when `by_arn` allows it and the body
/// has one, else by `Name`, `Scope` and `Id`.
fn find<'a, T: Item>(
    items: &'a std::collections::BTreeMap<String, T>,
    body: &Value,
    by_arn: bool,
) -> Result<&'a T, WafError> {
    if by_arn && let Some(arn) = field(body, "ARN").and_then(Value::as_str) {
        return items
            .values()
            .find(|item| item.arn() == arn)
            .ok_or_else(WafError::nonexistent);
    }
    let name = required_str(body, "Name")?;
    check_scope(body)?;
    let id = required_str(body, "Id")?;
    items
        .get(id)
        .filter(|item| item.name() == name)
        .ok_or_else(WafError::nonexistent)
}

fn summary_of(item: &impl Item) -> Value {
    summary(
        item.name(),
        item.id(),
        item.description(),
        item.lock_token(),
        item.arn(),
    )
}

/// Deletes the set or rule group `body` names, its lock token checked, unless a web ACL or
/// rule group names it.
fn delete_referable<T: Item>(
    cx: &mut Ctx<'_>,
    body: &Value,
    kind: &'static str,
    items: fn(&mut crate::state::State) -> &mut std::collections::BTreeMap<String, T>,
) -> Outcome {
    let item = find(items(cx.state), body, false)?;
    check_lock(body, item.lock_token())?;
    let (id, arn) = (item.id().to_owned(), item.arn().to_owned());
    if referenced(cx, &arn) {
        return Err(WafError::associated());
    }
    cx.delete(kind, id.clone());
    items(cx.state).remove(&id);
    Ok(json!({}))
}

// ---------------------------------------------------------------------------------------------
// IP sets

/// The IP set named by `Name`, `Scope` and `Id`.
fn find_ip_set<'a>(cx: &'a Ctx<'_>, body: &Value) -> Result<&'a IpSet, WafError> {
    find(&cx.state.waf_ip_sets, body, false)
}

fn create_ip_set(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let name = required_str(body, "Name")?;
    waf::check_name(name, "name")?;
    check_scope(body)?;
    let version = required_str(body, "IPAddressVersion")?;
    let addresses = addresses(body)?;
    let tags = tags(body, "Tags")?;
    waf::check_addresses(version, &addresses)?;
    let description = description(body)?;
    if cx.state.waf_ip_sets.values().any(|s| s.name == name) {
        return Err(WafError::duplicate());
    }
    let id = uuid::Uuid::new_v4().to_string();
    let set = IpSet {
        name: name.to_owned(),
        arn: arn(cx, "ipset", name, &id),
        id: id.clone(),
        description,
        ip_address_version: version.to_owned(),
        addresses,
        lock_token: new_token(),
        tags,
    };
    cx.put(kind::WAF_IP_SET, id.clone(), &set)
        .map_err(internal)?;
    let reply = json!({"Summary": summary_of(&set)});
    cx.state.waf_ip_sets.insert(id, set);
    Ok(reply)
}

fn ip_set_json(set: &IpSet) -> Value {
    json!({"Name": set.name, "Id": set.id, "ARN": set.arn, "Description": set.description,
           "IPAddressVersion": set.ip_address_version, "Addresses": set.addresses})
}

fn get_ip_set(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let set = find_ip_set(cx, body)?;
    Ok(json!({"IPSet": ip_set_json(set), "LockToken": set.lock_token}))
}

fn update_ip_set(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let mut set = find_ip_set(cx, body)?.clone();
    let addresses = addresses(body)?;
    waf::check_addresses(&set.ip_address_version, &addresses)?;
    let description = description(body)?;
    check_lock(body, &set.lock_token)?;
    set.addresses = addresses;
    set.description = description;
    set.lock_token = new_token();
    // Web ACLs that use the set must still compile with its new addresses (they do: the
    // addresses were checked), and the gateway recompiles them from the new plan.
    cx.put(kind::WAF_IP_SET, set.id.clone(), &set)
        .map_err(internal)?;
    let reply = json!({"NextLockToken": set.lock_token});
    cx.state.waf_ip_sets.insert(set.id.clone(), set);
    Ok(reply)
}

fn delete_ip_set(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    delete_referable(cx, body, kind::WAF_IP_SET, |state| &mut state.waf_ip_sets)
}

// ---------------------------------------------------------------------------------------------
// Regex pattern sets

/// `RegularExpressionList`: `[{"RegexString": "..."}]`, checked by compiling it.
fn regular_expressions(body: &Value) -> Result<Vec<String>, WafError> {
    let list = field(body, "RegularExpressionList")
        .ok_or_else(|| WafError::required("regularExpressionList"))?
        .as_array()
        .ok_or_else(|| {
            WafError::validation("regularExpressionList", None, "Member must be a list")
        })?;
    let expressions = list
        .iter()
        .map(|item| {
            item.get("RegexString")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| WafError::required("regularExpressionList.member.regexString"))
        })
        .collect::<Result<Vec<String>, WafError>>()?;
    waf::compile_regexes(&expressions)?;
    Ok(expressions)
}

/// The regex pattern set named by `Name`, `Scope` and `Id`.
fn find_regex_set<'a>(cx: &'a Ctx<'_>, body: &Value) -> Result<&'a RegexPatternSet, WafError> {
    find(&cx.state.waf_regex_sets, body, false)
}

fn create_regex_set(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let name = required_str(body, "Name")?;
    waf::check_name(name, "name")?;
    check_scope(body)?;
    let expressions = regular_expressions(body)?;
    let description = description(body)?;
    let tags = tags(body, "Tags")?;
    if cx.state.waf_regex_sets.values().any(|s| s.name == name) {
        return Err(WafError::duplicate());
    }
    let id = uuid::Uuid::new_v4().to_string();
    let set = RegexPatternSet {
        name: name.to_owned(),
        arn: arn(cx, "regexpatternset", name, &id),
        id: id.clone(),
        description,
        regular_expressions: expressions,
        lock_token: new_token(),
        tags,
    };
    cx.put(kind::WAF_REGEX_SET, id.clone(), &set)
        .map_err(internal)?;
    let reply = json!({"Summary": summary_of(&set)});
    cx.state.waf_regex_sets.insert(id, set);
    Ok(reply)
}

fn get_regex_set(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let set = find_regex_set(cx, body)?;
    let expressions: Vec<Value> = set
        .regular_expressions
        .iter()
        .map(|e| json!({"RegexString": e}))
        .collect();
    Ok(json!({
        "RegexPatternSet": {"Name": set.name, "Id": set.id, "ARN": set.arn,
            "Description": set.description, "RegularExpressionList": expressions},
        "LockToken": set.lock_token,
    }))
}

fn update_regex_set(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let mut set = find_regex_set(cx, body)?.clone();
    let expressions = regular_expressions(body)?;
    let description = description(body)?;
    check_lock(body, &set.lock_token)?;
    set.regular_expressions = expressions;
    set.description = description;
    set.lock_token = new_token();
    cx.put(kind::WAF_REGEX_SET, set.id.clone(), &set)
        .map_err(internal)?;
    let reply = json!({"NextLockToken": set.lock_token});
    cx.state.waf_regex_sets.insert(set.id.clone(), set);
    Ok(reply)
}

fn delete_regex_set(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    delete_referable(cx, body, kind::WAF_REGEX_SET, |state| {
        &mut state.waf_regex_sets
    })
}

// ---------------------------------------------------------------------------------------------
// Rule groups

/// What web ACLs and rule groups both take: rules, a visibility configuration, custom
/// response bodies and a description.
struct RulesInput {
    rules: Vec<Value>,
    visibility_config: Value,
    custom_response_bodies: Option<Value>,
    description: String,
}

fn rules_input(body: &Value) -> Result<RulesInput, WafError> {
    let visibility_config = field(body, "VisibilityConfig")
        .ok_or_else(|| WafError::required("visibilityConfig"))?
        .clone();
    if !visibility_config.is_object() {
        return Err(WafError::validation(
            "visibilityConfig",
            None,
            "Member must be a structure",
        ));
    }
    let rules = match field(body, "Rules") {
        None => Vec::new(),
        Some(Value::Array(rules)) => rules.clone(),
        Some(_) => return Err(WafError::validation("rules", None, "Member must be a list")),
    };
    let custom_response_bodies = field(body, "CustomResponseBodies").cloned();
    let description = description(body)?;
    Ok(RulesInput {
        rules,
        visibility_config,
        custom_response_bodies,
        description,
    })
}

/// What CreateRuleGroup and UpdateRuleGroup give: the rules checked against the capacity.
fn group_input(
    cx: &Ctx<'_>,
    body: &Value,
    name: &str,
    capacity: u64,
) -> Result<RulesInput, WafError> {
    let input = rules_input(body)?;
    let (ip_sets, regex_sets, _) = sets(cx);
    waf::check_rule_group(
        (name, &cx.config.account_id),
        capacity,
        &input.rules,
        input.custom_response_bodies.as_ref(),
        waf::Sets {
            ip: &ip_sets,
            regex: &regex_sets,
            rule_groups: &[],
        },
    )?;
    Ok(input)
}

/// The rule group named by `ARN`, or by `Name`, `Scope` and `Id`.
fn find_rule_group<'a>(cx: &'a Ctx<'_>, body: &Value) -> Result<&'a RuleGroup, WafError> {
    find(&cx.state.waf_rule_groups, body, true)
}

fn create_rule_group(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let name = required_str(body, "Name")?;
    waf::check_name(name, "name")?;
    check_scope(body)?;
    let capacity = field(body, "Capacity")
        .ok_or_else(|| WafError::required("capacity"))?
        .as_u64()
        .filter(|c| (1..=5000).contains(c))
        .ok_or_else(|| {
            WafError::validation(
                "capacity",
                None,
                "Member must have value between 1 and 5000",
            )
        })?;
    let input = group_input(cx, body, name, capacity)?;
    let tags = tags(body, "Tags")?;
    if cx.state.waf_rule_groups.values().any(|g| g.name == name) {
        return Err(WafError::duplicate());
    }
    let id = uuid::Uuid::new_v4().to_string();
    let group = RuleGroup {
        name: name.to_owned(),
        arn: arn(cx, "rulegroup", name, &id),
        id: id.clone(),
        description: input.description,
        capacity,
        rules: input.rules,
        visibility_config: input.visibility_config,
        custom_response_bodies: input.custom_response_bodies,
        lock_token: new_token(),
        tags,
    };
    cx.put(kind::WAF_RULE_GROUP, id.clone(), &group)
        .map_err(internal)?;
    let reply = json!({"Summary": summary_of(&group)});
    cx.state.waf_rule_groups.insert(id, group);
    Ok(reply)
}

fn get_rule_group(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let group = find_rule_group(cx, body)?;
    let mut answer = json!({
        "Name": group.name, "Id": group.id, "ARN": group.arn, "Description": group.description,
        "Capacity": group.capacity, "Rules": group.rules, "VisibilityConfig": group.visibility_config,
        "LabelNamespace": waf::rule_group_namespace(&cx.config.account_id, &group.name),
    });
    if let (Some(bodies), Some(map)) = (&group.custom_response_bodies, answer.as_object_mut()) {
        map.insert("CustomResponseBodies".into(), bodies.clone());
    }
    Ok(json!({"RuleGroup": answer, "LockToken": group.lock_token}))
}

fn update_rule_group(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let mut group = find_rule_group(cx, body)?.clone();
    let input = group_input(cx, body, &group.name, group.capacity)?;
    check_lock(body, &group.lock_token)?;
    group.rules = input.rules;
    group.visibility_config = input.visibility_config;
    group.custom_response_bodies = input.custom_response_bodies;
    group.description = input.description;
    group.lock_token = new_token();
    // Web ACLs that reference the group recompile from the next plan; its capacity, which
    // they count, does not change.
    cx.put(kind::WAF_RULE_GROUP, group.id.clone(), &group)
        .map_err(internal)?;
    let reply = json!({"NextLockToken": group.lock_token});
    cx.state.waf_rule_groups.insert(group.id.clone(), group);
    Ok(reply)
}

fn delete_rule_group(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    delete_referable(cx, body, kind::WAF_RULE_GROUP, |state| {
        &mut state.waf_rule_groups
    })
}

/// Whether a web ACL's or a rule group's rules name `arn`.
fn referenced(cx: &Ctx<'_>, arn: &str) -> bool {
    cx.state
        .waf_web_acls
        .values()
        .any(|acl| acl.rules.iter().any(|rule| mentions(rule, arn)))
        || cx
            .state
            .waf_rule_groups
            .values()
            .any(|group| group.rules.iter().any(|rule| mentions(rule, arn)))
}

/// Whether a JSON value holds `text` as one of its strings.
fn mentions(value: &Value, text: &str) -> bool {
    match value {
        Value::String(s) => s == text,
        Value::Array(items) => items.iter().any(|v| mentions(v, text)),
        Value::Object(map) => map.values().any(|v| mentions(v, text)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Web ACLs

/// What web ACL rules may reference: IP sets, regex pattern sets, rule groups.
type References<'a> = (Vec<&'a IpSet>, Vec<&'a RegexPatternSet>, Vec<&'a RuleGroup>);

fn sets<'a>(cx: &'a Ctx<'_>) -> References<'a> {
    (
        cx.state.waf_ip_sets.values().collect(),
        cx.state.waf_regex_sets.values().collect(),
        cx.state.waf_rule_groups.values().collect(),
    )
}

/// What CreateWebACL and UpdateWebACL give: checked by compiling it.
struct AclInput {
    default_action: Value,
    rules: Vec<Value>,
    visibility_config: Value,
    custom_response_bodies: Option<Value>,
    description: String,
    capacity: u64,
}

fn acl_input(cx: &Ctx<'_>, body: &Value, (arn, name): (&str, &str)) -> Result<AclInput, WafError> {
    let default_action = field(body, "DefaultAction")
        .ok_or_else(|| WafError::required("defaultAction"))?
        .clone();
    let RulesInput {
        rules,
        visibility_config,
        custom_response_bodies,
        description,
    } = rules_input(body)?;
    let (ip_sets, regex_sets, rule_groups) = sets(cx);
    let compiled = CompiledAcl::compile(
        (arn, name, &cx.config.account_id),
        &default_action,
        &rules,
        custom_response_bodies.as_ref(),
        waf::Sets {
            ip: &ip_sets,
            regex: &regex_sets,
            rule_groups: &rule_groups,
        },
    )?;
    Ok(AclInput {
        default_action,
        rules,
        visibility_config,
        custom_response_bodies,
        description,
        capacity: compiled.capacity,
    })
}

fn find_web_acl<'a>(cx: &'a Ctx<'_>, body: &Value) -> Result<&'a WebAcl, WafError> {
    find(&cx.state.waf_web_acls, body, true)
}

fn create_web_acl(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let name = required_str(body, "Name")?;
    waf::check_name(name, "name")?;
    check_scope(body)?;
    let id = uuid::Uuid::new_v4().to_string();
    let acl_arn = arn(cx, "webacl", name, &id);
    let input = acl_input(cx, body, (&acl_arn, name))?;
    let tags = tags(body, "Tags")?;
    if cx.state.waf_web_acls.values().any(|a| a.name == name) {
        return Err(WafError::duplicate());
    }
    let acl = WebAcl {
        name: name.to_owned(),
        id: id.clone(),
        arn: acl_arn,
        description: input.description,
        default_action: input.default_action,
        rules: input.rules,
        visibility_config: input.visibility_config,
        custom_response_bodies: input.custom_response_bodies,
        capacity: input.capacity,
        lock_token: new_token(),
        tags,
    };
    cx.put(kind::WAF_WEB_ACL, id.clone(), &acl)
        .map_err(internal)?;
    let reply = json!({"Summary": summary_of(&acl)});
    cx.state.waf_web_acls.insert(id, acl);
    Ok(reply)
}

fn web_acl_json(cx: &Ctx<'_>, acl: &WebAcl) -> Value {
    let mut value = json!({
        "Name": acl.name, "Id": acl.id, "ARN": acl.arn, "DefaultAction": acl.default_action,
        "Description": acl.description, "Rules": acl.rules, "VisibilityConfig": acl.visibility_config,
        "Capacity": acl.capacity, "ManagedByFirewallManager": false,
        "LabelNamespace": format!("awswaf:{}:webacl:{}:", cx.config.account_id, acl.name),
        "RetrofittedByFirewallManager": false,
    });
    if let (Some(bodies), Some(map)) = (&acl.custom_response_bodies, value.as_object_mut()) {
        map.insert("CustomResponseBodies".into(), bodies.clone());
    }
    value
}

fn get_web_acl(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let acl = find_web_acl(cx, body)?;
    Ok(json!({"WebACL": web_acl_json(cx, acl), "LockToken": acl.lock_token}))
}

fn update_web_acl(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let acl = find_web_acl(cx, body)?.clone();
    let input = acl_input(cx, body, (&acl.arn, &acl.name))?;
    check_lock(body, &acl.lock_token)?;
    // UpdateWebACL replaces every setting it has, as on AWS (no merge).
    let updated = WebAcl {
        description: input.description,
        default_action: input.default_action,
        rules: input.rules,
        visibility_config: input.visibility_config,
        custom_response_bodies: input.custom_response_bodies,
        capacity: input.capacity,
        lock_token: new_token(),
        ..acl
    };
    cx.put(kind::WAF_WEB_ACL, updated.id.clone(), &updated)
        .map_err(internal)?;
    let reply = json!({"NextLockToken": updated.lock_token});
    cx.state.waf_web_acls.insert(updated.id.clone(), updated);
    Ok(reply)
}

fn delete_web_acl(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let acl = find_web_acl(cx, body)?;
    check_lock(body, &acl.lock_token)?;
    let (id, acl_arn) = (acl.id.clone(), acl.arn.clone());
    let associated = cx.state.apis.values().any(|api| {
        api.stages
            .values()
            .any(|s| s.web_acl_arn.as_deref() == Some(&acl_arn))
    });
    if associated {
        return Err(WafError::associated());
    }
    cx.delete(kind::WAF_WEB_ACL, id.clone());
    cx.state.waf_web_acls.remove(&id);
    Ok(json!({}))
}

#[derive(Clone, Copy)]
enum Kind {
    IpSets,
    RegexSets,
    RuleGroups,
    WebAcls,
}

fn list(cx: &mut Ctx<'_>, body: &Value, what: Kind) -> Outcome {
    check_scope(body)?;
    let limit = match field(body, "Limit") {
        None => MAX_LIMIT,
        Some(value) => value
            .as_u64()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                WafError::validation(
                    "limit",
                    Some(&value.to_string()),
                    "Member must have value between 1 and 100",
                )
            })?,
    };
    let after = field(body, "NextMarker").and_then(Value::as_str);
    let mut items: Vec<(String, Value)> = match what {
        Kind::IpSets => cx
            .state
            .waf_ip_sets
            .values()
            .map(|item| (item.name.clone(), summary_of(item)))
            .collect(),
        Kind::RegexSets => cx
            .state
            .waf_regex_sets
            .values()
            .map(|item| (item.name.clone(), summary_of(item)))
            .collect(),
        Kind::RuleGroups => cx
            .state
            .waf_rule_groups
            .values()
            .map(|item| (item.name.clone(), summary_of(item)))
            .collect(),
        Kind::WebAcls => cx
            .state
            .waf_web_acls
            .values()
            .map(|item| (item.name.clone(), summary_of(item)))
            .collect(),
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let remaining: Vec<(String, Value)> = items
        .into_iter()
        .filter(|(name, _)| after.is_none_or(|marker| name.as_str() > marker))
        .collect();
    let more = remaining.len() as u64 > limit;
    let page: Vec<(String, Value)> = remaining
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let key = match what {
        Kind::IpSets => "IPSets",
        Kind::RegexSets => "RegexPatternSets",
        Kind::RuleGroups => "RuleGroups",
        Kind::WebAcls => "WebACLs",
    };
    let mut reply = Map::new();
    if more && let Some((last, _)) = page.last() {
        reply.insert("NextMarker".into(), Value::String(last.clone()));
    }
    reply.insert(
        key.into(),
        Value::Array(page.into_iter().map(|(_, v)| v).collect()),
    );
    Ok(Value::Object(reply))
}

// ---------------------------------------------------------------------------------------------
// Associations with REST API stages

/// The API and stage of a stage ARN (`arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}`).
fn stage_of(resource_arn: &str, region: &str) -> Result<(String, String), WafError> {
    let invalid = || {
        WafError::invalid(
            "RESOURCE_ARN",
            resource_arn,
            "The ARN isn't valid. A valid ARN begins with arn: and includes other information separated by colons or slashes.",
        )
    };
    let rest = resource_arn
        .strip_prefix("arn:aws:apigateway:")
        .ok_or_else(invalid)?;
    let (arn_region, path) = rest.split_once("::").ok_or_else(invalid)?;
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["", "restapis", api, "stages", stage] if !api.is_empty() && !stage.is_empty() => {
            if arn_region != region {
                return Err(WafError::nonexistent());
            }
            Ok(((*api).to_owned(), (*stage).to_owned()))
        }
        _ => Err(invalid()),
    }
}

fn stage_mut<'a>(cx: &'a mut Ctx<'_>, resource_arn: &str) -> Result<&'a mut Stage, WafError> {
    let (api, stage) = stage_of(resource_arn, &cx.config.region)?;
    cx.state
        .apis
        .get_mut(&api)
        .and_then(|a| a.stages.get_mut(&stage))
        .ok_or_else(WafError::nonexistent)
}

fn set_association(cx: &mut Ctx<'_>, resource_arn: &str, acl: Option<String>) -> Outcome {
    let stage = stage_mut(cx, resource_arn)?;
    let mut updated = stage.clone();
    updated.web_acl_arn = acl;
    let (api, name) = stage_of(resource_arn, &cx.config.region)?;
    cx.put(kind::STAGE, format!("{api}/{name}"), &updated)
        .map_err(internal)?;
    *stage_mut(cx, resource_arn)? = updated;
    Ok(json!({}))
}

fn associate(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let acl_arn = required_str(body, "WebACLArn")?;
    let resource_arn = required_str(body, "ResourceArn")?;
    stage_mut(cx, resource_arn)?;
    if !cx.state.waf_web_acls.values().any(|a| a.arn == acl_arn) {
        return Err(WafError::nonexistent());
    }
    // One web ACL per stage: another association replaces it, as on AWS.
    set_association(cx, resource_arn, Some(acl_arn.to_owned()))
}

fn disassociate(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let resource_arn = required_str(body, "ResourceArn")?;
    if stage_mut(cx, resource_arn)?.web_acl_arn.is_none() {
        return Ok(json!({}));
    }
    set_association(cx, resource_arn, None)
}

fn web_acl_for_resource(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let resource_arn = required_str(body, "ResourceArn")?;
    let Some(acl_arn) = stage_mut(cx, resource_arn)?.web_acl_arn.clone() else {
        return Ok(json!({}));
    };
    Ok(
        match cx.state.waf_web_acls.values().find(|a| a.arn == acl_arn) {
            Some(acl) => json!({"WebACL": web_acl_json(cx, acl)}),
            None => json!({}),
        },
    )
}

fn resources_for_web_acl(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let acl_arn = required_str(body, "WebACLArn")?;
    if !cx.state.waf_web_acls.values().any(|a| a.arn == acl_arn) {
        return Err(WafError::nonexistent());
    }
    // AWS's default resource type is APPLICATION_LOAD_BALANCER, which has none here.
    let resource_type = field(body, "ResourceType")
        .and_then(Value::as_str)
        .unwrap_or("APPLICATION_LOAD_BALANCER");
    let mut arns = Vec::new();
    if resource_type == "API_GATEWAY" {
        for api in cx.state.apis.values() {
            for stage in api.stages.values() {
                if stage.web_acl_arn.as_deref() == Some(acl_arn) {
                    arns.push(format!(
                        "arn:aws:apigateway:{}::/restapis/{}/stages/{}",
                        cx.config.region, api.api.id, stage.stage_name
                    ));
                }
            }
        }
    }
    Ok(json!({"ResourceArns": arns}))
}

/// ListAvailableManagedRuleGroups: the AWS managed rule groups this server renders. Their
/// versions are all the same rules here, so none claims versioning.
fn list_managed_groups(body: &Value) -> Outcome {
    check_scope(body)?;
    let groups: Vec<Value> = waf::managed::available()
        .iter()
        .map(|g| {
            json!({"VendorName": "AWS", "Name": g.name, "VersioningSupported": false,
                   "Description": g.description})
        })
        .collect();
    Ok(json!({"ManagedRuleGroups": groups}))
}

/// DescribeManagedRuleGroup: a group's capacity, rules (with their Block action), label
/// namespace and labels.
fn describe_managed_group(body: &Value) -> Outcome {
    check_scope(body)?;
    let described = waf::managed::describe(
        required_str(body, "VendorName")?,
        required_str(body, "Name")?,
    )?;
    let rules: Vec<Value> = described
        .rules
        .iter()
        .map(|(name, _)| json!({"Name": name, "Action": {"Block": {}}}))
        .collect();
    let labels: Vec<Value> = described
        .rules
        .iter()
        .map(|(_, label)| json!({"Name": label}))
        .collect();
    Ok(json!({"Capacity": described.capacity, "Rules": rules,
              "LabelNamespace": described.label_namespace,
              "AvailableLabels": labels, "ConsumedLabels": []}))
}

/// ListAvailableManagedRuleGroupVersions: none (every `Version_*` a statement names is the
/// same rules here).
fn managed_group_versions(body: &Value) -> Outcome {
    check_scope(body)?;
    waf::managed::describe(
        required_str(body, "VendorName")?,
        required_str(body, "Name")?,
    )?;
    Ok(json!({"Versions": []}))
}

fn check_capacity(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    check_scope(body)?;
    let rules = field(body, "Rules")
        .and_then(Value::as_array)
        .ok_or_else(|| WafError::required("rules"))?;
    let (ip_sets, regex_sets, rule_groups) = sets(cx);
    let compiled = CompiledAcl::compile(
        ("", "capacity", &cx.config.account_id),
        &json!({"Allow": {}}),
        rules,
        None,
        waf::Sets {
            ip: &ip_sets,
            regex: &regex_sets,
            rule_groups: &rule_groups,
        },
    )?;
    Ok(json!({"Capacity": compiled.capacity}))
}
