//! Writing a deployed API as an OpenAPI document (GetExport).
//!
//! The document is built as an ordered [`Node`] tree, so that JSON and YAML come out with the
//! members in the order people read them (`swagger`, `info`, `host`, ... `paths`), and an
//! exported file imports back to an equivalent API: same paths, methods, parameters,
//! responses and, with `extensions=integrations` or `apigateway`, integrations.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::entities::{ApiSnapshot, DeployedResource, Integration, Method};
use crate::enums::{ApiKeySource, AuthorizationType, HttpMethod};
use crate::error::ApiError;

/// The two export types GetExport serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportType {
    /// OpenAPI 3.0 (`oas30`).
    Oas30,
    /// Swagger / OpenAPI 2.0 (`swagger`).
    Swagger,
}

impl ExportType {
    /// Parses the `export_type` path label.
    pub fn parse(text: &str) -> Option<ExportType> {
        match text {
            "oas30" => Some(ExportType::Oas30),
            "swagger" => Some(ExportType::Swagger),
            _ => None,
        }
    }

    /// The path label (`oas30`, `swagger`), which also starts the download's file name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportType::Oas30 => "oas30",
            ExportType::Swagger => "swagger",
        }
    }
}

/// Which AWS extensions the `extensions` parameter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extensions {
    /// `integrations`: `x-amazon-apigateway-integration` on every operation.
    pub integrations: bool,
    /// `apigateway`: the integrations and the API-level settings (binary media types, API key
    /// source, gateway responses, compression, policy), and the authorizers.
    pub apigateway: bool,
    /// `authorizers`: `x-amazon-apigateway-authorizer` on the security schemes of authorizers.
    pub authorizers: bool,
}

impl Extensions {
    /// Parses a comma-separated `extensions` value. `postman` is accepted and adds nothing
    /// (Postman's extensions are not written).
    pub fn parse(text: &str) -> Result<Extensions, String> {
        let mut extensions = Extensions::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "integrations" => extensions.integrations = true,
                "apigateway" => extensions.apigateway = true,
                "authorizers" => extensions.authorizers = true,
                "postman" => {}
                other => {
                    return Err(format!(
                        "Invalid extensions value '{other}'. Valid options are integrations, apigateway, authorizers, postman"
                    ));
                }
            }
        }
        Ok(extensions)
    }

    fn integrations(self) -> bool {
        self.integrations || self.apigateway
    }

    fn authorizers(self) -> bool {
        self.authorizers || self.apigateway
    }
}

/// What GetExport asks for.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// `oas30` or `swagger`.
    pub export_type: ExportType,
    /// The `extensions` parameter.
    pub extensions: Extensions,
    /// The stage, which becomes the base path.
    pub stage_name: String,
    /// The invoke host (`{api}.execute-api.{region}.amazonaws.com`).
    pub host: String,
    /// When the stage's deployment was made (epoch seconds): the document's version when the
    /// API has none.
    pub deployed_at: i64,
    /// The stage's documentation version, as `x-amazon-apigateway-documentation`; `None`
    /// when the stage names none.
    pub documentation: Option<serde_json::Value>,
}

/// The document formats, chosen by the `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`, pretty-printed.
    Json,
    /// `application/yaml`, block style.
    Yaml,
}

impl Format {
    /// `application/yaml` when `accept` names YAML, JSON otherwise (AWS's default).
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(accept) if accept.to_ascii_lowercase().contains("yaml") => Format::Yaml,
            _ => Format::Json,
        }
    }

    /// The `Content-Type` of the document.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Yaml => "application/yaml",
        }
    }

    /// The file extension of the download.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

/// A document value with ordered members.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    Seq(Vec<Node>),
    /// An object, members in the order they are written.
    Map(Vec<(String, Node)>),
}

impl Node {
    fn str(text: impl Into<String>) -> Node {
        Node::Str(text.into())
    }

    /// The member `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn from_json(value: &serde_json::Value) -> Node {
        match value {
            serde_json::Value::Null => Node::Null,
            serde_json::Value::Bool(b) => Node::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Node::Int(i),
                None => Node::Float(n.as_f64().unwrap_or_default()),
            },
            serde_json::Value::String(s) => Node::str(s.clone()),
            serde_json::Value::Array(items) => {
                Node::Seq(items.iter().map(Node::from_json).collect())
            }
            serde_json::Value::Object(map) => Node::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Node::from_json(v)))
                    .collect(),
            ),
        }
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => serializer.serialize_unit(),
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Int(i) => serializer.serialize_i64(*i),
            Node::Float(f) => serializer.serialize_f64(*f),
            Node::Str(s) => serializer.serialize_str(s),
            Node::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// An ordered map under construction.
