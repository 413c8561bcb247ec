//! The resources of the apigateway management API as the domain sees them.
//!
//! These are also what the store persists (as JSON); new fields must carry
//! `#[serde(default)]` so that older records still load.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::enums::*;

/// String-to-string map with a stable order (tags, templates, parameter mappings).
pub type StringMap = BTreeMap<String, String>;

/// A REST API: its settings and the id of its root resource. Resources, deployments and
/// stages are kept beside it, keyed by the API id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApi {
    /// 10 lowercase alphanumerics, or the value of the `_custom_id_` tag.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Epoch seconds.
    pub created_date: i64,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub binary_media_types: Vec<String>,
    #[serde(default)]
    pub minimum_compression_size: Option<i32>,
    pub api_key_source: ApiKeySource,
    pub endpoint_configuration: EndpointConfiguration,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub tags: StringMap,
    #[serde(default)]
    pub disable_execute_api_endpoint: bool,
    pub root_resource_id: String,
    #[serde(default)]
    pub security_policy: Option<String>,
    #[serde(default)]
    pub endpoint_access_mode: Option<String>,
}

/// Endpoint types and address family of an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfiguration {
    pub types: Vec<EndpointType>,
    pub ip_address_type: String,
    #[serde(default)]
    pub vpc_endpoint_ids: Vec<String>,
}

/// A node of an API's resource tree. The root has no parent and an empty path part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Empty for the root resource.
    #[serde(default)]
    pub path_part: String,
    /// Methods by verb (`GET`, `ANY`, ...).
    #[serde(default)]
    pub methods: BTreeMap<String, Method>,
    /// Creation order, used for a stable listing order.
    #[serde(default)]
    pub seq: u64,
}

/// A method of a resource, with its responses and integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    pub http_method: HttpMethod,
    pub authorization_type: AuthorizationType,
    #[serde(default)]
    pub authorizer_id: Option<String>,
    #[serde(default)]
    pub api_key_required: bool,
    #[serde(default)]
    pub request_validator_id: Option<String>,
    #[serde(default)]
    pub operation_name: Option<String>,
    /// `method.request.{querystring|header|path}.NAME` → required.
    #[serde(default)]
    pub request_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    pub request_models: StringMap,
    #[serde(default)]
    pub method_responses: BTreeMap<String, MethodResponse>,
    #[serde(default)]
    pub integration: Option<Integration>,
    #[serde(default)]
    pub authorization_scopes: Vec<String>,
}

/// A declared response of a method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodResponse {
    pub status_code: String,
    #[serde(default)]
    pub response_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    pub response_models: StringMap,
}

/// Where and how a method's requests are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    #[serde(rename = "type")]
    pub kind: IntegrationType,
    /// The verb sent to the backend (`integrationHttpMethod` in the SDKs).
    #[serde(default)]
    pub http_method: Option<HttpMethod>,
    #[serde(default)]
    pub uri: Option<String>,
    /// Absent unless the caller set it, as on AWS.
    #[serde(default)]
    pub connection_type: Option<ConnectionType>,
    /// A VPC link id or `${stageVariables.NAME}`.
    #[serde(default)]
    pub connection_id: Option<String>,
    #[serde(default)]
    pub credentials: Option<String>,
    #[serde(default)]
    pub request_parameters: StringMap,
    #[serde(default)]
    pub request_templates: StringMap,
    #[serde(default)]
    pub passthrough_behavior: Option<PassthroughBehavior>,
    #[serde(default)]
    pub content_handling: Option<ContentHandling>,
    pub timeout_in_millis: i32,
    pub cache_namespace: String,
    #[serde(default)]
    pub cache_key_parameters: Vec<String>,
    #[serde(default)]
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
    #[serde(default)]
    pub tls_config: Option<TlsConfig>,
    #[serde(default)]
    pub response_transfer_mode: Option<ResponseTransferMode>,
    #[serde(default)]
    pub integration_target: Option<String>,
}

/// TLS settings of an HTTPS integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    #[serde(default)]
    pub insecure_skip_verification: bool,
}

/// How a backend answer becomes the method's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    pub status_code: String,
    /// Regex matched against the backend status; absent for the default response.
    #[serde(default)]
    pub selection_pattern: Option<String>,
    #[serde(default)]
    pub response_parameters: StringMap,
    #[serde(default)]
    pub response_templates: StringMap,
    #[serde(default)]
    pub content_handling: Option<ContentHandling>,
}

/// An immutable snapshot of an API, made by CreateDeployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_date: i64,
    /// The API exactly as it was when deployed.
    pub snapshot: ApiSnapshot,
}

