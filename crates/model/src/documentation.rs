//! API documentation: documentation parts (a JSON map of properties attached to a location
//! in the API: the API, a resource, a method, a parameter, a response, a model, ...) and
//! documentation versions (snapshots of every part, which a stage can name).
//!
//! Locations follow AWS's rules: each type takes some of `path`, `method`, `statusCode` and
//! `name`, and no others; `path` defaults to `/`, `method` and `statusCode` to `*`. Two parts
//! cannot share a location.

use serde::{Deserialize, Serialize};

pub use crate::enums::DocumentationPartType;
use crate::error::ApiError;

impl DocumentationPartType {
    /// AWS's order of the enum value set in its validation messages.
    pub const AWS_ORDER: &'static str = "RESPONSE_BODY, RESPONSE, METHOD, MODEL, AUTHORIZER, RESPONSE_HEADER, RESOURCE, PATH_PARAMETER, REQUEST_BODY, QUERY_PARAMETER, API, REQUEST_HEADER";

    fn takes_path(self) -> bool {
        !matches!(
            self,
            DocumentationPartType::Api
                | DocumentationPartType::Authorizer
                | DocumentationPartType::Model
        )
    }

    fn takes_method(self) -> bool {
        self.takes_path() && self != DocumentationPartType::Resource
    }

    fn takes_status_code(self) -> bool {
        matches!(
            self,
            DocumentationPartType::Response
                | DocumentationPartType::ResponseHeader
                | DocumentationPartType::ResponseBody
        )
    }

    fn takes_name(self) -> bool {
        matches!(
            self,
            DocumentationPartType::Authorizer
                | DocumentationPartType::Model
                | DocumentationPartType::PathParameter
                | DocumentationPartType::QueryParameter
                | DocumentationPartType::RequestHeader
                | DocumentationPartType::RequestBody
                | DocumentationPartType::ResponseHeader
        )
    }

    /// Whether a part of this type must name its entity (a body is named by its method).
    fn needs_name(self) -> bool {
        self.takes_name() && self != DocumentationPartType::RequestBody
    }
}

/// Where a documentation part applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationPartLocation {
    #[serde(rename = "type")]
    pub kind: DocumentationPartType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl DocumentationPartLocation {
    /// The location as AWS keeps it: fields the type does not take refused, a missing name
    /// the type needs refused, and `path`, `method` and `statusCode` given their defaults.
    pub fn normalize(
        kind: DocumentationPartType,
        path: Option<String>,
        method: Option<String>,
        status_code: Option<String>,
        name: Option<String>,
    ) -> Result<DocumentationPartLocation, ApiError> {
        let given = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.is_empty());
        let refuse = |field: &str| {
            Err(ApiError::bad_request(format!(
                "Invalid location. '{field}' is not a valid field for documentation parts of type {kind}"
            )))
        };
        if given(&path) && !kind.takes_path() {
            return refuse("path");
        }
        if given(&method) && !kind.takes_method() {
            return refuse("method");
        }
        if given(&status_code) && !kind.takes_status_code() {
            return refuse("statusCode");
        }
        if given(&name) && !kind.takes_name() {
            return refuse("name");
        }
        if kind.needs_name() && !given(&name) {
            return Err(ApiError::bad_request(format!(
                "Invalid location. 'name' is required for documentation parts of type {kind}"
            )));
        }
        let path = kind.takes_path().then(|| {
            let path = path
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "/".to_owned());
            if path.starts_with('/') {
                Ok(path)
            } else {
                Err(ApiError::bad_request(format!(
                    "Invalid location. The path '{path}' must start with '/'"
                )))
            }
        });
        let path = path.transpose()?;
        let method = kind.takes_method().then(|| {
            method
                .filter(|m| !m.is_empty())
                .map_or_else(|| "*".to_owned(), |m| m.to_ascii_uppercase())
        });
        let status_code = kind.takes_status_code().then(|| {
            status_code
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "*".to_owned())
        });
        if let Some(code) = &status_code
            && code != "*"
            && !(code.len() == 3
                && code.bytes().all(|b| b.is_ascii_digit())
                && (b'1'..=b'5').contains(&code.as_bytes()[0]))
        {
            return Err(ApiError::Validation(format!(
                "1 validation error detected: Value '{code}' at 'createDocumentationPartInput.location.statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([1-5]\\d\\d|\\*|\\s*)$"
            )));
        }
        Ok(DocumentationPartLocation {
            kind,
            path,
            method,
            status_code,
            name: name.filter(|n| !n.is_empty()),
        })
    }

    /// The location as AWS's conflict message names it: `type 'API'`, then the other
    /// fields it has.
    pub fn describe(&self) -> String {
        let mut text = format!("type '{}'", self.kind);
        for (field, value) in [
            ("path", &self.path),
            ("method", &self.method),
            ("statusCode", &self.status_code),
            ("name", &self.name),
        ] {
            if let Some(value) = value {
                text.push_str(&format!(", {field} '{value}'"));
            }
        }
        text
    }
}

