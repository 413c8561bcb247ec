//! Resource policies: the IAM policy document a REST API carries in its `policy` field. It is
//! checked when it is stored, frozen into each deployment, and evaluated by the gateway for
//! every request of a stage whose deployment has one.
//!
//! Callers of methods without `AWS_IAM` authorization are anonymous, so a statement applies
//! to them only when its principal includes everyone (`"*"` or `{"AWS": "*"}`). Callers of
//! `AWS_IAM` methods are the identities that signed them: statements also apply to them when
//! they name their account (`"123456789012"`, `arn:aws:iam::123456789012:root`), their user
//! ARN, their role (for a role's sessions) or their session's ARN. The evaluation is IAM's
//! for a resource policy alone: an explicit `Deny` wins, else an `Allow` is needed, else the
//! request is denied.

use std::borrow::Cow;
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Map, Value};

/// The action of a call through the gateway.
pub const INVOKE: &str = "execute-api:Invoke";

/// The largest policy document accepted, in bytes. AWS's quota for a REST API's resource
/// policy is 8,192 characters.
pub const MAX_POLICY_BYTES: usize = 8192;

/// Why a policy document cannot be used, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn invalid(message: impl Into<String>) -> PolicyError {
    PolicyError(message.into())
}

/// A parsed resource policy.
#[derive(Debug, Clone)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct Statement {
    allow: bool,
    /// Whom the statement's principal (or `NotPrincipal`) covers.
    principals: Principals,
    actions: Patterns<Glob>,
    resources: Patterns<ArnPattern>,
    conditions: Vec<Condition>,
}

/// `Action`/`Resource` (or their `Not` forms): wildcard patterns.
#[derive(Debug, Clone)]
struct Patterns<T> {
    negated: bool,
    patterns: Vec<T>,
}

/// A wildcard pattern, compiled once: most have no wildcard and compare as plain text.
#[derive(Debug, Clone)]
enum Glob {
    Any,
    Literal(String),
    Wild(String),
}

impl Glob {
    fn new(pattern: &str) -> Glob {
        if pattern.bytes().all(|b| b == b'*') && !pattern.is_empty() {
            Glob::Any
        } else if pattern.contains(['*', '?']) {
            Glob::Wild(pattern.to_owned())
        } else {
            Glob::Literal(pattern.to_owned())
        }
    }

    fn matches(&self, text: &str) -> bool {
        match self {
            Glob::Any => true,
            Glob::Literal(literal) => literal == text,
            Glob::Wild(pattern) => wildcard_match(pattern, text),
        }
    }

    fn matches_ignoring_case(&self, text: &str) -> bool {
        match self {
            Glob::Any => true,
            Glob::Literal(literal) => literal.eq_ignore_ascii_case(text),
            Glob::Wild(pattern) => {
                wildcard_match_by(pattern, text, |a, b| a.eq_ignore_ascii_case(&b))
            }
        }
    }
}

/// A resource pattern: `*`, or an ARN's six parts, each a wildcard pattern (IAM matches an
/// ARN part by part, so a wildcard never reaches across a colon).
#[derive(Debug, Clone)]
enum ArnPattern {
    Any,
    Parts(Box<[Glob; 6]>),
    /// Fewer than six parts: matches no ARN.
    Never,
}

impl ArnPattern {
    fn new(pattern: &str) -> ArnPattern {
        if pattern == "*" {
            return ArnPattern::Any;
        }
        match arn_parts(pattern) {
            Some(parts) => ArnPattern::Parts(Box::new(parts.map(Glob::new))),
            None => ArnPattern::Never,
        }
    }

    fn matches(&self, arn: Option<&[&str; 6]>) -> bool {
        match (self, arn) {
            (ArnPattern::Any, _) => true,
            (ArnPattern::Parts(globs), Some(parts)) => globs
                .iter()
                .zip(parts)
                .all(|(glob, part)| glob.matches(part)),
            _ => false,
        }
    }
}