#[derive(Debug, Default)]
struct Obj(Vec<(String, Node)>);

impl Obj {
    fn put(&mut self, key: &str, value: Node) {
        self.0.push((key.to_owned(), value));
    }

    fn put_some(&mut self, key: &str, value: Option<Node>) {
        if let Some(value) = value {
            self.put(key, value);
        }
    }

    /// Puts a string map, unless it is empty (AWS leaves empty maps out).
    fn put_map(&mut self, key: &str, map: &std::collections::BTreeMap<String, String>) {
        if !map.is_empty() {
            self.put(key, string_map(map));
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn done(self) -> Node {
        Node::Map(self.0)
    }
}

fn string_map(map: &std::collections::BTreeMap<String, String>) -> Node {
    Node::Map(
        map.iter()
            .map(|(k, v)| (k.clone(), Node::str(v.clone())))
            .collect(),
    )
}

/// The operation keys of a path item, in the order they are written.
const OPERATION_ORDER: &[(HttpMethod, &str)] = &[
    (HttpMethod::Get, "get"),
    (HttpMethod::Put, "put"),
    (HttpMethod::Post, "post"),
    (HttpMethod::Delete, "delete"),
    (HttpMethod::Options, "options"),
    (HttpMethod::Head, "head"),
    (HttpMethod::Patch, "patch"),
    (HttpMethod::Any, "x-amazon-apigateway-any-method"),
];

/// The security scheme that marks methods needing an API key.
const API_KEY_SCHEME: &str = "api_key";
/// The security scheme that marks methods using IAM authorization.
const IAM_SCHEME: &str = "sigv4";

/// Builds the document for a deployed API.
pub fn export(snapshot: &ApiSnapshot, options: &ExportOptions) -> Node {
    let api = &snapshot.api;
    let v2 = options.export_type == ExportType::Swagger;
    let mut doc = Obj::default();
    if v2 {
        doc.put("swagger", Node::str("2.0"));
    } else {
        doc.put("openapi", Node::str("3.0.1"));
    }
    let mut info = Obj::default();
    info.put_some("description", api.description.clone().map(Node::Str));
    info.put(
        "version",
        Node::str(
            api.version
                .clone()
                .unwrap_or_else(|| timestamp(options.deployed_at)),
        ),
    );
    info.put("title", Node::str(api.name.clone()));
    doc.put("info", info.done());
    if v2 {
        doc.put("host", Node::str(options.host.clone()));
        doc.put("basePath", Node::str(format!("/{}", options.stage_name)));
        doc.put("schemes", Node::Seq(vec![Node::str("https")]));
    } else {
        let mut base_path = Obj::default();
        base_path.put("default", Node::str(options.stage_name.clone()));
        let mut variables = Obj::default();
        variables.put("basePath", base_path.done());
        let mut server = Obj::default();
        server.put(
            "url",
            Node::str(format!("https://{}/{{basePath}}", options.host)),
        );
        server.put("variables", variables.done());
        doc.put("servers", Node::Seq(vec![server.done()]));
    }

    let mut paths = Obj::default();
    let mut uses_api_key = false;
    let mut uses_iam = false;
    let mut used_authorizers: Vec<&crate::Authorizer> = Vec::new();
    let mut resources: Vec<&DeployedResource> = snapshot
        .resources
        .iter()
        .filter(|r| !r.resource.methods.is_empty())
        .collect();
    resources.sort_by(|a, b| a.path.cmp(&b.path));
    for deployed in resources {
        let mut item = Obj::default();
        for (verb, key) in OPERATION_ORDER {
            let Some(method) = deployed.resource.methods.get(verb.as_str()) else {
                continue;
            };
            uses_api_key |= method.api_key_required;
            if method.authorization_type.uses_authorizer()
                && let Some(authorizer) = method
                    .authorizer_id
                    .as_ref()
                    .and_then(|id| snapshot.authorizers.iter().find(|a| &a.id == id))
                && !used_authorizers
                    .iter()
                    .any(|a: &&crate::Authorizer| a.id == authorizer.id)
            {
                used_authorizers.push(authorizer);
            }
            uses_iam |= method.authorization_type == AuthorizationType::AwsIam;
            item.put(key, operation(method, deployed, snapshot, options));
        }
        paths.put(&deployed.path, item.done());
    }
    doc.put("paths", paths.done());

    let mut schemes = Obj::default();
    if uses_api_key {
        let mut scheme = Obj::default();
        scheme.put("type", Node::str("apiKey"));
        scheme.put("name", Node::str("x-api-key"));
        scheme.put("in", Node::str("header"));
        schemes.put(API_KEY_SCHEME, scheme.done());
    }
    if uses_iam {
        let mut scheme = Obj::default();
        scheme.put("type", Node::str("apiKey"));
        scheme.put("name", Node::str("Authorization"));
        scheme.put("in", Node::str("header"));
        scheme.put("x-amazon-apigateway-authtype", Node::str("awsSigv4"));
        schemes.put(IAM_SCHEME, scheme.done());
    }
    for authorizer in used_authorizers {
        schemes.put(
            &authorizer.name,
            authorizer_scheme(authorizer, options.extensions.authorizers()),
        );
    }
    let definitions = definitions(snapshot, v2);
    if v2 {
        if !definitions.is_empty() {
            doc.put("definitions", definitions.done());
        }
        if !schemes.is_empty() {
            doc.put("securityDefinitions", schemes.done());
        }
    } else {
        let mut components = Obj::default();
        if !definitions.is_empty() {
            components.put("schemas", definitions.done());
        }
        if !schemes.is_empty() {
            components.put("securitySchemes", schemes.done());
        }
        if !components.is_empty() {
            doc.put("components", components.done());
        }
    }

    if options.extensions.integrations() {
        api_extensions(snapshot, &mut doc);
    }
    // As on AWS, the stage's documentation version is in every export.
    if let Some(documentation) = &options.documentation {
        doc.put(
            "x-amazon-apigateway-documentation",
            Node::from_json(documentation),
        );
    }
    doc.done()
}

/// The security scheme of an authorizer: the header its token comes in (`Unused` for a
/// REQUEST authorizer, as AWS writes it), its `authType`, and with `extension` its settings.
fn authorizer_scheme(authorizer: &crate::Authorizer, extension: bool) -> Node {
    let header = authorizer
        .identity_source
        .as_deref()
        .and_then(|s| s.strip_prefix("method.request.header."))
        .filter(|_| authorizer.kind != crate::AuthorizerType::Request)
        .unwrap_or("Unused");
    let mut scheme = Obj::default();
    scheme.put("type", Node::str("apiKey"));
    scheme.put("name", Node::str(header));
    scheme.put("in", Node::str("header"));
    scheme.put_some(
        "x-amazon-apigateway-authtype",
        authorizer.auth_type.clone().map(Node::Str),
    );
    if extension {
        let mut settings = Obj::default();
        settings.put(
            "type",
            Node::str(authorizer.kind.as_str().to_ascii_lowercase()),
        );
        if !authorizer.provider_arns.is_empty() {
            settings.put(
                "providerARNs",
                Node::Seq(
                    authorizer
                        .provider_arns
                        .iter()
                        .map(|a| Node::str(a.clone()))
                        .collect(),
                ),
            );
        }
        settings.put_some(
            "authorizerUri",
            authorizer.authorizer_uri.clone().map(Node::Str),
        );
        settings.put_some(
            "authorizerCredentials",
            authorizer.authorizer_credentials.clone().map(Node::Str),
        );
        settings.put_some(
            "identitySource",
            authorizer.identity_source.clone().map(Node::Str),
        );
        settings.put_some(
            "identityValidationExpression",
            authorizer
                .identity_validation_expression
                .clone()
                .map(Node::Str),
        );
        settings.put_some(
            "authorizerResultTtlInSeconds",
            authorizer
                .authorizer_result_ttl_in_seconds
                .map(|ttl| Node::Int(i64::from(ttl))),
        );
        scheme.put("x-amazon-apigateway-authorizer", settings.done());
    }
    scheme.done()
}

/// Where a document keeps its schemas.
fn schema_prefix(v2: bool) -> &'static str {
    if v2 {
        "#/definitions/"
    } else {
        "#/components/schemas/"
    }
}

/// The models as the document's schemas, their model URLs made local references again.
fn definitions(snapshot: &ApiSnapshot, v2: bool) -> Obj {
    let url = crate::schemas::model_url(&snapshot.api.id, "");
    let local = schema_prefix(v2);
    let mut definitions = Obj::default();
    let mut models: Vec<_> = snapshot.models.iter().collect();
    models.sort_by(|a, b| a.name.cmp(&b.name));
    for model in models {
        let Ok(mut schema) = serde_json::from_str::<serde_json::Value>(&model.schema) else {
            continue;
        };
        crate::schemas::rewrite_refs(&mut schema, &mut |reference| {
            let rest = reference.strip_prefix(&url)?;
            Some(match rest.split_once("#/") {
                Some((name, pointer)) => format!("{local}{name}/{pointer}"),
                None => format!("{local}{rest}"),
            })
        });
        definitions.put(&model.name, Node::from_json(&schema));
    }
    definitions
}

/// A validator's name in a document (its id when it has none).
fn validator_name(validator: &crate::RequestValidator) -> String {
    validator
        .name
        .clone()
        .unwrap_or_else(|| validator.id.clone())
}

/// The API-level AWS extensions.
fn api_extensions(snapshot: &ApiSnapshot, doc: &mut Obj) {
    let api = &snapshot.api;
    if !snapshot.request_validators.is_empty() {
        let mut validators = Obj::default();
        for validator in &snapshot.request_validators {
            let mut entry = Obj::default();
            entry.put(
                "validateRequestBody",
                Node::Bool(validator.validate_request_body),
            );
            entry.put(
                "validateRequestParameters",
                Node::Bool(validator.validate_request_parameters),
            );
            validators.put(&validator_name(validator), entry.done());
        }
        doc.put("x-amazon-apigateway-request-validators", validators.done());
    }
    if !api.binary_media_types.is_empty() {
        doc.put(
            "x-amazon-apigateway-binary-media-types",
            Node::Seq(
                api.binary_media_types
                    .iter()
                    .cloned()
                    .map(Node::Str)
                    .collect(),
            ),
        );
    }
    if api.api_key_source != ApiKeySource::Header {
        doc.put(
            "x-amazon-apigateway-api-key-source",
            Node::str(api.api_key_source.as_str()),
        );
    }
    if let Some(size) = api.minimum_compression_size {
        doc.put(
            "x-amazon-apigateway-minimum-compression-size",
            Node::Int(i64::from(size)),
        );
    }
    if let Some(policy) = &api.policy
        && let Ok(policy) =
            serde_json::from_str::<serde_json::Value>(&crate::policy::document(policy))
    {
        doc.put("x-amazon-apigateway-policy", Node::from_json(&policy));
    }
    let mut responses = Obj::default();
    let mut customised: Vec<_> = snapshot
        .gateway_responses
        .iter()
        .filter(|r| !r.default_response)
        .collect();
    customised.sort_by(|a, b| a.response_type.cmp(&b.response_type));
    for response in customised {
        let mut entry = Obj::default();
        entry.put_some("statusCode", response.status_code.clone().map(Node::Str));
        entry.put_map("responseParameters", &response.response_parameters);
        entry.put_map("responseTemplates", &response.response_templates);
        responses.put(&response.response_type, entry.done());
    }
    if !responses.is_empty() {
        doc.put("x-amazon-apigateway-gateway-responses", responses.done());
    }
}

fn operation(
    method: &Method,
    deployed: &DeployedResource,
    snapshot: &ApiSnapshot,
    options: &ExportOptions,
) -> Node {
    let v2 = options.export_type == ExportType::Swagger;
    let mut op = Obj::default();
    op.put_some("operationId", method.operation_name.clone().map(Node::Str));
    let mut parameters = Vec::new();
    for (key, required) in &method.request_parameters {
        let Some(rest) = key.strip_prefix("method.request.") else {
            continue;
        };
        let Some((source, name)) = rest.split_once('.') else {
            continue;
        };
        let location = match source {
            "path" => "path",
            "querystring" | "multivaluequerystring" => "query",
            "header" | "multivalueheader" => "header",
            _ => continue,
        };
        let mut parameter = Obj::default();
        parameter.put("name", Node::str(name));
        parameter.put("in", Node::str(location));
        parameter.put("required", Node::Bool(*required || location == "path"));
        if v2 {
            parameter.put("type", Node::str("string"));
        } else {
            parameter.put("schema", type_string());
        }
        parameters.push(parameter.done());
    }
    let local = schema_prefix(v2);
    let reference = |model: &str| {
        let mut schema = Obj::default();
        schema.put("$ref", Node::str(format!("{local}{model}")));
        schema.done()
    };
    if v2 {
        // A 2.0 operation has one body: the first model, for the types it consumes.
        if let Some(model) = method.request_models.values().next() {
            let consumes: Vec<Node> = method
                .request_models
                .keys()
                .filter(|ct| ct.as_str() != "$default")
                .map(|ct| Node::str(ct.clone()))
                .collect();
            if !consumes.is_empty() {
                op.put("consumes", Node::Seq(consumes));
            }
            let mut body = Obj::default();
            body.put("in", Node::str("body"));
            body.put("name", Node::str(model.clone()));
            body.put("required", Node::Bool(true));
            body.put("schema", reference(model));
            parameters.push(body.done());
        }
    }
    if !parameters.is_empty() {
        op.put("parameters", Node::Seq(parameters));
    }
    if !v2 && !method.request_models.is_empty() {
        let mut content = Obj::default();
        for (content_type, model) in &method.request_models {
            let media_type = if content_type == "$default" {
                "*/*"
            } else {
                content_type.as_str()
            };
            let mut media = Obj::default();
            media.put("schema", reference(model));
            content.put(media_type, media.done());
        }
        let mut body = Obj::default();
        body.put("content", content.done());
        body.put("required", Node::Bool(true));
        op.put("requestBody", body.done());
    }
    let mut responses = Obj::default();
    let mut produces: Vec<String> = Vec::new();
    for (code, response) in &method.method_responses {
        let mut entry = Obj::default();
        entry.put("description", Node::str(format!("{code} response")));
        if v2 {
            // A 2.0 response has one schema, for the types the operation produces.
            if let Some(model) = response.response_models.values().next() {
                entry.put("schema", reference(model));
            }
            for content_type in response.response_models.keys() {
                if !produces.contains(content_type) {
                    produces.push(content_type.clone());
                }
            }
        } else if !response.response_models.is_empty() {
            let mut content = Obj::default();
            for (content_type, model) in &response.response_models {
                let mut media = Obj::default();
                media.put("schema", reference(model));
                content.put(content_type, media.done());
            }
            entry.put("content", content.done());
        }
        let mut headers = Obj::default();
        for key in response.response_parameters.keys() {
            if let Some(name) = key.strip_prefix("method.response.header.") {
                headers.put(name, if v2 { type_string() } else { header_v3() });
            }
        }
        if !headers.is_empty() {
            entry.put("headers", headers.done());
        }
        responses.put(code, entry.done());
    }
    if !produces.is_empty() {
        op.put(
            "produces",
            Node::Seq(produces.into_iter().map(Node::Str).collect()),
        );
    }
    op.put("responses", responses.done());
    let mut requirement = Obj::default();
    if method.api_key_required {
        requirement.put(API_KEY_SCHEME, Node::Seq(Vec::new()));
    }
    if method.authorization_type == AuthorizationType::AwsIam {
        requirement.put(IAM_SCHEME, Node::Seq(Vec::new()));
    }
    if method.authorization_type.uses_authorizer()
        && let Some(authorizer) = method
            .authorizer_id
            .as_ref()
            .and_then(|id| snapshot.authorizers.iter().find(|a| &a.id == id))
    {
        requirement.put(
            &authorizer.name,
            Node::Seq(
                method
                    .authorization_scopes
                    .iter()
                    .map(|s| Node::str(s.clone()))
                    .collect(),
            ),
        );
    }
    if !requirement.is_empty() {
        op.put("security", Node::Seq(vec![requirement.done()]));
    }
    if options.extensions.integrations()
        && let Some(validator) = method
            .request_validator_id
            .as_ref()
            .and_then(|id| snapshot.request_validators.iter().find(|v| &v.id == id))
    {
        op.put(
            "x-amazon-apigateway-request-validator",
            Node::str(validator_name(validator)),
        );
    }
    if options.extensions.integrations()
        && let Some(integration) = &method.integration
    {
        op.put(
            "x-amazon-apigateway-integration",
            integration_node(integration, &deployed.resource.id),
        );
    }
    op.done()
}

fn type_string() -> Node {
    Node::Map(vec![("type".to_owned(), Node::str("string"))])
}

fn header_v3() -> Node {
    Node::Map(vec![("schema".to_owned(), type_string())])
}

/// `x-amazon-apigateway-integration`, with AWS's lower-case spellings of `type` and
/// `passthroughBehavior`. The cache namespace is written only when it is not the resource's
/// own id, so that an imported copy gets its own.
fn integration_node(integration: &Integration, resource_id: &str) -> Node {
    let mut it = Obj::default();
    it.put(
        "type",
        Node::str(integration.kind.as_str().to_ascii_lowercase()),
    );
    it.put_some(
        "httpMethod",
        integration.http_method.map(|m| Node::str(m.as_str())),
    );
    it.put_some("uri", integration.uri.clone().map(Node::Str));
    it.put_some(
        "connectionType",
        integration.connection_type.map(|c| Node::str(c.as_str())),
    );
    it.put_some(
        "connectionId",
        integration.connection_id.clone().map(Node::Str),
    );
    it.put_some(
        "credentials",
        integration.credentials.clone().map(Node::Str),
    );
    it.put_map("requestParameters", &integration.request_parameters);
    it.put_map("requestTemplates", &integration.request_templates);
    if !integration.integration_responses.is_empty() {
        let mut responses = Obj::default();
        let mut ordered: Vec<_> = integration.integration_responses.values().collect();
        // The default response last, as AWS writes it.
        ordered.sort_by_key(|r| (r.selection_pattern.is_none(), r.status_code.clone()));
        for response in ordered {
            let mut entry = Obj::default();
            entry.put("statusCode", Node::str(response.status_code.clone()));
            entry.put_map("responseParameters", &response.response_parameters);
            entry.put_map("responseTemplates", &response.response_templates);
            entry.put_some(
                "contentHandling",
                response.content_handling.map(|c| Node::str(c.as_str())),
            );
            let key = response
                .selection_pattern
                .clone()
                .unwrap_or_else(|| "default".to_owned());
            responses.put(&key, entry.done());
        }
        it.put("responses", responses.done());
    }
    it.put_some(
        "passthroughBehavior",
        integration
            .passthrough_behavior
            .map(|p| Node::str(p.as_str().to_ascii_lowercase())),
    );
    it.put_some(
        "contentHandling",
        integration.content_handling.map(|c| Node::str(c.as_str())),
    );
    it.put(
        "timeoutInMillis",
        Node::Int(i64::from(integration.timeout_in_millis)),
    );
    if !integration.cache_namespace.is_empty() && integration.cache_namespace != resource_id {
        it.put(
            "cacheNamespace",
            Node::str(integration.cache_namespace.clone()),
        );
    }
    if !integration.cache_key_parameters.is_empty() {
        it.put(
            "cacheKeyParameters",
            Node::Seq(
                integration
                    .cache_key_parameters
                    .iter()
                    .cloned()
                    .map(Node::Str)
                    .collect(),
            ),
        );
    }
    if let Some(tls) = &integration.tls_config {
        let mut entry = Obj::default();
        entry.put(
            "insecureSkipVerification",
            Node::Bool(tls.insecure_skip_verification),
        );
        it.put("tlsConfig", entry.done());
    }
    it.put_some(
        "integrationTarget",
        integration.integration_target.clone().map(Node::Str),
    );
    it.put_some(
        "responseTransferMode",
        integration
            .response_transfer_mode
            .map(|m| Node::str(m.as_str())),
    );
    it.done()
}

/// Writes a document as pretty JSON or as YAML.
pub fn render(node: &Node, format: Format) -> Result<Vec<u8>, ApiError> {
    match format {
        Format::Json => serde_json::to_vec_pretty(node)
            .map_err(|e| ApiError::Internal(format!("could not write the export: {e}"))),
        Format::Yaml => Ok(super::yaml::to_yaml(node).into_bytes()),
    }
}

/// An ISO 8601 UTC time (`2016-02-22T23:52:00Z`) from epoch seconds.
pub fn timestamp(epoch_seconds: i64) -> String {
    let days = epoch_seconds.div_euclid(86_400);
    let secs = epoch_seconds.rem_euclid(86_400);
    // Days to a civil date (proleptic Gregorian), after Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}
