//! Routing rules of custom domain names (apigatewayv2's `/v2/domainnames/{name}/routingrules`)
//! and domains' routing modes.
//!
//! A rule sends the requests to a custom domain whose headers and base path match its
//! conditions to a stage of a REST API. Rules are tried from the lowest priority up and the
//! first match wins; the domain's routing mode says whether rules, base path mappings or
//! both (rules first) route its requests. The checks are the ones AWS documents; AWS does
//! not document its messages, so they are ours.

use serde::{Deserialize, Serialize};

/// The highest priority a rule takes (the lowest, and first tried, is 1).
pub const MAX_PRIORITY: i64 = 1_000_000;

/// Routing rules per domain name (AWS's default quota).
pub const MAX_RULES_PER_DOMAIN: usize = 50;

/// How a custom domain name routes its requests, in apigateway's (V1) names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoutingMode {
    /// Base path mappings only (the default).
    #[default]
    BasePathMappingOnly,
    /// Routing rules only.
    RoutingRuleOnly,
    /// Routing rules first, then base path mappings.
    RoutingRuleThenBasePathMapping,
}

impl RoutingMode {
    pub const ALL: [RoutingMode; 3] = [
        RoutingMode::BasePathMappingOnly,
        RoutingMode::RoutingRuleOnly,
        RoutingMode::RoutingRuleThenBasePathMapping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RoutingMode::BasePathMappingOnly => "BASE_PATH_MAPPING_ONLY",
            RoutingMode::RoutingRuleOnly => "ROUTING_RULE_ONLY",
            RoutingMode::RoutingRuleThenBasePathMapping => "ROUTING_RULE_THEN_BASE_PATH_MAPPING",
        }
    }

    /// Reads a mode as apigateway writes it.
    pub fn parse(text: &str) -> Option<RoutingMode> {
        RoutingMode::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The mode in apigatewayv2's names (`API_MAPPING_ONLY`, ...).
    pub fn as_v2_str(self) -> &'static str {
        match self {
            RoutingMode::BasePathMappingOnly => "API_MAPPING_ONLY",
            RoutingMode::RoutingRuleOnly => "ROUTING_RULE_ONLY",
            RoutingMode::RoutingRuleThenBasePathMapping => "ROUTING_RULE_THEN_API_MAPPING",
        }
    }

    /// Reads a mode as apigatewayv2 writes it.
    pub fn parse_v2(text: &str) -> Option<RoutingMode> {
        RoutingMode::ALL.into_iter().find(|m| m.as_v2_str() == text)
    }

    /// Whether routing rules route requests in this mode.
    pub fn uses_rules(self) -> bool {
        self != RoutingMode::BasePathMappingOnly
    }

    /// Whether base path mappings route requests in this mode.
    pub fn uses_mappings(self) -> bool {
        self != RoutingMode::RoutingRuleOnly
    }
}

/// A routing rule, as stored and (with its ARN) answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingRule {
    pub routing_rule_id: String,
    pub priority: i64,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
}

/// One condition of a rule: headers or a base path (all of a rule's conditions must hold).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_headers: Option<MatchHeaders>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_base_paths: Option<MatchBasePaths>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchHeaders {
    #[serde(default)]
    pub any_of: Vec<HeaderValue>,
}

/// A header (its name in any case) and a glob its whole value must match (case matters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderValue {
    #[serde(default)]
    pub header: String,
    #[serde(default)]
    pub value_glob: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchBasePaths {
    #[serde(default)]
    pub any_of: Vec<String>,
}

/// What a matching rule does: invoke a stage of a REST API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_api: Option<InvokeApi>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvokeApi {
    #[serde(default)]
    pub api_id: String,
    #[serde(default)]
    pub stage: String,
    /// Whether the matched base path is taken off the path the API sees (as a base path
    /// mapping does); by default the API sees the whole path.
    #[serde(default)]
    pub strip_base_path: bool,
}

impl RoutingRule {
    /// The rule's action (a stored rule has exactly one).
    pub fn invoke_api(&self) -> Option<&InvokeApi> {
        self.actions.first().and_then(|a| a.invoke_api.as_ref())
    }