/// An ARN's six colon-separated parts (`arn:partition:service:region:account:resource`; the
/// resource part keeps any further colons).
fn arn_parts(arn: &str) -> Option<[&str; 6]> {
    let mut parts = arn.splitn(6, ':');
    let mut out = [""; 6];
    for slot in &mut out {
        *slot = parts.next()?;
    }
    Some(out)
}

#[derive(Debug, Clone)]
struct Condition {
    operator: Operator,
    /// `...IfExists`: a missing key satisfies the condition.
    if_exists: bool,
    /// `ForAllValues:` (a missing key satisfies it) or `ForAnyValue:` (it does not). The keys
    /// a gateway request has are single-valued, so that is all the qualifiers change.
    set: Option<SetQualifier>,
    /// The context key, lower-cased (keys are case-insensitive).
    key: String,
    values: Vec<Operand>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equals,
    NotEquals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    String {
        negated: bool,
        ignore_case: bool,
        like: bool,
    },
    Numeric(Comparison),
    Date(Comparison),
    Bool,
    IpAddress {
        negated: bool,
    },
    Arn {
        negated: bool,
    },
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        let comparison = |rest: &str| match rest {
            "Equals" => Some(Comparison::Equals),
            "NotEquals" => Some(Comparison::NotEquals),
            "LessThan" => Some(Comparison::LessThan),
            "LessThanEquals" => Some(Comparison::LessThanEquals),
            "GreaterThan" => Some(Comparison::GreaterThan),
            "GreaterThanEquals" => Some(Comparison::GreaterThanEquals),
            _ => None,
        };
        let string = |negated, ignore_case, like| {
            Some(Operator::String {
                negated,
                ignore_case,
                like,
            })
        };
        match name {
            "StringEquals" => string(false, false, false),
            "StringNotEquals" => string(true, false, false),
            "StringEqualsIgnoreCase" => string(false, true, false),
            "StringNotEqualsIgnoreCase" => string(true, true, false),
            "StringLike" => string(false, false, true),
            "StringNotLike" => string(true, false, true),
            "Bool" => Some(Operator::Bool),
            "IpAddress" => Some(Operator::IpAddress { negated: false }),
            "NotIpAddress" => Some(Operator::IpAddress { negated: true }),
            "ArnEquals" | "ArnLike" => Some(Operator::Arn { negated: false }),
            "ArnNotEquals" | "ArnNotLike" => Some(Operator::Arn { negated: true }),
            "Null" => Some(Operator::Null),
            _ => {
                if let Some(rest) = name.strip_prefix("Numeric") {
                    comparison(rest).map(Operator::Numeric)
                } else if let Some(rest) = name.strip_prefix("Date") {
                    comparison(rest).map(Operator::Date)
                } else {
                    None
                }
            }
        }
    }

    /// Negated operators are satisfied by a key the request does not have.
    fn negated(self) -> bool {
        match self {
            Operator::String { negated, .. }
            | Operator::IpAddress { negated }
            | Operator::Arn { negated } => negated,
            Operator::Numeric(c) | Operator::Date(c) => c == Comparison::NotEquals,
            Operator::Bool | Operator::Null => false,
        }
    }
}

/// A condition value, converted once for its operator.
#[derive(Debug, Clone)]
enum Operand {
    Text(String),
    Number(f64),
    /// Seconds since the epoch.
    Time(f64),
    Network(IpNet),
    Flag(bool),
}

/// What the gateway knows of a request, for matching statements and conditions.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `execute-api:Invoke`.
    pub action: &'a str,
    /// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`.
    pub resource: &'a str,
    /// `aws:SourceIp`: the address of the client's connection.
    pub source_ip: IpAddr,
    /// `aws:EpochTime`, in seconds.
    pub epoch_seconds: i64,
    /// `aws:SecureTransport`.
    pub secure_transport: bool,
    /// `aws:UserAgent`.
    pub user_agent: Option<&'a str>,
    /// `aws:Referer`.
    pub referer: Option<&'a str>,
    /// The identity that signed the request (`AWS_IAM` methods); `None` for anonymous ones.
    pub principal: Option<Principal<'a>>,
}