/// A documentation part: its location and properties (a JSON object, as text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationPart {
    pub id: String,
    pub location: DocumentationPartLocation,
    pub properties: String,
    /// Creation order (not on the wire): parts are listed in it.
    #[serde(default)]
    pub seq: u64,
}

/// A documentation version: the parts as they were when it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationVersion {
    pub version: String,
    /// Epoch seconds.
    pub created_date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub parts: Vec<DocumentationPart>,
}

/// Checks a part's properties: a JSON object, as text (AWS: "a JSON-encoded map").
pub fn check_properties(properties: &str) -> Result<(), ApiError> {
    if properties.trim().is_empty() {
        return Err(ApiError::bad_request(
            "Documentation part properties must be non-empty",
        ));
    }
    match serde_json::from_str::<serde_json::Value>(properties) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(ApiError::bad_request(
            "Invalid properties: documentation part properties must be a JSON object",
        )),
        Err(error) => Err(ApiError::bad_request(format!(
            "Invalid properties: documentation part properties must be a JSON object ({error})"
        ))),
    }
}

/// Whether a part has content (`locationStatus=DOCUMENTED`): properties other than `{}`.
pub fn is_documented(part: &DocumentationPart) -> bool {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&part.properties)
        .map_or(true, |map| !map.is_empty())
}

/// Merges imported properties into a part's: the imported keys replace the part's, the
/// others are kept (ImportDocumentationParts in `merge` mode).
pub fn merge_properties(existing: &str, imported: &str) -> String {
    let mut merged: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(existing).unwrap_or_default();
    let incoming: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(imported).unwrap_or_default();
    merged.extend(incoming);
    serde_json::Value::Object(merged).to_string()
}

/// A part as an import document has it: a location and properties as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPart {
    pub location: DocumentationPartLocation,
    pub properties: String,
}

/// Reads the parts of an `x-amazon-apigateway-documentation` extension
/// (`{"version": ..., "documentationParts": [{"location": ..., "properties": {...}}]}`).
/// A part that cannot be read is a warning naming its index; the others are kept.
pub fn parse_extension(extension: &serde_json::Value) -> (Vec<ImportedPart>, Vec<String>) {
    let mut parts = Vec::new();
    let mut warnings = Vec::new();
    let Some(list) = extension
        .get("documentationParts")
        .and_then(serde_json::Value::as_array)
    else {
        if !extension.is_null() {
            warnings.push(
                "x-amazon-apigateway-documentation has no documentationParts list".to_owned(),
            );
        }
        return (parts, warnings);
    };
    for (index, raw) in list.iter().enumerate() {
        match parse_part(raw) {
            Ok(part) => parts.push(part),
            Err(reason) => warnings.push(format!(
                "Documentation part {index} was not imported: {reason}"
            )),
        }
    }
    (parts, warnings)
}