    /// The header conditions: lowercase name and glob.
    pub fn header_conditions(&self) -> impl Iterator<Item = (String, Glob)> + '_ {
        self.conditions
            .iter()
            .filter_map(|c| c.match_headers.as_ref())
            .flat_map(|m| m.any_of.iter())
            .map(|h| (h.header.to_ascii_lowercase(), Glob::new(&h.value_glob)))
    }

    /// The base path condition, if any.
    pub fn base_path(&self) -> Option<&str> {
        self.conditions
            .iter()
            .filter_map(|c| c.match_base_paths.as_ref())
            .flat_map(|m| m.any_of.first())
            .map(String::as_str)
            .next()
    }
}

/// The parts of a CreateRoutingRule or PutRoutingRule body, as sent.
#[derive(Debug, Default)]
pub struct RuleInput {
    pub priority: Option<i64>,
    pub conditions: Option<Vec<Condition>>,
    pub actions: Option<Vec<Action>>,
}

/// Checks a rule as AWS documents its limits and makes it: a priority of 1 to 1,000,000;
/// exactly one `invokeApi` action; at most two header conditions and one base path
/// condition, each with one value; header names (not ones AWS reserves) and value globs
/// (wildcards only at the ends); base paths. The API and stage are checked by the caller,
/// which knows them.
pub fn build(id: String, input: RuleInput) -> Result<RoutingRule, String> {
    let priority = input.priority.ok_or("priority is required")?;
    if !(1..=MAX_PRIORITY).contains(&priority) {
        return Err(format!(
            "Invalid priority {priority}: a routing rule's priority is 1 to {MAX_PRIORITY}"
        ));
    }
    let actions = input.actions.ok_or("actions is required")?;
    let [action] = actions.as_slice() else {
        return Err(format!(
            "A routing rule has exactly one action (invokeApi); {} given",
            actions.len()
        ));
    };
    let invoke = action
        .invoke_api
        .as_ref()
        .ok_or("actions[0].invokeApi is required")?;
    if invoke.api_id.is_empty() {
        return Err("actions[0].invokeApi.apiId is required".to_owned());
    }
    let stage_length = invoke.stage.chars().count();
    if !(1..=128).contains(&stage_length) {
        return Err(format!(
            "Invalid stage '{}' in actions[0].invokeApi: a stage name has 1 to 128 characters",
            invoke.stage
        ));
    }
    let conditions = input.conditions.ok_or("conditions is required")?;
    let (mut headers, mut base_paths) = (0, 0);
    for (i, condition) in conditions.iter().enumerate() {
        if condition.match_headers.is_none() && condition.match_base_paths.is_none() {
            return Err(format!(
                "conditions[{i}] has neither matchHeaders nor matchBasePaths"
            ));
        }
        if let Some(match_headers) = &condition.match_headers {
            headers += 1;
            let [value] = match_headers.any_of.as_slice() else {
                return Err(format!(
                    "conditions[{i}].matchHeaders.anyOf takes exactly one header and value glob; {} given",
                    match_headers.any_of.len()
                ));
            };
            check_header(&value.header).map_err(|why| {
                format!(
                    "Invalid header '{}' in conditions[{i}].matchHeaders: {why}",
                    value.header
                )
            })?;
            check_glob(&value.value_glob).map_err(|why| {
                format!(
                    "Invalid value glob '{}' in conditions[{i}].matchHeaders: {why}",
                    value.value_glob
                )
            })?;
        }
        if let Some(match_base_paths) = &condition.match_base_paths {
            base_paths += 1;
            let [path] = match_base_paths.any_of.as_slice() else {
                return Err(format!(
                    "conditions[{i}].matchBasePaths.anyOf takes exactly one base path; {} given",
                    match_base_paths.any_of.len()
                ));
            };
            check_base_path(path).map_err(|why| {
                format!("Invalid base path '{path}' in conditions[{i}].matchBasePaths: {why}")
            })?;
        }
    }
    if headers > 2 || base_paths > 1 {
        return Err(format!(
            "A routing rule takes at most two matchHeaders conditions and one matchBasePaths condition; {headers} and {base_paths} given"
        ));
    }
    Ok(RoutingRule {
        routing_rule_id: id,
        priority,
        conditions,
        actions,
    })
}