/// What a deployment freezes: the API settings, every resource with its full path, the
/// customised gateway responses, and the models and request validators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiSnapshot {
    pub api: RestApi,
    /// Every resource, each with its full path (`/pets/{id}`).
    pub resources: Vec<DeployedResource>,
    #[serde(default)]
    pub gateway_responses: Vec<GatewayResponse>,
    /// The API's models, which request validation checks bodies against.
    #[serde(default)]
    pub models: Vec<Model>,
    #[serde(default)]
    pub request_validators: Vec<RequestValidator>,
    #[serde(default)]
    pub authorizers: Vec<Authorizer>,
}

/// A resource frozen in a deployment, with its path resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployedResource {
    pub path: String,
    pub resource: Resource,
}

/// A named, callable version of an API that points at one deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    pub deployment_id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub client_certificate_id: Option<String>,
    #[serde(default)]
    pub cache_cluster_enabled: bool,
    #[serde(default)]
    pub cache_cluster_size: Option<String>,
    pub cache_cluster_status: CacheClusterStatus,
    /// Keyed `*/*` or `{resourcePath with ~1}/{METHOD}`, as AWS reports them.
    #[serde(default)]
    pub method_settings: BTreeMap<String, MethodSetting>,
    #[serde(default)]
    pub variables: StringMap,
    #[serde(default)]
    pub documentation_version: Option<String>,
    #[serde(default)]
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(default)]
    pub canary_settings: Option<CanarySettings>,
    #[serde(default)]
    pub tracing_enabled: bool,
    #[serde(default)]
    pub web_acl_arn: Option<String>,
    #[serde(default)]
    pub tags: StringMap,
    pub created_date: i64,
    pub last_updated_date: i64,
    /// How many times FlushStageCache ran (not on the wire): a new count tells every gateway
    /// node sharing the configuration to empty its copy of the stage's cache.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_flushes: u64,
    /// How many times FlushStageAuthorizersCache ran on the stage: tells every gateway node
    /// to forget the decisions its authorizers made.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub authorizer_flushes: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Per-method (or `*/*`) settings of a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodSetting {
    pub metrics_enabled: bool,
    pub logging_level: Option<LoggingLevel>,
    pub data_trace_enabled: bool,
    pub throttling_burst_limit: i32,
    pub throttling_rate_limit: f64,
    pub caching_enabled: bool,
    pub cache_ttl_in_seconds: i32,
    pub cache_data_encrypted: bool,
    pub require_authorization_for_cache_control: bool,
    pub unauthorized_cache_control_header_strategy: UnauthorizedCacheControlHeaderStrategy,
}

impl Default for MethodSetting {
    /// The values AWS fills in when a patch first creates a method setting.
    fn default() -> Self {
        MethodSetting {
            metrics_enabled: false,
            logging_level: None,
            data_trace_enabled: false,
            throttling_burst_limit: 5000,
            throttling_rate_limit: 10000.0,
            caching_enabled: false,
            cache_ttl_in_seconds: 300,
            cache_data_encrypted: false,
            require_authorization_for_cache_control: true,
            unauthorized_cache_control_header_strategy:
                UnauthorizedCacheControlHeaderStrategy::SucceedWithResponseHeader,
        }
    }
}

/// Where and how a stage writes access logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSettings {
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub destination_arn: Option<String>,
}

/// Canary release settings of a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CanarySettings {
    #[serde(default)]
    pub percent_traffic: Option<f64>,
    #[serde(default)]
    pub deployment_id: Option<String>,
    #[serde(default)]
    pub stage_variable_overrides: StringMap,
    #[serde(default)]
    pub use_stage_cache: bool,
}

/// A link from REST APIs to a network load balancer in a private network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLink {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub target_arns: Vec<String>,
    pub status: VpcLinkStatus,
    #[serde(default)]
    pub status_message: Option<String>,
    #[serde(default)]
    pub tags: StringMap,
    /// Epoch seconds; not on the AWS wire, used for ordering and status timing.
    #[serde(default)]
    pub created_date: i64,
}

/// A VPC link V2 (apigatewayv2's `/v2/vpclinks`): a link into a network, not tied to one
/// load balancer. REST API integrations that use it name their load balancer in
/// `integrationTarget`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLinkV2 {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    pub status: VpcLinkStatus,
    #[serde(default)]
    pub status_message: Option<String>,
    #[serde(default)]
    pub tags: StringMap,
    /// Epoch seconds.
    #[serde(default)]
    pub created_date: i64,
    /// Creation sequence number: orders GetVpcLinks.
    #[serde(default)]
    pub seq: u64,
}

