//! Reading an OpenAPI document into an [`ImportPlan`].
//!
//! The reader walks the parts of the document that API Gateway uses (paths, operations,
//! parameters, responses, security, the `x-amazon-apigateway-*` extensions) and collects every
//! problem before it answers, so that one reply lists all of them. Problems that make the
//! document unusable are errors; what the document asks and Causeway does not do becomes a
//! warning. Schemas become models (`definitions`, `components.schemas`, inline request bodies),
//! their local `$ref`s rewritten into AWS's model URLs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::loc::Loc;
use super::refs::resolve;
use super::{
    BasePath, ImportOptions, ImportPlan, PLANNED_API, PlannedMethod, PlannedModel, PlannedResource,
    PlannedValidator, errors_found, source,
};
use crate::entities::{
    GatewayResponse, Integration, IntegrationResponse, Method, MethodResponse, StringMap, TlsConfig,
};
use crate::enums::{
    ApiKeySource, AuthorizationType, AuthorizerType, ConnectionType, ContentHandling, HttpMethod,
    IntegrationType, PassthroughBehavior, ResponseTransferMode,
};
use crate::error::ApiError;
use crate::gateway_responses as defaults;
use crate::patch;
use crate::validate::{self, PathPart};

/// At most this many errors and warnings are listed; a count stands for the rest.
const MAX_PROBLEMS: usize = 100;

/// The largest minimum compression size an API accepts (10 MiB).
const MAX_COMPRESSION_SIZE: i64 = 10_485_760;

/// Reads a definition into a plan. The error lists every problem found (AWS's
/// `Errors found during import:` form), each naming its place in the document.
pub fn import(body: &[u8], options: &ImportOptions) -> Result<ImportPlan, ApiError> {
    let doc = source::parse(body)?;
    let mut reader = Reader::new(&doc, options)?;
    let plan = reader.plan();
    if reader.errors.is_empty() {
        Ok(plan)
    } else {
        Err(errors_found(&reader.finished_errors()))
    }
}

/// The OpenAPI major version of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// Swagger 2.0.
    V2,
    /// OpenAPI 3.0 and 3.1.
    V3,
}

/// How a security scheme of the document maps onto a method.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scheme {
    /// An API key in the `x-api-key` header: the method needs an API key.
    ApiKey,
    /// `x-amazon-apigateway-authtype: awsSigv4`: the method uses IAM authorization.
    Iam,
    /// `x-amazon-apigateway-authorizer`: the method uses this authorizer (named by scheme).
    Authorizer(AuthorizerType),
    /// Anything else, with what it is.
    Unsupported(String),
}

struct Reader<'d> {
    doc: &'d Value,
    root: &'d Map<String, Value>,
    version: Version,
    options: &'d ImportOptions,
    errors: Vec<String>,
    warnings: Vec<String>,
    /// Problems beyond [`MAX_PROBLEMS`], counted only.
    more_errors: usize,
    more_warnings: usize,
    schemes: BTreeMap<String, Scheme>,
    /// The authorizers of the schemes, ids still empty (their scheme names are their names).
    authorizers: Vec<crate::Authorizer>,
    /// Schemes already warned about, so each unsupported one is named once.
    warned_schemes: BTreeSet<String>,
    /// Names of `x-amazon-apigateway-request-validators`.
    validators: BTreeSet<String>,
    /// The root `x-amazon-apigateway-request-validator`: every method's unless it names one.
    default_validator: Option<String>,
    /// Models made from inline request body schemas.
    inline_models: Vec<PlannedModel>,
    /// Names of every model so far, so that inline ones get new names.
    model_names: BTreeSet<String>,
}

/// A resource path while the tree is assembled.
#[derive(Debug, Default)]
struct Draft {
    segments: Vec<String>,
    methods: BTreeMap<String, PlannedMethod>,
    /// Where the document declares the path; `None` for paths only implied by others.
    loc: Option<Loc>,
}

/// The members of a path item that are not operations.
const PATH_ITEM_FIELDS: &[&str] = &["parameters", "summary", "description", "servers", "$ref"];

/// Operation keys and the verbs they become.
const OPERATIONS: &[(&str, HttpMethod)] = &[
    ("get", HttpMethod::Get),
    ("put", HttpMethod::Put),
    ("post", HttpMethod::Post),
    ("delete", HttpMethod::Delete),
    ("options", HttpMethod::Options),
    ("head", HttpMethod::Head),
    ("patch", HttpMethod::Patch),
    ("x-amazon-apigateway-any-method", HttpMethod::Any),
];

