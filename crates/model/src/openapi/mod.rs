//! OpenAPI import and export: the pure conversions behind ImportRestApi, PutRestApi and
//! GetExport.
//!
//! [`import`] reads an OpenAPI 2.0 (Swagger) or 3.0/3.1 document, in JSON or YAML, and turns
//! it into an [`ImportPlan`]: the resource tree with methods, integrations and responses, the
//! gateway responses and the API settings the document declares, plus the warnings for what it
//! asks and Causeway does not do. Nothing here knows the current state of an API: the control
//! plane applies a plan (creating an API, or merging into or overwriting an existing one).
//!
//! [`export`] turns a deployment's frozen [`ApiSnapshot`](crate::ApiSnapshot) back into a
//! document, and [`render`] writes it as JSON or YAML.
//!
//! Every problem with a document is a `BadRequestException` whose message names the place in
//! the document that is wrong (`paths.'/pets'.get.x-amazon-apigateway-integration.uri`).

mod export;
mod import;
mod loc;
mod refs;
mod source;
mod yaml;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use export::{ExportOptions, ExportType, Extensions, Format, Node, export, render, timestamp};
pub use import::import;
pub use loc::Loc;
pub use source::{MAX_DEFINITION_BYTES, MAX_DEPTH, MAX_NODES, parse};

use crate::entities::{GatewayResponse, Method};
use crate::enums::ApiKeySource;
use crate::error::ApiError;

/// What the `basepath` import parameter does with the document's base path (`basePath` in
/// OpenAPI 2.0, the path of the first server URL in 3.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BasePath {
    /// The base path is not part of the resource paths (AWS's default).
    #[default]
    Ignore,
    /// Every resource path starts with the whole base path.
    Prepend,
    /// The first segment of the base path is dropped and the rest is prepended.
    Split,
}

impl BasePath {
    /// Parses `ignore`, `prepend` or `split`.
    pub fn parse(text: &str) -> Option<BasePath> {
        match text {
            "ignore" => Some(BasePath::Ignore),
            "prepend" => Some(BasePath::Prepend),
            "split" => Some(BasePath::Split),
            _ => None,
        }
    }
}

/// How an import reads a document.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The `basepath` parameter.
    pub base_path: BasePath,
    /// `ignore=documentation`: documentation extensions are dropped without a warning.
    pub ignore_documentation: bool,
    /// The longest integration timeout accepted (29 s under AWS's default quota).
    pub max_timeout_millis: i32,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            base_path: BasePath::Ignore,
            ignore_documentation: false,
            max_timeout_millis: crate::validate::DEFAULT_MAX_TIMEOUT_MILLIS,
        }
    }
}

/// What a document asks for, checked and ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportPlan {
    /// `info.title`: the name of an imported API.
    pub name: Option<String>,
    /// `info.description`.
    pub description: Option<String>,
    /// `info.version`.
    pub version: Option<String>,
    /// `x-amazon-apigateway-api-key-source`.
    pub api_key_source: Option<ApiKeySource>,
    /// `x-amazon-apigateway-binary-media-types`.
    pub binary_media_types: Option<Vec<String>>,
    /// `x-amazon-apigateway-minimum-compression-size`.
    pub minimum_compression_size: Option<i32>,
    /// `x-amazon-apigateway-policy`, as the stringified JSON the API keeps.
    pub policy: Option<String>,
    /// `x-amazon-apigateway-endpoint-configuration.vpcEndpointIds`.
    pub vpc_endpoint_ids: Option<Vec<String>>,
    /// `x-amazon-apigateway-endpoint-configuration.disableExecuteApiEndpoint`.
    pub disable_execute_api_endpoint: Option<bool>,
    /// `x-amazon-apigateway-gateway-responses`, each customised (`defaultResponse: false`).
    pub gateway_responses: Vec<GatewayResponse>,
    /// Every resource the document needs, parents before children: the root (`/`), each path
    /// of the document and every intermediate path (`/a` for `/a/b`).
    pub resources: Vec<PlannedResource>,
    /// Models: the document's schemas (`definitions`, `components.schemas`) and the inline
    /// schemas of request bodies.
    pub models: Vec<PlannedModel>,
    /// `x-amazon-apigateway-request-validators`, by name. Methods name theirs by name in
    /// `request_validator_id` until the control plane gives validators ids.
    pub request_validators: Vec<PlannedValidator>,
    /// Security schemes with `x-amazon-apigateway-authorizer`, named by scheme. Methods name
    /// theirs by scheme name in `authorizer_id` until the control plane gives them ids.
    pub authorizers: Vec<crate::Authorizer>,
    /// `x-amazon-apigateway-documentation`'s parts; `None` when the document has none (or
    /// the import ignores documentation).
    pub documentation: Option<Vec<crate::documentation::ImportedPart>>,
    /// What the document asks and Causeway does not do, one sentence each.
    pub warnings: Vec<String>,
}

/// A model of an [`ImportPlan`]. Its references to other models use the API id
/// [`PLANNED_API`] until [`PlannedModel::schema_for`] names the real one.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedModel {
    pub name: String,
    pub description: Option<String>,
    pub schema: String,
    /// Where the schema is in the document.
    pub at: Loc,
}

/// The stand-in API id of model references in a plan.
pub const PLANNED_API: &str = "{restapi_id}";

impl PlannedModel {
    /// The schema with its model references naming API `api_id`.
    pub fn schema_for(&self, api_id: &str) -> String {
        self.schema.replace(
            &crate::schemas::model_url(PLANNED_API, ""),
            &crate::schemas::model_url(api_id, ""),
        )
    }
}

/// A request validator of an [`ImportPlan`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedValidator {
    pub name: String,
    pub validate_request_body: bool,
    pub validate_request_parameters: bool,
}

/// A resource of an [`ImportPlan`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedResource {
    /// The full path (`/pets/{petId}`), `/` for the root.
    pub path: String,
    /// The last segment (`{petId}`), empty for the root.
    pub path_part: String,
    /// The parent's full path; `None` for the root.
    pub parent_path: Option<String>,
    /// Methods by verb (`GET`, `ANY`).
    pub methods: BTreeMap<String, PlannedMethod>,
}

/// A method of a [`PlannedResource`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMethod {
    /// The method with its responses and integration. An integration whose `cache_namespace`
    /// is empty takes its resource's id, as PutIntegration does.
    pub method: Method,
    /// Where the operation is in the document, for messages about it.
    pub at: Loc,
}

/// The error for problems that stop an import, in AWS's shape:
/// `Errors found during import:\n\t{problem}\n\t{problem}`.
pub fn errors_found(problems: &[String]) -> ApiError {
    ApiError::bad_request(format!(
        "Errors found during import:\n\t{}",
        problems.join("\n\t")
    ))
}

/// The error for an import with `failonwarnings=true` that has warnings:
/// `Warnings found during import:\n\t{warning}...`.
pub fn warnings_found(warnings: &[String]) -> ApiError {
    ApiError::bad_request(format!(
        "Warnings found during import:\n\t{}",
        warnings.join("\n\t")
    ))
}