/// RFC 7230's token characters, which header names are made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Headers AWS does not match on: prefixes, then whole names (lowercase).
const RESERVED_PREFIXES: [&str; 4] = ["access-control-", "apigw-", "x-amz-", "x-amzn-"];
const RESERVED_HEADERS: [&str; 20] = [
    "authorization",
    "connection",
    "content-encoding",
    "content-length",
    "content-location",
    "forwarded",
    "keep-alive",
    "origin",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "x-apigw-api-id",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-restapi",
    "via",
];

fn check_header(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() >= 40 || !name.bytes().all(is_tchar) {
        return Err(
            "a header name has 1 to 39 characters, letters, digits and !#$%&'+-.^_`|~".to_owned(),
        );
    }
    if name.contains('*') {
        return Err("wildcard header names aren't supported".to_owned());
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED_HEADERS.contains(&lower.as_str())
        || RESERVED_PREFIXES.iter().any(|p| lower.starts_with(p))
    {
        return Err("this header is not supported in routing rule conditions".to_owned());
    }
    Ok(())
}

fn check_glob(glob: &str) -> Result<(), String> {
    // A header value's visible characters, spaces inside (the documentation's own examples
    // match `image/webp` and `*ux=beta*`).
    let valid = !glob.is_empty()
        && glob.len() < 128
        && glob.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !glob.starts_with(' ')
        && !glob.ends_with(' ');
    if !valid {
        return Err(
            "a value glob has 1 to 127 visible ASCII characters (spaces only inside)".to_owned(),
        );
    }
    let inner = glob.strip_prefix('*').unwrap_or(glob);
    let inner = inner.strip_suffix('*').unwrap_or(inner);
    if inner.contains('*') {
        return Err(
            "a wildcard (*) may only begin or end a value glob: *prefix-match, suffix-match* or *contains*"
                .to_owned(),
        );
    }
    if glob.len() > 1 && glob.starts_with('*') && glob.ends_with('*') && glob.len() >= 40 {
        return Err("a *contains* glob has fewer than 40 characters".to_owned());
    }
    Ok(())
}

fn check_base_path(path: &str) -> Result<(), String> {
    let valid = !path.is_empty()
        && path.len() < 128
        && path.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'$' | b'-' | b'_' | b'.' | b'+' | b'!' | b'*' | b'\'' | b'(' | b')' | b'/'
                )
        });
    if !valid {
        return Err(
            "a base path has 1 to 127 characters, letters, digits and $-_.+!*'()/".to_owned(),
        );
    }
    if path.split('/').any(str::is_empty) {
        return Err(
            "a base path neither starts nor ends with a slash, and has no empty segment".to_owned(),
        );
    }
    Ok(())
}

/// A header value glob: the whole value, or a prefix, suffix or part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Glob {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
}

impl Glob {
    /// Reads a checked glob (`suffix-match*` is a prefix, `*prefix-match` a suffix).
    pub fn new(glob: &str) -> Glob {
        match (glob.strip_prefix('*'), glob.strip_suffix('*')) {
            (Some(rest), Some(_)) => {
                Glob::Contains(rest.strip_suffix('*').unwrap_or_default().to_owned())
            }
            (Some(rest), None) => Glob::Suffix(rest.to_owned()),
            (None, Some(rest)) => Glob::Prefix(rest.to_owned()),
            (None, None) => Glob::Exact(glob.to_owned()),
        }
    }

    /// Whether a header's whole value matches (case matters).
    pub fn matches(&self, value: &[u8]) -> bool {
        match self {
            Glob::Exact(text) => value == text.as_bytes(),
            Glob::Prefix(text) => value.starts_with(text.as_bytes()),
            Glob::Suffix(text) => value.ends_with(text.as_bytes()),
            Glob::Contains(text) => {
                text.is_empty()
                    || value
                        .windows(text.len())
                        .any(|window| window == text.as_bytes())
            }
        }
    }
}

