//! AWS WAF (v2) for REST API stages, the pure part: IP sets and web ACLs as stored, their
//! checks with WAF's errors, and a web ACL compiled into rules the gateway evaluates for
//! every request of a stage the ACL is associated with.
//!
//! A web ACL is kept as it was given (its rules as JSON, so that GetWebACL answers what was
//! put) and compiled whenever it, an IP set it uses, or a stage it guards changes. A rule
//! Causeway cannot evaluate (managed rule groups, geolocation, SQL injection and XSS
//! detection, CAPTCHA) is refused when the ACL is stored, never accepted and skipped.

use std::net::IpAddr;

use base64::Engine as _;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest body a rule inspects (AWS's default for API Gateway: 16 KB).
pub const BODY_INSPECTION_LIMIT: usize = 16 * 1024;

/// The most rules a web ACL holds here.
const MAX_RULES: usize = 100;

/// A WAF error: the exception's name and its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WafError {
    /// `WAFNonexistentItemException`, `WAFInvalidParameterException`, ...
    pub code: &'static str,
    pub message: String,
    /// `WAFInvalidParameterException`'s `Field`, `Parameter` and `Reason`.
    pub parameter: Option<(String, String, String)>,
}

impl WafError {
    fn new(code: &'static str, message: impl Into<String>) -> WafError {
        WafError {
            code,
            message: message.into(),
            parameter: None,
        }
    }

    /// `WAFInvalidParameterException`, worded as AWS words it.
    pub fn invalid(field: &str, parameter: &str, reason: &str) -> WafError {
        WafError {
            code: "WAFInvalidParameterException",
            message: format!("Error reason: {reason}, field: {field}, parameter: {parameter}"),
            parameter: Some((field.to_owned(), parameter.to_owned(), reason.to_owned())),
        }
    }

    /// A rule names an IP set, regex pattern set or rule group that does not exist.
    fn bad_reference() -> WafError {
        WafError::invalid(
            "RULE",
            "Statement",
            "A reference in your rule statement is not valid.",
        )
    }

    /// A rule group reference anywhere but as a web ACL rule's whole statement.
    fn misplaced_group_reference() -> WafError {
        WafError::invalid(
            "RULE_GROUP_REFERENCE_STATEMENT",
            "RuleGroupReferenceStatement",
            "A rule group reference must be a web ACL rule's whole statement.",
        )
    }

    /// A rule statement Causeway does not evaluate.
    fn unsupported(what: &str) -> WafError {
        WafError::invalid(
            "RULE",
            what,
            &format!(
                "{what} is not supported by this server, which evaluates IP set, byte, regex, size, SQL injection, cross-site scripting, label, rate-based, rule group and some managed rule group statements"
            ),
        )
    }

    pub fn nonexistent() -> WafError {
        WafError::new(
            "WAFNonexistentItemException",
            "AWS WAF couldn’t perform the operation because your resource doesn’t exist.",
        )
    }

    pub fn duplicate() -> WafError {
        WafError::new(
            "WAFDuplicateItemException",
            "AWS WAF couldn’t perform the operation because some resource in your request is a duplicate of an existing one.",
        )
    }

    pub fn stale_lock() -> WafError {
        WafError::new(
            "WAFOptimisticLockException",
            "AWS WAF couldn’t save your changes because someone changed the resource after you started to edit it. Reapply your changes.",
        )
    }

    pub fn associated() -> WafError {
        WafError::new(
            "WAFAssociatedItemException",
            "AWS WAF couldn’t perform the operation because your resource is being used by another resource or it’s associated with another resource.",
        )
    }

    /// A constraint of the API model (`ValidationException`, in the Coral service's words).
    pub fn validation(path: &str, value: Option<&str>, constraint: &str) -> WafError {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_owned(),
        };
        WafError::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value {value} at '{path}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    /// A required member is missing.
    pub fn required(path: &str) -> WafError {
        WafError::validation(path, None, "Member must not be null")
    }

    /// The HTTP status: 400, but 500 for the server's own faults.
    pub fn status(&self) -> u16 {
        if self.code == "WAFInternalErrorException" {
            500
        } else {
            400
        }
    }
}

/// An IP set, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpSet {
    pub name: String,
    pub id: String,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub description: String,
    #[serde(rename = "IPAddressVersion")]
    pub ip_address_version: String,
    pub addresses: Vec<String>,
    pub lock_token: String,
    /// Tags (TagResource), by key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
}

/// A regex pattern set, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegexPatternSet {
    pub name: String,
    pub id: String,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub description: String,
    /// The regular expressions (`RegularExpressionList[].RegexString`).
    pub regular_expressions: Vec<String>,
    pub lock_token: String,
    /// Tags (TagResource), by key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
}

/// The most regular expressions a regex pattern set holds (WAF's quota).
pub const MAX_REGEXES_PER_SET: usize = 10;

/// Compiles a regex pattern set's expressions into one matcher, or says which is wrong:
/// 1 to 10 expressions of 1 to 512 characters each, each a valid regular expression.
pub fn compile_regexes(expressions: &[String]) -> Result<regex::bytes::RegexSet, WafError> {
    if expressions.is_empty() || expressions.len() > MAX_REGEXES_PER_SET {
        return Err(WafError::validation(
            "regularExpressionList",
            None,
            "Member must have length between 1 and 10",
        ));
    }
    for expression in expressions {
        if expression.is_empty() || expression.chars().count() > 512 {
            return Err(WafError::validation(
                "regularExpressionList.member.regexString",
                Some(expression),
                "Member must have length between 1 and 512",
            ));
        }
    }
    regex::bytes::RegexSetBuilder::new(expressions)
        .size_limit(1 << 20)
        .build()
        .map_err(|_| {
            WafError::invalid(
                "REGEX",
                "RegularExpressionList",
                "The regular expression is not valid.",
            )
        })
}

/// A rule group, as stored: its rules as given, with its declared capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleGroup {
    pub name: String,
    pub id: String,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub description: String,
    /// The WCUs the group may use, fixed when it is made.
    pub capacity: u64,
    pub rules: Vec<Value>,
    pub visibility_config: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_response_bodies: Option<Value>,
    pub lock_token: String,
    /// Tags (TagResource), by key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
}

/// What web ACL rules may reference: IP sets, regex pattern sets and rule groups.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sets<'a> {
    pub ip: &'a [&'a IpSet],
    pub regex: &'a [&'a RegexPatternSet],
    pub rule_groups: &'a [&'a RuleGroup],
}

/// The label namespace of a rule group's rules.
pub fn rule_group_namespace(account_id: &str, name: &str) -> String {
    format!("awswaf:{account_id}:rulegroup:{name}:")
}

/// Checks a rule group's rules, as CreateRuleGroup and UpdateRuleGroup do: each compiles
/// (rule groups cannot reference rule groups), and together they fit the group's capacity.
/// Returns the WCUs they use.
pub fn check_rule_group(
    (name, account_id): (&str, &str),
    capacity: u64,
    rules: &[Value],
    custom_response_bodies: Option<&Value>,
    sets: Sets<'_>,
) -> Result<u64, WafError> {
    let mut compiler = Compiler {
        sets,
        bodies: custom_response_bodies.and_then(Value::as_object),
        inspects_body: false,
        capacity: 0,
        in_rule_group: true,
    };
    compiler.rules(rules, &rule_group_namespace(account_id, name), "")?;
    if compiler.capacity > capacity {
        return Err(WafError::invalid(
            "RULE_GROUP",
            &capacity.to_string(),
            &format!(
                "The rule group's rules need {} WCUs, more than its capacity of {capacity}.",
                compiler.capacity
            ),
        ));
    }
    Ok(compiler.capacity)
}

/// A web ACL, as stored: what it was given, with its id, ARN, capacity and lock token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WebAcl {
    pub name: String,
    pub id: String,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub description: String,
    pub default_action: Value,
    pub rules: Vec<Value>,
    pub visibility_config: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_response_bodies: Option<Value>,
    pub capacity: u64,
    pub lock_token: String,
    /// Tags (TagResource), by key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
}

/// Checks a name: 1 to 128 letters, digits, `_` and `-`.
pub fn check_name(name: &str, path: &str) -> Result<(), WafError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(WafError::validation(
            path,
            Some(name),
            "Member must satisfy regular expression pattern: ^[\\w\\-]+$",
        ))
    }
}

/// Checks the addresses of an IP set: CIDR ranges of the set's family, none `/0`, none with
/// host bits set.
pub fn check_addresses(version: &str, addresses: &[String]) -> Result<Vec<IpNet>, WafError> {
    if version != "IPV4" && version != "IPV6" {
        return Err(WafError::validation(
            "iPAddressVersion",
            Some(version),
            "Member must satisfy enum value set: [IPV4, IPV6]",
        ));
    }
    addresses
        .iter()
        .map(|address| {
            let invalid = || {
                WafError::invalid(
                    "IP_ADDRESS",
                    address,
                    "The parameter contains formatting that is not valid.",
                )
            };
            let net: IpNet = address.parse().map_err(|_| invalid())?;
            let family_ok = match net {
                IpNet::V4(_) => version == "IPV4",
                IpNet::V6(_) => version == "IPV6",
            };
            if !family_ok || net.prefix_len() == 0 || net.trunc() != net {
                return Err(invalid());
            }
            Ok(net)
        })
        .collect()
}

/// What a request shows a web ACL.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The address of the client's connection.
    pub client_ip: IpAddr,
    pub method: &'a str,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    /// The query string as sent, without `?`.
    pub query: &'a str,
    /// The header lines, names in any case.
    pub headers: Vec<(&'a str, &'a [u8])>,
    /// The body, when a rule inspects it (`None` otherwise).
    pub body: Option<&'a [u8]>,
    /// The body read as JSON, by the first `JsonBody` field that looks (`None` inside: not
    /// JSON), so that several rules on it parse it once. Start it empty (`Default`).
    pub json: std::cell::OnceCell<Option<Value>>,
}

