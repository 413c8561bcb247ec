//! PATCH operations (`patchOperations`) and their application to each resource.
//!
//! AWS sends every `value` as a string and names fields with JSON Pointers in which `/` is
//! escaped as `~1`. Each `apply_*` function works on a copy of the resource so that a request
//! whose third operation fails leaves nothing half-applied.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::entities::*;
use crate::enums::*;
use crate::error::ApiError;
use crate::validate;

mod usage;
pub use usage::{apply_account, apply_api_key, apply_usage_plan};

/// The six operations of RFC 6902 that the AWS model names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

impl Op {
    fn parse(text: &str) -> Option<Op> {
        Some(match text {
            "add" => Op::Add,
            "remove" => Op::Remove,
            "replace" => Op::Replace,
            "move" => Op::Move,
            "copy" => Op::Copy,
            "test" => Op::Test,
            _ => return None,
        })
    }

    /// The lowercase spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Replace => "replace",
            Op::Move => "move",
            Op::Copy => "copy",
            Op::Test => "test",
        }
    }
}

/// A patch operation as it arrives: `op` is still a string so that every bad one can be
/// reported at once, as AWS does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawPatch {
    pub op: Option<String>,
    pub path: Option<String>,
    pub value: Option<String>,
    pub from: Option<String>,
}

/// A checked patch operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchOperation {
    pub op: Op,
    pub path: String,
    pub value: Option<String>,
    pub from: Option<String>,
}

/// Checks the `op` of every operation and reports all violations together
/// (`2 validation errors detected: ...`), naming the input shape as AWS does
/// (`updateRestApiInput`).
pub fn parse_operations(raw: Vec<RawPatch>, input: &str) -> Result<Vec<PatchOperation>, ApiError> {
    let mut problems = Vec::new();
    let mut ops = Vec::with_capacity(raw.len());
    for (index, item) in raw.into_iter().enumerate() {
        let text = item.op.clone().unwrap_or_default();
        match Op::parse(&text) {
            Some(op) => ops.push(PatchOperation {
                op,
                path: item.path.unwrap_or_default(),
                value: item.value,
                from: item.from,
            }),
            None => problems.push(format!(
                "Value '{text}' at '{input}.patchOperations.{}.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]",
                index + 1
            )),
        }
    }
    match problems.len() {
        0 => Ok(ops),
        1 => Err(ApiError::Validation(format!(
            "1 validation error detected: {}",
            problems[0]
        ))),
        n => Err(ApiError::Validation(format!(
            "{n} validation errors detected: {}",
            problems.join("; ")
        ))),
    }
}

impl PatchOperation {
    /// The path split into unescaped JSON Pointer segments (`~1` → `/`, `~0` → `~`).
    pub fn segments(&self) -> Vec<String> {
        pointer_segments(&self.path)
    }

    /// `Invalid patch path {path}`.
    pub fn invalid_path(&self) -> ApiError {
        ApiError::bad_request(format!("Invalid patch path {}", self.path))
    }

    /// The error AWS gives for an operation a path does not support.
    pub fn unsupported(&self, allowed: &[Op]) -> ApiError {
        let names: Vec<&str> = allowed.iter().map(|op| op.as_str()).collect();
        ApiError::bad_request(format!(
            "Invalid patch operation specified. Must be one of: [{}]",
            names.join(", ")
        ))
    }

    /// Fails unless the operation is one of `allowed`.
    pub fn expect_op(&self, allowed: &[Op]) -> Result<(), ApiError> {
        if allowed.contains(&self.op) {
            Ok(())
        } else {
            Err(self.unsupported(allowed))
        }
    }

    /// The value, which add, replace and test need.
    pub fn value(&self) -> Result<&str, ApiError> {
        self.value.as_deref().ok_or_else(|| {
            ApiError::bad_request(format!(
                "A value is required for op '{}' on path '{}'",
                self.op.as_str(),
                self.path
            ))
        })
    }

    /// The value, or `None` for an empty string (AWS clears a field that way).
    pub fn optional_value(&self) -> Option<String> {
        self.value.clone().filter(|v| !v.is_empty())
    }

    /// The value parsed as a boolean (`"true"` / `"false"`).
    pub fn bool_value(&self) -> Result<bool, ApiError> {
        match self.value()? {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(ApiError::bad_request(format!(
                "Invalid boolean value '{other}' for path {}: use 'true' or 'false'",
                self.path
            ))),
        }
    }

    /// The value parsed as a number.
    pub fn number_value<T: FromStr>(&self) -> Result<T, ApiError> {
        let text = self.value()?;
        text.trim().parse().map_err(|_| {
            ApiError::bad_request(format!(
                "Invalid number value '{text}' for path {}",
                self.path
            ))
        })
    }

    /// The value parsed as one of an enum's spellings.
    pub fn enum_value<T>(
        &self,
        parse: fn(&str) -> Option<T>,
        options: String,
    ) -> Result<T, ApiError> {
        let text = self.value()?;
        parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid value '{text}' for path {}. Valid options are {options}",
                self.path
            ))
        })
    }
}

/// Unescapes one JSON Pointer segment: `~1` → `/`, `~0` → `~`.
pub fn unescape_segment(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Splits a JSON Pointer into unescaped segments. `"/a~1b/c"` → `["a/b", "c"]`.
pub fn pointer_segments(path: &str) -> Vec<String> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split('/').map(unescape_segment).collect()
}