/// A customised (or default) gateway response of an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayResponse {
    pub response_type: String,
    #[serde(default)]
    pub status_code: Option<String>,
    #[serde(default)]
    pub response_parameters: StringMap,
    #[serde(default)]
    pub response_templates: StringMap,
    pub default_response: bool,
}

/// A data model of an API: a JSON Schema (draft 4) for the payloads of a content type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub id: String,
    /// Alphanumeric, unique in its API; methods name models by it.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The schema as the caller wrote it.
    pub schema: String,
    pub content_type: String,
}

/// An authorizer of an API: who decides whether a caller may invoke the methods that name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorizer {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AuthorizerType,
    /// Cognito user pool ARNs (`COGNITO_USER_POOLS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provider_arns: Vec<String>,
    /// Free text kept for the SDKs (`authType`, for example `custom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    /// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials: Option<String>,
    /// `method.request.header.X` (TOKEN, Cognito) or a comma-separated list of
    /// `method.request.{header,querystring}.X`, `stageVariables.X` and `context.X` (REQUEST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_source: Option<String>,
    /// A regular expression the token must match before the function is called (TOKEN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
    /// How long a decision is kept, 0 to 3600 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<i32>,
}

/// A custom domain name: requests whose Host is the domain reach the APIs its base path
/// mappings name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainName {
    pub domain_name: String,
    /// Ten lowercase characters, for the generated `regionalDomainName` and
    /// `distributionDomainName`.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_certificate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_certificate_arn: Option<String>,
    pub endpoint_type: EndpointType,
    pub security_policy: String,
    pub created_date: i64,
    #[serde(default)]
    pub tags: StringMap,
    /// A certificate given with the domain (`certificateBody`, `certificatePrivateKey`,
    /// `certificateChain`: the older EDGE form), PEM; never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_certificate: Option<crate::gateway::ServingCertificate>,
    /// `BASIC` or `STRICT`, with an enhanced security policy (`SecurityPolicy_*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_access_mode: Option<String>,
    /// Mutual TLS: the truststore clients' certificates must chain to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutual_tls: Option<crate::mtls::MutualTls>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_verification_certificate_arn: Option<String>,
    /// Whether routing rules, base path mappings or both route the domain's requests.
    #[serde(default)]
    pub routing_mode: crate::routing_rule::RoutingMode,
}

/// A client certificate (GenerateClientCertificate): a self-signed certificate and its
/// private key, which the gateway presents to HTTPS backends of the stages that name it, so
/// that they can tell the gateway's requests from anyone else's. Only the certificate is
/// ever shown; the key stays in the store.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCertificate {
    pub client_certificate_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The certificate, PEM-encoded with CRLF line breaks (as AWS returns it).
    pub pem_encoded_certificate: String,
    /// The private key, PKCS #8, PEM-encoded.
    pub private_key_pem: String,
    /// Epoch seconds.
    pub created_date: i64,
    /// Epoch seconds: 365 days after creation.
    pub expiration_date: i64,
    #[serde(default)]
    pub tags: StringMap,
}

/// The private key stays out of logs.
impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("client_certificate_id", &self.client_certificate_id)
            .field("description", &self.description)
            .field("private_key_pem", &"(private key)")
            .finish_non_exhaustive()
    }
}

/// Where requests to a custom domain under a base path go: an API and, if named, a stage
/// (otherwise the first segment after the base path names the stage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BasePathMapping {
    /// `(none)` for the domain's root; several segments (`orders/v2`) for a multi-level
    /// mapping (made with apigatewayv2's API mappings).
    pub base_path: String,
    pub rest_api_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The id apigatewayv2 knows the mapping by (`None` for mappings stored before ids
    /// were kept: see [`BasePathMapping::api_mapping_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_mapping_id: Option<String>,
}

impl BasePathMapping {
    /// The mapping's apigatewayv2 id: the one it was given, else one drawn from its base
    /// path, the same on every node and after every restart (ten lowercase letters and
    /// digits, as API Gateway's are). The draw is FNV-1a, written here because it is ten
    /// lines and its output must never change, which a hashing crate's does not promise.
    pub fn api_mapping_id(&self) -> String {
        if let Some(id) = &self.api_mapping_id {
            return id.clone();
        }
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.base_path.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..10)
            .map(|_| {
                let digit = (hash % 36) as usize;
                hash /= 36;
                char::from(ALPHABET[digit])
            })
            .collect()
    }
}

/// What a method's request validator checks: the required parameters, the body against the
/// model of its content type, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestValidator {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub validate_request_body: bool,
    #[serde(default)]
    pub validate_request_parameters: bool,
}