impl<'a> Request<'a> {
    fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The cookies of the `Cookie` headers, `(name, value)` (a cookie without `=` has an
    /// empty value).
    fn cookies(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        self.headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, value)| value.split(|b| *b == b';'))
            .map(<[u8]>::trim_ascii)
            .filter(|cookie| !cookie.is_empty())
            .map(|cookie| match cookie.iter().position(|b| *b == b'=') {
                Some(at) => (&cookie[..at], &cookie[at + 1..]),
                None => (cookie, &cookie[cookie.len()..]),
            })
    }

    fn query_args(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
    }
}

/// A rate-based rule's question: has `key` gone over `limit` requests in the last `window`
/// seconds, this request counted? The caller keeps the counts (they outlive a compiled ACL).
#[derive(Debug, Clone)]
pub struct RateProbe<'a> {
    /// The rule's name.
    pub rule: &'a str,
    /// The aggregate key: the client's address, a forwarded address, or empty (CONSTANT).
    pub key: String,
    pub limit: u64,
    pub window_seconds: u64,
}

/// A blocking answer: status, headers and body (WAF's custom response, or the default 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// `None`: the API's WAF_FILTERED gateway response (403 `Forbidden` by default).
    pub custom: Option<CustomResponse>,
}

/// A `CustomResponse` of a block action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The content type and the body, from the ACL's `CustomResponseBodies`.
    pub body: Option<(String, String)>,
}

/// What a web ACL decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// Let through, with the headers the matching non-blocking actions insert
    /// (`x-amzn-waf-{name}` and value; of two with one name, the later rule's).
    Allow(Vec<&'a (String, String)>),
    /// Blocked by the rule named (`None`: by the default action).
    Block(&'a Block, Option<&'a str>),
}

/// The headers a non-blocking action inserts into the request (`CustomRequestHandling`):
/// each name already prefixed with `x-amzn-waf-`.
type Inserted = Vec<(String, String)>;

#[derive(Debug, Clone)]
enum Action {
    Allow(Inserted),
    Block(Block),
    Count(Inserted),
}

#[derive(Debug, Clone)]
enum Field {
    UriPath,
    QueryString,
    Method,
    Header(String),
    QueryArgument(String),
    AllQueryArguments,
    Body(Oversize),
    /// Request headers (names matched in any case).
    Headers {
        pattern: Names,
        scope: Scope,
    },
    /// The request's header names in the order sent, joined by colons.
    HeaderOrder,
    /// What follows `#` in the request target; clients rarely send one, and a request
    /// without it matches as the fallback says.
    UriFragment {
        fallback_match: bool,
    },
    /// Cookies of the `Cookie` headers (names matched exactly).
    Cookies {
        pattern: Names,
        scope: Scope,
    },
    /// The body read as JSON.
    JsonBody {
        paths: Option<Vec<String>>,
        scope: Scope,
        invalid: InvalidJson,
        oversize: Oversize,
    },
}

/// Which headers or cookies a field looks at.
#[derive(Debug, Clone)]
enum Names {
    All,
    Included(Vec<String>),
    Excluded(Vec<String>),
}

impl Names {
    fn takes(&self, name: &str, any_case: bool) -> bool {
        let same = |n: &String| {
            if any_case {
                n.eq_ignore_ascii_case(name)
            } else {
                n == name
            }
        };
        match self {
            Names::All => true,
            Names::Included(names) => names.iter().any(same),
            Names::Excluded(names) => !names.iter().any(same),
        }
    }
}

/// Whether keys, values or both are inspected (a match in either is enough for `All`).
#[derive(Debug, Clone, Copy)]
enum Scope {
    All,
    Key,
    Value,
}

/// What a body that is not valid JSON does to a JSON body field.
#[derive(Debug, Clone, Copy)]
enum InvalidJson {
    /// Nothing is inspected (AWS inspects what it parsed up to the error).
    Unset,
    Match,
    NoMatch,
    /// The body is inspected as plain text.
    AsString,
}

#[derive(Debug, Clone, Copy)]
enum Oversize {
    Continue,
    Match,
    NoMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transform {
    None,
    Lowercase,
    UrlDecode,
    CompressWhiteSpace,
    HtmlEntityDecode,
    Base64Decode,
    HexDecode,
    NormalizePath,
    RemoveNulls,
    ReplaceNulls,
}

#[derive(Debug, Clone, Copy)]
enum Position {
    Exactly,
    StartsWith,
    EndsWith,
    Contains,
    ContainsWord,
}

#[derive(Debug, Clone, Copy)]
enum Compare {
    Eq,
    Ne,
    Le,
    Lt,
    Ge,
    Gt,
}

#[derive(Debug, Clone)]
struct Forwarded {
    header: String,
    fallback_match: bool,
    position: ForwardedPosition,
}

#[derive(Debug, Clone, Copy)]
enum ForwardedPosition {
    First,
    Last,
    Any,
}

#[derive(Debug, Clone)]
enum Statement {
    IpSet {
        nets: Vec<IpNet>,
        forwarded: Option<Forwarded>,
    },
    Bytes {
        field: Field,
        transforms: Vec<Transform>,
        position: Position,
        needle: Vec<u8>,
    },
    Regex {
        field: Field,
        transforms: Vec<Transform>,
        regex: regex::bytes::Regex,
    },
    /// A regex pattern set: any of its expressions.
    RegexSet {
        field: Field,
        transforms: Vec<Transform>,
        set: regex::bytes::RegexSet,
    },
    Size {
        field: Field,
        transforms: Vec<Transform>,
        compare: Compare,
        size: u64,
    },
    /// SQL injection, by libinjection's tokenizer and fingerprints.
    Sqli {
        field: Field,
        transforms: Vec<Transform>,
        high: bool,
    },
    /// Cross-site scripting, by libinjection's HTML5 tokenizer.
    Xss {
        field: Field,
        transforms: Vec<Transform>,
    },
    Label {
        namespace: bool,
        key: String,
    },
    And(Vec<Statement>),
    Or(Vec<Statement>),
    Not(Box<Statement>),
}

#[derive(Debug, Clone)]
enum RateKey {
    Ip,
    Forwarded(Forwarded),
    Constant,
    /// `CUSTOM_KEYS`: the request's values of every key, together.
    Custom(Vec<CustomKey>),
}

/// One key of a `CUSTOM_KEYS` rate-based rule.
#[derive(Debug, Clone)]
enum CustomKey {
    /// A header (name in any case), transformed.
    Header(String, Vec<Transform>),
    /// A cookie (name as written), transformed.
    Cookie(String, Vec<Transform>),
    /// A query argument (name in any case), transformed.
    QueryArgument(String, Vec<Transform>),
    QueryString(Vec<Transform>),
    UriPath(Vec<Transform>),
    HttpMethod,
    Ip,
    /// The first address of the statement's forwarded-address header.
    ForwardedIp(Forwarded),
    /// The labels the request has in a namespace (`ns:`), as they are.
    LabelNamespace(String),
}

impl CustomKey {
    /// The key's value in a request: `Ok(None)` when the request lacks it (it is then not
    /// counted); `Err(fallback)` for a forwarded address that does not read.
    fn value(
        &self,
        request: &Request<'_>,
        (labels, own): (&[&str], &str),
    ) -> Result<Option<Vec<u8>>, bool> {
        let transformed = |value: Option<&[u8]>, transforms: &[Transform]| {
            value.map(|v| transform(v, transforms))
        };
        Ok(match self {
            CustomKey::Header(name, transforms) => transformed(request.header(name), transforms),
            CustomKey::Cookie(name, transforms) => transformed(
                request
                    .cookies()
                    .find(|(n, _)| *n == name.as_bytes())
                    .map(|(_, v)| v),
                transforms,
            ),
            CustomKey::QueryArgument(name, transforms) => transformed(
                request
                    .query_args()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_bytes()),
                transforms,
            ),
            CustomKey::QueryString(transforms) => transformed(
                Some(request.query.as_bytes()).filter(|q| !q.is_empty()),
                transforms,
            ),
            CustomKey::UriPath(transforms) => {
                transformed(Some(request.path.as_bytes()), transforms)
            }
            CustomKey::HttpMethod => Some(request.method.as_bytes().to_vec()),
            CustomKey::Ip => Some(request.client_ip.to_string().into_bytes()),
            CustomKey::ForwardedIp(config) => match forwarded_ips(request, config) {
                ForwardedIps::Absent => None,
                ForwardedIps::Invalid => return Err(config.fallback_match),
                ForwardedIps::Ips(ips) => Some(ips[0].to_string().into_bytes()),
            },
            // The namespace whole, or within the rules' own (as label match statements
            // take it).
            CustomKey::LabelNamespace(namespace) => {
                let inside: Vec<&str> = labels
                    .iter()
                    .copied()
                    .filter(|label| {
                        label.starts_with(namespace.as_str())
                            || label
                                .strip_prefix(own)
                                .is_some_and(|local| local.starts_with(namespace.as_str()))
                    })
                    .collect();
                (!inside.is_empty()).then(|| inside.join(",").into_bytes())
            }
        })
    }
}

#[derive(Debug, Clone)]
struct Rate {
    limit: u64,
    window_seconds: u64,
    key: RateKey,
    scope_down: Option<Statement>,
}

#[derive(Debug, Clone)]
enum Check {
    Statement(Statement),
    Rate(Rate),
    Group(Group),
}