/// An identity that signed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal<'a> {
    /// `arn:aws:iam::{account}:user/{name}`, `arn:aws:sts::{account}:assumed-role/{role}/{session}`
    /// or `arn:aws:iam::{account}:root`.
    pub arn: &'a str,
    /// Its account.
    pub account_id: &'a str,
    /// `aws:userid`: the user's id, or `AROA…:session` for a role's session.
    pub user_id: &'a str,
}

impl Principal<'_> {
    /// `aws:PrincipalType`.
    fn kind(&self) -> &'static str {
        if self.arn.contains(":assumed-role/") {
            "AssumedRole"
        } else if self.arn.ends_with(":root") {
            "Account"
        } else {
            "User"
        }
    }

    /// Whether a principal name of a policy (`AWS`) covers this identity.
    fn named_by(&self, name: &str) -> bool {
        if name == "*" || name == self.arn || name == self.account_id {
            return true;
        }
        if name == format!("arn:aws:iam::{}:root", self.account_id) {
            return true;
        }
        // A role covers its sessions: arn:aws:iam::A:role/R → arn:aws:sts::A:assumed-role/R/S.
        if let (Some(role), Some(session_role)) = (
            name.strip_prefix(&format!("arn:aws:iam::{}:role/", self.account_id)),
            self.arn
                .strip_prefix(&format!("arn:aws:sts::{}:assumed-role/", self.account_id)),
        ) {
            let role_name = role.rsplit('/').next().unwrap_or(role);
            return session_role
                .rsplit_once('/')
                .is_some_and(|(r, _)| r == role_name);
        }
        false
    }
}

/// Whom a statement covers.
#[derive(Debug, Clone)]
struct Principals {
    /// `NotPrincipal`: everyone but these.
    negated: bool,
    /// `"*"` or `{"AWS": "*"}`.
    everyone: bool,
    /// The `AWS` names (accounts, ARNs).
    aws: Vec<String>,
}

impl Principals {
    fn cover(&self, principal: Option<&Principal<'_>>) -> bool {
        let named = self.everyone
            || principal.is_some_and(|p| self.aws.iter().any(|name| p.named_by(name)));
        named != self.negated
    }
}

impl Request<'_> {
    /// The value of a context key (lower-cased), if the request has it. Keys that only signed
    /// or VPC-endpoint requests carry (`aws:PrincipalArn`, `aws:SourceVpce`, ...) are absent.
    fn value(&self, key: &str) -> Option<Cow<'_, str>> {
        Some(match key {
            "aws:sourceip" => Cow::Owned(self.source_ip.to_string()),
            "aws:epochtime" => Cow::Owned(self.epoch_seconds.to_string()),
            "aws:currenttime" => Cow::Owned(iso_time(self.epoch_seconds)?),
            "aws:securetransport" => Cow::Borrowed(if self.secure_transport {
                "true"
            } else {
                "false"
            }),
            "aws:useragent" => Cow::Borrowed(self.user_agent?),
            "aws:referer" => Cow::Borrowed(self.referer?),
            "aws:principaltype" => Cow::Borrowed(match &self.principal {
                Some(principal) => principal.kind(),
                None => "Anonymous",
            }),
            "aws:principalarn" => Cow::Borrowed(self.principal?.arn),
            "aws:principalaccount" => Cow::Borrowed(self.principal?.account_id),
            "aws:userid" => Cow::Borrowed(self.principal?.user_id),
            "aws:username" => {
                let principal = self.principal?;
                Cow::Borrowed(principal.arn.split_once(":user/")?.1.rsplit('/').next()?)
            }
            _ => return None,
        })
    }
}

/// What a policy decides for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A `Deny` statement matched.
    ExplicitDeny,
    /// No statement allowed the request.
    ImplicitDeny,
}

/// Where `execute-api:/` points: the API the policy belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    pub api_id: &'a str,
}

