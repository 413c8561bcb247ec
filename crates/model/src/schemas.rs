//! API models (JSON Schema draft 4) and request validation: the rules a model must follow
//! when it is stored, and the compiled checks the gateway runs on a method's requests.
//!
//! Models name each other with AWS's model URLs
//! (`https://apigateway.amazonaws.com/restapis/{api}/models/{name}`); those resolve to the
//! other models of the same API and nothing is ever fetched. Schemas are compiled by the
//! `jsonschema` crate, built without its HTTP and file retrieval.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::{ApiError, Method, Model, RequestValidator};

/// What AWS puts before a model's name to make its URL.
pub const MODEL_URL_PREFIX: &str = "https://apigateway.amazonaws.com/restapis/";

/// The models every REST API made by CreateRestApi starts with: `(name, description,
/// schema)`, all `application/json`.
pub const DEFAULT_MODELS: [(&str, &str, &str); 2] = [
    (
        "Empty",
        "This is a default empty schema model",
        "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}",
    ),
    (
        "Error",
        "This is a default error schema model",
        "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}",
    ),
];

/// The URL other models use to refer to model `name` of API `api_id`.
pub fn model_url(api_id: &str, name: &str) -> String {
    format!("{MODEL_URL_PREFIX}{api_id}/models/{name}")
}

/// A model name: non-empty, letters and digits only.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_request("Model name must be non-empty"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::bad_request(format!(
            "Model name must be alphanumeric: {name}"
        )));
    }
    Ok(())
}

/// A model's content type: non-empty, with a `/` (`application/json`).
pub fn check_content_type(content_type: &str) -> Result<(), ApiError> {
    if content_type.is_empty() {
        return Err(ApiError::bad_request("Content type must be non-empty"));
    }
    if content_type.len() > 1024 || !content_type.contains('/') || content_type.contains(' ') {
        return Err(ApiError::bad_request(format!(
            "Invalid content type specified: {content_type}"
        )));
    }
    Ok(())
}

/// The AWS wording of a schema that cannot be used, with what is wrong with it.
fn invalid_schema(detail: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified. {detail}]"
    ))
}

/// Checks the schema of model `name` before it is stored: JSON, a valid draft 4 schema, and
/// every model it refers to one of `others` (the API's other models by name) or itself.
pub fn check_schema(
    api_id: &str,
    name: &str,
    schema: &str,
    others: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    if schema.trim().is_empty() {
        return Err(ApiError::bad_request(
            "Model schema must have at least 1 property or array items defined",
        ));
    }
    let value: Value = serde_json::from_str(schema)
        .map_err(|e| invalid_schema(format_args!("The schema is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(invalid_schema("The schema must be a JSON object"));
    }
    if let Err(error) = jsonschema::draft4::meta::validate(&value) {
        return Err(invalid_schema(format_args!(
            "It is not a valid JSON Schema draft 4 document: {error} at '{}'",
            error.instance_path()
        )));
    }
    let prefix = model_url(api_id, "");
    let mut refs = BTreeSet::new();
    collect_refs(&value, &mut refs);
    for reference in &refs {
        if reference.starts_with('#') {
            continue;
        }
        match reference.strip_prefix(&prefix) {
            Some(model) if model == name || others.contains_key(model) => {}
            _ => {
                return Err(invalid_schema(format_args!(
                    "Unresolvable reference: {reference} (a model refers to another model of its API as {prefix}NAME, or to its own parts as #/...)"
                )));
            }
        }
    }
    let mut schemas = parse_all(others);
    schemas.insert(name.to_owned(), value.clone());
    build(api_id, &value, Arc::new(schemas)).map_err(invalid_schema)?;
    Ok(())
}

/// The names of the models of API `api_id` that `schema` refers to.
pub fn referenced_models(api_id: &str, schema: &str) -> BTreeSet<String> {
    let Ok(value) = serde_json::from_str::<Value>(schema) else {
        return BTreeSet::new();
    };
    let mut refs = BTreeSet::new();
    collect_refs(&value, &mut refs);
    let prefix = model_url(api_id, "");
    refs.iter()
        .filter_map(|r| r.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect()
}

/// Every `$ref` string in `value`, however deep. Stops at 128 levels, as deep as a stored
/// schema can be (`serde_json`'s own limit).
fn collect_refs(value: &Value, refs: &mut BTreeSet<String>) {
    fn walk(value: &Value, refs: &mut BTreeSet<String>, depth: usize) {
        if depth > 128 {
            return;
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    match (key.as_str(), child) {
                        ("$ref", Value::String(reference)) => {
                            refs.insert(reference.clone());
                        }
                        _ => walk(child, refs, depth + 1),
                    }
                }
            }
            Value::Array(items) => {
                for child in items {
                    walk(child, refs, depth + 1);
                }
            }
            _ => {}
        }
    }
    walk(value, refs, 0);
}

/// Replaces each `$ref` string in `value` that `rewrite` gives a new text for, however deep.
pub fn rewrite_refs(value: &mut Value, rewrite: &mut dyn FnMut(&str) -> Option<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(reference) if key == "$ref" => {
                        if let Some(new) = rewrite(reference) {
                            *reference = new;
                        }
                    }
                    _ => rewrite_refs(child, rewrite),
                }
            }
        }
        Value::Array(items) => {
            for child in items {
                rewrite_refs(child, rewrite);
            }
        }
        _ => {}
    }
}