/// What follows `base` in `path` (a request path, `/` first) when the path is the base path
/// or goes on below it: `Some("")` or `Some("/rest")`.
pub fn below_base_path<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    path.strip_prefix('/')?
        .strip_prefix(base)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn header(name: &str, glob: &str) -> Condition {
        Condition {
            match_headers: Some(MatchHeaders {
                any_of: vec![HeaderValue {
                    header: name.to_owned(),
                    value_glob: glob.to_owned(),
                }],
            }),
            match_base_paths: None,
        }
    }

    fn base_path(path: &str) -> Condition {
        Condition {
            match_headers: None,
            match_base_paths: Some(MatchBasePaths {
                any_of: vec![path.to_owned()],
            }),
        }
    }

    fn invoke(api: &str, stage: &str) -> Vec<Action> {
        vec![Action {
            invoke_api: Some(InvokeApi {
                api_id: api.to_owned(),
                stage: stage.to_owned(),
                strip_base_path: false,
            }),
        }]
    }

    fn input(priority: i64, conditions: Vec<Condition>) -> RuleInput {
        RuleInput {
            priority: Some(priority),
            conditions: Some(conditions),
            actions: Some(invoke("abc123", "prod")),
        }
    }

    fn refusal(input: RuleInput) -> String {
        build("r1".to_owned(), input).unwrap_err()
    }

    #[test]
    fn rules_within_the_documented_limits_are_built() {
        let rule = build(
            "r1".to_owned(),
            input(
                50,
                vec![
                    header("Accept", "image/webp"),
                    header("Pet", "Dog-*"),
                    base_path("PetStoreShopper/dogs"),
                ],
            ),
        )
        .unwrap();
        assert_eq!(rule.priority, 50);
        assert_eq!(rule.base_path(), Some("PetStoreShopper/dogs"));
        let headers: Vec<_> = rule.header_conditions().collect();
        assert_eq!(
            headers,
            vec![
                ("accept".to_owned(), Glob::Exact("image/webp".to_owned())),
                ("pet".to_owned(), Glob::Prefix("Dog-".to_owned())),
            ]
        );
        // A rule without conditions catches everything.
        assert!(build("r2".to_owned(), input(1, vec![])).is_ok());
        assert!(
            build(
                "r3".to_owned(),
                input(MAX_PRIORITY, vec![header("Cookie", "*ux=beta*")])
            )
            .is_ok()
        );
    }

    #[test]
    fn rules_beyond_the_limits_are_refused_with_the_reason() {
        assert!(refusal(input(0, vec![])).contains("priority is 1 to 1000000"));
        assert!(refusal(input(1_000_001, vec![])).contains("Invalid priority 1000001"));
        let mut no_priority = input(1, vec![]);
        no_priority.priority = None;
        assert_eq!(refusal(no_priority), "priority is required");
        let mut no_conditions = input(1, vec![]);
        no_conditions.conditions = None;
        assert_eq!(refusal(no_conditions), "conditions is required");
        let three_headers = input(
            1,
            vec![header("a", "1"), header("b", "2"), header("c", "3")],
        );
        assert!(refusal(three_headers).contains("at most two matchHeaders"));
        let two_paths = input(1, vec![base_path("a"), base_path("b")]);
        assert!(refusal(two_paths).contains("one matchBasePaths"));
        let mut two_values = header("a", "1");
        if let Some(m) = &mut two_values.match_headers {
            m.any_of.push(m.any_of[0].clone());
        }
        assert!(refusal(input(1, vec![two_values])).contains("exactly one header"));
        assert!(refusal(input(1, vec![Condition::default()])).contains("neither"));
        for reserved in [
            "Authorization",
            "X-Amz-Date",
            "x-amzn-trace-id",
            "Access-Control-Allow-Origin",
            "Host-",
        ] {
            let refused = build("r".to_owned(), input(1, vec![header(reserved, "x")]));
            assert_eq!(refused.is_err(), reserved != "Host-", "{reserved}");
        }
        assert!(refusal(input(1, vec![header("x-version", "a*b")])).contains("only begin or end"));
        assert!(refusal(input(1, vec![header("x-v*", "a")])).contains("wildcard header names"));
        assert!(refusal(input(1, vec![header(&"h".repeat(40), "a")])).contains("1 to 39"));
        let long_contains = format!("*{}*", "a".repeat(38));
        assert!(refusal(input(1, vec![header("x", &long_contains)])).contains("fewer than 40"));
        assert!(refusal(input(1, vec![header("x", "a\u{e9}")])).contains("visible ASCII"));
        for path in ["/users", "users/", "a//b", "a b", ""] {
            assert!(
                refusal(input(1, vec![base_path(path)])).contains("Invalid base path"),
                "{path:?}"
            );
        }
        let mut two_actions = input(1, vec![]);
        two_actions.actions = Some([invoke("a", "b"), invoke("c", "d")].concat());
        assert!(refusal(two_actions).contains("exactly one action"));
        let mut long_stage = input(1, vec![]);
        long_stage.actions = Some(invoke("a", &"s".repeat(129)));
        assert!(refusal(long_stage).contains("1 to 128"));
    }

    #[test]
    fn globs_match_whole_values_prefixes_suffixes_and_parts_case_sensitively() {
        let cases = [
            ("World", "World", true),
            ("World", "world", false),
            ("World", "Worlds", false),
            ("Dog-*", "Dog-Bella", true),
            ("Dog-*", "Cats", false),
            ("*-beta", "v2-beta", true),
            ("*-beta", "v2-beta2", false),
            ("*ux=beta*", "lang=en-us;ux=beta", true),
            ("*ux=beta*", "lang=en-us", false),
            ("*", "anything", true),
            ("**", "", true),
        ];
        for (glob, value, expected) in cases {
            assert_eq!(
                Glob::new(glob).matches(value.as_bytes()),
                expected,
                "{glob} ~ {value}"
            );
        }
    }

    #[test]
    fn base_paths_match_whole_segments() {
        assert_eq!(
            below_base_path("/PetStoreShopper", "PetStoreShopper"),
            Some("")
        );
        assert_eq!(
            below_base_path("/PetStoreShopper/dogs", "PetStoreShopper"),
            Some("/dogs")
        );
        assert_eq!(
            below_base_path("/PetStoreShopperX", "PetStoreShopper"),
            None
        );
        assert_eq!(below_base_path("/petstoreshopper", "PetStoreShopper"), None);
        assert_eq!(below_base_path("/a/b/c", "a/b"), Some("/c"));
    }

    #[test]
    fn mappings_stored_without_an_id_get_the_same_one_every_time() {
        let mapping = |base_path: &str, id: Option<&str>| crate::BasePathMapping {
            base_path: base_path.to_owned(),
            rest_api_id: "a".to_owned(),
            stage: None,
            api_mapping_id: id.map(str::to_owned),
        };
        let derived = mapping("orders", None).api_mapping_id();
        assert_eq!(derived.len(), 10);
        assert!(
            derived
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        // Pinned: a node or a release that drew it otherwise would lose the mapping.
        assert_eq!(derived, mapping("orders", None).api_mapping_id());
        assert_eq!(derived, "2qpuut2o6o");
        assert_ne!(derived, mapping("(none)", None).api_mapping_id());
        assert_eq!(mapping("orders", Some("kept")).api_mapping_id(), "kept");
    }

    #[test]
    fn routing_modes_read_and_write_apigateways_names() {
        for mode in RoutingMode::ALL {
            assert_eq!(RoutingMode::parse(mode.as_str()), Some(mode));
            assert_eq!(
                serde_json::to_string(&mode).unwrap(),
                format!("\"{}\"", mode.as_str())
            );
        }
        assert_eq!(RoutingMode::parse("API_MAPPING_ONLY"), None);
        assert_eq!(
            RoutingMode::parse_v2("ROUTING_RULE_THEN_API_MAPPING"),
            Some(RoutingMode::RoutingRuleThenBasePathMapping)
        );
        assert_eq!(RoutingMode::parse_v2("BASE_PATH_MAPPING_ONLY"), None);
        assert!(!RoutingMode::default().uses_rules());
        assert!(!RoutingMode::RoutingRuleOnly.uses_mappings());
    }
}
