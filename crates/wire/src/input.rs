//! Request bodies of the management operations. Enum-valued fields stay strings here so that
//! the control plane can answer a bad value with AWS's `ValidationException` text.

use std::collections::BTreeMap;

use causeway_model::patch::RawPatch;
use serde::Deserialize;

type StringMap = BTreeMap<String, String>;

mod usage;
pub use usage::*;

/// CreateRestApi.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRestApi {
    pub name: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub clone_from: Option<String>,
    pub binary_media_types: Option<Vec<String>>,
    pub minimum_compression_size: Option<i32>,
    pub api_key_source: Option<String>,
    pub endpoint_configuration: Option<EndpointConfiguration>,
    pub policy: Option<String>,
    pub tags: Option<StringMap>,
    pub disable_execute_api_endpoint: Option<bool>,
    pub security_policy: Option<String>,
    pub endpoint_access_mode: Option<String>,
}

/// The `endpointConfiguration` member.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointConfiguration {
    pub types: Option<Vec<String>>,
    pub ip_address_type: Option<String>,
    pub vpc_endpoint_ids: Option<Vec<String>>,
}

/// CreateResource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateResource {
    pub path_part: Option<String>,
}

/// PutMethod.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutMethod {
    pub authorization_type: Option<String>,
    pub authorizer_id: Option<String>,
    pub api_key_required: Option<bool>,
    pub operation_name: Option<String>,
    pub request_parameters: Option<BTreeMap<String, bool>>,
    pub request_models: Option<StringMap>,
    pub request_validator_id: Option<String>,
    pub authorization_scopes: Option<Vec<String>>,
}

/// PutMethodResponse.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutMethodResponse {
    pub response_parameters: Option<BTreeMap<String, bool>>,
    pub response_models: Option<StringMap>,
}

/// PutIntegration. The SDKs' `integrationHttpMethod` travels as JSON key `httpMethod`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutIntegration {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub http_method: Option<String>,
    pub uri: Option<String>,
    pub connection_type: Option<String>,
    pub connection_id: Option<String>,
    pub credentials: Option<String>,
    pub request_parameters: Option<StringMap>,
    pub request_templates: Option<StringMap>,
    pub passthrough_behavior: Option<String>,
    pub cache_namespace: Option<String>,
    pub cache_key_parameters: Option<Vec<String>>,
    pub content_handling: Option<String>,
    pub timeout_in_millis: Option<i32>,
    pub tls_config: Option<TlsConfig>,
    pub response_transfer_mode: Option<String>,
    pub integration_target: Option<String>,
}

/// The `tlsConfig` member.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsConfig {
    pub insecure_skip_verification: Option<bool>,
}

/// PutIntegrationResponse.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutIntegrationResponse {
    pub selection_pattern: Option<String>,
    pub response_parameters: Option<StringMap>,
    pub response_templates: Option<StringMap>,
    pub content_handling: Option<String>,
}

/// CreateDeployment.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDeployment {
    pub stage_name: Option<String>,
    pub stage_description: Option<String>,
    pub description: Option<String>,
    pub cache_cluster_enabled: Option<bool>,
    pub cache_cluster_size: Option<String>,
    pub variables: Option<StringMap>,
    pub canary_settings: Option<DeploymentCanarySettings>,
    pub tracing_enabled: Option<bool>,
}

/// The `canarySettings` member of CreateDeployment.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentCanarySettings {
    pub percent_traffic: Option<f64>,
    pub stage_variable_overrides: Option<StringMap>,
    pub use_stage_cache: Option<bool>,
}

/// CreateStage.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateStage {
    pub stage_name: Option<String>,
    pub deployment_id: Option<String>,
    pub description: Option<String>,
    pub cache_cluster_enabled: Option<bool>,
    pub cache_cluster_size: Option<String>,
    pub variables: Option<StringMap>,
    pub documentation_version: Option<String>,
    pub canary_settings: Option<StageCanarySettings>,
    pub tracing_enabled: Option<bool>,
    pub tags: Option<StringMap>,
}

/// The `canarySettings` member of CreateStage.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StageCanarySettings {
    pub percent_traffic: Option<f64>,
    pub deployment_id: Option<String>,
    pub stage_variable_overrides: Option<StringMap>,
    pub use_stage_cache: Option<bool>,
}

/// CreateVpcLink.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateVpcLink {
    pub name: Option<String>,
    pub description: Option<String>,
    pub target_arns: Option<Vec<String>>,
    pub tags: Option<StringMap>,
}

/// CreateVpcLink of apigatewayv2 (a VPC link V2).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateVpcLinkV2 {
    pub name: Option<String>,
    pub subnet_ids: Option<Vec<String>>,
    pub security_group_ids: Option<Vec<String>>,
    pub tags: Option<StringMap>,
}

/// UpdateVpcLink of apigatewayv2: a new name.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateVpcLinkV2 {
    pub name: Option<String>,
}

/// A documentation part's location, as CreateDocumentationPart takes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentationPartLocation {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub path: Option<String>,
    pub method: Option<String>,
    pub status_code: Option<String>,
    pub name: Option<String>,
}

/// CreateDocumentationPart.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDocumentationPart {
    pub location: Option<DocumentationPartLocation>,
    pub properties: Option<String>,
}

/// CreateDocumentationVersion.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDocumentationVersion {
    pub documentation_version: Option<String>,
    pub stage_name: Option<String>,
    pub description: Option<String>,
}