fn parse_all(models: &BTreeMap<String, String>) -> HashMap<String, Value> {
    models
        .iter()
        .filter_map(|(name, schema)| Some((name.clone(), serde_json::from_str(schema).ok()?)))
        .collect()
}

/// Resolves model URLs of one API to the other models' schemas; nothing else.
struct ModelRetriever {
    prefix: String,
    schemas: Arc<HashMap<String, Value>>,
}

impl jsonschema::Retrieve for ModelRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let text = uri.as_str();
        let name = text
            .strip_prefix(&self.prefix)
            .ok_or_else(|| format!("{text} is not a model of this API"))?;
        self.schemas
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no model named {name}").into())
    }
}

fn build(
    api_id: &str,
    schema: &Value,
    schemas: Arc<HashMap<String, Value>>,
) -> Result<jsonschema::Validator, String> {
    jsonschema::draft4::options()
        .with_retriever(ModelRetriever {
            prefix: model_url(api_id, ""),
            schemas,
        })
        .build(schema)
        .map_err(|e| e.to_string())
}

/// A model compiled for checking request bodies.
pub struct BodySchema {
    model: String,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for BodySchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySchema")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl BodySchema {
    /// Checks a request body. An empty body is checked as `{}`; one that is not JSON fails.
    /// The error says why, for the log (callers only get `Invalid request body`).
    pub fn check(&self, body: &[u8]) -> Result<(), String> {
        let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?
        };
        match self.validator.validate(&value) {
            Ok(()) => Ok(()),
            Err(error) => {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() { "/" } else { &path };
                Err(format!("{error} (at {at})"))
            }
        }
    }

    /// The model's name.
    pub fn model(&self) -> &str {
        &self.model
    }
}

/// Where a required request parameter is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterIn {
    Header,
    Path,
    QueryString,
}

/// A parameter a method requires (`method.request.{header|path|querystring}.NAME: true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredParameter {
    pub location: ParameterIn,
    pub name: String,
}

/// What a method's request validator checks, compiled.
#[derive(Debug, Default)]
pub struct RequestValidation {
    /// In the order of their full names, which is the order AWS lists missing ones in.
    pub parameters: Vec<RequiredParameter>,
    /// Content type (or `$default`) → the model to check bodies against.
    pub bodies: Vec<(String, Arc<BodySchema>)>,
}

impl RequestValidation {
    /// The compiled checks of `method`, given its API's validators and compiled models;
    /// `None` when the method has no validator or its validator checks nothing.
    pub fn compile(
        method: &Method,
        validators: &[RequestValidator],
        models: &CompiledModels,
    ) -> Option<RequestValidation> {
        let id = method.request_validator_id.as_deref()?;
        let validator = validators.iter().find(|v| v.id == id)?;
        let mut validation = RequestValidation::default();
        if validator.validate_request_parameters {
            validation.parameters = method
                .request_parameters
                .iter()
                .filter(|(_, required)| **required)
                .filter_map(|(key, _)| {
                    let rest = key.strip_prefix("method.request.")?;
                    let (location, name) = rest.split_once('.')?;
                    let location = match location {
                        "header" | "multivalueheader" => ParameterIn::Header,
                        "path" => ParameterIn::Path,
                        "querystring" | "multivaluequerystring" => ParameterIn::QueryString,
                        _ => return None,
                    };
                    Some(RequiredParameter {
                        location,
                        name: name.to_owned(),
                    })
                })
                .collect();
        }
        if validator.validate_request_body {
            validation.bodies = method
                .request_models
                .iter()
                .filter_map(|(content_type, model)| {
                    Some((
                        content_type.to_ascii_lowercase(),
                        models.get(model)?.clone(),
                    ))
                })
                .collect();
        }
        (!validation.parameters.is_empty() || !validation.bodies.is_empty()).then_some(validation)
    }

    /// The names of the required parameters the request lacks (absent or blank), as AWS
    /// lists them. `present` says whether a parameter has a non-blank value.
    pub fn missing(&self, present: impl Fn(ParameterIn, &str) -> bool) -> Vec<&str> {
        self.parameters
            .iter()
            .filter(|p| !present(p.location, &p.name))
            .map(|p| p.name.as_str())
            .collect()
    }