/// A rule group referenced by a web ACL rule, compiled with the reference's overrides.
#[derive(Debug, Clone)]
struct Group {
    rules: Vec<Rule>,
    namespace: String,
    /// `OverrideAction: Count`: the group's Allow and Block only label.
    count_only: bool,
    /// A managed rule group's `ScopeDownStatement`: the group runs only for the requests
    /// it matches.
    scope_down: Option<Statement>,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    /// What rate-based rules count under: the rule's name, `{group}/{rule}` in a rule group.
    counter: String,
    action: Action,
    check: Check,
    labels: Vec<String>,
}

/// A web ACL ready to evaluate requests.
#[derive(Debug, Clone)]
pub struct CompiledAcl {
    /// The ACL's ARN.
    pub arn: String,
    default: Option<Block>,
    /// The headers an Allow default action inserts.
    default_inserted: Inserted,
    rules: Vec<Rule>,
    namespace: String,
    /// Whether a rule inspects the body (the gateway then reads it first).
    pub inspects_body: bool,
    /// The WCUs of the rules (AWS's `Capacity`).
    pub capacity: u64,
}

struct Compiler<'a> {
    sets: Sets<'a>,
    bodies: Option<&'a Map<String, Value>>,
    inspects_body: bool,
    capacity: u64,
    /// Compiling a rule group's rules, which cannot reference rule groups.
    in_rule_group: bool,
}

fn object<'v>(value: &'v Value, path: &str) -> Result<&'v Map<String, Value>, WafError> {
    value
        .as_object()
        .ok_or_else(|| WafError::validation(path, None, "Member must be a structure"))
}

fn member<'v>(map: &'v Map<String, Value>, name: &str, path: &str) -> Result<&'v Value, WafError> {
    map.get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| WafError::required(&format!("{path}.{}", lower_first(name))))
}

fn string<'v>(map: &'v Map<String, Value>, name: &str, path: &str) -> Result<&'v str, WafError> {
    member(map, name, path)?.as_str().ok_or_else(|| {
        WafError::validation(
            &format!("{path}.{}", lower_first(name)),
            None,
            "Member must be a string",
        )
    })
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `OversizeHandling` (required for headers and cookies, CONTINUE by default elsewhere).
fn oversize(inner: &Map<String, Value>, path: &str, required: bool) -> Result<Oversize, WafError> {
    match inner.get("OversizeHandling").and_then(Value::as_str) {
        None if required => Err(WafError::required(&format!("{path}.oversizeHandling"))),
        None | Some("CONTINUE") => Ok(Oversize::Continue),
        Some("MATCH") => Ok(Oversize::Match),
        Some("NO_MATCH") => Ok(Oversize::NoMatch),
        Some(other) => Err(WafError::validation(
            &format!("{path}.oversizeHandling"),
            Some(other),
            "Member must satisfy enum value set: [CONTINUE, MATCH, NO_MATCH]",
        )),
    }
}

/// `MatchScope`: ALL, KEY or VALUE.
fn scope(inner: &Map<String, Value>, path: &str) -> Result<Scope, WafError> {
    match string(inner, "MatchScope", path)? {
        "ALL" => Ok(Scope::All),
        "KEY" => Ok(Scope::Key),
        "VALUE" => Ok(Scope::Value),
        other => Err(WafError::validation(
            &format!("{path}.matchScope"),
            Some(other),
            "Member must satisfy enum value set: [ALL, KEY, VALUE]",
        )),
    }
}

/// A headers or cookies `MatchPattern`: `All`, or the names included or excluded.
fn names(pattern: &Value, (included, excluded): (&str, &str)) -> Result<Names, WafError> {
    let (kind, inner) = union(pattern, "matchPattern")?;
    let list = |name: &str| -> Result<Vec<String>, WafError> {
        let items = inner
            .as_array()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| WafError::required(&format!("matchPattern.{}", lower_first(name))))?;
        Ok(items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect())
    };
    match kind {
        "All" => Ok(Names::All),
        k if k == included => Ok(Names::Included(list(included)?)),
        k if k == excluded => Ok(Names::Excluded(list(excluded)?)),
        other => Err(WafError::unsupported(&format!("MatchPattern {other}"))),
    }
}

/// The one member of a union (`{"Block": {}}`), or AWS's error for none or several.
fn union<'v>(value: &'v Value, path: &str) -> Result<(&'v str, &'v Value), WafError> {
    let map = object(value, path)?;
    let mut set = map.iter().filter(|(_, v)| !v.is_null());
    match (set.next(), set.next()) {
        (Some((name, inner)), None) => Ok((name.as_str(), inner)),
        (None, _) => Err(WafError::required(path)),
        (Some(_), Some(_)) => Err(WafError::invalid(
            "RULE",
            "Rule",
            "Your statement has multiple values set for a field that requires exactly one value.",
        )),
    }
}