/// GenerateClientCertificate.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateClientCertificate {
    pub description: Option<String>,
    pub tags: Option<StringMap>,
}

/// PutGatewayResponse.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutGatewayResponse {
    pub status_code: Option<String>,
    pub response_parameters: Option<StringMap>,
    pub response_templates: Option<StringMap>,
}

/// CreateModel.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateModel {
    pub name: Option<String>,
    pub description: Option<String>,
    pub schema: Option<String>,
    pub content_type: Option<String>,
}

/// CreateRequestValidator.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequestValidator {
    pub name: Option<String>,
    pub validate_request_body: Option<bool>,
    pub validate_request_parameters: Option<bool>,
}

/// CreateAuthorizer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAuthorizer {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(rename = "providerARNs")]
    pub provider_arns: Option<Vec<String>>,
    pub auth_type: Option<String>,
    pub authorizer_uri: Option<String>,
    pub authorizer_credentials: Option<String>,
    pub identity_source: Option<String>,
    pub identity_validation_expression: Option<String>,
    pub authorizer_result_ttl_in_seconds: Option<i32>,
}

/// TestInvokeAuthorizer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestInvokeAuthorizer {
    pub headers: Option<StringMap>,
    pub multi_value_headers: Option<BTreeMap<String, Vec<String>>>,
    pub path_with_query_string: Option<String>,
    pub body: Option<String>,
    pub stage_variables: Option<StringMap>,
    pub additional_context: Option<StringMap>,
}

/// CreateDomainName. The certificate's own body, key and chain, mutual TLS and the routing
/// settings are accepted and not kept: the gateway listener does not terminate TLS.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDomainName {
    pub domain_name: Option<String>,
    pub certificate_name: Option<String>,
    pub certificate_body: Option<String>,
    pub certificate_private_key: Option<String>,
    pub certificate_chain: Option<String>,
    pub certificate_arn: Option<String>,
    pub regional_certificate_name: Option<String>,
    pub regional_certificate_arn: Option<String>,
    pub endpoint_configuration: Option<EndpointConfiguration>,
    pub tags: Option<StringMap>,
    pub security_policy: Option<String>,
    pub endpoint_access_mode: Option<String>,
    pub mutual_tls_authentication: Option<MutualTlsAuthenticationInput>,
    pub ownership_verification_certificate_arn: Option<String>,
    pub policy: Option<String>,
    pub routing_mode: Option<String>,
}

/// A domain name's `mutualTlsAuthentication`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MutualTlsAuthenticationInput {
    pub truststore_uri: Option<String>,
    pub truststore_version: Option<String>,
}

/// CreateRoutingRule and PutRoutingRule (apigatewayv2).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingRule {
    pub priority: Option<i64>,
    pub conditions: Option<Vec<causeway_model::routing_rule::Condition>>,
    pub actions: Option<Vec<causeway_model::routing_rule::Action>>,
}

/// CreateBasePathMapping.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBasePathMapping {
    pub base_path: Option<String>,
    pub rest_api_id: Option<String>,
    pub stage: Option<String>,
}

/// CreateDomainName and UpdateDomainName of apigatewayv2.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainNameV2 {
    pub domain_name: Option<String>,
    pub domain_name_configurations: Option<Vec<DomainNameConfigurationInput>>,
    pub mutual_tls_authentication: Option<MutualTlsAuthenticationInput>,
    pub routing_mode: Option<String>,
    pub tags: Option<StringMap>,
}

/// One endpoint of an apigatewayv2 domain name, as sent (the members the service writes
/// are taken and ignored, as the SDKs may send them back).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainNameConfigurationInput {
    pub api_gateway_domain_name: Option<String>,
    pub certificate_arn: Option<String>,
    pub certificate_name: Option<String>,
    pub certificate_upload_date: Option<serde_json::Value>,
    pub domain_name_status: Option<String>,
    pub domain_name_status_message: Option<String>,
    pub endpoint_type: Option<String>,
    pub hosted_zone_id: Option<String>,
    pub ip_address_type: Option<String>,
    pub security_policy: Option<String>,
    pub ownership_verification_certificate_arn: Option<String>,
}

/// CreateApiMapping and UpdateApiMapping (apigatewayv2).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiMapping {
    pub api_id: Option<String>,
    pub api_mapping_key: Option<String>,
    pub stage: Option<String>,
}

/// TagResource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagResource {
    pub tags: Option<StringMap>,
}

/// Every Update* operation: a list of patch operations.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patch {
    pub patch_operations: Option<Vec<PatchOperation>>,
}

/// One `patchOperations` member.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchOperation {
    pub op: Option<String>,
    pub path: Option<String>,
    pub value: Option<String>,
    pub from: Option<String>,
}

impl Patch {
    /// The operations in the model's raw form.
    pub fn into_raw(self) -> Vec<RawPatch> {
        self.patch_operations
            .unwrap_or_default()
            .into_iter()
            .map(|op| RawPatch {
                op: op.op,
                path: op.path,
                value: op.value,
                from: op.from,
            })
            .collect()
    }
}

/// TestInvokeMethod.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestInvokeMethod {
    pub path_with_query_string: Option<String>,
    pub body: Option<String>,
    pub headers: Option<StringMap>,
    pub multi_value_headers: Option<BTreeMap<String, Vec<String>>>,
    pub client_certificate_id: Option<String>,
    pub stage_variables: Option<StringMap>,
}