    /// The model a body of `content_type` (the request's `Content-Type`, `None` when it has
    /// none) is checked against: the one for its media type, else `$default`; a request
    /// without a content type counts as `application/json`.
    pub fn body_schema(&self, content_type: Option<&str>) -> Option<&BodySchema> {
        let media_type = content_type
            .map(|c| c.split(';').next().unwrap_or_default().trim())
            .unwrap_or("application/json");
        let find = |wanted: &str| {
            self.bodies
                .iter()
                .find(|(ct, _)| ct.eq_ignore_ascii_case(wanted))
                .map(|(_, schema)| &**schema)
        };
        find(media_type).or_else(|| find("$default"))
    }
}

/// Compiled models by name.
pub type CompiledModels = HashMap<String, Arc<BodySchema>>;

/// Compiles the models of a deployment that request validation uses: every model a method
/// with a body-checking validator names. A model that does not compile (stored before models
/// were checked) is left out and reported, so its methods' bodies go unchecked rather than
/// every request failing.
pub fn compile_models(
    api_id: &str,
    models: &[Model],
    wanted: &BTreeSet<String>,
) -> (CompiledModels, Vec<(String, String)>) {
    let mut compiled = HashMap::new();
    let mut failed = Vec::new();
    if wanted.is_empty() {
        return (compiled, failed);
    }
    let schemas: Arc<HashMap<String, Value>> = Arc::new(
        models
            .iter()
            .filter_map(|m| Some((m.name.clone(), serde_json::from_str(&m.schema).ok()?)))
            .collect(),
    );
    for name in wanted {
        let Some(schema) = schemas.get(name) else {
            failed.push((name.clone(), "no such model in the deployment".to_owned()));
            continue;
        };
        match build(api_id, schema, schemas.clone()) {
            Ok(validator) => {
                compiled.insert(
                    name.clone(),
                    Arc::new(BodySchema {
                        model: name.clone(),
                        validator,
                    }),
                );
            }
            Err(error) => failed.push((name.clone(), error)),
        }
    }
    (compiled, failed)
}

/// The models that methods with a body-checking validator name.
pub fn models_in_use<'a>(
    methods: impl Iterator<Item = &'a Method>,
    validators: &[RequestValidator],
) -> BTreeSet<String> {
    let checks_bodies: BTreeSet<&str> = validators
        .iter()
        .filter(|v| v.validate_request_body)
        .map(|v| v.id.as_str())
        .collect();
    methods
        .filter(|m| {
            m.request_validator_id
                .as_deref()
                .is_some_and(|id| checks_bodies.contains(id))
        })
        .flat_map(|m| m.request_models.values().cloned())
        .collect()
}

/// GetModelTemplate: a mapping template that writes out a payload of the (flattened) schema,
/// in the style of AWS's generated ones: strings quoted, other values as they are, arrays
/// with `#foreach`, nested objects written out field by field.
pub fn default_template(schema: &str) -> Result<String, String> {
    let value: Value =
        serde_json::from_str(schema).map_err(|e| format!("The model schema is not JSON: {e}"))?;
    let mut out = String::from("#set($inputRoot = $input.path('$'))\n");
    let mut loops = 0;
    write_value(&value, "$inputRoot", 0, &mut loops, &mut out);
    out.push('\n');
    Ok(out)
}

fn write_value(schema: &Value, path: &str, depth: usize, loops: &mut usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_else(|| {
            if schema.get("properties").is_some() {
                "object"
            } else if schema.get("items").is_some() {
                "array"
            } else {
                "string"
            }
        });
    match kind {
        // Deeper than any real payload: the rest is written as a value.
        _ if depth > 16 => out.push_str(&as_json(path)),
        "object" => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                out.push_str(&as_json(path));
                return;
            };
            out.push_str("{\n");
            let count = properties.len();
            for (index, (name, property)) in properties.iter().enumerate() {
                out.push_str(&format!("{indent}  \"{}\" : ", escape(name)));
                write_value(property, &format!("{path}.{name}"), depth + 1, loops, out);
                out.push_str(if index + 1 < count { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{indent}}}"));
        }
        "array" => {
            *loops += 1;
            let element = if *loops == 1 {
                "$elem".to_owned()
            } else {
                format!("$elem{loops}")
            };
            let items = schema.get("items").cloned().unwrap_or(Value::Null);
            out.push_str(&format!("[\n#foreach({element} in {path})\n{indent}  "));
            write_value(&items, &element, depth + 1, loops, out);
            out.push_str(&format!("#if($foreach.hasNext),#end\n#end\n{indent}]"));
        }
        "string" => out.push_str(&format!("\"{path}\"")),
        _ => out.push_str(path),
    }
}

/// A value written whole: `$inputRoot.a.b` as `$input.json('$.a.b')`; a loop element as
/// itself.
fn as_json(path: &str) -> String {
    match path.strip_prefix("$inputRoot") {
        Some(rest) => format!("$input.json('${rest}')"),
        None => path.to_owned(),
    }
}

fn escape(name: &str) -> String {
    name.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