impl Compiler<'_> {
    fn block(&self, value: &Value) -> Result<Block, WafError> {
        let Some(custom) = value.get("CustomResponse").filter(|v| !v.is_null()) else {
            return Ok(Block { custom: None });
        };
        let custom = object(custom, "customResponse")?;
        let status = member(custom, "ResponseCode", "customResponse")?
            .as_u64()
            .filter(|s| (200..=599).contains(s))
            .ok_or_else(|| {
                WafError::invalid(
                    "CUSTOM_RESPONSE",
                    "ResponseCode",
                    "The response code must be a number from 200 to 599.",
                )
            })?;
        let mut headers = Vec::new();
        for header in custom
            .get("ResponseHeaders")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let header = object(header, "responseHeaders")?;
            let name = string(header, "Name", "responseHeaders")?;
            let value = string(header, "Value", "responseHeaders")?;
            if name.eq_ignore_ascii_case("content-type") {
                return Err(WafError::invalid(
                    "CUSTOM_RESPONSE",
                    name,
                    "A custom response cannot set Content-Type; the body's ContentType does.",
                ));
            }
            headers.push((name.to_owned(), value.to_owned()));
        }
        let body = match custom.get("CustomResponseBodyKey").and_then(Value::as_str) {
            None => None,
            Some(key) => {
                let body = self
                    .bodies
                    .and_then(|b| b.get(key))
                    .and_then(Value::as_object)
                    .ok_or_else(|| {
                        WafError::invalid(
                            "CUSTOM_RESPONSE_BODY",
                            key,
                            "A custom response names a body that CustomResponseBodies does not have.",
                        )
                    })?;
                let content_type = match body.get("ContentType").and_then(Value::as_str) {
                    Some("TEXT_PLAIN") => "text/plain",
                    Some("TEXT_HTML") => "text/html",
                    Some("APPLICATION_JSON") => "application/json",
                    _ => {
                        return Err(WafError::validation(
                            "customResponseBodies.contentType",
                            None,
                            "Member must satisfy enum value set: [TEXT_PLAIN, TEXT_HTML, APPLICATION_JSON]",
                        ));
                    }
                };
                let content = body.get("Content").and_then(Value::as_str).unwrap_or("");
                Some((content_type.to_owned(), content.to_owned()))
            }
        };
        Ok(Block {
            custom: Some(CustomResponse {
                status: u16::try_from(status).unwrap_or(403),
                headers,
                body,
            }),
        })
    }

    fn field(&mut self, value: &Value) -> Result<Field, WafError> {
        let (name, inner) = union(value, "fieldToMatch")?;
        Ok(match name {
            "UriPath" => Field::UriPath,
            "QueryString" => Field::QueryString,
            "Method" => Field::Method,
            "AllQueryArguments" => {
                self.capacity += 10;
                Field::AllQueryArguments
            }
            "SingleHeader" => Field::Header(
                string(object(inner, "singleHeader")?, "Name", "singleHeader")?
                    .to_ascii_lowercase(),
            ),
            "SingleQueryArgument" => Field::QueryArgument(
                string(
                    object(inner, "singleQueryArgument")?,
                    "Name",
                    "singleQueryArgument",
                )?
                .to_ascii_lowercase(),
            ),
            "Body" => {
                self.inspects_body = true;
                Field::Body(oversize(object(inner, "body")?, "body", false)?)
            }
            "Headers" => {
                let inner = object(inner, "headers")?;
                oversize(inner, "headers", true)?;
                Field::Headers {
                    pattern: names(
                        member(inner, "MatchPattern", "headers")?,
                        ("IncludedHeaders", "ExcludedHeaders"),
                    )?,
                    scope: scope(inner, "headers")?,
                }
            }
            "HeaderOrder" => {
                oversize(object(inner, "headerOrder")?, "headerOrder", true)?;
                Field::HeaderOrder
            }
            "UriFragment" => {
                let fallback_match = match object(inner, "uriFragment")?
                    .get("FallbackBehavior")
                    .and_then(Value::as_str)
                {
                    None | Some("NO_MATCH") => false,
                    Some("MATCH") => true,
                    Some(other) => {
                        return Err(WafError::validation(
                            "uriFragment.fallbackBehavior",
                            Some(other),
                            "Member must satisfy enum value set: [MATCH, NO_MATCH]",
                        ));
                    }
                };
                Field::UriFragment { fallback_match }
            }
            "Cookies" => {
                let inner = object(inner, "cookies")?;
                oversize(inner, "cookies", true)?;
                Field::Cookies {
                    pattern: names(
                        member(inner, "MatchPattern", "cookies")?,
                        ("IncludedCookies", "ExcludedCookies"),
                    )?,
                    scope: scope(inner, "cookies")?,
                }
            }
            "JsonBody" => {
                self.inspects_body = true;
                let inner = object(inner, "jsonBody")?;
                let pattern = object(
                    member(inner, "MatchPattern", "jsonBody")?,
                    "jsonBody.matchPattern",
                )?;
                let paths = match (pattern.get("All"), pattern.get("IncludedPaths")) {
                    (Some(_), None) => None,
                    (None, Some(paths)) => {
                        let paths =
                            paths.as_array().filter(|p| !p.is_empty()).ok_or_else(|| {
                                WafError::required("jsonBody.matchPattern.includedPaths")
                            })?;
                        let mut out = Vec::with_capacity(paths.len());
                        for path in paths {
                            match path.as_str() {
                                Some(p) if p.is_empty() || p.starts_with('/') => {
                                    out.push(p.to_owned())
                                }
                                _ => {
                                    return Err(WafError::invalid(
                                        "JSON_POINTER",
                                        path.as_str().unwrap_or_default(),
                                        "A JSON pointer must be empty or start with /.",
                                    ));
                                }
                            }
                        }
                        Some(out)
                    }
                    _ => {
                        return Err(WafError::invalid(
                            "JSON_MATCH_PATTERN",
                            "MatchPattern",
                            "Your statement has multiple values set for a field that requires exactly one value.",
                        ));
                    }
                };
                let invalid = match inner.get("InvalidFallbackBehavior").and_then(Value::as_str) {
                    None => InvalidJson::Unset,
                    Some("MATCH") => InvalidJson::Match,
                    Some("NO_MATCH") => InvalidJson::NoMatch,
                    Some("EVALUATE_AS_STRING") => InvalidJson::AsString,
                    Some(other) => {
                        return Err(WafError::validation(
                            "jsonBody.invalidFallbackBehavior",
                            Some(other),
                            "Member must satisfy enum value set: [MATCH, NO_MATCH, EVALUATE_AS_STRING]",
                        ));
                    }
                };
                Field::JsonBody {
                    paths,
                    scope: scope(inner, "jsonBody")?,
                    invalid,
                    oversize: oversize(inner, "jsonBody", false)?,
                }
            }
            other => return Err(WafError::unsupported(&format!("FieldToMatch {other}"))),
        })
    }

    /// A statement's request component and text transformations, with their WCUs: the
    /// statement's base cost (doubled when it inspects the JSON body, as AWS counts), and the
    /// component's and each transformation's own.
    fn component(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        base: u64,
    ) -> Result<(Field, Vec<Transform>), WafError> {
        let field = self.field(member(map, "FieldToMatch", path)?)?;
        self.capacity += match field {
            Field::JsonBody { .. } => 2 * base,
            _ => base,
        };
        Ok((field, self.transforms(map.get("TextTransformations"))?))
    }

    fn transforms(&mut self, value: Option<&Value>) -> Result<Vec<Transform>, WafError> {
        let Some(list) = value.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
            return Err(WafError::required("textTransformations"));
        };
        let mut ordered = Vec::new();
        for item in list {
            let item = object(item, "textTransformations")?;
            let priority = member(item, "Priority", "textTransformations")?
                .as_u64()
                .ok_or_else(|| WafError::required("textTransformations.priority"))?;
            let kind = match string(item, "Type", "textTransformations")? {
                "NONE" => Transform::None,
                "LOWERCASE" => Transform::Lowercase,
                "URL_DECODE" | "URL_DECODE_UNI" => Transform::UrlDecode,
                "COMPRESS_WHITE_SPACE" => Transform::CompressWhiteSpace,
                "HTML_ENTITY_DECODE" => Transform::HtmlEntityDecode,
                "BASE64_DECODE" | "BASE64_DECODE_EXT" => Transform::Base64Decode,
                "HEX_DECODE" => Transform::HexDecode,
                "NORMALIZE_PATH" => Transform::NormalizePath,
                "REMOVE_NULLS" => Transform::RemoveNulls,
                "REPLACE_NULLS" => Transform::ReplaceNulls,
                other => {
                    return Err(WafError::unsupported(&format!(
                        "TextTransformation {other}"
                    )));
                }
            };
            if ordered.iter().any(|(p, _)| *p == priority) {
                return Err(WafError::invalid(
                    "TEXT_TRANSFORMATION",
                    "Priority",
                    "Text transformations of one statement need distinct priorities.",
                ));
            }
            if kind != Transform::None {
                self.capacity += 10;
            }
            ordered.push((priority, kind));
        }
        ordered.sort_by_key(|(p, _)| *p);
        Ok(ordered.into_iter().map(|(_, t)| t).collect())
    }

    fn forwarded(value: &Value, with_position: bool) -> Result<Forwarded, WafError> {
        let map = object(value, "forwardedIPConfig")?;
        let header = string(map, "HeaderName", "forwardedIPConfig")?.to_ascii_lowercase();
        let fallback_match = match string(map, "FallbackBehavior", "forwardedIPConfig")? {
            "MATCH" => true,
            "NO_MATCH" => false,
            other => {
                return Err(WafError::validation(
                    "forwardedIPConfig.fallbackBehavior",
                    Some(other),
                    "Member must satisfy enum value set: [MATCH, NO_MATCH]",
                ));
            }
        };
        let position = if with_position {
            match string(map, "Position", "iPSetForwardedIPConfig")? {
                "FIRST" => ForwardedPosition::First,
                "LAST" => ForwardedPosition::Last,
                "ANY" => ForwardedPosition::Any,
                other => {
                    return Err(WafError::validation(
                        "iPSetForwardedIPConfig.position",
                        Some(other),
                        "Member must satisfy enum value set: [FIRST, LAST, ANY]",
                    ));
                }
            }
        } else {
            ForwardedPosition::First
        };
        Ok(Forwarded {
            header,
            fallback_match,
            position,
        })
    }

    fn statement(&mut self, value: &Value, top: bool) -> Result<Check, WafError> {
        let (kind, inner) = union(value, "statement")?;
        let map = object(inner, "statement")?;
        let statement = match kind {
            "IPSetReferenceStatement" => {
                self.capacity += 1;
                let arn = string(map, "ARN", "iPSetReferenceStatement")?;
                let set = self
                    .sets
                    .ip
                    .iter()
                    .find(|s| s.arn == arn)
                    .ok_or_else(WafError::bad_reference)?;
                let nets = check_addresses(&set.ip_address_version, &set.addresses)?;
                let forwarded = match map.get("IPSetForwardedIPConfig").filter(|v| !v.is_null()) {
                    Some(config) => Some(Self::forwarded(config, true)?),
                    None => None,
                };
                Statement::IpSet { nets, forwarded }
            }
            "ByteMatchStatement" => {
                let position = match string(map, "PositionalConstraint", "byteMatchStatement")? {
                    "EXACTLY" => Position::Exactly,
                    "STARTS_WITH" => Position::StartsWith,
                    "ENDS_WITH" => Position::EndsWith,
                    "CONTAINS" => Position::Contains,
                    "CONTAINS_WORD" => Position::ContainsWord,
                    other => {
                        return Err(WafError::validation(
                            "byteMatchStatement.positionalConstraint",
                            Some(other),
                            "Member must satisfy enum value set: [EXACTLY, STARTS_WITH, ENDS_WITH, CONTAINS, CONTAINS_WORD]",
                        ));
                    }
                };
                let base = match position {
                    Position::Contains | Position::ContainsWord => 10,
                    _ => 2,
                };
                let encoded = string(map, "SearchString", "byteMatchStatement")?;
                let needle = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|_| {
                        WafError::validation(
                            "byteMatchStatement.searchString",
                            Some(encoded),
                            "Member must be base64-encoded binary data",
                        )
                    })?;
                if needle.is_empty() || needle.len() > 200 {
                    return Err(WafError::validation(
                        "byteMatchStatement.searchString",
                        Some(encoded),
                        "Member must have length between 1 and 200",
                    ));
                }
                let (field, transforms) = self.component(map, "byteMatchStatement", base)?;
                Statement::Bytes {
                    field,
                    transforms,
                    position,
                    needle,
                }
            }
            "RegexMatchStatement" => {
                let pattern = string(map, "RegexString", "regexMatchStatement")?;
                let regex = regex::bytes::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|_| {
                        WafError::invalid(
                            "RULE",
                            "RegexString",
                            "The regular expression is not valid.",
                        )
                    })?;
                let (field, transforms) = self.component(map, "regexMatchStatement", 3)?;
                Statement::Regex {
                    field,
                    transforms,
                    regex,
                }
            }
            "RegexPatternSetReferenceStatement" => {
                let arn = string(map, "ARN", "regexPatternSetReferenceStatement")?;
                let set = self
                    .sets
                    .regex
                    .iter()
                    .find(|s| s.arn == arn)
                    .ok_or_else(WafError::bad_reference)?;
                let set = compile_regexes(&set.regular_expressions)?;
                let (field, transforms) =
                    self.component(map, "regexPatternSetReferenceStatement", 25)?;
                Statement::RegexSet {
                    set,
                    field,
                    transforms,
                }
            }
            "RuleGroupReferenceStatement" => {
                if !top || self.in_rule_group {
                    return Err(WafError::misplaced_group_reference());
                }
                let arn = string(map, "ARN", "ruleGroupReferenceStatement")?;
                let group = self
                    .sets
                    .rule_groups
                    .iter()
                    .find(|g| g.arn == arn)
                    .ok_or_else(WafError::bad_reference)?;
                let account = arn.split(':').nth(4).unwrap_or_default();
                let namespace = rule_group_namespace(account, &group.name);
                let bodies = group
                    .custom_response_bodies
                    .as_ref()
                    .and_then(Value::as_object);
                let compiled = self.group(
                    map,
                    "ruleGroupReferenceStatement",
                    (&group.rules, bodies),
                    (namespace, &group.name),
                )?;
                // A reference costs what the group declares, not what its rules use.
                self.capacity += group.capacity;
                return Ok(Check::Group(compiled));
            }
            "ManagedRuleGroupStatement" => {
                if !top || self.in_rule_group {
                    return Err(WafError::misplaced_group_reference());
                }
                let vendor = string(map, "VendorName", "managedRuleGroupStatement")?;
                let name = string(map, "Name", "managedRuleGroupStatement")?;
                let managed = managed::find(vendor, name)?;
                // Every version of a group is the same rules here.
                if map
                    .get("Version")
                    .and_then(Value::as_str)
                    .is_some_and(|version| !version.starts_with("Version_"))
                {
                    return Err(WafError::nonexistent());
                }
                if map
                    .get("ManagedRuleGroupConfigs")
                    .is_some_and(|v| !v.is_null())
                {
                    return Err(WafError::unsupported("ManagedRuleGroupConfigs"));
                }
                let scope_down = match map.get("ScopeDownStatement").filter(|v| !v.is_null()) {
                    Some(statement) => Some(self.nested(statement)?),
                    None => None,
                };
                let rules = (managed.rules)();
                let mut compiled = self.group(
                    map,
                    "managedRuleGroupStatement",
                    (&rules, None),
                    (managed.namespace.to_owned(), managed.name),
                )?;
                compiled.scope_down = scope_down;
                self.capacity += managed.capacity;
                return Ok(Check::Group(compiled));
            }
            "SizeConstraintStatement" => {
                let compare = match string(map, "ComparisonOperator", "sizeConstraintStatement")? {
                    "EQ" => Compare::Eq,
                    "NE" => Compare::Ne,
                    "LE" => Compare::Le,
                    "LT" => Compare::Lt,
                    "GE" => Compare::Ge,
                    "GT" => Compare::Gt,
                    other => {
                        return Err(WafError::validation(
                            "sizeConstraintStatement.comparisonOperator",
                            Some(other),
                            "Member must satisfy enum value set: [EQ, NE, LE, LT, GE, GT]",
                        ));
                    }
                };
                let size = member(map, "Size", "sizeConstraintStatement")?
                    .as_u64()
                    .ok_or_else(|| WafError::required("sizeConstraintStatement.size"))?;
                let (field, transforms) = self.component(map, "sizeConstraintStatement", 1)?;
                Statement::Size {
                    field,
                    transforms,
                    compare,
                    size,
                }
            }
            "SqliMatchStatement" => {
                let high = match map.get("SensitivityLevel").filter(|v| !v.is_null()) {
                    None => false,
                    Some(level) => match level.as_str() {
                        Some("LOW") => false,
                        Some("HIGH") => true,
                        other => {
                            return Err(WafError::validation(
                                "sqliMatchStatement.sensitivityLevel",
                                Some(other.unwrap_or_default()),
                                "Member must satisfy enum value set: [LOW, HIGH]",
                            ));
                        }
                    },
                };
                let base = if high { 30 } else { 20 };
                let (field, transforms) = self.component(map, "sqliMatchStatement", base)?;
                Statement::Sqli {
                    field,
                    transforms,
                    high,
                }
            }
            "XssMatchStatement" => {
                let (field, transforms) = self.component(map, "xssMatchStatement", 40)?;
                Statement::Xss { field, transforms }
            }
            "LabelMatchStatement" => {
                self.capacity += 1;
                let namespace = match string(map, "Scope", "labelMatchStatement")? {
                    "LABEL" => false,
                    "NAMESPACE" => true,
                    other => {
                        return Err(WafError::validation(
                            "labelMatchStatement.scope",
                            Some(other),
                            "Member must satisfy enum value set: [LABEL, NAMESPACE]",
                        ));
                    }
                };
                Statement::Label {
                    namespace,
                    key: string(map, "Key", "labelMatchStatement")?.to_owned(),
                }
            }
            "AndStatement" | "OrStatement" => {
                let list = member(map, "Statements", "statement")?
                    .as_array()
                    .filter(|l| l.len() >= 2)
                    .ok_or_else(|| {
                        let field = if kind == "AndStatement" {
                            "AND_STATEMENT"
                        } else {
                            "OR_STATEMENT"
                        };
                        WafError::invalid(
                            field,
                            kind,
                            "You haven't met a minimum requirement for a threshold setting. Examples include a rule group capacity setting that's too low and an OR statement with only one nested statement.",
                        )
                    })?;
                let mut nested = Vec::new();
                for item in list {
                    nested.push(self.nested(item)?);
                }
                if kind == "AndStatement" {
                    Statement::And(nested)
                } else {
                    Statement::Or(nested)
                }
            }
            "NotStatement" => Statement::Not(Box::new(self.nested(member(
                map,
                "Statement",
                "notStatement",
            )?)?)),
            "RateBasedStatement" => {
                if !top {
                    return Err(WafError::invalid(
                        "RATE_BASED_STATEMENT",
                        "RateBasedStatement",
                        "A rate-based statement cannot be nested inside another statement.",
                    ));
                }
                self.capacity += 2;
                let limit = member(map, "Limit", "rateBasedStatement")?
                    .as_u64()
                    .filter(|l| (10..=2_000_000_000).contains(l))
                    .ok_or_else(|| {
                        WafError::validation(
                            "rateBasedStatement.limit",
                            None,
                            "Member must have value between 10 and 2000000000",
                        )
                    })?;
                let window_seconds = match map.get("EvaluationWindowSec").and_then(Value::as_u64) {
                    None => 300,
                    Some(w @ (60 | 120 | 300 | 600)) => w,
                    Some(other) => {
                        return Err(WafError::invalid(
                            "RATE_BASED_STATEMENT",
                            &other.to_string(),
                            "EvaluationWindowSec must be 60, 120, 300 or 600.",
                        ));
                    }
                };
                let scope_down = match map.get("ScopeDownStatement").filter(|v| !v.is_null()) {
                    Some(statement) => Some(self.nested(statement)?),
                    None => None,
                };
                let key = match string(map, "AggregateKeyType", "rateBasedStatement")? {
                    "IP" => RateKey::Ip,
                    "FORWARDED_IP" => RateKey::Forwarded(Self::forwarded(
                        member(map, "ForwardedIPConfig", "rateBasedStatement")?,
                        false,
                    )?),
                    "CUSTOM_KEYS" => RateKey::Custom(self.custom_keys(map)?),
                    "CONSTANT" if scope_down.is_some() => RateKey::Constant,
                    "CONSTANT" => {
                        return Err(WafError::invalid(
                            "RATE_BASED_STATEMENT",
                            "ScopeDownStatement",
                            "A rate-based statement with the CONSTANT aggregate key needs a ScopeDownStatement.",
                        ));
                    }
                    other => {
                        return Err(WafError::unsupported(&format!("AggregateKeyType {other}")));
                    }
                };
                return Ok(Check::Rate(Rate {
                    limit,
                    window_seconds,
                    key,
                    scope_down,
                }));
            }
            other => return Err(WafError::unsupported(other)),
        };
        Ok(Check::Statement(statement))
    }

    /// The `CustomKeys` of a rate-based statement: one to five, each a union.
    fn custom_keys(&mut self, map: &Map<String, Value>) -> Result<Vec<CustomKey>, WafError> {
        let list = member(map, "CustomKeys", "rateBasedStatement")?
            .as_array()
            .filter(|l| (1..=5).contains(&l.len()))
            .ok_or_else(|| {
                WafError::validation(
                    "rateBasedStatement.customKeys",
                    None,
                    "Member must have length between 1 and 5",
                )
            })?;
        let mut keys = Vec::with_capacity(list.len());
        for item in list {
            let (kind, inner) = union(item, "customKeys")?;
            let named =
                |this: &mut Self, path: &str| -> Result<(String, Vec<Transform>), WafError> {
                    let inner = object(inner, path)?;
                    let name = string(inner, "Name", path)?.to_owned();
                    let transforms = this.transforms(inner.get("TextTransformations"))?;
                    Ok((name, transforms))
                };
            let transformed = |this: &mut Self, path: &str| -> Result<Vec<Transform>, WafError> {
                this.transforms(object(inner, path)?.get("TextTransformations"))
            };
            keys.push(match kind {
                "Header" => {
                    let (name, transforms) = named(self, "header")?;
                    CustomKey::Header(name.to_ascii_lowercase(), transforms)
                }
                "Cookie" => {
                    let (name, transforms) = named(self, "cookie")?;
                    CustomKey::Cookie(name, transforms)
                }
                "QueryArgument" => {
                    let (name, transforms) = named(self, "queryArgument")?;
                    CustomKey::QueryArgument(name.to_ascii_lowercase(), transforms)
                }
                "QueryString" => CustomKey::QueryString(transformed(self, "queryString")?),
                "UriPath" => CustomKey::UriPath(transformed(self, "uriPath")?),
                "HTTPMethod" => CustomKey::HttpMethod,
                "IP" => CustomKey::Ip,
                "ForwardedIP" => CustomKey::ForwardedIp(Self::forwarded(
                    member(map, "ForwardedIPConfig", "rateBasedStatement")?,
                    false,
                )?),
                "LabelNamespace" => {
                    let namespace = string(
                        object(inner, "labelNamespace")?,
                        "Namespace",
                        "labelNamespace",
                    )?;
                    if !namespace.ends_with(':') {
                        return Err(WafError::invalid(
                            "LABEL_NAMESPACE",
                            namespace,
                            "A label namespace must end with a colon.",
                        ));
                    }
                    CustomKey::LabelNamespace(namespace.to_owned())
                }
                other => return Err(WafError::unsupported(&format!("CustomKeys {other}"))),
            });
        }
        Ok(keys)
    }

    fn nested(&mut self, value: &Value) -> Result<Statement, WafError> {
        match self.statement(value, false)? {
            Check::Statement(statement) => Ok(statement),
            Check::Group(_) => Err(WafError::misplaced_group_reference()),
            Check::Rate(_) => Err(WafError::invalid(
                "RATE_BASED_STATEMENT",
                "RateBasedStatement",
                "A rate-based statement cannot be nested inside another statement.",
            )),
        }
    }

    /// A rule's `Action` (Allow, Block, Count).
    fn action(&self, value: &Value) -> Result<Action, WafError> {
        let (action, inner) = union(value, "rules.member.action")?;
        Ok(match action {
            "Allow" => Action::Allow(inserted(inner)?),
            "Block" => {
                if inner
                    .get("CustomRequestHandling")
                    .is_some_and(|v| !v.is_null())
                {
                    return Err(WafError::invalid(
                        "RULE_ACTION",
                        "CustomRequestHandling",
                        "A Block action cannot insert request headers; use CustomResponse.",
                    ));
                }
                Action::Block(self.block(inner)?)
            }
            "Count" => Action::Count(inserted(inner)?),
            other => return Err(WafError::unsupported(&format!("rule action {other}"))),
        })
    }

    /// A list of rules in priority order, with distinct names and priorities. `group` is
    /// the rule group's name when they are its rules ("" for a web ACL's).
    /// A rule group's rules, compiled in `namespace` with the reference's `ExcludedRules`
    /// (counted instead) and `RuleActionOverrides` applied: for a RuleGroupReference or
    /// ManagedRuleGroup statement, `map`.
    fn group(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        (rules, bodies): (&[Value], Option<&Map<String, Value>>),
        (namespace, name): (String, &str),
    ) -> Result<Group, WafError> {
        let mut inner = Compiler {
            sets: self.sets,
            bodies,
            inspects_body: false,
            capacity: 0,
            in_rule_group: true,
        };
        let mut rules = inner.rules(rules, &namespace, name)?;
        self.inspects_body |= inner.inspects_body;
        let names = |member_name: &str| -> Result<Vec<(String, Option<&Value>)>, WafError> {
            let mut names = Vec::new();
            for item in map
                .get(member_name)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let item = object(item, path)?;
                names.push((
                    string(item, "Name", path)?.to_owned(),
                    item.get("ActionToUse"),
                ));
            }
            Ok(names)
        };
        // Excluded rules count instead of acting (the older form of overrides).
        for (name, _) in names("ExcludedRules")? {
            if let Some(rule) = rules.iter_mut().find(|r| r.name == name) {
                rule.action = Action::Count(Vec::new());
            }
        }
        for (name, action) in names("RuleActionOverrides")? {
            let action = action
                .ok_or_else(|| WafError::required("ruleActionOverrides.member.actionToUse"))?;
            let action = self.action(action)?;
            if let Some(rule) = rules.iter_mut().find(|r| r.name == name) {
                rule.action = action;
            }
        }
        Ok(Group {
            rules,
            namespace,
            count_only: false,
            scope_down: None,
        })
    }

    fn rules(
        &mut self,
        rules: &[Value],
        namespace: &str,
        group: &str,
    ) -> Result<Vec<Rule>, WafError> {
        if rules.len() > MAX_RULES {
            return Err(WafError::new(
                "WAFLimitsExceededException",
                format!(
                    "AWS WAF couldn’t perform the operation because you exceeded your resource limit: a web ACL or rule group holds at most {MAX_RULES} rules here."
                ),
            ));
        }
        let mut ordered: Vec<(u64, Rule)> = Vec::with_capacity(rules.len());
        for value in rules {
            let (priority, mut rule) = self.rule(value, namespace)?;
            if ordered
                .iter()
                .any(|(p, r)| *p == priority || r.name == rule.name)
            {
                return Err(WafError::invalid(
                    "RULE",
                    &rule.name,
                    "Rules of a web ACL or rule group need distinct names and priorities.",
                ));
            }
            if !group.is_empty() {
                rule.counter = format!("{group}/{}", rule.name);
            }
            ordered.push((priority, rule));
        }
        ordered.sort_by_key(|(p, _)| *p);
        Ok(ordered.into_iter().map(|(_, r)| r).collect())
    }

    fn rule(&mut self, value: &Value, namespace: &str) -> Result<(u64, Rule), WafError> {
        let map = object(value, "rules.member")?;
        let name = string(map, "Name", "rules.member")?;
        check_name(name, "rules.member.name")?;
        let priority = member(map, "Priority", "rules.member")?
            .as_u64()
            .ok_or_else(|| WafError::required("rules.member.priority"))?;
        object(
            member(map, "VisibilityConfig", "rules.member")?,
            "rules.member.visibilityConfig",
        )?;
        let mut check = self.statement(member(map, "Statement", "rules.member")?, true)?;
        let override_action = map.get("OverrideAction").filter(|v| !v.is_null());
        let action = match &mut check {
            // A rule group reference takes `OverrideAction` (None, or Count), not `Action`.
            Check::Group(group) => {
                if map.get("Action").is_some_and(|v| !v.is_null()) {
                    return Err(WafError::invalid(
                        "RULE",
                        "Action",
                        "A rule group reference statement takes OverrideAction, not Action.",
                    ));
                }
                let override_action = override_action.ok_or_else(|| {
                    WafError::invalid(
                        "RULE",
                        "OverrideAction",
                        "A rule group reference statement needs an OverrideAction.",
                    )
                })?;
                match union(override_action, "rules.member.overrideAction")? {
                    ("None", _) => {}
                    ("Count", _) => group.count_only = true,
                    (other, _) => {
                        return Err(WafError::invalid(
                            "RULE",
                            other,
                            "OverrideAction must be None or Count.",
                        ));
                    }
                }
                Action::Count(Vec::new())
            }
            _ => {
                if override_action.is_some() {
                    return Err(WafError::invalid(
                        "RULE",
                        "OverrideAction",
                        "OverrideAction is for rule group statements; use Action.",
                    ));
                }
                self.action(member(map, "Action", "rules.member")?)?
            }
        };
        if matches!(check, Check::Rate(_)) && matches!(action, Action::Allow(_)) {
            return Err(WafError::invalid(
                "RULE_ACTION",
                "Allow",
                "A rate-based rule's action cannot be Allow.",
            ));
        }
        let mut labels = Vec::new();
        for label in map
            .get("RuleLabels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let label = string(object(label, "ruleLabels")?, "Name", "ruleLabels")?;
            labels.push(format!("{namespace}{label}"));
        }
        Ok((
            priority,
            Rule {
                name: name.to_owned(),
                counter: name.to_owned(),
                action,
                check,
                labels,
            },
        ))
    }
}