impl Scope<'_> {
    /// `arn:aws:execute-api:{region}:{account}:{api}`.
    pub fn api_arn(&self) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{}",
            self.region, self.account_id, self.api_id
        )
    }

    /// The ARN a request for `method` and `path` (beginning with `/`) on `stage` is checked
    /// against.
    pub fn invoke_arn(&self, stage: &str, method: &str, path: &str) -> String {
        // Pushed into one allocation: `format!` takes three times as long on every request.
        let parts = [
            "arn:aws:execute-api:",
            self.region,
            ":",
            self.account_id,
            ":",
            self.api_id,
            "/",
            stage,
            "/",
            method,
            path,
        ];
        let mut arn = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            arn.push_str(part);
        }
        arn
    }
}

/// The policy document in a stored or submitted `policy` value. AWS keeps and returns a
/// policy as the body of a JSON string (`{\"Version\":...,\"Resource\":\"arn:...\/*\"}`),
/// and its documentation submits one as a JSON string literal (`"{\"Version\": ...}"`); plain
/// JSON is accepted too. Any of the three gives the plain document.
pub fn document(value: &str) -> Cow<'_, str> {
    let trimmed = value.trim();
    if trimmed.starts_with('"')
        && let Ok(inner) = serde_json::from_str::<String>(trimmed)
    {
        return Cow::Owned(inner);
    }
    if trimmed.starts_with("{\\\"")
        && let Ok(inner) = serde_json::from_str::<String>(&format!("\"{trimmed}\""))
    {
        return Cow::Owned(inner);
    }
    Cow::Borrowed(value)
}

/// The form AWS stores a policy in, and GetRestApi returns: checked, `execute-api:/...`
/// resources written out as the API's ARN, compact JSON with its keys in their order, then
/// escaped as the body of a JSON string (quotes and slashes escaped). Tools read it that
/// way: Terraform's provider wraps it in quotes and decodes it as a JSON string.
pub fn normalize(value: &str, scope: Scope<'_>) -> Result<String, PolicyError> {
    let text = document(value);
    let mut tree: Ordered = serde_json::from_str(&text)
        .map_err(|e| invalid(format!("Invalid policy document: it is not JSON ({e}).")))?;
    // The limit counts the document compact, with the API's own ARN counted as the
    // `execute-api:` it abbreviates: spaces are free, and a stored policy (its ARNs written
    // out) fits when it is sent back.
    let written = serde_json::to_string(&tree)
        .map_err(|e| invalid(format!("Invalid policy document: {e}.")))?;
    let api_arn = scope.api_arn();
    let length = written.len().saturating_sub(
        written.matches(api_arn.as_str()).count()
            * api_arn.len().saturating_sub("execute-api:".len()),
    );
    if length > MAX_POLICY_BYTES {
        return Err(invalid(format!(
            "Invalid policy document: it is {length} characters long without spaces, and a resource policy can have at most {MAX_POLICY_BYTES}."
        )));
    }
    Policy::parse(&written, scope)?;
    if let Ordered::Object(fields) = &mut tree
        && let Some((_, statements)) = fields.iter_mut().find(|(k, _)| k == "Statement")
    {
        let statements = match statements {
            Ordered::Array(items) => items.iter_mut().collect::<Vec<_>>(),
            item => vec![item],
        };
        for statement in statements {
            let Ordered::Object(fields) = statement else {
                continue;
            };
            for (key, value) in fields.iter_mut() {
                if key != "Resource" && key != "NotResource" {
                    continue;
                }
                let resources = match value {
                    Ordered::Array(items) => items.iter_mut().collect::<Vec<_>>(),
                    item => vec![item],
                };
                for resource in resources {
                    if let Ordered::String(text) = resource
                        && let Some(rest) = text.strip_prefix("execute-api:")
                    {
                        *text = format!("{}{rest}", scope.api_arn());
                    }
                }
            }
        }
    }
    let compact = serde_json::to_string(&tree)
        .map_err(|e| invalid(format!("Invalid policy document: {e}.")))?;
    let quoted = serde_json::to_string(&compact)
        .map_err(|e| invalid(format!("Invalid policy document: {e}.")))?;
    let body = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted);
    Ok(body.replace('/', "\\/"))
}