fn parse_part(raw: &serde_json::Value) -> Result<ImportedPart, String> {
    let location = raw.get("location").ok_or("it has no location")?;
    let text = |field: &str| -> Result<Option<String>, String> {
        match location.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(value)) => Ok(Some(value.clone())),
            Some(other) => Err(format!("location.{field} must be a string, not {other}")),
        }
    };
    let kind = text("type")?.ok_or("its location has no type")?;
    let kind = DocumentationPartType::parse(&kind).ok_or_else(|| {
        format!(
            "'{kind}' is not a documentation part type ({})",
            DocumentationPartType::AWS_ORDER
        )
    })?;
    let location = DocumentationPartLocation::normalize(
        kind,
        text("path")?,
        text("method")?,
        text("statusCode")?,
        text("name")?,
    )
    .map_err(|error| error.message().to_owned())?;
    let properties = match raw.get("properties") {
        Some(serde_json::Value::Object(map)) => serde_json::Value::Object(map.clone()).to_string(),
        // The management API's form: the object as text.
        Some(serde_json::Value::String(text)) => {
            check_properties(text).map_err(|error| error.message().to_owned())?;
            text.clone()
        }
        _ => return Err("its properties are not a JSON object".to_owned()),
    };
    Ok(ImportedPart {
        location,
        properties,
    })
}

/// The `x-amazon-apigateway-documentation` extension of an export: the version's parts,
/// with their properties as objects.
pub fn export_extension(version: &DocumentationVersion) -> serde_json::Value {
    let parts: Vec<serde_json::Value> = version
        .parts
        .iter()
        .map(|part| {
            serde_json::json!({
                "location": part.location,
                "properties": serde_json::from_str::<serde_json::Value>(&part.properties)
                    .unwrap_or_else(|_| serde_json::json!({})),
            })
        })
        .collect();
    serde_json::json!({
        "version": version.version,
        "createdDate": version.created_date,
        "documentationParts": parts,
    })
}

/// Applies operations to a part: only `replace /properties`, with AWS's texts for the rest.
pub fn apply_part(
    part: &DocumentationPart,
    ops: &[crate::patch::PatchOperation],
) -> Result<DocumentationPart, ApiError> {
    use crate::patch::Op;
    let mut part = part.clone();
    for op in ops {
        match (op.op, op.path.as_str()) {
            (Op::Replace, "/properties") => {
                let properties = op.value.clone().unwrap_or_default();
                check_properties(&properties)?;
                part.properties = properties;
            }
            (Op::Replace, path) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid patch path  '{path}' specified for op 'replace'. Must be one of: [/properties]"
                )));
            }
            (other, path) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid patch path  '{path}' specified for op '{}'. Please choose supported operations",
                    other.as_str()
                )));
            }
        }
    }
    Ok(part)
}