/// The headers an Allow or Count action (or an Allow default action) inserts
/// (`CustomRequestHandling.InsertHeaders`): names of 1 to 64 of `A-Za-z0-9._$-`, prefixed
/// with `x-amzn-waf-`; values of 1 to 255 characters; no name twice.
fn inserted(action: &Value) -> Result<Inserted, WafError> {
    let Some(handling) = action.get("CustomRequestHandling").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let handling = object(handling, "customRequestHandling")?;
    let headers = member(handling, "InsertHeaders", "customRequestHandling")?
        .as_array()
        .filter(|headers| !headers.is_empty())
        .ok_or_else(|| {
            WafError::invalid(
                "CUSTOM_REQUEST_HANDLING",
                "InsertHeaders",
                "InsertHeaders needs at least one header.",
            )
        })?;
    let mut inserted: Inserted = Vec::with_capacity(headers.len());
    for header in headers {
        let header = object(header, "insertHeaders")?;
        let name = string(header, "Name", "insertHeaders")?;
        let value = string(header, "Value", "insertHeaders")?;
        let name_ok = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$' | b'-'));
        if !name_ok {
            return Err(WafError::invalid(
                "CUSTOM_REQUEST_HANDLING",
                name,
                "A header name has 1 to 64 characters of A-Z, a-z, 0-9 and ._$-.",
            ));
        }
        let value_ok = (1..=255).contains(&value.chars().count())
            && value.chars().all(|c| c == '\t' || (' '..='~').contains(&c));
        if !value_ok {
            return Err(WafError::invalid(
                "CUSTOM_REQUEST_HANDLING",
                value,
                "A header value has 1 to 255 printable characters.",
            ));
        }
        let prefixed = format!("x-amzn-waf-{name}");
        if inserted
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(&prefixed))
        {
            return Err(WafError::invalid(
                "CUSTOM_REQUEST_HANDLING",
                name,
                "Duplicate header names are not allowed.",
            ));
        }
        inserted.push((prefixed, value.to_owned()));
    }
    Ok(inserted)
}