/// A JSON value that keeps the order of its objects' keys (`serde_json::Value` sorts them),
/// so that a stored policy reads as it was written.
#[derive(Debug, Clone)]
enum Ordered {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Number(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Ordered::Null, Ordered::Number))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Ordered, E> {
                Ok(Ordered::String(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some((key, value)) = map.next_entry()? {
                    fields.push((key, value));
                }
                Ok(Ordered::Object(fields))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl serde::Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Ordered::Null => serializer.serialize_unit(),
            Ordered::Bool(b) => serializer.serialize_bool(*b),
            Ordered::Number(n) => n.serialize(serializer),
            Ordered::String(s) => serializer.serialize_str(s),
            Ordered::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Ordered::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// Checks a policy document before it is stored: whether it parses does not depend on the
/// API it belongs to.
pub fn check(text: &str) -> Result<(), PolicyError> {
    normalize(
        text,
        Scope {
            region: "us-east-1",
            account_id: "000000000000",
            api_id: "check",
        },
    )
    .map(drop)
}

impl Policy {
    /// Parses and checks a policy document. `execute-api:/...` resources are read as the
    /// API's own ARN followed by the rest (`execute-api:/*` is every stage, method and path).
    pub fn parse(text: &str, scope: Scope<'_>) -> Result<Policy, PolicyError> {
        Policy::parse_as(text, scope, false)
    }

    /// Parses the policy a Lambda authorizer returns for its caller: an identity-based policy,
    /// whose statements need no `Principal` (they are about the caller the authorizer
    /// identified).
    pub fn parse_identity(text: &str, scope: Scope<'_>) -> Result<Policy, PolicyError> {
        Policy::parse_as(text, scope, true)
    }

    fn parse_as(text: &str, scope: Scope<'_>, identity: bool) -> Result<Policy, PolicyError> {
        let text = &*document(text);
        let document: Value = serde_json::from_str(text)
            .map_err(|e| invalid(format!("Invalid policy document: it is not JSON ({e}).")))?;
        let Value::Object(document) = document else {
            return Err(invalid(
                "Invalid policy document: it must be a JSON object.",
            ));
        };
        for key in document.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(invalid(format!(
                    "Invalid policy document: unknown field '{key}' (expected Version, Id and Statement)."
                )));
            }
        }
        if let Some(version) = document.get("Version")
            && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
        {
            return Err(invalid(
                "Invalid policy document: Version must be \"2012-10-17\" or \"2008-10-17\".",
            ));
        }
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
            Some(item @ Value::Object(_)) => vec![item],
            Some(_) => {
                return Err(invalid(
                    "Invalid policy document: Statement must be an object or a list of objects.",
                ));
            }
            None => return Err(invalid("Invalid policy document: it has no Statement.")),
        };
        if statements.is_empty() {
            return Err(invalid("Invalid policy document: Statement is empty."));
        }
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, value)| Statement::parse(value, scope, index + 1, identity))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy { statements })
    }

    /// The decision for `request`: an explicit `Deny` wins over any `Allow`.
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        let arn = arn_parts(request.resource);
        let mut allowed = false;
        for statement in &self.statements {
            if statement.applies(request, arn.as_ref()) {
                if !statement.allow {
                    return Decision::ExplicitDeny;
                }
                allowed = true;
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

impl Statement {
    fn parse(
        value: &Value,
        scope: Scope<'_>,
        number: usize,
        identity: bool,
    ) -> Result<Statement, PolicyError> {
        let at = |message: &str| {
            invalid(format!(
                "Invalid policy document: statement {number}: {message}"
            ))
        };
        let Value::Object(fields) = value else {
            return Err(at("a statement must be a JSON object."));
        };
        for key in fields.keys() {
            if !matches!(
                key.as_str(),
                "Sid"
                    | "Effect"
                    | "Principal"
                    | "NotPrincipal"
                    | "Action"
                    | "NotAction"
                    | "Resource"
                    | "NotResource"
                    | "Condition"
            ) {
                return Err(at(&format!("unknown field '{key}'.")));
            }
        }
        let allow = match fields.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => return Err(at("Effect must be \"Allow\" or \"Deny\".")),
        };
        let principals = match (fields.get("Principal"), fields.get("NotPrincipal")) {
            (Some(principal), None) => principals(principal, false).map_err(|m| at(&m))?,
            (None, Some(principal)) => principals(principal, true).map_err(|m| at(&m))?,
            (Some(_), Some(_)) => return Err(at("it has both Principal and NotPrincipal.")),
            (None, None) if identity => Principals {
                negated: false,
                everyone: true,
                aws: Vec::new(),
            },
            (None, None) => {
                return Err(at(
                    "a resource policy statement needs a Principal (\"*\" for every caller).",
                ));
            }
        };
        let actions = patterns(fields, "Action", "NotAction").map_err(|m| at(&m))?;
        for action in &actions.patterns {
            if action != "*" && !action.contains(':') {
                return Err(at(&format!(
                    "action '{action}' must be \"*\" or service:action, such as execute-api:Invoke."
                )));
            }
        }
        let mut resources = patterns(fields, "Resource", "NotResource").map_err(|m| at(&m))?;
        for resource in &mut resources.patterns {
            if let Some(rest) = resource.strip_prefix("execute-api:") {
                *resource = format!("{}{rest}", scope.api_arn());
            } else if resource != "*" && !resource.starts_with("arn:") {
                return Err(at(&format!(
                    "resource '{resource}' must be an ARN (arn:aws:execute-api:...), execute-api:/... or \"*\"."
                )));
            }
        }
        let conditions = match fields.get("Condition") {
            None => Vec::new(),
            Some(Value::Object(blocks)) => conditions(blocks).map_err(|m| at(&m))?,
            Some(_) => return Err(at("Condition must be a JSON object.")),
        };
        Ok(Statement {
            allow,
            principals,
            actions: Patterns {
                negated: actions.negated,
                patterns: actions.patterns.iter().map(|a| Glob::new(a)).collect(),
            },
            resources: Patterns {
                negated: resources.negated,
                patterns: resources
                    .patterns
                    .iter()
                    .map(|r| ArnPattern::new(r))
                    .collect(),
            },
            conditions,
        })
    }

    /// Whether the statement covers `request`, whose resource ARN is split into `arn`.
    fn applies(&self, request: &Request<'_>, arn: Option<&[&str; 6]>) -> bool {
        self.principals.cover(request.principal.as_ref())
            && self
                .actions
                .matches(|action| action.matches_ignoring_case(request.action))
            && self.resources.matches(|resource| resource.matches(arn))
            && self.conditions.iter().all(|c| c.holds(request))
    }
}

impl<T> Patterns<T> {
    fn matches(&self, matches: impl FnMut(&T) -> bool) -> bool {
        self.patterns.iter().any(matches) != self.negated
    }
}

/// Whom a `Principal` (or `NotPrincipal`) value names; an error for a value IAM would refuse.
fn principals(value: &Value, negated: bool) -> Result<Principals, String> {
    let mut aws = Vec::new();
    let everyone = principal_names(value, &mut aws)?;
    Ok(Principals {
        negated,
        everyone,
        aws,
    })
}

/// Whether a `Principal` value names every caller, with the `AWS` names it lists.
fn principal_names(value: &Value, aws: &mut Vec<String>) -> Result<bool, String> {
    match value {
        Value::String(s) if s == "*" => Ok(true),
        Value::String(s) => Err(format!(
            "Principal '{s}' must be \"*\" or an object such as {{\"AWS\": \"*\"}}."
        )),
        Value::Object(kinds) if !kinds.is_empty() => {
            let mut everyone = false;
            for (kind, names) in kinds {
                if !matches!(
                    kind.as_str(),
                    "AWS" | "Service" | "Federated" | "CanonicalUser"
                ) {
                    return Err(format!(
                        "unknown principal type '{kind}' (expected AWS, Service, Federated or CanonicalUser)."
                    ));
                }
                let names = strings(names).ok_or_else(|| {
                    format!("the {kind} principal must be a string or a list of strings.")
                })?;
                if kind == "AWS" {
                    everyone |= names.iter().any(|n| n == "*");
                    aws.extend(names.iter().map(|n| n.to_string()));
                }
            }
            Ok(everyone)
        }
        _ => Err("Principal must be \"*\" or an object such as {\"AWS\": \"*\"}.".to_owned()),
    }
}

fn patterns(
    fields: &Map<String, Value>,
    name: &str,
    negated: &str,
) -> Result<Patterns<String>, String> {
    let (value, is_negated, field) = match (fields.get(name), fields.get(negated)) {
        (Some(value), None) => (value, false, name),
        (None, Some(value)) => (value, true, negated),
        (Some(_), Some(_)) => return Err(format!("it has both {name} and {negated}.")),
        (None, None) => return Err(format!("it needs {name} (or {negated}).")),
    };
    let patterns = strings(value)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| format!("{field} must be a string or a non-empty list of strings."))?;
    Ok(Patterns {
        negated: is_negated,
        patterns,
    })
}

fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn conditions(blocks: &Map<String, Value>) -> Result<Vec<Condition>, String> {
    let mut out = Vec::new();
    for (name, keys) in blocks {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, name.as_str())
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(rest) if rest != "Null" => (rest, true),
            _ => (rest, false),
        };
        let operator =
            Operator::parse(rest).ok_or_else(|| format!("unknown condition operator '{name}'."))?;
        let Value::Object(keys) = keys else {
            return Err(format!(
                "the {name} condition must map context keys to values."
            ));
        };
        if keys.is_empty() {
            return Err(format!("the {name} condition has no context key."));
        }
        for (key, values) in keys {
            let values = match values {
                Value::Array(items) if !items.is_empty() => items.iter().collect::<Vec<_>>(),
                Value::Array(_) => return Err(format!("{name} {key}: no value to compare with.")),
                value => vec![value],
            };
            let values = values
                .into_iter()
                .map(|value| operand(operator, value))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| format!("{name} {key}: {m}"))?;
            out.push(Condition {
                operator,
                if_exists,
                set,
                key: key.to_ascii_lowercase(),
                values,
            });
        }
    }
    Ok(out)
}

fn operand(operator: Operator, value: &Value) -> Result<Operand, String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err("a value must be a string, a number or a boolean.".to_owned()),
    };
    Ok(match operator {
        Operator::String { .. } | Operator::Arn { .. } => Operand::Text(text),
        Operator::Numeric(_) => Operand::Number(
            text.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{text}' is not a number."))?,
        ),
        Operator::Date(_) => Operand::Time(
            seconds(&text).ok_or_else(|| {
                format!("'{text}' is not a date (ISO 8601, such as 2026-01-31T00:00:00Z, or seconds since 1970).")
            })?,
        ),
        Operator::Bool | Operator::Null => match text.to_ascii_lowercase().as_str() {
            "true" => Operand::Flag(true),
            "false" => Operand::Flag(false),
            _ => return Err(format!("'{text}' is not true or false.")),
        },
        Operator::IpAddress { .. } => Operand::Network(network(&text).ok_or_else(|| {
            format!("'{text}' is not an IP address or CIDR range (such as 203.0.113.0/24).")
        })?),
    })
}