impl<'d> Reader<'d> {
    fn new(doc: &'d Value, options: &'d ImportOptions) -> Result<Reader<'d>, ApiError> {
        let Some(root) = doc.as_object() else {
            return Err(ApiError::bad_request(
                "The API definition must be an object at the top level",
            ));
        };
        let version = version(root)?;
        Ok(Reader {
            doc,
            root,
            version,
            options,
            errors: Vec::new(),
            warnings: Vec::new(),
            more_errors: 0,
            more_warnings: 0,
            schemes: BTreeMap::new(),
            authorizers: Vec::new(),
            warned_schemes: BTreeSet::new(),
            validators: BTreeSet::new(),
            default_validator: None,
            inline_models: Vec::new(),
            model_names: BTreeSet::new(),
        })
    }

    fn error(&mut self, text: String) {
        if self.errors.len() < MAX_PROBLEMS {
            self.errors.push(text);
        } else {
            self.more_errors += 1;
        }
    }

    fn warn(&mut self, text: String) {
        if self.warnings.contains(&text) {
            return;
        }
        if self.warnings.len() < MAX_PROBLEMS {
            self.warnings.push(text);
        } else {
            self.more_warnings += 1;
        }
    }

    fn finished_errors(&self) -> Vec<String> {
        let mut errors = self.errors.clone();
        if self.more_errors > 0 {
            errors.push(format!("... and {} more errors", self.more_errors));
        }
        errors
    }

    fn finished_warnings(&self) -> Vec<String> {
        let mut warnings = self.warnings.clone();
        if self.more_warnings > 0 {
            warnings.push(format!("... and {} more warnings", self.more_warnings));
        }
        warnings
    }

    fn plan(&mut self) -> ImportPlan {
        let (name, description, version) = self.info();
        let mut plan = ImportPlan {
            name,
            description,
            version,
            api_key_source: None,
            binary_media_types: None,
            minimum_compression_size: None,
            policy: None,
            vpc_endpoint_ids: None,
            disable_execute_api_endpoint: None,
            gateway_responses: Vec::new(),
            resources: Vec::new(),
            models: Vec::new(),
            request_validators: Vec::new(),
            authorizers: Vec::new(),
            documentation: None,
            warnings: Vec::new(),
        };
        self.security_schemes();
        plan.authorizers = std::mem::take(&mut self.authorizers);
        self.root_extensions(&mut plan);
        self.components_extensions();
        if let Some(name) = self.default_validator.clone()
            && !self.validators.contains(&name)
        {
            self.error(format!(
                "Invalid request validator '{name}' at {}: it is not one of x-amazon-apigateway-request-validators",
                Loc::root().key("x-amazon-apigateway-request-validator")
            ));
        }
        plan.models = self.models();
        let base = self.base_segments();
        let default_security = self
            .root
            .get("security")
            .map(|v| (v, Loc::root().key("security")));
        plan.resources = self.paths(&base, default_security);
        plan.models.append(&mut self.inline_models);
        plan.warnings = self.finished_warnings();
        plan
    }

    // -----------------------------------------------------------------------------------------
    // Typed reading. Each helper reports what it could not read and returns `None`.

    fn resolved(&mut self, value: &'d Value, loc: &Loc) -> Option<(&'d Value, Loc)> {
        match resolve(self.doc, value, loc) {
            Ok(found) => Some(found),
            Err(problem) => {
                self.error(problem);
                None
            }
        }
    }

    fn object(&mut self, value: &'d Value, loc: &Loc) -> Option<&'d Map<String, Value>> {
        match value.as_object() {
            Some(map) => Some(map),
            None => {
                self.error(format!(
                    "Expected an object at {loc}, found {}",
                    describe(value)
                ));
                None
            }
        }
    }

    /// A string; numbers and booleans are taken as their text (`version: 1.0`).
    fn text(&mut self, value: &Value, loc: &Loc) -> Option<String> {
        match value {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                self.error(format!(
                    "Expected a string at {loc}, found {}",
                    describe(other)
                ));
                None
            }
        }
    }

    fn boolean(&mut self, value: &Value, loc: &Loc) -> Option<bool> {
        match value {
            Value::Bool(b) => Some(*b),
            Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
            Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
            other => {
                self.error(format!(
                    "Expected true or false at {loc}, found {}",
                    describe(other)
                ));
                None
            }
        }
    }

    fn integer(&mut self, value: &Value, loc: &Loc) -> Option<i64> {
        let parsed = match value {
            Value::Number(n) => n.as_i64(),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.error(format!(
                "Expected a whole number at {loc}, found {}",
                describe(value)
            ));
        }
        parsed
    }

    /// A map of strings (`requestParameters`, `responseTemplates`). A value that is an object
    /// or a list is kept as its JSON text, since templates are text.
    fn string_map(&mut self, value: &'d Value, loc: &Loc) -> Option<StringMap> {
        let (value, loc) = self.resolved(value, loc)?;
        let map = self.object(value, &loc)?;
        let mut out = StringMap::new();
        for (key, item) in map {
            let text = match item {
                Value::String(text) => text.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Object(_) | Value::Array(_) => item.to_string(),
                Value::Null => {
                    self.error(format!("Expected a string at {}, found null", loc.key(key)));
                    continue;
                }
            };
            out.insert(key.clone(), text);
        }
        Some(out)
    }

    fn string_list(&mut self, value: &'d Value, loc: &Loc) -> Option<Vec<String>> {
        let Some(items) = value.as_array() else {
            self.error(format!(
                "Expected a list of strings at {loc}, found {}",
                describe(value)
            ));
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(text) => out.push(text.to_owned()),
                None => self.error(format!(
                    "Expected a string at {}, found {}",
                    loc.index(i),
                    describe(item)
                )),
            }
        }
        Some(out)
    }

    /// An enum spelled in any case (`http_proxy`, `WHEN_NO_MATCH`).
    fn enumeration<T>(
        &mut self,
        value: &Value,
        loc: &Loc,
        parse: fn(&str) -> Option<T>,
        options: String,
    ) -> Option<T> {
        let text = self.text(value, loc)?;
        let parsed = parse(&text.to_ascii_uppercase());
        if parsed.is_none() {
            self.error(format!(
                "Invalid value '{text}' at {loc}: use one of {options}"
            ));
        }
        parsed
    }

    // -----------------------------------------------------------------------------------------
    // The document as a whole.

    fn info(&mut self) -> (Option<String>, Option<String>, Option<String>) {
        let loc = Loc::root().key("info");
        let Some(info) = self.root.get("info") else {
            return (None, None, None);
        };
        let Some(info) = self.object(info, &loc) else {
            return (None, None, None);
        };
        let field = |reader: &mut Self, name: &str| {
            info.get(name)
                .and_then(|v| reader.text(v, &loc.key(name)))
                .filter(|t| !t.is_empty())
        };
        let title = field(self, "title");
        let description = field(self, "description");
        let version = field(self, "version");
        (title, description, version)
    }

    /// The base path's segments that the `basepath` option puts in front of every path.
    fn base_segments(&mut self) -> Vec<String> {
        if self.options.base_path == BasePath::Ignore {
            return Vec::new();
        }
        let Some((raw, loc)) = self.base_path() else {
            return Vec::new();
        };
        let mut segments = Vec::new();
        for segment in raw.split('/').filter(|s| !s.is_empty()) {
            if let Err(e) = validate::path_part(segment) {
                self.error(format!(
                    "Invalid base path '{raw}' at {loc}: {}",
                    e.message()
                ));
                return Vec::new();
            }
            segments.push(segment.to_owned());
        }
        if self.options.base_path == BasePath::Split && !segments.is_empty() {
            segments.remove(0);
        }
        segments
    }

    /// `basePath` (2.0) or the path of the first server's URL with its variables filled in
    /// (3.x), with where it was found.
    fn base_path(&mut self) -> Option<(String, Loc)> {
        match self.version {
            Version::V2 => {
                let loc = Loc::root().key("basePath");
                let value = self.root.get("basePath")?;
                self.text(value, &loc).map(|text| (text, loc))
            }
            Version::V3 => {
                let servers_loc = Loc::root().key("servers");
                let server = self.root.get("servers")?.as_array()?.first()?;
                let loc = servers_loc.index(0);
                let server = self.object(server, &loc)?;
                let url_loc = loc.key("url");
                let mut url = self.text(server.get("url")?, &url_loc)?;
                if let Some(variables) = server.get("variables").and_then(Value::as_object) {
                    for (name, variable) in variables {
                        let default = variable
                            .get("default")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        url = url.replace(&format!("{{{name}}}"), default);
                    }
                }
                if url.contains('{') {
                    self.error(format!(
                        "Invalid server URL '{url}' at {url_loc}: every {{variable}} needs a default in servers[0].variables"
                    ));
                    return None;
                }
                let path = match url.split_once("://") {
                    Some((_, rest)) => rest.find('/').map(|i| rest[i..].to_owned())?,
                    None => url,
                };
                Some((path, url_loc))
            }
        }
    }

    fn security_schemes(&mut self) {
        let (container, loc) = match self.version {
            Version::V2 => (
                self.root.get("securityDefinitions"),
                Loc::root().key("securityDefinitions"),
            ),
            Version::V3 => (
                self.root
                    .get("components")
                    .and_then(|c| c.get("securitySchemes")),
                Loc::root().key("components").key("securitySchemes"),
            ),
        };
        let Some(container) = container else {
            return;
        };
        let Some(schemes) = self.object(container, &loc) else {
            return;
        };
        for (name, scheme) in schemes {
            let Some((scheme, scheme_loc)) = self.resolved(scheme, &loc.key(name)) else {
                continue;
            };
            let Some(scheme) = self.object(scheme, &scheme_loc) else {
                continue;
            };
            let field = |key: &str| scheme.get(key).and_then(Value::as_str).unwrap_or_default();
            let auth_type = field("x-amazon-apigateway-authtype");
            let kind = if auth_type.eq_ignore_ascii_case("awsSigv4") {
                Scheme::Iam
            } else if let Some(extension) = scheme.get("x-amazon-apigateway-authorizer") {
                let loc = scheme_loc.key("x-amazon-apigateway-authorizer");
                match self.authorizer(name, scheme, extension, &loc) {
                    Some(authorizer) => {
                        let kind = authorizer.kind;
                        self.authorizers.push(authorizer);
                        Scheme::Authorizer(kind)
                    }
                    None => continue,
                }
            } else if field("type") == "apiKey" {
                if field("in") == "header" && field("name").eq_ignore_ascii_case("x-api-key") {
                    Scheme::ApiKey
                } else {
                    Scheme::Unsupported(format!(
                        "an API key in the {} '{}'; API Gateway reads API keys from the x-api-key header",
                        field("in"),
                        field("name")
                    ))
                }
            } else {
                Scheme::Unsupported(format!("of type '{}'", field("type")))
            };
            for key in scheme.keys() {
                if key.starts_with("x-amazon-apigateway-")
                    && !matches!(
                        key.as_str(),
                        "x-amazon-apigateway-authtype" | "x-amazon-apigateway-authorizer"
                    )
                {
                    self.warn(format!(
                        "Unsupported extension {key} at {scheme_loc} was ignored"
                    ));
                }
            }
            self.schemes.insert(name.clone(), kind);
        }
    }

    fn root_extensions(&mut self, plan: &mut ImportPlan) {
        let root = self.root;
        for (key, value) in root {
            let loc = Loc::root().key(key);
            match key.as_str() {
                "x-amazon-apigateway-api-key-source" => {
                    plan.api_key_source = self.enumeration(
                        value,
                        &loc,
                        ApiKeySource::parse,
                        ApiKeySource::options(", "),
                    );
                }
                "x-amazon-apigateway-binary-media-types" => {
                    plan.binary_media_types = self.string_list(value, &loc);
                }
                "x-amazon-apigateway-minimum-compression-size" => {
                    if let Some(size) = self.integer(value, &loc) {
                        if (0..=MAX_COMPRESSION_SIZE).contains(&size) {
                            plan.minimum_compression_size = i32::try_from(size).ok();
                        } else {
                            self.error(format!(
                                "Invalid minimum compression size {size} at {loc}, must be between 0 and 10485760"
                            ));
                        }
                    }
                }
                "x-amazon-apigateway-policy" => {
                    plan.policy = match value {
                        Value::String(text) => Some(text.clone()),
                        Value::Object(_) => Some(value.to_string()),
                        other => {
                            self.error(format!(
                                "Expected a policy document (an object) at {loc}, found {}",
                                describe(other)
                            ));
                            None
                        }
                    };
                    if let Some(Err(e)) = plan.policy.as_deref().map(crate::policy::check) {
                        self.error(format!("{e} (at {loc})"));
                        plan.policy = None;
                    }
                }
                "x-amazon-apigateway-endpoint-configuration" => {
                    self.endpoint_configuration(value, &loc, plan);
                }
                "x-amazon-apigateway-gateway-responses" => {
                    plan.gateway_responses = self.gateway_responses(value, &loc);
                }
                // A marker of the export format; it asks for nothing.
                "x-amazon-apigateway-importexport-version" => {}
                "x-amazon-apigateway-documentation" if self.options.ignore_documentation => {}
                "x-amazon-apigateway-documentation" => {
                    let (parts, warnings) = crate::documentation::parse_extension(value);
                    for warning in warnings {
                        self.warn(format!("{warning} (at {loc})"));
                    }
                    plan.documentation = Some(parts);
                }
                "x-amazon-apigateway-request-validators" => {
                    plan.request_validators = self.request_validators(value, &loc);
                }
                "x-amazon-apigateway-request-validator" => {
                    self.default_validator = self.text(value, &loc);
                }
                "webhooks" => self.warn(format!(
                    "Webhooks (at {loc}) have no meaning for a REST API and were ignored"
                )),
                other if other.starts_with("x-amazon-apigateway-") => self.warn(format!(
                    "Unsupported extension {other} at {loc} was ignored"
                )),
                _ => {}
            }
        }
    }

    /// `components` may hold `x-amazon-apigateway-integrations` for `$ref`s to point at;
    /// other AWS extensions there are not read.
    fn components_extensions(&mut self) {
        let Some(components) = self.root.get("components").and_then(Value::as_object) else {
            return;
        };
        let loc = Loc::root().key("components");
        for key in components.keys() {
            if key.starts_with("x-amazon-apigateway-") && key != "x-amazon-apigateway-integrations"
            {
                self.warn(format!(
                    "Unsupported extension {key} at {} was ignored",
                    loc.key(key)
                ));
            }
        }
    }

    fn endpoint_configuration(&mut self, value: &'d Value, loc: &Loc, plan: &mut ImportPlan) {
        let Some((value, loc)) = self.resolved(value, loc) else {
            return;
        };
        let Some(config) = self.object(value, &loc) else {
            return;
        };
        for (key, item) in config {
            let item_loc = loc.key(key);
            match key.as_str() {
                "vpcEndpointIds" => plan.vpc_endpoint_ids = self.string_list(item, &item_loc),
                "disableExecuteApiEndpoint" => {
                    plan.disable_execute_api_endpoint = self.boolean(item, &item_loc);
                }
                other => self.warn(format!(
                    "Unsupported endpoint setting '{other}' at {item_loc} was ignored; the endpoint type comes from the endpointConfigurationTypes parameter"
                )),
            }
        }
    }

    fn gateway_responses(&mut self, value: &'d Value, loc: &Loc) -> Vec<GatewayResponse> {
        let mut out = Vec::new();
        let Some((value, loc)) = self.resolved(value, loc) else {
            return out;
        };
        let Some(responses) = self.object(value, &loc) else {
            return out;
        };
        for (name, response) in responses {
            let response_loc = loc.key(name);
            let Some(kind) = defaults::response_type(name) else {
                let names: Vec<&str> = defaults::TYPES.iter().map(|(n, _)| *n).collect();
                self.error(format!(
                    "Invalid gateway response type '{name}' at {response_loc}: use one of {}",
                    names.join(", ")
                ));
                continue;
            };
            let Some((response, response_loc)) = self.resolved(response, &response_loc) else {
                continue;
            };
            let Some(response) = self.object(response, &response_loc) else {
                continue;
            };
            let mut status_code = kind.default_status.map(str::to_owned);
            let mut parameters = StringMap::new();
            let mut templates = defaults::default_templates();
            for (key, item) in response {
                let item_loc = response_loc.key(key);
                match key.as_str() {
                    "statusCode" => {
                        if let Some(code) = self.status_code(item, &item_loc) {
                            status_code = Some(code);
                        }
                    }
                    "responseParameters" => {
                        parameters = self.string_map(item, &item_loc).unwrap_or_default();
                        if let Err(e) = crate::validate::gateway_response_mappings(&parameters) {
                            self.error(format!("{} (at {item_loc})", e.message()));
                            parameters.clear();
                        }
                    }
                    "responseTemplates" => {
                        templates = self.string_map(item, &item_loc).unwrap_or_default();
                    }
                    other => self.warn(format!(
                        "Unknown gateway response member '{other}' at {item_loc} was ignored"
                    )),
                }
            }
            out.push(GatewayResponse {
                response_type: kind.name.to_owned(),
                status_code,
                response_parameters: parameters,
                response_templates: templates,
                default_response: false,
            });
        }
        out
    }

    /// A status code, written as a string or a number, in `[1-5]\d\d`.
    fn status_code(&mut self, value: &Value, loc: &Loc) -> Option<String> {
        let code = self.text(value, loc)?;
        if validate::status_code(&code, "statusCode").is_ok() {
            Some(code)
        } else {
            self.error(format!(
                "Invalid status code '{code}' at {loc}: use a code from 100 to 599"
            ));
            None
        }
    }

    // -----------------------------------------------------------------------------------------
    // Paths and the resource tree.

    fn paths(
        &mut self,
        base: &[String],
        default_security: Option<(&'d Value, Loc)>,
    ) -> Vec<PlannedResource> {
        let mut drafts: BTreeMap<String, Draft> = BTreeMap::new();
        let paths_loc = Loc::root().key("paths");
        if let Some(paths) = self.root.get("paths")
            && let Some(paths) = self.object(paths, &paths_loc)
        {
            for (key, item) in paths {
                let loc = paths_loc.key(key);
                if key.starts_with("x-") {
                    if key.starts_with("x-amazon-apigateway-") {
                        self.warn(format!("Unsupported extension {key} at {loc} was ignored"));
                    }
                    continue;
                }
                let Some(segments) = self.path_segments(key, &loc) else {
                    continue;
                };
                let mut full = base.to_vec();
                full.extend(segments);
                let path = format!("/{}", full.join("/"));
                if let Some(earlier) = drafts.get(&path).and_then(|d| d.loc.clone()) {
                    self.error(format!(
                        "Duplicate path at {loc}: {earlier} already declares {path}"
                    ));
                    continue;
                }
                let Some((item, item_loc)) = self.resolved(item, &loc) else {
                    continue;
                };
                let Some(item) = self.object(item, &item_loc) else {
                    continue;
                };
                let methods = self.path_item(&path, item, &item_loc, default_security.clone());
                drafts.insert(
                    path,
                    Draft {
                        segments: full,
                        methods,
                        loc: Some(loc),
                    },
                );
            }
        }
        self.tree(drafts)
    }

    /// The segments of a path key (`/pets/{petId}` → `pets`, `{petId}`), each checked as
    /// CreateResource checks a path part.
    fn path_segments(&mut self, key: &str, loc: &Loc) -> Option<Vec<String>> {
        let Some(rest) = key.strip_prefix('/') else {
            self.error(format!(
                "Invalid path '{key}' at {loc}: a path must start with '/'"
            ));
            return None;
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Some(Vec::new());
        }
        let mut segments = Vec::new();
        for segment in rest.split('/') {
            if let Err(e) = validate::path_part(segment) {
                let reason = if segment.is_empty() {
                    "a path cannot have an empty segment ('//')".to_owned()
                } else {
                    format!("'{segment}': {}", e.message())
                };
                self.error(format!(
                    "Unable to create resource at path '{key}': {reason} (at {loc})"
                ));
                return None;
            }
            segments.push(segment.to_owned());
        }
        Some(segments)
    }

    /// Adds the root and every implied parent, checks the rules CreateResource enforces
    /// (nothing under a greedy variable, one variable child per parent), and orders parents
    /// before children.
    fn tree(&mut self, mut drafts: BTreeMap<String, Draft>) -> Vec<PlannedResource> {
        let declared: Vec<Vec<String>> = drafts.values().map(|d| d.segments.clone()).collect();
        drafts.entry("/".to_owned()).or_default();
        for segments in declared {
            for len in 1..segments.len() {
                let prefix = &segments[..len];
                drafts
                    .entry(format!("/{}", prefix.join("/")))
                    .or_insert_with(|| Draft {
                        segments: prefix.to_vec(),
                        ..Draft::default()
                    });
            }
        }
        // Variable children by parent path, in path order, to find a second one.
        let mut variable_child: BTreeMap<String, String> = BTreeMap::new();
        let mut out = Vec::new();
        for (path, draft) in &drafts {
            let (parent_path, path_part) = match draft.segments.split_last() {
                None => (None, String::new()),
                Some((last, parents)) => (Some(format!("/{}", parents.join("/"))), last.clone()),
            };
            if let Some(parent) = draft
                .segments
                .len()
                .checked_sub(2)
                .map(|i| &draft.segments[i])
                && matches!(validate::path_part(parent), Ok(PathPart::Greedy(_)))
            {
                self.error(format!(
                    "Unable to create resource at path '{path}': Cannot create a child of a resource with a greedy path variable: {parent}{}",
                    at(draft.loc.as_ref())
                ));
            }
            if let Some(parent_path) = &parent_path
                && validate::path_part(&path_part).is_ok_and(|p| p.is_variable())
            {
                match variable_child.get(parent_path) {
                    Some(sibling) => self.error(format!(
                        "Unable to create resource at path '{path}': A sibling ({sibling}) of this resource already has a variable path part -- only one is allowed{}",
                        at(draft.loc.as_ref())
                    )),
                    None => {
                        variable_child.insert(parent_path.clone(), path_part.clone());
                    }
                }
            }
            out.push(PlannedResource {
                path: path.clone(),
                path_part,
                parent_path,
                methods: draft.methods.clone(),
            });
        }
        out
    }

    fn path_item(
        &mut self,
        path: &str,
        item: &'d Map<String, Value>,
        loc: &Loc,
        default_security: Option<(&'d Value, Loc)>,
    ) -> BTreeMap<String, PlannedMethod> {
        let mut shared_parameters: Vec<(&'d Value, Loc)> = Vec::new();
        if let Some(parameters) = item.get("parameters") {
            let params_loc = loc.key("parameters");
            match parameters.as_array() {
                Some(list) => shared_parameters.extend(
                    list.iter()
                        .enumerate()
                        .map(|(i, p)| (p, params_loc.index(i))),
                ),
                None => self.error(format!(
                    "Expected a list of parameters at {params_loc}, found {}",
                    describe(parameters)
                )),
            }
        }
        let mut methods = BTreeMap::new();
        for (key, value) in item {
            let op_loc = loc.key(key);
            let verb = match OPERATIONS.iter().find(|(name, _)| name == key) {
                Some((_, verb)) => *verb,
                None => {
                    if key == "trace" {
                        self.warn(format!(
                            "TRACE is not a method API Gateway supports: {op_loc} was not imported"
                        ));
                    } else if key.starts_with("x-amazon-apigateway-") {
                        self.warn(format!(
                            "Unsupported extension {key} at {op_loc} was ignored"
                        ));
                    } else if !key.starts_with("x-") && !PATH_ITEM_FIELDS.contains(&key.as_str()) {
                        self.warn(format!("Unknown member '{key}' at {op_loc} was ignored"));
                    }
                    continue;
                }
            };
            if let Some(method) = self.operation(
                path,
                verb,
                value,
                &op_loc,
                &shared_parameters,
                default_security.clone(),
            ) {
                methods.insert(verb.as_str().to_owned(), method);
            }
        }
        methods
    }

    fn operation(
        &mut self,
        path: &str,
        verb: HttpMethod,
        value: &'d Value,
        loc: &Loc,
        shared_parameters: &[(&'d Value, Loc)],
        default_security: Option<(&'d Value, Loc)>,
    ) -> Option<PlannedMethod> {
        let (value, loc) = self.resolved(value, loc)?;
        let op = self.object(value, &loc)?;
        let mut method = Method {
            http_method: verb,
            authorization_type: AuthorizationType::None,
            authorizer_id: None,
            api_key_required: false,
            request_validator_id: None,
            operation_name: None,
            request_parameters: BTreeMap::new(),
            request_models: StringMap::new(),
            method_responses: BTreeMap::new(),
            integration: None,
            authorization_scopes: Vec::new(),
        };
        if let Some(id) = op.get("operationId") {
            method.operation_name = self
                .text(id, &loc.key("operationId"))
                .filter(|t| !t.is_empty());
        }
        // Path-level parameters first; an operation's own parameter of the same name and
        // location replaces one of them (the key is the same).
        let mut parameters: Vec<(&'d Value, Loc)> = shared_parameters.to_vec();
        if let Some(own) = op.get("parameters") {
            let params_loc = loc.key("parameters");
            match own.as_array() {
                Some(list) => parameters.extend(
                    list.iter()
                        .enumerate()
                        .map(|(i, p)| (p, params_loc.index(i))),
                ),
                None => self.error(format!(
                    "Expected a list of parameters at {params_loc}, found {}",
                    describe(own)
                )),
            }
        }
        if method.request_validator_id.is_none()
            && !op.contains_key("x-amazon-apigateway-request-validator")
        {
            method.request_validator_id = self.default_validator.clone();
        }
        let mut body = None;
        for (parameter, parameter_loc) in parameters {
            if let Some((value, body_loc)) = self.body_parameter(parameter, &parameter_loc) {
                body = Some((value, body_loc));
            } else if let Some((key, required)) = self.parameter(parameter, &parameter_loc) {
                method.request_parameters.insert(key, required);
            }
        }
        method.request_models = self.request_models(op, body, &loc, verb, path);
        if let Some(responses) = op.get("responses") {
            let produces = self.media_types(op, "produces");
            method.method_responses =
                self.method_responses(responses, &loc.key("responses"), &produces);
        }
        let security = op
            .get("security")
            .map(|v| (v, loc.key("security")))
            .or(default_security);
        if let Some((security, security_loc)) = security {
            self.security(security, &security_loc, &mut method);
        }
        for (key, item) in op {
            let item_loc = loc.key(key);
            match key.as_str() {
                "x-amazon-apigateway-integration" => {
                    let declared = (&method.request_parameters, &method.method_responses);
                    method.integration = self.integration(item, &item_loc, (verb, path), declared);
                }
                "x-amazon-apigateway-auth" => self.auth(item, &item_loc, &mut method),
                "x-amazon-apigateway-request-validator" => {
                    method.request_validator_id = self.validator_name(item, &item_loc);
                }
                other if other.starts_with("x-amazon-apigateway-") => self.warn(format!(
                    "Unsupported extension {other} at {item_loc} was ignored"
                )),
                _ => {}
            }
        }
        Some(PlannedMethod { method, at: loc })
    }

    // -----------------------------------------------------------------------------------------
    // Models and request validators.

    /// The document's schemas as models: `definitions` (2.0) or `components.schemas` (3.x).
    fn models(&mut self) -> Vec<PlannedModel> {
        let (schemas, loc) = match self.version {
            Version::V2 => (self.root.get("definitions"), Loc::root().key("definitions")),
            Version::V3 => (
                self.root.get("components").and_then(|c| c.get("schemas")),
                Loc::root().key("components").key("schemas"),
            ),
        };
        let Some(schemas) = schemas else {
            return Vec::new();
        };
        let Some(schemas) = self.object(schemas, &loc) else {
            return Vec::new();
        };
        let mut models = Vec::new();
        for (name, schema) in schemas {
            let at = loc.key(name);
            if let Err(e) = crate::schemas::check_name(name) {
                self.error(format!("Unable to create model for '{name}' at {at}: {e}"));
                continue;
            }
            if let Some(model) = self.model(name, schema, &at) {
                self.model_names.insert(name.clone());
                models.push(model);
            }
        }
        models
    }

    /// A schema as a model, its local references made model URLs.
    fn model(&mut self, name: &str, schema: &Value, at: &Loc) -> Option<PlannedModel> {
        if !schema.is_object() {
            self.error(format!(
                "Unable to create model for '{name}' at {at}: expected a schema (an object), found {}",
                describe(schema)
            ));
            return None;
        }
        let mut schema = schema.clone();
        let prefix = schema_prefix(self.version);
        crate::schemas::rewrite_refs(&mut schema, &mut |reference| {
            let rest = reference.strip_prefix(prefix)?;
            Some(match rest.split_once('/') {
                Some((name, pointer)) => format!(
                    "{}#/{pointer}",
                    crate::schemas::model_url(PLANNED_API, name)
                ),
                None => crate::schemas::model_url(PLANNED_API, rest),
            })
        });
        let description = schema
            .get("description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        Some(PlannedModel {
            name: name.to_owned(),
            description,
            schema: schema.to_string(),
            at: at.clone(),
        })
    }

    /// `x-amazon-apigateway-request-validators`: name → what it checks.
    fn request_validators(&mut self, value: &'d Value, loc: &Loc) -> Vec<PlannedValidator> {
        let Some(map) = self.object(value, loc) else {
            return Vec::new();
        };
        let mut validators = Vec::new();
        for (name, entry) in map {
            let at = loc.key(name);
            let Some(fields) = self.object(entry, &at) else {
                continue;
            };
            let mut validator = PlannedValidator {
                name: name.clone(),
                validate_request_body: false,
                validate_request_parameters: false,
            };
            for (field, flag) in fields {
                let field_loc = at.key(field);
                match field.as_str() {
                    "validateRequestBody" => {
                        validator.validate_request_body =
                            self.boolean(flag, &field_loc).unwrap_or(false);
                    }
                    "validateRequestParameters" => {
                        validator.validate_request_parameters =
                            self.boolean(flag, &field_loc).unwrap_or(false);
                    }
                    other => self.warn(format!(
                        "Unknown request validator field '{other}' at {field_loc} was ignored"
                    )),
                }
            }
            self.validators.insert(name.clone());
            validators.push(validator);
        }
        validators
    }

    /// An operation's `x-amazon-apigateway-request-validator`: a validator's name.
    fn validator_name(&mut self, value: &Value, loc: &Loc) -> Option<String> {
        let name = self.text(value, loc)?;
        if self.validators.contains(&name) {
            Some(name)
        } else {
            self.error(format!(
                "Invalid request validator '{name}' at {loc}: it is not one of x-amazon-apigateway-request-validators"
            ));
            None
        }
    }

    /// A 2.0 operation's `produces` or `consumes` (else the document's, else
    /// `application/json`).
    fn media_types(&self, op: &Map<String, Value>, key: &str) -> Vec<String> {
        op.get(key)
            .or_else(|| self.root.get(key))
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|list| !list.is_empty())
            .unwrap_or_else(|| vec!["application/json".to_owned()])
    }

    /// The models of a response, by content type: the schemas its `schema` (2.0, for each
    /// type the operation produces) or `content` (3.x) names with a `$ref`. Inline response
    /// schemas describe nothing the gateway checks and are not made models.
    fn response_models(&self, response: &Map<String, Value>, produces: &[String]) -> StringMap {
        let named = |schema: &Value| {
            schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| local_schema_name(r, self.version))
                .filter(|name| self.model_names.contains(*name))
                .map(str::to_owned)
        };
        let mut models = StringMap::new();
        match self.version {
            Version::V2 => {
                if let Some(name) = response.get("schema").and_then(named) {
                    for content_type in produces {
                        models.insert(content_type.clone(), name.clone());
                    }
                }
            }
            Version::V3 => {
                if let Some(content) = response.get("content").and_then(Value::as_object) {
                    for (content_type, media) in content {
                        if let Some(name) = media.get("schema").and_then(named) {
                            models.insert(content_type.clone(), name);
                        }
                    }
                }
            }
        }
        models
    }

    /// A 2.0 `in: body` parameter: its schema. `None` for any other parameter.
    fn body_parameter(&mut self, value: &'d Value, loc: &Loc) -> Option<(&'d Value, Loc)> {
        let (value, loc) = resolve(self.doc, value, loc).ok()?;
        if value.get("in").and_then(Value::as_str) != Some("body") {
            return None;
        }
        match value.get("schema") {
            Some(schema) => Some((schema, loc.key("schema"))),
            None => {
                self.error(format!("Missing schema at {}", loc.key("schema")));
                None
            }
        }
    }

    /// The models of an operation's request body by content type: `requestBody.content`
    /// (3.x), or the body parameter's schema for each type the operation consumes (2.0).
    fn request_models(
        &mut self,
        op: &'d Map<String, Value>,
        body: Option<(&'d Value, Loc)>,
        loc: &Loc,
        verb: HttpMethod,
        path: &str,
    ) -> StringMap {
        let mut models = StringMap::new();
        let mut bodies: Vec<(String, &'d Value, Loc)> = Vec::new();
        match self.version {
            Version::V2 => {
                if let Some((schema, schema_loc)) = body {
                    for content_type in self.media_types(op, "consumes") {
                        bodies.push((content_type, schema, schema_loc.clone()));
                    }
                }
            }
            Version::V3 => {
                let Some(request_body) = op.get("requestBody") else {
                    return models;
                };
                let Some((request_body, body_loc)) =
                    self.resolved(request_body, &loc.key("requestBody"))
                else {
                    return models;
                };
                let content_loc = body_loc.key("content");
                let Some(content) = request_body.get("content").and_then(Value::as_object) else {
                    return models;
                };
                for (content_type, media) in content {
                    if let Some(schema) = media.get("schema") {
                        let schema_loc = content_loc.key(content_type).key("schema");
                        // Any type at all is the model every other type falls back to.
                        let content_type = if content_type == "*/*" {
                            "$default".to_owned()
                        } else {
                            content_type.clone()
                        };
                        bodies.push((content_type, schema, schema_loc));
                    }
                }
            }
        }
        for (content_type, schema, schema_loc) in bodies {
            let named = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| local_schema_name(r, self.version));
            let name = match named {
                Some(name) if self.model_names.contains(name) => name.to_owned(),
                Some(name) => {
                    self.error(format!(
                        "Invalid model '{name}' at {schema_loc}: no such schema in the document"
                    ));
                    continue;
                }
                None => {
                    // An inline schema becomes a model of its own.
                    let name = self.inline_model_name(op, verb, path);
                    let Some(model) = self.model(&name, schema, &schema_loc) else {
                        continue;
                    };
                    self.model_names.insert(name.clone());
                    self.inline_models.push(model);
                    name
                }
            };
            models.insert(content_type, name);
        }
        models
    }

    /// A new model name for an inline body schema: the operation id (or verb and path),
    /// letters and digits only, then `Body`, then a number if taken.
    fn inline_model_name(&self, op: &Map<String, Value>, verb: HttpMethod, path: &str) -> String {
        let base: String = match op.get("operationId").and_then(Value::as_str) {
            Some(id) if id.chars().any(|c| c.is_ascii_alphanumeric()) => id.to_owned(),
            _ => format!("{}{path}", verb.as_str().to_ascii_lowercase()),
        }
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
        let base = format!("{base}Body");
        let mut name = base.clone();
        let mut n = 2;
        while self.model_names.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }

    /// A parameter as a method request parameter (`method.request.path.petId` → required).
    /// Bodies and form fields describe models, which are not imported.
    fn parameter(&mut self, value: &'d Value, loc: &Loc) -> Option<(String, bool)> {
        let (value, loc) = self.resolved(value, loc)?;
        let parameter = self.object(value, &loc)?;
        let name = match parameter.get("name") {
            Some(name) => self.text(name, &loc.key("name"))?,
            None => {
                self.error(format!("Missing parameter name at {}", loc.key("name")));
                return None;
            }
        };
        let location = match parameter.get("in") {
            Some(location) => self.text(location, &loc.key("in"))?,
            None => {
                self.error(format!("Missing parameter location at {}", loc.key("in")));
                return None;
            }
        };
        let required = match parameter.get("required") {
            Some(required) => self.boolean(required, &loc.key("required"))?,
            None => false,
        };
        let source = match location.as_str() {
            "path" => "path",
            "query" => "querystring",
            "header" => "header",
            "body" | "formData" => return None,
            "cookie" => {
                self.warn(format!(
                    "Cookie parameters are not supported: '{name}' at {loc} was not imported"
                ));
                return None;
            }
            other => {
                self.error(format!(
                    "Invalid parameter location '{other}' at {}: use path, query or header",
                    loc.key("in")
                ));
                return None;
            }
        };
        if name.is_empty() {
            self.error(format!(
                "Missing parameter name at {}: the name cannot be empty",
                loc.key("name")
            ));
            return None;
        }
        // A path parameter is always required: the path cannot match without it.
        Some((
            format!("method.request.{source}.{name}"),
            required || source == "path",
        ))
    }

    fn method_responses(
        &mut self,
        value: &'d Value,
        loc: &Loc,
        produces: &[String],
    ) -> BTreeMap<String, MethodResponse> {
        let mut out = BTreeMap::new();
        let Some((value, loc)) = self.resolved(value, loc) else {
            return out;
        };
        let Some(responses) = self.object(value, &loc) else {
            return out;
        };
        for (code, response) in responses {
            let response_loc = loc.key(code);
            if code.starts_with("x-") {
                if code.starts_with("x-amazon-apigateway-") {
                    self.warn(format!(
                        "Unsupported extension {code} at {response_loc} was ignored"
                    ));
                }
                continue;
            }
            if code == "default" {
                self.warn(format!(
                    "The 'default' response at {response_loc} was not imported: API Gateway declares method responses by status code"
                ));
                continue;
            }
            if validate::status_code(code, "statusCode").is_err() {
                let range = code.len() == 3
                    && code.starts_with(['1', '2', '3', '4', '5'])
                    && code[1..].eq_ignore_ascii_case("xx");
                if range {
                    self.warn(format!(
                        "Response ranges such as {code} are not supported: {response_loc} was not imported"
                    ));
                } else {
                    self.error(format!(
                        "Invalid response status code '{code}' at {response_loc}: use a code from 100 to 599"
                    ));
                }
                continue;
            }
            let Some((response, response_loc)) = self.resolved(response, &response_loc) else {
                continue;
            };
            let Some(response) = self.object(response, &response_loc) else {
                continue;
            };
            let mut response_parameters = BTreeMap::new();
            if let Some(headers) = response.get("headers") {
                let headers_loc = response_loc.key("headers");
                if let Some(headers) = self.object(headers, &headers_loc) {
                    for name in headers.keys() {
                        response_parameters.insert(format!("method.response.header.{name}"), false);
                    }
                }
            }
            out.insert(
                code.clone(),
                MethodResponse {
                    status_code: code.clone(),
                    response_parameters,
                    response_models: self.response_models(response, produces),
                },
            );
        }
        out
    }

    /// Security requirements: an `x-api-key` API key scheme makes the method need a key, an
    /// `awsSigv4` scheme makes it use IAM; other schemes are named in a warning.
    fn security(&mut self, value: &'d Value, loc: &Loc, method: &mut Method) {
        let Some(requirements) = value.as_array() else {
            self.error(format!(
                "Expected a list of security requirements at {loc}, found {}",
                describe(value)
            ));
            return;
        };
        for (i, requirement) in requirements.iter().enumerate() {
            let requirement_loc = loc.index(i);
            let Some(requirement) = self.object(requirement, &requirement_loc) else {
                continue;
            };
            for name in requirement.keys() {
                match self.schemes.get(name).cloned() {
                    Some(Scheme::ApiKey) => method.api_key_required = true,
                    Some(Scheme::Authorizer(kind)) => {
                        method.authorization_type = match kind {
                            AuthorizerType::CognitoUserPools => {
                                AuthorizationType::CognitoUserPools
                            }
                            AuthorizerType::Token | AuthorizerType::Request => {
                                AuthorizationType::Custom
                            }
                        };
                        method.authorizer_id = Some(name.clone());
                        let scopes = requirement.get(name.as_str()).and_then(Value::as_array);
                        method.authorization_scopes = scopes
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect();
                    }
                    Some(Scheme::Iam) => method.authorization_type = AuthorizationType::AwsIam,
                    Some(Scheme::Unsupported(what)) => {
                        if self.warned_schemes.insert(name.clone()) {
                            self.warn(format!(
                                "Security scheme '{name}' ({what}) is not supported: the methods that use it were imported without it"
                            ));
                        }
                    }
                    None => self.warn(format!(
                        "Security requirement '{name}' at {requirement_loc} names no security scheme of the document and was ignored"
                    )),
                }
            }
        }
    }

    /// The authorizer of scheme `name` (`x-amazon-apigateway-authorizer` in `extension`): a
    /// TOKEN or Cognito authorizer without an `identitySource` reads the scheme's header.
    fn authorizer(
        &mut self,
        name: &str,
        scheme: &'d Map<String, Value>,
        extension: &'d Value,
        loc: &Loc,
    ) -> Option<crate::Authorizer> {
        let fields = self.object(extension, loc)?;
        let text = |reader: &mut Self, key: &str| {
            fields
                .get(key)
                .and_then(|value| reader.text(value, &loc.key(key)))
        };
        let Some(kind_text) = text(self, "type") else {
            self.error(format!("Missing authorizer type at {}", loc.key("type")));
            return None;
        };
        let Some(kind) = AuthorizerType::parse(&kind_text.to_ascii_uppercase()) else {
            self.error(format!(
                "Invalid authorizer type '{kind_text}' at {}: use token, request or cognito_user_pools",
                loc.key("type")
            ));
            return None;
        };
        for key in fields.keys() {
            if !matches!(
                key.as_str(),
                "type"
                    | "authorizerUri"
                    | "authorizerCredentials"
                    | "identitySource"
                    | "identityValidationExpression"
                    | "authorizerResultTtlInSeconds"
                    | "providerARNs"
            ) {
                self.warn(format!(
                    "Unsupported authorizer field {key} at {} was ignored",
                    loc.key(key)
                ));
            }
        }
        let header = scheme
            .get("name")
            .and_then(Value::as_str)
            .filter(|_| scheme.get("in").and_then(Value::as_str) == Some("header"));
        let identity_source = text(self, "identitySource").or_else(|| match kind {
            AuthorizerType::Request => None,
            _ => header.map(|h| format!("method.request.header.{h}")),
        });
        let ttl = match fields.get("authorizerResultTtlInSeconds") {
            None => None,
            Some(value) => {
                let at = loc.key("authorizerResultTtlInSeconds");
                Some(i32::try_from(self.integer(value, &at)?).unwrap_or(i32::MAX))
            }
        };
        let provider_arns = match fields.get("providerARNs") {
            None => Vec::new(),
            Some(value) => self.string_list(value, &loc.key("providerARNs"))?,
        };
        let auth_type = scheme
            .get("x-amazon-apigateway-authtype")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                Some(match kind {
                    AuthorizerType::CognitoUserPools => "cognito_user_pools".to_owned(),
                    _ => "custom".to_owned(),
                })
            });
        let authorizer = crate::Authorizer {
            id: String::new(),
            name: name.to_owned(),
            kind,
            provider_arns,
            auth_type,
            authorizer_uri: text(self, "authorizerUri"),
            authorizer_credentials: text(self, "authorizerCredentials"),
            identity_source,
            identity_validation_expression: text(self, "identityValidationExpression"),
            authorizer_result_ttl_in_seconds: ttl,
        };
        if let Err(problem) = crate::authorizer::check(&authorizer) {
            self.error(format!(
                "Invalid authorizer at {loc}: {}",
                problem.message()
            ));
            return None;
        }
        Some(authorizer)
    }

    /// `x-amazon-apigateway-auth: {type: aws_iam | none}`.
    fn auth(&mut self, value: &'d Value, loc: &Loc, method: &mut Method) {
        let Some(auth) = self.object(value, loc) else {
            return;
        };
        let Some(kind) = auth.get("type") else {
            self.error(format!("Missing authorization type at {}", loc.key("type")));
            return;
        };
        let Some(kind) = self.text(kind, &loc.key("type")) else {
            return;
        };
        match kind.to_ascii_uppercase().as_str() {
            "AWS_IAM" => method.authorization_type = AuthorizationType::AwsIam,
            "NONE" => method.authorization_type = AuthorizationType::None,
            _ => self.error(format!(
                "Invalid authorization type '{kind}' at {}: use aws_iam or none",
                loc.key("type")
            )),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Integrations.

    /// `declared`: the method's request parameters and responses, which the integration's
    /// parameter mappings must name, as PutIntegration and PutIntegrationResponse check.
    fn integration(
        &mut self,
        value: &'d Value,
        loc: &Loc,
        (verb, path): (HttpMethod, &str),
        declared: (&BTreeMap<String, bool>, &BTreeMap<String, MethodResponse>),
    ) -> Option<Integration> {
        let (value, loc) = self.resolved(value, loc)?;
        let fields = self.object(value, &loc)?;
        let errors_before = self.errors.len() + self.more_errors;
        let kind = match fields.get("type") {
            Some(kind) => self.enumeration(
                kind,
                &loc.key("type"),
                IntegrationType::parse,
                "http, http_proxy, mock, aws, aws_proxy".into(),
            ),
            None => {
                self.error(format!("Missing integration type at {}", loc.key("type")));
                None
            }
        };
        let mut integration = Integration {
            kind: kind.unwrap_or(IntegrationType::Mock),
            http_method: None,
            uri: None,
            connection_type: None,
            connection_id: None,
            credentials: None,
            request_parameters: StringMap::new(),
            request_templates: StringMap::new(),
            passthrough_behavior: Some(PassthroughBehavior::WhenNoMatch),
            content_handling: None,
            timeout_in_millis: 29_000,
            // Filled with the resource id when the plan is applied, as PutIntegration does.
            cache_namespace: String::new(),
            cache_key_parameters: Vec::new(),
            integration_responses: BTreeMap::new(),
            tls_config: None,
            response_transfer_mode: None,
            integration_target: None,
        };
        for (key, item) in fields {
            let item_loc = loc.key(key);
            match key.as_str() {
                "type" => {}
                "httpMethod" => {
                    integration.http_method = self.enumeration(
                        item,
                        &item_loc,
                        HttpMethod::parse,
                        HttpMethod::options(", "),
                    );
                }
                "uri" => integration.uri = self.text(item, &item_loc).filter(|u| !u.is_empty()),
                "connectionType" => {
                    integration.connection_type = self.enumeration(
                        item,
                        &item_loc,
                        ConnectionType::parse,
                        ConnectionType::options(", "),
                    );
                }
                "connectionId" => {
                    integration.connection_id =
                        self.text(item, &item_loc).filter(|c| !c.is_empty());
                }
                "credentials" => {
                    integration.credentials = self.text(item, &item_loc).filter(|c| !c.is_empty());
                }
                "requestParameters" => {
                    integration.request_parameters =
                        self.string_map(item, &item_loc).unwrap_or_default();
                }
                "requestTemplates" => {
                    integration.request_templates =
                        self.string_map(item, &item_loc).unwrap_or_default();
                }
                "passthroughBehavior" => {
                    integration.passthrough_behavior = self.enumeration(
                        item,
                        &item_loc,
                        PassthroughBehavior::parse,
                        "when_no_match, when_no_templates, never".into(),
                    );
                }
                "timeoutInMillis" => {
                    if let Some(timeout) = self.integer(item, &item_loc) {
                        integration.timeout_in_millis = i32::try_from(timeout)
                            .unwrap_or(if timeout < 0 { i32::MIN } else { i32::MAX });
                    }
                }
                "cacheNamespace" => {
                    integration.cache_namespace = self.text(item, &item_loc).unwrap_or_default();
                }
                "cacheKeyParameters" => {
                    integration.cache_key_parameters =
                        self.string_list(item, &item_loc).unwrap_or_default();
                }
                "contentHandling" => {
                    integration.content_handling = self.enumeration(
                        item,
                        &item_loc,
                        ContentHandling::parse,
                        ContentHandling::options(", "),
                    );
                }
                "tlsConfig" => {
                    if let Some(tls) = self.object(item, &item_loc) {
                        let skip = match tls.get("insecureSkipVerification") {
                            Some(v) => self
                                .boolean(v, &item_loc.key("insecureSkipVerification"))
                                .unwrap_or(false),
                            None => false,
                        };
                        integration.tls_config = Some(TlsConfig {
                            insecure_skip_verification: skip,
                        });
                    }
                }
                "responses" => {
                    integration.integration_responses = self.integration_responses(item, &item_loc);
                }
                "integrationTarget" => {
                    integration.integration_target =
                        self.text(item, &item_loc).filter(|t| !t.is_empty());
                }
                "responseTransferMode" => {
                    integration.response_transfer_mode = self.enumeration(
                        item,
                        &item_loc,
                        ResponseTransferMode::parse,
                        ResponseTransferMode::options(", "),
                    );
                }
                other => self.warn(format!(
                    "Unsupported integration member '{other}' at {item_loc} was ignored"
                )),
            }
        }
        // HTTP integrations imported on AWS report `connectionType: INTERNET` when the
        // document does not say.
        if integration.connection_type.is_none()
            && matches!(
                integration.kind,
                IntegrationType::Http | IntegrationType::HttpProxy
            )
        {
            integration.connection_type = Some(ConnectionType::Internet);
        }
        if integration.kind == IntegrationType::Mock {
            integration.http_method = None;
        }
        if self.errors.len() + self.more_errors > errors_before {
            return None;
        }
        if let Err(e) = patch::check_integration(&integration, self.options.max_timeout_millis)
            .and_then(|()| {
                crate::validate::request_mappings(&integration.request_parameters, Some(declared.0))
            })
        {
            self.error(format!(
                "Unable to put integration on '{verb}' for resource at path '{path}': {} (at {loc})",
                e.message()
            ));
            return None;
        }
        for (status, response) in &integration.integration_responses {
            let method_response = declared.1.get(status).map(|r| &r.response_parameters);
            if let Err(e) =
                crate::validate::response_mappings(&response.response_parameters, method_response)
            {
                self.error(format!(
                    "Unable to put integration response on '{verb}' for resource at path '{path}': {} (at {})",
                    e.message(),
                    loc.key("responses")
                ));
                return None;
            }
        }
        Some(integration)
    }

    /// `responses` of an integration: each key is a selection pattern (`default` for none).
    fn integration_responses(
        &mut self,
        value: &'d Value,
        loc: &Loc,
    ) -> BTreeMap<String, IntegrationResponse> {
        let mut out: BTreeMap<String, IntegrationResponse> = BTreeMap::new();
        let Some((value, loc)) = self.resolved(value, loc) else {
            return out;
        };
        let Some(responses) = self.object(value, &loc) else {
            return out;
        };
        for (pattern, response) in responses {
            let Some((response, response_loc)) = self.resolved(response, &loc.key(pattern)) else {
                continue;
            };
            let Some(fields) = self.object(response, &response_loc) else {
                continue;
            };
            let status_code = match fields.get("statusCode") {
                Some(code) => self.status_code(code, &response_loc.key("statusCode")),
                None => {
                    self.error(format!(
                        "Missing statusCode at {}",
                        response_loc.key("statusCode")
                    ));
                    None
                }
            };
            let mut response = IntegrationResponse {
                status_code: status_code.clone().unwrap_or_default(),
                selection_pattern: (pattern != "default").then(|| pattern.clone()),
                response_parameters: StringMap::new(),
                response_templates: StringMap::new(),
                content_handling: None,
            };
            for (key, item) in fields {
                let item_loc = response_loc.key(key);
                match key.as_str() {
                    "statusCode" => {}
                    "responseParameters" => {
                        response.response_parameters =
                            self.string_map(item, &item_loc).unwrap_or_default();
                    }
                    "responseTemplates" => {
                        response.response_templates =
                            self.string_map(item, &item_loc).unwrap_or_default();
                    }
                    "contentHandling" => {
                        response.content_handling = self.enumeration(
                            item,
                            &item_loc,
                            ContentHandling::parse,
                            ContentHandling::options(", "),
                        );
                    }
                    other => self.warn(format!(
                        "Unsupported integration response member '{other}' at {item_loc} was ignored"
                    )),
                }
            }
            let Some(code) = status_code else {
                continue;
            };
            if out.contains_key(&code) {
                self.warn(format!(
                    "Two integration responses of {loc} have status {code}; the one at {response_loc} was kept"
                ));
            }
            out.insert(code, response);
        }
        out
    }
}

/// The document's OpenAPI version, from `swagger: "2.0"` or `openapi: 3.0.x / 3.1.x`.
/// Where a document keeps its schemas.
fn schema_prefix(version: Version) -> &'static str {
    match version {
        Version::V2 => "#/definitions/",
        Version::V3 => "#/components/schemas/",
    }
}

/// The schema a local reference names (`#/definitions/Pet`, `#/components/schemas/Pet`).
fn local_schema_name(reference: &str, version: Version) -> Option<&str> {
    let name = reference.strip_prefix(schema_prefix(version))?;
    (!name.contains('/')).then_some(name)
}

fn version(root: &Map<String, Value>) -> Result<Version, ApiError> {
    if let Some(swagger) = root.get("swagger") {
        let text = match swagger {
            Value::String(text) => text.clone(),
            Value::Number(n) => n.to_string(),
            other => describe(other).to_owned(),
        };
        return if text == "2.0" || text == "2" {
            Ok(Version::V2)
        } else {
            Err(ApiError::bad_request(format!(
                "Unsupported API definition version '{text}' at swagger: use swagger: \"2.0\" or openapi: 3.0.x"
            )))
        };
    }
    if let Some(openapi) = root.get("openapi") {
        let text = match openapi {
            Value::String(text) => text.clone(),
            Value::Number(n) => n.to_string(),
            other => describe(other).to_owned(),
        };
        return if text.starts_with("3.0") || text.starts_with("3.1") {
            Ok(Version::V3)
        } else {
            Err(ApiError::bad_request(format!(
                "Unsupported API definition version '{text}' at openapi: OpenAPI 2.0, 3.0 and 3.1 are supported"
            )))
        };
    }
    Err(ApiError::bad_request(
        "The API definition names no version at swagger or openapi: an OpenAPI 2.0 document starts with swagger: \"2.0\", an OpenAPI 3 document with openapi: 3.0.x",
    ))
}

/// ` (at {loc})`, or nothing for a path only implied by others.
fn at(loc: Option<&Loc>) -> String {
    loc.map(|loc| format!(" (at {loc})")).unwrap_or_default()
}

/// What kind of JSON value this is, for messages.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