impl CompiledAcl {
    /// Compiles a web ACL's default action and rules, or says what is wrong with them.
    pub fn compile(
        (arn, name, account_id): (&str, &str, &str),
        default_action: &Value,
        rules: &[Value],
        custom_response_bodies: Option<&Value>,
        sets: Sets<'_>,
    ) -> Result<CompiledAcl, WafError> {
        let mut compiler = Compiler {
            sets,
            bodies: custom_response_bodies.and_then(Value::as_object),
            inspects_body: false,
            capacity: 0,
            in_rule_group: false,
        };
        let (default, default_inserted) = match union(default_action, "defaultAction")? {
            ("Allow", inner) => (None, inserted(inner)?),
            ("Block", inner) => (Some(compiler.block(inner)?), Vec::new()),
            (other, _) => {
                return Err(WafError::invalid(
                    "DEFAULT_ACTION",
                    other,
                    "A web ACL's default action must be Allow or Block.",
                ));
            }
        };
        let namespace = format!("awswaf:{account_id}:webacl:{name}:");
        let rules = compiler.rules(rules, &namespace, "")?;
        Ok(CompiledAcl {
            arn: arn.to_owned(),
            default,
            default_inserted,
            rules,
            namespace,
            inspects_body: compiler.inspects_body,
            capacity: compiler.capacity,
        })
    }