/// An address or CIDR range; a lone address is a range of one.
fn network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
        .map(|net| net.trunc())
}

/// Seconds since the epoch of an ISO 8601 (RFC 3339) time or of a plain number of seconds.
fn seconds(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<f64>() {
        return Some(n);
    }
    let time =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(time.unix_timestamp() as f64)
}

fn iso_time(epoch_seconds: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(epoch_seconds)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

impl Condition {
    fn holds(&self, request: &Request<'_>) -> bool {
        // The common case, an address check, compares the address itself, not its text.
        if let Operator::IpAddress { negated } = self.operator
            && self.key == "aws:sourceip"
        {
            let ip = canonical(request.source_ip);
            let any = self
                .values
                .iter()
                .any(|v| matches!(v, Operand::Network(net) if net.contains(&ip)));
            return any != negated;
        }
        let actual = request.value(&self.key);
        if self.operator == Operator::Null {
            let absent = actual.is_none();
            return self
                .values
                .iter()
                .any(|v| matches!(v, Operand::Flag(want) if *want == absent));
        }
        let Some(actual) = actual else {
            return match self.set {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => self.if_exists || self.operator.negated(),
            };
        };
        let any = self
            .values
            .iter()
            .any(|v| compare(self.operator, &actual, v));
        // Negated operators hold when no value matches; `compare` tests the positive form.
        if self.operator.negated() { !any } else { any }
    }
}

/// The positive form of `operator` (equals, like, in range) between a request's value and one
/// condition value.
fn compare(operator: Operator, actual: &str, value: &Operand) -> bool {
    match (operator, value) {
        (
            Operator::String {
                ignore_case, like, ..
            },
            Operand::Text(want),
        ) => match (ignore_case, like) {
            (true, _) => actual.eq_ignore_ascii_case(want),
            (false, true) => wildcard_match(want, actual),
            (false, false) => actual == want,
        },
        (Operator::Arn { .. }, Operand::Text(want)) => arn_match(want, actual),
        (Operator::Numeric(c), Operand::Number(want)) => actual
            .trim()
            .parse::<f64>()
            .is_ok_and(|n| ordered(c, n, *want)),
        (Operator::Date(c), Operand::Time(want)) => {
            seconds(actual).is_some_and(|n| ordered(c, n, *want))
        }
        (Operator::Bool, Operand::Flag(want)) => {
            actual.eq_ignore_ascii_case(if *want { "true" } else { "false" })
        }
        (Operator::IpAddress { .. }, Operand::Network(net)) => actual
            .parse::<IpAddr>()
            .is_ok_and(|ip| net.contains(&canonical(ip))),
        _ => false,
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:203.0.113.5`, what a dual-stack socket reports) as
/// the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn ordered(comparison: Comparison, actual: f64, want: f64) -> bool {
    match comparison {
        // NotEquals is negated by the caller.
        Comparison::Equals | Comparison::NotEquals => actual == want,
        Comparison::LessThan => actual < want,
        Comparison::LessThanEquals => actual <= want,
        Comparison::GreaterThan => actual > want,
        Comparison::GreaterThanEquals => actual >= want,
    }
}

/// IAM's ARN matching: the six colon-separated parts (`arn:partition:service:region:account:
/// resource`) match one by one, each with `*` and `?` wildcards, so a wildcard never reaches
/// across a part; `*` alone matches everything.
pub fn arn_match(pattern: &str, arn: &str) -> bool {
    ArnPattern::new(pattern).matches(arn_parts(arn).as_ref())
}

/// `*` (any run of characters, `/` included) and `?` (any one character) matching, in time
/// proportional to the product of the lengths at worst: the greedy scan with one backtrack
/// point, which cannot blow up the way recursive matching can.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    wildcard_match_by(pattern, text, |a, b| a == b)
}

/// [`wildcard_match`] with `same` deciding whether two characters match. ASCII text (what
/// request paths and actions are) is matched byte by byte, with no allocation.
fn wildcard_match_by(pattern: &str, text: &str, same: impl Fn(char, char) -> bool) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        let same_byte = |a: u8, b: u8| same(char::from(a), char::from(b));
        greedy(pattern.as_bytes(), text.as_bytes(), same_byte, (b'*', b'?'))
    } else {
        let pattern: Vec<char> = pattern.chars().collect();
        let text: Vec<char> = text.chars().collect();
        greedy(&pattern, &text, same, ('*', '?'))
    }
}

fn greedy<T: Copy + PartialEq>(
    pattern: &[T],
    text: &[T],
    same: impl Fn(T, T) -> bool,
    (any_run, any_one): (T, T),
) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(&w) if w == any_run => {
                star = Some((p, t));
                p += 1;
            }
            Some(&w) if w == any_one || same(w, c) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&w| w == any_run))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