/// Applies operations to a version: `/description` (replace, add, remove).
pub fn apply_version(
    version: &DocumentationVersion,
    ops: &[crate::patch::PatchOperation],
) -> Result<DocumentationVersion, ApiError> {
    use crate::patch::Op;
    let mut version = version.clone();
    for op in ops {
        match (op.op, op.path.as_str()) {
            (Op::Replace | Op::Add, "/description") => {
                version.description = op.value.clone().filter(|d| !d.is_empty());
            }
            (Op::Remove, "/description") => version.description = None,
            (Op::Replace | Op::Add | Op::Remove, path) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid patch path  '{path}' specified for op '{}'. Must be one of: [/description]",
                    op.op.as_str()
                )));
            }
            (other, path) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid patch path  '{path}' specified for op '{}'. Please choose supported operations",
                    other.as_str()
                )));
            }
        }
    }
    Ok(version)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use DocumentationPartType as T;

    fn location(
        kind: T,
        path: &str,
        method: &str,
        code: &str,
        name: &str,
    ) -> Result<DocumentationPartLocation, ApiError> {
        let some = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        DocumentationPartLocation::normalize(kind, some(path), some(method), some(code), some(name))
    }

    #[test]
    fn locations_take_only_their_fields_and_get_defaults() {
        let api = location(T::Api, "", "", "", "").unwrap();
        assert_eq!(
            serde_json::to_value(&api).unwrap(),
            serde_json::json!({"type": "API"})
        );
        let method = location(T::Method, "", "get", "", "").unwrap();
        assert_eq!(
            serde_json::to_value(&method).unwrap(),
            serde_json::json!({"type": "METHOD", "path": "/", "method": "GET"})
        );
        let response = location(T::Response, "/pets", "", "", "").unwrap();
        assert_eq!(response.method.as_deref(), Some("*"));
        assert_eq!(response.status_code.as_deref(), Some("*"));
        let resource = location(T::Resource, "/pets", "", "", "").unwrap();
        assert_eq!(resource.method, None);

        for (kind, path, method, code, name, field) in [
            (T::Api, "/x", "", "", "", "path"),
            (T::Resource, "/x", "GET", "", "", "method"),
            (T::Method, "/x", "GET", "200", "", "statusCode"),
            (T::Method, "/x", "GET", "", "n", "name"),
            (T::Model, "/x", "", "", "Pet", "path"),
        ] {
            let error = location(kind, path, method, code, name).unwrap_err();
            assert!(error.message().contains(&format!("'{field}'")), "{error:?}");
        }
        for kind in [
            T::Model,
            T::Authorizer,
            T::PathParameter,
            T::QueryParameter,
            T::RequestHeader,
            T::ResponseHeader,
        ] {
            let error = location(kind, "", "", "", "").unwrap_err();
            assert!(
                error.message().contains("'name' is required"),
                "{kind}: {error:?}"
            );
        }
        assert!(location(T::RequestBody, "/", "POST", "", "").is_ok());
        assert!(location(T::Response, "/", "GET", "600", "").is_err());
        assert!(location(T::Resource, "pets", "", "", "").is_err());
        assert_eq!(
            location(T::ResponseHeader, "/p", "GET", "200", "X-Id")
                .unwrap()
                .describe(),
            "type 'RESPONSE_HEADER', path '/p', method 'GET', statusCode '200', name 'X-Id'"
        );
    }

    #[test]
    fn properties_are_json_objects() {
        assert!(check_properties(r#"{"description": "d"}"#).is_ok());
        assert!(check_properties("").is_err());
        assert!(check_properties("[1]").is_err());
        assert!(check_properties("{").is_err());
        assert_eq!(
            merge_properties(r#"{"a":1,"b":2}"#, r#"{"b":3,"c":4}"#),
            r#"{"a":1,"b":3,"c":4}"#
        );
    }

    #[test]
    fn extensions_are_read_part_by_part() {
        let extension = serde_json::json!({
            "version": "1",
            "documentationParts": [
                {"location": {"type": "API"}, "properties": {"description": "the API"}},
                {"location": {"type": "NOPE"}, "properties": {}},
                {"location": {"type": "METHOD", "path": "/pets", "method": "GET"}, "properties": "{\"summary\":\"s\"}"},
                {"location": {"type": "MODEL"}, "properties": {}},
                {"properties": {}},
            ]
        });
        let (parts, warnings) = parse_extension(&extension);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].properties, r#"{"description":"the API"}"#);
        assert_eq!(parts[1].location.method.as_deref(), Some("GET"));
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].starts_with("Documentation part 1 "),
            "{warnings:?}"
        );
        let version = DocumentationVersion {
            version: "v1".into(),
            created_date: 7,
            description: None,
            parts: vec![DocumentationPart {
                id: "p".into(),
                location: parts[0].location.clone(),
                properties: parts[0].properties.clone(),
                seq: 0,
            }],
        };
        let exported = export_extension(&version);
        let (again, warnings) = parse_extension(&exported);
        assert!(warnings.is_empty());
        assert_eq!(again, vec![parts[0].clone()]);
    }
}