    /// Evaluates the rules in priority order: the first Allow or Block decides; Count rules
    /// add their labels and go on; the default action decides when no rule did. `rate`
    /// counts a request for a rate-based rule and says whether its key is over the limit.
    pub fn evaluate(
        &self,
        request: &Request<'_>,
        rate: &mut dyn FnMut(RateProbe<'_>) -> bool,
    ) -> Verdict<'_> {
        let mut labels: Vec<&str> = Vec::new();
        let mut inserted: Vec<&(String, String)> = Vec::new();
        let verdict = run_rules(
            &self.rules,
            &self.namespace,
            request,
            (&mut labels, &mut inserted),
            rate,
        );
        let own = match verdict {
            Some(Verdict::Allow(own)) => own,
            Some(block) => return block,
            None => match &self.default {
                None => self.default_inserted.iter().collect(),
                Some(block) => return Verdict::Block(block, None),
            },
        };
        inserted.extend(own);
        // Of two headers with one name, the later one (AWS overwrites).
        let mut kept: Vec<&(String, String)> = Vec::with_capacity(inserted.len());
        for header in inserted.into_iter().rev() {
            if !kept.iter().any(|k| k.0.eq_ignore_ascii_case(&header.0)) {
                kept.push(header);
            }
        }
        kept.reverse();
        Verdict::Allow(kept)
    }
}

/// Runs rules in order (a web ACL's, or a rule group's within it): the first matching
/// Allow or Block decides; Count rules add their labels and go on; `None` when no rule
/// decided.
fn run_rules<'r>(
    rules: &'r [Rule],
    namespace: &str,
    request: &Request<'_>,
    (labels, inserted): (&mut Vec<&'r str>, &mut Vec<&'r (String, String)>),
    rate: &mut dyn FnMut(RateProbe<'_>) -> bool,
) -> Option<Verdict<'r>> {
    for rule in rules {
        let matched = match &rule.check {
            Check::Statement(statement) => statement.matches(request, labels, namespace),
            Check::Rate(limit) => {
                let in_scope = limit
                    .scope_down
                    .as_ref()
                    .is_none_or(|s| s.matches(request, labels, namespace));
                // A request without its key is not counted; one whose forwarded
                // address does not read matches as the fallback says.
                let key = match &limit.key {
                    RateKey::Ip => Ok(request.client_ip.to_string()),
                    RateKey::Constant => Ok(String::new()),
                    RateKey::Forwarded(config) => match forwarded_ips(request, config) {
                        ForwardedIps::Absent => Err(false),
                        ForwardedIps::Invalid => Err(config.fallback_match),
                        ForwardedIps::Ips(ips) => Ok(ips[0].to_string()),
                    },
                    RateKey::Custom(keys) => custom_key(keys, request, (labels, namespace)),
                };
                match (in_scope, key) {
                    (false, _) => false,
                    (true, Err(fallback)) => fallback,
                    (true, Ok(key)) => rate(RateProbe {
                        rule: &rule.counter,
                        key,
                        limit: limit.limit,
                        window_seconds: limit.window_seconds,
                    }),
                }
            }
            // The group's rules run in its namespace; its Allow or Block decides unless
            // the reference overrides them to Count (its labels stay either way).
            Check::Group(group) => {
                if group
                    .scope_down
                    .as_ref()
                    .is_some_and(|s| !s.matches(request, labels, namespace))
                {
                    continue;
                }
                let verdict = run_rules(
                    &group.rules,
                    &group.namespace,
                    request,
                    (&mut *labels, &mut *inserted),
                    rate,
                );
                match verdict {
                    Some(verdict) if !group.count_only => return Some(verdict),
                    _ => continue,
                }
            }
        };
        if !matched {
            continue;
        }
        labels.extend(rule.labels.iter().map(String::as_str));
        match &rule.action {
            Action::Allow(own) => return Some(Verdict::Allow(own.iter().collect())),
            Action::Block(block) => return Some(Verdict::Block(block, Some(&rule.name))),
            Action::Count(own) => inserted.extend(own),
        }
    }
    None
}

/// What a forwarded-IP header holds.
enum ForwardedIps {
    /// No such header: the rule does not apply to the request.
    Absent,
    /// A value that is not a list of addresses: the configuration's fallback decides.
    Invalid,
    /// The addresses, first to last.
    Ips(Vec<IpAddr>),
}

/// Aggregate keys longer than this are counted under their SHA-256, so that what clients
/// send cannot make the counts large.
const LONGEST_RATE_KEY: usize = 64;

/// The aggregate key of a `CUSTOM_KEYS` rule: every key's value, in order, each after its
/// length (so that no two requests' keys run together). `Err`: not counted (a key missing,
/// `false`) or decided by a forwarded address's fallback.
fn custom_key(
    keys: &[CustomKey],
    request: &Request<'_>,
    labels: (&[&str], &str),
) -> Result<String, bool> {
    let mut joined = Vec::new();
    for key in keys {
        let value = key.value(request, labels)?.ok_or(false)?;
        joined.extend_from_slice(value.len().to_string().as_bytes());
        joined.push(b':');
        joined.extend_from_slice(&value);
        joined.push(b';');
    }
    if joined.len() > LONGEST_RATE_KEY {
        let digest = ring::digest::digest(&ring::digest::SHA256, &joined);
        return Ok(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect());
    }
    Ok(String::from_utf8_lossy(&joined).into_owned())
}

fn forwarded_ips(request: &Request<'_>, config: &Forwarded) -> ForwardedIps {
    let Some(value) = request.header(&config.header) else {
        return ForwardedIps::Absent;
    };
    let parsed: Option<Vec<IpAddr>> = std::str::from_utf8(value).ok().and_then(|text| {
        text.split(',')
            .map(|part| part.trim().parse::<IpAddr>().ok())
            .collect()
    });
    match parsed {
        Some(ips) if !ips.is_empty() => ForwardedIps::Ips(ips),
        _ => ForwardedIps::Invalid,
    }
}

impl Statement {
    fn matches(&self, request: &Request<'_>, labels: &[&str], namespace: &str) -> bool {
        match self {
            Statement::IpSet { nets, forwarded } => {
                let within = |ip: &IpAddr| {
                    let ip = match ip {
                        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
                        IpAddr::V4(_) => *ip,
                    };
                    nets.iter().any(|net| net.contains(&ip))
                };
                match forwarded {
                    None => within(&request.client_ip),
                    Some(config) => match forwarded_ips(request, config) {
                        ForwardedIps::Absent => false,
                        ForwardedIps::Invalid => config.fallback_match,
                        ForwardedIps::Ips(ips) => match config.position {
                            ForwardedPosition::First => ips.first().is_some_and(within),
                            ForwardedPosition::Last => ips.last().is_some_and(within),
                            ForwardedPosition::Any => ips.iter().rev().take(10).any(within),
                        },
                    },
                }
            }
            Statement::Bytes {
                field,
                transforms,
                position,
                needle,
            } => field.values(request).into_iter().any(|value| match value {
                Inspected::Oversize(result) => result,
                Inspected::Bytes(value) => {
                    let value = transform(&value, transforms);
                    positioned(&value, needle, *position)
                }
            }),
            Statement::Regex {
                field,
                transforms,
                regex,
            } => field.values(request).into_iter().any(|value| match value {
                Inspected::Oversize(result) => result,
                Inspected::Bytes(value) => regex.is_match(&transform(&value, transforms)),
            }),
            Statement::RegexSet {
                field,
                transforms,
                set,
            } => field.values(request).into_iter().any(|value| match value {
                Inspected::Oversize(result) => result,
                Inspected::Bytes(value) => set.is_match(&transform(&value, transforms)),
            }),
            Statement::Size {
                field,
                transforms,
                compare,
                size,
            } => field.values(request).into_iter().any(|value| {
                let len = match value {
                    Inspected::Oversize(_) => request.body.map_or(0, <[u8]>::len) as u64,
                    Inspected::Bytes(value) => transform(&value, transforms).len() as u64,
                };
                match compare {
                    Compare::Eq => len == *size,
                    Compare::Ne => len != *size,
                    Compare::Le => len <= *size,
                    Compare::Lt => len < *size,
                    Compare::Ge => len >= *size,
                    Compare::Gt => len > *size,
                }
            }),
            Statement::Sqli {
                field,
                transforms,
                high,
            } => field.values(request).into_iter().any(|value| match value {
                Inspected::Oversize(result) => result,
                Inspected::Bytes(value) => sqli(&transform(&value, transforms), *high),
            }),
            Statement::Xss { field, transforms } => {
                field.values(request).into_iter().any(|value| match value {
                    Inspected::Oversize(result) => result,
                    Inspected::Bytes(value) => xss(&transform(&value, transforms)),
                })
            }
            Statement::Label {
                namespace: whole,
                key,
            } => labels.iter().any(|label| {
                let local = format!("{namespace}{key}");
                if *whole {
                    label.starts_with(key.as_str()) || label.starts_with(&local)
                } else {
                    *label == key || *label == local
                }
            }),
            Statement::And(all) => all.iter().all(|s| s.matches(request, labels, namespace)),
            Statement::Or(any) => any.iter().any(|s| s.matches(request, labels, namespace)),
            Statement::Not(inner) => !inner.matches(request, labels, namespace),
        }
    }
}

enum Inspected<'a> {
    Bytes(std::borrow::Cow<'a, [u8]>),
    /// Decided without looking: a body over the inspection limit, or JSON that does not
    /// parse, whose handling says match or not.
    Oversize(bool),
}