/// Applies add/replace/remove to a map entry addressed by `key`. `missing` is the error for
/// removing an entry that does not exist.
fn map_entry<V>(
    map: &mut BTreeMap<String, V>,
    op: &PatchOperation,
    key: &str,
    parse: impl FnOnce(&PatchOperation) -> Result<V, ApiError>,
    missing: impl FnOnce() -> ApiError,
) -> Result<(), ApiError> {
    if key.is_empty() {
        return Err(op.invalid_path());
    }
    match op.op {
        Op::Add | Op::Replace => {
            let value = parse(op)?;
            map.insert(key.to_owned(), value);
            Ok(())
        }
        Op::Remove => map.remove(key).map(|_| ()).ok_or_else(missing),
        _ => Err(op.unsupported(&[Op::Add, Op::Remove, Op::Replace])),
    }
}

fn string_of(op: &PatchOperation) -> Result<String, ApiError> {
    op.value().map(str::to_owned)
}

fn bool_of(op: &PatchOperation) -> Result<bool, ApiError> {
    op.bool_value()
}

/// Applies operations to a REST API's settings.
pub fn apply_rest_api(api: &RestApi, ops: &[PatchOperation]) -> Result<RestApi, ApiError> {
    let mut api = api.clone();
    for op in ops {
        let segments = op.segments();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segs.as_slice() {
            ["name"] => {
                op.expect_op(&[Op::Replace])?;
                let name = op.value()?;
                if name.is_empty() {
                    return Err(ApiError::bad_request("Name cannot be empty"));
                }
                api.name = name.to_owned();
            }
            ["description"] => match op.op {
                Op::Replace | Op::Add => api.description = op.optional_value(),
                Op::Remove => api.description = None,
                _ => return Err(op.unsupported(&[Op::Add, Op::Remove, Op::Replace])),
            },
            ["version"] => match op.op {
                Op::Replace | Op::Add => api.version = op.optional_value(),
                Op::Remove => api.version = None,
                _ => return Err(op.unsupported(&[Op::Add, Op::Remove, Op::Replace])),
            },
            ["apiKeySource"] => {
                op.expect_op(&[Op::Replace])?;
                api.api_key_source =
                    op.enum_value(ApiKeySource::parse, ApiKeySource::options(","))?;
            }
            ["minimumCompressionSize"] => {
                op.expect_op(&[Op::Replace])?;
                api.minimum_compression_size = match op.optional_value() {
                    None => None,
                    Some(_) => {
                        let size: i64 = op.number_value()?;
                        if !(0..=10_485_760).contains(&size) {
                            return Err(ApiError::bad_request(
                                "Invalid minimum compression size, must be between 0 and 10485760",
                            ));
                        }
                        Some(size as i32)
                    }
                };
            }
            ["policy"] => match op.op {
                Op::Replace | Op::Add => api.policy = op.optional_value(),
                Op::Remove => api.policy = None,
                _ => return Err(op.unsupported(&[Op::Add, Op::Remove, Op::Replace])),
            },
            ["disableExecuteApiEndpoint"] => {
                op.expect_op(&[Op::Replace])?;
                api.disable_execute_api_endpoint = op.bool_value()?;
            }
            ["endpointConfiguration", "types", old] => {
                op.expect_op(&[Op::Replace])?;
                let new = op.enum_value(EndpointType::parse, EndpointType::options(","))
                    .map_err(|_| ApiError::bad_request("Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE"))?;
                let index = match old.parse::<usize>() {
                    Ok(index) if index < api.endpoint_configuration.types.len() => index,
                    _ => api
                        .endpoint_configuration
                        .types
                        .iter()
                        .position(|t| t.as_str() == *old)
                        .ok_or_else(|| op.invalid_path())?,
                };
                api.endpoint_configuration.types[index] = new;
                if new == EndpointType::Private {
                    api.endpoint_configuration.ip_address_type = "dualstack".to_owned();
                }
            }
            ["endpointConfiguration", "ipAddressType"] => {
                op.expect_op(&[Op::Replace])?;
                let value = op.value()?;
                if value != "ipv4" && value != "dualstack" {
                    return Err(ApiError::bad_request(format!(
                        "Invalid ipAddressType '{value}'. Valid options are ipv4,dualstack"
                    )));
                }
                if value == "ipv4"
                    && api
                        .endpoint_configuration
                        .types
                        .contains(&EndpointType::Private)
                {
                    return Err(ApiError::bad_request(
                        "Only dualstack ipAddressType is supported for Private APIs.",
                    ));
                }
                api.endpoint_configuration.ip_address_type = value.to_owned();
            }
            ["endpointConfiguration", "vpcEndpointIds"] => {
                let ids = &mut api.endpoint_configuration.vpc_endpoint_ids;
                match op.op {
                    Op::Add => {
                        for id in op
                            .value()?
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                        {
                            if !ids.iter().any(|existing| existing == id) {
                                ids.push(id.to_owned());
                            }
                        }
                    }
                    Op::Remove => {
                        let value = op.value()?;
                        let remove: Vec<&str> = value.split(',').map(str::trim).collect();
                        ids.retain(|id| !remove.contains(&id.as_str()));
                    }
                    _ => return Err(op.unsupported(&[Op::Add, Op::Remove])),
                }
            }
            ["binaryMediaTypes", media_type] if !media_type.is_empty() => {
                let types = &mut api.binary_media_types;
                match op.op {
                    Op::Add => {
                        if !types.iter().any(|t| t == media_type) {
                            types.push((*media_type).to_owned());
                        }
                    }
                    Op::Remove => types.retain(|t| t != media_type),
                    Op::Replace => {
                        let new = op.value()?.to_owned();
                        match types.iter().position(|t| t == media_type) {
                            Some(index) => types[index] = new,
                            None => types.push(new),
                        }
                    }
                    _ => return Err(op.unsupported(&[Op::Add, Op::Remove, Op::Replace])),
                }
            }
            _ => return Err(op.invalid_path()),
        }
    }
    Ok(api)
}