impl<'a> Inspected<'a> {
    fn borrowed(bytes: &'a [u8]) -> Inspected<'a> {
        Inspected::Bytes(std::borrow::Cow::Borrowed(bytes))
    }
}

/// What a scope takes of a key and its value.
fn scoped<'a>(scope: Scope, key: &'a [u8], value: &'a [u8], out: &mut Vec<Inspected<'a>>) {
    if matches!(scope, Scope::All | Scope::Key) {
        out.push(Inspected::borrowed(key));
    }
    if matches!(scope, Scope::All | Scope::Value) {
        out.push(Inspected::borrowed(value));
    }
}

/// The keys and values of a JSON document under `paths` (JSON pointers; all of it when
/// `None`): object keys, and leaves as their text (strings unquoted).
fn json_parts(document: &Value, paths: Option<&[String]>, scope: Scope) -> Vec<Vec<u8>> {
    fn walk(value: &Value, scope: Scope, out: &mut Vec<Vec<u8>>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if matches!(scope, Scope::All | Scope::Key) {
                        out.push(key.as_bytes().to_vec());
                    }
                    walk(inner, scope, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, scope, out)),
            Value::String(text) if !matches!(scope, Scope::Key) => {
                out.push(text.as_bytes().to_vec())
            }
            Value::String(_) => {}
            leaf if !matches!(scope, Scope::Key) => out.push(leaf.to_string().into_bytes()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    match paths {
        None => walk(document, scope, &mut out),
        Some(paths) => {
            for path in paths {
                if let Some(found) = document.pointer(path) {
                    walk(found, scope, &mut out);
                }
            }
        }
    }
    out
}

impl Field {
    fn values<'a>(&self, request: &Request<'a>) -> Vec<Inspected<'a>> {
        match self {
            Field::UriPath => vec![Inspected::borrowed(request.path.as_bytes())],
            Field::QueryString => vec![Inspected::borrowed(request.query.as_bytes())],
            Field::Method => vec![Inspected::borrowed(request.method.as_bytes())],
            Field::Header(name) => request
                .header(name)
                .map(Inspected::borrowed)
                .into_iter()
                .collect(),
            Field::QueryArgument(name) => request
                .query_args()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| Inspected::borrowed(v.as_bytes()))
                .into_iter()
                .collect(),
            Field::AllQueryArguments => request
                .query_args()
                .map(|(_, v)| Inspected::borrowed(v.as_bytes()))
                .collect(),
            Field::Body(oversize) => match inspected_body(request, *oversize) {
                Ok(body) => vec![Inspected::borrowed(body)],
                Err(decided) => vec![decided],
            },
            Field::Headers { pattern, scope } => {
                let mut out = Vec::new();
                for (name, value) in &request.headers {
                    if pattern.takes(name, true) {
                        scoped(*scope, name.as_bytes(), value, &mut out);
                    }
                }
                out
            }
            Field::UriFragment { fallback_match } => match request.path.split_once('#') {
                Some((_, fragment)) if !fragment.is_empty() => {
                    vec![Inspected::borrowed(fragment.as_bytes())]
                }
                _ => vec![Inspected::Oversize(*fallback_match)],
            },
            Field::HeaderOrder => {
                let names: Vec<&str> = request.headers.iter().map(|(name, _)| *name).collect();
                vec![Inspected::Bytes(std::borrow::Cow::Owned(
                    names.join(":").into_bytes(),
                ))]
            }
            Field::Cookies { pattern, scope } => {
                let mut out = Vec::new();
                for (name, value) in request.cookies() {
                    if pattern.takes(&String::from_utf8_lossy(name), false) {
                        scoped(*scope, name, value, &mut out);
                    }
                }
                out
            }
            Field::JsonBody {
                paths,
                scope,
                invalid,
                oversize,
            } => {
                let body = match inspected_body(request, *oversize) {
                    Ok(body) => body,
                    Err(decided) => return vec![decided],
                };
                let document = request
                    .json
                    .get_or_init(|| serde_json::from_slice::<Value>(body).ok());
                match document {
                    Some(document) => json_parts(document, paths.as_deref(), *scope)
                        .into_iter()
                        .map(|part| Inspected::Bytes(std::borrow::Cow::Owned(part)))
                        .collect(),
                    None => match invalid {
                        InvalidJson::Unset => Vec::new(),
                        InvalidJson::Match => vec![Inspected::Oversize(true)],
                        InvalidJson::NoMatch => vec![Inspected::Oversize(false)],
                        InvalidJson::AsString => vec![Inspected::borrowed(body)],
                    },
                }
            }
        }
    }
}

/// The body as inspected: all of it up to the inspection limit, its first part past it
/// (CONTINUE), or a decision without looking (MATCH, NO_MATCH).
fn inspected_body<'a>(
    request: &Request<'a>,
    oversize: Oversize,
) -> Result<&'a [u8], Inspected<'a>> {
    let body = request.body.unwrap_or_default();
    if body.len() <= BODY_INSPECTION_LIMIT {
        return Ok(body);
    }
    match oversize {
        Oversize::Continue => Ok(&body[..BODY_INSPECTION_LIMIT]),
        Oversize::Match => Err(Inspected::Oversize(true)),
        Oversize::NoMatch => Err(Inspected::Oversize(false)),
    }
}

/// Whether a value reads as SQL injection. LOW is libinjection's verdict: a token fingerprint
/// on its list of SQL injection shapes, tried as the value stands and as if it continued a
/// single- or double-quoted string, less the short shapes its false-positive checks let
/// through. HIGH also takes those (more attacks caught, more false positives, as AWS
/// describes the level): any listed fingerprint in any of the contexts, except a word
/// followed by a `#` comment, which ordinary text ("C#", "issue#12") is full of.
fn sqli(value: &[u8], high: bool) -> bool {
    use libinjectionrs::{SqliFlags, SqliState, sqli::blacklist};
    if value.is_empty() {
        return false;
    }
    if libinjectionrs::detect_sqli(value).is_injection() {
        return true;
    }
    let hash_comment_only =
        || value.contains(&b'#') && !value.windows(2).any(|pair| pair == b"--" || pair == b"/*");
    high && [
        SqliFlags::FLAG_QUOTE_NONE | SqliFlags::FLAG_SQL_ANSI,
        SqliFlags::FLAG_QUOTE_NONE | SqliFlags::FLAG_SQL_MYSQL,
        SqliFlags::FLAG_QUOTE_SINGLE | SqliFlags::FLAG_SQL_ANSI,
        SqliFlags::FLAG_QUOTE_SINGLE | SqliFlags::FLAG_SQL_MYSQL,
        SqliFlags::FLAG_QUOTE_DOUBLE | SqliFlags::FLAG_SQL_MYSQL,
    ]
    .into_iter()
    .any(|flags| {
        let fingerprint = SqliState::new(value, flags).get_fingerprint();
        let fingerprint = fingerprint.as_str();
        blacklist::is_blacklisted(fingerprint) && !(fingerprint == "nc" && hash_comment_only())
    })
}

/// Whether a value carries script, by libinjection's HTML5 tokenizer in each context a value
/// can land in (page text, and an attribute value unquoted or in any quotes).
fn xss(value: &[u8]) -> bool {
    !value.is_empty() && libinjectionrs::detect_xss(value).is_injection()
}

fn positioned(value: &[u8], needle: &[u8], position: Position) -> bool {
    match position {
        Position::Exactly => value == needle,
        Position::StartsWith => value.starts_with(needle),
        Position::EndsWith => value.ends_with(needle),
        Position::Contains => value.windows(needle.len()).any(|w| w == needle),
        Position::ContainsWord => {
            let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
            value.windows(needle.len()).enumerate().any(|(at, w)| {
                w == needle
                    && (at == 0 || !word(value[at - 1]))
                    && value.get(at + needle.len()).is_none_or(|b| !word(*b))
            })
        }
    }
}

/// Applies text transformations in priority order.
fn transform(value: &[u8], transforms: &[Transform]) -> Vec<u8> {
    let mut out = value.to_vec();
    for t in transforms {
        out = match t {
            Transform::None => out,
            Transform::Lowercase => out.to_ascii_lowercase(),
            Transform::UrlDecode => url_decode(&out),
            Transform::CompressWhiteSpace => {
                let mut compressed = Vec::with_capacity(out.len());
                for b in out {
                    let space = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
                    if space {
                        if compressed.last() != Some(&b' ') {
                            compressed.push(b' ');
                        }
                    } else {
                        compressed.push(b);
                    }
                }
                compressed
            }
            Transform::HtmlEntityDecode => html_decode(&out),
            Transform::Base64Decode => base64::engine::general_purpose::STANDARD
                .decode(&out)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&out))
                .unwrap_or(out),
            Transform::HexDecode => {
                let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
                let decoded: Option<Vec<u8>> = out
                    .chunks(2)
                    .map(|pair| match pair {
                        [h, l] => Some(digit(*h)? * 16 + digit(*l)?),
                        _ => None,
                    })
                    .collect();
                decoded.unwrap_or(out)
            }
            Transform::NormalizePath => normalize_path(&out),
            Transform::RemoveNulls => out.into_iter().filter(|b| *b != 0).collect(),
            Transform::ReplaceNulls => out
                .into_iter()
                .map(|b| if b == 0 { b' ' } else { b })
                .collect(),
        };
    }
    out
}

fn url_decode(value: &[u8]) -> Vec<u8> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'%' if i + 2 < value.len() => match (digit(value[i + 1]), digit(value[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn html_decode(value: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(value);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_ref();
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.into_bytes()
}

fn normalize_path(value: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(value);
    let mut kept: Vec<&str> = Vec::new();
    for segment in text.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let mut out = String::new();
    if text.starts_with('/') {
        out.push('/');
    }
    out.push_str(&kept.join("/"));
    if text.ends_with('/') && !kept.is_empty() {
        out.push('/');
    }
    out.into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub mod managed;