/// A move or rename of a resource asked for by UpdateResource; the caller checks it against
/// the tree (siblings, cycles) before applying it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceUpdate {
    pub path_part: Option<String>,
    pub parent_id: Option<String>,
}

/// Reads the `/pathPart` and `/parentId` replacements of an UpdateResource.
pub fn resource_update(is_root: bool, ops: &[PatchOperation]) -> Result<ResourceUpdate, ApiError> {
    let mut update = ResourceUpdate::default();
    for op in ops {
        let field = match op.path.as_str() {
            "/pathPart" => "pathPart",
            "/parentId" => "parentId",
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid patch path  '{}' specified for op '{}'. Must be one of: [/parentId, /pathPart]",
                    op.path,
                    op.op.as_str()
                )));
            }
        };
        if op.op != Op::Replace {
            return Err(ApiError::bad_request(format!(
                "Invalid patch path  '{}' specified for op '{}'. Please choose supported operations",
                op.path,
                op.op.as_str()
            )));
        }
        if is_root {
            return Err(ApiError::bad_request(format!(
                "Root resource cannot update its {field}."
            )));
        }
        let value = op.value()?.to_owned();
        if field == "pathPart" {
            update.path_part = Some(value);
        } else {
            update.parent_id = Some(value);
        }
    }
    Ok(update)
}

/// Applies operations to a method (not its responses or integration).
pub fn apply_method(method: &Method, ops: &[PatchOperation]) -> Result<Method, ApiError> {
    let mut method = method.clone();
    for op in ops {
        let segments = op.segments();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segs.as_slice() {
            ["authorizationType"] => {
                op.expect_op(&[Op::Replace])?;
                method.authorization_type =
                    op.enum_value(AuthorizationType::parse, AuthorizationType::options(","))?;
            }
            ["authorizerId"] => {
                op.expect_op(&[Op::Replace])?;
                method.authorizer_id = op.optional_value();
            }
            ["apiKeyRequired"] => {
                op.expect_op(&[Op::Replace])?;
                method.api_key_required = op.bool_value()?;
            }
            ["operationName"] => {
                op.expect_op(&[Op::Replace])?;
                method.operation_name = op.optional_value();
            }
            ["requestValidatorId"] => {
                op.expect_op(&[Op::Replace])?;
                method.request_validator_id = op.optional_value();
            }
            ["requestParameters", key] => {
                if op.op != Op::Remove {
                    validate::method_request_parameter(key)?;
                }
                map_entry(&mut method.request_parameters, op, key, bool_of, || {
                    ApiError::not_found("Invalid parameter name specified")
                })?;
            }
            ["requestModels", content_type] => {
                map_entry(
                    &mut method.request_models,
                    op,
                    content_type,
                    string_of,
                    || ApiError::not_found("Content-Type specified was not found"),
                )?;
            }
            ["authorizationScopes"] => match op.op {
                Op::Add => {
                    let scope = op.value()?.to_owned();
                    if !method.authorization_scopes.contains(&scope) {
                        method.authorization_scopes.push(scope);
                    }
                }
                Op::Remove => {
                    let scope = op.value()?;
                    method.authorization_scopes.retain(|s| s != scope);
                }
                _ => return Err(op.unsupported(&[Op::Add, Op::Remove])),
            },
            _ => return Err(op.invalid_path()),
        }
    }
    // Only CUSTOM and COGNITO_USER_POOLS methods name an authorizer: AWS drops the id of any
    // other (a `replace /authorizerId` on a NONE method answers 200 without it).
    if !method.authorization_type.uses_authorizer() {
        method.authorizer_id = None;
    }
    Ok(method)
}

/// Applies operations to a method response.
pub fn apply_method_response(
    response: &MethodResponse,
    ops: &[PatchOperation],
) -> Result<MethodResponse, ApiError> {
    let mut response = response.clone();
    for op in ops {
        let segments = op.segments();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segs.as_slice() {
            ["responseParameters", key] => {
                map_entry(&mut response.response_parameters, op, key, bool_of, || {
                    ApiError::not_found("Invalid parameter name specified")
                })?
            }
            ["responseModels", content_type] => map_entry(
                &mut response.response_models,
                op,
                content_type,
                string_of,
                || ApiError::not_found("Content-Type specified was not found"),
            )?,
            _ => return Err(op.invalid_path()),
        }
    }
    Ok(response)
}

/// Applies operations to an integration (not its responses); `max_timeout_millis` is the
/// server's integration timeout ceiling.
pub fn apply_integration(
    integration: &Integration,
    ops: &[PatchOperation],
    max_timeout_millis: i32,
) -> Result<Integration, ApiError> {
    let mut it = integration.clone();
    for op in ops {
        let segments = op.segments();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let replace_only = || op.expect_op(&[Op::Replace, Op::Add]);
        match segs.as_slice() {
            ["uri"] => {
                replace_only()?;
                it.uri = op.optional_value();
            }
            ["httpMethod"] => {
                replace_only()?;
                it.http_method = Some(op.enum_value(HttpMethod::parse, HttpMethod::options(","))?);
            }
            ["type"] => {
                replace_only()?;
                it.kind = op.enum_value(IntegrationType::parse, IntegrationType::options(", "))?;
            }
            ["connectionType"] => {
                replace_only()?;
                it.connection_type =
                    Some(op.enum_value(ConnectionType::parse, ConnectionType::options(", "))?);
            }
            ["connectionId"] => match op.op {
                Op::Replace | Op::Add => it.connection_id = op.optional_value(),
                Op::Remove => it.connection_id = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["integrationTarget"] => match op.op {
                Op::Replace | Op::Add => it.integration_target = op.optional_value(),
                Op::Remove => it.integration_target = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["credentials"] => match op.op {
                Op::Replace | Op::Add => it.credentials = op.optional_value(),
                Op::Remove => it.credentials = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["timeoutInMillis"] => {
                replace_only()?;
                // Checked with the rest at the end: the ceiling depends on the transfer mode,
                // which the same request may change.
                it.timeout_in_millis = op.number_value()?;
            }
            ["responseTransferMode"] => {
                replace_only()?;
                it.response_transfer_mode = Some(op.enum_value(
                    ResponseTransferMode::parse,
                    ResponseTransferMode::options(", "),
                )?);
            }
            ["passthroughBehavior"] => {
                replace_only()?;
                it.passthrough_behavior = Some(op.enum_value(
                    PassthroughBehavior::parse,
                    PassthroughBehavior::options(", "),
                )?);
            }
            ["contentHandling"] => match op.op {
                Op::Replace | Op::Add if op.optional_value().is_some() => {
                    it.content_handling = Some(
                        op.enum_value(ContentHandling::parse, ContentHandling::options(", "))?,
                    );
                }
                Op::Replace | Op::Add | Op::Remove => it.content_handling = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["cacheNamespace"] => {
                replace_only()?;
                it.cache_namespace = op.value()?.to_owned();
            }
            ["cacheKeyParameters", name] if !name.is_empty() => match op.op {
                Op::Add => {
                    if !it.cache_key_parameters.iter().any(|p| p == name) {
                        it.cache_key_parameters.push((*name).to_owned());
                    }
                }
                Op::Remove => it.cache_key_parameters.retain(|p| p != name),
                _ => return Err(op.unsupported(&[Op::Add, Op::Remove])),
            },
            ["tlsConfig", "insecureSkipVerification"] => {
                replace_only()?;
                it.tls_config = Some(TlsConfig {
                    insecure_skip_verification: op.bool_value()?,
                });
            }
            ["requestParameters", key] => {
                map_entry(&mut it.request_parameters, op, key, string_of, || {
                    ApiError::not_found("Invalid mapping expression specified")
                })?
            }
            ["requestTemplates", content_type] => map_entry(
                &mut it.request_templates,
                op,
                content_type,
                string_of,
                || ApiError::not_found("Content-Type specified was not found"),
            )?,
            _ => return Err(op.invalid_path()),
        }
    }
    check_integration(&it, max_timeout_millis)?;
    Ok(it)
}

/// Rules an integration must satisfy whatever way it was written (Put or Update);
/// `max_timeout_millis` is the server's integration timeout ceiling.
pub fn check_integration(it: &Integration, max_timeout_millis: i32) -> Result<(), ApiError> {
    match it.kind {
        IntegrationType::Http | IntegrationType::HttpProxy => {
            if it.http_method.is_none() {
                return Err(ApiError::bad_request(
                    "Enumeration value for HttpMethod must be non-empty",
                ));
            }
            match &it.uri {
                Some(uri) => validate::http_uri(uri)?,
                None => {
                    return Err(ApiError::bad_request(
                        "Invalid HTTP endpoint specified for URI",
                    ));
                }
            }
        }
        IntegrationType::Aws | IntegrationType::AwsProxy => {
            let uri = it.uri.as_deref().unwrap_or_default();
            if it.kind == IntegrationType::Aws && it.http_method.is_none() {
                return Err(ApiError::bad_request(
                    "Enumeration value for HttpMethod must be non-empty",
                ));
            }
            // `arn:{partition}:apigateway:{region}:{service}:{path|action}/...`
            let Some(rest) = uri.strip_prefix("arn:") else {
                return Err(ApiError::bad_request(
                    "Invalid ARN specified in the request",
                ));
            };
            let resource = rest.splitn(5, ':').nth(4).unwrap_or_default();
            if !(resource.starts_with("path") || resource.starts_with("action")) {
                return Err(ApiError::bad_request(
                    "AWS ARN for integration must contain path or action",
                ));
            }
            if it.kind == IntegrationType::AwsProxy
                && crate::authorizer::lambda_function(uri).is_none()
            {
                return Err(ApiError::bad_request(
                    "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
                ));
            }
        }
        IntegrationType::Mock => {}
    }
    if it.connection_type == Some(ConnectionType::VpcLink) {
        if !matches!(it.kind, IntegrationType::Http | IntegrationType::HttpProxy) {
            return Err(ApiError::bad_request(
                "Connection type VPC_LINK is only supported for integrations of type HTTP and HTTP_PROXY",
            ));
        }
        if it.connection_id.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::bad_request(
                "Connection id must be set to a VPC link id or ${stageVariables.NAME} when the connection type is VPC_LINK",
            ));
        }
    }
    if it.response_transfer_mode == Some(ResponseTransferMode::Stream) {
        if !matches!(
            it.kind,
            IntegrationType::HttpProxy | IntegrationType::AwsProxy
        ) {
            return Err(ApiError::bad_request(
                "Response transfer mode STREAM is only supported for integrations of type HTTP_PROXY and AWS_PROXY",
            ));
        }
        // A streamed answer may take up to 15 minutes, whatever the buffered ceiling.
        return validate::timeout_in_millis(it.timeout_in_millis, MAX_STREAM_TIMEOUT_MILLIS);
    }
    validate::timeout_in_millis(it.timeout_in_millis, max_timeout_millis)
}

/// The longest integration timeout of a streamed answer: 15 minutes, as on AWS.
pub const MAX_STREAM_TIMEOUT_MILLIS: i32 = 900_000;

/// Applies operations to an integration response.
pub fn apply_integration_response(
    response: &IntegrationResponse,
    ops: &[PatchOperation],
) -> Result<IntegrationResponse, ApiError> {
    let mut response = response.clone();
    for op in ops {
        let segments = op.segments();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segs.as_slice() {
            ["selectionPattern"] => match op.op {
                Op::Replace | Op::Add => response.selection_pattern = op.optional_value(),
                Op::Remove => response.selection_pattern = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["contentHandling"] => match op.op {
                Op::Replace | Op::Add if op.optional_value().is_some() => {
                    response.content_handling = Some(
                        op.enum_value(ContentHandling::parse, ContentHandling::options(", "))?,
                    );
                }
                Op::Replace | Op::Add | Op::Remove => response.content_handling = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["responseParameters", key] => map_entry(
                &mut response.response_parameters,
                op,
                key,
                string_of,
                || ApiError::not_found("Invalid parameter name specified"),
            )?,
            ["responseTemplates", content_type] => map_entry(
                &mut response.response_templates,
                op,
                content_type,
                string_of,
                || ApiError::not_found("Content-Type specified was not found"),
            )?,
            _ => return Err(op.invalid_path()),
        }
    }
    Ok(response)
}

/// Applies operations to a VPC link (`/name`, `/description`).
pub fn apply_vpc_link(link: &VpcLink, ops: &[PatchOperation]) -> Result<VpcLink, ApiError> {
    let mut link = link.clone();
    for op in ops {
        match op.path.as_str() {
            "/name" => {
                op.expect_op(&[Op::Replace])?;
                let name = op.value()?;
                if name.is_empty() {
                    return Err(ApiError::bad_request("Name cannot be empty"));
                }
                link.name = name.to_owned();
            }
            "/description" => match op.op {
                Op::Replace | Op::Add => link.description = op.optional_value(),
                Op::Remove => link.description = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            _ => return Err(op.invalid_path()),
        }
    }
    Ok(link)
}

/// Applies operations to a client certificate (`/description`).
pub fn apply_client_certificate(
    certificate: &ClientCertificate,
    ops: &[PatchOperation],
) -> Result<ClientCertificate, ApiError> {
    let mut certificate = certificate.clone();
    for op in ops {
        match op.path.as_str() {
            "/description" => match op.op {
                Op::Replace | Op::Add => certificate.description = op.optional_value(),
                Op::Remove => certificate.description = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            _ => return Err(op.invalid_path()),
        }
    }
    Ok(certificate)
}

/// Applies operations to a deployment (`/description`).
pub fn apply_deployment(
    deployment: &Deployment,
    ops: &[PatchOperation],
) -> Result<Deployment, ApiError> {
    let mut deployment = deployment.clone();
    for op in ops {
        match op.path.as_str() {
            "/description" => match op.op {
                Op::Replace | Op::Add => deployment.description = op.optional_value(),
                Op::Remove => deployment.description = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            _ => return Err(op.invalid_path()),
        }
    }
    Ok(deployment)
}

/// Applies operations to a gateway response. The caller passes the current (possibly
/// default) response; the result is always a customised one.
pub fn apply_gateway_response(
    response: &GatewayResponse,
    ops: &[PatchOperation],
) -> Result<GatewayResponse, ApiError> {
    let mut response = response.clone();
    for op in ops {
        let segments = op.segments();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segs.as_slice() {
            ["statusCode"] => {
                if op.op != Op::Replace {
                    return Err(op.invalid_path());
                }
                let code = op.value()?;
                validate::status_code(code, "statusCode")?;
                response.status_code = Some(code.to_owned());
            }
            ["responseParameters", key] => {
                if op.op == Op::Replace && !response.response_parameters.contains_key(*key) {
                    return Err(ApiError::not_found("Invalid parameter name specified"));
                }
                map_entry(
                    &mut response.response_parameters,
                    op,
                    key,
                    string_of,
                    || ApiError::not_found("Invalid parameter name specified"),
                )?
            }
            ["responseTemplates", content_type] => map_entry(
                &mut response.response_templates,
                op,
                content_type,
                string_of,
                || ApiError::not_found("Content-Type specified was not found"),
            )?,
            _ => return Err(op.invalid_path()),
        }
    }
    response.default_response = false;
    Ok(response)
}

const STAGE_PATHS: &str = "[/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, /clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, /accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, /{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, /{resourcePath}/{httpMethod}/throttling/burstLimit, /{resourcePath}/{httpMethod}/throttling/rateLimit, /{resourcePath}/{httpMethod}/caching/ttlInSeconds, /{resourcePath}/{httpMethod}/caching/enabled, /{resourcePath}/{httpMethod}/caching/dataEncrypted, /{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, /{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, /*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit, /*/*/throttling/rateLimit, /*/*/caching/ttlInSeconds, /*/*/caching/enabled, /*/*/caching/dataEncrypted, /*/*/caching/requireAuthorizationForCacheControl, /*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, /tracingEnabled, /documentationVersion, /webAclArn, /canarySettings]";

/// Applies operations to a stage. `deployment_exists` answers whether a deployment id
/// belongs to the stage's API; `now` stamps `lastUpdatedDate`.
pub fn apply_stage(
    stage: &Stage,
    ops: &[PatchOperation],
    deployment_exists: &dyn Fn(&str) -> bool,
    now: i64,
) -> Result<Stage, ApiError> {
    let mut stage = stage.clone();
    let invalid = |op: &PatchOperation| {
        ApiError::bad_request(format!(
            "Invalid method setting path: {}. Must be one of: {STAGE_PATHS}",
            op.path
        ))
    };
    // A canary attached by a patch starts on the stage's own deployment (AWS: "both the
    // production release and canary release point to the same deployment").
    fn canary_of(stage: &mut Stage) -> &mut CanarySettings {
        let deployment_id = stage.deployment_id.clone();
        stage.canary_settings.get_or_insert_with(|| CanarySettings {
            deployment_id: Some(deployment_id),
            ..CanarySettings::default()
        })
    }
    for op in ops {
        // Method-setting keys keep their `~1` escapes, as AWS reports them, so split the raw
        // path here instead of unescaping.
        let raw: Vec<&str> = op
            .path
            .strip_prefix('/')
            .unwrap_or(&op.path)
            .split('/')
            .collect();
        match raw.as_slice() {
            ["deploymentId"] => {
                let id = match op.op {
                    Op::Replace | Op::Add => op.value()?.to_owned(),
                    Op::Copy if op.from.as_deref() == Some("/canarySettings/deploymentId") => stage
                        .canary_settings
                        .as_ref()
                        .and_then(|c| c.deployment_id.clone())
                        .ok_or_else(|| {
                            ApiError::bad_request("The stage has no canary deployment to promote")
                        })?,
                    _ => return Err(op.unsupported(&[Op::Replace, Op::Copy])),
                };
                if !deployment_exists(&id) {
                    return Err(ApiError::bad_request("Deployment id does not exist"));
                }
                stage.deployment_id = id;
            }
            ["description"] => match op.op {
                Op::Replace | Op::Add => stage.description = op.optional_value(),
                Op::Remove => stage.description = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["cacheClusterEnabled"] => {
                op.expect_op(&[Op::Replace])?;
                stage.cache_cluster_enabled = op.bool_value()?;
                if stage.cache_cluster_enabled {
                    stage.cache_cluster_status = CacheClusterStatus::Available;
                    stage
                        .cache_cluster_size
                        .get_or_insert_with(|| "0.5".to_owned());
                } else {
                    stage.cache_cluster_status = CacheClusterStatus::NotAvailable;
                }
            }
            ["cacheClusterSize"] => {
                op.expect_op(&[Op::Replace])?;
                let size = op.value()?;
                validate::cache_cluster_size(size)?;
                stage.cache_cluster_size = Some(size.to_owned());
            }
            ["clientCertificateId"] => match op.op {
                Op::Replace | Op::Add => stage.client_certificate_id = op.optional_value(),
                Op::Remove => stage.client_certificate_id = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["documentationVersion"] => match op.op {
                Op::Replace | Op::Add => stage.documentation_version = op.optional_value(),
                Op::Remove => stage.documentation_version = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["webAclArn"] => match op.op {
                Op::Replace | Op::Add => stage.web_acl_arn = op.optional_value(),
                Op::Remove => stage.web_acl_arn = None,
                _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
            },
            ["tracingEnabled"] => {
                op.expect_op(&[Op::Replace])?;
                stage.tracing_enabled = op.bool_value()?;
            }
            ["accessLogSettings"] => {
                op.expect_op(&[Op::Remove])?;
                stage.access_log_settings = None;
            }
            ["accessLogSettings", field @ ("format" | "destinationArn")] => {
                op.expect_op(&[Op::Replace, Op::Add])?;
                let settings = stage
                    .access_log_settings
                    .get_or_insert_with(AccessLogSettings::default);
                let value = op.optional_value();
                if *field == "format" {
                    settings.format = value;
                } else {
                    settings.destination_arn = value;
                }
            }
            ["canarySettings"] => {
                op.expect_op(&[Op::Remove])?;
                stage.canary_settings = None;
            }
            ["canarySettings", "percentTraffic"] => {
                op.expect_op(&[Op::Replace])?;
                let percent: f64 = op.number_value()?;
                crate::validate::canary_percent(Some(percent))?;
                canary_of(&mut stage).percent_traffic = Some(percent);
            }
            ["canarySettings", "useStageCache"] => {
                op.expect_op(&[Op::Replace])?;
                let use_stage_cache = op.bool_value()?;
                canary_of(&mut stage).use_stage_cache = use_stage_cache;
            }
            ["canarySettings", "deploymentId"] => {
                op.expect_op(&[Op::Replace])?;
                let id = op.value()?.to_owned();
                if !deployment_exists(&id) {
                    return Err(ApiError::bad_request("Deployment id does not exist"));
                }
                canary_of(&mut stage).deployment_id = Some(id);
            }
            ["canarySettings", "stageVariableOverrides", name] => {
                let name = unescape_segment(name);
                match op.op {
                    Op::Replace | Op::Add => {
                        let value = op.value()?;
                        validate::stage_variable(&name, value)?;
                        canary_of(&mut stage)
                            .stage_variable_overrides
                            .insert(name, value.to_owned());
                    }
                    Op::Remove => {
                        if let Some(canary) = &mut stage.canary_settings {
                            canary.stage_variable_overrides.remove(&name);
                        }
                    }
                    _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
                }
            }
            // Promotion carries the canary's variables over to the stage.
            ["variables"]
                if op.op == Op::Copy
                    && op.from.as_deref() == Some("/canarySettings/stageVariableOverrides") =>
            {
                let overrides = stage
                    .canary_settings
                    .as_ref()
                    .map(|c| c.stage_variable_overrides.clone())
                    .unwrap_or_default();
                stage.variables.extend(overrides);
            }
            ["variables", name] => {
                let name = unescape_segment(name);
                match op.op {
                    Op::Replace | Op::Add => {
                        let value = op.value()?;
                        validate::stage_variable(&name, value)?;
                        stage.variables.insert(name, value.to_owned());
                    }
                    Op::Remove => {
                        stage.variables.remove(&name);
                    }
                    _ => return Err(op.unsupported(&[Op::Replace, Op::Remove])),
                }
            }
            [resource @ .., method]
                if raw.len() >= 2 && op.op == Op::Remove && is_method_key(resource, method) =>
            {
                let key = format!("{}/{method}", resource.join("/"));
                if stage.method_settings.remove(&key).is_none() {
                    return Err(ApiError::bad_request(format!(
                        "Cannot remove method setting {key} because there is no method setting for this method "
                    )));
                }
            }
            [resource @ .., method, group, setting]
                if raw.len() >= 4 && is_method_key(resource, method) =>
            {
                op.expect_op(&[Op::Replace, Op::Add])?;
                let key = format!("{}/{method}", resource.join("/"));
                let inherited = stage
                    .method_settings
                    .get("*/*")
                    .cloned()
                    .unwrap_or_default();
                let mut setting_value = stage
                    .method_settings
                    .get(&key)
                    .cloned()
                    .unwrap_or(inherited);
                apply_method_setting(&mut setting_value, group, setting, op).map_err(
                    |e| match e {
                        SettingError::Path => invalid(op),
                        SettingError::Value(e) => e,
                    },
                )?;
                stage.method_settings.insert(key, setting_value);
            }
            _ => return Err(invalid(op)),
        }
    }
    validate::stage_variables(&stage.variables)?;
    stage.last_updated_date = now;
    Ok(stage)
}

fn is_method_key(resource: &[&str], method: &str) -> bool {
    !resource.is_empty()
        && resource.iter().all(|s| !s.is_empty())
        && (method == "*" || HttpMethod::parse(method).is_some())
}

enum SettingError {
    Path,
    Value(ApiError),
}

impl From<ApiError> for SettingError {
    fn from(error: ApiError) -> Self {
        SettingError::Value(error)
    }
}

fn apply_method_setting(
    setting: &mut MethodSetting,
    group: &str,
    name: &str,
    op: &PatchOperation,
) -> Result<(), SettingError> {
    match (group, name) {
        ("metrics", "enabled") => setting.metrics_enabled = op.bool_value()?,
        ("logging", "dataTrace") => setting.data_trace_enabled = op.bool_value()?,
        ("logging", "loglevel") => {
            setting.logging_level =
                Some(op.enum_value(LoggingLevel::parse, LoggingLevel::options(", "))?)
        }
        ("throttling", "burstLimit") => setting.throttling_burst_limit = op.number_value()?,
        ("throttling", "rateLimit") => setting.throttling_rate_limit = op.number_value()?,
        ("caching", "ttlInSeconds") => {
            let ttl: i32 = op.number_value()?;
            if !(0..=3600).contains(&ttl) {
                return Err(
                    ApiError::bad_request("Cache TTL must be between 0 and 3600 seconds").into(),
                );
            }
            setting.cache_ttl_in_seconds = ttl;
        }
        ("caching", "enabled") => setting.caching_enabled = op.bool_value()?,
        ("caching", "dataEncrypted") => setting.cache_data_encrypted = op.bool_value()?,
        ("caching", "requireAuthorizationForCacheControl") => {
            setting.require_authorization_for_cache_control = op.bool_value()?
        }
        ("caching", "unauthorizedCacheControlHeaderStrategy") => {
            setting.unauthorized_cache_control_header_strategy = op.enum_value(
                UnauthorizedCacheControlHeaderStrategy::parse,
                UnauthorizedCacheControlHeaderStrategy::options(", "),
            )?
        }
        _ => return Err(SettingError::Path),
    }
    if setting.throttling_rate_limit < 0.0 || setting.throttling_burst_limit < 0 {
        return Err(ApiError::bad_request("Throttling limits cannot be negative").into());
    }
    Ok(())
}

/// The AWS answers of an update that allows `replace` on `paths` only: another path, or
/// another op on one of them.
fn replace_only(op: &PatchOperation, paths: &[&str]) -> Result<(), ApiError> {
    if !paths.contains(&op.path.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Invalid patch path  '{}' specified for op '{}'. Must be one of: [{}]",
            op.path,
            op.op.as_str(),
            paths.join(", ")
        )));
    }
    if op.op != Op::Replace {
        return Err(ApiError::bad_request(format!(
            "Invalid patch path  '{}' specified for op '{}'. Please choose supported operations",
            op.path,
            op.op.as_str()
        )));
    }
    Ok(())
}

/// Applies operations to a model (`replace` on `/description` and `/schema`). The caller
/// checks the new schema.
pub fn apply_model(model: &crate::Model, ops: &[PatchOperation]) -> Result<crate::Model, ApiError> {
    let mut model = model.clone();
    for op in ops {
        replace_only(op, &["/description", "/schema"])?;
        match op.path.as_str() {
            "/description" => model.description = op.optional_value(),
            _ => model.schema = op.value.clone().unwrap_or_default(),
        }
    }
    Ok(model)
}

/// Applies operations to a request validator (`replace` on `/name`,
/// `/validateRequestParameters` and `/validateRequestBody`; a flag without a value is
/// `false`, as on AWS).
pub fn apply_request_validator(
    validator: &crate::RequestValidator,
    ops: &[PatchOperation],
) -> Result<crate::RequestValidator, ApiError> {
    let mut validator = validator.clone();
    for op in ops {
        replace_only(
            op,
            &[
                "/name",
                "/validateRequestParameters",
                "/validateRequestBody",
            ],
        )?;
        let flag = || match op.value.as_deref() {
            None | Some("") => Ok(false),
            Some(_) => op.bool_value(),
        };
        match op.path.as_str() {
            "/name" => {
                validator.name = Some(op.optional_value().ok_or_else(|| {
                    ApiError::bad_request("Request Validator name cannot be blank")
                })?);
            }
            "/validateRequestParameters" => validator.validate_request_parameters = flag()?,
            _ => validator.validate_request_body = flag()?,
        }
    }
    Ok(validator)
}

/// Applies operations to an authorizer: `replace` on its settings, and `add`/`remove` of a
/// user pool on `/providerARNs` (the value is the ARN, as Terraform sends it). The caller
/// checks the result with [`crate::authorizer::check`].
pub fn apply_authorizer(
    authorizer: &crate::Authorizer,
    ops: &[PatchOperation],
) -> Result<crate::Authorizer, ApiError> {
    const PATHS: &[&str] = &[
        "/name",
        "/type",
        "/authType",
        "/authorizerUri",
        "/authorizerCredentials",
        "/identitySource",
        "/identityValidationExpression",
        "/authorizerResultTtlInSeconds",
        "/providerARNs",
    ];
    let mut authorizer = authorizer.clone();
    for op in ops {
        if op.path == "/providerARNs" {
            if !matches!(op.op, Op::Add | Op::Remove) {
                return Err(ApiError::bad_request(format!(
                    "Invalid patch path  '{}' specified for op '{}'. Please choose supported operations",
                    op.path,
                    op.op.as_str()
                )));
            }
            let arn = op.value()?.to_owned();
            if op.op == Op::Add {
                if !authorizer.provider_arns.contains(&arn) {
                    authorizer.provider_arns.push(arn);
                }
            } else {
                authorizer.provider_arns.retain(|a| *a != arn);
            }
            continue;
        }
        replace_only(op, PATHS)?;
        match op.path.as_str() {
            "/name" => authorizer.name = op.value()?.to_owned(),
            "/type" => {
                authorizer.kind =
                    op.enum_value(AuthorizerType::parse, AuthorizerType::options(", "))?;
            }
            "/authType" => authorizer.auth_type = op.optional_value(),
            "/authorizerUri" => authorizer.authorizer_uri = op.optional_value(),
            "/authorizerCredentials" => authorizer.authorizer_credentials = op.optional_value(),
            "/identitySource" => authorizer.identity_source = op.optional_value(),
            "/identityValidationExpression" => {
                authorizer.identity_validation_expression = op.optional_value();
            }
            _ => {
                authorizer.authorizer_result_ttl_in_seconds = Some(op.number_value()?);
            }
        }
    }
    Ok(authorizer)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
